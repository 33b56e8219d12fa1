"""The topic labels a model predicts and which sources annotate them: saved with every model, read by inference.

Its own module, apart from newsbrief.data, so that loading a model for inference never imports `datasets`
(the GPU image has none): only reading training data needs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from newsbrief.config import ConfigError, SourceConfig

if TYPE_CHECKING:
    import datasets

DEFAULT_THRESHOLD = 0.5
"""A label's topic threshold until tuning gives it its own (and for labels too rare to tune)."""


@dataclass
class LabelSpace:
    """The topic labels a model predicts, and which of them each source annotates."""

    names: list[str]
    annotated_by: dict[str, list[str]]
    sections: dict[str, str] = field(default_factory=dict)
    """{source: the broad label its labels refine}, from data.sources[].section."""

    @classmethod
    def from_training_data(cls, train_splits: dict[str, datasets.Dataset], sources: list[SourceConfig],
                           min_count: int) -> "LabelSpace":
        counts: dict[str, int] = {}
        annotated_by: dict[str, list[str]] = {}
        for source in sources:
            name = source.display_name()
            split = train_splits.get(name)
            seen: set[str] = set()
            if split is not None and source.topics_column:
                for topics in split["topics"]:
                    seen.update(topics)
                    for t in topics:
                        counts[t] = counts.get(t, 0) + 1
            annotated_by[name] = sorted(seen)
        names = sorted(label for label, count in counts.items() if count >= min_count)
        kept = set(names)
        for i, source in enumerate(sources):
            others = set().union(*(labels for name, labels in annotated_by.items() if name != source.display_name()))
            if source.section and source.section not in others & kept:
                raise ConfigError(f"data.sources.{i}.section: {source.section!r} is not a label of another source")
        return cls(names, {s: [label for label in labels if label in kept] for s, labels in annotated_by.items()},
                   {s.display_name(): s.section for s in sources if s.section})

    def encode(self, topics: list[str], source: str) -> tuple[list[float], list[float]]:
        """Multi-hot targets and the mask of labels this example is annotated for.

        Those are the labels its source annotates and, where another source's labels refine a section
        that this source annotates and this example is not labeled with (a sport report, for Reuters'
        business labels), that source's labels too, as negatives: without them, labels that only one
        corpus annotates are never trained against the other corpora's kinds of news.
        """
        index = self.index
        target = [0.0] * len(self.names)
        for t in topics:
            if t in index:
                target[index[t]] = 1.0
        annotated = set(self.annotated_by.get(source, []))
        negatives = [label for other, section in self.sections.items()
                     if other != source and section in annotated and section not in topics
                     for label in self.annotated_by.get(other, [])]
        mask = [0.0] * len(self.names)
        for label in annotated.union(negatives):
            mask[index[label]] = 1.0
        return target, mask

    @cached_property
    def index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.names)}

    def default_thresholds(self) -> list[float]:
        return [DEFAULT_THRESHOLD] * len(self.names)

    def save(self, path: Path, thresholds: list[float] | None = None) -> None:
        payload = {"names": self.names, "annotated_by": self.annotated_by, "sections": self.sections,
                   "thresholds": thresholds or self.default_thresholds()}
        path.write_text(json.dumps(payload, indent=1))

    @staticmethod
    def load(path: Path) -> tuple["LabelSpace", list[float]]:
        payload = json.loads(path.read_text())
        labels = LabelSpace(payload["names"], payload["annotated_by"], payload.get("sections", {}))
        return labels, payload["thresholds"]
