"""Score a trained classifier (or aspect extractor) on labeled data: what ``ada-atsc evaluate`` runs.

Cross-domain evaluation is just this: a model trained on restaurants, ``--data`` a laptops file. The data
file may be in any format the data layer reads; conflict examples are dropped (not an ATSC class). Besides
accuracy and macro-F1, every score includes ``multi_polarity``: the same measures on the examples whose
sentence holds aspects of different polarities (where a sentence-level answer must fail). Several ``--data``
files (a SemEval test set and MAMS test) are scored one by one.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..data.records import AspectExample
from ..errors import AdaError
from ..fileio import staged_output_dir, write_json, write_jsonl


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


def model_kind(model_dir: str | Path) -> str:
    """``ate`` for an aspect extractor, ``atsc`` for a classifier (read from config.json, no torch)."""
    from ..ate.spans import TAGS
    from ..models import resolve_model_path

    config_file = Path(resolve_model_path(str(model_dir))) / "config.json"
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdaError(f"{config_file}: cannot read the model config ({exc})") from None
    labels = [str(v) for _, v in sorted((config.get("id2label") or {}).items(), key=lambda kv: int(kv[0]))]
    return "ate" if config.get("ada_atsc_task") == "ate" or tuple(labels) == TAGS else "atsc"


def evaluate_extractor(model_dir: str | Path, sentences: list, *, max_seq_length: int = 128, batch_size: int = 64,
                       device: str | None = None) -> tuple[dict, list[dict]]:
    """Exact-span precision, recall and F1 of the extractor in ``model_dir`` on labeled sentences."""
    from ..ate.extractor import load_extractor
    from ..ate.training import score_sentences

    model, tokenizer, _ = load_extractor(str(model_dir), device=device)
    metrics, records = score_sentences(model, tokenizer, sentences, max_seq_length, batch_size)
    metrics["model"] = str(model_dir)
    return metrics, records


def write_evaluation(output_dir: str | Path, scored: dict[str, dict], predictions: dict[str, list[dict]], *,
                     overwrite: bool = False, header: dict | None = None) -> None:
    """Write ``eval_results.json`` and the predictions into ``output_dir`` as one unit.

    One dataset: its scores and ``predictions.jsonl``. Several: ``{**header, "results": {name: scores}}`` and
    ``predictions_<name>.jsonl`` each (``/`` in a name becomes ``_``).
    """
    with staged_output_dir(output_dir, overwrite) as staging:
        single = len(scored) == 1
        write_json(staging / "eval_results.json", next(iter(scored.values())) if single
                   else {**(header or {}), "results": scored})
        for name, records in predictions.items():
            write_jsonl(staging / ("predictions.jsonl" if single else f"predictions_{name.replace('/', '_')}.jsonl"),
                        records)
