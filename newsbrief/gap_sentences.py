"""Gap-sentence generation (PEGASUS, Zhang et al. 2020): a summary-like target from an article with no labels.

The article's most salient sentence, the one with the highest ROUGE-1 F1 against the rest of the
article (PEGASUS' "Ind-Orig" choice: each sentence scored on its own, unigrams counted with
repetition), is removed from the input and becomes the target. Two rules keep the objective from
teaching the model to invent (a summary may only state names and numbers its article contains):
only the sentences the model's window reads take part, the gap and the rest alike, since a target
about text beyond the window is a target the model cannot support; and a sentence with a name or a
number that the rest does not state is never the gap. An article with no such sentence, or of one
sentence, gives no example.
"""

from __future__ import annotations

import re
from collections import Counter

from newsbrief.faithfulness import ArticleFacts
from newsbrief.sentences import split_sentences

_WORD = re.compile(r"\w+")


def gap_sentence_example(article: str, window_words: int) -> tuple[str, str] | None:
    """(the article's first `window_words` words or so without its most salient sentence, that sentence),
    or None when no sentence qualifies."""
    sentences = _leading(split_sentences(article), window_words)
    if len(sentences) < 2:
        return None
    counts = [Counter(_WORD.findall(s.lower())) for s in sentences]
    total = sum(counts, Counter())
    rests = [" ".join(s for j, s in enumerate(sentences) if j != i) for i in range(len(sentences))]
    scores = [_rouge1_f1(own, total - own) if not ArticleFacts(rest).unsupported(sentence) else -1.0
              for own, rest, sentence in zip(counts, rests, sentences)]
    gap = max(range(len(sentences)), key=scores.__getitem__)  # the first of equals
    return (rests[gap], sentences[gap]) if scores[gap] >= 0 else None


def _leading(sentences: list[str], window_words: int) -> list[str]:
    """The first sentences, as many as fit in the window, and one more: the window ends mid-sentence."""
    kept, words = [], 0
    for sentence in sentences:
        if words >= window_words:
            break
        kept.append(sentence)
        words += len(sentence.split())
    return kept


def _rouge1_f1(candidate: Counter, reference: Counter) -> float:
    overlap = sum((candidate & reference).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(candidate.values())
    recall = overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)
