"""The encoder's matrix products from its shapes: which matmuls one layer runs on a padded batch, and their FLOPs.

A transformer encoder layer over a batch of `rows` articles padded to `length` tokens multiplies, per
token, by the query, key, value and output projections (hidden x hidden each) and by the feed-forward
pair (hidden x intermediate, intermediate x hidden); per row and head, queries by keys (length x
head_dim by head_dim x length) and attention weights by values (length x length by length x head_dim).
Softmax, layer norms, activations, biases and the embeddings are elementwise work, left out: they are
what the gap between the encoder and the matmul limit holds, with the kernels' own inefficiency.
Padded tokens count: the kernels compute them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int
    heads: int

    @classmethod
    def of(cls, config) -> "EncoderShape":
        """From an encoder's Hugging Face config: BERT's names, or BART's encoder_* (hidden_size and
        num_attention_heads are mapped onto d_model and encoder_attention_heads by BartConfig itself)."""
        return cls(layers=getattr(config, "encoder_layers", None) or config.num_hidden_layers,
                   hidden=config.hidden_size,
                   intermediate=getattr(config, "encoder_ffn_dim", None) or config.intermediate_size,
                   heads=config.num_attention_heads)


Matmul = tuple[str, tuple[int, ...], tuple[int, ...]]
"""A kind (projection, feed-forward, attention), the left operand's shape and the right one's."""


def layer_matmuls(shape: EncoderShape, rows: int, length: int) -> list[Matmul]:
    """The matrix products of one encoder layer over a (rows x length) padded batch, as torch.matmul takes them."""
    tokens, h, i = rows * length, shape.hidden, shape.intermediate
    head_dim = h // shape.heads
    heads = rows * shape.heads
    return ([("projection", (tokens, h), (h, h))] * 4
            + [("feed-forward", (tokens, h), (h, i)), ("feed-forward", (tokens, i), (i, h)),
               ("attention", (heads, length, head_dim), (heads, head_dim, length)),
               ("attention", (heads, length, length), (heads, length, head_dim))])


def matmul_flops(left: tuple[int, ...], right: tuple[int, ...]) -> int:
    """2 x multiply-adds of (..., m, k) @ (..., k, n): one multiply and one add per term."""
    return 2 * math.prod(left) * right[-1]


def encoder_flops(shape: EncoderShape, batches: list[tuple[int, int]]) -> int:
    """FLOPs of the encoder's matrix products over padded batches of (rows, length)."""
    return shape.layers * sum(matmul_flops(left, right) for rows, length in batches
                              for _, left, right in layer_matmuls(shape, rows, length))
