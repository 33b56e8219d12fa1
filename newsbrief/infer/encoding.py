"""Articles to model inputs: truncated to the model's window, or cut into overlapping windows.

Both modes cap an article's characters before tokenizing, so that a 5 MB page costs what its first
few windows cost: a token spans at least one character and news averages under six, so
CHARS_PER_TOKEN characters per token always leave more text than the windows can hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from newsbrief.config import DataConfig, InferenceConfig
from newsbrief.infer.boilerplate import strip_boilerplate

CHARS_PER_TOKEN = 32


@dataclass(frozen=True)
class SourceWindow:
    """The model's input window and the prefix it was trained with: all that inference reads of the data
    section, fixed by training (the sources and columns belong to the run, not to the model)."""

    max_length: int
    """Tokens the model reads at once (data.max_source_length)."""
    prefix: str = ""
    """Text put before every article (data.source_prefix, e.g. "summarize: " for T5)."""

    @classmethod
    def of(cls, data: DataConfig) -> "SourceWindow":
        return cls(data.max_source_length, data.source_prefix)


@dataclass
class Windows:
    input_ids: list[list[int]]
    """Token ids of each window, special tokens included."""
    article: list[int]
    """Index of the article each window comes from; an article's first window comes first."""
    truncated: list[bool]
    """Per article: did text fall outside the windows kept?"""
    offsets: list[list[tuple[int, int]]]
    """Character span of each window token in its article's text (0, 0 for special tokens)."""
    texts: list[str]
    """Per article: the text the offsets point into (prefixed and capped)."""


def encode_articles(tokenizer, texts: list[str], window: SourceWindow, inference: InferenceConfig) -> Windows:
    max_length = window.max_length
    chunked = inference.long_articles == "chunk"
    windows_kept = inference.max_chunks if chunked else 1
    cap = max_length * CHARS_PER_TOKEN * windows_kept
    # Furniture is dropped from a bounded prefix, which keeps a 5 MB page cheap; what it drops may leave
    # room for text after the first `cap` characters.
    kept = [t[:cap * 2] for t in texts]
    cut = [len(k) < len(t) for k, t in zip(kept, texts)]
    if inference.strip_boilerplate:
        kept = [strip_boilerplate(k) for k in kept]
    capped = [window.prefix + k[:cap] for k in kept]
    encoded = tokenizer(capped, max_length=max_length, truncation=True, return_overflowing_tokens=True,
                        stride=inference.chunk_overlap if chunked else 0, return_token_type_ids=False,
                        return_offsets_mapping=True)
    per_article = [0] * len(texts)
    windows = Windows([], [], [c or len(k) > cap for c, k in zip(cut, kept)], [], capped)
    for ids, offsets, article in zip(encoded["input_ids"], encoded["offset_mapping"],
                                     encoded["overflow_to_sample_mapping"]):
        per_article[article] += 1
        if per_article[article] > windows_kept:
            windows.truncated[article] = True
            continue
        windows.input_ids.append(ids)
        windows.offsets.append(offsets)
        windows.article.append(article)
    return windows
