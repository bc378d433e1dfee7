#!/usr/bin/env python
"""Aspect term extraction and the whole pipeline, plain vs domain-adapted encoder: the extraction part of
``docs/domain_adaptation.md``.

Per domain (restaurants, laptops):

1. the adapted encoder, made with the domain-adaptation study's recipe (``scripts/domain_adaptation_study.py``:
   the domain's reviews plus the task's training sentences, 3 pregenerated epochs at 64 tokens, 800 LM steps,
   lr 1e-4, heads warmed up for 100 steps, seed 42);
2. an extractor (``train --task ate``) from the plain and from the adapted encoder for every seed, dev
   selection on the sentence-level dev split, test scored at the best-dev step;
3. a classifier with the default (aspect-robust) recipe from each encoder: ``robustness_study.py``'s
   ``markers_mams`` variant, so the plain one is the very run of that study when both share ``--robust_dir``;
4. the pipeline (extractor + classifier of the same encoder and seed) on the test sentences: extraction F1,
   joint (span, polarity) F1, sentiment on the aspects found (``evaluate --extractor --classifier``).

    .venv/bin/python scripts/extraction_study.py --output_dir runs/extraction --seeds 1 2 3

Every step is skipped when its output exists (the study resumes); ``--stage`` runs one step for the given
domains, encoders and seeds, so several processes can share the work (``scripts/device_studies.py``).
Writes ``results.json`` (every run) and ``results.md`` (mean ± std over seeds).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import domain_adaptation_study as adaptation  # noqa: E402
import robustness_study as robustness  # noqa: E402

from ada_atsc.core.fileio import atomic_open, write_json  # noqa: E402
from ada_atsc.runtime.models import packaged_minilm_path  # noqa: E402

ENCODERS = ("plain", "adapted-800")
LM_STEPS = 800
# extraction: about 12 passes over the ~2,700 training sentences; dev picks the step
ATE_RECIPE = ["--max_steps", "1000", "--warmup_steps", "100", "--learning_rate", "5e-5", "--logging_steps", "100",
              "--per_device_train_batch_size", "32", "--max_seq_length", "128", "--disable_tqdm"]
CLASSIFIER_VARIANT = "markers_mams"


def adapt(out: Path, domain: str, model: str) -> Path:
    """The adapted encoder of ``domain`` with the domain-adaptation study's main LM settings
    (docs/domain_adaptation.md, "Protocol"), under ``out/adapt``; made once."""
    settings = argparse.Namespace(freeze_embeddings=False, lm_learning_rate=adaptation.DEFAULT_LM_LR,
                                  lm_corpus="reviews+task", lm_objective="mlm+nsp", head_warmup_steps=100,
                                  lm_epochs=None, pregen_epochs=3, seed=42)
    adaptation.prepare_domain(out / "adapt", domain)
    pregen = adaptation.pregenerate(out / "adapt", domain, model, settings.pregen_epochs, settings.seed, 64,
                                    settings.lm_corpus, False)
    return adaptation.lm_finetune(out / "adapt", domain, model, pregen, LM_STEPS, settings)


def encoder_path(out: Path, domain: str, encoder: str, model: str) -> str:
    if encoder == "plain":
        return model
    folder = out / "adapt" / "lm" / f"{domain}-{LM_STEPS}"
    if not (folder / "config.json").exists():
        raise SystemExit(f"study: {folder} is missing: run --stage adapt for {domain} first")
    return str(folder)


def data_dir(out: Path, domain: str) -> Path:
    """Sentence- and pair-level splits of the domain (``prepare-semeval``; the same seeded dev split)."""
    adaptation.prepare_domain(out / "adapt", domain)
    return out / "adapt" / "data" / domain


def train_extractor(out: Path, domain: str, encoder: str, seed: int, model: str) -> Path:
    run_dir = out / "ate" / f"{domain}__{encoder}__seed{seed}"
    if not (run_dir / "eval_results.json").exists():
        data = data_dir(out, domain)
        robustness.call(["train", "--task", "ate", "--model_name_or_path", encoder_path(out, domain, encoder, model),
                         "--output_dir", str(run_dir), "--seed", str(seed), "--do_train", "--do_eval",
                         "--evaluate_during_training", "--overwrite_output_dir",
                         "--train_file", str(data / "train_split.sentences.jsonl"),
                         "--dev_file", str(data / "dev.sentences.jsonl"),
                         "--test_file", str(data / "test.sentences.jsonl"), *ATE_RECIPE])
    return run_dir


def train_classifier(out: Path, robust_dir: Path, domain: str, encoder: str, seed: int, model: str) -> Path:
    return robustness.train_run(robust_dir, domain, CLASSIFIER_VARIANT, seed, encoder_path(out, domain, encoder, model),
                                encoder)


def score_pipeline(out: Path, robust_dir: Path, domain: str, encoder: str, seed: int, model: str) -> Path:
    joint_dir = out / "joint" / f"{domain}__{encoder}__seed{seed}"
    if not (joint_dir / "eval_results.json").exists():
        extractor = train_extractor(out, domain, encoder, seed, model)
        classifier = train_classifier(out, robust_dir, domain, encoder, seed, model)
        robustness.call(["evaluate", "--extractor", str(extractor), "--classifier", str(classifier),
                         "--data", str(data_dir(out, domain) / "test.sentences.jsonl"), "--output_dir", str(joint_dir),
                         "--overwrite_output_dir"])
    return joint_dir


def collect(out: Path) -> list[dict]:
    """One row per (domain, encoder, seed) with an extractor; joint scores where the pipeline was scored."""
    rows = []
    for run_dir in sorted((out / "ate").glob("*__*__seed*")):
        results_file = run_dir / "eval_results.json"
        if not results_file.exists():
            continue
        domain, encoder, seed = run_dir.name.split("__")
        results = json.loads(results_file.read_text(encoding="utf-8"))
        best = results["test"]["best"]
        row = {"domain": domain, "encoder": encoder, "seed": int(seed.removeprefix("seed")),
               "ate_precision": best["precision"], "ate_recall": best["recall"], "ate_f1": best["f1"],
               "ate_best_step": results["best_step"]}
        joint_file = out / "joint" / run_dir.name / "eval_results.json"
        if joint_file.exists():
            joint = json.loads(joint_file.read_text(encoding="utf-8"))
            row.update({"joint_precision": joint["joint"]["precision"], "joint_recall": joint["joint"]["recall"],
                        "joint_f1": joint["joint"]["f1"],
                        "atsc_accuracy_on_extracted": (joint["atsc_on_extracted"] or {}).get("accuracy"),
                        "atsc_macro_f1_on_extracted": (joint["atsc_on_extracted"] or {}).get("macro_f1")})
        rows.append(row)
    return rows


COLUMNS = ["ate_precision", "ate_recall", "ate_f1", "joint_precision", "joint_recall", "joint_f1",
           "atsc_accuracy_on_extracted", "atsc_macro_f1_on_extracted"]


def summary_table(rows: list[dict]) -> str:
    """Mean ± sample std over seeds (in percent) per domain and encoder (the robustness study's table)."""
    ordered = sorted(rows, key=lambda r: (r["domain"], r["encoder"]))
    return robustness.summary_table(ordered, group="encoder", columns=COLUMNS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default="runs/extraction")
    parser.add_argument("--robust_dir", default=None,
                        help="robustness study folder that holds (or gets) the classifiers (default: OUTPUT_DIR/robust)")
    parser.add_argument("--model", default=None, help="encoder (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--domains", nargs="+", default=["restaurants", "laptops"], choices=sorted(adaptation.DOMAINS))
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS), choices=ENCODERS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--stage", choices=["all", "adapt", "ate", "classifier", "joint", "report"], default="all")
    parser.add_argument("--smoke", action="store_true", help="4 steps a run: checks the plumbing, not a result")
    args = parser.parse_args(argv)
    if args.smoke:
        global LM_STEPS, ATE_RECIPE
        LM_STEPS = 4
        ATE_RECIPE = [*ATE_RECIPE, "--max_steps", "4", "--warmup_steps", "1", "--logging_steps", "2"]
        robustness.use_smoke_recipe()
    out = Path(args.output_dir)
    robust_dir = Path(args.robust_dir) if args.robust_dir else out / "robust"
    model = args.model or packaged_minilm_path()
    for domain in [] if args.stage == "report" else args.domains:
        if args.stage in ("all", "adapt") and "adapted-800" in args.encoders:
            adapt(out, domain, model)
        for encoder in [] if args.stage == "adapt" else args.encoders:
            for seed in args.seeds:
                if args.stage == "ate":
                    train_extractor(out, domain, encoder, seed, model)
                elif args.stage == "classifier":
                    train_classifier(out, robust_dir, domain, encoder, seed, model)
                else:
                    score_pipeline(out, robust_dir, domain, encoder, seed, model)
    rows = collect(out)
    write_json(out / "results.json", rows)
    table = summary_table(rows)
    with atomic_open(out / "results.md") as handle:
        handle.write(table)
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
