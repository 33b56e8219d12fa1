"""Articles, vocabularies and helpers that the fact guard's tests share (the `tokenizer` fixture: conftest.py)."""

import json

import torch
from tokenizers import ByteLevelBPETokenizer, SentencePieceBPETokenizer, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from newsbrief.infer.spelling import ArticleSpelling
from newsbrief.models.fact_guard import ArticleUnits, FactGuard, Vocabulary

from tests.conftest import ROOT

ARTICLE = ("Acme Corp <ACME> said it sold 1,500 phones to Initech in 1987, up 2.5 pct. "
           "Chief executive Ann Vasquez said Acme expects 3,200 more.")


def corpus() -> list[str]:
    rows = [json.loads(line) for name in ("tiny_news.jsonl", "tiny_wire.jsonl")
            for line in (ROOT / "tests" / "fixtures" / name).read_text().splitlines()]
    marks = 'It said "no" (twice) [sic] and didn\'t {ask}.'  # so that the small vocabularies have these marks
    return [ARTICLE, marks] + [row["text"] for row in rows] + [row["title"] for row in rows]


def trained(kind: str) -> PreTrainedTokenizerFast:
    """A small cased vocabulary of the kind BART (byte-level BPE) or T5 (SentencePiece) uses, trained here."""
    if kind == "bpe":
        model = ByteLevelBPETokenizer()
        model.train_from_iterator(corpus(), vocab_size=400, min_frequency=1, special_tokens=["<s>", "<pad>", "</s>"])
        return PreTrainedTokenizerFast(tokenizer_object=model._tokenizer, bos_token="<s>", eos_token="</s>",
                                       pad_token="<pad>")
    model = SentencePieceBPETokenizer()
    # As sentencepiece models split (split_by_unicode_script): no piece holds letters and punctuation both.
    model._tokenizer.pre_tokenizer = pre_tokenizers.Sequence([model._tokenizer.pre_tokenizer,
                                                              pre_tokenizers.Punctuation()])
    model._tokenizer.normalizer = normalizers.Replace("\n", " ")  # T5's normalizer turns newlines to spaces
    model.train_from_iterator(corpus(), vocab_size=400, min_frequency=1, special_tokens=["<pad>", "</s>", "<unk>"])
    return PreTrainedTokenizerFast(tokenizer_object=model._tokenizer, eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>")


def article_units(tokenizer, vocab, text=ARTICLE):
    """The article's units as the engine reads them (the spelling tells an uncased vocabulary's capitals), and
    its spelling."""
    encoded = tokenizer(text, return_offsets_mapping=True)
    spelling = ArticleSpelling(text, encoded["input_ids"], encoded["offset_mapping"])
    return ArticleUnits.read(encoded["input_ids"], vocab, None if vocab.cased else spelling), spelling


def allowed_ids(tokenizer, guard, prefix: str, last_step: bool = False) -> list[int]:
    """The tokens the guard lets follow `prefix` (every token scored alike)."""
    history = [guard.eos_token_id] + tokenizer(prefix, add_special_tokens=False)["input_ids"]
    guard.max_new_tokens = len(history) if last_step else 64
    scores = guard.mask(torch.tensor([history]), torch.zeros(1, len(tokenizer)), [0])
    return torch.isfinite(scores[0]).nonzero().flatten().tolist()


def allowed_after(tokenizer, vocab, guard, prefix: str, last_step: bool = False) -> set[str]:
    """The surfaces of `allowed_ids`, the end token as "EOS"."""
    return {vocab.surfaces[t] if t != guard.eos_token_id else "EOS"
            for t in allowed_ids(tokenizer, guard, prefix, last_step)}


def open_guard(tokenizer, text=ARTICLE):
    vocab = Vocabulary.of(tokenizer)
    units, _ = article_units(tokenizer, vocab, text)
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    return vocab, FactGuard([units], vocab, eos, max_new_tokens=64, keep=len(tokenizer), candidates=len(tokenizer))
