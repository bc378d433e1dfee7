"""The stages of a pair bundle (``adapt --pipeline``: an extractor and a classifier) after LM adaptation.

``source_models``: both models from the adapted encoder on the labelled source data; ``self_training``: rounds of
pseudo-labelling target sentences (thresholds on the source dev set, :mod:`.pseudo`) and retraining;
``label_mix``: the target's label mix estimated from the classifier's calibrated outputs; ``bundle``:
``extractor/``, ``classifier/``, ``adapt.json`` and the card.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from ..core.fileio import write_json, write_jsonl
from ..runtime.model_dir import BUNDLE_MANIFEST
from .options import AdaptOptions
from .pseudo import extraction_threshold, polarity_threshold, pseudo_label
from .source import polar_pairs, read_labeled, split_source, write_source
from .stages import Stages, bundle_names, final_models, in_chunks, target_sample


def _train_models(options: AdaptOptions, encoder: str, data: Path, out: Path) -> dict:
    """An extractor and a classifier from ``encoder`` on ``data``'s train files, selected on its dev files."""
    from ..ate.training import run_extraction_training
    from ..atsc.options import ClassifierTrainingOptions
    from ..atsc.training import run_training

    budget = options.budget
    common = {"model_name_or_path": encoder, "do_train": True, "do_eval": True, "evaluate_during_training": True,
              "seed": options.seed, "train_batch_size": budget.batch_size, "logging_steps": budget.eval_steps,
              "overwrite_output_dir": True, "disable_tqdm": not options.progress}
    extractor = run_extraction_training(ClassifierTrainingOptions(
        output_dir=str(out / "extractor"), task="ate", train_file=[str(data / "train.sentences.jsonl")],
        dev_file=[str(data / "dev.sentences.jsonl")], max_steps=budget.ate_steps,
        warmup_steps=max(1, budget.ate_steps // 10), learning_rate=1e-4, **common))
    classifier = run_training(ClassifierTrainingOptions(
        output_dir=str(out / "classifier"), train_file=[str(data / "train.jsonl")], dev_file=[str(data / "dev.jsonl")],
        max_steps=budget.atsc_steps, warmup_steps=max(1, budget.atsc_steps * 15 // 100), learning_rate=3e-5,
        **common))
    return {"extractor_dev": _best_dev(extractor), "classifier_dev": _best_dev(classifier)}


def _best_dev(results: dict) -> dict:
    best = (results.get("dev") or {}).get("best") or {}
    return {k: round(v, 4) for k, v in best.items() if isinstance(v, float)}


def source_stage(options: AdaptOptions, work: Path, labeled: list[Path]) -> dict:
    """The labelled data (a seeded dev split), and the models trained on it from the adapted encoder."""
    train, dev = split_source(read_labeled(labeled), options.seed)
    counts = write_source(work / "source", train, dev)
    scores = _train_models(options, str(work / "adapted"), work / "source", work / "source_models")
    return {"labeled": [p.name for p in labeled], "data": counts, **scores}


def self_training_stage(options: AdaptOptions, work: Path) -> dict:
    """Rounds of: pseudo-label target sentences with the current models, keep the confident ones (thresholds
    from the source dev set), retrain from the adapted encoder on source + pseudo-labelled data."""
    from ..ate.extractor import Extractor
    from ..atsc.predict import Predictor
    from ..data.readers import read_sentences

    budget = options.budget
    models = work / "source_models"
    dev = read_sentences(work / "source" / "dev.sentences.jsonl")
    dev_pairs = polar_pairs(dev)
    rounds = []
    for number in range(1, budget.rounds + 1):
        extractor = Extractor(models / "extractor", batch_size=budget.batch_size)
        predictor = Predictor(models / "classifier", label_mix=False)
        found_dev = extractor.extract([s.sentence for s in dev])
        extraction, empty_right = extraction_threshold(found_dev, dev, options.extraction_precision)
        dev_probs = _probabilities(predictor, [(p.sentence, p.start, p.end) for p in dev_pairs])
        polarity = polarity_threshold(dev_probs, [p.polarity for p in dev_pairs], predictor.labels,
                                      options.polarity_precision)
        texts = target_sample(work / "corpus" / "corpus.txt", budget.target_sentences, options.seed + number)
        spans = in_chunks(extractor.extract, texts, f"pseudo-labelling, round {number}", options.progress)
        probs = _span_probabilities(predictor, texts, spans)
        source_empty = sum(1 for s in dev if not s.aspects) / max(1, len(dev))
        labels = pseudo_label(texts, spans, probs, predictor.labels, extraction, polarity,
                              keep_empty=empty_right >= options.extraction_precision, empty_share=source_empty,
                              max_per_term=options.max_per_term, seed=options.seed + number, round_name=f"r{number}")
        data = work / f"round_{number}"
        _write_round_data(work / "source", data, labels)
        scores = _train_models(options, str(work / "adapted"), data, data / "models")
        models = data / "models"
        rounds.append({"round": number, "extraction_threshold": extraction.to_json(),
                       "empty_sentences_right_on_dev": round(empty_right, 4),
                       "polarity_threshold": polarity.to_json(), "pseudo_labels": labels.counts, **scores})
    write_json(work / "final_models.json", {"models": str(models.relative_to(work))})
    last = rounds[-1]["pseudo_labels"] if rounds else {"pairs_kept": 0, "extraction_sentences_kept": 0}
    return {"rounds": rounds, "pairs_kept": last["pairs_kept"], "sentences_kept": last["extraction_sentences_kept"]}


def _write_round_data(source: Path, data: Path, labels) -> None:
    """Source + pseudo-labelled train files; the source dev files, unchanged."""
    data.mkdir(parents=True, exist_ok=True)
    write_jsonl(data / "pseudo.sentences.jsonl", (s.to_record() for s in labels.sentences))
    write_jsonl(data / "pseudo.jsonl", (p.to_record() for p in labels.pairs))
    for name, pseudo in (("train.sentences.jsonl", "pseudo.sentences.jsonl"), ("train.jsonl", "pseudo.jsonl")):
        (data / name).write_bytes((source / name).read_bytes() + (data / pseudo).read_bytes())
    for name in ("dev.sentences.jsonl", "dev.jsonl"):
        shutil.copyfile(source / name, data / name)


def _probabilities(predictor, pairs: list[tuple[str, int, int]]) -> np.ndarray:
    """The classifier's rows for (sentence, start, end) pairs, in order."""
    if not pairs:
        return np.zeros((0, len(predictor.labels)), dtype=np.float32)
    return predictor.span_probabilities(pairs)


def _span_probabilities(predictor, texts: list[str], spans: list[list[dict]]) -> list[np.ndarray]:
    flat = _probabilities(predictor, [(text, s["from"], s["to"]) for text, found in zip(texts, spans) for s in found])
    rows, at = [], 0
    for found in spans:
        rows.append(flat[at : at + len(found)])
        at += len(found)
    return rows


def source_calibration(work: Path, predictor):
    """The final classifier's calibration, fitted on the source dev pairs (:func:`~ada_atsc.atsc.label_mix.fit_calibration`)."""
    from ..atsc.label_mix import fit_calibration
    from ..data.readers import read_sentences

    pairs = polar_pairs(read_sentences(work / "source" / "dev.sentences.jsonl"))
    probs = _probabilities(predictor, [(p.sentence, p.start, p.end) for p in pairs])
    return fit_calibration(probs, np.asarray([predictor.labels.index(p.polarity) for p in pairs]))


def label_mix_stage(options: AdaptOptions, work: Path) -> dict:
    """The target's label mix, estimated from the final classifier's calibrated outputs on every aspect it finds
    in a fresh sample of target sentences, against the mix of its own training data."""
    from ..ate.extractor import Extractor
    from ..atsc.label_mix import estimate_label_mix, mix_of
    from ..atsc.predict import Predictor

    models = final_models(work)
    data = work / "source" if models == work / "source_models" else models.parent  # no round: the source's data
    train_labels = [json.loads(line)["polarity"] for line in (data / "train.jsonl").read_text().splitlines()]
    texts = target_sample(work / "corpus" / "corpus.txt", options.budget.target_sentences, options.seed + 1000)
    spans = in_chunks(Extractor(models / "extractor", batch_size=options.budget.batch_size).extract, texts,
                     "label mix", options.progress)
    predictor = Predictor(models / "classifier", label_mix=False)
    probs = np.concatenate([np.zeros((0, len(predictor.labels)))] + _span_probabilities(predictor, texts, spans))
    if not len(probs):
        return {"estimated": False, "reason": "no aspect found in the target sample", "aspects": 0}
    mix = estimate_label_mix(probs, mix_of(train_labels), calibration=source_calibration(work, predictor))
    write_json(work / "label_mix.json", mix.to_json())
    return {"estimated": True, "aspects": int(len(probs)), **mix.to_json()}


def bundle_stage(options: AdaptOptions, out: Path, stages: Stages, model: str, labeled: list[Path]) -> dict:
    """``extractor/``, ``classifier/`` (with the label mix when the correction is on), ``adapt.json``, the card."""
    from ..atsc.label_mix import LABEL_MIX_FILE
    from .card import write_card

    work = out / "work"
    models = final_models(work)
    for part in ("extractor", "classifier"):
        if (out / part).exists():
            shutil.rmtree(out / part)
        shutil.copytree(models / part, out / part)
    corrected = options.label_mix_correction and (work / "label_mix.json").is_file()
    if corrected:
        shutil.copyfile(work / "label_mix.json", out / "classifier" / LABEL_MIX_FILE)
    manifest = {
        "format": "ada-atsc adapt bundle", "format_version": 2, "kind": "pipeline",
        **bundle_names(options, model, labeled), "scale": options.scale, "budget": vars(options.budget),
        "seed": options.seed, "label_mix_correction": corrected,
        "thresholds_wanted": {"extraction_sentence_precision": options.extraction_precision,
                              "polarity_precision": options.polarity_precision, "max_per_term": options.max_per_term},
        "stages": stages.record,
    }
    write_json(out / BUNDLE_MANIFEST, manifest)
    write_card(out, manifest)
    return {"extractor": "extractor", "classifier": "classifier", "label_mix_correction": corrected}
