"""The topic-head refit: it fits the training topics better and touches nothing but the head."""

import pytest
import torch
from safetensors.torch import load_file

from newsbrief.data import concatenate, read_corpora, tokenize
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.topic_head import masked_bce
from newsbrief.train.loop import build_model, train
from newsbrief.train.topic_refit import refit_topic_head
from newsbrief.train.validation import run_briefer, stored_topic_targets


def _setup(config):
    tokenizer = load_tokenizer(config.model)
    corpora = read_corpora(config.data, splits=("train",))
    labels = LabelSpace.from_training_data(corpora["train"], config.data.sources, config.data.min_label_count)
    train_set = tokenize(concatenate(corpora["train"]), tokenizer, config.data, labels)
    torch.manual_seed(0)
    model = build_model(config, tokenizer, labels).eval()
    return tokenizer, labels, train_set, model


def _topic_loss(model, tokenizer, labels, config, train_set) -> float:
    states = run_briefer(model, tokenizer, labels, [0.5] * len(labels.names), config).article_states(train_set["text"])
    targets, masks = (torch.as_tensor(array) for array in stored_topic_targets(train_set))
    with torch.no_grad():
        return masked_bce(model.topic_head.classify(states), targets, masks).item()


@pytest.mark.parametrize("hidden_layer_size, changed_head", [
    (0, {"topic_head.classifier.weight", "topic_head.classifier.bias"}),
    (16, {"topic_head.hidden_layer.0.weight", "topic_head.hidden_layer.0.bias", "topic_head.classifier.weight",
          "topic_head.classifier.bias"}),
])
def test_refit_lowers_the_training_topic_loss_and_changes_only_the_head(tiny_config, hidden_layer_size, changed_head):
    config = tiny_config("train.topic_refit_epochs=100", "train.topic_refit_learning_rate=0.03",
                         f"train.topic_refit_hidden_layer_size={hidden_layer_size}")
    tokenizer, labels, train_set, model = _setup(config)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}

    loss_before = _topic_loss(model, tokenizer, labels, config, train_set)
    refit_topic_head(model, tokenizer, labels, config, train_set)
    loss_after = _topic_loss(model, tokenizer, labels, config, train_set)

    assert loss_after < 0.5 * loss_before, (loss_before, loss_after)
    after = model.state_dict()
    changed = {name for name, tensor in after.items() if name not in before or not torch.equal(tensor, before[name])}
    assert changed == changed_head


def test_refit_heads_merge_into_one_head_of_their_summed_width(tiny_config):
    config = tiny_config("train.topic_refit_epochs=100", "train.topic_refit_learning_rate=0.03",
                         "train.topic_refit_hidden_layer_size=16", "train.topic_refit_heads=2")
    tokenizer, labels, train_set, model = _setup(config)
    loss_before = _topic_loss(model, tokenizer, labels, config, train_set)
    refit_topic_head(model, tokenizer, labels, config, train_set)
    assert model.topic_head.classifier.in_features == 32
    assert _topic_loss(model, tokenizer, labels, config, train_set) < 0.5 * loss_before


def test_training_with_a_refit_exports_the_refit_head(tiny_config, tmp_path):
    config = tiny_config("train.max_steps=2", "train.warmup_steps=1", "train.eval_every=2", "train.eval_max_examples=2",
                         "train.tensorboard=false", "train.topic_refit_epochs=5")
    model_dir = train(config)
    exported = load_file(model_dir / "topic_head.safetensors")
    checkpoint = load_file(next((tmp_path / "run" / "checkpoints").glob("step-*[0-9]")) / "model.safetensors")
    assert not torch.equal(exported["classifier.weight"], checkpoint["topic_head.classifier.weight"])
    seq2seq = load_file(model_dir / "model.safetensors")  # the rest is the checkpoint's
    # (the export also stores the decoder's copies of shared weights, which the checkpoint holds once)
    stored = [name for name in seq2seq if f"seq2seq.{name}" in checkpoint]
    assert len(stored) > len(seq2seq) / 2
    assert all(torch.equal(seq2seq[name], checkpoint[f"seq2seq.{name}"]) for name in stored)
    training_time = next(line for line in (model_dir / "README.md").read_text().splitlines() if "training time" in line)
    assert "topic head refit" in training_time  # the card's training time counts the refit
