"""The real `train(cfg)` on the tiny config: export, reload, resume, and a kill -9 in the middle."""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import torch
from safetensors.torch import load_file

from newsbrief.labels import LabelSpace
from newsbrief.infer.engine import NewsBrief
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.lora import ADAPTER_WEIGHTS
from newsbrief.models.model_dir import read_run_config
from newsbrief.train.checkpointing import load_weights
from newsbrief.train.loop import build_model, train
from newsbrief.train.validation import run_briefer

from tests.conftest import ROOT, TINY_CONFIG, tiny_overrides

TEXTS = ["Acme Corp said quarterly profit rose 12 percent on strong sales.",
         "Leeds beat Celtic 2-1 in the league match on Saturday.",
         "Crude oil prices rose to 19 dlrs a barrel on supply worries."]


def test_export_holds_everything_and_reloads_to_the_best_checkpoints_predictions(tiny_model_dir):
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"model.safetensors", "topic_head.safetensors", "labels.json", "newsbrief.yaml", "README.md",
            "generation_config.json", "tokenizer.json"} <= names
    card = (tiny_model_dir / "README.md").read_text()
    assert "topic_micro_f1" in card and "training time" in card

    exported = NewsBrief.from_pretrained(tiny_model_dir, device="cpu", dtype="fp32")  # as the rebuilt model runs
    config = read_run_config(tiny_model_dir)
    labels, thresholds = LabelSpace.load(tiny_model_dir / "labels.json")
    tokenizer = load_tokenizer(config.model)
    rebuilt = build_model(config, tokenizer, labels)
    checkpoints = tiny_model_dir.parent / "checkpoints"
    scores = json.loads((max(checkpoints.iterdir()) / "trainer_state.json").read_text())["scores"]
    load_weights(rebuilt, checkpoints / min(scores, key=scores.get) / "model.safetensors")  # best = lowest loss
    from_checkpoint = run_briefer(rebuilt.eval(), tokenizer, labels, thresholds, config)
    summaries_a, probs_a = exported.summarize_and_score(TEXTS)
    summaries_b, probs_b = from_checkpoint.summarize_and_score(TEXTS)
    assert summaries_a == summaries_b
    torch.testing.assert_close(torch.from_numpy(probs_a), torch.from_numpy(probs_b))


def test_resuming_from_step_n_gives_the_weights_of_an_uninterrupted_2n_run(tiny_config, tmp_path):
    overrides = ["train.max_steps=8", "train.eval_every=4", "train.save_total_limit=2", "train.tensorboard=false",
                 "train.eval_max_examples=4"]
    train(tiny_config(*overrides))
    checkpoints = tmp_path / "run" / "checkpoints"
    straight = load_file(checkpoints / "step-0000008" / "model.safetensors")

    # Simulate a crash right after the step-4 checkpoint: drop what came later, run the same config again.
    shutil.rmtree(checkpoints / "step-0000008")
    shutil.rmtree(tmp_path / "run" / "model")
    train(tiny_config(*overrides))
    resumed = load_file(checkpoints / "step-0000008" / "model.safetensors")

    assert straight.keys() == resumed.keys()
    for name in straight:  # same data order, RNG and optimizer state: equal to float32 rounding
        torch.testing.assert_close(resumed[name], straight[name], rtol=0, atol=1e-6)
    state = json.loads((checkpoints / "step-0000008" / "trainer_state.json").read_text())
    assert state["step"] == 8
    # The resumed run logged steps 5 to 8 again: each (step, split) is in metrics.jsonl once.
    logged = [(r["step"], r["split"]) for r in map(json.loads, (tmp_path / "run/logs/metrics.jsonl").read_text().splitlines())]
    assert sorted(logged) == [(4, "validation"), (5, "train"), (8, "validation")]


