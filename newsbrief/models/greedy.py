"""Greedy decoding in which finished summaries leave the batch: the token ids of `generate`, less work.

Hugging Face `generate` keeps decoding a row after it has emitted its end token, until the longest row
of the batch is done. Headlines end long before `max_new_tokens`, so here finished rows are dropped
from the decoder input, the encoder states, their attention mask and the KV cache once they are a good
share of the batch, and the batch shrinks as it goes. The host learns which rows have finished only
every few steps (on a GPU every such read stalls the queue of kernels), and the decoder gets its masks
ready-made (models/decoder_masks.py), so that it reads none itself. The logits processors are
transformers' own, so the repetition penalty, n-gram blocking and minimum lengths mean exactly what they
mean in `generate`.
"""

from __future__ import annotations

import copy
import inspect
from dataclasses import dataclass

import torch
from transformers import (
    DynamicCache,
    EncoderDecoderCache,
    LogitsProcessorList,
    MinNewTokensLengthLogitsProcessor,
    NoRepeatNGramLogitsProcessor,
    PreTrainedModel,
    RepetitionPenaltyLogitsProcessor,
)
from transformers.modeling_outputs import BaseModelOutput
from transformers.utils import ModelOutput

from newsbrief.models.decoder_masks import DecoderMasks
from newsbrief.models.fact_guard import FactGuard

# The generation settings this loop reproduces, each with the values it reproduces them for. A setting
# outside this table that a model or a call sets (forced tokens, penalties, suppressed tokens, sampling,
# returned scores ...) sends the batch to `generate`.
GREEDY_SETTINGS = {
    "max_new_tokens": lambda v: isinstance(v, int) and v >= 1,
    "min_new_tokens": lambda v: isinstance(v, int) and v >= 0,
    "no_repeat_ngram_size": lambda v: isinstance(v, int) and v >= 0,
    "repetition_penalty": lambda v: isinstance(v, (int, float)) and v > 0,
    "decoder_start_token_id": lambda v: isinstance(v, int),  # a list would give each row its own start
    "eos_token_id": lambda v: isinstance(v, int) or (isinstance(v, list) and all(isinstance(t, int) for t in v)),
    "pad_token_id": lambda v: isinstance(v, int),
    "num_beams": lambda v: v == 1,
    "num_return_sequences": lambda v: v == 1,
    "do_sample": lambda v: v is False,
    "use_cache": lambda v: v is True,
    "output_attentions": lambda v: not v,
    "output_hidden_states": lambda v: not v,
    # Read by generate only where greedy decoding does not go: beam search, or no max_new_tokens.
    "length_penalty": lambda v: True,
    "early_stopping": lambda v: True,
    "max_length": lambda v: True,
    "bos_token_id": lambda v: True,
}


@dataclass(frozen=True)
class GreedySettings:
    max_new_tokens: int
    min_new_tokens: int
    no_repeat_ngram_size: int
    repetition_penalty: float
    decoder_start_token_id: int
    eos_token_ids: tuple[int, ...]
    pad_token_id: int


def generate(seq2seq: PreTrainedModel, encoder_outputs: ModelOutput, attention_mask: torch.Tensor,
             guard: FactGuard | None = None, **kwargs) -> torch.Tensor:
    """The token ids `seq2seq.generate(encoder_outputs=..., attention_mask=..., **kwargs)` returns: by the
    greedy loop below where it reproduces them, by `generate` itself otherwise (beam search, ...).
    A `guard` masks the scores after the settings' own processors, in both."""
    settings = greedy_settings(seq2seq, kwargs)
    if settings is None:
        if guard is not None:
            kwargs["logits_processor"] = LogitsProcessorList([*kwargs.get("logits_processor", []), guard])
        return seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, **kwargs)
    return greedy_decode(seq2seq, encoder_outputs.last_hidden_state, attention_mask, settings, guard)


def greedy_settings(seq2seq: PreTrainedModel, kwargs: dict) -> GreedySettings | None:
    """The settings `generate` would use with `kwargs`, or None unless the greedy loop reproduces them all.

    As in `generate`, keyword arguments override the model's generation config. Model classes that are
    not transformers' own (remote code, wrappers) may read other inputs; they go to `generate` too.
    """
    if not (isinstance(seq2seq, PreTrainedModel) and seq2seq.config.is_encoder_decoder
            and not seq2seq.is_custom_code() and cache_keyword(seq2seq) is not None):
        return None
    config = copy.deepcopy(seq2seq.generation_config)
    if config.update(**kwargs):  # arguments that are no generation setting: model inputs, logits processors
        return None
    chosen = {name: value for name, value in config.to_diff_dict().items()
              if not name.startswith("_") and name != "transformers_version"}
    if "max_new_tokens" not in chosen or "decoder_start_token_id" not in chosen:
        return None
    if not all(name in GREEDY_SETTINGS and GREEDY_SETTINGS[name](value) for name, value in chosen.items()):
        return None
    eos = chosen.get("eos_token_id")
    eos_token_ids = () if eos is None else (eos,) if isinstance(eos, int) else tuple(eos)
    # generate pads finished rows with the first end token when the model names no pad token.
    pad = chosen.get("pad_token_id", eos_token_ids[0] if eos_token_ids else 0)
    return GreedySettings(chosen["max_new_tokens"], chosen.get("min_new_tokens", 0),
                          chosen.get("no_repeat_ngram_size", 0), chosen.get("repetition_penalty", 1.0),
                          chosen["decoder_start_token_id"], eos_token_ids, pad)


