"""Score a trained classifier on labeled data: what ``ada-atsc evaluate`` runs for a classifier (an extractor:
:mod:`ada_atsc.ate.evaluate`; both write through :mod:`ada_atsc.training.evaluation`).

Cross-domain evaluation is just this: a model trained on restaurants, ``--data`` a laptops file. The data
file may be in any format the data layer reads; conflict examples are dropped (not an ATSC class). Besides
accuracy and macro-F1, every score includes ``multi_polarity``: the same measures on the examples whose
sentence holds aspects of different polarities (where a sentence-level answer must fail). Several ``--data``
files (a SemEval test set and MAMS test) are scored one by one.
"""

from __future__ import annotations

from pathlib import Path

from ..data.records import AspectExample


def evaluate_model(
    model_dir: str | Path,
    examples: list[AspectExample],
    *,
    max_seq_length: int = 128,
    batch_size: int = 64,
    device: str | None = None,
    return_predictions: bool = False,
) -> dict:
    """Metrics of the classifier in ``model_dir`` on labeled ``examples`` (conflict already dropped).

    With ``return_predictions`` the dict also holds ``predictions``: one record per example.
    """
    from .inference import load_classifier
    from .scoring import score_examples

    model, tokenizer, _ = load_classifier(str(model_dir), device=device)
    metrics, predictions = score_examples(model, tokenizer, examples, max_seq_length, batch_size)
    metrics["model"] = str(model_dir)
    if return_predictions:
        metrics["predictions"] = predictions
    return metrics
