"""Training throughput: NewsBrief's own loop against Hugging Face's Seq2SeqTrainer, in one run on CPU.

What is measured: training examples per second over the same number of optimizer steps, for the same
NewsBriefModel (summary cross-entropy + masked topic BCE, built by `newsbrief.train.loop.build_model`),
the same tokenized real articles (Reuters, BBC, AG News from ../shared/data, read and tokenized with
newsbrief.data as configs/minilm-news.yaml says), the same batch size, fp32, the same learning rate,
warm-up, weight decay and seed. Three peers run one after another in this process:

  newsbrief          `newsbrief.train.loop.train(config)`, which batches articles of similar length together
  trainer            Seq2SeqTrainer with its default random batches (how users run it), compute_loss
                     returning `model(**inputs).loss`, collator `newsbrief.data.Collator`
  trainer-grouped    the same Trainer with `train_sampling_strategy="group_by_length"` (transformers 5.x's
                     name for the former `group_by_length=True`), for honesty: most of NewsBrief's lead
                     comes from less padding, which the Trainer can also have when asked

Only training steps are timed (data loading and collation inside the steps included; reading and
tokenizing the corpora, building the model, the loop's final evaluation and export are not), and the
first `--warmup` steps are excluded for every peer. The same steps are timed for every peer, so as long
as no peer reaches the end of the training set (checked and reported), every peer is timed on the same
number of examples.

How each peer is timed:
  newsbrief  the loop logs `examples_per_second` into <output_dir>/logs/metrics.jsonl; with
             train.log_every=1 each record covers exactly one step (from the previous log call to this
             one). The step's examples are known exactly because the loop's batches are a pure function,
             `newsbrief.data.epoch_batches(lengths, batch_size, seed, epoch, group_by_length)`, so each
             step's seconds = its examples / its logged rate. Timed seconds sum over the timed steps.
  trainer    a TrainerCallback takes the wall time at every on_step_end; the collator records each
             batch's size and padding in the order batches are made (with gradient accumulation 1, batch
             k is step k). Timed seconds = time at the last step's end - time at the warm-up's last end.

Padding fraction: padding tokens / all tokens in the padded input_ids and labels tensors of the timed
steps, computed from the unpadded lengths the same way for every peer.

All peers run on the CPU (CUDA is hidden from this process) with torch's default thread settings.
"""

from __future__ import annotations

import os

os.environ["CUDA_VISIBLE_DEVICES"] = ""  # a CPU benchmark for every peer, even on a machine with a GPU

import argparse
import gc
import json
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


