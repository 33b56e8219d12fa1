"""Synthetic news-like texts and a byte-level BPE tokenizer trained on them, for a machine with no corpus
and no Hub (the GPU machine): what gpu_throughput.py briefs.

Speed does not depend on the words, but it does depend on the lengths and on the tokenizer: lengths
spread as news does (log-normal, median about 380 words like BBC articles, a tail of short wire items
and of articles past the 512 tokens a BART reads), so batches pad as they would; and a byte-level BPE
vocabulary as BART's, so the engine takes a BART's path (no WordPiece respelling) and the output layer
is as wide as bart-base's (50,265) for the sizes asked of it.
"""

from __future__ import annotations

import random
from pathlib import Path

MEDIAN_WORDS = 380
SPREAD = 0.6
"""Sigma of log(words): about 1 article in 5 under 230 words, 1 in 5 over 630."""
SYLLABLES = ("ba", "ke", "lor", "min", "sta", "ter", "vo", "quen", "dar", "il", "port", "ex", "an", "re",
             "gul", "pri", "mo", "sen", "tal", "chi", "war", "ow", "nes", "fi", "stro", "ly", "ing", "ed")


def synthetic_texts(count: int, seed: int = 0) -> list[str]:
    """`count` article-like texts: Zipf-distributed pseudo-words, capitalised names, numbers, sentences."""
    rng = random.Random(seed)
    words = [_word(rng) for _ in range(30000)]
    weights = [1 / (rank + 1) for rank in range(len(words))]
    texts = []
    for _ in range(count):
        length = max(20, min(3000, int(rng.lognormvariate(0, SPREAD) * MEDIAN_WORDS)))
        chosen = rng.choices(words, weights, k=length)
        sentences, start = [], 0
        while start < length:
            end = min(length, start + rng.randint(8, 30))
            sentence = [w.capitalize() if rng.random() < 0.08 else w for w in chosen[start:end]]
            if rng.random() < 0.3:
                sentence.insert(rng.randrange(len(sentence)), f"{rng.randint(2, 9999):,}")
            sentences.append(" ".join(sentence).capitalize() + rng.choice((".", ".", ".", ",", "?")))
            start = end
        texts.append(" ".join(sentences))
    return texts


def bpe_tokenizer(texts: list[str], vocab_size: int, folder: Path):
    """A byte-level BPE tokenizer with BART's special tokens, trained on `texts`, saved in `folder`."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    special = {"bos_token": "<s>", "pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>",
               "mask_token": "<mask>"}
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(texts, trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(special.values()), show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    bpe.post_processor = processors.TemplateProcessing(  # <s> text </s>, as BART's tokenizer reads an article
        single="<s> $A </s>", special_tokens=[(t, bpe.token_to_id(t)) for t in ("<s>", "</s>")])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, cls_token="<s>", sep_token="</s>", **special)
    tokenizer.save_pretrained(folder)
    return PreTrainedTokenizerFast.from_pretrained(folder)


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
