"""Typed run configuration: one dataclass per section, loaded from YAML plus `key.sub=value` overrides.

The dataclasses are the only schema. Every field carries a one-line docstring (the string literal
under it), unknown keys and wrong types fail with the dotted key named, and derived values are
methods, never stored. Run state (step, epoch, best metric) never lives here.

Names: a section is `*Config`, except where transformers or peft already has a class of that name for
the same thing (GenerationConfig, LoraConfig): there it is `*Settings`, so that no name shadows theirs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from newsbrief.config_parsing import ConfigError, from_dict, set_dotted
from newsbrief.config_yaml import parse_yaml, read_yaml_file


@dataclass
class LoraSettings:
    r: int = 16
    """Rank of the LoRA update matrices."""
    alpha: int = 32
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    dropout: float = 0.05
    """Dropout on the LoRA branch."""
    target_modules: list[str] = field(default_factory=lambda: ["query", "key", "value"])
    """Names of the linear layers that get adapters (BERT: query/key/value; BART, T5: q_proj, v_proj, q, v)."""
    train_fully: list[str] = field(default_factory=list)
    """New modules the backbone lacks (BERT2BERT: crossattention, cls.predictions.*), trained and stored whole."""


@dataclass
class ModelConfig:
    backbone: str = "sentence-transformers/all-MiniLM-L6-v2"
    """Hub name or local folder of the seq2seq checkpoint, or of a BERT-like encoder to warm-start from."""
    tokenizer: str | None = None
    """Hub name or folder of the tokenizer; defaults to the backbone."""
    random_init: bool = False
    """Build the backbone's architecture with random weights instead of loading them (tests, CI)."""
    config_overrides: dict[str, Any] = field(default_factory=dict)
    """Architecture fields set on the backbone's config before building (e.g. hidden_size for a tiny model)."""
    share_encoder_decoder: bool = False
    """For an encoder-only backbone: tie encoder and decoder weights (BERT2BERT shared, Rothe et al. 2020)."""
    topic_loss_weight: float = 1.0
    """Weight of the topic BCE loss added to the summary cross-entropy."""
    topic_dropout: float = 0.1
    """Dropout on the pooled encoder states before the topic head."""
    lora: LoraSettings | None = None
    """Train LoRA adapters (peft) and store only them and lora.train_fully, as a delta; null trains everything."""
    trust_remote_code: bool = False
    """Allow code from the checkpoint's repository to run; only for checkpoints you trust."""
    init_from: str | None = None
    """Start the summarizer from an earlier run's weights (its output_dir or a checkpoint), e.g. after pretraining."""
    freeze_summarizer: bool = False
    """Keep the backbone, a seq2seq summarizer, as it is: train the topic head only, stored as a delta over it."""
    train_last_encoder_layers: int = 0
    """With freeze_summarizer: also train the encoder's last N layers (stored in the delta; summaries may change)."""


@dataclass
class SourceConfig:
    path: str = ""
    """JSONL, CSV or Parquet file, or a hub dataset name."""
    name: str | None = None
    """Short name for logs and the label mask; defaults to the file's stem."""
    text_column: str = "text"
    """Column with the article body."""
    summary_column: str | None = "summary"
    """Column with the target summary; null or empty cells train no summary for that example."""
    topics_column: str | None = "topics"
    """Column with a list of topic names (or one name); null means this source annotates no topics."""
    topics_separator: str | None = None
    """Splits a topics cell that is one string into labels ("business|news" with "|"); null: one label."""
    id_column: str = "id"
    """Column with a unique example id; a file without the default `id` column gets `<file name>:<row>` ids."""
    split_column: str | None = "split"
    """Column naming each row's split (train/validation/test); without it (or null), see validation_fraction."""
    validation_fraction: float = 0.1
    """Share of a file without a split column carved out, seeded (data.split_seed), as its validation split."""
    label_map: dict[str, str] = field(default_factory=dict)
    """Renames source labels into the shared label space; a label mapped to "" is dropped."""
    max_examples: int | None = None
    """Use at most this many examples of each split (quick runs)."""
    section: str | None = None
    """A label of another source that this source's labels refine (Reuters: business); see LabelSpace.encode."""
    repeat: int = 1
    """Times each training example is drawn per epoch: oversamples a small corpus (the topic refit reads each once)."""
    objective: Literal["supervised", "gap_sentences"] = "supervised"
    """Summary target: summary_column, or (gap_sentences) each article's most salient sentence, cut from it."""

    def display_name(self) -> str:
        return self.name or Path(self.path).stem


