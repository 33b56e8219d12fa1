"""Training throughput: NewsBrief's own loop against Hugging Face's Seq2SeqTrainer, on CPU, in rounds.

What is measured: real (non-padding) tokens per second, and examples per second beside it, over the same
number of optimizer steps, for the same NewsBriefModel (summary cross-entropy + masked topic BCE, built
by `newsbrief.train.loop.build_model`), the same tokenized real articles (Reuters, BBC, AG News from
../shared/data, read and tokenized with newsbrief.data as configs/minilm-news.yaml says), the same batch
size, fp32, the same learning rate, warm-up, weight decay and seed. Three peers:

  newsbrief          `newsbrief.train.loop.train(config)`, which batches articles of similar length together
  trainer            Seq2SeqTrainer with its default random batches (how users run it), compute_loss
                     returning `model(**inputs).loss`, collator `newsbrief.data.Collator`
  trainer-grouped    the same Trainer with `train_sampling_strategy="group_by_length"` (transformers 5.x's
                     name for the former `group_by_length=True`), for honesty: most of NewsBrief's lead
                     comes from less padding, which the Trainer can also have when asked

Why tokens: each peer draws its own batches, so its timed steps carry a different mix of article
lengths (with the shipped seed NewsBrief's carried 142 real tokens per example against the peers'
152-166); examples/s alone would credit that chance to the faster peer. Real tokens are the work every
peer must do; padding is the work a peer chooses to waste, so it is not counted.

How every peer is timed, the same way: a global optimizer-step hook
(`torch.optim.optimizer.register_optimizer_step_post_hook`) notes the clock at the end of every
optimizer step, whoever's loop calls it. A peer's timed seconds = the clock at its last step's end - the
clock at the end of its `--warmup` untimed steps (its own warm-up, every run). Data loading and collation
inside the steps count; reading and tokenizing the corpora, building the model, the loop's final
evaluation and export do not. Each peer's batches are recorded as they are collated (NewsBrief's loop
collates with `newsbrief.data.Collator` too), so tokens and padding are counted from the batches it ran.

Rounds: the peers run `--rounds` times (default 3), in a rotated order (each peer first in one round), so
that neither a cold first run nor drift in a shared machine's load favours one of them. Printed: each
run, and per peer pair the median of the per-round ratios with their range.

All peers run on the CPU (CUDA is hidden from this process) with torch's default thread settings.
"""

from __future__ import annotations

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""  # a CPU benchmark for every peer, even on a machine with a GPU

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
CONFIG = REPO / "configs" / "minilm-news.yaml"
TINY_CONFIG = REPO / "configs" / "tiny.yaml"


PEERS = ("newsbrief", "trainer", "trainer-grouped")


@dataclass
class Result:
    peer: str
    round: int
    steps: int
    count: "PaddingCount"
    seconds: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.count.examples / self.seconds

    @property
    def token_rate(self) -> float:
        """Real (non-padding) input and label tokens per second."""
        return self.count.real / self.seconds


class StepClock:
    """The clock at the end of every optimizer step, of any optimizer, while in the `with` block: one
    measurement for every peer, outside all of them."""

    def __enter__(self) -> "StepClock":
        from torch.optim.optimizer import register_optimizer_step_post_hook

        self.ends: list[float] = []
        self.handle = register_optimizer_step_post_hook(lambda *_: self.ends.append(time.perf_counter()))
        return self

    def __exit__(self, *exc) -> None:
        self.handle.remove()

    def timed_seconds(self, peer: str, warmup: int, steps: int) -> float:
        """From the end of the warm-up's last step to the end of the last step."""
        if len(self.ends) < steps:
            sys.exit(f"train_throughput: {peer} took {len(self.ends)} optimizer steps; expected {steps}")
        return self.ends[steps - 1] - self.ends[warmup - 1]


