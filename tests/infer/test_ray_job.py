"""The Ray engine on a local Ray: the records of the local engine for the same inputs, bad rows and
repeated ids included, and a rerun that briefs only what the output folder lacks. Two Ray jobs in all:
each starts an actor that loads the model, the slow part."""

from __future__ import annotations

import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from newsbrief.cli import main
from newsbrief.infer.batch_job import find_inputs, predict_files
from newsbrief.infer.engine import NewsBrief
from newsbrief.infer.job_errors import BatchJobError
from newsbrief.infer.ray_engine.job import predict_with_ray
from newsbrief.infer.readers import Row
from newsbrief.infer.records import jsonl_bytes, records_table, stream_records, table_records

from tests.infer.outputs import read_output
from tests.infer.test_batch_job import GOOD, LINES, articles, write_input

pytest.importorskip("ray.data", reason="Ray Data is not installed (pip install newsbrief[ray])")


@pytest.fixture(scope="module")
def local_ray():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


# Both engines in fp32: the records are compared exactly, and the actors cut other batches than the local
# job, which in bf16 (dtype="auto" on a CPU with bf16 instructions) moves a topic score in its 4th decimal.
FP32 = {"device": "cpu", "dtype": "fp32"}


@pytest.fixture(scope="module")
def briefer(tiny_model_dir) -> NewsBrief:
    return NewsBrief.from_pretrained(tiny_model_dir, **FP32)


def by_id(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: r["id"])


def test_ray_writes_the_local_engines_records_and_a_rerun_briefs_only_new_ids(local_ray, briefer, tiny_model_dir,
                                                                            tmp_path, capsys):
    source, output = tmp_path / "in", tmp_path / "briefs"
    source.mkdir()
    (source / "articles.jsonl").write_text("\n".join(LINES) + "\n")  # bad lines, no id, a repeated id
    pq.write_table(pa.table({"id": ["p1", None, "e", "p2"],  # no id; "e" is in articles.jsonl
                             "text": [GOOD, "Oil rose on supply worries.", GOOD, None]}), source / "more.parquet")

    counts = predict_with_ray(tiny_model_dir, str(source), output, chunk_size=3, **FP32)
    local = predict_files(briefer, find_inputs(str(source), tmp_path / "local.parquet")[0], tmp_path / "local.parquet")
    records = pq.read_table(output).to_pylist()
    assert by_id(records) == by_id(read_output(tmp_path / "local.parquet"))
    assert (counts.input_rows, counts.briefed, counts.errors, counts.skipped, counts.truncated) == \
        (local.input_rows, local.briefed, local.errors, 0, 0) == (13, 5, 8, 0, 0)
    errors = {r["id"]: r["error"] for r in records if r["error"] is not None}
    assert errors["more.parquet:3"] == "more.parquet:3: duplicate id 'e'"
    assert errors["p2"] == "more.parquet:4: no 'text'" and errors["d"] == "articles.jsonl:6: 'text' is empty"
    assert {"articles.jsonl:8", "more.parquet:2"} <= {r["id"] for r in records if r["error"] is None}  # no id

    write_input(source / "new.jsonl", articles(3) + [{"id": "a", "text": GOOD}])  # "a" is done, yet repeated
    main(["predict", "--engine", "ray", "--model", str(tiny_model_dir), "--input", str(source),
          "--output", str(output), "--chunk-size", "2", "--device", "cpu", "--dtype", "fp32"])
    summary = json.loads(capsys.readouterr().err.splitlines()[-2])
    assert (summary["input_rows"], summary["briefed"], summary["errors"], summary["skipped"]) == (17, 3, 1, 13)
    predict_files(briefer, find_inputs(str(source), tmp_path / "all.parquet")[0], tmp_path / "all.parquet")
    assert by_id(pq.read_table(output).to_pylist()) == by_id(read_output(tmp_path / "all.parquet"))


@pytest.mark.parametrize("long_articles", [None, "chunk"])
def test_the_actors_take_tokens_from_the_cpu_stage_and_make_the_local_records(tiny_model_dir, monkeypatch,
                                                                                long_articles):
    from newsbrief.infer import engine
    from newsbrief.infer.ray_engine.encoded import encode_rows
    from newsbrief.infer.ray_engine.inputs import rows_table
    from newsbrief.infer.ray_engine.stages import BriefPredictor

    rows = [Row("a.jsonl:1", "a", GOOD), Row("a.jsonl:2", "b", problem="no 'text'"),
            Row("a.jsonl:3", None, " ".join([GOOD] * 30)), Row("a.jsonl:4", "c", "Oil rose on supply worries.")]
    inference = {"long_articles": long_articles}
    local = NewsBrief.from_pretrained(tiny_model_dir, **FP32, inference={k: v for k, v in inference.items() if v})
    expected = list(stream_records(local, iter(rows), len(rows)))
    encoded = encode_rows(rows_table(rows, list(range(len(rows)))), tiny_model_dir, inference)
    assert "text" not in encoded.column_names and encoded.column("windows").null_count == 1

    def tokenize(*args, **kwargs):
        raise AssertionError("the model actor tokenized: the CPU stage is there to do it")
    monkeypatch.setattr(engine, "encode_articles", tokenize)
    actor = BriefPredictor(tiny_model_dir, **FP32, **inference)
    assert table_records(actor(encoded)) == expected
    assert (len(encoded.column("windows")[2]) > 1) == (long_articles == "chunk") and "error" in expected[1]


