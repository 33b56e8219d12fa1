"""LoRA training stores its adapters in peft's format over the backbone, and loading applies them to the same weights."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from newsbrief.config import ConfigError
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.model_dir import load_model, save_model
from newsbrief.models.lora import ADAPTER_WEIGHTS
from newsbrief.train.loop import build_model

def trained_lora_model(config):
    """A LoRA model whose adapters and new layers moved away from their initial values, as after training."""
    tokenizer = load_tokenizer(config.model)
    labels = LabelSpace(["a", "b"], {"news": ["a", "b"]})
    model = build_model(config, tokenizer, labels)
    torch.manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.05)
    return model.eval(), tokenizer, labels


def logits(model, tokenizer):
    batch = tokenizer(["Shares rose on Monday.", "The match ended in a draw after extra time."],
                      padding=True, return_tensors="pt")
    decoder_input_ids = torch.full((2, 3), tokenizer.cls_token_id)
    with torch.no_grad():
        out = model.seq2seq(**batch, decoder_input_ids=decoder_input_ids)
    return out.logits


def test_a_lora_model_is_stored_as_peft_adapters_and_loads_to_the_same_outputs(tiny_lora_config, tmp_path):
    lora_config = tiny_lora_config()
    model, tokenizer, labels = trained_lora_model(lora_config)
    save_model(model, tokenizer, labels, None, lora_config, tmp_path)

    assert not (tmp_path / "model.safetensors").exists()
    delta = load_file(tmp_path / ADAPTER_WEIGHTS)
    assert delta and all("lora_" in name or "crossattention" in name or "cls.predictions" in name for name in delta)
    assert not any("crossattention" in name and "lora_" in name for name in delta)  # new layers get no adapter
    assert all(t.dtype == torch.float16 for t in delta.values())

    loaded = load_model(tmp_path)
    assert not any("lora_" in name for name, _ in loaded.model.named_parameters())  # merged: a plain model
    # Encoder and decoder adapters both merged into the shared weights would double them: the outputs show it.
    torch.testing.assert_close(logits(loaded.model, tokenizer), logits(model, tokenizer), atol=2e-3, rtol=1e-3)


def test_a_delta_refuses_a_base_with_other_weights(tiny_lora_config, tiny_backbone_dir, tmp_path):
    backbone = shutil.copytree(tiny_backbone_dir, tmp_path / "base")
    lora_config = tiny_lora_config(f"model.backbone={backbone}")
    model, tokenizer, labels = trained_lora_model(lora_config)
    save_model(model, tokenizer, labels, None, lora_config, tmp_path / "model")
    weights = load_file(backbone / "model.safetensors")
    weights["embeddings.word_embeddings.weight"][0, 0] += 1.0  # as if another version of the base were installed
    save_file(weights, backbone / "model.safetensors", metadata={"format": "pt"})

    with pytest.raises(ValueError, match="trained on other weights"):
        load_model(tmp_path / "model")


def test_lora_over_a_random_init_is_a_config_error(tiny_lora_config):
    with pytest.raises(ConfigError, match="model.lora: needs a pretrained backbone"):
        tiny_lora_config("model.random_init=true")


def test_weights_of_the_former_delta_format_ask_for_the_conversion(tiny_lora_config, tmp_path):
    lora_config = tiny_lora_config()
    model, tokenizer, labels = trained_lora_model(lora_config)
    save_model(model, tokenizer, labels, None, lora_config, tmp_path)
    (tmp_path / ADAPTER_WEIGHTS).rename(tmp_path / "lora_delta.safetensors")
    with pytest.raises(FileNotFoundError, match="former format .*scripts/convert_lora_delta.py"):
        load_model(tmp_path)