# How often the loop reads on the host which rows have ended (every read waits for the GPU to finish all
# it was given), and the share of the batch that must have ended before their rows leave it (leaving
# copies every remaining row's KV cache; until then an ended row decodes on, its tokens discarded).
CHECK_EVERY = 4
COMPACT_SHARE = 0.25


@torch.no_grad()
def greedy_decode(seq2seq: PreTrainedModel, encoder_states: torch.Tensor, attention_mask: torch.Tensor,
                  settings: GreedySettings, guard: FactGuard | None = None, *, check_every: int = CHECK_EVERY,
                  compact_share: float = COMPACT_SHARE) -> torch.Tensor:
    """(batch, 1 + steps) token ids: the decoder start, then each row's tokens, padded after its end token.

    Which rows have ended is read on the host every `check_every` steps, no more: the loop stops when all
    have, and the ended rows leave the batch once they are `compact_share` of it. A guard reads every
    row on the host each step anyway: it reads which rows still decode with them, and masks only those."""
    batch, device = encoder_states.shape[0], encoder_states.device
    sequences = torch.full((batch, 1 + settings.max_new_tokens), settings.pad_token_id, dtype=torch.long,
                           device=device)
    sequences[:, 0] = settings.decoder_start_token_id
    eos = torch.tensor(settings.eos_token_ids, dtype=torch.long, device=device)
    processors = _logits_processors(settings, eos)
    # The cache generate() builds: the decoder's self-attention and its cross-attention over the article.
    decoder_config = seq2seq.config.get_text_config(decoder=True)
    cache = EncoderDecoderCache(DynamicCache(config=decoder_config), DynamicCache(config=decoder_config))
    cache_name = cache_keyword(seq2seq)
    masks = DecoderMasks(seq2seq, encoder_states, attention_mask, settings.max_new_tokens)
    rows = torch.arange(batch, device=device)  # the row of `sequences` each row of the batch decodes
    live = torch.ones(batch, dtype=torch.bool, device=device)  # not ended yet
    columns = torch.ones((), dtype=torch.long, device=device)  # of `sequences` decoded while a row was live
    # One host read per check: the live rows and the columns, packed in one integer.
    pack = settings.max_new_tokens + 2
    for step in range(settings.max_new_tokens):
        logits = seq2seq(decoder_input_ids=sequences[rows, step:step + 1], attention_mask=masks.article,
                         decoder_attention_mask=masks.summary(step, len(rows)),
                         encoder_outputs=BaseModelOutput(last_hidden_state=encoder_states),
                         use_cache=True, **{cache_name: cache}).logits
        scores = processors(sequences[rows, :step + 1], logits[:, -1].float())
        if guard is not None:
            decoding = live.nonzero().flatten()  # a host read, beside the guard's own of the same rows
            if len(decoding):
                scores[decoding] = guard.mask(sequences[rows[decoding], :step + 1], scores[decoding],
                                              rows[decoding].tolist())
        # As in generate: a row that has ended gets the pad token.
        tokens = torch.where(live, scores.argmax(dim=-1), settings.pad_token_id)
        sequences[rows, step + 1] = tokens
        columns += live.any()
        live &= ~torch.isin(tokens, eos)
        last = step == settings.max_new_tokens - 1
        # No row can end before min_new_tokens.
        if step < settings.min_new_tokens or not (last or (step + 1) % check_every == 0):
            continue
        live_rows, decoded = divmod(int(live.sum() * pack + columns), pack)
        if live_rows == 0 or last:
            return sequences[:, :decoded]
        ended = len(rows) - live_rows
        if ended and ended >= compact_share * len(rows):
            # The live rows, in order, found without a host read: their count is known.
            keep = torch.argsort(live.to(torch.uint8), descending=True, stable=True)[:live_rows]
            rows, live, encoder_states = rows[keep], live[keep], encoder_states[keep]
            masks.keep(keep)
            cache.batch_select_indices(keep)  # self- and cross-attention keys and values alike
    return sequences


def cache_keyword(seq2seq: PreTrainedModel) -> str | None:
    """The name under which this model's forward takes the KV cache: `past_key_values` before transformers
    5.24, `cache` from then on (the old name is deprecated there, to go in 5.40), or None if it names neither.

    A forward also takes **kwargs and silently ignores a name it does not know: the cache would stay empty
    and every step decode with no history. So the name is read from the signature, not assumed.
    """
    parameters = inspect.signature(seq2seq.forward).parameters
    return next((name for name in ("cache", "past_key_values") if name in parameters), None)


def _logits_processors(settings: GreedySettings, eos: torch.Tensor) -> LogitsProcessorList:
    """The processors generate() applies for these settings, in its order."""
    processors = LogitsProcessorList()
    if settings.repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(settings.repetition_penalty))
    if settings.no_repeat_ngram_size > 0:
        processors.append(NoRepeatNGramLogitsProcessor(settings.no_repeat_ngram_size))
    if settings.min_new_tokens > 0 and len(eos):
        # The decoder start is the prompt: new tokens are counted after it.
        processors.append(MinNewTokensLengthLogitsProcessor(1, settings.min_new_tokens, eos, device=eos.device))
    return processors