class PaddingCount:
    """Examples, real tokens and padded tokens of a sequence of batches (input_ids and labels together)."""

    def __init__(self):
        self.examples = 0
        self.real = 0
        self.padded = 0

    def add(self, input_lengths: list[int], label_lengths: list[int]) -> None:
        n = len(input_lengths)
        self.examples += n
        # newsbrief.data._pad pads every tensor to max(1, longest row).
        self.real += sum(input_lengths) + sum(label_lengths)
        self.padded += n * (max(1, max(input_lengths)) + max(1, max(label_lengths)))

    def fraction(self) -> float:
        return 1.0 - self.real / max(self.padded, 1)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per peer (default 30)")
    parser.add_argument("--batch-size", type=int, default=16, help="examples per step (default 16)")
    parser.add_argument("--max-examples", type=int, default=400,
                        help="examples read from each source and split (data.sources.N.max_examples; default 400)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="first steps left out of the timing for every peer, at least 1 "
                             "(default min(5, steps // 3))")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times each peer runs, in rotated order; the ratios' median is reported (default 3)")
    parser.add_argument("--tiny", action="store_true",
                        help="use configs/tiny.yaml's model section (random tiny BERT2BERT): a quick smoke test")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = max(1, min(5, args.steps // 3))
    if not 1 <= args.warmup < args.steps:  # the clock starts at the end of a step
        parser.error(f"--warmup must be in [1, --steps); got {args.warmup} with --steps {args.steps}")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def make_config(args: argparse.Namespace, output_dir: Path):
    from newsbrief.config import ModelConfig, load_config
    from newsbrief.config_parsing import from_dict

    raw = yaml.safe_load(CONFIG.read_text())
    overrides = []
    for i, source in enumerate(raw["data"]["sources"]):
        path = DATA / Path(source["path"]).name
        if not path.is_file():
            sys.exit(f"train_throughput: {path} is missing; the benchmark needs the shared corpora in {DATA}")
        overrides += [f"data.sources.{i}.path={json.dumps(str(path))}",
                      f"data.sources.{i}.max_examples={args.max_examples}"]
    overrides += [
        f"train.output_dir={json.dumps(str(output_dir))}",
        f"train.max_steps={args.steps}",
        f"train.batch_size={args.batch_size}",
        "train.gradient_accumulation_steps=1",
        f"train.warmup_steps={args.steps // 10}",  # the config's 100 would exceed a short run
        "train.precision=fp32",
        "train.group_by_length=true",
        f"train.log_every={args.steps}",           # the Trainer peers log nothing either
        f"train.eval_every={args.steps}",          # no evaluation before the last step
        "train.eval_max_examples=8",               # the untimed final evaluation and export stay short
        "train.tune_thresholds=false",
        "train.tensorboard=false",
        "train.resume=false",
        "train.num_workers=0",
    ]
    config = load_config(CONFIG, overrides)
    if args.tiny:
        config.model = from_dict(ModelConfig, yaml.safe_load(TINY_CONFIG.read_text())["model"], "model")
        config.validate()
    return config


def prepare_data(config):
    """The training set exactly as `train(config)` builds it: same reading, label space and tokenization."""
    from newsbrief.data import concatenate, read_corpora, tokenize
    from newsbrief.labels import LabelSpace
    from newsbrief.models.backbone import load_tokenizer

    tokenizer = load_tokenizer(config.model)
    corpora = read_corpora(config.data)
    labels = LabelSpace.from_training_data(corpora["train"], config.data.sources, config.data.min_label_count)
    train_set = tokenize(concatenate(corpora["train"]), tokenizer, config.data, labels)
    return tokenizer, labels, train_set


def newsbrief_batches(train_set, config, steps: int) -> list[list[int]]:
    """The example indices of each step of `train(config)`: the loop's own pure batch function, epoch by epoch."""
    from newsbrief.data import epoch_batches, source_repeats

    tc = config.train
    lengths = train_set["length"]
    repeats = source_repeats(train_set, config.data)
    batches: list[list[int]] = []
    epoch = 0
    while len(batches) < steps:
        batches += epoch_batches(lengths, tc.batch_size, tc.seed, epoch, tc.group_by_length, repeats)
        epoch += 1
    return batches[:steps]


def run_newsbrief(config, train_set, warmup: int, round_: int, output_dir: Path) -> Result:
    from newsbrief.train.loop import train

    config.train.output_dir = str(output_dir)
    steps = config.train.max_steps
    with StepClock() as clock:
        train(config)
    input_lengths, label_lengths = train_set["length"], [len(ids) for ids in train_set["labels"]]
    count = PaddingCount()
    for batch in newsbrief_batches(train_set, config, steps)[warmup:]:
        count.add([input_lengths[i] for i in batch], [label_lengths[i] for i in batch])
    wrapped = steps * config.train.batch_size > len(train_set)
    return Result("newsbrief", round_, steps - warmup, count, clock.timed_seconds("newsbrief", warmup, steps),
                  "passed the end of the training set" if wrapped else "")


def run_trainer(config, tokenizer, labels, train_set, warmup: int, grouped: bool, round_: int,
                output_dir: Path) -> Result:
    from accelerate.utils import set_seed
    from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments

    from newsbrief.data import Collator
    from newsbrief.train.loop import build_model
    from newsbrief.data import MODEL_COLUMNS

    tc = config.train

    class RecordingCollator(Collator):
        """newsbrief.data.Collator that also notes each batch's lengths, in the order batches are made."""

        def __init__(self, pad_token_id: int):
            super().__init__(pad_token_id)
            self.lengths: list[tuple[list[int], list[int]]] = []

        def __call__(self, examples):
            self.lengths.append(([len(e["input_ids"]) for e in examples], [len(e["labels"]) for e in examples]))
            return super().__call__(examples)

    class MultitaskTrainer(Seq2SeqTrainer):
        """What a user writes for a multi-task model whose forward returns its own loss."""

        loss_is_scaled_for_ga = False  # a per-batch mean

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            outputs = model(**inputs)
            return (outputs.loss, outputs) if return_outputs else outputs.loss

    set_seed(tc.seed)
    model = build_model(config, tokenizer, labels)
    schedule = "constant_with_warmup" if tc.schedule == "constant" else tc.schedule
    args = Seq2SeqTrainingArguments(
        output_dir=str(output_dir),
        per_device_train_batch_size=tc.batch_size,
        gradient_accumulation_steps=1,
        max_steps=tc.max_steps,
        learning_rate=tc.learning_rate,
        weight_decay=tc.weight_decay,
        adam_beta1=tc.adam_betas[0],
        adam_beta2=tc.adam_betas[1],
        max_grad_norm=tc.max_grad_norm,
        warmup_steps=tc.warmup_steps,
        lr_scheduler_type=schedule,
        seed=tc.seed,
        train_sampling_strategy="group_by_length" if grouped else "random",
        length_column_name="length",
        eval_strategy="no",
        save_strategy="no",
        logging_strategy="no",
        report_to=[],
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
    collator = RecordingCollator(tokenizer.pad_token_id)
    trainer = MultitaskTrainer(model=model, args=args,
                               train_dataset=train_set.select_columns(MODEL_COLUMNS + ["length"]),
                               data_collator=collator, processing_class=tokenizer)
    peer = "trainer-grouped" if grouped else "trainer"
    steps = tc.max_steps
    with StepClock() as clock:
        trainer.train()
    seconds = clock.timed_seconds(peer, warmup, steps)
    if len(collator.lengths) < steps:
        sys.exit(f"train_throughput: the Trainer made {len(collator.lengths)} batches; expected {steps}")
    count = PaddingCount()
    for inputs, targets in collator.lengths[warmup:steps]:  # gradient accumulation 1: batch k is step k
        count.add(inputs, targets)
    wrapped = steps * tc.batch_size > len(train_set)
    del trainer, model
    return Result(peer, round_, steps - warmup, count, seconds, "passed the end of the training set" if wrapped else "")


def main() -> None:
    args = parse_args()
    if not DATA.is_dir():
        sys.exit(f"train_throughput: no data folder at {DATA}; the benchmark reads the shared news corpora there")
    import datasets
    import torch

    datasets.disable_progress_bars()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="newsbrief-throughput-") as tmp:
        tmp = Path(tmp)
        config = make_config(args, tmp / "newsbrief")
        tokenizer, labels, train_set = prepare_data(config)
        backbone = "tiny random (configs/tiny.yaml)" if args.tiny else config.model.backbone
        print(f"model {backbone}; {len(train_set)} training examples; batch {args.batch_size}; {args.steps} steps, "
              f"first {args.warmup} untimed; {args.rounds} rounds; fp32 on CPU, {torch.get_num_threads()} torch "
              f"threads", flush=True)
        print_row(None)
        for round_ in range(args.rounds):
            for peer in PEERS[round_ % len(PEERS):] + PEERS[:round_ % len(PEERS)]:
                output_dir = tmp / f"{peer}-{round_}"
                if peer == "newsbrief":
                    result = run_newsbrief(config, train_set, args.warmup, round_, output_dir)
                else:
                    result = run_trainer(config, tokenizer, labels, train_set, args.warmup,
                                         peer == "trainer-grouped", round_, output_dir)
                gc.collect()
                results.append(result)
                print_row(result)

    print()
    for other in ("trainer-grouped", "trainer"):
        for unit, rate in (("real tokens/s", "token_rate"), ("examples/s", "rate")):
            ratios = [getattr(ours, rate) / getattr(theirs, rate) for ours in results for theirs in results
                      if ours.peer == "newsbrief" and theirs.peer == other and ours.round == theirs.round]
            print(f"ratio newsbrief/{other}, {unit}: median {statistics.median(ratios):.2f} "
                  f"(range {min(ratios):.2f}-{max(ratios):.2f} over {len(ratios)} rounds)")


def print_row(r: Result | None) -> None:
    if r is None:
        print(f"{'peer':<16} {'round':>5} {'steps':>5} {'examples':>8} {'tokens/ex':>9} {'seconds':>8} "
              f"{'examples/s':>10} {'tokens/s':>9} {'padding':>8}")
        return
    print(f"{r.peer:<16} {r.round:>5} {r.steps:>5} {r.count.examples:>8} {r.count.real / r.count.examples:>9.1f} "
          f"{r.seconds:>8.2f} {r.rate:>10.2f} {r.token_rate:>9.0f} {r.count.fraction():>8.1%}"
          + (f"  ({r.note})" if r.note else ""), flush=True)


if __name__ == "__main__":
    main()
