"""Greedy decoding with finished rows leaving the batch: the token ids of `generate`, for BERT2BERT, BART
and T5, with rows that end at different steps; and `generate` itself for what the loop does not do."""

import inspect
from types import SimpleNamespace

import pytest
import torch
from transformers import (BartConfig, BartForConditionalGeneration, GPT2Config, GPT2LMHeadModel, LogitsProcessorList,
                          T5Config, T5ForConditionalGeneration)
from transformers.modeling_outputs import BaseModelOutput

from newsbrief.config import GenerationSettings, ModelConfig
from newsbrief.models import greedy
from newsbrief.models.backbone import apply_generation_settings, build_seq2seq, load_tokenizer

MAX_NEW_TOKENS = 12
ARTICLES = ["rain in spain", "stocks fell sharply on tuesday after the bank raised rates", "the striker scored twice",
            "oil", "a b c d e f g h i j k l m n", "markets rallied on rate cut hopes across asia",
            "the central bank held rates", "film wins prize at festival"]


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(ModelConfig())


def _tiny_seq2seq(kind: str, tokenizer):
    """Random weights, drawn wider than transformers' default so that articles get different summaries
    (with the default, every row repeats the same few tokens, and rows mixed up would go unnoticed)."""
    ids = {"pad_token_id": tokenizer.pad_token_id, "eos_token_id": tokenizer.sep_token_id,
           "decoder_start_token_id": tokenizer.cls_token_id}
    torch.manual_seed(0)
    if kind == "bert2bert":
        overrides = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 37,
                     "initializer_range": 0.2}
        model = build_seq2seq(ModelConfig(random_init=True, config_overrides=overrides, share_encoder_decoder=True),
                              tokenizer)
    elif kind == "bart":
        model = BartForConditionalGeneration(BartConfig(
            vocab_size=len(tokenizer), d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
            decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=128,
            init_std=0.2, forced_eos_token_id=None, **ids))
    else:
        model = T5ForConditionalGeneration(T5Config(vocab_size=len(tokenizer), d_model=32, d_kv=8, d_ff=37,
                                                    num_layers=2, num_heads=4, initializer_factor=5.0, **ids))
    return model.eval()


@pytest.fixture(scope="module", params=["bert2bert", "bart", "t5"])
def backbone(request, tokenizer):
    """(seq2seq, encoder outputs, attention mask) for ARTICLES, padded to the longest."""
    seq2seq = _tiny_seq2seq(request.param, tokenizer)
    inputs = tokenizer(ARTICLES, padding=True, return_tensors="pt", return_token_type_ids=False)
    with torch.no_grad():
        encoder_outputs = seq2seq.get_encoder()(**inputs, return_dict=True)
    return seq2seq, encoder_outputs, inputs.attention_mask


def staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size: int,
                         min_new_tokens: int = 0, repetition_penalty: float = 1.0) -> list[int]:
    """End tokens with which rows finish at different steps.

    Random models hardly ever emit their end token, so decode with none, then take as end tokens some
    that the rows do emit, at different steps, and none before `min_new_tokens`: decoding with them is
    the same up to each row's first one, where that row ends.
    """
    free = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, eos_token_id=None,
                            num_beams=1, max_new_tokens=MAX_NEW_TOKENS,
                            no_repeat_ngram_size=no_repeat_ngram_size, repetition_penalty=repetition_penalty)[:, 1:]
    chosen: list[int] = []
    for token in sorted(set(free[:, min_new_tokens:].flatten().tolist())
                        - set(free[:, :min_new_tokens].flatten().tolist())):
        if len(set(end_steps(free, chosen + [token]).tolist())) > len(set(end_steps(free, chosen).tolist())):
            chosen.append(token)
    return chosen


def end_steps(generated: torch.Tensor, end_tokens: list[int]) -> torch.Tensor:
    """Per row, the step of its first end token, or MAX_NEW_TOKENS if it has none."""
    ended = torch.isin(generated, torch.tensor(end_tokens, dtype=torch.long))
    return torch.where(ended.any(1), ended.int().argmax(1), MAX_NEW_TOKENS)


