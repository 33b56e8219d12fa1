"""A model directory that describes itself: weights, tokenizer, labels, thresholds, generation and run config.

Layout (all loadable with no pickle):
  config.json, model.safetensors                            the seq2seq part, loadable by
                                                            `AutoModelForSeq2SeqLM.from_pretrained(dir)`, or
  adapter_config.json, adapter_model.safetensors            for a LoRA model, only what training changed over
                                                            the backbone, in peft's format (models/lora.py)
  encoder_layers.safetensors                                over a frozen summarizer, the encoder layers trained
                                                            over it, maybe none (models/frozen_summarizer.py)
  generation_config.json                                    the generation settings, for `generate`
  topic_head.safetensors                                    the topic head
  labels.json                                               label names, per-label thresholds, label masks
  tokenizer files                                           tokenizer.save_pretrained
  newsbrief.yaml                                            the resolved RunConfig
  README.md                                                 the model card (written by training)
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase
from transformers.utils import logging as transformers_logging

from newsbrief.config import RunConfig, save_config
from newsbrief.config_parsing import ConfigError, from_dict
from newsbrief.config_yaml import read_yaml_file
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import apply_generation_settings, build_seq2seq, share_encoder_weights
from newsbrief.models.frozen_summarizer import load_frozen_summarizer, save_encoder_layers
from newsbrief.models.load_errors import BadModelConfig, NotAModelDirectory, UntrustedCodeError
from newsbrief.models.lora import ADAPTER_WEIGHTS, load_adapter, save_adapter
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.models.topic_head import TopicHead

CONFIG_FILE = "newsbrief.yaml"
LABELS_FILE = "labels.json"
TOPIC_HEAD_FILE = "topic_head.safetensors"
FORMER_DELTA = "lora_delta.safetensors"  # before peft's adapter format: scripts/convert_lora_delta.py
CODE_MAPS = ("config.json", "tokenizer_config.json")
"""Files whose `auto_map` makes transformers import Python from the model directory."""


@dataclass
class LoadedModel:
    model: NewsBriefModel
    tokenizer: PreTrainedTokenizerBase
    labels: LabelSpace
    thresholds: list[float]
    config: RunConfig


def save_model(model: NewsBriefModel, tokenizer: PreTrainedTokenizerBase, labels: LabelSpace,
               thresholds: list[float] | None, config: RunConfig, directory: str | Path) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    seq2seq = model.seq2seq
    if config.model.lora is not None:
        with torch.random.fork_rng(), _transformers_verbosity(logging.ERROR):  # the warm-start report
            base = build_seq2seq(config.model, tokenizer)
        save_adapter(seq2seq, base, config.model.lora, config.model.backbone, directory)
        seq2seq.generation_config.save_pretrained(directory)
    elif config.model.freeze_summarizer:
        save_encoder_layers(seq2seq, config, directory)
    else:
        seq2seq.save_pretrained(directory, state_dict=standalone_tensors(seq2seq))
    save_file({k: v.contiguous() for k, v in model.topic_head.state_dict().items()}, directory / TOPIC_HEAD_FILE)
    labels.save(directory / LABELS_FILE, thresholds)
    tokenizer.save_pretrained(directory)
    save_config(config, directory / CONFIG_FILE)


def unique_tensors(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop every entry that shares storage with an earlier one (encoder weights the decoder reuses).

    safetensors cannot hold one tensor under two names; loading restores the sharing instead.
    """
    seen: set[int] = set()
    unique = {}
    for name, tensor in state.items():
        if tensor.data_ptr() not in seen:
            seen.add(tensor.data_ptr())
            unique[name] = tensor.detach().contiguous()
    return unique


def standalone_tensors(seq2seq: PreTrainedModel) -> dict[str, torch.Tensor]:
    """The state dict that plain transformers loads whole: every weight the model's own tying restores
    (`all_tied_weights_keys`, e.g. the LM head) left out, and every other weight that shares storage with
    an earlier one (the decoder's copy of a BERT2BERT weight shared with the encoder) stored as a copy.

    transformers has no tying flag for encoder-decoder sharing any more, and safetensors cannot hold one
    tensor under two names: without the copies, the decoder would load half random.
    """
    restored = seq2seq.all_tied_weights_keys
    seen: set[int] = set()
    state = {}
    for name, tensor in seq2seq.state_dict().items():
        if name in restored:
            continue
        shared = tensor.data_ptr() in seen
        seen.add(tensor.data_ptr())
        state[name] = tensor.detach().clone() if shared else tensor.detach().contiguous()
    return state


