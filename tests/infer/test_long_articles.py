"""Long articles: truncation is reported, chunk mode reads every window for topics, and a 5 MB page costs little."""

import pytest
import torch

from newsbrief.infer.encoding import CHARS_PER_TOKEN, encode_articles
from newsbrief.infer.engine import NewsBrief

SHORT = "Leeds beat Celtic 2-1 in the league match on Saturday."


@pytest.fixture(scope="module")
def briefer(tiny_model_dir):
    return NewsBrief.from_pretrained(tiny_model_dir, device="cpu")


def _words(n: int) -> str:
    return " ".join(f"word{i % 50}" for i in range(n))


def test_truncate_mode_keeps_one_window_and_flags_long_articles(briefer):
    windows = encode_articles(briefer.tokenizer, [SHORT, _words(500)], briefer.window, briefer.inference)
    assert windows.article == [0, 1]
    assert windows.truncated == [False, True]
    assert max(len(ids) for ids in windows.input_ids) <= briefer.window.max_length


def test_chunk_mode_covers_the_article_in_overlapping_windows(tiny_model_dir):
    chunked = NewsBrief.from_pretrained(tiny_model_dir, device="cpu",
                                        inference={"long_articles": "chunk", "chunk_overlap": 8, "max_chunks": 3})
    windows = encode_articles(chunked.tokenizer, [SHORT, _words(60), _words(5000)], chunked.window, chunked.inference)
    assert windows.article.count(0) == 1 and windows.article.count(1) > 1
    assert windows.article.count(2) == 3  # capped at max_chunks, the rest flagged
    assert windows.truncated == [False, False, True]
    first, second = [ids for ids, a in zip(windows.input_ids, windows.article) if a == 1][:2]
    assert first[-1 - 8:-1] == second[1:1 + 8]  # the overlap, between the special tokens
    briefs = chunked.predict([SHORT, _words(60)], all_scores=True)
    assert not briefs[1].truncated
    # topics read the mean of the windows' pooled states, as the topic-head refit trains them
    pooled = [chunked.model.pooled_states(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))
              for ids, a in zip(windows.input_ids, windows.article) if a == 1]
    expected = chunked.model.topic_probs(torch.cat(pooled).mean(dim=0, keepdim=True))[0]
    assert [briefs[1].scores[name] for name in chunked.labels.names] == pytest.approx(expected.tolist(), abs=1e-4)


def test_a_5_mb_article_is_briefed_from_a_bounded_prefix(briefer):
    page = _words(900_000)[: 5 * 1024 * 1024]
    seen = []

    def spy(texts, **kwargs):
        seen.extend(len(t) for t in texts)
        return briefer.tokenizer(texts, **kwargs)

    encode_articles(spy, [page], briefer.window, briefer.inference)
    assert seen == [briefer.window.max_length * CHARS_PER_TOKEN]  # not 5 MB of tokenizing
    assert briefer.predict_one(page).truncated


def test_int8_quantized_model_briefs_close_to_fp32(tiny_model_dir):
    fp32 = NewsBrief.from_pretrained(tiny_model_dir, device="cpu", dtype="fp32")  # auto is bf16 on some CPUs
    int8 = NewsBrief.from_pretrained(tiny_model_dir, device="cpu", int8=True)
    _, p32 = fp32.summarize_and_score([SHORT, _words(40)])
    _, p8 = int8.summarize_and_score([SHORT, _words(40)])
    # The scores span about 0.32-0.59 and int8 moved them by at most 0.0021 (measured): 0.01 leaves room
    # for other CPUs' kernels, while a broken quantization (0.05 was a fifth of the range) fails.
    assert abs(p32 - p8).max() < 0.01
    assert (p32 != p8).any()  # the int8 model is a different model: quantization took effect