@dataclass
class Result:
    peer: str
    steps: int
    examples: int
    seconds: float
    padding: float
    note: str = ""

    @property
    def rate(self) -> float:
        return self.examples / self.seconds


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
    parser.add_argument("--tiny", action="store_true",
                        help="use configs/tiny.yaml's model section (random tiny BERT2BERT): a quick smoke test")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = max(1, min(5, args.steps // 3))
    if not 1 <= args.warmup < args.steps:  # the Trainer's clock starts at the end of a step
        parser.error(f"--warmup must be in [1, --steps); got {args.warmup} with --steps {args.steps}")
    return args


def make_config(args: argparse.Namespace, output_dir: Path):
    from newsbrief.config import ModelConfig, from_dict, load_config

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
        "train.log_every=1",                       # one throughput record per step
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


def run_newsbrief(config, train_set, warmup: int) -> Result:
    from newsbrief.train.loop import train

    steps = config.train.max_steps
    train(config)
    records = [json.loads(line) for line in (Path(config.train.output_dir) / "logs" / "metrics.jsonl").open()]
    rates = {r["step"]: r["examples_per_second"] for r in records if r["split"] == "train"}
    missing = [s for s in range(warmup + 1, steps + 1) if s not in rates]
    if missing:
        sys.exit(f"train_throughput: no examples_per_second logged for steps {missing[:5]}...")
    input_lengths, label_lengths = train_set["length"], [len(ids) for ids in train_set["labels"]]
    batches = newsbrief_batches(train_set, config, steps)
    count, seconds = PaddingCount(), 0.0
    for step, batch in enumerate(batches[warmup:], start=warmup + 1):
        count.add([input_lengths[i] for i in batch], [label_lengths[i] for i in batch])
        seconds += len(batch) / rates[step]
    wrapped = steps * config.train.batch_size > len(train_set)
    return Result("newsbrief", steps - warmup, count.examples, seconds, count.fraction(),
                  "passed the end of the training set" if wrapped else "")


def run_trainer(config, tokenizer, labels, train_set, warmup: int, grouped: bool, output_dir: Path) -> Result:
    from accelerate.utils import set_seed
    from transformers import Seq2SeqTrainer, Seq2SeqTrainingArguments, TrainerCallback

    from newsbrief.data import Collator
    from newsbrief.train.loop import build_model
    from newsbrief.train.validation import MODEL_COLUMNS

    tc = config.train

    class RecordingCollator(Collator):
        """newsbrief.data.Collator that also notes each batch's lengths, in the order batches are made."""

        def __init__(self, pad_token_id: int):
            super().__init__(pad_token_id)
            self.lengths: list[tuple[list[int], list[int]]] = []

        def __call__(self, examples):
            self.lengths.append(([len(e["input_ids"]) for e in examples], [len(e["labels"]) for e in examples]))
            return super().__call__(examples)

    class StepClock(TrainerCallback):
        def __init__(self):
            self.ends: list[float] = []

        def on_step_end(self, args, state, control, **kwargs):
            self.ends.append(time.perf_counter())

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
    clock = StepClock()
    trainer = MultitaskTrainer(model=model, args=args,
                               train_dataset=train_set.select_columns(MODEL_COLUMNS + ["length"]),
                               data_collator=collator, processing_class=tokenizer, callbacks=[clock])
    trainer.train()
    steps = tc.max_steps
    if len(clock.ends) != steps or len(collator.lengths) < steps:
        sys.exit(f"train_throughput: the Trainer ran {len(clock.ends)} steps and made {len(collator.lengths)} "
                 f"batches; expected {steps}")
    count = PaddingCount()
    for inputs, targets in collator.lengths[warmup:steps]:
        count.add(inputs, targets)
    seconds = clock.ends[steps - 1] - clock.ends[warmup - 1]
    wrapped = steps * tc.batch_size > len(train_set)
    del trainer, model
    gc.collect()
    return Result("trainer-grouped" if grouped else "trainer", steps - warmup, count.examples, seconds,
                  count.fraction(), "passed the end of the training set" if wrapped else "")


def main() -> None:
    args = parse_args()
    if not DATA.is_dir():
        sys.exit(f"train_throughput: no data folder at {DATA}; the benchmark reads the shared news corpora there")
    import datasets
    import torch

    datasets.disable_progress_bars()
    with tempfile.TemporaryDirectory(prefix="newsbrief-throughput-") as tmp:
        tmp = Path(tmp)
        config = make_config(args, tmp / "newsbrief")
        tokenizer, labels, train_set = prepare_data(config)
        backbone = "tiny random (configs/tiny.yaml)" if args.tiny else config.model.backbone
        print(f"model {backbone}; {len(train_set)} training examples; batch {args.batch_size}; {args.steps} steps, "
              f"first {args.warmup} untimed; fp32 on CPU, {torch.get_num_threads()} torch threads", flush=True)
        results = [run_newsbrief(config, train_set, args.warmup)]
        gc.collect()
        results.append(run_trainer(config, tokenizer, labels, train_set, args.warmup, False, tmp / "trainer"))
        results.append(run_trainer(config, tokenizer, labels, train_set, args.warmup, True, tmp / "trainer-grouped"))

    print()
    print(f"{'peer':<16} {'steps':>5} {'examples':>8} {'seconds':>8} {'examples/s':>10} {'padding':>8}")
    for r in results:
        print(f"{r.peer:<16} {r.steps:>5} {r.examples:>8} {r.seconds:>8.2f} {r.rate:>10.2f} {r.padding:>8.1%}"
              + (f"  ({r.note})" if r.note else ""))
    if len({r.examples for r in results}) != 1:
        print("note: the peers were timed on different numbers of examples (a partial batch at an epoch's end); "
              "raise --max-examples so that steps x batch size fits in the training set")
    newsbrief, trainer, grouped = results
    print(f"ratio newsbrief/trainer-grouped: {newsbrief.rate / grouped.rate:.2f}")
    print(f"ratio newsbrief/trainer: {newsbrief.rate / trainer.rate:.2f}")


if __name__ == "__main__":
    main()