@dataclass
class DataConfig:
    sources: list[SourceConfig] = field(default_factory=list)
    """Corpora trained together; each annotates only its own label set (see label masks in DESIGN.md)."""
    max_source_length: int = 512
    """Article tokens kept (longer articles are truncated)."""
    max_target_length: int = 64
    """Summary tokens kept for training targets."""
    source_prefix: str = ""
    """Text put before every article (T5 checkpoints expect "summarize: ")."""
    summary_targets: Literal["all", "faithful"] = "all"
    """faithful: a target stating what the article's window lacks is repaired, or trains topics only."""
    min_label_count: int = 1
    """Labels seen fewer times in training data are left out of the label space."""
    split_seed: int = 0
    """Seed of the validation rows carved out of files without a split column (sources' validation_fraction)."""


@dataclass
class TrainConfig:
    output_dir: str = "runs/default"
    """Where checkpoints, logs and the final model go."""
    seed: int = 42
    """Seed for weights, data order and dropout."""
    batch_size: int = 16
    """Examples per device per step, before gradient accumulation."""
    gradient_accumulation_steps: int = 1
    """Micro-batches summed into one optimizer step."""
    max_steps: int = 1000
    """Optimizer steps to train."""
    learning_rate: float = 5e-5
    """Peak AdamW learning rate."""
    weight_decay: float = 0.01
    """AdamW weight decay (not applied to biases and norms)."""
    adam_betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    """AdamW beta1 and beta2."""
    max_grad_norm: float = 1.0
    """Gradient clipping norm; 0 disables clipping."""
    warmup_steps: int = 0
    """Steps of linear warmup from 0 to the peak learning rate."""
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    """Decay after warmup."""
    precision: Literal["auto", "fp32", "fp16", "bf16"] = "auto"
    """Mixed precision; auto is bf16 on GPUs that have it, fp16 on other GPUs, fp32 on CPU."""
    group_by_length: bool = True
    """Batch articles of similar length together (less padding)."""
    eval_every: int = 200
    """Evaluate and checkpoint every this many optimizer steps."""
    eval_max_examples: int = 256
    """Validation examples used for each periodic evaluation."""
    save_total_limit: int = 2
    """Best checkpoints kept by metric_for_best (the latest is kept too, for resuming)."""
    metric_for_best: Literal["loss", "rouge1", "rouge2", "rougeL", "rougeLsum", "topic_micro_f1",
                             "topic_macro_f1"] = "loss"
    """Validation metric that ranks checkpoints."""
    export_best: bool = True
    """Export the checkpoint that metric_for_best ranks first; false exports the last one, where the schedule ends."""
    early_stopping_patience: int = 0
    """Stop after this many evaluations without improvement; 0 never stops early."""
    log_every: int = 10
    """Log training loss every this many optimizer steps."""
    tensorboard: bool = True
    """Also log to TensorBoard in logs/<run name>/ when the tensorboard package is installed."""
    log_with: list[str] = field(default_factory=list)
    """Experiment trackers through Accelerate (wandb, mlflow, comet_ml, aim, clearml, dvclive, ...), each installed."""
    resume: bool = True
    """Resume from the latest checkpoint in output_dir when there is one."""
    resume_accepts: list[str] = field(default_factory=list)
    """Keys (train.max_steps, ...) that may differ from the config the checkpoint was trained with; any other change stops the resume."""
    tune_thresholds: bool = True
    """At the end, pick a per-label topic threshold that maximizes F1 on the whole validation split."""
    threshold_min_positives: int = 10
    """Labels with fewer validation positives than this keep the 0.5 threshold."""
    topic_refit_epochs: int = 0
    """At the end, refit the topic head for this many epochs on frozen encoder states of all training articles; 0 skips."""
    topic_refit_learning_rate: float = 3e-3
    """AdamW learning rate of the topic-head refit (constant)."""
    topic_refit_hidden_layer_size: int = 0
    """0 refits the loop's linear topic head; a width replaces it with a new head with one hidden layer."""
    topic_refit_heads: int = 1
    """Heads refit, each with its own shuffling seed, then merged into one that gives the mean of their logits."""
    num_workers: int = 0
    """DataLoader worker processes."""
    main_process_timeout_minutes: float = 120.0
    """Longest the other processes wait for the main one to validate and checkpoint, or to export at the end."""

    def mixed_precision(self, cuda: bool, bf16_supported: bool) -> str:
        """The setting for Accelerate, which calls full precision "no"."""
        if self.precision == "auto":
            return ("bf16" if bf16_supported else "fp16") if cuda else "no"
        return "no" if self.precision == "fp32" else self.precision

    def higher_is_better(self) -> bool:
        return self.metric_for_best != "loss"


