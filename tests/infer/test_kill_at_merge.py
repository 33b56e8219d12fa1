"""`newsbrief predict --output x.parquet` killed with SIGKILL at the end, where the part files become the
output: in the middle of the merge, or after the merged file is in place and before the parts are removed.
The job runs in a subprocess that stops at that moment and says so; the test kills it there. A rerun of
the same command briefs nothing again, and gives every id exactly once; the output path never holds a
file that does not read whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from newsbrief.cli import main
from newsbrief.infer.parquet_output import parts_folder

from tests.conftest import ROOT
from tests.infer.test_batch_job import articles, write_input

# Runs `newsbrief` with its arguments after the moment's name; at that moment it touches $STOPPED_AT and
# waits to be killed. Patched in the child only: pyarrow's writer (only the merge writes batches; parts
# are written as whole tables) or shutil.rmtree of the parts folder (only finish removes it on a first run).
STOPPING_JOB = """
import os, shutil, sys, time
from pathlib import Path
import pyarrow.parquet as pq
from newsbrief.cli import main

def stop_here():
    Path(os.environ["STOPPED_AT"]).touch()
    time.sleep(600)

if sys.argv[1] == "mid-merge":
    write_batch = pq.ParquetWriter.write_batch
    def write_then_stop(self, *args, **kwargs):
        write_batch(self, *args, **kwargs)
        stop_here()
    pq.ParquetWriter.write_batch = write_then_stop
else:
    rmtree = shutil.rmtree
    def stop_then_remove(path, *args, **kwargs):
        if str(path).endswith(".parts"):
            stop_here()
        rmtree(path, *args, **kwargs)
    shutil.rmtree = stop_then_remove
main(sys.argv[2:])
"""


def kill_at(moment: str, command: list[str], stopped_at: Path) -> None:
    job = subprocess.Popen([sys.executable, "-c", STOPPING_JOB, moment, *command], cwd=ROOT,
                           env={**os.environ, "STOPPED_AT": str(stopped_at)},
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 900  # a loaded machine is slow
    while not stopped_at.exists():
        if job.poll() is not None or time.monotonic() > deadline:
            job.kill()
            pytest.fail(f"the job never reached the {moment}: {job.communicate()[1].decode()[-2000:]}")
        time.sleep(0.01)
    job.kill()  # SIGKILL
    job.wait()
    assert job.returncode == -9


def reads_whole(path: Path) -> bool:
    try:
        pq.read_table(path)
        return True
    except Exception:
        return False


@pytest.mark.parametrize("moment", ["mid-merge", "parts-removal"])
def test_kill_9_at_the_parquet_merge_then_a_rerun_loses_and_repeats_nothing(tiny_model_dir, tmp_path, moment,
                                                                            capsys):
    source, output = tmp_path / "articles.jsonl", tmp_path / "briefs.parquet"
    command = ["predict", "--model", str(tiny_model_dir), "--input", str(source), "--output", str(output),
               "--chunk-size", "1", "--device", "cpu"]
    write_input(source, articles(2))
    main(command)  # an earlier output, finished: the killed run adds to it
    write_input(source, articles(4))
    kill_at(moment, command, tmp_path / "stopped")
    # The earlier output, moved in as a part, and the new rows' two chunks of one...
    assert len(list(parts_folder(output).glob("part-*.parquet"))) == 3
    if moment == "mid-merge":  # ...and the merge's file, half written beside the output
        merging = output.with_name(output.name + ".tmp")
        assert merging.stat().st_size and not reads_whole(merging) and not output.exists()
    else:  # ...and the merged output, in place
        assert sorted(pq.read_table(output)["id"].to_pylist()) == sorted(f"n{i}" for i in range(4))
    assert not output.exists() or reads_whole(output)
    capsys.readouterr()
    main(command)
    summary = json.loads(capsys.readouterr().err.splitlines()[-2])
    assert summary["briefed"] == 0 and summary["skipped"] == 4  # every row was in a part: nothing lost
    assert sorted(pq.read_table(output)["id"].to_pylist()) == sorted(f"n{i}" for i in range(4))
    assert not parts_folder(output).exists() and not output.with_name(output.name + ".tmp").exists()
