"""The training loop, top to bottom in one function; periodic work lives in the small helpers below it."""

from __future__ import annotations

import logging
import os
import shutil
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import datasets
import numpy as np
import torch
from accelerate import Accelerator
from accelerate.utils import DataLoaderConfiguration, DistributedDataParallelKwargs, set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from newsbrief.config import RunConfig
from newsbrief.data import MODEL_COLUMNS, Collator, concatenate, epoch_batches, read_corpora, source_repeats, tokenize
from newsbrief.data_errors import DataError
from newsbrief.disk import replace_folder, temporary_path
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import apply_generation_settings, build_seq2seq, load_tokenizer
from newsbrief.models.frozen_summarizer import freeze_summarizer
from newsbrief.models.model_dir import save_model
from newsbrief.models.lora import add_lora
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.run_lock import run_lock
from newsbrief.train.checkpointing import (
    TrainerState,
    best_checkpoint,
    checkpoint_dir,
    init_weights_file,
    latest_checkpoint,
    load_weights,
    prune_checkpoints,
    resume_checkpoint,
    save_checkpoint,
)
from newsbrief.train.loss_meter import LossMeter
from newsbrief.train.model_card import model_card
from newsbrief.train.optim import make_optimizer, make_scheduler
from newsbrief.train.processes import MainProcessWait, unused_parameters
from newsbrief.train.resume_config import refuse_changed_config
from newsbrief.train.topic_refit import refit_topic_head
from newsbrief.train.tracking import RunLogger, hyperparameters, trackers
from newsbrief.train.validation import run_briefer, tokenized_validation, tuned_thresholds, validate

log = logging.getLogger(__name__)
LOCK_FILE = "train.lock"


def train(config: RunConfig) -> Path:
    """Fine-tune summary and topics together; returns the exported model directory.

    One run at a time on an output_dir: a second one stops at once (run_lock.py). Only the main process
    writes the folder, so only it holds the lock; the others would find it held. A resume whose config
    differs from its checkpoint's stops before any data is read (train/resume_config.py).
    """
    output_dir = Path(config.train.output_dir)
    # RANK, which every launcher (torchrun, accelerate launch) sets, before any process group exists.
    main_process = int(os.environ.get("RANK", "0")) == 0
    lock = run_lock(output_dir / LOCK_FILE, output_dir) if main_process else nullcontext()
    with lock:
        if config.train.resume:
            refuse_changed_config(config, latest_checkpoint(output_dir))
        return run_training(config)