def decoder_batch_sizes(seq2seq) -> tuple[list[int], object]:
    """The batch size of every decoder step, recorded by a hook (remove it with the returned handle)."""
    sizes: list[int] = []
    handle = seq2seq.register_forward_pre_hook(
        lambda module, args, kwargs: sizes.append(kwargs["decoder_input_ids"].shape[0]), with_kwargs=True)
    return sizes, handle


@pytest.mark.parametrize("repetition_penalty", [1.0, 1.6])
@pytest.mark.parametrize("min_new_tokens", [0, 5])
@pytest.mark.parametrize("no_repeat_ngram_size", [0, 2, 3])
@pytest.mark.parametrize("schedule", ["as shipped", "rows leave at once"])
def test_same_ids_as_generate_while_finished_rows_leave(backbone, no_repeat_ngram_size, min_new_tokens,
                                                        repetition_penalty, schedule):
    seq2seq, encoder_outputs, attention_mask = backbone
    settings = {"num_beams": 1, "no_repeat_ngram_size": no_repeat_ngram_size, "min_new_tokens": min_new_tokens,
                "repetition_penalty": repetition_penalty}
    ends = staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size, min_new_tokens,
                                repetition_penalty)
    settings.update(max_new_tokens=MAX_NEW_TOKENS, eos_token_id=ends)
    assert greedy.greedy_settings(seq2seq, settings) is not None  # the loop, not its fallback, is under test

    expected = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, **settings)
    sizes, hook = decoder_batch_sizes(seq2seq)
    try:
        if schedule == "as shipped":
            ids = greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings)
        else:  # the host checks every step and every ended row leaves at once
            ids = greedy.greedy_decode(seq2seq, encoder_outputs.last_hidden_state, attention_mask,
                                       greedy.greedy_settings(seq2seq, settings), check_every=1, compact_share=0.0)
    finally:
        hook.remove()
    assert torch.equal(ids, expected)

    assert len(set(end_steps(ids[:, 1:], ends).tolist())) >= 3  # rows finish at several different steps
    assert sizes[0] == len(ARTICLES) and sizes == sorted(sizes, reverse=True)
    if schedule == "rows leave at once":
        assert sizes[-1] < sizes[0]


@pytest.mark.parametrize("setting", [{"no_repeat_ngram_size": 1}, {"min_new_tokens": 1}, {"repetition_penalty": 2.0}])
def test_a_setting_at_the_first_value_where_it_acts_acts_in_the_loop_as_in_generate(backbone, setting):
    """The smallest counts that act (no token twice; no end token first) and a penalty other than the matrix's."""
    seq2seq, encoder_outputs, attention_mask = backbone
    ends = staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size=0)
    settings = {"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS}
    first = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, eos_token_id=None,
                             **settings)[0, 1].item()
    settings["eos_token_id"] = ends + [first]  # the first row would end at once
    plain = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, **settings)
    expected = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, **settings, **setting)
    assert not torch.equal(expected, plain)  # the setting acts on these rows
    assert greedy.greedy_settings(seq2seq, {**settings, **setting}) is not None  # the loop, not generate, decodes
    assert torch.equal(greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings, **setting), expected)


def test_ended_rows_leave_once_they_are_a_share_of_the_batch(backbone):
    """Checked every 3 steps, with a share of 0.25: the batch shrinks only at a check, and only when a quarter
    of it or more has ended since it last shrank."""
    seq2seq, encoder_outputs, attention_mask = backbone
    ends = staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size=0)
    settings = {"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS, "eos_token_id": ends}
    expected = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, **settings)
    ended_by = [int((end_steps(expected[:, 1:], ends) <= step).sum()) for step in range(MAX_NEW_TOKENS)]
    sizes, hook = decoder_batch_sizes(seq2seq)
    try:
        ids = greedy.greedy_decode(seq2seq, encoder_outputs.last_hidden_state, attention_mask,
                                   greedy.greedy_settings(seq2seq, settings), check_every=3, compact_share=0.25)
    finally:
        hook.remove()
    assert torch.equal(ids, expected)
    size = len(ARTICLES)
    for step in range(1, len(sizes)):
        if step % 3 == 0 and size - (len(ARTICLES) - ended_by[step - 1]) >= 0.25 * size:
            size = len(ARTICLES) - ended_by[step - 1]
        assert sizes[step] == size, (step, sizes, ended_by)
    assert len(set(sizes)) > 1  # the batch did shrink


