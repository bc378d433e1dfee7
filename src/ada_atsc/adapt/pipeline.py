"""``adapt``: the stages, one function each, run in order by :func:`run_adapt`.

Every stage writes under ``<output_dir>/work/<stage>/`` and, when it is complete, a marker
``work/stages/<stage>.json`` (its time and summary). A stage whose marker exists is skipped with ``--resume``,
so a killed run continues where it stopped; a stage without one is run again from scratch, and as every step
is seeded, the bundle is the one an uninterrupted run writes.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..core.errors import AdaError
from ..core.fileio import write_json, write_jsonl
from ..runtime.model_dir import BUNDLE_MANIFEST
from .options import AdaptOptions
from .pseudo import extraction_threshold, polarity_threshold, pseudo_label
from .source import polar_pairs, read_labeled, split_source, write_source

STAGES = ("corpus", "pregenerate", "lm", "source_models", "self_training", "label_mix", "bundle")
MIN_TARGET_SENTENCES = 2


class Stages:
    """Runs stages in order, skipping the complete ones (see the module docstring)."""

    def __init__(self, work: Path):
        self.markers = work / "stages"
        self.record: dict[str, dict] = {}

    def run(self, name: str, stage: Callable[[], dict]) -> dict:
        number = STAGES.index(name) + 1
        marker = self.markers / f"{name}.json"
        if marker.is_file():
            self.record[name] = json.loads(marker.read_text(encoding="utf-8"))
            print(f"adapt {number}/{len(STAGES)} {name}: complete already, reused", file=sys.stderr, flush=True)
            return self.record[name]["summary"]
        print(f"adapt {number}/{len(STAGES)} {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        summary = stage()
        self.record[name] = {"seconds": round(time.perf_counter() - started, 1), "summary": summary}
        self.markers.mkdir(parents=True, exist_ok=True)
        write_json(marker, self.record[name])
        print(f"adapt {number}/{len(STAGES)} {name}: {self.record[name]['seconds']:.0f} s; {_one_line(summary)}",
              file=sys.stderr, flush=True)
        return summary


def _one_line(summary: dict, prefix: str = "") -> str:
    """The first few numbers of a stage's summary, nested keys dotted (``extractor_dev.f1 0.84``)."""
    flat: list[str] = []

    def walk(value: dict, prefix: str) -> None:
        for key, item in value.items():
            if isinstance(item, dict):
                walk(item, f"{prefix}{key}.")
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                flat.append(f"{prefix}{key} {item}")

    walk(summary, prefix)
    return ", ".join(flat[:8])


def prepare_output(options: AdaptOptions) -> Path:
    """The output folder: new, resumed, or (``overwrite``) an earlier adapt output replaced; anything else that
    is there already is refused, so no user data is lost."""
    out = Path(options.output_dir)
    if out.exists() and any(out.iterdir()):
        ours = (out / "work").is_dir() or (out / BUNDLE_MANIFEST).is_file()
        if options.resume and ours:
            return out
        if not ours:
            raise AdaError(f"{out}: exists and is not an 'ada-atsc adapt' output; choose another --output_dir")
        if not options.overwrite:
            raise AdaError(f"{out}: exists already (pass --resume to continue it or --overwrite_output_dir to "
                           "replace it)")
        shutil.rmtree(out)
    return out


def run_adapt(options: AdaptOptions) -> dict:
    """Run (or resume) every stage; returns the bundle's ``adapt.json``."""
    from ..runtime.models import packaged_minilm_path, resolve_model_path

    if not Path(options.corpus).is_file():
        raise AdaError(f"{options.corpus}: corpus file not found")
    labeled = options.labeled_files()
    model = resolve_model_path(options.model) if options.model else packaged_minilm_path()
    out = prepare_output(options)
    fresh = not out.exists()
    work = out / "work"
    stages = Stages(work)
    try:
        stages.run("corpus", lambda: corpus_stage(options, work))
    except AdaError:
        if fresh:  # nothing of a run that failed on its input is left behind
            shutil.rmtree(out, ignore_errors=True)
        raise
    stages.run("pregenerate", lambda: pregenerate_stage(options, work, model))
    stages.run("lm", lambda: lm_stage(options, work, model))
    stages.run("source_models", lambda: source_stage(options, work, labeled))
    stages.run("self_training", lambda: self_training_stage(options, work))
    stages.run("label_mix", lambda: label_mix_stage(options, work))
    stages.run("bundle", lambda: bundle_stage(options, out, stages, model, labeled))
    manifest = json.loads((out / BUNDLE_MANIFEST).read_text(encoding="utf-8"))
    manifest["stages"] = stages.record  # the bundle stage's own time too
    write_json(out / BUNDLE_MANIFEST, manifest)
    return manifest


# ------------------------------------------------------------------------------------------------ stages


