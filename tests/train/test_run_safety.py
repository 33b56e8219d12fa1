"""Faults around a training run's output_dir: a second run on it, a resume with another config, a kill or
crash during the final export. Each stops with one line, or leaves a model directory that is whole."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from newsbrief.cli import main
from newsbrief.config import ConfigError
from newsbrief.infer.engine import NewsBrief
from newsbrief.run_lock import run_lock
from newsbrief.train import loop
from newsbrief.train.loop import LOCK_FILE, train
from tests.conftest import ROOT, TINY_CONFIG, tiny_overrides

SHORT = ["train.max_steps=2", "train.eval_every=2", "train.warmup_steps=1", "train.tensorboard=false",
         "train.eval_max_examples=4"]


def test_a_second_training_run_on_an_output_dir_stops_at_once(tmp_path, capsys):
    output = tmp_path / "run"
    with run_lock(output / LOCK_FILE, output):  # as a running `newsbrief train` holds it
        with pytest.raises(SystemExit) as exited:
            main(["train", str(TINY_CONFIG), *tiny_overrides(output), *SHORT])
    assert exited.value.code == 5 and f"{output}: another run is writing it" in str(exited.value)
    assert "\n" not in str(exited.value)
    assert sorted(p.name for p in output.iterdir()) == [LOCK_FILE]  # nothing read, nothing written


def test_a_resume_with_a_changed_config_names_the_keys_and_refuses_unless_accepted(tiny_config, tmp_path):
    train(tiny_config(*SHORT))
    before = sorted((tmp_path / "run" / "checkpoints").iterdir())
    with pytest.raises(ConfigError) as refused:
        train(tiny_config(*SHORT, "train.max_steps=3", "train.learning_rate=0.002"))
    message = str(refused.value)
    assert "\n" not in message
    assert "train.learning_rate (0.001 -> 0.002), train.max_steps (2 -> 3)" in message
    assert "train.resume_accepts=[train.learning_rate,train.max_steps]" in message
    assert sorted((tmp_path / "run" / "checkpoints").iterdir()) == before
    # Accepted by name: the run goes on from step 2 to step 3.
    train(tiny_config(*SHORT, "train.max_steps=3", "train.eval_every=1",
                      "train.resume_accepts=[train.max_steps,train.eval_every]"))
    assert (tmp_path / "run" / "checkpoints" / "step-0000003").is_dir()


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_a_crash_during_the_export_leaves_the_previous_model_whole_and_a_rerun_exports(tiny_config, tmp_path,
                                                                                        monkeypatch):
    model_dir = train(tiny_config(*SHORT))
    exported = digests(model_dir)
    longer = [*SHORT, "train.max_steps=4", "train.resume_accepts=[train.max_steps]"]

    def crash(*args, **kwargs):  # after the weights, before the card: the export is half written
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "model_card", crash)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_config(*longer))
    assert digests(model_dir) == exported  # the previous export, not its weights with the new ones
    monkeypatch.undo()
    train(tiny_config(*longer))
    assert digests(model_dir) != exported and "steps: 4" in (model_dir / "README.md").read_text()
    assert sorted(p.name for p in model_dir.parent.iterdir() if p.name.startswith("model")) == ["model"]


@pytest.mark.parametrize("earlier", [False, True], ids=["first export", "over an earlier export"])
def test_kill_9_during_the_export_then_a_rerun_gives_a_whole_model(tiny_config, tmp_path, earlier):
    output = tmp_path / "run"
    command = [sys.executable, "-m", "newsbrief", "train", str(TINY_CONFIG), *tiny_overrides(output), *SHORT]
    if earlier:  # the killed run goes on from it to export again
        exported = digests(train(tiny_config(*SHORT)))
        command += ["train.max_steps=4", "train.resume_accepts=[train.max_steps]"]
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (output / "model.tmp").exists():
        assert first.poll() is None and time.monotonic() < deadline, "the run ended before its export"
        time.sleep(0.002)
    first.send_signal(signal.SIGKILL)
    first.wait()
    if earlier:  # the earlier export, whole, and it loads
        assert digests(output / "model") == exported
        assert NewsBrief.from_pretrained(output / "model").predict(["Acme Corp said profit rose."])[0].summary is not None
    else:
        assert not (output / "model").exists()  # nothing that could load half an export
    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert not (output / "model.tmp").exists() and (output / "model" / "README.md").is_file()
    assert NewsBrief.from_pretrained(output / "model").predict(["Acme Corp said profit rose."])[0].summary is not None
    if earlier:
        assert digests(output / "model") != exported and "steps: 4" in (output / "model" / "README.md").read_text()
