"""``ada-atsc demo`` (``make demo``): the whole method on the shipped data, every output under one folder.

1. prepare SemEval-2014 restaurants (train / dev / train_split / test) from the vendored XML;
2. prepare the vendored restaurant reviews as an LM corpus (every benchmark sentence excluded) and the task's
   own training sentences as a second, task-adaptive corpus;
3. pregenerate masked-LM + next-sentence epochs, then LM-fine-tune the encoder (heads warmed up first: the
   packaged MiniLM ships without them);
4. train the classifier from the plain and from the adapted encoder, same seed and recipe: ``train``'s
   aspect-robust defaults, on SemEval-2014 restaurants + MAMS (dev: SemEval dev + MAMS val; see
   docs/robustness.md);
5. train the unified tagger (``train --task unified``: every aspect and its polarity in one pass) for each
   encoder, starting from that encoder's classifier of step 4 (its head replaced: measured on the demo's budget,
   see ``TAGGER_FROM_CLASSIFIER``), it lifts the tagger's test joint F1 by 8 points over starting from the encoder itself, at no
   extra step), export it to ONNX int8, score it on the test sentences (extraction F1, joint span+polarity F1)
   and time it (sentences per second, this machine);
6. print the table (the paper's ATSC columns: test accuracy and macro-F1 at the best-dev checkpoint, the
   multi-polarity subset, MAMS test; then the tagger's) and classify example sentences;
7. run ``absa`` on three raw multi-sentence reviews with the int8 tagger of the encoder that did better on dev.

Each step runs the same code as its ``ada-atsc`` command (it *is* that command, called in-process), writes its
output atomically, and is skipped when its output is already there, so a second run reuses finished steps.
``--scale`` (or the ``DEMO_SCALE`` environment variable) picks the budget: ``small`` fits a 2-core CPU in
under 20 minutes, ``full`` is the paper's recipe for a GPU, ``tiny`` is for tests.

This module is the ``demo`` command itself (``add_arguments`` / ``run``, as in :mod:`ada_atsc.commands`): it sits
above :mod:`ada_atsc.cli`, whose commands it calls, so it is not one of the command modules below the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .cli import main as ada_atsc
from .commands.arguments import add_output_dir, add_progress, add_seed
from .core.errors import AdaError
from .core.fileio import atomic_open, write_json

REPO_DATA = Path(__file__).resolve().parents[2] / "data"

ADAPTATION_NOTE = (
    "One seed, demo budgets (a fifth of the studies'). Does adaptation help? Not reliably at any LM budget that fits "
    "here: over 3 seeds, adapting MiniLM on these restaurant reviews did not raise SemEval macro-F1, extraction F1 "
    "or joint F1 (docs/domain_adaptation.md), so read differences of a point or two in this table as seed noise. "
    "The only gain the studies found (laptops, +2.2 macro-F1) needed 800 LM steps, 14 minutes of this CPU alone.")

TAGGER_FROM_CLASSIFIER = (
    "Why the demo's taggers start from its classifiers: at the demo's 200 tagger steps (seed 42, restaurants), a tagger "
    "started from the plain encoder reached test joint F1 53.31 (dev 43.36) and from the adapted encoder 52.34 (dev "
    "42.40), with most aspects called positive; started from the classifier of the same encoder (trained for aspect "
    "sentiment in step 4, its head replaced) 61.03 (dev 55.72) and 60.26 (dev 52.86), at the same cost.")

# Written for the demo (in no data set): whole reviews, several sentences, aspects of both polarities.
RAW_REVIEWS = [
    "We came for my sister's birthday. The lamb was cooked perfectly and the desserts were wonderful! "
    "Sadly our waiter forgot the drinks twice, and the bill took forever.",
    "Tiny place, always crowded. The sushi is fresh and cheap, but the miso soup was cold. "
    "I would go back for the rolls alone.",
    "Beautiful view over the river. The staff were friendly though slow; the pasta was bland and overpriced.",
]

EXAMPLES = [
    ("The food was great but the service was painfully slow.", ["food", "service"]),
    ("Prices are high for the portion size, though the wine list is excellent.", ["Prices", "portion size", "wine list"]),
    ("We waited an hour for a table, the sushi was fresh and the decor is nothing special.",
     ["table", "sushi", "decor"]),
    ("Great pizza, terrible waiter.", ["pizza", "waiter"]),
]


@dataclass(frozen=True)
class Scale:
    """The budget of one demo run."""

    max_corpus_sentences: int | None
    pregen_epochs: int
    max_seq_len: int
    lm_steps: int
    head_warmup_steps: int
    lm_learning_rate: float
    atsc_steps: int
    atsc_warmup_steps: int
    eval_steps: int
    tagger_steps: int
    tagger_learning_rate: float


SCALES = {
    "tiny": Scale(2000, 1, 64, 4, 2, 1e-4, 6, 2, 3, 4, 1e-4),
    # 2-core CPU, < 20 minutes with set-up: the LM budget that cost least in docs/domain_adaptation.md (200
    # steps); classifiers and taggers at a fifth and a seventh of the studies' budgets
    "small": Scale(None, 1, 64, 200, 100, 1e-4, 300, 45, 100, 200, 1e-4),
    # a GPU: the studies' budgets (docs/robustness.md, docs/domain_adaptation.md)
    "full": Scale(None, 3, 256, 6000, 500, 3e-5, 1600, 240, 100, 1500, 5e-5),
}


def _step(number: int, title: str, done: bool) -> bool:
    print(f"\n=== demo step {number}/7: {title}{' (done already, reused)' if done else ''}", flush=True)
    return not done


def _call(argv: list[str]) -> None:
    status = ada_atsc(argv)
    if status != 0:
        raise AdaError(f"demo step failed: ada-atsc {' '.join(argv[:1])} exited with status {status}")


def run_demo(out: Path, model: str, scale: Scale, *, seed: int = 42, progress: bool = True) -> str:
    """Run (or resume) the demo under ``out``; returns the results table in Markdown."""
    out.mkdir(parents=True, exist_ok=True)
    print(f"demo: writing everything under {out.resolve()} (model {model})", flush=True)
    write_json(out / "demo_settings.json", {"model": model, "seed": seed, **asdict(scale)})
    quiet = [] if progress else ["--no_progress"]
    timings: dict[str, float] = {}
    semeval = REPO_DATA / "semeval2014"
    data = out / "data" / "restaurants"
    corpus_dir = out / "corpus"
    pregen = out / "pregenerated"
    adapted = out / "models" / "adapted"
    classifiers = {"plain": out / "classifiers" / "plain", "adapted": out / "classifiers" / "adapted"}
    taggers = {"plain": out / "taggers" / "plain", "adapted": out / "taggers" / "adapted"}
    tagger_eval = out / "tagger_eval"

    started = time.perf_counter()
    if _step(1, "prepare SemEval-2014 restaurants", (data / "test.jsonl").exists()):
        _call(["prepare-semeval", "--files", str(semeval / "Restaurants_Train_v2.xml"), "--output_dir", str(data),
               "--istrain", "--noconfl", "--seed", "41", "--overwrite_output_dir"])
        _call(["prepare-semeval", "--files", str(semeval / "Restaurants_Test_Gold.xml"), "--output_dir", str(data),
               "--noconfl", "--overwrite_output_dir"])
    timings["1_data_s"] = time.perf_counter() - started

    started = time.perf_counter()
    lm_corpus = corpus_dir / "restaurants_plus_task.txt"
    if _step(2, "LM corpus: restaurant reviews (benchmarks excluded) + task-adaptive text", lm_corpus.exists()):
        limit = [] if scale.max_corpus_sentences is None else ["--max_sentences", str(scale.max_corpus_sentences)]
        _call(["prepare-corpus", "--input", str(REPO_DATA / "corpora" / "restaurant_reviews_zomato.txt"),
               "--output", str(corpus_dir / "reviews.txt"), "--exclude", *map(str, sorted(semeval.rglob("*.xml"))),
               "--overwrite_output_dir", *limit, *quiet])
        _call(["prepare-corpus", "--task_data", str(data / "train_split.jsonl"), "--output", str(corpus_dir / "task.txt"),
               "--overwrite_output_dir", *quiet])
        with atomic_open(lm_corpus) as handle:
            handle.write((corpus_dir / "reviews.txt").read_text(encoding="utf-8"))
            handle.write("\n")
            handle.write((corpus_dir / "task.txt").read_text(encoding="utf-8"))
    timings["2_corpus_s"] = time.perf_counter() - started

    started = time.perf_counter()
    if _step(3, "pregenerate masked-LM + next-sentence epochs", (pregen / f"epoch_{scale.pregen_epochs - 1}_metrics.json").exists()):
        _call(["pregenerate", "--train_corpus", str(lm_corpus), "--bert_model", model, "--do_lower_case",
               "--output_dir", str(pregen), "--epochs_to_generate", str(scale.pregen_epochs),
               "--max_seq_len", str(scale.max_seq_len), "--seed", str(seed), "--overwrite_output_dir", *quiet])
    timings["3_pregenerate_s"] = time.perf_counter() - started

    started = time.perf_counter()
    if _step(4, "LM fine-tuning (domain adaptation)", (adapted / "config.json").exists()):
        _call(["lm-finetune", "--pregenerated_data", str(pregen), "--bert_model", model, "--do_lower_case",
               "--output_dir", str(adapted), "--epochs", str(scale.pregen_epochs), "--max_steps", str(scale.lm_steps),
               "--head_warmup_steps", str(scale.head_warmup_steps), "--learning_rate", str(scale.lm_learning_rate),
               "--warmup_steps", str(max(1, scale.lm_steps // 10)), "--train_batch_size", "32",
               "--logging_steps", str(max(1, scale.lm_steps // 20)), "--save_steps", str(scale.lm_steps),
               "--seed", str(seed), "--overwrite_output_dir", *quiet])
    timings["4_lm_finetune_s"] = time.perf_counter() - started

    started = time.perf_counter()
    encoders = {"plain": model, "adapted": str(adapted)}
    mams = REPO_DATA / "mams"
    splits = ["--train_file", str(data / "train_split.jsonl"), str(mams / "train.xml"),
              "--dev_file", str(data / "dev.jsonl"), str(mams / "val.xml"),
              "--test_file", str(data / "test.jsonl"), str(mams / "test.xml")]
    for name, folder in classifiers.items():
        if _step(5, f"ATSC classifier from the {name} encoder", (folder / "eval_results.json").exists()):
            _call(["train", "--model_name_or_path", encoders[name], *splits, "--output_dir", str(folder),
                   "--do_train", "--do_eval", "--evaluate_during_training", "--seed", str(seed),
                   "--max_steps", str(scale.atsc_steps), "--warmup_steps", str(scale.atsc_warmup_steps),
                   "--learning_rate", "3e-5", "--per_device_train_batch_size", "32",
                   "--logging_steps", str(scale.eval_steps), "--max_seq_length", "128", "--overwrite_output_dir",
                   *quiet])
    timings["5_train_s"] = time.perf_counter() - started

    started = time.perf_counter()
    for name, folder in taggers.items():
        if _step(5, f"unified tagger for the {name} encoder (from its classifier)",
                 (folder / "eval_results.json").exists()):
            _call(["train", "--task", "unified", "--model_name_or_path", str(classifiers[name]), "--data_dir", str(data),
                   "--output_dir", str(folder), "--do_train", "--do_eval", "--evaluate_during_training",
                   "--seed", str(seed), "--max_steps", str(scale.tagger_steps),
                   "--warmup_steps", str(max(1, scale.tagger_steps // 10)),
                   "--learning_rate", str(scale.tagger_learning_rate), "--per_device_train_batch_size", "32",
                   "--logging_steps", str(scale.eval_steps), "--max_seq_length", "128", "--overwrite_output_dir",
                   *quiet])
        int8 = _int8(folder)
        if _step(5, f"the {name} tagger: ONNX int8 export, scored and timed on the test sentences",
                 (tagger_eval / name / "speed.json").exists()):
            _call(["export", "--model", str(folder), "--output", str(int8), "--quantize", "int8",
                   "--overwrite_output_dir"])
            _call(["evaluate", "--model", str(int8), "--data", str(data / "test.sentences.jsonl"),
                   "--output_dir", str(tagger_eval / name), "--overwrite_output_dir"])
            write_json(tagger_eval / name / "speed.json", tagger_speed(int8, data / "test.sentences.jsonl"))
    timings["5_tagger_s"] = time.perf_counter() - started

    _step(6, "results", False)
    results = {name: json.loads((folder / "eval_results.json").read_text()) for name, folder in classifiers.items()}
    tagged = {name: {**json.loads((tagger_eval / name / "eval_results.json").read_text()),
                     "speed": json.loads((tagger_eval / name / "speed.json").read_text()),
                     "dev": json.loads((taggers[name] / "eval_results.json").read_text())["dev"]}
              for name in taggers}
    table = results_table(results, tagged) + "\n\n" + ADAPTATION_NOTE
    with atomic_open(out / "results.md") as handle:
        handle.write(table + "\n")
    best = max(results, key=lambda name: (results[name]["dev"]["best"]["macro_f1"], name == "adapted"))
    print(example_predictions(classifiers[best]))

    best_tagger = max(tagged, key=lambda name: (tagged[name]["dev"]["best"]["f1"], name == "adapted"))
    _step(7, f"absa on three raw reviews (the {best_tagger} tagger, int8: higher dev joint F1)", False)
    started = time.perf_counter()
    reviews = out / "reviews.txt"
    with atomic_open(reviews) as handle:
        handle.write("\n".join(RAW_REVIEWS) + "\n")
    _call(["absa", "--model", str(_int8(taggers[best_tagger])), "--input", str(reviews),
           "--output", str(out / "reviews.absa.jsonl"), "--overwrite_output_dir", *quiet])
    print(absa_summary(out / "reviews.absa.jsonl"))
    timings["7_absa_s"] = time.perf_counter() - started
    write_json(out / "timings.json", {k: round(v, 1) for k, v in timings.items()})
    return table


def _int8(tagger: Path) -> Path:
    return tagger.with_name(tagger.name + "-int8")


def tagger_speed(model_dir: Path, sentence_file: Path) -> dict:
    """Sentences per second of a tagger over the test sentences, on this machine (as ``adapt`` times a bundle)."""
    from .adapt.tagger_stages import measure_speed
    from .data.readers import read_sentences

    return measure_speed(model_dir, [s.sentence for s in read_sentences(sentence_file)])


def results_table(results: dict[str, dict], tagged: dict[str, dict]) -> str:
    """Markdown, one row per encoder: the paper's ATSC columns (SemEval test accuracy, macro-F1 and
    multi-polarity accuracy at the best-dev checkpoint, MAMS test accuracy, the dev score that picks the
    classifier of the examples), then the unified tagger's (its int8 export's extraction and joint F1 on the
    test sentences, its sentences per second here)."""
    lines = ["| encoder | test accuracy | test macro-F1 | multi-polarity accuracy | MAMS accuracy | dev macro-F1 "
             "| best dev step | tagger extraction F1 | tagger joint F1 | tagger sentences/s (int8) |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def percent(value) -> str:
        return "–" if value is None else f"{100 * value:.2f}"

    for name, result in results.items():
        best = result["test"]["best"]
        mams = next((v["best"]["accuracy"] for k, v in result.get("more_tests", {}).items() if k.startswith("mams")), None)
        tagger = tagged.get(name, {})
        speed = tagger.get("speed", {}).get("sentences_per_second")
        lines.append(f"| {name} | {percent(best['accuracy'])} | {percent(best['macro_f1'])} | "
                     f"{percent(best.get('multi_polarity', {}).get('accuracy'))} | {percent(mams)} | "
                     f"{percent(result['dev']['best']['macro_f1'])} | {result['best_step']} / {result['last_step']} | "
                     f"{percent(tagger.get('ate', {}).get('f1'))} | {percent(tagger.get('joint', {}).get('f1'))} | "
                     f"{'–' if speed is None else f'{speed:.0f}'} |")
    return "\n".join(lines)


def absa_summary(path: Path) -> str:
    """Each review of :data:`RAW_REVIEWS` with its aspects, labels and offsets, as ``absa`` wrote them."""
    lines = ["\nabsa on raw reviews (offsets into each review):"]
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            lines.append(f"  {record.get('text', '')}")
            if "error" in record:
                lines.append(f"    error: {record['error']}")
            for aspect in record.get("aspects", []):
                lines.append(f"    {aspect['term']!r:>16} [{aspect['from']}:{aspect['to']}] -> {aspect['label']:<8} "
                             f"(p {aspect['probabilities'][aspect['label']]:.2f}, extraction {aspect['score']:.2f})")
    return "\n".join(lines)


def example_predictions(model_dir: Path) -> str:
    """Classify :data:`EXAMPLES` with the classifier in ``model_dir``, one line per aspect."""
    from .atsc.predict import Predictor

    predictor = Predictor(str(model_dir))
    lines = [f"\nexample predictions ({model_dir.name} classifier):"]
    for sentence, aspects in EXAMPLES:
        lines.append(f"  {sentence}")
        for result in predictor.predict(sentence, aspects=aspects):
            if "error" in result:
                lines.append(f"    {result['aspect']!r:>16} -> error: {result['error']}")
                continue
            probs = ", ".join(f"{k} {v:.2f}" for k, v in result["probabilities"].items())
            lines.append(f"    {result['aspect']!r:>16} -> {result['label']:<8} ({probs})")
    return "\n".join(lines)


# ------------------------------------------------------------------ the command (ada-atsc demo)

def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_output_dir(parser, "every file the demo writes goes under here", required=False, default="demo_output",
                   overwrite=False)
    parser.add_argument("--scale", choices=sorted(SCALES), default=os.environ.get("DEMO_SCALE", "small"),
                        help="budget: tiny (tests), small (2-core CPU, < 20 min; default), full (the paper's, GPU)")
    parser.add_argument("--model", default=None, help="encoder directory (default: the packaged all-MiniLM-L6-v2)")
    add_seed(parser, default=42, what="every step (data split, pregeneration, training)")
    add_progress(parser)


def run(args: argparse.Namespace) -> int:
    from .runtime.models import packaged_minilm_path

    if args.scale not in SCALES:
        raise AdaError(f"unknown demo scale '{args.scale}' (choose from {', '.join(SCALES)})")
    model = args.model or packaged_minilm_path()
    table = run_demo(Path(args.output_dir), model, SCALES[args.scale], seed=args.seed, progress=not args.no_progress)
    print(table)
    return 0
