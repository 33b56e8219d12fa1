"""Convert a model directory's LoRA delta of NewsBrief's former format (lora_delta.safetensors) to
peft's adapter format (adapter_config.json + adapter_model.safetensors), with no retraining.

    python scripts/convert_lora_delta.py newsbrief/default_model

The former delta held the trained tensors under their peft names, in fp16, with the SHA-256 of the
backbone weights it was trained on: they are loaded into the model `add_lora` builds (every tensor must
fit, the fingerprint must match) and written again by `save_adapter`, as training now exports them.
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import torch
import yaml
from safetensors import safe_open
from safetensors.torch import load_file

from newsbrief.config import RunConfig
from newsbrief.config_parsing import from_dict
from newsbrief.models.backbone import apply_generation_settings, build_seq2seq, load_tokenizer
from newsbrief.models.model_dir import CONFIG_FILE, FORMER_DELTA
from newsbrief.models.lora import add_lora, save_adapter


def former_fingerprint(wrapped: torch.nn.Module) -> str:
    """The fingerprint the former format stored: over the frozen weights, by their peft names."""
    digest = hashlib.sha256()
    for name, param in sorted(wrapped.named_parameters()):
        if not param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().contiguous().numpy().tobytes())
    return digest.hexdigest()


def convert(directory: Path) -> None:
    config = from_dict(RunConfig, yaml.safe_load((directory / CONFIG_FILE).read_text()), "")
    tokenizer = load_tokenizer(config.model)
    with torch.random.fork_rng():
        base = build_seq2seq(config.model, tokenizer)
    apply_generation_settings(base, config.generation)
    with torch.random.fork_rng():
        wrapped = add_lora(build_seq2seq(config.model, tokenizer), config.model.lora)
    apply_generation_settings(wrapped.get_base_model(), config.generation)
    path = directory / FORMER_DELTA
    with safe_open(path, framework="pt") as stored:
        expected = stored.metadata()["base_sha256"]
    if former_fingerprint(wrapped) != expected:
        raise SystemExit(f"{path}: trained on other weights of {config.model.backbone} than the ones installed here")
    delta = load_file(path)
    trained = {name for name, param in wrapped.named_parameters() if param.requires_grad}
    if set(delta) != trained:
        raise SystemExit(f"{path}: the delta does not fit the model its newsbrief.yaml builds")
    wrapped.load_state_dict(delta, strict=False)
    save_adapter(wrapped, base, config.model.lora, config.model.backbone, directory)
    wrapped.generation_config.save_pretrained(directory)
    path.unlink()
    print(f"{directory}: {FORMER_DELTA} -> adapter_config.json + adapter_model.safetensors")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, help="an exported model directory with a lora_delta.safetensors")
    convert(parser.parse_args().directory)


if __name__ == "__main__":
    main()
