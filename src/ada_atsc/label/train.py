"""``label train``: a tagger learns the user's labels in minutes, starting from where it stands (warm start).

One round: every target label so far (the last answer for each sentence), each repeated ``target_weight``
(4) times, mixed with a quarter as many labelled source sentences (``source_ratio``; a seeded sample: the
source keeps the tagger from forgetting what the target labels do not show), ``epochs`` (6) passes over that
mix at learning rate 5e-5 from the *current* tagger, the last step kept. There is no dev selection: a few dozen
target labels make no dev set, and selecting on the source would choose against the target. The recipe was
chosen on held-out *pool* sentences (``scripts/few_labels_recipe.py``, restaurants → laptops, 100 labels,
two draws): joint F1 45.4 / 43.7 against 42.8 / 39.6 for the first recipe (source 1:1, 3 epochs, 3e-5);
without any source 46.8 / 44.7, but a user's round keeps the source. The cost grows with the labels, not with
the corpus: 50 labels are about 47 steps.

On a tagger bundle (``adapt``) the round updates the bundle in place: the new tagger (and its int8 export)
replace the old, which is kept under ``work/label/round_<n>/previous`` until the next round; ``adapt.json``
and the card record every round (labels, steps, time). On a plain tagger directory ``--output_dir`` is the new
tagger.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import write_json, write_jsonl
from ..data.records import SentenceRecord
from .batch import iter_labelled

SOURCE_TRAIN = Path("work") / "source" / "train.sentences.jsonl"
"""Where a bundle made by ``adapt`` keeps its labelled source sentences."""


@dataclass(frozen=True)
class LabelTrainOptions:
    """One round of ``label train``."""

    model: str
    labels: tuple[str, ...]
    output_dir: str | None = None  # a plain tagger's new directory (a bundle is updated in place)
    source: tuple[str, ...] = ()  # labelled source files (default: the bundle's own, else the shipped data)
    target_weight: int = 4
    source_ratio: float = 0.25  # source sentences per (weighted) target sentence
    epochs: int = 6
    learning_rate: float = 5e-5
    batch_size: int = 32
    max_steps: int = 600
    export: bool = True
    seed: int = 42
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.target_weight < 1 or self.epochs < 1 or self.max_steps < 1 or self.source_ratio < 0:
            raise AdaError("--target_weight, --epochs and --max_steps must be at least 1, --source_ratio at least 0")


def read_labels(files: tuple[str, ...]) -> list[SentenceRecord]:
    """Every labelled sentence of ``files``, the last answer for a sentence winning."""
    latest: dict[str, SentenceRecord] = {}
    for name in files:
        if not Path(name).is_file():
            raise AdaError(f"{name}: labels file not found")
        for sentence in iter_labelled(name):
            latest.pop(sentence.id, None)
            latest[sentence.id] = sentence
    if not latest:
        raise AdaError(f"{', '.join(files)}: no labelled sentence")
    return list(latest.values())


def source_sentences(model: Path, files: tuple[str, ...]) -> list[SentenceRecord]:
    """The labelled source sentences kept beside the target's: ``files``, or the bundle's own, or the shipped
    labelled data."""
    from ..adapt.options import DEFAULT_LABELED, REPO_DATA
    from ..adapt.source import read_labeled
    from ..data.readers import read_sentences

    if files:
        return read_labeled([Path(f) for f in files])
    if (model / SOURCE_TRAIN).is_file():
        return list(read_sentences(model / SOURCE_TRAIN))
    shipped = [REPO_DATA / f for f in DEFAULT_LABELED]
    if not all(p.is_file() for p in shipped):
        raise AdaError(f"{model}: no labelled source data (the bundle has no {SOURCE_TRAIN}); pass --source FILE")
    return read_labeled(shipped)


def round_data(target: list[SentenceRecord], source: list[SentenceRecord], options: LabelTrainOptions
               ) -> list[SentenceRecord]:
    """The mix of one round: the target labels ``target_weight`` times, a seeded sample of source sentences
    (``source_ratio`` per weighted target sentence), shuffled with the seed."""
    weighted = [s for s in target for _ in range(options.target_weight)]
    rng = random.Random(options.seed)
    count = min(len(source), round(options.source_ratio * len(weighted)))
    mix = weighted + rng.sample(source, count)
    rng.shuffle(mix)
    return mix


def train_round(options: LabelTrainOptions) -> dict:
    """One round of learning from the labels (see the module docstring); returns the round's record."""
    from ..absa.unified_training import run_unified_training
    from ..atsc.options import ClassifierTrainingOptions
    from ..runtime.model_dir import (
        BUNDLE_MANIFEST,
        BUNDLE_TAGGER,
        BUNDLE_TAGGER_EXPORT,
        bundle_kind,
        model_kind,
    )

    started = time.perf_counter()
    model = Path(options.model)
    kind = bundle_kind(model)
    if kind == "pipeline":
        raise AdaError(f"{model}: a pipeline bundle; label train updates a unified tagger (adapt without --pipeline)")
    if kind is None and model_kind(model) != "unified":
        raise AdaError(f"{model}: not a unified tagger or a tagger bundle")
    if kind is None and not options.output_dir:
        raise AdaError("--output_dir: where the new tagger goes (a tagger bundle is updated in place)")
    if kind is None and Path(options.output_dir).exists() and not options.overwrite:
        raise AdaError(f"{options.output_dir}: exists already (pass --overwrite_output_dir to replace it)")
    tagger = model / BUNDLE_TAGGER if kind else model
    if not (tagger / "config.json").is_file():
        raise AdaError(f"{model}: the bundle has no PyTorch tagger ({BUNDLE_TAGGER}/) to learn from")
    target = read_labels(options.labels)
    mix = round_data(target, source_sentences(model, options.source), options)
    steps = max(1, min(options.max_steps, -(-options.epochs * len(mix) // options.batch_size)))
    manifest = json.loads((model / BUNDLE_MANIFEST).read_text(encoding="utf-8")) if kind else {}
    number = len(manifest.get("label_rounds", [])) + 1
    work = (model / "work" / "label" / f"round_{number}") if kind else Path(options.output_dir).with_name(
        Path(options.output_dir).name + ".label-work")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    write_jsonl(work / "train.sentences.jsonl", (s.to_record() for s in mix))
    trained = work / "tagger"
    run_unified_training(ClassifierTrainingOptions(
        model_name_or_path=str(tagger), output_dir=str(trained), task="unified",
        train_file=[str(work / "train.sentences.jsonl")], do_train=True, do_eval=False,
        evaluate_during_training=False, max_steps=steps,
        warmup_steps=max(1, steps // 10), learning_rate=options.learning_rate, train_batch_size=options.batch_size,
        logging_steps=max(1, steps), seed=options.seed, overwrite_output_dir=True,
        disable_tqdm=not options.progress))
    record = {"round": number, "target_labels": len(target),
              "target_aspects": sum(len(s.aspects) for s in target),
              "target_without_aspects": sum(1 for s in target if not s.aspects), "source_sentences": len(mix)
              - len(target) * options.target_weight, "target_weight": options.target_weight, "steps": steps,
              "learning_rate": options.learning_rate, "warm_start": True,
              "labels": [Path(f).name for f in options.labels]}
    if kind:
        _replace_in_bundle(model, trained, work, options)
    else:
        if Path(options.output_dir).exists():
            shutil.rmtree(options.output_dir)
        shutil.move(str(trained), options.output_dir)
        shutil.rmtree(work, ignore_errors=True)
    record["seconds"] = round(time.perf_counter() - started, 1)
    if kind:
        from ..adapt.card import write_card

        manifest.setdefault("label_rounds", []).append(record)
        write_json(model / BUNDLE_MANIFEST, manifest)
        write_card(model, manifest)
    record["model"] = str(model if kind else options.output_dir)
    record["export"] = BUNDLE_TAGGER_EXPORT if kind and options.export else None
    return record


def _replace_in_bundle(bundle: Path, trained: Path, work: Path, options: LabelTrainOptions) -> None:
    """The new tagger (and its int8 export, made before anything is replaced) in place of the old; the old
    is kept in ``work/previous`` so that a failure leaves a working bundle."""
    from ..runtime.model_dir import BUNDLE_TAGGER, BUNDLE_TAGGER_EXPORT

    exported = None
    if options.export:
        from ..export import ExportOptions, export_model

        exported = work / BUNDLE_TAGGER_EXPORT
        export_model(trained, exported, ExportOptions(quantize="int8"))
    previous = work / "previous"
    previous.mkdir()
    for part in (BUNDLE_TAGGER, BUNDLE_TAGGER_EXPORT):
        if (bundle / part).exists():
            shutil.move(str(bundle / part), previous / part)
    shutil.move(str(trained), bundle / BUNDLE_TAGGER)
    if exported is not None:
        shutil.move(str(exported), bundle / BUNDLE_TAGGER_EXPORT)
    for older in bundle.glob("work/label/round_*/previous"):  # only the last round's predecessor is kept
        if older != previous:
            shutil.rmtree(older, ignore_errors=True)
