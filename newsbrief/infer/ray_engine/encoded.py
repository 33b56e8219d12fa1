"""The Ray job's CPU stage before the model actors: each article tokenized into the model's windows.

`encode_rows` runs, as its own `map_batches` step, what the engine's stream runs on a background thread
for each chunk (loading.load_encoder: capping, boilerplate, tokenizing), so that the GPU actors receive
token ids and spend their time on the model (`NewsBrief.brief_encoded`, via `block_windows`). A row
keeps its id, where, problem, position and kept columns; its text gives way to its windows, their
character offsets and the text those offsets point into, all null for a row with a problem.

The stage is a function, not a callable class: it runs as tasks on whatever CPUs the model actors leave,
fused by Ray with the reading tasks, where a pool of tokenizing actors would hold a CPU each for the
whole job (on a 2-CPU machine, the CPU the reads need). Each worker process loads the tokenizer once.
Ray fuses a task stage into the actor stage after it when both ask for the same resources: never with
GPU actors (the tasks ask for none), but on CPUs with --cpus-per-actor 1 (the default) the actors
tokenize their blocks themselves, on the CPU they hold, as before this stage existed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa

from newsbrief.infer.encoding import Windows
from newsbrief.infer.loading import load_encoder

ENCODED = pa.schema([("windows", pa.list_(pa.list_(pa.int32()))),
                     ("offsets", pa.list_(pa.list_(pa.list_(pa.int32(), 2)))),
                     ("read_text", pa.string()), ("truncated", pa.bool_())])
"""Per row: its windows' token ids, their character spans in `read_text` (the prefixed, capped text the
model read), and whether text fell outside them (encoding.Windows, one article at a time)."""


def encode_rows(block: pa.Table, model: str | Path | None, encoding: dict[str, Any]) -> pa.Table:
    """The block with each article's text replaced by its windows (ENCODED); `encoding` holds
    load_encoder's keywords (trust_remote_code and the inference overrides)."""
    encode = _encoder(model, tuple(sorted(encoding.items())))
    texts = block.column("text").to_pylist()
    articles = [i for i, problem in enumerate(block.column("problem").to_pylist()) if problem is None]
    windows = encode([texts[i] for i in articles]) if articles else Windows([], [], [], [], [])
    columns: dict[str, list] = {name: [None] * block.num_rows for name in ENCODED.names}
    for i in articles:
        columns["windows"][i], columns["offsets"][i] = [], []
    for ids, offsets, article in zip(windows.input_ids, windows.offsets, windows.article):
        columns["windows"][articles[article]].append(ids)
        columns["offsets"][articles[article]].append(offsets)
    for article, i in enumerate(articles):
        columns["read_text"][i], columns["truncated"][i] = windows.texts[article], windows.truncated[article]
    encoded = block.drop_columns(["text"])
    for field in ENCODED:
        encoded = encoded.append_column(field, pa.array(columns[field.name], field.type))
    return encoded


def block_windows(block: pa.Table) -> Windows:
    """The Windows of a block's articles (its rows without a problem), in order, as the engine's stream
    would have encoded them as one chunk."""
    windows = Windows([], [], [], [], [])
    read_texts = block.column("read_text").to_pylist()
    per_row = zip(block.column("windows").to_pylist(), block.column("offsets").to_pylist(), read_texts,
                  block.column("truncated").to_pylist())
    for article, (ids, offsets, text, truncated) in enumerate(row for row in per_row if row[2] is not None):
        windows.input_ids.extend(ids)
        windows.offsets.extend(offsets)
        windows.article.extend([article] * len(ids))
        windows.truncated.append(truncated)
        windows.texts.append(text)
    return windows


@cache
def _encoder(model: str | Path | None, encoding: tuple[tuple[str, Any], ...]) -> Callable[[list[str]], Windows]:
    """One tokenizer per worker process and settings: Ray reuses its worker processes across tasks."""
    return load_encoder(model, **dict(encoding))
