"""A summarizer kept as it is: a pretrained seq2seq checkpoint, frozen under a topic head that training fits.

With `model.freeze_summarizer`, training changes the topic head only and, with
`model.train_last_encoder_layers: N`, the encoder's last N layers. The model directory stores only those:
the head in topic_head.safetensors, the layers in encoder_layers.safetensors (under the seq2seq model's
own parameter names, none when N is 0), and names the checkpoint in newsbrief.yaml (`model.backbone`).
Loading builds the checkpoint from that name or folder, as for a LoRA delta, and refuses one whose weights
differ from those it was trained over (another revision). With no trained layer the summarizer is the
checkpoint itself and writes its summaries token for token; trained encoder layers change the states its
decoder reads, so then its summaries may change.
"""

from __future__ import annotations

from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from transformers import AutoConfig, PreTrainedModel, PreTrainedTokenizerBase

from newsbrief.config import ConfigError, RunConfig
from newsbrief.models.backbone import apply_generation_settings, build_seq2seq, resolve_checkpoint
from newsbrief.models.fingerprint import weights_fingerprint
from newsbrief.models.load_errors import ModelLoadError, NotAModelDirectory

ENCODER_LAYERS_FILE = "encoder_layers.safetensors"


def freeze_summarizer(seq2seq: PreTrainedModel, config: RunConfig) -> None:
    """Stop training every weight of `seq2seq` but those of its encoder's last `train_last_encoder_layers`."""
    backbone = config.model.backbone
    checkpoint = AutoConfig.from_pretrained(resolve_checkpoint(backbone),
                                            trust_remote_code=config.model.trust_remote_code)
    if not checkpoint.is_encoder_decoder:
        raise ConfigError(f"model.freeze_summarizer: `{backbone}` is an encoder ({checkpoint.model_type}), not a "
                          "summarizer: the decoder NewsBrief starts from it must be trained, so leave it unfrozen")
    trained = trained_encoder_weights(seq2seq, config)
    for name, param in seq2seq.named_parameters():
        param.requires_grad_(name in trained)


def trained_encoder_weights(seq2seq: PreTrainedModel, config: RunConfig) -> dict[str, nn.Parameter]:
    """{name: parameter} of the encoder's last `model.train_last_encoder_layers` layers, named as in `seq2seq`."""
    count = config.model.train_last_encoder_layers
    layers = encoder_layers(seq2seq)
    if count > len(layers):
        raise ConfigError(f"model.train_last_encoder_layers: {count}, but the encoder of `{config.model.backbone}` "
                          f"has {len(layers)} layers")
    trained = {id(param) for layer in layers[len(layers) - count:] for param in layer.parameters()}
    return {name: param for name, param in seq2seq.named_parameters() if id(param) in trained}


def encoder_layers(seq2seq: PreTrainedModel) -> nn.ModuleList:
    """The encoder's stack of layers: its outermost module list (BART, Pegasus: `layers`; T5: `block`;
    BERT: `encoder.layer`), first in its modules where two are equally shallow."""
    stacks = [(name.count("."), module) for name, module in seq2seq.get_encoder().named_modules()
              if isinstance(module, nn.ModuleList)]
    if not stacks:
        raise ConfigError("model.train_last_encoder_layers: the backbone's encoder has no list of layers to train")
    return min(stacks, key=lambda stack: stack[0])[1]


def base_fingerprint(seq2seq: PreTrainedModel, trained: dict[str, nn.Parameter]) -> str:
    """The fingerprint of the checkpoint's weights that the stored ones do not replace."""
    return weights_fingerprint((name, param) for name, param in seq2seq.named_parameters() if name not in trained)


def save_encoder_layers(seq2seq: PreTrainedModel, config: RunConfig, directory: Path) -> None:
    """The trained encoder layers (maybe none), with the checkpoint's name and fingerprint, and the
    generation settings, which `generate` over the checkpoint reads to write NewsBrief's summaries."""
    trained = trained_encoder_weights(seq2seq, config)
    save_file({name: param.detach().contiguous() for name, param in trained.items()}, directory / ENCODER_LAYERS_FILE,
              metadata={"format": "pt", "backbone": config.model.backbone,
                        "base_sha256": base_fingerprint(seq2seq, trained)})
    seq2seq.generation_config.save_pretrained(directory)


def load_frozen_summarizer(config: RunConfig, tokenizer: PreTrainedTokenizerBase, directory: Path) -> PreTrainedModel:
    """The checkpoint `model.backbone` names, with the stored encoder layers in place of its own."""
    path = directory / ENCODER_LAYERS_FILE
    if not path.is_file():
        raise NotAModelDirectory(f"{directory}: a model over a frozen summarizer without its {ENCODER_LAYERS_FILE}")
    seq2seq = build_seq2seq(config.model, tokenizer)
    apply_generation_settings(seq2seq, config.generation)
    trained = trained_encoder_weights(seq2seq, config)
    with safe_open(path, framework="pt") as stored:
        metadata = stored.metadata() or {}
    if metadata.get("base_sha256") != base_fingerprint(seq2seq, trained):
        raise ModelLoadError(f"{path}: trained over other weights of `{config.model.backbone}` than the ones it "
                             "resolves to here (another revision of the checkpoint?)")
    weights = load_file(path)
    if sorted(weights) != sorted(trained):
        raise ModelLoadError(f"{path}: holds {len(weights)} weights, not the {len(trained)} of the encoder's last "
                             f"{config.model.train_last_encoder_layers} layers (model.train_last_encoder_layers)")
    seq2seq.load_state_dict(weights, strict=False)
    return seq2seq
