"""``ada-atsc evaluate``: score any trained classifier on any labeled dataset.

Cross-domain evaluation is just this: a model trained on restaurants, ``--data`` a laptops file. The data
file may be in any format the data layer reads; conflict examples are dropped (not an ATSC class). Besides
accuracy and macro-F1, every score includes ``multi_polarity``: the same measures on the examples whose
sentence holds aspects of different polarities (where a sentence-level answer must fail). Several ``--data``
files (a SemEval test set and MAMS test) are scored one by one.
"""

from __future__ import annotations

import argparse
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a classifier directory written by 'ada-atsc train'")
    parser.add_argument("--data", required=True, nargs="+",
                        help="labeled data: JSONL, CSV, SemEval/MAMS XML; several files are scored one by one "
                             "(e.g. rest/test.jsonl data/mams/test.xml)")
    parser.add_argument("--output_dir", default=None,
                        help="write eval_results.json and predictions.jsonl here (otherwise only print)")
    parser.add_argument("--overwrite_output_dir", action="store_true")
    parser.add_argument("--max_seq_length", type=int, default=128)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: a GPU if present)")


def run(args: argparse.Namespace) -> int:
    from ..fileio import check_output_dir
    from .datasets import load_labeled, test_set_name
    from .predict import check_batch_options

    check_batch_options(args.batch_size, args.max_seq_length)
    if args.output_dir:
        check_output_dir(args.output_dir, args.overwrite_output_dir)
    files = [args.data] if isinstance(args.data, str) else list(args.data)
    datasets = {test_set_name(Path(f)): (f, load_labeled(f)) for f in files}  # every file checked first
    if len(datasets) < len(files):
        raise AdaError("--data: two files share a name (<folder>/<file>); rename one")
    scored: dict[str, dict] = {}
    predictions: dict[str, list[dict]] = {}
    for name, (path, examples) in datasets.items():
        results = evaluate_model(args.model, examples, max_seq_length=args.max_seq_length,
                                 batch_size=args.batch_size, device=args.device, return_predictions=True)
        predictions[name] = results.pop("predictions")
        results["data"] = str(path)
        scored[name] = results
        multi = results["multi_polarity"]
        print(json.dumps({"model": str(args.model), "data": str(path), "num_examples": results["num_examples"],
                          "accuracy": round(results["accuracy"], 4), "macro_f1": round(results["macro_f1"], 4),
                          "multi_polarity_accuracy": None if multi["accuracy"] is None else round(multi["accuracy"], 4),
                          "multi_polarity_examples": multi["num_examples"]}))
    if args.output_dir:
        with staged_output_dir(args.output_dir, args.overwrite_output_dir) as staging:
            if len(scored) == 1:
                (name,) = scored
                write_json(staging / "eval_results.json", scored[name])
                write_jsonl(staging / "predictions.jsonl", predictions[name])
            else:
                write_json(staging / "eval_results.json", {"model": str(args.model), "results": scored})
                for name, records in predictions.items():
                    write_jsonl(staging / f"predictions_{name.replace('/', '_')}.jsonl", records)
    return 0
