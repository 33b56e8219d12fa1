"""DistributedDataParallel is told of unused parameters only where a model has them."""

from __future__ import annotations

import pytest
import torch

from newsbrief.config import ModelConfig
from newsbrief.models.backbone import load_tokenizer
from newsbrief.models.multitask import NewsBriefModel
from newsbrief.train.processes import unused_parameters

from tests.models.test_greedy import _tiny_seq2seq


def a_batch(tokenizer) -> dict[str, torch.Tensor]:
    inputs = tokenizer(["rain in spain", "stocks fell sharply"], padding=True, return_tensors="pt",
                       return_token_type_ids=False)
    labels = tokenizer(["rain", "stocks fell"], padding=True, return_tensors="pt").input_ids
    return {**inputs, "labels": labels.masked_fill(labels == tokenizer.pad_token_id, -100),
            "topic_labels": torch.tensor([[1.0, 0.0], [0.0, 1.0]]), "topic_mask": torch.ones(2, 2)}


@pytest.mark.parametrize("kind, unused", [("bert2bert", True), ("bart", False)])
def test_unused_parameters_are_found_where_a_model_has_them_and_the_rng_is_left_alone(kind, unused):
    tokenizer = load_tokenizer(ModelConfig())
    model = NewsBriefModel(_tiny_seq2seq(kind, tokenizer), num_labels=2).train()
    rng = torch.get_rng_state()
    names = unused_parameters(model, a_batch(tokenizer))
    assert torch.equal(torch.get_rng_state(), rng)
    assert bool(names) == unused
    assert all("pooler" in name for name in names)  # BERT2BERT's encoder pooler feeds no loss
    assert all(parameter.grad is None for parameter in model.parameters())