def run_training(config: RunConfig) -> Path:
    """The loop itself, in an output_dir that this process may write."""
    tc = config.train
    output_dir = Path(tc.output_dir)
    cuda = torch.cuda.is_available()
    ddp = DistributedDataParallelKwargs()  # told below whether the model has parameters that take no part in the loss
    accelerator = Accelerator(
        mixed_precision=tc.mixed_precision(torch.cuda.is_available(),
                                           torch.cuda.is_available() and torch.cuda.is_bf16_supported()),
        gradient_accumulation_steps=tc.gradient_accumulation_steps,
        # Each batch the sampler makes is a global batch, split across processes: N processes then
        # see the same examples per step as one process with N times the batch size. (Accelerate 1.x
        # ignores the old `Accelerator(split_batches=True)`; only the dataloader config sets it.)
        # Batches come from pinned memory (epoch_loader), so their copy to the GPU need not block the host.
        dataloader_config=DataLoaderConfiguration(split_batches=True, non_blocking=cuda),
        kwargs_handlers=[ddp],
        log_with=trackers(tc) or None,  # an empty list makes Accelerate warn that no tracker is installed
        project_dir=output_dir / "logs",
    )
    # Each process its own dropout stream (seed + process index; the main process's is the seed's own).
    # The processes may then draw different initial weights: DDP gives all the main process's when it wraps.
    set_seed(tc.seed, device_specific=True)

    # Data: every source in one schema, one label space, tokenized once and cached by `datasets`.
    tokenizer = load_tokenizer(config.model)
    corpora = read_corpora(config.data)
    if not corpora["train"]:
        paths = ", ".join(source.path for source in config.data.sources)
        raise DataError(f"data.sources: no training rows in {paths} (a split column with 'train' rows, or rows "
                        "left after validation_fraction)")
    if not corpora["validation"] and accelerator.is_main_process:
        log.warning("data.sources: no validation data (no 'validation' rows in a split column, and no "
                    "validation_fraction above 0): topic thresholds stay 0.5 and the last checkpoint is exported")
    labels = LabelSpace.from_training_data(corpora["train"], config.data.sources, config.data.min_label_count)
    train_set = tokenize(concatenate(corpora["train"]), tokenizer, config.data, labels)
    val_full = tokenized_validation(corpora["validation"], tokenizer, config.data, labels)
    val_set = validation_sample(val_full, config)
    collator = Collator(tokenizer.pad_token_id)

    # Model, optimizer, schedule; then the latest checkpoint, if this run was interrupted before.
    model = build_model(config, tokenizer, labels)
    if config.model.init_from and not (tc.resume and latest_checkpoint(output_dir)):
        # The summarizer only: an earlier stage (gap-sentence pretraining) may have had other labels, or none.
        load_weights(model.seq2seq, init_weights_file(Path(config.model.init_from)), prefix="seq2seq.")
    if accelerator.num_processes > 1:
        # Without it, DistributedDataParallel waits for their gradients and fails at step 2 (BERT2BERT's pooler).
        ddp.find_unused_parameters = bool(unused_parameters(model, collator(
            [train_set.select_columns(MODEL_COLUMNS)[i] for i in range(min(2, len(train_set)))])))
    waits = MainProcessWait(accelerator, tc.main_process_timeout_minutes)
    optimizer = make_optimizer(model, tc, tc.learning_rate)
    scheduler = make_scheduler(optimizer, tc)  # stepped by hand once per optimizer step, so not prepared
    model, optimizer = accelerator.prepare(model, optimizer)
    state = TrainerState()
    resumed = resume_checkpoint(output_dir, accelerator.unwrap_model(model), optimizer, scheduler) \
        if tc.resume else None
    if resumed is not None:
        resume_from, state = resumed
        accelerator.print(f"resuming from {resume_from} (step {state.step})")
    logger = RunLogger(accelerator, output_dir / "logs", state.step)
    accelerator.init_trackers(output_dir.resolve().name, config=hyperparameters(config))
    run = Run(config, accelerator, tokenizer, labels, collator, val_set, logger, output_dir)

    progress = tqdm(total=tc.max_steps, initial=state.step, desc="training",
                    disable=not accelerator.is_local_main_process)
    stop = False
    started = time.perf_counter() - state.train_seconds
    window = ThroughputWindow()
    losses = LossMeter()
    model.train()
    while state.step < tc.max_steps and not stop:
        loader = epoch_loader(train_set, collator, config, state, accelerator)
        for batch in loader:
            with accelerator.accumulate(model):
                output = model(**batch)
                losses.add(output)
                accelerator.backward(output.loss)
                if accelerator.sync_gradients and tc.max_grad_norm > 0:
                    accelerator.clip_grad_norm_(model.parameters(), tc.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
            state.batch_in_epoch += accelerator.num_processes
            window.examples += len(batch["input_ids"]) * accelerator.num_processes
            if not accelerator.sync_gradients:
                continue
            if not accelerator.optimizer_step_was_skipped:  # fp16's scaler skips steps with inf gradients
                scheduler.step()
            state.step += 1
            progress.update()
            if state.step % tc.log_every == 0:
                logged = losses.read()  # the mean since the last log: the only host read of the losses
                progress.set_postfix(loss=f"{logged['loss']:.3f}")
                logger.log(state.step, "train", {**logged, "lr": scheduler.get_last_lr()[0],
                                                 "examples_per_second": window.rate()})
            if state.step % tc.eval_every == 0 or state.step == tc.max_steps:
                state.train_seconds = time.perf_counter() - started
                stop = waits.decision(maybe_evaluate_and_save(run, model, optimizer, scheduler, state))
                window.rate()  # evaluation time is not training throughput
            if state.step >= tc.max_steps or stop:
                break
        else:
            state.epoch += 1
            state.batch_in_epoch = 0
    progress.close()
    accelerator.wait_for_everyone()

    # Export: the best checkpoint, with per-label thresholds tuned on validation and a model card.
    export_dir = output_dir / "model"
    if accelerator.is_main_process:
        export_best_model(run, accelerator.unwrap_model(model), state, train_set, val_full, export_dir)
    for tracker in accelerator.trackers:  # not end_training(): that also ends the process group, the caller's
        tracker.finish()
    waits.barrier()
    return export_dir


def build_model(config: RunConfig, tokenizer, labels: LabelSpace) -> NewsBriefModel:
    seq2seq = build_seq2seq(config.model, tokenizer)
    apply_generation_settings(seq2seq, config.generation)
    if config.model.lora is not None:
        seq2seq = add_lora(seq2seq, config.model.lora)
    if config.model.freeze_summarizer:
        freeze_summarizer(seq2seq, config)
    return NewsBriefModel(seq2seq, len(labels.names), config.model.topic_dropout, config.model.topic_loss_weight,
                          train_summaries=not config.model.freeze_summarizer)


def validation_sample(validation: datasets.Dataset | None, config: RunConfig) -> datasets.Dataset | None:
    """A fixed, seeded sample of the validation splits for periodic evaluation, the same every time."""
    if validation is None:
        return None
    shuffled = validation.shuffle(seed=config.train.seed)
    return shuffled.select(range(min(config.train.eval_max_examples, len(shuffled))))


def epoch_loader(train_set: datasets.Dataset, collator: Collator, config: RunConfig, state: TrainerState,
                 accelerator: Accelerator):
    """This epoch's batches, starting where an interrupted run stopped."""
    tc = config.train
    global_batch = tc.batch_size * accelerator.num_processes
    batches = epoch_batches(train_set["length"], global_batch, tc.seed, state.epoch, tc.group_by_length,
                            source_repeats(train_set, config.data))
    # Each global batch is split across processes by Accelerate; skip the ones already consumed.
    done = state.batch_in_epoch // accelerator.num_processes
    # A private generator: creating the loader then draws no number from the global RNG, which a
    # resumed run (one loader more) would otherwise see shifted, and dropout with it.
    loader = DataLoader(train_set.select_columns(MODEL_COLUMNS),
                        batch_sampler=GlobalBatches(batches[done:], global_batch),
                        collate_fn=collator, num_workers=tc.num_workers, pin_memory=accelerator.device.type == "cuda",
                        generator=torch.Generator().manual_seed(tc.seed + state.epoch))
    return accelerator.prepare_data_loader(loader)


class GlobalBatches(list):
    """Batches of example indices that state their size: Accelerate needs it to split each batch."""

    def __init__(self, batches: list[list[int]], batch_size: int):
        super().__init__(batches)
        self.batch_size = batch_size


@dataclass
class Run:
    """What stays the same for the whole run and the periodic helpers read: the loop's own variables,
    given to them as one argument. What changes step by step (model, optimizer, state) is passed apart."""

    config: RunConfig
    accelerator: Accelerator
    tokenizer: PreTrainedTokenizerBase
    labels: LabelSpace
    collator: Collator
    val_set: datasets.Dataset | None
    """The fixed validation sample of periodic evaluation."""
    logger: RunLogger
    output_dir: Path


def maybe_evaluate_and_save(run: Run, model, optimizer, scheduler, state: TrainerState) -> bool:
    """On the main process: evaluate, checkpoint, keep the best k; returns True when early stopping says to
    stop. The other processes return at once (and wait for the main process's decision)."""
    accelerator = run.accelerator
    if not accelerator.is_main_process:
        return False
    tc = run.config.train
    metrics: dict = {}
    if run.val_set is not None:
        metrics = validate(accelerator.unwrap_model(model), run.tokenizer, run.labels, run.config, run.val_set,
                           run.collator)
        run.logger.log(state.step, "validation", metrics)
    score = metrics.get(tc.metric_for_best)
    directory = checkpoint_dir(run.output_dir, state.step)
    if score is not None:
        improved = state.best_metric is None or (score > state.best_metric if tc.higher_is_better()
                                                 else score < state.best_metric)
        state.best_metric = score if improved else state.best_metric
        state.evals_without_improvement = 0 if improved else state.evals_without_improvement + 1
        state.scores[directory.name] = float(score)
    save_checkpoint(directory, accelerator.unwrap_model(model), optimizer, scheduler, state, run.config)
    prune_checkpoints(run.output_dir, state, tc.save_total_limit, tc.higher_is_better())
    return 0 < tc.early_stopping_patience <= state.evals_without_improvement


def export_best_model(run: Run, model: NewsBriefModel, state: TrainerState, train_set: datasets.Dataset,
                      val_full: datasets.Dataset | None, export_dir: Path) -> None:
    """The best checkpoint (or the last, with `train.export_best` false), its topic head refit if asked for,
    with per-label thresholds tuned on the whole validation split, measured on the validation sample."""
    config, tokenizer, labels, tc = run.config, run.tokenizer, run.labels, run.config.train
    best = best_checkpoint(run.output_dir, state, tc.higher_is_better()) if tc.export_best else None
    if best is not None:  # otherwise the model holds the last step's weights (trained, or resumed from them)
        load_weights(model, best / "model.safetensors")
    refit_seconds = None
    if tc.topic_refit_epochs:
        started = time.perf_counter()
        refit_topic_head(model, tokenizer, labels, config, train_set)
        refit_seconds = time.perf_counter() - started
    thresholds = np.asarray(labels.default_thresholds(), dtype=np.float32)
    metrics: dict = {}
    if val_full is not None:
        if tc.tune_thresholds:
            thresholds = tuned_thresholds(run_briefer(model, tokenizer, labels, thresholds, config), val_full,
                                          tc.threshold_min_positives)
        metrics = validate(model, tokenizer, labels, config, run.val_set, run.collator, thresholds)
    # Written whole beside the model directory, then put in its place: a kill leaves no folder that loads
    # half of one export and half of another, or that lacks its card (disk.replace_folder).
    staging = temporary_path(export_dir)
    shutil.rmtree(staging, ignore_errors=True)  # what a killed export left
    save_model(model, tokenizer, labels, thresholds.tolist(), config, staging)
    (staging / "README.md").write_text(model_card(export_dir, config, labels, state, metrics, best, refit_seconds))
    replace_folder(staging, export_dir)


class ThroughputWindow:
    """Training examples per second since the last call."""

    def __init__(self):
        self.examples = 0
        self.start = time.perf_counter()

    def rate(self) -> float:
        now = time.perf_counter()
        rate = self.examples / max(now - self.start, 1e-9)
        self.examples, self.start = 0, now
        return rate
