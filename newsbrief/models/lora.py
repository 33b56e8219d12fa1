"""LoRA adapters (through peft) on a seq2seq backbone, with the backbone's new layers trained in full."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from newsbrief.config import LoraSettings


def add_lora(seq2seq: nn.Module, settings: LoraSettings) -> nn.Module:
    """Wrap `seq2seq` in peft adapters; only the adapters and the `train_fully` modules stay trainable.

    Modules under a `train_fully` one get no adapter: they are trained whole anyway, so an adapter
    there would only add parameters.
    """
    from peft import LoraConfig, get_peft_model

    def fully_trained(name: str) -> bool:
        return any(f".{part}." in f".{name}." for part in settings.train_fully)

    targets = [name for name, module in seq2seq.named_modules()
               if isinstance(module, nn.Linear) and name.rpartition(".")[2] in settings.target_modules
               and not fully_trained(name)]
    if not targets:
        raise ValueError(f"model.lora.target_modules: no linear layer is named any of {settings.target_modules}")
    wrapped = get_peft_model(seq2seq, LoraConfig(r=settings.r, lora_alpha=settings.alpha,
                                                 lora_dropout=settings.dropout, target_modules=targets))
    for name, param in wrapped.named_parameters():
        if fully_trained(name):
            param.requires_grad_(True)
    return wrapped


def trained_tensors(seq2seq: nn.Module) -> dict[str, torch.Tensor]:
    """What training changed: the adapters and the fully trained modules, by their peft names."""
    return {name: param.detach() for name, param in seq2seq.named_parameters() if param.requires_grad}


def base_fingerprint(seq2seq: nn.Module) -> str:
    """SHA-256 of the frozen backbone weights that a delta was trained on, to refuse a different base."""
    digest = hashlib.sha256()
    for name, param in sorted(seq2seq.named_parameters()):
        if not param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_delta(seq2seq: nn.Module, path: Path, backbone: str) -> None:
    """The delta in fp16 (half the bytes, well within the precision of an update) with its base's id."""
    tensors = {name: t.to(torch.float16).contiguous() for name, t in trained_tensors(seq2seq).items()}
    save_file(tensors, path, metadata={"backbone": backbone, "base_sha256": base_fingerprint(seq2seq)})


def apply_delta(seq2seq: nn.Module, settings: LoraSettings, path: Path) -> nn.Module:
    """The backbone with a saved delta applied and the adapters merged in: a plain transformers model."""
    wrapped = add_lora(seq2seq, settings)
    with safe_open(path, framework="pt") as stored:
        expected = stored.metadata()["base_sha256"]
        backbone = stored.metadata()["backbone"]
    if base_fingerprint(wrapped) != expected:
        raise ValueError(f"{path}: this delta was trained on other weights of `{backbone}` than the ones "
                         "installed here (a different version of the base checkpoint?)")
    delta = load_file(path)
    trained = set(trained_tensors(wrapped))
    if set(delta) != trained:
        raise ValueError(f"{path}: the delta does not fit this model: {len(set(delta) - trained)} unexpected and "
                         f"{len(trained - set(delta))} missing tensors (for instance "
                         f"{sorted(set(delta) ^ trained)[:3]})")
    wrapped.load_state_dict(delta, strict=False)
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
