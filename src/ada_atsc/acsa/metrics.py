"""Scores of an aspect-category classifier, as the literature reports them (Sun et al. 2019; Jiang et al. 2019).

From the gold class ids ``(sentences, categories)`` and the predicted probabilities
``(sentences, categories, labels)`` (label 0 is ``none``):

* **category detection** — precision, recall and F1 of "this sentence mentions this category" (micro over
  every (sentence, category); a category is detected as :meth:`.schema.CategorySchema.decide` says: its
  probability of being mentioned reaches the dev-tuned threshold, or ``none`` is not the arg-max);
* **category polarity accuracy** — on the *gold* categories only, the arg-max over the polarities (``none``
  left out): the 4-way SemEval-2014 score, conflict included, and MAMS-ACSA's 3-way accuracy;
* **polarity on the detected categories** — accuracy over the correctly detected categories (the label
  actually predicted, which may not be ``none``), and the joint F1 of (category, polarity) pairs: what a user
  of the predictions gets;
* ``acsa_score``, the mean of detection F1 and polarity accuracy: what selects the checkpoint on dev (both
  halves of the task count).
"""

from __future__ import annotations

import numpy as np

from .schema import CategorySchema


def _f1(tp: float, predicted: float, gold: float) -> dict[str, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def category_metrics(gold: np.ndarray, probs: np.ndarray, schema: CategorySchema) -> dict:
    """Every reported score (see the module doc); ``gold`` holds class ids, ``probs`` class probabilities."""
    gold = np.asarray(gold, dtype=np.int64).reshape(-1, len(schema.categories))
    probs = np.asarray(probs, dtype=np.float64).reshape(gold.shape[0], len(schema.categories), len(schema.labels))
    pred = schema.decide(probs)
    present, detected = gold != 0, pred != 0
    detection = _f1(float((present & detected).sum()), float(detected.sum()), float(present.sum()))
    polarity_pred = probs[..., 1:].argmax(axis=-1) + 1  # none left out: the gold-category polarity
    on_gold = polarity_pred[present] == gold[present]
    hits = present & detected
    joint = _f1(float((hits & (pred == gold)).sum()), float(detected.sum()), float(present.sum()))
    per_category = {}
    for k, category in enumerate(schema.categories):
        scores = _f1(float(hits[:, k].sum()), float(detected[:, k].sum()), float(present[:, k].sum()))
        mask = present[:, k]
        per_category[category] = {"detection_f1": scores["f1"], "support": int(mask.sum()),
                                  "polarity_accuracy": float((polarity_pred[:, k][mask] == gold[:, k][mask]).mean())
                                  if mask.any() else None}
    polarity_accuracy = float(on_gold.mean()) if on_gold.size else 0.0
    return {
        "category_detection_precision": detection["precision"],
        "category_detection_recall": detection["recall"],
        "category_detection_f1": detection["f1"],
        "category_polarity_accuracy": polarity_accuracy,
        "polarity_accuracy_on_detected": float((pred[hits] == gold[hits]).mean()) if hits.any() else 0.0,
        "category_polarity_f1": joint["f1"],
        "acsa_score": (detection["f1"] + polarity_accuracy) / 2,
        "polarities": list(schema.polarities),
        "num_sentences": int(gold.shape[0]),
        "num_gold_categories": int(present.sum()),
        "per_category": per_category,
    }


def flat_category_scores(metrics: dict) -> dict[str, float]:
    """The scalar scores (for the Trainer's log and the one-line summaries)."""
    return {k: v for k, v in metrics.items() if isinstance(v, float)}


THRESHOLD_GRID = tuple(round(0.05 + 0.01 * i, 2) for i in range(91))
"""The detection thresholds tried on dev: 0.05 to 0.95 in steps of 0.01."""


def tune_detection_threshold(gold: np.ndarray, probs: np.ndarray, schema: CategorySchema) -> dict:
    """The detection threshold with the best detection F1 on (dev) data; ties go to the one nearest 0.5.

    Why: the arg-max over ``none`` and the polarities is a threshold that moves with how the polarity mass
    splits (``none`` at 0.4 beats three polarities at 0.2 each), and after the mention-weight correction it
    is not the F1-optimal one. Returns the threshold and the dev F1 with it and with the arg-max."""
    gold = np.asarray(gold, dtype=np.int64).reshape(-1, len(schema.categories))
    probs = np.asarray(probs, dtype=np.float64).reshape(gold.shape[0], len(schema.categories), len(schema.labels))
    present, mentioned = gold != 0, 1.0 - probs[..., 0]
    best = (-1.0, 0.0, 0.5)
    for threshold in THRESHOLD_GRID:
        detected = mentioned >= threshold
        f1 = _f1(float((present & detected).sum()), float(detected.sum()), float(present.sum()))["f1"]
        best = max(best, (f1, -abs(threshold - 0.5), threshold))
    by_argmax = probs.argmax(axis=-1) != 0
    argmax_f1 = _f1(float((present & by_argmax).sum()), float(by_argmax.sum()), float(present.sum()))["f1"]
    return {"detection_threshold": best[2], "dev_detection_f1": best[0], "dev_detection_f1_argmax": argmax_f1}
