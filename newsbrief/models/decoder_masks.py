"""The decoder's attention masks for a greedy batch, built once, in the form the model's attention takes.

Given a 2D mask, transformers' decoders rebuild the 4D one every step and read it on the host first, to
skip it when nothing is masked (`padding_mask.all()` for the article's padding; BART also turns a
missing decoder mask into ones and reads those). On a GPU each read waits for every queued kernel.
A 4D mask is taken as it is, so the loop builds both here, with transformers' own mask functions,
once per batch: the one over the article, cut to the rows still decoding when the batch shrinks, and
the causal one over the summary, sliced to each step. Only "sdpa" and "eager" attention take a plain
4D tensor; other kinds (flash, flex) get the 2D mask as before and build their own.
"""

from __future__ import annotations

import torch
from transformers import PreTrainedModel
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, bidirectional_mask_function, causal_mask_function

TENSOR_MASK_ATTENTION = ("sdpa", "eager")


class DecoderMasks:
    def __init__(self, seq2seq: PreTrainedModel, encoder_states: torch.Tensor, attention_mask: torch.Tensor,
                 max_new_tokens: int):
        config = seq2seq.get_decoder().config
        self.prebuilt = config._attn_implementation in TENSOR_MASK_ATTENTION
        if not self.prebuilt:
            self.article = attention_mask
            return
        build = ALL_MASK_ATTENTION_FUNCTIONS[config._attn_implementation]
        shape = {"dtype": encoder_states.dtype, "device": encoder_states.device, "config": config,
                 "allow_is_causal_skip": False, "allow_is_bidirectional_skip": False}
        self.article = build(batch_size=encoder_states.shape[0], q_length=1, kv_length=attention_mask.shape[1],
                             mask_function=bidirectional_mask_function, attention_mask=attention_mask.bool(), **shape)
        """(rows, 1, 1, article tokens): where each row's decoder may look in its article."""
        self._causal = build(batch_size=1, q_length=max_new_tokens, kv_length=max_new_tokens,
                             mask_function=causal_mask_function, attention_mask=None, **shape)
        """(1, 1, step, step): row i is where the summary's token i may look; built once for every step."""

    def summary(self, step: int, rows: int) -> torch.Tensor | None:
        """The self-attention mask of the decoder's token at `step`: every token up to it (a view, no kernel)."""
        if not self.prebuilt:
            return None
        return self._causal[:, :, step:step + 1, :step + 1].expand(rows, -1, -1, -1)

    def keep(self, keep: torch.Tensor) -> None:
        """Only the rows `keep` (indices) go on decoding."""
        self.article = self.article[keep]
