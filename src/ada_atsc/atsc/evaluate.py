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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="a classifier or an aspect extractor written by 'ada-atsc train' (the kind is read "
                             "from its config)")
    parser.add_argument("--extractor", default=None,
                        help="with --classifier: score the whole pipeline (extraction, joint span+polarity F1)")
    parser.add_argument("--classifier", default=None, help="the pipeline's sentiment classifier (with --extractor)")
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
    if bool(args.extractor) != bool(args.classifier) or bool(args.model) == bool(args.extractor):
        raise AdaError("give --model DIR, or --extractor DIR and --classifier DIR (the whole pipeline)")
    if args.extractor:
        return _run_pipeline(args, files)
    if model_kind(args.model) == "ate":
        return _run_extractor(args, files)
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


def _run_extractor(args: argparse.Namespace, files: list[str]) -> int:
    """``evaluate`` of an aspect extractor: exact-span scores per file (sentence-level data or any reader's)."""
    from ..ate.training import load_sentence_file
    from .datasets import test_set_name

    datasets = {test_set_name(Path(f)): (f, load_sentence_file(f)) for f in files}
    scored, predictions = {}, {}
    for name, (path, sentences) in datasets.items():
        metrics, predictions[name] = evaluate_extractor(args.model, sentences, max_seq_length=args.max_seq_length,
                                                        batch_size=args.batch_size, device=args.device)
        metrics["data"] = str(path)
        scored[name] = metrics
        print(json.dumps({"model": str(args.model), "data": str(path), "task": "ate", "sentences": metrics["sentences"],
                          **{k: round(metrics[k], 4) for k in ("precision", "recall", "f1")}}))
    if args.output_dir:
        with staged_output_dir(args.output_dir, args.overwrite_output_dir) as staging:
            write_json(staging / "eval_results.json", next(iter(scored.values())) if len(scored) == 1
                       else {"model": str(args.model), "results": scored})
            for name, records in predictions.items():
                write_jsonl(staging / ("predictions.jsonl" if len(scored) == 1
                                       else f"predictions_{name.replace('/', '_')}.jsonl"), records)
    return 0


def _run_pipeline(args: argparse.Namespace, files: list[str]) -> int:
    """``evaluate --extractor --classifier``: ATE span F1, joint (span, polarity) F1, ATSC on found aspects."""
    from ..absa.pipeline import AbsaPipeline
    from ..absa.scores import evaluate_pipeline
    from ..ate.training import load_sentence_file
    from .datasets import test_set_name

    if model_kind(args.extractor) != "ate":
        raise AdaError(f"{args.extractor}: --extractor is not an aspect extractor (train one with --task ate)")
    if model_kind(args.classifier) != "atsc":
        raise AdaError(f"{args.classifier}: --classifier is an aspect extractor, not a sentiment classifier")
    datasets = {test_set_name(Path(f)): (f, load_sentence_file(f)) for f in files}
    pipeline = AbsaPipeline(args.extractor, args.classifier, device=args.device, batch_size=args.batch_size,
                            max_seq_length=args.max_seq_length)
    scored, predictions = {}, {}
    for name, (path, sentences) in datasets.items():
        scores, predictions[name] = evaluate_pipeline(pipeline, sentences)
        scores.update({"data": str(path), "extractor": str(args.extractor), "classifier": str(args.classifier)})
        scored[name] = scores
        sentiment = scores["atsc_on_extracted"] or {}
        print(json.dumps({"data": str(path), "sentences": scores["sentences"],
                          "ate_f1": round(scores["ate"]["f1"], 4), "joint_f1": round(scores["joint"]["f1"], 4),
                          "joint_precision": round(scores["joint"]["precision"], 4),
                          "joint_recall": round(scores["joint"]["recall"], 4),
                          "atsc_accuracy_on_extracted": round(sentiment.get("accuracy", 0.0), 4),
                          "atsc_macro_f1_on_extracted": round(sentiment.get("macro_f1", 0.0), 4)}))
    if args.output_dir:
        with staged_output_dir(args.output_dir, args.overwrite_output_dir) as staging:
            write_json(staging / "eval_results.json", next(iter(scored.values())) if len(scored) == 1
                       else {"results": scored})
            for name, records in predictions.items():
                write_jsonl(staging / ("predictions.jsonl" if len(scored) == 1
                                       else f"predictions_{name.replace('/', '_')}.jsonl"), records)
    return 0
