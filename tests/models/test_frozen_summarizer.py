"""A summarizer kept frozen under the topic head: what trains, what the model directory stores, what it refuses."""

from __future__ import annotations

import shutil

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from transformers import AutoModelForSeq2SeqLM, BartConfig, BertConfig, EncoderDecoderConfig, T5Config

from newsbrief.config import ConfigError
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.model_dir import load_model, save_model
from newsbrief.models.frozen_summarizer import ENCODER_LAYERS_FILE, encoder_layers
from newsbrief.models.load_errors import ModelLoadError
from newsbrief.train.loop import build_model

ARTICLES = ["Shares rose on Monday after the bank cut rates.", "The match ended in a draw after extra time."]


def built(config):
    tokenizer = load_tokenizer(config.model)
    return build_model(config, tokenizer, LabelSpace(["a", "b"], {"news": ["a", "b"]})), tokenizer


def trainable(model) -> set[str]:
    return {name for name, param in model.named_parameters() if param.requires_grad}


def encoder_states(seq2seq, tokenizer) -> torch.Tensor:
    batch = tokenizer(ARTICLES, padding=True, return_tensors="pt", return_token_type_ids=False)
    with torch.no_grad():
        return seq2seq.get_encoder()(**batch).last_hidden_state


def test_only_the_topic_head_trains_and_summary_targets_add_no_loss(tiny_frozen_bart_config):
    model, tokenizer = built(tiny_frozen_bart_config())
    assert trainable(model) == {"topic_head.classifier.weight", "topic_head.classifier.bias"}

    batch = tokenizer(ARTICLES, padding=True, return_tensors="pt", return_token_type_ids=False)
    labels = tokenizer(text_target=["Shares rose", "A draw"], padding=True, return_tensors="pt").input_ids
    output = model(batch.input_ids, batch.attention_mask, labels, torch.ones(2, 2), torch.ones(2, 2))
    assert output.summary_loss.item() == 0.0
    assert output.loss.item() == pytest.approx(output.topic_loss.item())


def test_only_the_trained_encoder_layers_are_stored_and_they_load_over_the_checkpoint(tiny_frozen_bart_config,
                                                                                      tiny_bart_dir, tmp_path):
    config = tiny_frozen_bart_config("model.train_last_encoder_layers=1")
    model, tokenizer = built(config)
    last_layer = {name for name in trainable(model) if name.startswith("seq2seq.model.encoder.layers.1.")}
    head = {"topic_head.classifier.weight", "topic_head.classifier.bias"}
    assert last_layer and trainable(model) == last_layer | head
    torch.manual_seed(1)
    with torch.no_grad():  # as after training
        for param in model.parameters():
            if param.requires_grad:
                param.add_(torch.randn_like(param) * 0.05)
    save_model(model.eval(), tokenizer, LabelSpace(["a", "b"], {"news": ["a", "b"]}), None, config, tmp_path)

    assert not {"model.safetensors", "config.json", "adapter_model.safetensors"} & {p.name for p in tmp_path.iterdir()}
    stored = load_file(tmp_path / ENCODER_LAYERS_FILE)
    assert {f"seq2seq.{name}" for name in stored} == last_layer
    loaded = load_model(tmp_path).model.seq2seq
    torch.testing.assert_close(encoder_states(loaded, tokenizer), encoder_states(model.seq2seq, tokenizer))
    original = AutoModelForSeq2SeqLM.from_pretrained(tiny_bart_dir)
    # The new layer changes what the encoder gives the decoder, which is the checkpoint's own: the summaries may change.
    assert not torch.allclose(encoder_states(loaded, tokenizer), encoder_states(original, tokenizer))
    kept = {name: param for name, param in original.named_parameters() if f"seq2seq.{name}" not in last_layer}
    assert all(torch.equal(param, loaded.get_parameter(name)) for name, param in kept.items())