def test_jsonl_files_hold_the_local_engines_lines_and_read_back(tmp_path):
    from ray.data.block import BlockAccessor

    from newsbrief.infer.ray_engine.outputs import JsonlDatasink, OutputFolder

    records = [{"id": "a", "summary": "Profit rose", "topics": [["earn", 0.93], ["acq", 0.5]], "truncated": True},
               {"id": "b.jsonl:2", "error": "b.jsonl:2: no 'text'"}]
    (tmp_path / "out").mkdir()
    with open(tmp_path / "out" / "part.jsonl", "wb") as file:
        JsonlDatasink(str(tmp_path / "out")).write_block_to_file(BlockAccessor.for_block(records_table(records)), file)
    assert (tmp_path / "out" / "part.jsonl").read_bytes() == jsonl_bytes(records)
    folder = OutputFolder(str(tmp_path / "out"), "jsonl")
    assert folder.records(folder.files()) == [{"id": "a", "truncated": True, "error": None},
                                              {"id": "b.jsonl:2", "truncated": None, "error": "b.jsonl:2: no 'text'"}]


def test_a_torn_output_file_stops_the_job_and_is_named(tmp_path):
    from newsbrief.infer.ray_engine.outputs import OutputFolder

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "part.parquet").write_bytes(b"PAR1 cut short")
    folder = OutputFolder(str(tmp_path / "out"), "parquet")
    with pytest.raises(BatchJobError, match="part.parquet does not read whole"):
        folder.records(folder.files())


def test_without_ray_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets when Ray is absent
    with pytest.raises(ImportError, match=r"pip install newsbrief\[ray\]"):
        predict_with_ray(None, str(tmp_path), tmp_path / "out")
    with pytest.raises(SystemExit, match=r"pip install newsbrief\[ray\]"):
        main(["predict", "--engine", "ray", "--input", str(tmp_path), "--output", str(tmp_path / "out")])


@pytest.mark.parametrize("share", ["1.5", "-1", "nan", "half"])
def test_a_share_of_a_gpu_ray_cannot_place_is_refused_in_one_line(tmp_path, capsys, share):
    with pytest.raises(SystemExit):
        main(["predict", "--engine", "ray", "--input", str(tmp_path), "--output", str(tmp_path / "o"),
              "--gpus-per-actor", share])
    assert f"--gpus-per-actor: expected 0, a fraction of 1 (0.5: two actors per GPU) or whole GPUs, got '{share}'" \
        in capsys.readouterr().err


def test_ray_options_need_the_ray_engine(tmp_path):
    with pytest.raises(SystemExit, match="--actors: only with --engine ray"):
        main(["predict", "--input", str(tmp_path), "--output", str(tmp_path / "o.jsonl"), "--actors", "2"])


@pytest.mark.parametrize("output_format", ["parquet", "jsonl"])
def test_ray_keeps_columns_and_retries_errors_once_each(local_ray, briefer, tiny_model_dir, tmp_path, output_format):
    from newsbrief.infer.ray_engine.outputs import OutputFolder

    source, output = tmp_path / "news.jsonl", tmp_path / "briefs"
    write_input(source, [{**article, "url": f"u{i}"} for i, article in enumerate(articles(4))])
    # Half a CPU per actor: the tokenizing tasks (one CPU each) are not fused into the actors, as with GPUs.
    job = {"output_format": output_format, "keep_columns": "url", "chunk_size": 2, "cpus_per_actor": 0.5, **FP32}
    first = predict_with_ray(tiny_model_dir, str(source), output, text_column="body", **job)  # every row an error
    assert (first.briefed, first.errors) == (0, 4)

    fixed = predict_with_ray(tiny_model_dir, str(source), output, retry_errors=True, **job)
    assert (fixed.briefed, fixed.errors, fixed.skipped) == (4, 0, 0)
    folder = OutputFolder(str(output), output_format)
    assert sorted(r["id"] for r in folder.records(folder.files())) == ["n0", "n1", "n2", "n3"]
    files, keep = find_inputs(str(source), tmp_path / "local.jsonl", "url")
    predict_files(briefer, files, tmp_path / "local.jsonl", keep=keep)
    written = [json.loads(line) for path in sorted(folder.files()) for line in open(path)] \
        if output_format == "jsonl" else [{k: v for k, v in r.items() if v is not None}
                                          for r in pq.read_table(output).to_pylist()]
    if output_format == "parquet":
        for record in written:
            record["topics"] = [[t["label"], t["score"]] for t in record["topics"]]
    assert by_id(written) == by_id(read_output(tmp_path / "local.jsonl"))
