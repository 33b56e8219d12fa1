"""benchmarks/encoder_flops.py: the encoder's matmul FLOPs from its shapes, by hand and by torch's own counter."""

import importlib

import pytest
import torch

from tests.conftest import ROOT


@pytest.fixture
def flops(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))  # the benchmarks import each other by name
    return importlib.import_module("encoder_flops")


def test_a_hand_counted_encoder(flops):
    shape = flops.EncoderShape(layers=2, hidden=4, intermediate=8, heads=2)
    # One row of 3 tokens, per layer: Q, K, V, O 4 x 2*3*4*4 = 384; feed-forward 2*3*4*8 + 2*3*8*4 = 384;
    # attention, 2 heads of dim 2: scores 2*2*3*2*3 = 72, weighted values 2*2*3*3*2 = 72. Two layers: 2 x 912.
    assert flops.encoder_flops(shape, [(1, 3)]) == 1824
    # Two rows of 1 token: 4 x 2*2*4*4 = 256, 2*2*4*8 * 2 = 256, attention 2 x 2*4*1*2*1 = 32; per batch, added.
    assert flops.encoder_flops(shape, [(1, 3), (2, 1)]) == 1824 + 2 * 544


def test_the_count_is_what_torch_counts_for_a_bert_encoder(flops):
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import BertConfig, BertModel

    config = BertConfig(vocab_size=50, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=37, attn_implementation="eager")
    encoder = BertModel(config, add_pooling_layer=False).eval()
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        encoder(input_ids=torch.ones(3, 11, dtype=torch.long), attention_mask=torch.ones(3, 11, dtype=torch.long))
    assert flops.encoder_flops(flops.EncoderShape.of(config), [(3, 11)]) == counter.get_total_flops()
