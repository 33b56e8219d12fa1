"""Gap-sentence pretraining on unlabeled articles, in the same loop, and a second stage that starts from it."""

import json

import pytest
import torch
from safetensors.torch import load_file

from newsbrief.config import ConfigError
from newsbrief.train.loop import train

UNLABELED = ["data.sources.0.objective=gap_sentences", "data.sources.1.objective=gap_sentences",
             "data.sources.0.topics_column=null", "data.sources.1.topics_column=null",
             "train.tune_thresholds=false", "train.tensorboard=false", "train.eval_max_examples=4"]


def logged_losses(run_dir):
    rows = [json.loads(line) for line in (run_dir / "logs" / "metrics.jsonl").read_text().splitlines()]
    return [row["loss"] for row in rows if row["split"] == "train"]


def test_gap_sentence_pretraining_on_articles_without_labels_lowers_the_loss(tiny_config, tmp_path):
    train(tiny_config(*UNLABELED, "train.max_steps=30", "train.eval_every=30", "train.log_every=5"))
    losses = logged_losses(tmp_path / "run")
    assert len(losses) == 6
    assert losses[-1] < losses[0] - 0.5  # 10.2 -> 9.5 when measured; no learning leaves it at 10.2


def test_resumed_pretraining_gives_the_weights_of_an_uninterrupted_run(tiny_config, tmp_path):
    overrides = [*UNLABELED, "train.max_steps=6", "train.eval_every=3", "train.save_total_limit=2"]
    train(tiny_config(*overrides))
    checkpoints = tmp_path / "run" / "checkpoints"
    straight = load_file(checkpoints / "step-0000006" / "model.safetensors")
    for later in (checkpoints / "step-0000006").iterdir():
        later.unlink()
    (checkpoints / "step-0000006").rmdir()
    train(tiny_config(*overrides))
    resumed = load_file(checkpoints / "step-0000006" / "model.safetensors")
    for name in straight:
        torch.testing.assert_close(resumed[name], straight[name], rtol=0, atol=1e-6)


def test_a_second_stage_starts_its_summarizer_from_the_first(tiny_config, tmp_path):
    first = tmp_path / "pretrain"
    train(tiny_config(*UNLABELED, f"train.output_dir={first}", "train.max_steps=4", "train.eval_every=4"))
    pretrained = load_file(first / "checkpoints" / "step-0000004" / "model.safetensors")
    # A learning rate too small to move the weights: after one step they are still the first stage's.
    stage = ["train.max_steps=1", "train.eval_every=1", "train.warmup_steps=0", "train.learning_rate=1e-12",
             "train.tensorboard=false", "train.eval_max_examples=4"]
    train(tiny_config(*stage, f"model.init_from={first}", f"train.output_dir={tmp_path / 'from-pretrain'}"))
    train(tiny_config(*stage, f"train.output_dir={tmp_path / 'from-scratch'}"))
    started = load_file(tmp_path / "from-pretrain" / "checkpoints" / "step-0000001" / "model.safetensors")
    scratch = load_file(tmp_path / "from-scratch" / "checkpoints" / "step-0000001" / "model.safetensors")
    summarizer = [name for name in pretrained if name.startswith("seq2seq.")]
    assert summarizer
    for name in summarizer:
        torch.testing.assert_close(started[name], pretrained[name], rtol=0, atol=1e-6)
    assert any(not torch.equal(scratch[name], pretrained[name]) for name in summarizer)
    # The labeled stage has topics that the unlabeled one had not: its topic head is its own.
    assert started["topic_head.classifier.weight"].shape[0] > pretrained["topic_head.classifier.weight"].shape[0]


def test_init_from_a_folder_without_checkpoints_is_named(tiny_config, tmp_path):
    with pytest.raises(ValueError, match="model.init_from: .* neither a checkpoint nor a run folder"):
        train(tiny_config("train.max_steps=1", "train.warmup_steps=0", f"model.init_from={tmp_path}"))


def test_an_unknown_objective_is_a_config_error(tiny_config):
    with pytest.raises(ConfigError, match=r"data.sources.0.objective: 'mlm' is not one of"):
        tiny_config("data.sources.0.objective=mlm")


def test_gap_sentences_on_a_source_of_one_sentence_articles_names_the_source(tiny_config, tmp_path):
    rows = [{"id": f"s{i}", "text": f"Acme sold {i} phones.", "title": "t", "topics": [], "split": "train"}
            for i in range(4)]
    path = tmp_path / "short.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    with pytest.raises(ValueError, match="data source 'short': objective gap_sentences needs articles of two"):
        train(tiny_config(*UNLABELED, f"data.sources.1.path={path}", "data.sources.1.name=short", "train.max_steps=1",
                          "train.warmup_steps=0"))
