"""NewsBriefModel: a seq2seq summarizer and a topic head that share one encoder pass."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from transformers import PreTrainedModel

from newsbrief.models.fact_guard import FactGuard
from newsbrief.models.greedy import generate
from newsbrief.models.topic_head import TopicHead, masked_bce


@dataclass
class MultitaskOutput:
    loss: torch.Tensor
    summary_loss: torch.Tensor
    topic_loss: torch.Tensor
    topic_logits: torch.Tensor


class NewsBriefModel(nn.Module):
    def __init__(self, seq2seq: PreTrainedModel, num_labels: int, topic_dropout: float = 0.1,
                 topic_loss_weight: float = 1.0, train_summaries: bool = True):
        super().__init__()
        self.seq2seq = seq2seq
        self.hidden_size = seq2seq.get_encoder().config.hidden_size
        self.topic_head = TopicHead(self.hidden_size, num_labels, topic_dropout)
        self.topic_loss_weight = topic_loss_weight
        # False over a frozen summarizer: the summary loss could only pull its trainable encoder layers away
        # from the states its decoder was trained on, and its decoder pass would be spent for nothing.
        self.train_summaries = train_summaries

    @property
    def dtype(self) -> torch.dtype:
        """What the model computes in (int8 quantization keeps the embeddings in it, too)."""
        return self.seq2seq.get_input_embeddings().weight.dtype

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        return self.seq2seq.get_encoder()(input_ids=input_ids, attention_mask=attention_mask, return_dict=True)

    def forward(self, input_ids, attention_mask, labels, topic_labels, topic_mask) -> MultitaskOutput:
        encoder_outputs = self.encode(input_ids, attention_mask)
        topic_logits = self.topic_head(encoder_outputs.last_hidden_state, attention_mask)
        topic_loss = masked_bce(topic_logits, topic_labels, topic_mask)
        summary_loss = (self.summary_loss(encoder_outputs, attention_mask, labels) if self.train_summaries
                        else topic_loss.new_zeros(()))
        return MultitaskOutput(summary_loss + self.topic_loss_weight * topic_loss,
                               summary_loss, topic_loss, topic_logits)

    def summary_loss(self, encoder_outputs, attention_mask: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over the summary target tokens, 0 when the batch has none."""
        # Decoder inputs are made here and the loss computed below, rather than by the backbone from
        # `labels`: a batch may hold no summary targets at all (topic-only sources), and the
        # backbone's mean over zero tokens would be NaN.
        decoder_input_ids = self.seq2seq.prepare_decoder_input_ids_from_labels(labels=labels)
        logits = self.seq2seq(encoder_outputs=encoder_outputs, attention_mask=attention_mask,
                              decoder_input_ids=decoder_input_ids, use_cache=False).logits
        token_losses = F.cross_entropy(logits.float().flatten(0, 1), labels.flatten(),
                                       ignore_index=-100, reduction="sum")
        return token_losses / (labels != -100).sum().clamp(min=1)

    @torch.no_grad()
    def brief(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, guard: FactGuard | None = None,
              **generate_kwargs):
        """Summary token ids and the pooled states the topic head reads, from a single encoder pass; a
        `guard` keeps names and numbers to those of each row's article."""
        encoder_outputs = self.encode(input_ids, attention_mask)
        # Pooled first: beam search expands the encoder states in place, one copy per beam.
        pooled = self.topic_head.pool(encoder_outputs.last_hidden_state, attention_mask)
        return generate(self.seq2seq, encoder_outputs, attention_mask, guard, **generate_kwargs), pooled

    @torch.no_grad()
    def pooled_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """The mean encoder state of each input: what the topic head reads."""
        return self.topic_head.pool(self.encode(input_ids, attention_mask).last_hidden_state, attention_mask)

    @torch.no_grad()
    def topic_probs(self, pooled: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.topic_head.classify(pooled.to(self.dtype)).float())