def test_the_host_reads_which_rows_ended_once_every_few_steps(backbone):
    """On a GPU every read of a device value on the host (`int(t)`, `bool(t)`, `nonzero`) waits for the
    queued kernels. The profiler counts them on the CPU too: one per `CHECK_EVERY` steps, none inside the
    model (transformers' decoders read their 2D masks on the host every step unless given 4D ones)."""
    seq2seq, encoder_outputs, attention_mask = backbone
    settings = {"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS, "eos_token_id": None}
    steps, hook = decoder_batch_sizes(seq2seq)
    try:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
            ids = greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings)
    finally:
        hook.remove()
    assert ids.shape[1] == 1 + MAX_NEW_TOKENS == 1 + len(steps)
    reads = [event.name for event in profile.events()
             if event.name in ("aten::_local_scalar_dense", "aten::nonzero")]
    assert len(reads) == MAX_NEW_TOKENS // greedy.CHECK_EVERY, reads


def test_the_kv_cache_reaches_the_model(backbone, monkeypatch):
    """A forward takes **kwargs and drops a cache passed by a name it does not know (transformers before 5.24
    names it past_key_values, 5.24 on cache): the cache then stays empty and each step decodes without history."""
    seq2seq, encoder_outputs, attention_mask = backbone
    caches, build = [], greedy.EncoderDecoderCache
    monkeypatch.setattr(greedy, "EncoderDecoderCache", lambda *parts: caches.append(build(*parts)) or caches[-1])
    ids = greedy.generate(seq2seq, encoder_outputs, attention_mask, num_beams=1, max_new_tokens=3)
    (cache,) = caches
    assert cache.get_seq_length() == ids.shape[1] - 1 > 0  # one entry for every decoder step


def test_min_new_tokens_holds_back_the_end_token_as_in_generate(backbone):
    """A row whose end token comes at step k ends there with min_new_tokens=k, and later with k + 1."""
    seq2seq, encoder_outputs, attention_mask = backbone
    ends = staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size=0)
    settings = {"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS, "eos_token_id": ends}
    unconstrained = greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings)
    steps = end_steps(unconstrained[:, 1:], ends)
    last_end = int(steps[steps < MAX_NEW_TOKENS].max())
    results = []
    for min_new_tokens in (last_end, last_end + 1):
        expected = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask,
                                    min_new_tokens=min_new_tokens, **settings)
        ids = greedy.generate(seq2seq, encoder_outputs, attention_mask, min_new_tokens=min_new_tokens, **settings)
        assert torch.equal(ids, expected)
        results.append(ids)
    assert not torch.equal(results[0], results[1])  # the bound was where a row ended


def test_a_row_decoded_alone_gets_the_ids_it_gets_in_a_batch(backbone, tokenizer):
    seq2seq, encoder_outputs, attention_mask = backbone
    settings = {"num_beams": 1, "no_repeat_ngram_size": 2, "min_new_tokens": 0}
    settings.update(max_new_tokens=MAX_NEW_TOKENS,
                    eos_token_id=staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size=2))
    batched = greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings)
    for row, ids in enumerate(batched):
        length = int(attention_mask[row].sum())  # the article without the batch's padding
        alone = encoder_outputs.__class__(last_hidden_state=encoder_outputs.last_hidden_state[row:row + 1, :length])
        (single,) = greedy.generate(seq2seq, alone, attention_mask[row:row + 1, :length], **settings)
        assert torch.equal(single, ids[:len(single)]) and (ids[len(single):] == tokenizer.pad_token_id).all()


@pytest.mark.parametrize("setting", [{"num_beams": 2}, {"do_sample": True}, {"encoder_repetition_penalty": 1.2},
                                     {"forced_eos_token_id": 102}, {"suppress_tokens": [5]}, {"min_length": 3},
                                     {"max_new_tokens": None}, {"decoder_attention_mask": None}])
