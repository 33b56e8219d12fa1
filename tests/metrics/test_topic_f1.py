"""The shipped multi-label topic F1 module: hand counts, label masks, and agreement with sklearn."""

import numpy as np
import pytest
from sklearn import metrics  # the reference implementation, a dev dependency

from newsbrief.metrics import load_metric

# 3 examples x 4 labels.
REFERENCES = [
    [1, 0, 1, 0],
    [0, 1, 1, 0],
    [1, 0, 0, 0],
]
PREDICTIONS = [
    [1, 0, 0, 0],
    [0, 1, 1, 1],
    [0, 0, 0, 0],
]
# Counts per label (tp, fp, fn) -> precision, recall, f1:
#   label 0: 1, 0, 1 -> 1,   1/2, 2/3
#   label 1: 1, 0, 0 -> 1,   1,   1
#   label 2: 1, 0, 1 -> 1,   1/2, 2/3
#   label 3: 0, 1, 0 -> 0,   0,   0    (no support: recall 0/0 counts as 0)
# Micro: tp=3, fp=1, fn=2 -> P=3/4, R=3/5, F=2*3/(2*3+1+2)=2/3.
# Macro: P=(1+1+1+0)/4=3/4, R=(1/2+1+1/2+0)/4=1/2, F=(2/3+1+2/3+0)/4=7/12.
# Per example (tp, fp, fn) -> f1: (1, 0, 1) -> 2/3; (2, 1, 0) -> 4/5; (0, 0, 1) -> 0; samples F1 = 22/45.


@pytest.fixture(scope="module")
def topic_f1():
    return load_metric("topic_f1", keep_in_memory=True)


