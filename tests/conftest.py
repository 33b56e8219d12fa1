"""Shared fixtures: the tiny config, a tiny model trained once per session, and the shared corpora."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from newsbrief.config import RunConfig, load_config

ROOT = Path(__file__).parents[1]
TINY_CONFIG = ROOT / "configs" / "tiny.yaml"


def tiny_overrides(output_dir: Path) -> list[str]:
    """Paths in configs/tiny.yaml are relative to the repo root: make them absolute, so that tests do
    not depend on the working directory, and keep every run's output inside a temporary folder."""
    return [
        f"train.output_dir={output_dir}",
        f"data.sources.0.path={ROOT / 'tests/fixtures/tiny_news.jsonl'}",
        f"data.sources.1.path={ROOT / 'tests/fixtures/tiny_wire.jsonl'}",
    ]


@pytest.fixture
def tiny_config(tmp_path):
    """A factory: `tiny_config("train.max_steps=2", ...)` is configs/tiny.yaml with those overrides,
    applied after the fixture's own (so they may replace train.output_dir too)."""

    def make(*overrides: str) -> RunConfig:
        return load_config(TINY_CONFIG, tiny_overrides(tmp_path / "run") + list(overrides))

    return make


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """The exported model directory of configs/tiny.yaml trained for 12 steps, shared by the session."""
    from newsbrief.train.loop import train

    output_dir = tmp_path_factory.mktemp("tiny-run")
    config = load_config(TINY_CONFIG, tiny_overrides(output_dir) + [
        "train.max_steps=12", "train.eval_every=6", "train.warmup_steps=1", "train.tensorboard=false"])
    return train(config)


@pytest.fixture(scope="session")
def tiny_backbone_dir(tmp_path_factory) -> Path:
    """A tiny BERT folder with random weights, saved once: a pretrained backbone as far as loading goes."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from newsbrief.models.backbone import resolve_checkpoint

    folder = tmp_path_factory.mktemp("tiny-bert")
    torch.manual_seed(0)
    BertModel(BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=37)).save_pretrained(folder)
    minilm = resolve_checkpoint("sentence-transformers/all-MiniLM-L6-v2")
    AutoTokenizer.from_pretrained(minilm).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_bart_dir(tmp_path_factory) -> Path:
    """A tiny BART summarizer with random weights, saved with its tokenizer: a checkpoint a user trusts, as far
    as loading goes. Its weights are drawn wide so that articles get different summaries."""
    from transformers import BartConfig, BartForConditionalGeneration

    from newsbrief.config import ModelConfig
    from newsbrief.models.backbone import load_tokenizer

    folder = tmp_path_factory.mktemp("tiny-bart")
    tokenizer = load_tokenizer(ModelConfig())
    torch.manual_seed(0)
    BartForConditionalGeneration(BartConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=128,
        init_std=0.2, forced_eos_token_id=None, pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.sep_token_id, bos_token_id=tokenizer.cls_token_id,
        decoder_start_token_id=tokenizer.cls_token_id)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def tiny_frozen_bart_config(tiny_config, tiny_bart_dir):
    """A factory like tiny_config, for the topic head over the tiny BART kept frozen, on topic-only sources."""

    def make(*overrides: str) -> RunConfig:
        return tiny_config(f"model.backbone={tiny_bart_dir}", "model.random_init=false", "model.config_overrides={}",
                           "model.share_encoder_decoder=false", "model.freeze_summarizer=true",
                           "data.sources.0.summary_column=null", "data.sources.1.summary_column=null", *overrides)

    return make


@pytest.fixture
def tiny_lora_config(tiny_config, tiny_backbone_dir):
    """A factory like tiny_config, for LoRA on the tiny backbone (LoRA needs a pretrained one), with the
    new layers of its BERT2BERT decoder trained in full as in configs/default-model.yaml."""

    def make(*overrides: str) -> RunConfig:
        return tiny_config(f"model.backbone={tiny_backbone_dir}", "model.random_init=false",
                           "model.config_overrides={}",
                           "model.lora={r: 4, alpha: 8, target_modules: [query, value, dense], train_fully: "
                           "[crossattention, cls.predictions.transform, cls.predictions.bias]}", *overrides)

    return make


@pytest.fixture
def shared_data() -> Path:
    """The real corpora next to the checkout (../shared/data); tests that need them skip without them."""
    path = ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"../shared/data is absent: no folder {path}")
    return path