def test_what_the_loop_does_not_do_goes_to_generate(backbone, setting, monkeypatch):
    seq2seq, encoder_outputs, attention_mask = backbone
    settings = {"num_beams": 1, "max_new_tokens": 4, "no_repeat_ngram_size": 2, **setting}
    assert greedy.greedy_settings(seq2seq, settings) is None
    calls = []
    monkeypatch.setattr(seq2seq, "generate", lambda **kwargs: calls.append(kwargs) or "generated")
    assert greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings) == "generated"
    (call,) = calls
    assert call.pop("encoder_outputs") is encoder_outputs and call.pop("attention_mask") is attention_mask
    assert call == settings


def test_a_guard_on_generates_path_comes_after_the_callers_logits_processors(backbone, monkeypatch):
    seq2seq, encoder_outputs, attention_mask = backbone
    calls = []
    monkeypatch.setattr(seq2seq, "generate", lambda **kwargs: calls.append(kwargs) or "generated")
    callers, guard = object(), object()
    greedy.generate(seq2seq, encoder_outputs, attention_mask, guard, num_beams=2, max_new_tokens=4,
                    logits_processor=[callers])
    (call,) = calls
    assert list(call["logits_processor"]) == [callers, guard]


LOOP_SETTINGS = {"num_beams": 1, "max_new_tokens": 4, "decoder_start_token_id": 0}


def test_remote_code_goes_to_generate(backbone, monkeypatch):
    """A model's own code may read other inputs than the loop gives it."""
    assert greedy.greedy_settings(backbone[0], LOOP_SETTINGS) is not None
    monkeypatch.setattr(backbone[0], "is_custom_code", lambda: True)
    assert greedy.greedy_settings(backbone[0], LOOP_SETTINGS) is None


def test_a_decoder_only_model_goes_to_generate():
    """It has no encoder states for the loop to decode from."""
    torch.manual_seed(0)
    decoder_only = GPT2LMHeadModel(GPT2Config(vocab_size=64, n_positions=16, n_embd=8, n_layer=1, n_head=2))
    assert greedy.greedy_settings(decoder_only, LOOP_SETTINGS) is None


def test_without_a_pad_token_ended_rows_are_padded_with_the_first_end_token_as_in_generate(backbone, monkeypatch):
    seq2seq, encoder_outputs, attention_mask = backbone
    ends = staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size=0)
    monkeypatch.setattr(seq2seq.generation_config, "pad_token_id", None)
    settings = {"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS, "eos_token_id": ends}
    expected = seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask, **settings)
    assert (expected == ends[0]).sum() > len(ARTICLES)  # rows that ended were padded with it
    assert greedy.greedy_settings(seq2seq, settings) is not None  # the loop, not generate, decodes
    assert torch.equal(greedy.generate(seq2seq, encoder_outputs, attention_mask, **settings), expected)


def test_settings_the_model_carries_count_too(backbone):
    seq2seq, _, _ = backbone
    settings = {"num_beams": 1, "max_new_tokens": 4}
    assert greedy.greedy_settings(seq2seq, settings) is not None
    seq2seq.generation_config.forced_bos_token_id = 5  # as bart-base's generation config has it
    try:
        assert greedy.greedy_settings(seq2seq, settings) is None
    finally:
        seq2seq.generation_config.forced_bos_token_id = None


def test_newsbrief_greedy_settings_take_the_loop(tokenizer):
    """The settings a NewsBrief model is saved with and predict() passes, so that none of them sends
    every batch to generate unnoticed."""
    seq2seq = _tiny_seq2seq("bert2bert", tokenizer)
    apply_generation_settings(seq2seq, GenerationSettings())
    assert greedy.greedy_settings(seq2seq, GenerationSettings(min_new_tokens=3).generate_kwargs()) is not None
    assert greedy.greedy_settings(seq2seq, GenerationSettings(num_beams=4).generate_kwargs()) is None


