"""NewsBrief: load a model directory and brief articles in length-sorted, token-budget batches."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
import torch
from tqdm.auto import tqdm

from newsbrief.config import GenerationConfig, RunConfig
from newsbrief.data import LabelSpace
from newsbrief.infer.article_text import EMPTY, is_blank
from newsbrief.infer.batching import token_budget_batches
from newsbrief.infer.encoding import Windows, encode_articles
from newsbrief.infer.optimize import compile_model, quantize_int8
from newsbrief.infer.spelling import ArticleSpelling, is_wordpiece
from newsbrief.models.checkpoint import load_model
from newsbrief.models.multitask import NewsBriefModel


@dataclass
class Brief:
    """One article's briefing."""

    id: str
    summary: str
    topics: list[tuple[str, float]]
    """(label, probability) for every label at or above its threshold, most probable first."""
    truncated: bool = False
    """Part of the article fell outside the text the model read (see inference.long_articles)."""
    scores: dict[str, float] | None = field(default=None, repr=False)
    """Every label's probability, when asked for with `all_scores=True`."""


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype, device: torch.device) -> torch.dtype:
    """auto: bf16 (or fp16) on GPUs, fp32 on CPU, where reduced precision is slower, not faster."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if dtype == "auto":
        if device.type != "cuda":
            return torch.float32
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16,
            "bf16": torch.bfloat16, "float16": torch.float16, "fp16": torch.float16}[dtype]


DEFAULT_MODEL = Path(__file__).parents[1] / "default_model"
"""The embedded model (configs/default-model.yaml): a delta over the pip-installed MiniLM, about 14 MB."""

STREAM_CHUNK = 1024
"""Articles sorted and batched together: larger chunks pad less, smaller ones hold less in memory."""


class NewsBrief:
    def __init__(self, model: NewsBriefModel, tokenizer, labels: LabelSpace, thresholds: list[float],
                 config: RunConfig):
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.config = config
        self.wordpiece = is_wordpiece(tokenizer)  # decoding loses the article's case and spacing: restore them

    @classmethod
    def from_pretrained(cls, path: str | Path | None = None, device: str = "auto",
                        dtype: str | torch.dtype = "auto", int8: bool = False, compile: bool = False,
                        trust_remote_code: bool = False) -> "NewsBrief":
        """Load a model directory, by default the embedded one; `int8` quantizes linear layers (CPU),
        `compile` runs torch.compile; `trust_remote_code` lets the directory run its own Python."""
        target = resolve_device(device)
        loaded = load_model(DEFAULT_MODEL if path is None else path, device=target, dtype=resolve_dtype(dtype, target),
                            trust_remote_code=trust_remote_code)
        model = quantize_int8(loaded.model) if int8 else loaded.model
        if compile:
            compile_model(model)
        return cls(model, loaded.tokenizer, loaded.labels, loaded.thresholds, loaded.config)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict(self, articles: Iterable[str | dict[str, Any]], all_scores: bool = False,
                **generation: Any) -> list[Brief]:
        """Brief articles given as texts or as records with `text` (and optionally `id`).

        Keyword arguments override the checkpoint's generation settings for this call
        (num_beams, max_new_tokens, min_new_tokens, no_repeat_ngram_size, repetition_penalty, length_penalty).
        """
        return list(self.predict_stream(articles, all_scores=all_scores, **generation))

    def predict_one(self, text: str, **kwargs: Any) -> Brief:
        return self.predict([text], **kwargs)[0]

    def predict_stream(self, articles: Iterable[str | dict[str, Any]], chunk_size: int = STREAM_CHUNK,
                       all_scores: bool = False, **generation: Any) -> Iterator[Brief]:
        """Briefs in input order, `chunk_size` articles at a time, for streams of any length.

        The next chunk is tokenized in a background thread while the model works on this one
        (tokenizers release the GIL), so the accelerator does not wait for the CPU.
        """
        settings = replace(self.config.generation, **generation)
        records = (_article_record(i, a) for i, a in enumerate(articles))
        with ThreadPoolExecutor(max_workers=1) as tokenizing:
            pending = None
            while chunk := list(islice(records, chunk_size)):
                upcoming = (chunk, tokenizing.submit(encode_articles, self.tokenizer, [r["text"] for r in chunk],
                                                     self.config))
                if pending is not None:
                    yield from self._briefs(*pending, settings, all_scores)
                pending = upcoming
            if pending is not None:
                yield from self._briefs(*pending, settings, all_scores)

    def summarize_and_score(self, texts: list[str], progress: bool = False,
                            **generation: Any) -> tuple[list[str], np.ndarray]:
        """Summaries and a (articles x labels) probability matrix, in input order.

        `progress` shows a bar over the articles (evaluation runs, notebooks)."""
        summaries, states = self._read(texts, replace(self.config.generation, **generation), progress)
        return summaries, self._probs(states)

    def topic_scores(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """The (articles x labels) probability matrix alone: the encoder only, no generation."""
        return self._probs(self.article_states(texts, progress))

    def article_states(self, texts: list[str], progress: bool = False) -> torch.Tensor:
        """(articles x hidden) float32, on the model's device: what the topic head reads per article."""
        return self._read(texts, None, progress)[1]

    def _read(self, texts: list[str], settings: GenerationConfig | None,
              progress: bool) -> tuple[list[str], torch.Tensor]:
        windows = encode_articles(self.tokenizer, texts, self.config)
        with tqdm(total=len(texts), desc="briefing" if settings else "reading", unit=" articles",
                  disable=not progress) as bar:
            return self._run(windows, len(texts), settings, bar)

    def _briefs(self, chunk: list[dict], windows: Future, settings: GenerationConfig,
                all_scores: bool) -> Iterator[Brief]:
        encoded = windows.result()
        summaries, states = self._run(encoded, len(chunk), settings)
        for record, summary, p, truncated in zip(chunk, summaries, self._probs(states), encoded.truncated):
            yield self._brief(record["id"], summary, p, truncated, all_scores)

    def _run(self, windows: Windows, articles: int, settings: GenerationConfig | None,
             bar: tqdm | None = None) -> tuple[list[str], torch.Tensor]:
        """Model work for encoded articles: a summary from each article's first window (none without
        `settings`), and each article's state for the topic head, the mean of its windows' pooled
        states, so that in chunk mode the topics come from all of the article that was read."""
        summaries = [""] * articles
        sums = torch.zeros(articles, self.model.hidden_size, device=self.device)
        first_window = {}
        for index, article in enumerate(windows.article):
            first_window.setdefault(article, index)
        leads = set(first_window.values())
        summarized = leads if settings is not None else set()
        inference = self.config.inference
        batches = token_budget_batches([len(ids) for ids in windows.input_ids], inference.max_batch_tokens,
                                       inference.batch_size)
        was_training = self.model.training
        self.model.eval()
        for batch in batches:
            first = [w for w in batch if w in summarized]
            rest = [w for w in batch if w not in summarized]
            if first:
                sequences, pooled = self.model.brief(*self._pad(windows, first), **asdict(settings))
                for w, text in zip(first, self._decode(sequences, windows, first)):
                    summaries[windows.article[w]] = text
                _add_by_article(sums, [windows.article[w] for w in first], pooled)
            if rest:
                _add_by_article(sums, [windows.article[w] for w in rest],
                                self.model.pooled_states(*self._pad(windows, rest)))
            if bar is not None:
                bar.update(sum(w in leads for w in batch))
        self.model.train(was_training)
        counts = torch.bincount(torch.tensor(windows.article, dtype=torch.long), minlength=articles)
        return summaries, sums / counts.clamp(min=1).unsqueeze(1).to(sums)

    def _probs(self, states: torch.Tensor) -> np.ndarray:
        return self.model.topic_probs(states).cpu().numpy()

    def _decode(self, sequences: torch.Tensor, windows: Windows, rows: list[int]) -> list[str]:
        if not self.wordpiece:
            return [text.strip() for text in self.tokenizer.batch_decode(sequences, skip_special_tokens=True)]
        return [ArticleSpelling(windows.texts[windows.article[w]], windows.input_ids[w], windows.offsets[w])
                .spell(ids, self.tokenizer) for w, ids in zip(rows, sequences.tolist())]

    def _pad(self, windows: Windows, rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        padded = self.tokenizer.pad({"input_ids": [windows.input_ids[w] for w in rows]}, return_tensors="pt")
        return padded["input_ids"].to(self.device), padded["attention_mask"].to(self.device)

    def _brief(self, id_: str, summary: str, probs: np.ndarray, truncated: bool, all_scores: bool) -> Brief:
        chosen = np.flatnonzero(probs >= self.thresholds)
        chosen = chosen[np.argsort(-probs[chosen])]
        topics = [(self.labels.names[i], round(float(probs[i]), 4)) for i in chosen]
        scores = {n: round(float(p), 4) for n, p in zip(self.labels.names, probs)} if all_scores else None
        return Brief(id_, summary, topics, truncated, scores)


def _article_record(index: int, article: str | dict[str, Any]) -> dict[str, Any]:
    record = {"id": str(index), "text": article} if isinstance(article, str) else \
        {**article, "id": str(article.get("id", index))}
    if is_blank(record["text"]):  # the batch job's rule too: an error, never a brief of nothing
        raise ValueError(f"article {record['id']}: text {EMPTY}")
    return record


def _add_by_article(sums: torch.Tensor, articles: list[int], pooled: torch.Tensor) -> None:
    sums.index_add_(0, torch.tensor(articles, device=sums.device), pooled.float())
