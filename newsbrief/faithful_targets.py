"""Summary targets that teach no invention (config `data.summary_targets: faithful`).

A headline that names what its article never states (a Reuters ticker, "<FID>", a quarter that an
earnings table leaves out, a credit in brackets naming another source) teaches a model to write names and numbers from
nowhere: entity-based data filtering (Nan et al., EACL 2021) trains the summarizer only on targets
that the article supports. The test is the fact guard's own (models/fact_guard.py), run over the
target as if the model had written it from the window it reads, so the model learns the summaries
that the guard lets through at inference. A target it blocks is repaired where a clean cut does it
(its tickers, a trailing credit in brackets); one still blocked trains the topic head only. A credit
the guard lets through stays: under an uncased vocabulary "(AP)" is a common one-piece word, "ap".
"""

from __future__ import annotations

import re

from newsbrief.config import DataConfig
from newsbrief.config_parsing import ConfigError
from newsbrief.infer.spelling import ArticleSpelling, is_wordpiece
from newsbrief.models.fact_guard import ArticleUnits, FactGuard
from newsbrief.models.guard_vocabulary import Vocabulary

_TICKER = re.compile(r"\s*<[^<>\n]{1,24}>")
_TRAILING_CREDIT = re.compile(r"\s*\([^()]*\)\s*$")


def target_end_token(tokenizer) -> int:
    """The token that ends a target, which the guard's test appends: eos, or BERT's [SEP] (BERT2BERT's end)."""
    end = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    if end is None:
        raise ConfigError(f"data.summary_targets: faithful needs a tokenizer with an end token (eos or sep); "
                          f"{tokenizer.name_or_path or type(tokenizer).__name__} has neither")
    return end


def needs_offsets(tokenizer) -> bool:
    """Whether `faithful_targets` reads the articles' offsets: for WordPiece's spelling, as the engine does."""
    return is_wordpiece(tokenizer)


def faithful_targets(tokenizer, texts: list[str], encoded, summaries: list[str], max_target_length: int,
                     vocabulary: Vocabulary) -> list[list[int]]:
    """Target ids for each article (`encoded`: the tokenizer's output for `texts`, with offsets where
    `needs_offsets`), the repaired target where the original states what the window lacks, [] where no
    target qualifies."""
    spellings = [None] * len(texts)
    if needs_offsets(tokenizer):  # the article's capitals, which the engine's spelling will show
        spellings = [ArticleSpelling(text, ids, offsets)
                     for text, ids, offsets in zip(texts, encoded["input_ids"], encoded["offset_mapping"])]
    articles = [ArticleUnits.read(ids, vocabulary, spelling) for ids, spelling in zip(encoded["input_ids"], spellings)]
    guard = FactGuard(articles, vocabulary, target_end_token(tokenizer), max_target_length)
    repaired = [_TRAILING_CREDIT.sub("", _TICKER.sub("", s)) for s in summaries]
    targets = []
    for i, candidates in enumerate(zip(summaries, repaired)):
        candidates = [c for c in dict.fromkeys(candidates) if c.strip()]  # a headline that was only a ticker: none
        ids = tokenizer(text_target=candidates, max_length=max_target_length,
                        truncation=True)["input_ids"]
        targets.append(next((t for t in ids if guard.admits(i, t)), []) if candidates else [])
    return targets


def faithful_targets_of_texts(tokenizer, texts: list[str], summaries: list[str], data: DataConfig,
                              batch_size: int = 256) -> list[list[int]]:
    """`faithful_targets` for articles as text, read as `newsbrief.data.tokenize` reads them for training (the source
    prefix, then the window), `batch_size` at a time: for the scripts that measure targets over a whole split."""
    vocabulary, targets = Vocabulary.of(tokenizer), []
    for start in range(0, len(texts), batch_size):
        batch = [data.source_prefix + text for text in texts[start:start + batch_size]]
        encoded = tokenizer(batch, max_length=data.max_source_length, truncation=True,
                            return_offsets_mapping=needs_offsets(tokenizer))
        targets += faithful_targets(tokenizer, batch, encoded, summaries[start:start + batch_size],
                                    data.max_target_length, vocabulary)
    return targets
