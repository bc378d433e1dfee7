"""Score a classifier on labeled examples: metrics (with the multi-polarity subset) and prediction records.

Sits beside :mod:`.inference` so that training, ``evaluate``, ``experiment`` and ``probe`` report numbers
from one code path.
"""

from __future__ import annotations

from ..core.labels import LABEL2ID
from ..data.records import ATSC_LABELS, AspectExample
from .metrics import scores_with_subsets


def examples_to_predictions(examples: list[AspectExample], probs) -> list[dict]:
    """One record per example: its fields, gold and predicted label, and the class probabilities."""
    records = []
    for ex, row in zip(examples, probs):
        record = ex.to_record()
        record["gold"] = record.pop("polarity")
        record["pred"] = ATSC_LABELS[int(row.argmax())]
        record["correct"] = record["gold"] == record["pred"] if record["gold"] is not None else None
        record["probabilities"] = {label: round(float(p), 6) for label, p in zip(ATSC_LABELS, row)}
        records.append(record)
    return records


def predict_examples(model, tokenizer, examples: list[AspectExample], max_seq_length: int, batch_size: int):
    """Class probabilities for ``examples`` (their spans and the model's saved input format are used)."""
    from .inference import predict_proba

    return predict_proba(model, tokenizer, [e.sentence for e in examples], [e.aspect for e in examples],
                         spans=[(e.start, e.end) for e in examples], max_seq_length=max_seq_length,
                         batch_size=batch_size)


def score_examples(model, tokenizer, examples: list[AspectExample], max_seq_length: int, batch_size: int):
    """(metrics, prediction records) of ``model`` on labeled ``examples``."""
    probs = predict_examples(model, tokenizer, examples, max_seq_length, batch_size)
    gold = [LABEL2ID[e.polarity] for e in examples]
    metrics = scores_with_subsets(examples, gold, probs.argmax(axis=1).tolist())
    return metrics, examples_to_predictions(examples, probs)