def test_hand_computed_scores(topic_f1):
    result = topic_f1.compute(
        predictions=PREDICTIONS, references=REFERENCES, label_names=["politics", "sport", "business", "science"]
    )
    assert result["micro_precision"] == pytest.approx(3 / 4)
    assert result["micro_recall"] == pytest.approx(3 / 5)
    assert result["micro_f1"] == pytest.approx(2 / 3)
    assert result["macro_precision"] == pytest.approx(3 / 4)
    assert result["macro_recall"] == pytest.approx(1 / 2)
    assert result["macro_f1"] == pytest.approx(7 / 12)
    assert result["samples_f1"] == pytest.approx(22 / 45)
    assert result["per_label"]["politics"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert result["per_label"]["sport"] == pytest.approx({"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1})
    assert result["per_label"]["science"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0})


def test_default_label_names_are_column_indices(topic_f1):
    result = topic_f1.compute(predictions=PREDICTIONS, references=REFERENCES)
    assert list(result["per_label"]) == ["0", "1", "2", "3"]


def test_masked_cell_is_neither_positive_nor_negative(topic_f1):
    # Mask example 1's label 3, the only false positive: it leaves every count.
    mask = np.ones((3, 4), dtype=int)
    mask[1, 3] = 0
    result = topic_f1.compute(predictions=PREDICTIONS, references=REFERENCES, label_mask=mask.tolist())
    # Micro: tp=3, fp=0, fn=2.
    assert result["micro_precision"] == pytest.approx(1.0)
    assert result["micro_recall"] == pytest.approx(3 / 5)
    assert result["micro_f1"] == pytest.approx(6 / 8)
    # Example 1 becomes (2, 0, 0) -> 1: samples F1 = (2/3 + 1 + 0) / 3.
    assert result["samples_f1"] == pytest.approx(5 / 9)
    # Label 3 has no annotated cell left: still 0 everywhere, still in the macro mean.
    assert result["per_label"]["3"] == pytest.approx({"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0})
    assert result["macro_precision"] == pytest.approx(3 / 4)


def test_masked_true_label_is_not_a_false_negative(topic_f1):
    # Mask example 2's label 0, a missed true topic: label 0 recall goes from 1/2 to 1.
    mask = np.ones((3, 4), dtype=int)
    mask[2, 0] = 0
    result = topic_f1.compute(predictions=PREDICTIONS, references=REFERENCES, label_mask=mask.tolist())
    assert result["per_label"]["0"] == pytest.approx({"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1})


def test_samples_f1_convention_for_empty_and_unannotated_examples(topic_f1):
    # Example 0: nothing true, nothing predicted -> F1 1.0 (a correct "no topic").
    # Example 1: its one true topic is missed -> F1 0.0.
    # Example 2: every label masked -> left out of the mean, despite its two wrong predictions.
    result = topic_f1.compute(
        predictions=[[0, 0], [0, 0], [1, 1]],
        references=[[0, 0], [1, 0], [0, 0]],
        label_mask=[[1, 1], [1, 1], [0, 0]],
    )
    assert result["samples_f1"] == pytest.approx((1.0 + 0.0) / 2)


def test_invalid_inputs_are_errors(topic_f1):
    with pytest.raises(ValueError, match="at least one"):
        topic_f1.compute(predictions=[], references=[])
    with pytest.raises(ValueError, match="only 0 and 1"):
        topic_f1.compute(predictions=[[2, 0]], references=[[1, 0]])
    with pytest.raises(ValueError, match="label_mask has shape"):
        topic_f1.compute(predictions=[[1, 0]], references=[[1, 0]], label_mask=[[1, 1, 1]])
    with pytest.raises(ValueError, match="label_names"):
        topic_f1.compute(predictions=[[1, 0]], references=[[1, 0]], label_names=["a"])


@pytest.fixture(scope="module")
def random_multi_hot():
    """50 examples x 6 labels, with a label nobody has or predicts and an empty-empty example."""
    rng = np.random.default_rng(0)
    true = rng.integers(0, 2, size=(50, 6))
    predicted = np.where(rng.random((50, 6)) < 0.8, true, 1 - true)
    true[:, 5] = predicted[:, 5] = 0
    true[0] = predicted[0] = 0
    return true, predicted


def test_agrees_with_sklearn(topic_f1, random_multi_hot):
    true, predicted = random_multi_hot
    result = topic_f1.compute(predictions=predicted.tolist(), references=true.tolist())
    for average in ("micro", "macro"):
        p, r, f, _ = metrics.precision_recall_fscore_support(true, predicted, average=average, zero_division=0)
        assert result[f"{average}_precision"] == pytest.approx(p)
        assert result[f"{average}_recall"] == pytest.approx(r)
        assert result[f"{average}_f1"] == pytest.approx(f)
    assert result["samples_f1"] == pytest.approx(
        metrics.f1_score(true, predicted, average="samples", zero_division=1)
    )
    p, r, f, support = metrics.precision_recall_fscore_support(true, predicted, average=None, zero_division=0)
    for i, scores in enumerate(result["per_label"].values()):
        assert scores == pytest.approx({"precision": p[i], "recall": r[i], "f1": f[i], "support": support[i]})


def test_mask_equals_dropping_the_masked_cells(topic_f1, random_multi_hot):
    true, predicted = random_multi_hot
    mask = np.random.default_rng(1).random(true.shape) < 0.7
    result = topic_f1.compute(
        predictions=predicted.tolist(), references=true.tolist(), label_mask=mask.astype(int).tolist()
    )
    # Micro scores are binary scores over the annotated cells alone.
    p, r, f, _ = metrics.precision_recall_fscore_support(
        true[mask], predicted[mask], average="binary", zero_division=0
    )
    assert (result["micro_precision"], result["micro_recall"], result["micro_f1"]) == pytest.approx((p, r, f))
    # Each label's scores are binary scores over its annotated cells.
    for i, scores in enumerate(result["per_label"].values()):
        column = mask[:, i]
        p, r, f, _ = metrics.precision_recall_fscore_support(
            true[column, i], predicted[column, i], average="binary", zero_division=0
        )
        assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx((p, r, f))
