"""LoRA adapters (through peft) on a seq2seq backbone, with the backbone's new layers trained in full.

An exported LoRA model stores its adapters in peft's own format (adapter_config.json +
adapter_model.safetensors), so that `PeftModel.from_pretrained(base, directory)` rebuilds the trained
summarizer over the backbone, with no NewsBrief code:
- each LoRA layer as a peft LoRA layer;
- each module that `train_fully` names as a peft `modules_to_save` module;
- a fully trained parameter that is the bias of a linear layer (BERT's per-token output bias, tied to
  its LM head's bias) as a rank-1 peft LoRA layer on that linear layer whose update is only its
  `lora_bias`: B = 0, so the weight is untouched, and B's bias holds what training added to the bias.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from newsbrief.config import ConfigError, LoraSettings
from newsbrief.models.fingerprint import weights_fingerprint

ADAPTER_CONFIG = "adapter_config.json"  # peft's CONFIG_NAME and SAFETENSORS_WEIGHTS_NAME
ADAPTER_WEIGHTS = "adapter_model.safetensors"
PEFT_PREFIX = "base_model.model."


def add_lora(seq2seq: nn.Module, settings: LoraSettings) -> nn.Module:
    """Wrap `seq2seq` in peft adapters; only the adapters and the `train_fully` modules stay trainable.

    Modules under a `train_fully` one get no adapter: they are trained whole anyway, so an adapter
    there would only add parameters.
    """
    from peft import LoraConfig, get_peft_model

    targets = [name for name, module in seq2seq.named_modules()
               if isinstance(module, nn.Linear) and name.rpartition(".")[2] in settings.target_modules
               and not _fully_trained(name, settings)]
    if not targets:
        raise ConfigError(f"model.lora.target_modules: no linear layer is named any of {settings.target_modules}")
    wrapped = get_peft_model(seq2seq, LoraConfig(r=settings.r, lora_alpha=settings.alpha,
                                                 lora_dropout=settings.dropout, target_modules=targets))
    for name, param in wrapped.named_parameters():
        if _fully_trained(name, settings):
            param.requires_grad_(True)
    return wrapped


def _fully_trained(name: str, settings: LoraSettings) -> bool:
    return any(f".{part}." in f".{name}." for part in settings.train_fully)


def base_fingerprint(seq2seq: nn.Module, settings: LoraSettings) -> str:
    """SHA-256 of the backbone weights an adapter works over, to refuse a different base.

    The same for the plain backbone and for it wrapped in adapters: names lose peft's additions, and
    the adapters and the fully trained layers (which the adapter file replaces) are left out.
    """
    named = {name.removeprefix(PEFT_PREFIX).replace(".base_layer", ""): param
             for name, param in seq2seq.named_parameters()}
    return weights_fingerprint((name, param) for name, param in named.items()
                               if "lora_" not in name and not _fully_trained(name, settings))


def save_adapter(wrapped: nn.Module, base: nn.Module, settings: LoraSettings, backbone: str,
                 directory: Path) -> None:
    """Write the trained adapters of `wrapped` (from `add_lora`) in peft's format, in fp16 (half the bytes,
    well within the precision of an update). `base` is the backbone as built before training: the
    fully trained biases are stored as their change over it."""
    from peft import LoraConfig

    lora_layers = sorted({name.removeprefix(PEFT_PREFIX).partition(".lora_")[0]
                          for name, _ in wrapped.named_parameters() if ".lora_A." in name})
    whole_modules, bias_carriers = _fully_trained_parts(base, settings)
    state = {}
    for name, param in wrapped.named_parameters():
        if param.requires_grad and ".lora_" in name:
            state[name.replace(".default.", ".")] = param
        elif param.requires_grad and name.removeprefix(PEFT_PREFIX) not in bias_carriers.values():
            state[name] = param
    for layer in lora_layers:
        state[f"{PEFT_PREFIX}{layer}.lora_B.bias"] = torch.zeros(base.get_submodule(layer).out_features)
    trained = dict(wrapped.named_parameters())
    base_params = dict(base.named_parameters())
    for layer, bias in bias_carriers.items():
        linear = base.get_submodule(layer)
        state[f"{PEFT_PREFIX}{layer}.lora_A.weight"] = torch.zeros(1, linear.in_features)
        state[f"{PEFT_PREFIX}{layer}.lora_B.weight"] = torch.zeros(linear.out_features, 1)
        state[f"{PEFT_PREFIX}{layer}.lora_B.bias"] = trained[PEFT_PREFIX + bias] - base_params[bias]
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=lora_layers + sorted(bias_carriers), modules_to_save=whole_modules or None,
                        lora_bias=True, rank_pattern={f"^{layer}$": 1 for layer in bias_carriers},
                        alpha_pattern={f"^{layer}$": 1 for layer in bias_carriers},  # scaling 1: B's bias is the change
                        base_model_name_or_path=backbone)
    config.save_pretrained(directory)
    save_file({name: t.detach().to(torch.float16).contiguous() for name, t in state.items()},
              directory / ADAPTER_WEIGHTS,
              metadata={"format": "pt", "backbone": backbone, "base_sha256": base_fingerprint(wrapped, settings)})


def _fully_trained_parts(base: nn.Module, settings: LoraSettings) -> tuple[list[str], dict[str, str]]:
    """The `train_fully` entries that name modules (peft's `modules_to_save`), and for those that name a
    parameter, {linear layer whose bias it is: parameter name}."""
    modules = [name for name, _ in base.named_modules()]
    whole, carriers = [], {}
    for part in settings.train_fully:
        if any(name == part or name.endswith(f".{part}") for name in modules):
            whole.append(part)
            continue
        params = [name for name, _ in base.named_parameters() if name == part or name.endswith(f".{part}")]
        for param in params:
            layer = next((name for name, module in base.named_modules() if isinstance(module, nn.Linear)
                          and module.bias is base.get_parameter(param)), None)
            if layer is None:
                raise ConfigError(f"model.lora.train_fully: `{part}` is neither a module nor the bias of a linear "
                                 "layer, which is all peft's adapter format can store")
            carriers[layer] = param
        if not params:
            raise ConfigError(f"model.lora.train_fully: `{part}` names no module or parameter of the model")
    return whole, carriers


def load_adapter(base: nn.Module, settings: LoraSettings, directory: Path) -> nn.Module:
    """The backbone with the saved adapters applied and merged in: a plain transformers model."""
    from peft import PeftModel

    path = directory / ADAPTER_WEIGHTS
    with safe_open(path, framework="pt") as stored:
        metadata = stored.metadata() or {}
    if metadata.get("base_sha256") not in (None, base_fingerprint(base, settings)):
        raise ValueError(f"{path}: these adapters were trained on other weights of `{metadata.get('backbone')}` "
                         "than the ones installed here (a different version of the base checkpoint?)")
    wrapped = PeftModel.from_pretrained(base, directory)
    _untie_adapted_weights(wrapped)
    return wrapped.merge_and_unload()


def _untie_adapted_weights(wrapped: nn.Module) -> None:
    """Give every adapted layer its own base weight before merging.

    A shared BERT2BERT model has one weight behind the encoder's and the decoder's copy of a layer, each
    with its own adapter; merging both adapters into that one tensor would add them up. The first layer
    to use a weight keeps it; only the later ones get a copy.
    """
    from peft.tuners.lora import LoraLayer

    seen: set[int] = set()
    for module in wrapped.modules():
        if isinstance(module, LoraLayer):
            base = module.get_base_layer()
            if id(base.weight) in seen:
                base.weight = nn.Parameter(base.weight.detach().clone(), requires_grad=False)
            seen.add(id(base.weight))
