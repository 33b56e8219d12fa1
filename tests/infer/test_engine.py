"""NewsBrief on a tiny trained model: input order, batching that changes nothing, per-call generation
settings, and topics chosen by the stored thresholds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from newsbrief.infer import optimize
from newsbrief.infer.engine import Brief, NewsBrief
from newsbrief.infer.loading import load_encoder
from newsbrief.infer.optimize import cpu_has_native_bf16, resolve_dtype
from tests.conftest import ROOT

TEXTS = [json.loads(line)["text"] for line in (ROOT / "tests/fixtures/tiny_news.jsonl").read_text().splitlines()][:7]
TEXTS += ["Short one.", "Rain.", " ".join(TEXTS[:3])]  # lengths far apart, so batches need padding


@pytest.fixture(scope="module")
def briefer(tiny_model_dir) -> NewsBrief:
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


@pytest.fixture
def brief_calls(briefer, monkeypatch) -> list:
    """The (input_ids, sequences) of every model.brief call, to see how texts were batched and decoded."""
    calls = []
    original = briefer.model.brief

    def spy(input_ids, attention_mask, **kwargs):
        sequences, pooled = original(input_ids, attention_mask, **kwargs)
        calls.append((input_ids, sequences))
        return sequences, pooled

    monkeypatch.setattr(briefer.model, "brief", spy)
    return calls


def test_predict_returns_briefs_in_input_order(briefer):
    briefs = briefer.predict(TEXTS)
    assert all(isinstance(b, Brief) for b in briefs)
    assert [b.id for b in briefs] == [str(i) for i in range(len(TEXTS))]
    assert all(isinstance(b.summary, str) for b in briefs)
    one = briefer.predict_one(TEXTS[-1])
    assert (one.id, one.summary, one.topics) == ("0", briefs[-1].summary, briefs[-1].topics)


def test_no_articles_no_briefs(briefer):
    assert briefer.predict([]) == []


def test_topic_scores_alone_need_no_generation(briefer, brief_calls):
    _, probs = briefer.summarize_and_score(TEXTS)
    brief_calls.clear()
    alone = briefer.topic_scores(TEXTS)
    assert brief_calls == []  # the encoder only
    np.testing.assert_allclose(alone, probs, rtol=1e-4, atol=1e-5)


def test_records_keep_their_ids(briefer):
    briefs = briefer.predict([{"id": "b", "text": TEXTS[0]}, {"text": TEXTS[1]}, {"id": 7, "text": TEXTS[2]}])
    assert [b.id for b in briefs] == ["b", "1", "7"]


def test_batched_equals_one_at_a_time(briefer, brief_calls, monkeypatch):
    monkeypatch.setattr(briefer.inference, "max_batch_tokens", 100)
    batched, batched_probs = briefer.summarize_and_score(TEXTS)
    sizes = [len(input_ids) for input_ids, _ in brief_calls]
    assert len(sizes) > 1 and max(sizes) > 1  # several batches, padded ones among them

    for i, text in enumerate(TEXTS):
        (summary,), probs = briefer.summarize_and_score([text])
        assert batched[i] == summary
        np.testing.assert_allclose(batched_probs[i], probs[0], atol=1e-5)
    assert briefer.predict_one(TEXTS[3]).summary == batched[3]


def test_generation_override_for_one_call(briefer, brief_calls):
    briefer.summarize_and_score(TEXTS[:3])
    default_steps = max(sequences.shape[1] for _, sequences in brief_calls)
    brief_calls.clear()
    short = briefer.predict(TEXTS[:3], max_new_tokens=2)
    # The decoder start token plus at most two new tokens.
    assert max(sequences.shape[1] for _, sequences in brief_calls) <= 3 < default_steps
    assert all(len(b.summary.split()) <= 2 for b in short)
    assert briefer.generation.max_new_tokens == 12  # the override lasted one call


def test_beam_search_briefs_with_the_same_topics_as_greedy(briefer):
    # Beam search expands the encoder states in place; the topic head must read them before it does.
    _, greedy = briefer.summarize_and_score(TEXTS)
    summaries, beams = briefer.summarize_and_score(TEXTS, num_beams=3)
    assert len(summaries) == len(TEXTS)
    np.testing.assert_allclose(beams, greedy, rtol=1e-5, atol=1e-6)


def test_encoded_articles_and_their_ids_must_pair_up(briefer, tiny_model_dir):
    windows = load_encoder(tiny_model_dir)(["One article.", "Another article."])
    with pytest.raises(ValueError, match="1 ids for 2 encoded articles"):
        briefer.brief_encoded(["only-one"], windows)
    assert [b.id for b in briefer.brief_encoded(["a", "b"], windows)] == ["a", "b"]


def test_unknown_generation_setting_fails_naming_it(briefer):
    with pytest.raises(ValueError, match=r"^generation.max_new_tokenz: unknown key \(did you mean max_new_tokens\?\)"):
        briefer.predict(TEXTS[:1], max_new_tokenz=2)


def test_all_scores_gives_every_label(briefer):
    brief = briefer.predict_one(TEXTS[0], all_scores=True)
    assert list(brief.scores) == briefer.labels.names
    assert all(0.0 <= p <= 1.0 for p in brief.scores.values())
    assert briefer.predict_one(TEXTS[0]).scores is None


def expected_topics(briefer, probs) -> list[str]:
    chosen = [i for i, p in enumerate(probs) if p >= briefer.thresholds[i]]
    return [briefer.labels.names[i] for i in sorted(chosen, key=lambda i: -probs[i])]


def test_topics_are_the_labels_at_or_over_their_threshold_most_probable_first(briefer, monkeypatch):
    _, probs = briefer.summarize_and_score(TEXTS)
    for stored in (True, False):
        if not stored:
            # Thresholds between the articles' probabilities, so that some labels pass and some don't.
            monkeypatch.setattr(briefer, "thresholds", np.median(probs, axis=0).astype(np.float32))
        briefs = briefer.predict(TEXTS, all_scores=True)
        for brief, row in zip(briefs, probs):
            assert [name for name, _ in brief.topics] == expected_topics(briefer, row)
            assert all(score == round(brief.scores[name], 4) for name, score in brief.topics)  # topics: 4 places
    assert sum(len(b.topics) for b in briefs) > 0
    assert any(len(b.topics) < len(briefer.labels.names) for b in briefs)


def test_stored_thresholds_are_loaded(briefer, tiny_model_dir):
    stored = json.loads((tiny_model_dir / "labels.json").read_text())
    assert briefer.labels.names == stored["names"]
    np.testing.assert_allclose(briefer.thresholds, stored["thresholds"])


@pytest.mark.parametrize("num_beams", [1, 3])
def test_the_fact_guard_keeps_summaries_to_the_articles_names_and_numbers(briefer, num_beams):
    from newsbrief.faithfulness import ArticleFacts

    unguarded = briefer.predict(TEXTS, fact_guard=False, num_beams=num_beams)
    assert any(ArticleFacts(text).unsupported(b.summary) for text, b in zip(TEXTS, unguarded))  # it would invent
    guarded = briefer.predict(TEXTS, fact_guard=True, num_beams=num_beams)
    for text, brief in zip(TEXTS, guarded):
        assert not ArticleFacts(text).unsupported(brief.summary), brief.summary
        assert not brief.guard_fallback


def test_a_summary_the_guard_blocks_is_the_unguarded_one_flagged(briefer, monkeypatch):
    from newsbrief.models.fact_guard import FactGuard

    unguarded = briefer.predict(TEXTS, fact_guard=False)
    monkeypatch.setattr(FactGuard, "_fits", lambda *args: False)  # every token disallowed: every row blocked
    fallen_back = briefer.predict(TEXTS, fact_guard=True)
    assert [b.summary for b in fallen_back] == [b.summary for b in unguarded]
    assert all(b.guard_fallback for b in fallen_back) and not any(b.guard_fallback for b in unguarded)


def test_a_summary_greedy_decoding_could_not_finish_is_tried_again_with_guarded_beams(briefer, monkeypatch):
    from newsbrief.faithfulness import ArticleFacts
    from newsbrief.models.fact_guard import FactGuard

    fits = FactGuard._fits
    # Greedy rows (keep=1) find every token disallowed; the beam search retry (keep>1) is guarded as usual.
    monkeypatch.setattr(FactGuard, "_fits", lambda self, *args: self.keep > 1 and fits(self, *args))
    retried = briefer.predict(TEXTS, fact_guard=True)
    assert not any(b.guard_fallback for b in retried)
    for text, brief in zip(TEXTS, retried):
        assert brief.summary and not ArticleFacts(text).unsupported(brief.summary), brief.summary


def test_read_is_the_one_result_that_predict_and_the_projections_come_from(briefer, brief_calls):
    reading = briefer.read(TEXTS)
    briefs = briefer.predict(TEXTS, all_scores=True)
    assert reading.summaries == [b.summary for b in briefs]
    assert reading.truncated.tolist() == [b.truncated for b in briefs]
    assert reading.guard_fallback.tolist() == [b.guard_fallback for b in briefs]
    assert np.allclose(reading.probs, [[b.scores[n] for n in briefer.labels.names] for b in briefs])
    assert reading.summary_tokens.tolist() == [len(briefer.tokenizer(s, add_special_tokens=False)["input_ids"])
                                               for s in reading.summaries]
    calls = len(brief_calls)
    encoder_only = briefer.read(TEXTS, generate=False)
    assert len(brief_calls) == calls and encoder_only.summaries == [""] * len(TEXTS)
    assert np.allclose(encoder_only.probs, reading.probs, atol=1e-5)
    assert encoder_only.states.shape == (len(TEXTS), briefer.model.hidden_size)


def test_the_engine_holds_the_sections_it_reads_and_no_run_config(briefer, tiny_model_dir):
    from newsbrief.config import DataConfig, RunConfig, TrainConfig
    from newsbrief.infer.encoding import SourceWindow
    from newsbrief.models.model_dir import read_run_config

    run_sections = (RunConfig, DataConfig, TrainConfig)
    assert not [name for name, value in vars(briefer).items() if isinstance(value, run_sections)]
    trained = read_run_config(tiny_model_dir)
    assert (briefer.window, briefer.inference, briefer.generation) == (SourceWindow.of(trained.data), trained.inference,
                                                                       trained.generation)


def test_settings_are_given_when_the_engine_is_built(tiny_model_dir):
    built = NewsBrief.from_pretrained(tiny_model_dir, device="cpu", inference={"long_articles": "chunk"},
                                      generation={"num_beams": 2})
    assert (built.inference.long_articles, built.generation.num_beams) == ("chunk", 2)
    with pytest.raises(ValueError, match="inference.chunk_overlap"):
        NewsBrief.from_pretrained(tiny_model_dir, device="cpu", inference={"long_articles": "chunk",
                                                                            "chunk_overlap": 10**6})
    with pytest.raises(ValueError, match="inference.batch_size: must be positive, got 0"):
        NewsBrief.from_pretrained(tiny_model_dir, device="cpu", inference={"batch_size": 0})
    with pytest.raises(ValueError, match="dtype: 'fp8' is not one of"):
        NewsBrief.from_pretrained(tiny_model_dir, device="cpu", dtype="fp8")


CPU = torch.device("cpu")


@pytest.mark.parametrize("native, auto", [(True, torch.bfloat16), (False, torch.float32)])
def test_auto_is_bf16_on_a_cpu_with_native_bf16_and_fp32_on_others(monkeypatch, native, auto):
    monkeypatch.setattr(optimize, "cpu_has_native_bf16", lambda: native)
    assert resolve_dtype("auto", CPU) == auto
    assert resolve_dtype("auto", CPU, int8=True) == torch.float32  # int8's quantized layers take fp32 inputs
    assert resolve_dtype("fp32", CPU) == torch.float32 and resolve_dtype("bf16", CPU) == torch.bfloat16


def test_auto_on_a_gpu_does_not_ask_the_cpu(monkeypatch):
    monkeypatch.setattr(optimize, "cpu_has_native_bf16", lambda: pytest.fail("a GPU's dtype asked about the CPU"))
    for bf16, auto in ((True, torch.bfloat16), (False, torch.float16)):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, bf16=bf16, **kwargs: bf16)
        assert resolve_dtype("auto", torch.device("cuda")) == auto


@pytest.mark.parametrize("flags, native", [({"avx512_bf16": True, "amx_bf16": False}, True), ({"amx_bf16": True}, True),
                                           ({"avx512_f": True, "avx512_bf16": False}, False), ({"bf16": True}, False)])
def test_native_bf16_is_read_from_torchs_cpu_capabilities(monkeypatch, flags, native):
    # AVX-512 alone emulates bf16; ARM's bf16 flag has not been measured, so it keeps fp32
    monkeypatch.setattr(torch.cpu, "get_capabilities", lambda: flags)
    assert cpu_has_native_bf16() is native


def test_a_torch_without_cpu_capabilities_keeps_fp32(monkeypatch):
    monkeypatch.delattr(torch.cpu, "get_capabilities")  # before torch had it; pyproject allows torch 2.2
    assert cpu_has_native_bf16() is False