def test_a_guard_masks_only_the_rows_still_decoding(backbone, tokenizer):
    """Ended rows stay in the batch until a quarter has ended; the guard is not shown them (their history
    would end in an end token, and a dead end there would be no summary's)."""
    from newsbrief.models.fact_guard import ArticleUnits, FactGuard, Vocabulary

    seq2seq, encoder_outputs, attention_mask = backbone
    ends = staggered_end_tokens(seq2seq, encoder_outputs, attention_mask, no_repeat_ngram_size=0)
    settings = {"num_beams": 1, "max_new_tokens": MAX_NEW_TOKENS, "eos_token_id": ends}
    vocab = Vocabulary.of(tokenizer)
    units = [ArticleUnits(tokenizer(article)["input_ids"], vocab) for article in ARTICLES]
    guard = FactGuard(units, vocab, ends[0], MAX_NEW_TOKENS, candidates=len(tokenizer))
    guard._fits = lambda *args: True  # every token allowed: the loop's own ids, with the guard in the way
    shown = []
    mask = guard.mask
    guard.mask = lambda input_ids, scores, article_of: (shown.append(input_ids.tolist()), mask(
        input_ids, scores, article_of))[1]
    ids = greedy.greedy_decode(seq2seq, encoder_outputs.last_hidden_state, attention_mask,
                               greedy.greedy_settings(seq2seq, settings), guard)
    assert torch.equal(ids, seq2seq.generate(encoder_outputs=encoder_outputs, attention_mask=attention_mask,
                                             **settings))
    histories = [history for step in shown for history in step]
    assert histories and not any(set(history[1:]) & set(ends) for history in histories)


@pytest.mark.parametrize("num_beams", [1, 2])
def test_generate_decodes_under_the_guard_in_the_loop_and_in_beam_search(backbone, tokenizer, num_beams):
    """The guard reaches the greedy loop (1 beam) and generate's own search (2 beams): the ids of generate with
    the guard among its logits processors, which are not those it writes unguarded."""
    from newsbrief.models.fact_guard import ArticleUnits, FactGuard, Vocabulary

    seq2seq, encoder_outputs, attention_mask = backbone
    vocab = Vocabulary.of(tokenizer)
    units = [ArticleUnits.read(tokenizer(article)["input_ids"], vocab) for article in ARTICLES]
    settings = {"num_beams": num_beams, "max_new_tokens": MAX_NEW_TOKENS}

    def guard():
        return FactGuard(units, vocab, tokenizer.sep_token_id, MAX_NEW_TOKENS,
                         keep=1 if num_beams == 1 else 2 * num_beams)  # as the engine builds it

    def states():  # beam search expands the encoder states in place, one copy per beam
        return BaseModelOutput(last_hidden_state=encoder_outputs.last_hidden_state)

    guarded = greedy.generate(seq2seq, states(), attention_mask, guard(), **settings)
    reference = seq2seq.generate(encoder_outputs=states(), attention_mask=attention_mask,
                                 logits_processor=LogitsProcessorList([guard()]), **settings)
    # The loop stops once every row has ended; generate may pad on to a longer batch's length.
    assert guarded.tolist() == reference[:, :guarded.shape[1]].tolist()
    assert guarded.tolist() != greedy.generate(seq2seq, states(), attention_mask, **settings).tolist()


def test_the_cache_reaches_the_model_by_a_name_its_forward_takes(backbone):
    assert greedy.cache_keyword(backbone[0]) in inspect.signature(backbone[0].forward).parameters


@pytest.mark.parametrize(("forward", "name"), [(lambda cache=None, past_key_values=None, **kwargs: None, "cache"),
                                               (lambda past_key_values=None, **kwargs: None, "past_key_values"),
                                               (lambda input_ids=None, **kwargs: None, None)])
def test_the_cache_keyword_is_the_one_the_forward_names(forward, name):
    """transformers from 5.24 names it `cache` (and still takes the old name), before `past_key_values`; a forward
    that names neither gets no loop (greedy_settings), whatever its **kwargs would swallow."""
    assert greedy.cache_keyword(SimpleNamespace(forward=forward)) == name
