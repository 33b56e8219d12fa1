"""How the fact guard searches a row's candidates, the shortcuts it takes to spare the work: each allows what
trying every token with the whole check allows."""

import pytest
import torch

from newsbrief.models.fact_guard import FactGuard, Vocabulary

from tests.models.guard_cases import ARTICLE, allowed_ids, article_units, open_guard

INITIALS = "The U.S. said exports rose in May."


@pytest.mark.parametrize("article, prefix, best", [(ARTICLE, "Deal with Vas", None), (ARTICLE, "Acme sold 1,5", None),
                                                   (ARTICLE, "Initech in 19", None), (INITIALS, "Exports of U", None),
                                                   (ARTICLE, "Acme sold 1,500", " 9")])
def test_the_look_down_the_whole_vocabulary_finds_what_trying_every_token_finds(tokenizer, article, prefix, best):
    """Where the best candidates have no allowed token, the guard tries only the tokens that can go on with a
    name or number it may not end yet ("Vas" of "Vasquez", "1,5" of "1,500", and "U" of "U.S.", which a dot
    goes on with), and every token after one it may end ("1,500", where the best candidate is an invented
    "9"): the tokens it allows, for one beam or several, are those it allows when it tries every token in
    score order. The best candidate is the end token unless `best` names another."""
    vocab = Vocabulary.of(tokenizer)
    units, _ = article_units(tokenizer, vocab, article)
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    history = torch.tensor([[eos] + tokenizer(prefix, add_special_tokens=False)["input_ids"]])
    refused = eos if best is None else tokenizer(best, add_special_tokens=False)["input_ids"][-1]
    for seed in range(5):
        scores = torch.randn(1, len(tokenizer), generator=torch.Generator().manual_seed(seed)) * 3
        scores[0, refused] = scores.max() + 1  # the best candidate, which the guard does not allow
        for keep in (1, 4):
            looks_down = FactGuard([units], vocab, eos, max_new_tokens=16, keep=keep, candidates=1)
            tries_all = FactGuard([units], vocab, eos, max_new_tokens=16, keep=keep, candidates=len(tokenizer))
            assert torch.equal(looks_down.mask(history, scores, [0]), tries_all.mask(history, scores, [0]))


class _WithoutShortcut(FactGuard):
    def _past_the_article(self, tail, token, units):
        return False


def test_the_shortcut_refusal_refuses_only_what_the_whole_check_refuses(tokenizer):
    """`_past_the_article` refuses a token from its text, before `advance` builds the tail it makes: with it or
    without it, the guard allows the same tokens after names, numbers, initials, dates and common words in progress."""
    text = ARTICLE + " The U.S. fund said on Monday that Khodorkovsky's oil output rose 12.5 pct in June."
    vocab = Vocabulary.of(tokenizer)
    units, _ = article_units(tokenizer, vocab, text)
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    shortcut = FactGuard([units], vocab, eos, max_new_tokens=64, keep=len(tokenizer), candidates=len(tokenizer))
    whole = _WithoutShortcut([units], vocab, eos, max_new_tokens=64, keep=len(tokenizer), candidates=len(tokenizer))
    refused = {}
    for prefix in ["Deal with Vas", "Acme sold 1,5", "Output rose 12.", "Shares of Khodor", "Exports of U.",
                   "Sales on monday", "Sales on Monday", "Vasq", "the quic", "Acme sold 3", "Initech in 19",
                   "Acme phon", "Initech expect"]:  # the last two: words the article inflects ("phones", "expects")
        history = [eos] + tokenizer(prefix, add_special_tokens=False)["input_ids"]
        scores = torch.zeros(1, len(tokenizer))
        assert torch.equal(shortcut.mask(torch.tensor([history]), scores, [0]),
                           whole.mask(torch.tensor([history]), scores, [0])), prefix
        tail, _ = shortcut._tail(tuple(history))
        refused[prefix] = sum(shortcut._past_the_article(tail, t, units) for t in range(len(tokenizer)))
    assert refused["Output rose 12."] and refused["Shares of Khodor"]  # numbers and names: the shortcut is taken


def test_a_beam_search_row_takes_the_first_allowed_tokens_among_the_best_64(tokenizer):
    """Greedy decoding tries fewer candidates first (it needs one); beam search builds its beams from up to
    `keep` allowed tokens a row, the first among the model's best 64 as ever, and 16 would leave it fewer."""
    vocab, everything = open_guard(tokenizer)
    allowed = allowed_ids(tokenizer, everything, "Vasquez said")
    refused = sorted(set(range(len(tokenizer))) - set(allowed) - vocab.special)
    # The best 64: one allowed token among 15 refused ones, then seven allowed among 41 refused.
    best = [allowed[0]] + refused[:15] + allowed[1:8] + refused[15:56]
    scores = torch.full((1, len(tokenizer)), -10.0)
    scores[0, best] = torch.linspace(10.0, 1.0, len(best))
    history = torch.tensor([[everything.eos_token_id]
                            + tokenizer("Vasquez said", add_special_tokens=False)["input_ids"]])
    beams = FactGuard(everything.articles, vocab, everything.eos_token_id, max_new_tokens=64, keep=8)
    kept = torch.isfinite(beams.mask(history, scores, [0])[0]).nonzero().flatten().tolist()
    assert sorted(kept) == sorted(allowed[:8])
