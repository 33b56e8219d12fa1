"""An exported model directory loads with plain transformers (and peft, for adapters) and writes the
same summary tokens as NewsBrief, with the generation settings stored beside it."""

from __future__ import annotations

from peft import PeftModel
from transformers import AutoModelForSeq2SeqLM, EncoderDecoderModel, GenerationConfig

from newsbrief.infer.engine import NewsBrief
from newsbrief.models.model_dir import read_run_config, save_model
from tests.models.test_lora import trained_lora_model
from tests.plain_loading import newsbrief_tokens, plain_tokens


def test_a_shared_bert2bert_loads_whole_in_automodel_and_writes_the_same_tokens(tiny_model_dir):
    # fp32, as plain transformers loads it: the same tokens from the same arithmetic, on any CPU
    engine = NewsBrief.from_pretrained(tiny_model_dir, device="cpu", dtype="fp32")
    trained = read_run_config(tiny_model_dir).model
    assert trained.share_encoder_decoder and trained.lora is None
    batch, expected = newsbrief_tokens(engine)

    plain, info = AutoModelForSeq2SeqLM.from_pretrained(tiny_model_dir, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"], info
    # No generation argument: the settings come from the directory's generation_config.json.
    assert plain_tokens(plain, batch, engine.tokenizer.pad_token_id) == expected


def test_lora_adapters_load_with_peft_over_the_backbone_and_write_the_same_tokens(tiny_lora_config,
                                                                                  tiny_backbone_dir, tmp_path):
    config = tiny_lora_config()
    model, tokenizer, labels = trained_lora_model(config)
    save_model(model, tokenizer, labels, None, config, tmp_path)
    engine = NewsBrief.from_pretrained(tmp_path, device="cpu", dtype="fp32")  # as plain transformers and peft load it
    batch, expected = newsbrief_tokens(engine)

    base = EncoderDecoderModel.from_encoder_decoder_pretrained(tiny_backbone_dir, tiny_backbone_dir)
    plain = PeftModel.from_pretrained(base, tmp_path)
    tokens = plain_tokens(plain, batch, tokenizer.pad_token_id, generation_config=GenerationConfig.from_pretrained(tmp_path))
    assert tokens == expected
