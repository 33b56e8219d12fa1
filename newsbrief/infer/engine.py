"""NewsBrief: load a model directory and brief articles in length-sorted, token-budget batches."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from newsbrief.config import RunConfig
from newsbrief.data import LabelSpace
from newsbrief.infer.batching import token_budget_batches
from newsbrief.models.checkpoint import load_model
from newsbrief.models.multitask import NewsBriefModel


@dataclass
class Brief:
    """One article's briefing."""

    id: str
    summary: str
    topics: list[tuple[str, float]]
    """(label, probability) for every label at or above its threshold, most probable first."""
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


class NewsBrief:
    def __init__(self, model: NewsBriefModel, tokenizer, labels: LabelSpace, thresholds: list[float],
                 config: RunConfig):
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.thresholds = np.asarray(thresholds, dtype=np.float32)
        self.config = config

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str = "auto", dtype: str | torch.dtype = "auto") -> "NewsBrief":
        target = resolve_device(device)
        loaded = load_model(path, device=target, dtype=resolve_dtype(dtype, target))
        return cls(loaded.model, loaded.tokenizer, loaded.labels, loaded.thresholds, loaded.config)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def predict(self, articles: Iterable[str | dict[str, Any]], all_scores: bool = False,
                **generation: Any) -> list[Brief]:
        """Brief articles given as texts or as records with `text` (and optionally `id`).

        Keyword arguments override the checkpoint's generation settings for this call
        (num_beams, max_new_tokens, min_new_tokens, no_repeat_ngram_size, length_penalty).
        """
        records = [{"id": str(i), "text": a} if isinstance(a, str) else a for i, a in enumerate(articles)]
        summaries, probs = self.summarize_and_score([r["text"] for r in records], **generation)
        return [self._brief(str(r.get("id", i)), s, p, all_scores)
                for i, (r, s, p) in enumerate(zip(records, summaries, probs))]

    def predict_one(self, text: str, **kwargs: Any) -> Brief:
        return self.predict([text], **kwargs)[0]

    def summarize_and_score(self, texts: list[str], **generation: Any) -> tuple[list[str], np.ndarray]:
        """Summaries and a (articles x labels) probability matrix, in input order."""
        settings = replace(self.config.generation, **generation)
        if not texts:  # a chunk of a batch job can hold only bad rows
            return [], np.zeros((0, len(self.labels.names)), dtype=np.float32)
        encoded = self.tokenizer([self.config.data.source_prefix + t for t in texts],
                                 max_length=self.config.data.max_source_length, truncation=True,
                                 return_token_type_ids=False)["input_ids"]
        inference = self.config.inference
        batches = token_budget_batches([len(ids) for ids in encoded], inference.max_batch_tokens,
                                       inference.batch_size)
        summaries: list[str] = [""] * len(texts)
        probs = np.zeros((len(texts), len(self.labels.names)), dtype=np.float32)
        was_training = self.model.training
        self.model.eval()
        for batch in batches:
            padded = self.tokenizer.pad({"input_ids": [encoded[i] for i in batch]}, return_tensors="pt")
            sequences, topic_probs = self.model.brief(padded["input_ids"].to(self.device),
                                                      padded["attention_mask"].to(self.device),
                                                      **asdict(settings))
            decoded = self.tokenizer.batch_decode(sequences, skip_special_tokens=True)
            for row, index in enumerate(batch):
                summaries[index] = decoded[row].strip()
                probs[index] = topic_probs[row].cpu().numpy()
        self.model.train(was_training)
        return summaries, probs

    def _brief(self, id_: str, summary: str, probs: np.ndarray, all_scores: bool) -> Brief:
        chosen = np.flatnonzero(probs >= self.thresholds)
        chosen = chosen[np.argsort(-probs[chosen])]
        topics = [(self.labels.names[i], round(float(probs[i]), 4)) for i in chosen]
        scores = {n: round(float(p), 4) for n, p in zip(self.labels.names, probs)} if all_scores else None
        return Brief(id_, summary, topics, scores)
