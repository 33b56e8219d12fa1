"""ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures, as an `evaluate` module that loads offline.

Load it with `newsbrief.metrics.load_metric("rouge")`. It wraps Google's `rouge_score`, the
reimplementation that summarization papers and the Hub's own `rouge` module use.
"""

import datasets
import numpy as np
from rouge_score import rouge_scorer

import evaluate

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")

_DESCRIPTION = """\
ROUGE F-measures between generated summaries and reference summaries (Lin, 2004), computed with
Google's `rouge_score`. Text is lowercased and split into alphanumeric tokens, so punctuation and
non-Latin scripts do not count. ROUGE-L scores the longest common subsequence of the whole text;
ROUGE-Lsum is the summary-level LCS over sentences, which `rouge_score` splits on newlines only:
put one sentence per line in both predictions and references, as papers do, or ROUGE-Lsum equals
ROUGE-L. (This module does not split sentences itself: that needs NLTK data from the network.)

Unlike the Hub's `rouge`, which reports a bootstrap median, the aggregate here is the plain mean over
examples, so it is deterministic.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of generated summaries, one string per example.
    references: list of reference summaries, one string per example.
    use_stemmer: strip word suffixes with the Porter stemmer before matching (default True).
    use_aggregator: return the mean over examples (default True); False returns per-example lists,
        for plots and bootstrap confidence intervals.
Returns:
    rouge1, rouge2, rougeL, rougeLsum: F-measures in [0, 1], each a float (the mean over examples)
    or, with use_aggregator=False, a list of floats in input order.
Examples:
    >>> rouge = load_metric("rouge")
    >>> rouge.compute(predictions=["the cat sat"], references=["the cat ran away"])["rouge1"]
    0.5714285714285715
"""

_CITATION = """\
@inproceedings{lin-2004-rouge,
    title = "{ROUGE}: A Package for Automatic Evaluation of Summaries",
    author = "Lin, Chin-Yew",
    booktitle = "Text Summarization Branches Out",
    year = "2004",
    pages = "74--81",
}
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class Rouge(evaluate.Metric):
    """ROUGE F-measures of summaries against one reference each."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string", id="sequence"),
                    "references": datasets.Value("string", id="sequence"),
                }
            ),
            codebase_urls=["https://github.com/google-research/google-research/tree/master/rouge"],
        )

    def _compute(self, predictions, references, use_stemmer=True, use_aggregator=True):
        if not predictions:
            raise ValueError("rouge needs at least one prediction and reference; got none")
        scorer = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=use_stemmer)
        # rouge_score takes the reference first.
        scores = [scorer.score(ref, pred) for pred, ref in zip(predictions, references)]
        per_example = {key: [score[key].fmeasure for score in scores] for key in ROUGE_TYPES}
        if not use_aggregator:
            return per_example
        return {key: float(np.mean(values)) for key, values in per_example.items()}
