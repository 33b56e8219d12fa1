"""The topic-head refit: it fits the training topics better, and touches nothing but the head."""

import torch
from safetensors.torch import load_file

from newsbrief.data import Collator, LabelSpace, concatenate, read_corpora, tokenize
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.topic_head import masked_bce
from newsbrief.train.loop import build_model, train
from newsbrief.train.topic_refit import pooled_states, refit_topic_head


def test_refit_lowers_the_training_topic_loss_and_changes_only_the_head(tiny_config):
    config = tiny_config("train.topic_refit_epochs=100", "train.topic_refit_learning_rate=0.03")
    tokenizer = load_tokenizer(config.model)
    corpora = read_corpora(config.data, splits=("train",))
    labels = LabelSpace.from_training_data(corpora["train"], config.data.sources, config.data.min_label_count)
    train_set = tokenize(concatenate(corpora["train"]), tokenizer, config.data, labels)
    collator = Collator(tokenizer.pad_token_id)
    torch.manual_seed(0)
    model = build_model(config, tokenizer, labels).eval()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}

    def topic_loss() -> float:
        states, targets, masks = pooled_states(model, train_set, collator)
        with torch.no_grad():
            return masked_bce(model.topic_head.classify(states), targets, masks).item()

    loss_before = topic_loss()
    refit_topic_head(model, train_set, collator, config.train)
    loss_after = topic_loss()

    assert loss_after < 0.5 * loss_before, (loss_before, loss_after)
    changed = {name for name, tensor in model.state_dict().items() if not torch.equal(tensor, before[name])}
    assert changed == {"topic_head.classifier.weight", "topic_head.classifier.bias"}


def test_pooled_states_are_what_the_head_reads_at_inference(tiny_config):
    # The refit's length-sorted, padded batches must pool exactly what one article alone pools.
    config = tiny_config()
    tokenizer = load_tokenizer(config.model)
    corpora = read_corpora(config.data, splits=("train",))
    labels = LabelSpace.from_training_data(corpora["train"], config.data.sources, config.data.min_label_count)
    train_set = tokenize(concatenate(corpora["train"]), tokenizer, config.data, labels)
    model = build_model(config, tokenizer, labels).eval()
    states, _, _ = pooled_states(model, train_set, Collator(tokenizer.pad_token_id))
    shortest = min(range(len(train_set)), key=lambda i: train_set[i]["length"])
    ids = torch.tensor([train_set[shortest]["input_ids"]])
    logits = model.topic_head(model.encode(ids, torch.ones_like(ids)).last_hidden_state, torch.ones_like(ids))
    torch.testing.assert_close(model.topic_head.classify(states[:1]), logits, rtol=1e-4, atol=1e-5)


def test_training_with_a_refit_exports_the_refit_head(tiny_config, tmp_path):
    config = tiny_config("train.max_steps=2", "train.warmup_steps=1", "train.eval_every=2", "train.eval_max_examples=2",
                         "train.tensorboard=false", "train.topic_refit_epochs=5")
    model_dir = train(config)
    exported = load_file(model_dir / "topic_head.safetensors")
    checkpoint = load_file(next((tmp_path / "run" / "checkpoints").glob("step-*[0-9]")) / "model.safetensors")
    assert not torch.equal(exported["classifier.weight"], checkpoint["topic_head.classifier.weight"])
    seq2seq = load_file(model_dir / "model.safetensors")  # the rest is the checkpoint's
    assert seq2seq and all(torch.equal(tensor, checkpoint[f"seq2seq.{name}"]) for name, tensor in seq2seq.items())