@dataclass
class GenerationSettings:
    num_beams: int = 1
    """Beam width; 1 is greedy decoding."""
    max_new_tokens: int = 48
    """Longest summary in tokens."""
    min_new_tokens: int = 0
    """Shortest summary in tokens."""
    no_repeat_ngram_size: int = 3
    """Block repeated n-grams of this size; 0 disables."""
    repetition_penalty: float = 1.0
    """Divide the scores of tokens the summary already holds by this (>1 discourages repeated words)."""
    length_penalty: float = 1.0
    """Beam search length penalty (>1 favours longer summaries)."""
    fact_guard: bool = False
    """Only names and numbers the article contains (models/fact_guard.py); a blocked summary is unguarded, flagged."""

    def validate(self, prefix: str = "generation") -> None:
        """Impossible settings, named; also for the overrides of one `predict` call."""
        for key in ("num_beams", "max_new_tokens"):
            if getattr(self, key) <= 0:
                raise ConfigError(f"{prefix}.{key}: must be positive, got {getattr(self, key)}")
        for key in ("min_new_tokens", "no_repeat_ngram_size"):
            if getattr(self, key) < 0:
                raise ConfigError(f"{prefix}.{key}: must not be negative, got {getattr(self, key)}")
        if self.repetition_penalty <= 0:
            raise ConfigError(f"{prefix}.repetition_penalty: must be positive, got {self.repetition_penalty}")
        if self.min_new_tokens > self.max_new_tokens:
            raise ConfigError(f"{prefix}.min_new_tokens: larger than {prefix}.max_new_tokens")

    def generate_kwargs(self) -> dict:
        """The settings `generate` takes; the guard is built per batch from its articles."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "fact_guard"}


@dataclass
class InferenceConfig:
    batch_size: int = 32
    """Most articles in one batch."""
    max_batch_tokens: int = 16384
    """Most padded input tokens in one batch (articles are sorted by length before packing)."""
    # In chunk mode the summary comes from the first window, and the topic head reads the mean of all
    # windows' pooled states, which a topic-head refit in chunk mode trains it on.
    long_articles: Literal["truncate", "chunk"] = "truncate"
    """Articles longer than data.max_source_length: keep the start, or read them in overlapping windows."""
    chunk_overlap: int = 64
    """Tokens that consecutive windows share, in chunk mode."""
    max_chunks: int = 8
    """Windows read per article in chunk mode; text beyond them is dropped and counted as truncated."""
    strip_boilerplate: bool = True
    """Drop lines of page furniture (READ MORE, Loading..., photo credits, share prompts) before reading."""


@dataclass
class RunConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    """The backbone and the topic head."""
    data: DataConfig = field(default_factory=DataConfig)
    """Sources, columns and lengths."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """The optimisation loop."""
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    """Decoding settings, saved with the model."""
    inference: InferenceConfig = field(default_factory=InferenceConfig)
    """Batching for prediction."""

    def validate(self) -> None:
        """Impossible values fail here, before any work starts."""
        self.validate_serving()
        _require_positive({
            "data.max_target_length": self.data.max_target_length,
            "train.batch_size": self.train.batch_size,
            "train.gradient_accumulation_steps": self.train.gradient_accumulation_steps,
            "train.max_steps": self.train.max_steps,
            "train.eval_every": self.train.eval_every,
            "train.log_every": self.train.log_every,
            "train.save_total_limit": self.train.save_total_limit,
            "train.eval_max_examples": self.train.eval_max_examples,
        })
        if not self.data.sources:
            raise ConfigError("data.sources: at least one source is needed")
        for i, source in enumerate(self.data.sources):
            if not source.path:
                raise ConfigError(f"data.sources.{i}.path: is empty")
            if _looks_like_file(source.path) and not Path(source.path).exists():
                raise ConfigError(f"data.sources.{i}.path: no such file: {source.path}")
            if not 0.0 <= source.validation_fraction < 1.0:
                raise ConfigError(f"data.sources.{i}.validation_fraction: must be in [0, 1), "
                                  f"got {source.validation_fraction}")
            if source.topics_separator == "":
                raise ConfigError(f"data.sources.{i}.topics_separator: is empty (null keeps a cell one label)")
            if source.repeat < 1:
                raise ConfigError(f"data.sources.{i}.repeat: must be at least 1, got {source.repeat}")
        rates = {"train.learning_rate": self.train.learning_rate,
                 "train.topic_refit_learning_rate": self.train.topic_refit_learning_rate}
        for key, rate in rates.items():
            if not 0.0 < rate < 1.0:
                raise ConfigError(f"{key}: must be in (0, 1), got {rate}")
        if self.train.warmup_steps > self.train.max_steps:
            raise ConfigError("train.warmup_steps: longer than train.max_steps")
        if len(self.train.adam_betas) != 2:
            raise ConfigError("train.adam_betas: needs exactly two values")
        for key in ("topic_refit_epochs", "topic_refit_hidden_layer_size"):
            if getattr(self.train, key) < 0:
                raise ConfigError(f"train.{key}: must not be negative, got {getattr(self.train, key)}")
        if self.train.topic_refit_heads < 1:
            raise ConfigError(f"train.topic_refit_heads: must be at least 1, got {self.train.topic_refit_heads}")
        if self.train.topic_refit_hidden_layer_size and not self.train.topic_refit_epochs:
            raise ConfigError("train.topic_refit_hidden_layer_size: needs train.topic_refit_epochs, which train "
                              "the new head")
        if self.model.topic_loss_weight < 0:
            raise ConfigError("model.topic_loss_weight: must not be negative")
        if self.model.lora is not None and self.model.random_init:
            raise ConfigError("model.lora: needs a pretrained backbone (random_init is true), since the stored "
                              "delta is applied to the backbone's weights when loading")
        self.validate_frozen_summarizer()

    def validate_frozen_summarizer(self) -> None:
        model = self.model
        if model.train_last_encoder_layers < 0:
            raise ConfigError("model.train_last_encoder_layers: must not be negative, got "
                              f"{model.train_last_encoder_layers}")
        if not model.freeze_summarizer:
            if model.train_last_encoder_layers:
                raise ConfigError("model.train_last_encoder_layers: only with model.freeze_summarizer (without it, "
                                  "every layer trains)")
            return
        conflicts = {"model.lora": model.lora is not None, "model.random_init": model.random_init,
                     "model.init_from": model.init_from is not None}
        for key, conflict in conflicts.items():
            if conflict:
                raise ConfigError(f"model.freeze_summarizer: cannot go with {key}: the summarizer kept is the "
                                  "pretrained model.backbone, which the model directory names as its base")

    def validate_serving(self) -> None:
        """What serving a model reads: its window, inference and generation settings. Checked for a training
        config, for a model directory's stored one and for the settings a caller overrides."""
        _require_positive({
            "data.max_source_length": self.data.max_source_length,
            "inference.batch_size": self.inference.batch_size,
            "inference.max_batch_tokens": self.inference.max_batch_tokens,
            "inference.max_chunks": self.inference.max_chunks,
        })
        self.generation.validate()
        chunked = self.inference.long_articles == "chunk"
        if chunked and not 0 <= self.inference.chunk_overlap < self.data.max_source_length // 2:
            raise ConfigError("inference.chunk_overlap: must be at least 0 and under half of data.max_source_length")


def _require_positive(values: dict[str, float]) -> None:
    for key, value in values.items():
        if value <= 0:
            raise ConfigError(f"{key}: must be positive, got {value}")


def _looks_like_file(path: str) -> bool:
    return path.endswith((".jsonl", ".json", ".csv", ".parquet")) or path.startswith((".", "/"))


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML file (or start from defaults), apply `key.sub=value` overrides, validate.

    Relative data paths in the file are taken relative to the working directory, as users type them.
    """
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config: no such file: {path}")
        raw = read_yaml_file(path) or {}
        if not isinstance(raw, dict):
            raise ConfigError(f"config: {path} must hold a mapping at the top level")
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r}: expected key.sub=value")
        set_dotted(raw, key.strip(), parse_yaml(value, f"override {item!r}"))
    config = from_dict(RunConfig, raw, "")
    config.validate()
    return config


def to_dict(config: RunConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)


def save_config(config: RunConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