def check_model_directory(directory: Path) -> None:
    for name in (CONFIG_FILE, LABELS_FILE, TOPIC_HEAD_FILE):
        if not (directory / name).is_file():
            raise NotAModelDirectory(f"{directory}: not a NewsBrief model directory (no {name})")


def read_run_config(directory: Path) -> RunConfig:
    """The resolved config the model was trained with (newsbrief.yaml): its backbone and training sources
    for the model card and evaluation; the engine itself keeps only the sections it reads. A file that does
    not read as one (its YAML, a key, a type) is one line naming it and the problem."""
    path = directory / CONFIG_FILE
    try:
        raw = read_yaml_file(path, "model config")
    except ConfigError as error:  # it names the file, and the line where there is one
        raise BadModelConfig(str(error)) from None
    try:
        config = from_dict(RunConfig, raw, "")
        config.validate_serving()  # not validate(): the training data it names is not the user's to have
    except ConfigError as error:  # it names the key
        raise BadModelConfig(f"model config: {path}: {error}") from None
    return config


def load_model(directory: str | Path, device: str | torch.device = "cpu",
               dtype: torch.dtype = torch.float32, trust_remote_code: bool = False) -> LoadedModel:
    """Load a model directory. `trust_remote_code` comes from the caller only: the directory's own
    newsbrief.yaml is data that anyone who hands over a folder can write, so its flag is ignored."""
    directory = Path(directory)
    check_model_directory(directory)
    config = read_run_config(directory)
    config.model = replace(config.model, trust_remote_code=trust_remote_code)
    tokenizer = load_directory_tokenizer(directory, trust_remote_code)
    if (directory / FORMER_DELTA).is_file():
        raise FileNotFoundError(f"{directory}: LoRA weights in NewsBrief's former format ({FORMER_DELTA}); convert "
                                f"them once to peft's: python scripts/convert_lora_delta.py {directory}")
    if (directory / ADAPTER_WEIGHTS).is_file():
        with _transformers_verbosity(logging.ERROR):  # the warm-start report lists the layers the adapters hold
            seq2seq = build_seq2seq(config.model, tokenizer)
        apply_generation_settings(seq2seq, config.generation)
        seq2seq = load_adapter(seq2seq, config.model.lora, directory)
    elif config.model.freeze_summarizer:
        seq2seq = load_frozen_summarizer(config, tokenizer, directory)
    else:
        seq2seq = AutoModelForSeq2SeqLM.from_pretrained(directory, dtype=dtype, trust_remote_code=trust_remote_code)
        if config.model.share_encoder_decoder:
            share_encoder_weights(seq2seq)  # one weight again where the file holds two equal copies
    labels, thresholds = LabelSpace.load(directory / LABELS_FILE)
    model = NewsBriefModel(seq2seq, len(labels.names), config.model.topic_dropout, config.model.topic_loss_weight)
    model.topic_head = TopicHead.from_weights(load_file(directory / TOPIC_HEAD_FILE), config.model.topic_dropout)
    model.to(device=device, dtype=dtype).eval()
    return LoadedModel(model, tokenizer, labels, thresholds, config)


def load_directory_tokenizer(directory: Path, trust_remote_code: bool = False) -> PreTrainedTokenizerBase:
    """The model directory's tokenizer alone: what a CPU stage that tokenizes for the model loads."""
    if not trust_remote_code:
        refuse_code(directory)
    return AutoTokenizer.from_pretrained(directory, trust_remote_code=trust_remote_code)


def refuse_code(directory: Path) -> None:
    """Stop before transformers sees an `auto_map`, with a one-line message that says how to allow it."""
    for name in CODE_MAPS:
        try:
            auto_map = json.loads((directory / name).read_text()).get("auto_map")
        except (OSError, ValueError, AttributeError):
            continue  # absent or unreadable: transformers reports it when it reads the file
        if auto_map:
            raise UntrustedCodeError(
                f"{directory / name}: this model directory would run its own Python code (auto_map); "
                "if you trust it, pass --trust-remote-code (Python: trust_remote_code=True)")


@contextmanager
def _transformers_verbosity(level: int):
    previous = transformers_logging.get_verbosity()
    transformers_logging.set_verbosity(level)
    try:
        yield
    finally:
        transformers_logging.set_verbosity(previous)
