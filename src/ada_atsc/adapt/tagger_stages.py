"""The stages of a tagger bundle after LM adaptation (the default ``adapt``), one function each.

``source_tagger``: a unified tagger from the adapted encoder on the labelled source data; ``tagger_self_training``:
rounds of pseudo-labelling target sentences with the current tagger and training a new one from the adapted
encoder on source + kept sentences (:mod:`.tagger`); ``bundle``: ``tagger/``, its ONNX int8 export
``tagger-int8/`` (what ``absa``, ``report`` and ``serve`` run), ``adapt.json`` and the card, with the speed of
the bundle's model measured on target sentences of this machine.

There is no label-mix stage: the correction was measured for the pair's classifier, where it cost accuracy on
text far from the source (docs/cross_domain.md), and a tagger's polarity is read from tag mass, not from one
softmax that a prior shift re-weights; the pair (``--pipeline``) keeps it.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..core.fileio import write_json, write_jsonl
from ..runtime.model_dir import BUNDLE_MANIFEST, BUNDLE_TAGGER, BUNDLE_TAGGER_EXPORT
from .options import AdaptOptions
from .source import read_labeled, split_source, write_source
from .stages import SPEED_SENTENCES, Stages, bundle_names, final_models, in_chunks, target_sample
from .tagger import tagger_pseudo_labels, tagger_thresholds, train_tagger


def _train(options: AdaptOptions, work: Path, data: Path, out: Path) -> dict:
    budget = options.budget
    return train_tagger(str(work / "adapted"), data, out, steps=budget.tagger_steps, batch_size=budget.batch_size,
                        eval_steps=budget.eval_steps, seed=options.seed, progress=options.progress)


def source_tagger_stage(options: AdaptOptions, work: Path, labeled: list[Path]) -> dict:
    """The labelled data (a seeded dev split) and a tagger trained on it from the adapted encoder."""
    train, dev = split_source(read_labeled(labeled), options.seed)
    counts = write_source(work / "source", train, dev)
    scores = _train(options, work, work / "source", work / "source_models" / BUNDLE_TAGGER)
    write_json(work / "final_models.json", {"models": "source_models"})
    return {"labeled": [p.name for p in labeled], "data": counts, "tagger_dev": scores}


def tagger_self_training_stage(options: AdaptOptions, work: Path) -> dict:
    """Rounds of: tag target sentences with the current tagger, keep the sure ones (thresholds on the source dev
    set), train a new tagger from the adapted encoder on source + kept sentences, selected on the source dev."""
    from ..absa.unified import UnifiedTagger
    from ..data.readers import read_sentences

    budget = options.budget
    dev = read_sentences(work / "source" / "dev.sentences.jsonl")
    source_empty = sum(1 for s in dev if not s.aspects) / max(1, len(dev))
    models = work / "source_models"
    rounds = []
    for number in range(1, budget.rounds + 1):
        tagger = UnifiedTagger(models / BUNDLE_TAGGER, batch_size=max(budget.batch_size, 64))
        extraction, empty_right, polarity = tagger_thresholds(
            in_chunks(tagger.tag, [s.sentence for s in dev], "source dev", options.progress), dev,
            extraction_precision=options.extraction_precision, polarity_precision=options.polarity_precision)
        texts = target_sample(work / "corpus" / "corpus.txt", budget.target_sentences, options.seed + number)
        found = in_chunks(tagger.tag, texts, f"pseudo-labelling, round {number}", options.progress)
        labels = tagger_pseudo_labels(texts, found, extraction, polarity,
                                      keep_empty=empty_right >= options.extraction_precision, empty_share=source_empty,
                                      max_per_term=options.max_per_term, seed=options.seed + number,
                                      round_name=f"r{number}")
        data = work / f"round_{number}"
        data.mkdir(parents=True, exist_ok=True)
        write_jsonl(data / "pseudo.sentences.jsonl", (s.to_record() for s in labels.sentences))
        (data / "train.sentences.jsonl").write_bytes((work / "source" / "train.sentences.jsonl").read_bytes()
                                                     + (data / "pseudo.sentences.jsonl").read_bytes())
        shutil.copyfile(work / "source" / "dev.sentences.jsonl", data / "dev.sentences.jsonl")
        scores = _train(options, work, data, data / "models" / BUNDLE_TAGGER)
        models = data / "models"
        rounds.append({"round": number, "extraction_threshold": extraction.to_json(),
                       "empty_sentences_right_on_dev": round(empty_right, 4), "polarity_threshold": polarity.to_json(),
                       "pseudo_labels": labels.counts, "tagger_dev": scores})
    write_json(work / "final_models.json", {"models": str(models.relative_to(work))})
    last = rounds[-1] if rounds else {"pseudo_labels": {}}
    return {"rounds": rounds, "sentences_kept": last["pseudo_labels"].get("sentences_kept", 0)}


def measure_speed(model_dir: Path, texts: list[str]) -> dict:
    """Sentences per second of the bundle's model on ``texts`` (one warm-up batch first), on this machine."""
    from ..absa.unified import UnifiedTagger

    tagger = UnifiedTagger(model_dir, batch_size=64)
    tagger.tag(texts[:16])
    started = time.perf_counter()
    tagger.tag(texts)
    seconds = time.perf_counter() - started
    return {"sentences": len(texts), "seconds": round(seconds, 3),
            "sentences_per_second": round(len(texts) / max(seconds, 1e-9), 1), "model": model_dir.name}


def tagger_bundle_stage(options: AdaptOptions, out: Path, stages: Stages, model: str, labeled: list[Path]) -> dict:
    """``tagger/``, ``tagger-int8/`` (unless ``--no_export``), ``adapt.json`` and the card."""
    from .card import write_card

    work = out / "work"
    for part in (BUNDLE_TAGGER, BUNDLE_TAGGER_EXPORT):
        if (out / part).exists():
            shutil.rmtree(out / part)
    shutil.copytree(final_models(work) / BUNDLE_TAGGER, out / BUNDLE_TAGGER)
    exported = False
    if options.export:
        from ..export import ExportOptions, export_model

        export_model(out / BUNDLE_TAGGER, out / BUNDLE_TAGGER_EXPORT, ExportOptions(quantize="int8"))
        exported = True
    runs = out / (BUNDLE_TAGGER_EXPORT if exported else BUNDLE_TAGGER)
    speed = measure_speed(runs, target_sample(work / "corpus" / "corpus.txt", SPEED_SENTENCES, options.seed + 2000))
    source = stages.record["source_tagger"]["summary"]
    rounds = stages.record["tagger_self_training"]["summary"]["rounds"]
    manifest = {
        "format": "ada-atsc adapt bundle", "format_version": 2, "kind": "tagger",
        **bundle_names(options, model, labeled), "scale": options.scale, "budget": vars(options.budget),
        "seed": options.seed, "runs": runs.name, "export": BUNDLE_TAGGER_EXPORT if exported else None,
        "dev_scores": {"source_tagger": source["tagger_dev"],
                       "final_tagger": rounds[-1]["tagger_dev"] if rounds else source["tagger_dev"]},
        "speed": speed, "label_mix_correction": False,
        "thresholds_wanted": {"extraction_sentence_precision": options.extraction_precision,
                              "polarity_precision": options.polarity_precision, "max_per_term": options.max_per_term},
        "stages": stages.record,
    }
    write_json(out / BUNDLE_MANIFEST, manifest)
    write_card(out, manifest)
    return {"tagger": BUNDLE_TAGGER, "export": manifest["export"], "sentences_per_second":
            speed["sentences_per_second"]}
