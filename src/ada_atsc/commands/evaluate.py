"""``ada-atsc evaluate``: score any trained classifier, aspect extractor, aspect-category model, or extractor +
classifier pipeline on any labeled data; one JSON line of headline scores per ``--data`` file (see :mod:`ada_atsc.atsc.evaluate`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..core.errors import AdaError
from .arguments import add_inference_arguments, add_model_source, add_output_dir, check_batch_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="a classifier, an aspect extractor or a unified tagger written by 'ada-atsc train' "
                             "(the kind is read from its config), or a bundle ('ada-atsc adapt': the whole pipeline)")
    parser.add_argument("--extractor", default=None,
                        help="with --classifier: score the whole pipeline (extraction, joint span+polarity F1)")
    parser.add_argument("--classifier", default=None, help="the pipeline's sentiment classifier (with --extractor)")
    parser.add_argument("--data", required=True, nargs="+",
                        help="labeled data: JSONL, CSV, SemEval/MAMS XML; several files are scored one by one "
                             "(e.g. rest/test.jsonl data/mams/test.xml)")
    add_output_dir(parser, "write eval_results.json and predictions.jsonl here (otherwise only print)", required=False)
    add_inference_arguments(parser, batch_size=64, batch_help="pairs or sentences per batch")
    add_model_source(parser)


def run(args: argparse.Namespace) -> int:
    from ..core.fileio import check_output_dir
    from ..runtime.model_dir import TAGGER_KINDS, model_kind

    check_batch_options(args.batch_size, args.max_seq_length)
    if args.output_dir:
        check_output_dir(args.output_dir, args.overwrite_output_dir)
    files = [args.data] if isinstance(args.data, str) else list(args.data)
    if bool(args.extractor) != bool(args.classifier) or bool(args.model) == bool(args.extractor):
        raise AdaError("give --model DIR, or --extractor DIR and --classifier DIR (the whole pipeline)")
    if args.extractor:
        return _run_pipeline(args, files)
    kind = model_kind(args.model)
    if kind == "bundle":  # an 'ada-atsc adapt' bundle: the whole pipeline on sentence files
        from ..runtime.model_dir import bundle_parts

        args.extractor, args.classifier = bundle_parts(args.model)
        return _run_pipeline(args, files)
    if kind in TAGGER_KINDS:  # one model for the whole pipeline
        args.extractor, args.classifier = args.model, None
        return _run_pipeline(args, files)
    if kind == "ate":
        return _run_extractor(args, files)
    if kind == "acsa":
        return _run_categories(args, files)
    return _run_classifier(args, files)


def _run_classifier(args: argparse.Namespace, files: list[str]) -> int:
    """Accuracy, macro-F1 and the multi-polarity subset per file."""
    from ..atsc.datasets import load_labeled
    from ..atsc.evaluate import evaluate_model
    from ..training.evaluation import write_evaluation
    from ..training.splits import test_set_name

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
        write_evaluation(args.output_dir, scored, predictions, overwrite=args.overwrite_output_dir,
                         header={"model": str(args.model)})
    return 0


def _run_extractor(args: argparse.Namespace, files: list[str]) -> int:
    """An aspect extractor: exact-span scores per file (sentence-level data or any reader's)."""
    from ..ate.evaluate import evaluate_extractor
    from ..ate.training import load_sentence_file
    from ..training.evaluation import write_evaluation
    from ..training.splits import test_set_name

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
        write_evaluation(args.output_dir, scored, predictions, overwrite=args.overwrite_output_dir,
                         header={"model": str(args.model)})
    return 0


def _run_categories(args: argparse.Namespace, files: list[str]) -> int:
    """An aspect-category model: detection P/R/F1 and polarity on the gold and the detected categories."""
    from ..acsa.predict import CategoryClassifier
    from ..acsa.training import load_category_file, score_category_sentences
    from ..training.evaluation import write_evaluation
    from ..training.splits import test_set_name

    datasets = {test_set_name(Path(f)): (f, load_category_file(f)) for f in files}
    model = CategoryClassifier(args.model, device=args.device, batch_size=args.batch_size,
                               max_seq_length=args.max_seq_length)
    scored, predictions = {}, {}
    for name, (path, sentences) in datasets.items():
        metrics, predictions[name] = score_category_sentences(model.model, model.tokenizer, sentences,
                                                              args.max_seq_length, args.batch_size)
        metrics["data"] = str(path)
        scored[name] = metrics
        print(json.dumps({"model": str(args.model), "data": str(path), "task": "acsa",
                          "sentences": metrics["num_sentences"],
                          **{k: round(v, 4) for k, v in metrics.items() if isinstance(v, float)}}))
    if args.output_dir:
        write_evaluation(args.output_dir, scored, predictions, overwrite=args.overwrite_output_dir,
                         header={"model": str(args.model)})
    return 0


def _run_pipeline(args: argparse.Namespace, files: list[str]) -> int:
    """``--extractor --classifier`` (or one tagger): ATE span F1, joint (span, polarity) F1, ATSC on found
    aspects; with a triplet tagger also triplet, pair and opinion F1."""
    from ..absa.pipeline import AbsaPipeline
    from ..absa.scores import evaluate_pipeline
    from ..ate.training import load_sentence_file
    from ..runtime.model_dir import model_kind
    from ..training.evaluation import write_evaluation
    from ..training.splits import test_set_name

    if args.classifier is not None and model_kind(args.extractor) != "ate":
        raise AdaError(f"{args.extractor}: --extractor is not an aspect extractor (train one with --task ate)")
    if args.classifier is not None and model_kind(args.classifier) != "atsc":
        raise AdaError(f"{args.classifier}: --classifier is an aspect extractor, not a sentiment classifier")
    datasets = {test_set_name(Path(f)): (f, load_sentence_file(f)) for f in files}
    pipeline = AbsaPipeline(args.extractor, args.classifier, device=args.device, batch_size=args.batch_size,
                            max_seq_length=args.max_seq_length)
    scored, predictions = {}, {}
    for name, (path, sentences) in datasets.items():
        scores, predictions[name] = evaluate_pipeline(pipeline, sentences)
        scores.update({"data": str(path), **({"extractor": str(args.extractor), "classifier": str(args.classifier)}
                                             if args.classifier else {"model": str(args.extractor)})})
        extra = {}
        if pipeline.opinions:  # a triplet tagger: the ASTE measures too
            from ..absa.scores import triplet_scores

            triplets = triplet_scores(sentences, [r["pred"] for r in predictions[name]])
            scores.update({k: triplets[k] for k in ("triplet", "pair", "opinion")})
            extra = {f"{k}_f1": round(triplets[k]["f1"], 4) for k in ("triplet", "pair", "opinion")}
        scored[name] = scores
        sentiment = scores["atsc_on_extracted"] or {}
        print(json.dumps({"data": str(path), "sentences": scores["sentences"], **extra,
                          "ate_f1": round(scores["ate"]["f1"], 4), "joint_f1": round(scores["joint"]["f1"], 4),
                          "joint_precision": round(scores["joint"]["precision"], 4),
                          "joint_recall": round(scores["joint"]["recall"], 4),
                          "atsc_accuracy_on_extracted": round(sentiment.get("accuracy", 0.0), 4),
                          "atsc_macro_f1_on_extracted": round(sentiment.get("macro_f1", 0.0), 4)}))
    if args.output_dir:
        write_evaluation(args.output_dir, scored, predictions, overwrite=args.overwrite_output_dir)
    return 0
