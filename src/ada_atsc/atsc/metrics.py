"""Scores for a 3-class classifier: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix.

Computed from the confusion matrix with plain numpy so the numbers are easy to check by hand and do not
depend on a library's zero-division conventions (a class never predicted has precision 0, as in
scikit-learn's ``zero_division=0``). Macro-F1 averages over *all* classes, including absent ones, which is
how the ATSC literature reports it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.records import ATSC_LABELS


def confusion_matrix(gold: Sequence[int], pred: Sequence[int], num_labels: int) -> np.ndarray:
    """``m[i, j]`` = number of examples with gold label ``i`` predicted as ``j``."""
    matrix = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(matrix, (np.asarray(gold, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return matrix


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator else 0.0


def classification_metrics(
    gold: Sequence[int], pred: Sequence[int], labels: Sequence[str] = ATSC_LABELS
) -> dict:
    """All reported metrics for integer ``gold``/``pred`` label ids (ids index ``labels``)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    matrix = confusion_matrix(gold, pred, len(labels))
    per_class = {}
    f1s = []
    for i, name in enumerate(labels):
        tp = float(matrix[i, i])
        precision = _ratio(tp, matrix[:, i].sum())
        recall = _ratio(tp, matrix[i, :].sum())
        f1 = _ratio(2 * precision * recall, precision + recall)
        f1s.append(f1)
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1, "support": int(matrix[i, :].sum())}
    total = int(matrix.sum())
    return {
        "accuracy": _ratio(float(np.trace(matrix)), total),
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "num_examples": total,
        "per_class": per_class,
        "confusion_matrix": {"labels": list(labels), "rows_gold_cols_pred": matrix.tolist()},
    }


def flat_scores(metrics: dict) -> dict[str, float]:
    """The scalar metrics only (for logging and for the Trainer's metric dictionary)."""
    flat = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"]}
    for name, scores in metrics["per_class"].items():
        flat[f"f1_{name}"] = scores["f1"]
    return flat


def multi_polarity_indices(examples: Sequence) -> list[int]:
    """Positions of the examples whose sentence holds aspects of different polarities (the MAMS condition).

    Sentences are grouped by their text, so the subset is found in any labeled file (ids differ between
    formats); conflict examples are expected to be dropped already. These are the cases where answering
    with the sentence's overall tone must fail for at least one aspect.
    """
    polarities: dict[str, set] = {}
    for ex in examples:
        polarities.setdefault(ex.sentence, set()).add(ex.polarity)
    return [i for i, ex in enumerate(examples) if len(polarities[ex.sentence]) > 1]


def scores_with_subsets(examples: Sequence, gold: Sequence[int], pred: Sequence[int]) -> dict:
    """:func:`classification_metrics` plus ``multi_polarity``: the same scores on the multi-polarity subset."""
    metrics = classification_metrics(gold, pred)
    subset = multi_polarity_indices(examples)
    sub = classification_metrics([gold[i] for i in subset], [pred[i] for i in subset]) if subset else None
    metrics["multi_polarity"] = {
        "accuracy": sub["accuracy"] if sub else None,
        "macro_f1": sub["macro_f1"] if sub else None,
        "num_examples": len(subset),
        "num_sentences": len({examples[i].sentence for i in subset}),
    }
    return metrics
