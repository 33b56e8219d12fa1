"""`newsbrief predict --engine ray`: the batch job on Ray Data, across the GPUs (or CPUs) of a Ray cluster.

Ray Data reads the inputs (inputs.py), a CPU stage tokenizes them (encoded.py), a pool of actors
briefs them, each actor loading the model once (stages.py), and Ray writes the records into a folder
(outputs.py). The records are the local engine's (batch_job.py) for the same model and settings: the
same readers make the rows, the engine's own functions tokenize them and run the model, the same
record makers make the records, repeated ids become error records and ids already in the output are
skipped as there. What differs: the output is a folder of part files in no particular order, and a
crash loses the blocks in flight rather than one chunk.

Before any briefing, one pass over the ids (the inputs read once more, texts dropped at once) counts
the rows and finds the ids on more than one row. The driver holds the ids seen and the ids done, as
the local engine does.

Ray is imported when a job starts, with the modules that need it (inputs, stages,
outputs), so that the package works without it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from newsbrief.infer.batch_job import CHUNK, GPU_CHUNK
from newsbrief.infer.loading import LOAD_SETTINGS
from newsbrief.infer.records import Counts
from newsbrief.models.model_dir import check_model_directory

RAY_MISSING = "the Ray engine needs Ray Data, which is not installed: pip install newsbrief[ray]"


def predict_with_ray(model: str | Path | None, input: str, output: str | Path, *, output_format: str = "parquet",
                     id_column: str = "id", text_column: str = "text", actors: int = 1,
                     gpus_per_actor: float | None = None, cpus_per_actor: float = 1.0, chunk_size: int | None = None,
                     address: str | None = None, keep_columns: str | None = None, retry_errors: bool = False,
                     **load: Any) -> Counts:
    """Brief the files `input` names (local, or object-store URIs) into the folder `output`.

    `actors` models run at once, each with `gpus_per_actor` GPUs (default: 1 when the cluster has GPUs,
    else 0) and `cpus_per_actor` CPUs (on CPU, its torch threads); each takes `chunk_size` rows at a time
    (default: batch_job's GPU_CHUNK with GPUs, CHUNK without), which also bounds its model batches.
    `keep_columns` and `retry_errors` are those of the local job (batch_job.py).
    `load` goes to engine.load_briefer: device, dtype, int8, compile, and the inference overrides
    long_articles, batch_size (articles per model batch) and max_batch_tokens (the token budget).
    Uses the running Ray, else connects to `address`, else to RAY_ADDRESS, else to a cluster that `ray start`
    started on this machine, else starts a local Ray.
    """
    ray = import_ray()
    from newsbrief.infer.kept_columns import resolve_keep
    from newsbrief.infer.ray_engine.encoded import encode_rows
    from newsbrief.infer.ray_engine.inputs import ArticleRows, find_ray_inputs, open_for_columns
    from newsbrief.infer.ray_engine.outputs import OutputFolder
    from newsbrief.infer.ray_engine.stages import BriefPredictor, pending_rows, scan_ids

    started = time.perf_counter()
    if model is not None:  # None: the embedded model, wherever each node installed the package
        model = Path(model).resolve()  # the actors' working directory is not this one
        check_model_directory(model)  # here, rather than in every actor of the cluster
    folder = OutputFolder(str(output), output_format)
    filesystem, files = find_ray_inputs(input, str(output))
    keep = resolve_keep(keep_columns, files, open_for_columns(filesystem), id_column, text_column)
    if not ray.is_initialized():
        ray.init(address=address)
    if gpus_per_actor is None:
        gpus_per_actor = 1 if ray.cluster_resources().get("GPU", 0) else 0
    chunk_size = chunk_size or (GPU_CHUNK if gpus_per_actor else CHUNK)

    if retry_errors:
        folder.drop_errors()
    written_before = folder.files()
    done = {record["id"] for record in folder.records(written_before)}
    rows = ray.data.read_datasource(ArticleRows(files, filesystem, id_column, text_column, keep))
    scan = scan_ids(rows, done)
    if scan.skipped < scan.rows:  # else no actor need load the model
        pending = rows.map_batches(pending_rows, batch_format="pyarrow",
                                   fn_kwargs={"repeated": scan.repeated, "done": done})
        encoding = {key: value for key, value in load.items() if key not in LOAD_SETTINGS}
        encoded = pending.map_batches(encode_rows, batch_format="pyarrow", num_cpus=1,
                                      fn_kwargs={"model": model, "encoding": encoding})
        records = encoded.map_batches(BriefPredictor, batch_size=chunk_size, batch_format="pyarrow",
                                      fn_constructor_args=(model,), fn_constructor_kwargs=load, concurrency=actors,
                                      num_gpus=gpus_per_actor, num_cpus=cpus_per_actor)
        folder.write(records)

    counts = Counts(input_rows=scan.rows, skipped=scan.skipped)
    counts.count(folder.records(folder.files() - written_before))
    counts.seconds = time.perf_counter() - started
    return counts


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401  (ray[data]: pyarrow, pandas, fsspec)
    except ImportError as error:
        raise ImportError(RAY_MISSING) from error
    return ray