def test_kill_9_mid_run_then_the_same_command_resumes_and_finishes(tmp_path):
    output = tmp_path / "run"

    def command(max_steps: int) -> list[str]:
        return [sys.executable, "-m", "newsbrief", "train", str(TINY_CONFIG), *tiny_overrides(output),
                f"train.max_steps={max_steps}", "train.eval_every=5", "train.eval_max_examples=2",
                "train.tensorboard=false", "train.resume_accepts=[train.max_steps]"]

    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    first = subprocess.Popen(command(400), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((output / "checkpoints").glob("step-*[0-9]")) and time.monotonic() < deadline:
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    killed_at = max(int(p.name.split("-")[1]) for p in (output / "checkpoints").glob("step-*[0-9]"))

    # Rerun with a near horizon, accepted by name, so that the test stays short; resuming does not depend on it.
    rerun = subprocess.run(command(killed_at + 5), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert f"resuming from {output / 'checkpoints'}" in rerun.stdout + rerun.stderr
    assert (output / "model" / "model.safetensors").is_file()
    assert not list((output / "checkpoints").glob("*.tmp"))


def test_lora_training_exports_a_delta_that_briefs(tiny_lora_config):
    config = tiny_lora_config("train.max_steps=3", "train.eval_every=3", "train.eval_max_examples=4",
                              "train.tensorboard=false")
    model_dir = train(config)
    assert (model_dir / ADAPTER_WEIGHTS).is_file() and not (model_dir / "model.safetensors").exists()
    briefs = NewsBrief.from_pretrained(model_dir, device="cpu").predict(TEXTS)
    assert [b.id for b in briefs] == ["0", "1", "2"]


def test_a_step_the_fp16_scaler_skips_does_not_advance_the_schedule(tiny_config, tmp_path, monkeypatch):
    """fp16's gradient scaler skips an optimizer step whose gradients overflowed; the learning-rate schedule
    must not move on for it. A CPU has no scaler, so every step is made to read as skipped."""
    from accelerate import Accelerator

    monkeypatch.setattr(Accelerator, "optimizer_step_was_skipped", property(lambda self: True))
    train(tiny_config("train.max_steps=3", "train.eval_every=3", "train.warmup_steps=2", "train.tensorboard=false",
                      "train.eval_max_examples=2", "train.tune_thresholds=false"))
    schedule = json.loads((tmp_path / "run" / "checkpoints" / "step-0000003" / "scheduler.json").read_text())
    assert schedule["last_epoch"] == 0  # still at the start of the warmup
    state = json.loads((tmp_path / "run" / "checkpoints" / "step-0000003" / "trainer_state.json").read_text())
    assert state["step"] == 3


def test_export_best_false_exports_the_last_checkpoint_not_the_best(tiny_config, tmp_path):
    overrides = ["train.max_steps=8", "train.eval_every=4", "train.save_total_limit=2", "train.tensorboard=false",
                 "train.eval_max_examples=4", "train.resume_accepts=[train.export_best]"]
    train(tiny_config(*overrides))
    checkpoints = tmp_path / "run" / "checkpoints"
    state_file = checkpoints / "step-0000008" / "trainer_state.json"
    state = json.loads(state_file.read_text())
    state["scores"]["step-0000004"] = -1.0  # validation's best (lowest loss) is the earlier checkpoint
    state_file.write_text(json.dumps(state))
    manifest = json.loads((checkpoints / "step-0000008" / "manifest.json").read_text())
    manifest[state_file.name] = [state_file.stat().st_size, hashlib.sha256(state_file.read_bytes()).hexdigest()]
    (checkpoints / "step-0000008" / "manifest.json").write_text(json.dumps(manifest))

    def exported_is(step: int) -> bool:
        exported = load_file(tmp_path / "run" / "model" / "model.safetensors")
        checkpoint = load_file(checkpoints / f"step-{step:07d}" / "model.safetensors")
        stored = [name for name in exported if f"seq2seq.{name}" in checkpoint]
        return bool(stored) and all(torch.equal(exported[name], checkpoint[f"seq2seq.{name}"]) for name in stored)

    train(tiny_config(*overrides))  # a finished run exports again
    assert exported_is(4) and not exported_is(8)
    train(tiny_config(*overrides, "train.export_best=false"))
    assert exported_is(8) and not exported_is(4)
