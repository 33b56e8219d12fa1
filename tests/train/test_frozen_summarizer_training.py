"""The real `train(cfg)` over a summarizer kept frozen, on sources with topics only: the model directory is a
small delta over the checkpoint, writes the checkpoint's summaries token for token, and its own topics."""

from __future__ import annotations

import json

import torch
from safetensors.torch import load_file
from transformers import AutoModelForSeq2SeqLM, GenerationConfig

from newsbrief.infer.engine import NewsBrief
from newsbrief.models.frozen_summarizer import ENCODER_LAYERS_FILE
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.models.topic_head import TopicHead
from newsbrief.train.loop import train
from tests.plain_loading import TEXTS, newsbrief_tokens, plain_tokens

SHORT_RUN = ["train.max_steps=4", "train.eval_every=2", "train.log_every=1", "train.tensorboard=false",
             "train.eval_max_examples=8"]


def test_the_exported_model_writes_the_checkpoints_summaries_and_its_trained_topics(tiny_frozen_bart_config,
                                                                                   tiny_bart_dir, monkeypatch):
    config = tiny_frozen_bart_config(*SHORT_RUN)
    assert all(source.summary_column is None for source in config.data.sources)  # topics only: no summary targets

    def no_summaries(*args, **kwargs):
        raise AssertionError("a summary was generated with no reference to score it against")

    monkeypatch.setattr(NewsBriefModel, "brief", no_summaries)  # validation reads the topics alone
    export = train(config)
    monkeypatch.undo()

    names = {p.name for p in export.iterdir()}
    assert {ENCODER_LAYERS_FILE, "topic_head.safetensors", "generation_config.json", "newsbrief.yaml"} <= names
    assert not {"model.safetensors", "config.json", "adapter_model.safetensors"} & names
    assert load_file(export / ENCODER_LAYERS_FILE) == {}  # no layer trained: the summarizer is the checkpoint
    assert f"summarizer: `{tiny_bart_dir}` frozen; trained: the topic head only" in (export / "README.md").read_text()
    logged = [json.loads(line) for line in (export.parent / "logs" / "metrics.jsonl").read_text().splitlines()]
    assert [row["summary_loss"] for row in logged if row["split"] == "train"] == [0.0] * 4

    engine = NewsBrief.from_pretrained(export, device="cpu", dtype="fp32")  # as plain transformers loads the checkpoint
    batch, expected = newsbrief_tokens(engine)
    assert len({tuple(row) for row in expected}) == len(TEXTS)  # summaries that tell the articles apart
    original = AutoModelForSeq2SeqLM.from_pretrained(tiny_bart_dir)
    pad = engine.tokenizer.pad_token_id
    assert plain_tokens(original, batch, pad, **engine.generation.generate_kwargs()) == expected
    # Plain transformers: the checkpoint itself, with the generation settings the model directory stores.
    assert plain_tokens(original, batch, pad, generation_config=GenerationConfig.from_pretrained(export)) == expected

    # The topics: the trained head, as stored, over the checkpoint's own encoder states.
    head = TopicHead.from_weights(load_file(export / "topic_head.safetensors"), dropout=0.0).eval()
    with torch.no_grad():
        states = original.get_encoder()(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
        by_hand = torch.sigmoid(head(states.last_hidden_state, batch["attention_mask"]))
    torch.testing.assert_close(torch.from_numpy(engine.topic_scores(TEXTS)), by_hand)


def test_trained_encoder_layers_are_the_only_seq2seq_weights_stored(tiny_frozen_bart_config, tiny_bart_dir):
    export = train(tiny_frozen_bart_config("model.train_last_encoder_layers=1", *SHORT_RUN))

    stored = load_file(export / ENCODER_LAYERS_FILE)
    original = AutoModelForSeq2SeqLM.from_pretrained(tiny_bart_dir)
    last_layer = {name for name, _ in original.named_parameters() if name.startswith("model.encoder.layers.1.")}
    assert set(stored) == last_layer
    assert any(not torch.equal(tensor, original.get_parameter(name)) for name, tensor in stored.items())  # trained
    loaded = NewsBrief.from_pretrained(export, device="cpu", dtype="fp32").model.seq2seq  # the weights as stored
    assert all(torch.equal(tensor, loaded.get_parameter(name)) for name, tensor in stored.items())
