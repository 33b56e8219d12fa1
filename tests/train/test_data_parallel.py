"""`accelerate launch` with two CPU processes (gloo) takes the same steps as one process given the same
global batch: the processes split each batch between them and, together, see it once.

What is compared are the gradients of steps 1 and 2, read back from Adam's first moment in the
checkpoints (m1 = (1 - b1) g1, m2 = b1 m1 + (1 - b1) g2). Weights are a weaker check: Adam's first update
is lr * sign(gradient) whatever the gradient's size. A wrong split changes the gradients: each process
drawing a whole global batch of its own (what `Accelerator(split_batches=True)` silently did under
Accelerate 1.x, with no gradient sync either, as the encoder pooler's missing gradient stalled DDP's
reduction) trains on other examples from step 2 on; a global batch not scaled by the number of processes
trains on half the examples; a launch that starts one process instead of two (`accelerate launch --cpu
--num_processes 2` does, without MPI) sees only the first half of each batch. A split that gave both
processes the same whole batch would give the same gradients at twice the cost; nothing a run writes
tells that apart.

The runs match only if the mean of the two per-process losses is the loss of the whole batch. The
summary loss is a mean over target tokens and the topic loss a mean over annotated cells, so both halves
must hold as many of each: one source (one label set, every cell annotated) and titles cut to
data.max_target_length tokens (every fixture title is longer).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import torch
from safetensors.torch import load_file

from newsbrief.config import load_config
from newsbrief.train.loop import train

from tests.conftest import ROOT, TINY_CONFIG, tiny_overrides

GLOBAL_BATCH = 8
PROCESSES = 2
BETA1 = 0.9
"""TrainConfig.adam_betas[0], as the tiny config leaves it."""
TOLERANCE = 1e-5
"""Largest absolute gradient difference allowed. Gradients here reach ~2; the runs differ only in
float32 summation order (each process pads to its own longest article, gloo adds the halves), measured
at ~4e-7. Training on other examples moves gradients by 1e-2 or more (0.8 for half the batch)."""


def same_steps_overrides(output_dir, per_process_batch: int) -> list[str]:
    """Two steps on the news fixture with dropout off and a checkpoint after each. No clipping: it would
    rescale both runs alike, but the optimizer state should hold the raw gradient. A small learning rate
    keeps step 2's gradient nearly at the starting weights, so that Adam's sign-like first update cannot
    turn a rounding difference near zero into a visible one."""
    return tiny_overrides(output_dir) + [
        f"data.sources=[{{path: {ROOT / 'tests/fixtures/tiny_news.jsonl'}, name: news, summary_column: title}}]",
        "data.max_target_length=4",
        "model.config_overrides={hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4, "
        "intermediate_size: 37, hidden_dropout_prob: 0.0, attention_probs_dropout_prob: 0.0}",
        "model.topic_dropout=0.0",
        f"train.batch_size={per_process_batch}", "train.max_steps=2", "train.eval_every=1",
        "train.learning_rate=1e-5", "train.warmup_steps=0", "train.max_grad_norm=0",
        "train.eval_max_examples=2", "train.tune_thresholds=false", "train.tensorboard=false",
    ]


def gradients(run_dir) -> list[dict[str, torch.Tensor]]:
    """The gradients of steps 1 and 2, from the first moments in the step-1 and step-2 checkpoints."""

    def first_moments(step: int) -> dict[str, torch.Tensor]:
        state = load_file(run_dir / "checkpoints" / f"step-{step:07d}" / "optimizer.safetensors")
        return {name: m for name, m in state.items() if name.endswith(".exp_avg")}

    m1, m2 = first_moments(1), first_moments(2)
    return [{n: m / (1 - BETA1) for n, m in m1.items()},
            {n: (m2[n] - BETA1 * m1[n]) / (1 - BETA1) for n in m1}]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_processes_take_the_steps_of_one_process_with_the_same_global_batch(tmp_path):
    # `--cpu --num_processes 2` starts a single process unless MPI is set up (Accelerate 1.15); the
    # torchrun launcher behind --multi_gpu starts two, and ACCELERATE_USE_CPU makes them join over gloo.
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", f"--num_processes={PROCESSES}",
              "--num_machines=1", "--mixed_precision=no", "--dynamo_backend=no", "--num_cpu_threads_per_process=1",
              f"--main_process_port={free_port()}", "-m", "newsbrief", "train", str(TINY_CONFIG),
              *same_steps_overrides(tmp_path / "two", GLOBAL_BATCH // PROCESSES)]
    env = {**os.environ, "ACCELERATE_USE_CPU": "true", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    two = subprocess.run(launch, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    launch_seconds = time.perf_counter() - started
    assert two.returncode == 0, two.stderr[-3000:]
    train(load_config(TINY_CONFIG, same_steps_overrides(tmp_path / "one", GLOBAL_BATCH)))

    for step, (split, whole) in enumerate(zip(gradients(tmp_path / "two"), gradients(tmp_path / "one")), start=1):
        assert split.keys() == whole.keys()
        difference = max((split[n] - whole[n]).abs().max().item() for n in whole)
        size = max(g.abs().max().item() for g in whole.values())
        print(f"step {step}: largest gradient {size:.3f}, largest difference {difference:.1e} "
              f"(2-process launch {launch_seconds:.1f} s)")
        assert size > 1e3 * TOLERANCE  # a gradient worth comparing
        assert difference <= TOLERANCE, f"step {step}"
