"""disk.replace_folder, which puts a training run's export in place, killed with SIGKILL before each of its
steps: the model directory is the old export or the new one, whole, and the next export completes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsbrief import disk
from newsbrief.disk import replace_folder

# Runs replace_folder(staging, final) and stops before its `step`-th rename or removal (what changes the
# folders besides the swap itself), touching `stopped` and waiting to be killed. disk.py is loaded alone:
# the package would import torch first. "step aside" takes the way of systems that cannot swap folders.
STOPPING_REPLACE = """
import importlib.util, os, shutil, sys, time
from pathlib import Path

disk_py, step, way, staging, final, stopped = sys.argv[1:]
spec = importlib.util.spec_from_file_location("disk", disk_py)
disk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(disk)
calls = [0]

def stopping(change):
    def stop_then_change(*args, **kwargs):
        calls[0] += 1
        if calls[0] == int(step):
            Path(stopped).touch()
            time.sleep(600)
        return change(*args, **kwargs)
    return stop_then_change

os.replace, shutil.rmtree = stopping(os.replace), stopping(shutil.rmtree)
if way == "step aside":
    disk.exchange_paths = lambda first, second: False
disk.replace_folder(Path(staging), Path(final))
"""


def write_folder(folder: Path, version: str) -> dict[str, str]:
    """A model directory of `version`: a file of its own, one every version has, one in a subfolder."""
    files = {f"{version}.safetensors": f"{version} weights", "README.md": f"{version} card",
             "tokenizer/vocab.txt": f"{version} vocabulary"}
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return files


def contents(folder: Path) -> dict[str, str] | None:
    if not folder.is_dir():
        return None
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("way", ["swap", "step aside"])
@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_kill_9_before_each_step_of_replace_folder_leaves_one_whole_folder(tmp_path, step, way):
    final, staging, stopped = tmp_path / "model", tmp_path / "model.tmp", tmp_path / "stopped"
    old, new = write_folder(final, "old"), write_folder(staging, "new")
    job = subprocess.Popen([sys.executable, "-c", STOPPING_REPLACE, disk.__file__, str(step), way, str(staging),
                            str(final), str(stopped)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not stopped.exists() and job.poll() is None:
        assert time.monotonic() < deadline, "replace_folder neither stopped nor ended"
        time.sleep(0.01)
    if stopped.exists():
        job.kill()  # SIGKILL
    assert job.wait() in (0, -9), job.stderr.read().decode()[-2000:]
    if way == "swap" or step != 3:
        assert contents(final) in (old, new)
    else:  # between the old folder's step aside and the new one's arrival: the old one waits beside it
        assert contents(final) is None and contents(tmp_path / "model.old") == old
    # The next export, as train's does it: what a kill left at staging goes, a whole folder is written there.
    shutil.rmtree(staging, ignore_errors=True)
    newer = write_folder(staging, "newer")
    replace_folder(staging, final)
    assert contents(final) == newer and not staging.exists() and not (tmp_path / "model.old").exists()
