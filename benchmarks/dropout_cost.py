"""What dropout costs a training step on CPU: the default model's config as shipped (no dropout) against
the same config with the usual dropout back on (BERT's 0.1 on hidden states and attention, 0.05 on the
LoRA branches), in one run, step by step in turn.

On CPU, drawing dropout's random masks (`aten::bernoulli_`) took a quarter of a step in a profile of
this model. Both peers build the model from the same seed and train on the same real batches (the loop's
own `epoch_batches` over configs/default-model.yaml's corpora, one epoch's batches in a seeded random
order, so long and short articles both come up), forward, backward and optimizer step, in fp32. The
peers take each batch in turn, and which goes first alternates: run one after the other, the peers gave
a ratio of 1.27 where this gives 1.73, most likely because the second found each batch shape's kernels
already set up. The first --warmup steps are left out of each peer's time.

    python benchmarks/dropout_cost.py [--steps 32]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
USUAL_DROPOUT = ["model.lora.dropout=0.05", "model.config_overrides.hidden_dropout_prob=0.1",
                 "model.config_overrides.attention_probs_dropout_prob=0.1"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=32, help="timed training steps per peer (default 32)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps before them (default 2)")
    args = parser.parse_args()
    os.chdir(REPO)  # the config's data paths are relative to the repository root

    from newsbrief.config import load_config
    from newsbrief.data import Collator, epoch_batches
    from newsbrief.data import MODEL_COLUMNS
    from train_throughput import prepare_data

    config = load_config("configs/default-model.yaml")
    tokenizer, labels, train_set = prepare_data(config)
    order = epoch_batches(train_set["length"], config.train.batch_size, config.train.seed, 0, True)
    random.Random(0).shuffle(order)
    examples = train_set.select_columns(MODEL_COLUMNS)
    collate = Collator(tokenizer.pad_token_id)
    batches = [collate([examples[i] for i in batch]) for batch in order[:args.warmup + args.steps]]
    tokens = sum(batch["input_ids"].numel() for batch in batches[args.warmup:]) / args.steps
    print(f"{args.steps} steps of {config.train.batch_size} articles, {tokens:.0f} article tokens a step on average")

    peers = {"as shipped": config,
             "usual dropout": load_config("configs/default-model.yaml", USUAL_DROPOUT)}
    seconds = alternating_step_seconds(peers, labels, tokenizer, batches)[args.warmup:]
    for name in peers:
        print(f"{name:>14}: {statistics.mean(step[name] for step in seconds):.2f} s a step")
    # The median of the paired per-batch ratios: one step slowed by the machine moves it little.
    ratios = [step["usual dropout"] / step["as shipped"] for step in seconds]
    print(f"ratio: usual dropout / as shipped = {statistics.median(ratios):.2f} "
          f"(median over the {len(ratios)} batches; quartiles {statistics.quantiles(ratios, n=4)[0]:.2f}"
          f"-{statistics.quantiles(ratios, n=4)[2]:.2f})")


def alternating_step_seconds(peers: dict, labels, tokenizer, batches) -> list[dict[str, float]]:
    """Seconds of each batch's training step for each peer's config, the peers taking each batch in turn."""
    from accelerate.utils import set_seed

    from newsbrief.train.loop import build_model
    from newsbrief.train.optim import make_optimizer

    trainers = {}
    for name, config in peers.items():
        set_seed(config.train.seed)
        model = build_model(config, tokenizer, labels)
        model.train()
        trainers[name] = (model, make_optimizer(model, config.train, config.train.learning_rate))
    seconds = []
    for i, batch in enumerate(batches):
        step = {}
        for name in list(trainers) if i % 2 == 0 else list(reversed(trainers)):
            model, optimizer = trainers[name]
            started = time.perf_counter()
            model(**batch).loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step[name] = time.perf_counter() - started
        seconds.append(step)
    return seconds


if __name__ == "__main__":
    main()