def test_a_model_over_a_checkpoint_whose_weights_changed_is_refused(tiny_frozen_bart_config, tiny_bart_dir, tmp_path):
    checkpoint = shutil.copytree(tiny_bart_dir, tmp_path / "checkpoint")
    config = tiny_frozen_bart_config(f"model.backbone={checkpoint}")
    model, tokenizer = built(config)
    save_model(model.eval(), tokenizer, LabelSpace(["a", "b"], {"news": ["a", "b"]}), None, config, tmp_path / "model")
    weights = load_file(checkpoint / "model.safetensors")
    weights["model.decoder.layers.0.fc1.weight"][0, 0] += 1.0  # as if the name now gave another revision
    save_file(weights, checkpoint / "model.safetensors", metadata={"format": "pt"})

    with pytest.raises(ModelLoadError, match="trained over other weights"):
        load_model(tmp_path / "model")


def test_a_layers_file_without_the_layers_the_config_names_is_refused(tiny_frozen_bart_config, tmp_path):
    config = tiny_frozen_bart_config("model.train_last_encoder_layers=1")
    model, tokenizer = built(config)
    save_model(model.eval(), tokenizer, LabelSpace(["a", "b"], {"news": ["a", "b"]}), None, config, tmp_path)
    with safe_open(tmp_path / ENCODER_LAYERS_FILE, framework="pt") as stored:
        metadata = stored.metadata()
    save_file({}, tmp_path / ENCODER_LAYERS_FILE, metadata=metadata)  # a damaged copy: the name and fingerprint only

    with pytest.raises(ModelLoadError, match="holds 0 weights, not the 16 of the encoder's last 1 layers"):
        load_model(tmp_path)


@pytest.mark.parametrize("overrides, message", [
    (["model.freeze_summarizer=false", "model.train_last_encoder_layers=1"],
     "model.train_last_encoder_layers: only with model.freeze_summarizer"),
    (["model.train_last_encoder_layers=-1"], "model.train_last_encoder_layers: must not be negative"),
    (["model.lora={r: 4}"], "model.freeze_summarizer: cannot go with model.lora"),
    (["model.random_init=true"], "model.freeze_summarizer: cannot go with model.random_init"),
    (["model.init_from=runs/pretrain"], "model.freeze_summarizer: cannot go with model.init_from"),
])
def test_settings_that_cannot_keep_the_checkpoint_are_config_errors(tiny_frozen_bart_config, overrides, message):
    with pytest.raises(ConfigError, match=message):
        tiny_frozen_bart_config(*overrides)


def test_an_encoder_is_not_a_summarizer_to_freeze(tiny_frozen_bart_config, tiny_backbone_dir):
    with pytest.raises(ConfigError, match="model.freeze_summarizer: .* is an encoder \\(bert\\), not a summarizer"):
        built(tiny_frozen_bart_config(f"model.backbone={tiny_backbone_dir}"))


def test_more_layers_than_the_encoder_has_is_a_config_error(tiny_frozen_bart_config):
    with pytest.raises(ConfigError, match="model.train_last_encoder_layers: 3, but the encoder .* has 2 layers"):
        built(tiny_frozen_bart_config("model.train_last_encoder_layers=3"))


@pytest.mark.parametrize("kind", ["bart", "t5", "bert2bert"])
def test_the_encoder_layers_are_its_outermost_stack(kind):
    if kind == "bart":
        seq2seq = AutoModelForSeq2SeqLM.from_config(BartConfig(d_model=16, encoder_layers=3, decoder_layers=1,
                                                               encoder_attention_heads=2, decoder_attention_heads=2))
        expected = seq2seq.model.encoder.layers
    elif kind == "t5":
        seq2seq = AutoModelForSeq2SeqLM.from_config(T5Config(d_model=16, d_kv=8, d_ff=16, num_layers=3, num_heads=2))
        expected = seq2seq.encoder.block
    else:
        bert = BertConfig(hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=16)
        seq2seq = AutoModelForSeq2SeqLM.from_config(EncoderDecoderConfig.from_encoder_decoder_configs(bert, bert))
        expected = seq2seq.encoder.encoder.layer
    assert encoder_layers(seq2seq) is expected and len(expected) == 3