def corpus_stage(options: AdaptOptions, work: Path) -> dict:
    """The target reviews -> the LM corpus (one sentence a line), benchmark test sentences excluded."""
    from ..corpus import prepare_corpus

    folder = work / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    stats = prepare_corpus([options.corpus], folder / "corpus.txt", text_field=options.text_field, min_sentences=1,
                           max_sentences=options.budget.max_corpus_sentences,
                           exclude=[str(p) for p in options.benchmark_tests()], overwrite=True,
                           progress=options.progress)
    if stats["sentences"] < MIN_TARGET_SENTENCES:
        raise AdaError(f"{options.corpus}: {stats['sentences']} sentence(s) of review text; adapt needs at least "
                       f"{MIN_TARGET_SENTENCES} (one review a line)")
    return {"reviews_read": stats["reviews_read"], "reviews_kept": stats["reviews_kept"],
            "sentences": stats["sentences"], "dropped": stats["dropped"]}


def pregenerate_stage(options: AdaptOptions, work: Path, model: str) -> dict:
    from ..pregenerate.pipeline import pregenerate
    from ..pregenerate.recipe import RecipeConfig
    from ..pregenerate.tokenizer_info import load_tokenizer_info

    budget = options.budget
    info = load_tokenizer_info(model, True)
    summary = pregenerate(work / "corpus" / "corpus.txt", work / "pregenerated", info,
                          RecipeConfig(max_seq_len=budget.max_seq_len), epochs=budget.pregen_epochs, seed=options.seed,
                          overwrite=True, progress=options.progress)
    return {"instances": summary["instances"], "epochs": budget.pregen_epochs, "max_seq_len": budget.max_seq_len}


def lm_stage(options: AdaptOptions, work: Path, model: str) -> dict:
    from ..lm.finetune import finetune_on_pregenerated
    from ..lm.training import LMTrainingOptions

    budget = options.budget
    lm = LMTrainingOptions(output_dir=str(work / "adapted"), train_batch_size=budget.batch_size,
                           learning_rate=budget.lm_learning_rate, warmup_steps=max(1, budget.lm_steps // 10),
                           max_steps=budget.lm_steps, logging_steps=max(1, budget.lm_steps // 20),
                           save_steps=budget.lm_steps, seed=options.seed, head_warmup_steps=budget.head_warmup_steps,
                           overwrite_output_dir=True, disable_tqdm=not options.progress)
    result = finetune_on_pregenerated(work / "pregenerated", model, lm, epochs=budget.pregen_epochs, do_lower_case=True)
    return {"steps": budget.lm_steps, "learning_rate": budget.lm_learning_rate,
            "final_loss": result.get("final_loss") if isinstance(result, dict) else None}


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
    return {"labeled": [str(p) for p in labeled], "data": counts, **scores}


def target_sample(corpus: Path, count: int, seed: int) -> list[str]:
    """``count`` distinct target sentences of 4 to 60 words, a seeded sample of the LM corpus."""
    sentences = list(dict.fromkeys(line.strip() for line in corpus.read_text(encoding="utf-8").splitlines()
                                   if 4 <= len(line.split()) <= 60))
    return random.Random(seed).sample(sentences, min(count, len(sentences)))


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
        spans = _extract(extractor, texts, f"pseudo-labelling, round {number}", options.progress)
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
    write_json(work / "final_models.json", {"models": str(models)})
    last = rounds[-1]
    return {"rounds": rounds, "pairs_kept": last["pseudo_labels"]["pairs_kept"],
            "sentences_kept": last["pseudo_labels"]["extraction_sentences_kept"]}


def _extract(extractor, texts: list[str], what: str, progress: bool, chunk: int = 256) -> list[list[dict]]:
    """The extractor's spans of ``texts``, in chunks under a progress bar."""
    from tqdm.auto import tqdm

    spans: list[list[dict]] = []
    with tqdm(total=len(texts), desc=what, unit="sentence", disable=not progress, file=sys.stderr) as bar:
        for at in range(0, len(texts), chunk):
            spans.extend(extractor.extract(texts[at : at + chunk]))
            bar.update(min(chunk, len(texts) - at))
    return spans


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


def final_models(work: Path) -> Path:
    return Path(json.loads((work / "final_models.json").read_text(encoding="utf-8"))["models"])


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
    train_labels = [json.loads(line)["polarity"] for line in (models.parent / "train.jsonl").read_text().splitlines()]
    texts = target_sample(work / "corpus" / "corpus.txt", options.budget.target_sentences, options.seed + 1000)
    spans = _extract(Extractor(models / "extractor", batch_size=options.budget.batch_size), texts,
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
        "format": "ada-atsc adapt bundle", "format_version": 1, "corpus": str(options.corpus), "encoder": model,
        "labeled": [str(p) for p in labeled], "scale": options.scale, "budget": vars(options.budget),
        "seed": options.seed, "label_mix_correction": corrected,
        "thresholds_wanted": {"extraction_sentence_precision": options.extraction_precision,
                              "polarity_precision": options.polarity_precision, "max_per_term": options.max_per_term},
        "stages": stages.record,
    }
    write_json(out / BUNDLE_MANIFEST, manifest)
    write_card(out, manifest)
    return {"extractor": str(out / "extractor"), "classifier": str(out / "classifier"),
            "label_mix_correction": corrected}
