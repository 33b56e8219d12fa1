"""Micro, macro, per-example and per-label F1 for multi-label topics, with an optional label mask.

Load it with `newsbrief.metrics.load_metric("topic_f1")`. Corpora that annotate different topic
sets are evaluated together: a masked cell (a label this example's source does not annotate) is
neither a positive nor a negative and is left out of every count.
"""

import datasets
import numpy as np

import evaluate

_DESCRIPTION = """\
F1, precision and recall for multi-label classification with multi-hot inputs, computed with numpy.

- micro_*: from true/false positives and false negatives summed over all annotated cells.
- macro_*: the unweighted mean of the per-label scores over every label column given, including
  labels with no annotated cell. A score whose denominator is 0 is 0 (sklearn's zero_division=0).
- samples_f1: the mean over examples of each example's F1 over its annotated labels. An example
  with no true and no predicted topic among them scores 1.0 (a correct "no topic" answer; matches
  sklearn's f1_score(average="samples", zero_division=1)). An example with no annotated label at
  all carries no evidence and is left out of the mean; with none left, samples_f1 is 0.0.
- per_label: precision, recall, F1 and support (annotated positives) of each label.

Without a label_mask the micro and macro scores equal sklearn's precision_recall_fscore_support
with zero_division=0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one multi-hot list of 0/1 per example (1 = the topic was predicted).
    references: one multi-hot list of 0/1 per example, the same length as the predictions.
    label_mask: optional 0/1 lists of the same shape; 1 = this label is annotated for this example.
        Default: every cell is annotated.
    label_names: optional names of the label columns, used as keys of per_label. Default: "0", "1", ...
Returns:
    micro_f1, micro_precision, micro_recall, macro_f1, macro_precision, macro_recall, samples_f1:
        floats in [0, 1].
    per_label: {name: {"precision": float, "recall": float, "f1": float, "support": int}}.
Examples:
    >>> topic_f1 = load_metric("topic_f1")
    >>> topic_f1.compute(predictions=[[1, 0], [1, 1]], references=[[1, 0], [0, 1]])["micro_f1"]
    0.8
"""


def _divide(numerator, denominator, zero_division=0.0):
    """Elementwise numerator / denominator, with `zero_division` where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, zero_division, dtype=np.float64)
    return np.divide(numerator, denominator, out=out, where=denominator != 0)


def _as_binary(name, values, shape=None):
    """`values` as a 2-D boolean array, checking that it holds only 0 and 1 (and has `shape`)."""
    array = np.asarray(values)
    if array.ndim != 2:
        raise ValueError(f"{name} must be one equal-length list of 0/1 per example; got shape {array.shape}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"{name} has shape {array.shape}, but predictions have shape {shape}")
    if not np.isin(array, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return array.astype(bool)


class TopicF1(evaluate.Metric):
    """Multi-label topic F1 (micro, macro, samples, per label) with an optional label mask."""

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("int8")),
                    "references": datasets.Sequence(datasets.Value("int8")),
                }
            ),
        )

    def _compute(self, predictions, references, label_mask=None, label_names=None):
        if len(predictions) == 0:
            raise ValueError("topic_f1 needs at least one example; got none")
        predicted = _as_binary("predictions", predictions)
        true = _as_binary("references", references, predicted.shape)
        mask = np.ones_like(predicted) if label_mask is None else _as_binary("label_mask", label_mask, predicted.shape)
        num_labels = predicted.shape[1]
        if label_names is None:
            label_names = [str(i) for i in range(num_labels)]
        if len(label_names) != num_labels:
            raise ValueError(f"got {len(label_names)} label_names for {num_labels} label columns")

        # Cell-level outcomes; masked cells are False in all three, so no count sees them.
        tp = predicted & true & mask
        fp = predicted & ~true & mask
        fn = ~predicted & true & mask

        # Per label (column sums), then micro (total sums).
        tp_l, fp_l, fn_l = tp.sum(0), fp.sum(0), fn.sum(0)
        precision_l = _divide(tp_l, tp_l + fp_l)
        recall_l = _divide(tp_l, tp_l + fn_l)
        f1_l = _divide(2 * tp_l, 2 * tp_l + fp_l + fn_l)
        tp_all, fp_all, fn_all = tp_l.sum(), fp_l.sum(), fn_l.sum()

        # Per example (row sums): an annotated example with nothing true and nothing predicted is right.
        tp_e, fp_e, fn_e = tp.sum(1), fp.sum(1), fn.sum(1)
        f1_e = _divide(2 * tp_e, 2 * tp_e + fp_e + fn_e, zero_division=1.0)
        annotated = mask.any(1)
        samples_f1 = float(f1_e[annotated].mean()) if annotated.any() else 0.0

        return {
            "micro_f1": float(_divide(2 * tp_all, 2 * tp_all + fp_all + fn_all)),
            "micro_precision": float(_divide(tp_all, tp_all + fp_all)),
            "micro_recall": float(_divide(tp_all, tp_all + fn_all)),
            "macro_f1": float(f1_l.mean()),
            "macro_precision": float(precision_l.mean()),
            "macro_recall": float(recall_l.mean()),
            "samples_f1": samples_f1,
            "per_label": {
                name: {
                    "precision": float(p),
                    "recall": float(r),
                    "f1": float(f),
                    "support": int(s),
                }
                for name, p, r, f, s in zip(label_names, precision_l, recall_l, f1_l, tp_l + fn_l)
            },
        }
