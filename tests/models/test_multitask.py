"""The multi-task model: masked topic loss, pooling over real tokens only, and a lossless directory round trip."""

import math

import pytest
import torch

from newsbrief.config import ModelConfig, RunConfig
from newsbrief.labels import LabelSpace
from newsbrief.models.backbone import build_seq2seq, load_tokenizer
from newsbrief.models.model_dir import load_model, save_model
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.models.topic_head import TopicHead, averaged_head, masked_bce

TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37}


def _tiny(share: bool):
    config = RunConfig(model=ModelConfig(random_init=True, share_encoder_decoder=share, config_overrides=TINY_BERT))
    tokenizer = load_tokenizer(config.model)
    torch.manual_seed(0)
    model = NewsBriefModel(build_seq2seq(config.model, tokenizer), num_labels=3).eval()
    return config, tokenizer, model


def test_masked_cells_are_neither_positive_nor_negative():
    logits = torch.tensor([[2.0, -1.0, 0.5]])
    mask = torch.tensor([[1.0, 0.0, 1.0]])
    as_positive = masked_bce(logits, torch.tensor([[1.0, 1.0, 0.0]]), mask)
    as_negative = masked_bce(logits, torch.tensor([[1.0, 0.0, 0.0]]), mask)
    assert as_positive == as_negative
    unmasked = masked_bce(logits, torch.tensor([[1.0, 1.0, 0.0]]), torch.ones(1, 3))
    assert unmasked != as_positive


def test_masked_loss_is_the_mean_over_annotated_cells_only():
    # One annotated cell of four: the loss is that cell's BCE (ln 2 at logit 0), not a quarter of it.
    logits = torch.tensor([[0.0, 3.0], [-2.0, 1.0]])
    targets = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    mask = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert masked_bce(logits, targets, mask).item() == pytest.approx(math.log(2))
    mask = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    annotated = mask > 0
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[annotated], targets[annotated])
    assert masked_bce(logits, targets, mask).item() == pytest.approx(expected.item())


def test_topic_head_ignores_padding():
    head = TopicHead(hidden_size=4, num_labels=2, dropout=0.0)
    states = torch.randn(1, 3, 4)
    padded = torch.cat([states, torch.randn(1, 2, 4)], dim=1)
    short = head(states, torch.ones(1, 3))
    long = head(padded, torch.tensor([[1, 1, 1, 0, 0]]))
    torch.testing.assert_close(short, long)


@pytest.mark.parametrize("hidden_layer_size", [0, 5])
def test_averaged_heads_give_the_mean_of_their_logits(hidden_layer_size):
    torch.manual_seed(0)
    heads = [TopicHead(8, 3, dropout=0.1, hidden_layer_size=hidden_layer_size).eval() for _ in range(3)]
    pooled = torch.randn(4, 8)
    merged = averaged_head(heads).eval()
    expected = torch.stack([head.classify(pooled) for head in heads]).mean(dim=0)
    assert torch.allclose(merged.classify(pooled), expected, atol=1e-6)
    assert not torch.allclose(heads[0].classify(pooled), expected, atol=1e-3)  # the heads do differ
    assert merged.classifier.in_features == (3 * hidden_layer_size or 8)


def test_batch_without_any_summary_target_trains_topics_only():
    _, tokenizer, model = _tiny(share=False)
    inputs = tokenizer(["a short article", "another one"], padding=True, return_tensors="pt",
                       return_token_type_ids=False)
    no_summaries = torch.full((2, 1), -100)
    output = model(inputs.input_ids, inputs.attention_mask, no_summaries, torch.ones(2, 3), torch.ones(2, 3))
    assert output.summary_loss.item() == 0.0
    assert torch.isfinite(output.loss) and output.loss.item() == pytest.approx(output.topic_loss.item())


@pytest.mark.parametrize("share", [False, True])
def test_saved_directory_reloads_to_identical_briefs(share, tmp_path):
    config, tokenizer, model = _tiny(share)
    inputs = tokenizer(["markets rallied on rate cut hopes", "the striker scored twice"], padding=True,
                       return_tensors="pt", return_token_type_ids=False)
    before = model.brief(inputs.input_ids, inputs.attention_mask, max_new_tokens=6)
    save_model(model, tokenizer, LabelSpace(["a", "b", "c"], {}), [0.3, 0.5, 0.7], config, tmp_path)
    loaded = load_model(tmp_path)
    after = loaded.model.brief(inputs.input_ids, inputs.attention_mask, max_new_tokens=6)
    assert torch.equal(before[0], after[0])
    torch.testing.assert_close(model.topic_probs(before[1]), loaded.model.topic_probs(after[1]))
    assert loaded.thresholds == [0.3, 0.5, 0.7]
    assert not list(tmp_path.glob("*.bin")) and not list(tmp_path.glob("*.pt"))


def test_a_head_with_a_hidden_layer_saves_and_reloads(tmp_path):
    config, tokenizer, model = _tiny(share=False)
    model.topic_head = TopicHead(model.hidden_size, 3, dropout=0.1, hidden_layer_size=5).eval()
    pooled = torch.randn(2, model.hidden_size)
    save_model(model, tokenizer, LabelSpace(["a", "b", "c"], {}), [0.5] * 3, config, tmp_path)
    loaded = load_model(tmp_path).model
    assert loaded.topic_head.hidden_layer[0].out_features == 5
    torch.testing.assert_close(loaded.topic_probs(pooled), model.topic_probs(pooled))


def test_loading_a_folder_that_is_not_a_model_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="newsbrief.yaml"):
        load_model(tmp_path)
