"""From corpora on disk (or the hub) to padded training batches.

Every source is read into one canonical schema (id, text, summary, topics, source), the label space is
the union of the labels the training splits annotate, and each example carries a label mask: a label
that its source does not annotate is neither positive nor negative for it.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import random
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import torch
from datasets.fingerprint import Hasher

from newsbrief.config import DataConfig, SourceConfig
from newsbrief.data_errors import DataError
from newsbrief.faithful_targets import faithful_targets, needs_offsets, target_end_token
from newsbrief.gap_sentences import gap_sentence_example
from newsbrief.infer.article_text import EMPTY, is_blank
from newsbrief.labels import LabelSpace
from newsbrief.models.guard_vocabulary import Vocabulary

# Explicit, so that `map` does not cast ids back to a source's integer id column.
CANONICAL_FEATURES = datasets.Features({
    "id": datasets.Value("string"), "text": datasets.Value("string"), "summary": datasets.Value("string"),
    "topics": datasets.Sequence(datasets.Value("string")), "source": datasets.Value("string"),
})
_FILE_BUILDERS = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}


ROW = "__row__"
"""A column added while reading: each record's 1-based number in its file, for ids and error messages."""
_DEFAULTS = SourceConfig()


def read_split(source: SourceConfig, split: str | None, max_source_length: int = 512,
               split_seed: int = 0) -> datasets.Dataset | None:
    """One split of one source in the canonical schema, or None when the source has no such split.

    `max_source_length` (tokens) bounds the text that gap-sentence sources choose their gaps from. A file
    without a split column has `source.validation_fraction` of its rows, drawn with `split_seed`, as its
    validation split and the rest as train. `split=None` reads every row of a file, whatever its split.
    """
    raw = _load(source)
    if isinstance(raw, datasets.DatasetDict):
        if split is None:
            raise DataError(f"{source.path}: name one of its splits {list(raw)}")
        if split not in raw:
            return None
        raw = _numbered(raw[split])
    else:
        raw = _numbered(raw)
        if split is not None:
            raw = _split_of_file(raw, source, split, split_seed)
    if raw is None or len(raw) == 0:
        return None
    for column in (source.text_column, summary_column(source), source.topics_column):
        if column and column not in raw.column_names:
            raise DataError(f"{source.path}: no column {column!r}; columns are {_columns(raw)}")
    if source.id_column not in raw.column_names and source.id_column != _DEFAULTS.id_column:
        raise DataError(f"{source.path}: no column {source.id_column!r} (data.sources.*.id_column); "
                        f"columns are {_columns(raw)}")
    if source.max_examples is not None:
        raw = raw.select(range(min(source.max_examples, len(raw))))
    name = source.display_name()
    canonical = _map(
        raw,
        lambda batch: _canonical(batch, source, name),
        batched=True,
        remove_columns=raw.column_names,
        features=CANONICAL_FEATURES,
        desc=f"reading {name}/{split or 'every row'}",
    )
    if source.objective == "gap_sentences":
        # About 4 words to 3 tokens of English news in WordPiece, BPE and SentencePiece vocabularies alike.
        return _gap_sentences(canonical, name, split, window_words=max_source_length * 3 // 4)
    return canonical


def _load(source: SourceConfig) -> datasets.Dataset | datasets.DatasetDict:
    """The source as `datasets` reads it; a file it cannot parse is one line naming the file and the cause."""
    builder = _FILE_BUILDERS.get(Path(source.path).suffix.lower())
    if builder is None:
        try:
            return datasets.load_dataset(source.path)
        except (ConnectionError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as error:
            raise DataError(f"{source.path}: neither a .jsonl, .csv or .parquet file nor a dataset found on the "
                            f"Hub ({str(error).splitlines()[0]})") from None
    if Path(source.path).is_file() and Path(source.path).stat().st_size == 0:
        raise DataError(f"{source.path}: the file is empty")
    try:
        return datasets.load_dataset(builder, data_files=source.path, split="train")
    except (datasets.exceptions.DatasetGenerationError, pa.ArrowException, ValueError) as error:
        cause = error
        while cause.__cause__ is not None or cause.__context__ is not None:
            cause = cause.__cause__ or cause.__context__
        first_line = (str(cause) or type(cause).__name__).splitlines()[0]
        raise DataError(f"{source.path}: cannot read it as {builder}: {first_line}") from error


def _numbered(raw: datasets.Dataset) -> datasets.Dataset:
    return raw.add_column(ROW, list(range(1, len(raw) + 1)))


def _columns(raw: datasets.Dataset) -> list[str]:
    return [c for c in raw.column_names if c != ROW]


def _split_of_file(raw: datasets.Dataset, source: SourceConfig, split: str, seed: int) -> datasets.Dataset | None:
    """The rows of `split` by the file's split column, or carved out of a file that has none."""
    column = source.split_column
    if column and column in raw.column_names:
        return raw.filter(lambda s: s == split, input_columns=column)
    if column and column != _DEFAULTS.split_column:
        raise DataError(f"{source.path}: no column {column!r} (data.sources.*.split_column); "
                        f"columns are {_columns(raw)}")
    return _carved(raw, split, source.validation_fraction, seed)


def _carved(raw: datasets.Dataset, split: str, fraction: float, seed: int) -> datasets.Dataset | None:
    """A seeded validation share of the rows (at least one row when the share is not 0), the rest as train."""
    if split not in ("train", "validation"):
        return None
    order = list(range(len(raw)))
    random.Random(seed).shuffle(order)
    held_out = min(max(round(fraction * len(raw)), 1 if fraction > 0 else 0), len(raw) - 1)
    rows = order[:held_out] if split == "validation" else order[held_out:]
    return raw.select(sorted(rows)) if rows else None


def summary_column(source: SourceConfig) -> str | None:
    """The column that holds summary targets; gap-sentence sources make theirs from the text."""
    return source.summary_column if source.objective == "supervised" else None


def _canonical(batch: dict[str, list], source: SourceConfig, name: str) -> dict[str, list]:
    rows = batch[ROW]
    column = summary_column(source)
    summaries = batch[column] if column else [None] * len(rows)
    topics = batch[source.topics_column] if source.topics_column else [[] for _ in rows]
    ids = batch[source.id_column] if source.id_column in batch else [f"{Path(source.path).name}:{r}" for r in rows]
    for row, text in zip(rows, batch[source.text_column]):
        if not isinstance(text, str) or is_blank(text):
            raise DataError(f"{source.path}, row {row}: {source.text_column!r} "
                            + (EMPTY if text is None or isinstance(text, str) else "is not a string"))
    return {
        "id": [str(i) for i in ids],
        "text": batch[source.text_column],
        "summary": [s if s and s.strip() else None for s in summaries],
        "topics": [_map_labels(t, source, row) for t, row in zip(topics, rows)],
        "source": [name] * len(rows),
    }


def _gap_sentences(dataset: datasets.Dataset, name: str, split: str, window_words: int) -> datasets.Dataset:
    """Each article without its most salient sentence, that sentence its summary target; articles of one
    sentence give no example."""

    def cut(batch: dict[str, list]) -> dict[str, list]:
        out: dict[str, list] = {key: [] for key in batch}
        for i, text in enumerate(batch["text"]):
            example = gap_sentence_example(text, window_words)
            if example is None:
                continue
            for key in batch:
                out[key].append(batch[key][i])
            out["text"][-1], out["summary"][-1] = example
        return out

    examples = _map(dataset, cut, batched=True, features=CANONICAL_FEATURES, desc=f"gap sentences {name}/{split}")
    if len(examples) == 0:
        raise DataError(f"data source {name!r}: objective gap_sentences needs articles of two sentences or more "
                         f"(one of them stating only names and numbers the others do); no {split} article has them")
    return examples


def _map_labels(topics: Any, source: SourceConfig, row: int) -> list[str]:
    if topics is None:
        return []
    if isinstance(topics, str):
        topics = topics.split(source.topics_separator) if source.topics_separator else [topics]
    elif not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise DataError(f"{source.path}, row {row}: {source.topics_column!r} is not a topic name or a list of them")
    mapped = (source.label_map.get(t.strip(), t.strip()) for t in topics)
    return sorted({t for t in mapped if t})


def read_corpora(config: DataConfig, splits: tuple[str, ...] = ("train", "validation")) -> dict[str, dict[str, datasets.Dataset]]:
    """{split: {source name: dataset}} for every configured source that has the split."""
    result: dict[str, dict[str, datasets.Dataset]] = {split: {} for split in splits}
    for source in config.sources:
        for split in splits:
            dataset = read_split(source, split, config.max_source_length, config.split_seed)
            if dataset is not None:
                result[split][source.display_name()] = dataset
    return result


def tokenize(dataset: datasets.Dataset, tokenizer, config: DataConfig, labels: LabelSpace) -> datasets.Dataset:
    """Token ids, summary targets, topic targets and masks; cached by `datasets` between runs."""
    faithful = config.summary_targets == "faithful"
    vocabulary = Vocabulary.of(tokenizer) if faithful else None
    if faithful:
        target_end_token(tokenizer)  # a tokenizer without one is a config error before any row is read
    offsets = faithful and needs_offsets(tokenizer)

    def encode(batch: dict[str, list]) -> dict[str, list]:
        texts = [config.source_prefix + t for t in batch["text"]]
        model_inputs = tokenizer(texts, max_length=config.max_source_length, truncation=True,
                                 return_token_type_ids=False, return_offsets_mapping=offsets)
        summaries = [s or "" for s in batch["summary"]]
        if faithful:
            targets = faithful_targets(tokenizer, texts, model_inputs, summaries, config.max_target_length,
                                       vocabulary)
            model_inputs.pop("offset_mapping", None)
        else:
            targets = tokenizer(text_target=summaries, max_length=config.max_target_length,
                                truncation=True)["input_ids"]
        # An example without a reference summary trains the topic head only.
        model_inputs["labels"] = [ids if s else [] for ids, s in zip(targets, batch["summary"])]
        topic, mask = zip(*(labels.encode(t, s) for t, s in zip(batch["topics"], batch["source"])))
        model_inputs["topic_labels"] = list(topic)
        model_inputs["topic_mask"] = list(mask)
        model_inputs["length"] = [len(ids) for ids in model_inputs["input_ids"]]
        return model_inputs

    return _map(dataset, encode, batched=True, desc="tokenizing")


def _map(dataset: datasets.Dataset, function, **kwargs: Any) -> datasets.Dataset:
    """`dataset.map`, its cache keyed by this package's source too: `datasets` hashes the mapped function's
    own code, but pickles the functions it calls by name, so a change to the rules they hold (the fact
    guard that filters targets, gap sentences, labels) would be handed the old code's cached result."""
    fingerprint = Hasher.hash([dataset._fingerprint, Hasher.hash(function), kwargs, _package_source_hash()])
    return dataset.map(function, new_fingerprint=fingerprint, **kwargs)


@functools.cache
def _package_source_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def concatenate(parts: dict[str, datasets.Dataset]) -> datasets.Dataset:
    return datasets.concatenate_datasets(list(parts.values()))


MODEL_COLUMNS = ["input_ids", "attention_mask", "labels", "topic_labels", "topic_mask"]
"""The columns of a tokenized example that Collator batches and the model takes."""


class Collator:
    """Pads a list of tokenized examples into tensors; summary targets are padded with -100 (ignored)."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = {
            "input_ids": _pad([e["input_ids"] for e in examples], self.pad_token_id),
            "attention_mask": _pad([e["attention_mask"] for e in examples], 0),
            "labels": _pad([e["labels"] for e in examples], -100),
            "topic_labels": torch.tensor([e["topic_labels"] for e in examples], dtype=torch.float),
            "topic_mask": torch.tensor([e["topic_mask"] for e in examples], dtype=torch.float),
        }
        return batch


def _pad(sequences: list[list[int]], value: int) -> torch.Tensor:
    """One (rows, longest) tensor: all ids laid into a padded array at once, not a tensor per row."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    out = np.full((len(sequences), max(1, int(lengths.max(initial=0)))), value, dtype=np.int64)
    out[np.arange(out.shape[1]) < lengths[:, None]] = np.fromiter(
        itertools.chain.from_iterable(sequences), dtype=np.int64, count=int(lengths.sum()))
    return torch.from_numpy(out)


def source_repeats(train_set: datasets.Dataset, config: DataConfig) -> list[int]:
    """How many times each training example is drawn per epoch: its source's `repeat`."""
    repeat = {source.display_name(): source.repeat for source in config.sources}
    return [repeat[name] for name in train_set["source"]]


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, group_by_length: bool,
                  repeats: list[int] | None = None) -> list[list[int]]:
    """The batches of one epoch, a pure function of (seed, epoch) so that a resumed run sees the same order.

    Example i is drawn `repeats[i]` times (default once). With length grouping, shuffled indices are cut
    into mega-batches of 50 batches, each sorted by length and split, and the batches are shuffled again
    (as Hugging Face's LengthGroupedSampler does): similar lengths share a batch, so little compute goes
    into padding.
    """
    rng = random.Random(seed * 100_003 + epoch)
    order = [i for i, times in enumerate(repeats or [1] * len(lengths)) for _ in range(times)]
    rng.shuffle(order)
    if group_by_length:
        mega = batch_size * 50
        order = [i for start in range(0, len(order), mega)
                 for i in sorted(order[start:start + mega], key=lambda i: -lengths[i])]
    batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if group_by_length:
        rng.shuffle(batches)
    return batches
