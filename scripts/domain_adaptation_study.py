#!/usr/bin/env python
"""Does domain adaptation help the packaged MiniLM on SemEval-2014 ATSC?  The study behind
``docs/domain_adaptation.md``.

For each domain (restaurants: Zomato reviews; laptops: Amazon electronics reviews), each plus the task's own
training sentences (task-adaptive text): prepare the LM corpus (benchmark sentences excluded), pregenerate,
LM-fine-tune the encoder at each ``--lm_budgets`` (optimizer steps, heads warmed up first), then train the
ATSC classifier from the plain and from every adapted encoder with the paper's recipe for every seed, select
on dev, and score test in-domain and cross-domain. Every step is an ``ada-atsc`` command run in-process and is
skipped when its output exists, so the study resumes where it stopped.

    .venv/bin/python scripts/domain_adaptation_study.py --output_dir runs/study --seeds 1 2 3 --lm_budgets 300 1200

Writes ``results.json`` (every run), ``results.md`` / ``results.csv`` (mean +- std and max over seeds),
``scores.png`` (per-seed scores), ``budget.png`` (gain against LM budget) and ``timings.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from pathlib import Path

from ada_atsc.atsc.evaluate import evaluate_model
from ada_atsc.cli import main as ada_atsc
from ada_atsc.core.fileio import atomic_open, write_json
from ada_atsc.data import read_dataset
from ada_atsc.runtime.models import packaged_minilm_path
from ada_atsc.studies.experiment import csv_table, markdown_table, plot_scores, summarise

DATA = Path(__file__).resolve().parents[1] / "data"
DEFAULT_LM_LR = 1e-4
DOMAINS = {
    "restaurants": ("Restaurants_Train_v2.xml", "Restaurants_Test_Gold.xml", "restaurant_reviews_zomato.txt"),
    "laptops": ("Laptop_Train_v2.xml", "Laptops_Test_Gold.xml", "electronics_reviews_amazon.txt"),
}


def call(argv: list[str]) -> None:
    if ada_atsc(argv) != 0:
        raise SystemExit(f"study: 'ada-atsc {argv[0]}' failed")


@contextlib.contextmanager
def timer(timings: dict, key: str):
    """Add the block's wall-clock seconds to ``timings[key]`` (a resumed step adds only its own time)."""
    started = time.perf_counter()
    yield
    timings[key] = round(timings.get(key, 0.0) + time.perf_counter() - started, 1)


def prepare_domain(out: Path, domain: str) -> None:
    train_xml, test_xml, reviews = DOMAINS[domain]
    data = out / "data" / domain
    if not (data / "test.jsonl").exists():
        call(["prepare-semeval", "--files", str(DATA / "semeval2014" / train_xml), "--output_dir", str(data),
              "--istrain", "--noconfl", "--overwrite_output_dir"])
        call(["prepare-semeval", "--files", str(DATA / "semeval2014" / test_xml), "--output_dir", str(data),
              "--noconfl", "--overwrite_output_dir"])
    corpus = out / "corpus" / f"{domain}.txt"
    if not corpus.exists():
        call(["prepare-corpus", "--input", str(DATA / "corpora" / reviews), "--task_data", str(data / "train_split.jsonl"),
              "--output", str(corpus), "--exclude", *map(str, sorted((DATA / "semeval2014").rglob("*.xml"))),
              "--no_progress"])
    task_corpus = out / "corpus" / f"{domain}-task.txt"
    if not task_corpus.exists():  # task-adaptive text alone (TAPT): the task's own training sentences
        call(["prepare-corpus", "--task_data", str(data / "train_split.jsonl"), "--output", str(task_corpus),
              "--no_progress"])


def pregenerate(out: Path, domain: str, model: str, epochs: int, seed: int, max_seq_len: int, corpus: str,
                mlm_only: bool) -> Path:
    name = domain if corpus == "reviews+task" else f"{domain}-task"
    pregen = out / "pregenerated" / (name + ("-mlm" if mlm_only else ""))
    if not (pregen / f"epoch_{epochs - 1}_metrics.json").exists():
        call(["pregenerate", "--train_corpus", str(out / "corpus" / f"{name}.txt"), "--bert_model", model,
              *(["--mlm_only"] if mlm_only else []),
              "--do_lower_case", "--output_dir", str(pregen), "--epochs_to_generate", str(epochs), "--max_seq_len", str(max_seq_len),
              "--seed", str(seed), "--overwrite_output_dir", "--no_progress"])
    return pregen


def lm_finetune(out: Path, domain: str, model: str, pregen: Path, steps: int, args: argparse.Namespace) -> Path:
    adapted = out / "lm" / f"{domain}-{steps}{variant_suffix(args)}"
    if not (adapted / "config.json").exists():
        call(["lm-finetune", "--pregenerated_data", str(pregen), "--bert_model", model, "--do_lower_case",
              "--output_dir", str(adapted), "--epochs", str(args.lm_epochs or args.pregen_epochs), "--max_steps", str(steps),
              "--head_warmup_steps", str(min(args.head_warmup_steps, steps // 2)),
              "--learning_rate", str(args.lm_learning_rate), "--warmup_steps", str(max(1, steps // 10)),
              "--train_batch_size", "32", "--logging_steps", str(max(1, steps // 20)), "--save_steps", str(steps),
              "--seed", str(args.seed), "--overwrite_output_dir",
              *(["--freeze_embeddings"] if args.freeze_embeddings else [])])
    return adapted


def variant_suffix(args: argparse.Namespace) -> str:
    """Names the LM settings that differ from the study's main ones (adapted-800-frozen-emb, ...-task-only)."""
    suffix = "-frozen-emb" if args.freeze_embeddings else ""
    if args.lm_learning_rate != DEFAULT_LM_LR:
        suffix += f"-lr{args.lm_learning_rate:g}"
    if args.lm_corpus == "task":
        suffix += "-task-only"
    if args.lm_objective == "mlm":
        suffix += "-mlm-only"
    return suffix


def collect_runs(out: Path, domains: list[str], args: argparse.Namespace) -> list[dict]:
    """Every finished run under ``out/runs`` (also those of earlier invocations with other variants)."""
    runs = []
    for folder in sorted((out / "runs").glob("*__*__seed*")):
        name, domain, seed = folder.name.split("__")
        if (folder / "eval_results.json").exists() and domain in domains:
            runs.append(train_and_score(out, name, "", domain, int(seed.removeprefix("seed")), args))
    return runs


def train_and_score(out: Path, name: str, encoder: str, domain: str, seed: int, args: argparse.Namespace) -> dict:
    folder = out / "runs" / f"{name}__{domain}__seed{seed}"
    if not (folder / "eval_results.json").exists():
        call(["train", "--model_name_or_path", encoder, "--data_dir", str(out / "data" / domain),
              "--output_dir", str(folder), "--do_train", "--do_eval", "--evaluate_during_training", "--seed", str(seed),
              "--max_steps", str(args.atsc_steps), "--warmup_steps", str(args.atsc_warmup_steps), "--learning_rate", "3e-5",
              "--per_device_train_batch_size", "32", "--logging_steps", "100", "--max_seq_length", "128",
              "--overwrite_output_dir", "--disable_tqdm"])
    results = json.loads((folder / "eval_results.json").read_text())
    scores = {domain: {k: results["test"]["best"][k] for k in ("accuracy", "macro_f1")}}
    for other in DOMAINS:
        if other == domain or not (out / "data" / other / "test.jsonl").exists():
            continue
        cross_file = folder / f"cross_{other}.json"
        if not cross_file.exists():
            metrics = evaluate_model(folder, read_dataset(out / "data" / other / "test.jsonl"))
            write_json(cross_file, {k: metrics[k] for k in ("accuracy", "macro_f1")})
        scores[other] = json.loads(cross_file.read_text())
    return {"model": name, "dataset": domain, "seed": seed, "scores": scores, "best_step": results["best_step"],
            "train_runtime_s": results.get("train_runtime_s")}


def plot_budget(rows: list[dict], budgets: list[int], path: Path) -> None:
    """Mean test macro-F1 (in-domain) against LM budget, 0 = the plain encoder; error bars = std over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for domain in DOMAINS:
        points = []
        for budget in [0, *budgets]:
            name = "plain" if budget == 0 else f"adapted-{budget}"
            row = next((r for r in rows if r["model"] == name and r["train"] == domain and r["test"] == domain), None)
            if row:
                points.append((budget, row["macro_f1_mean"], row["macro_f1_std"]))
        if points:
            xs, ys, es = zip(*points)
            ax.errorbar(xs, ys, yerr=es, marker="o", capsize=3, label=domain)
    ax.set_xlabel("LM fine-tuning budget (optimizer steps of 32 sequences; 0 = plain MiniLM)")
    ax.set_ylabel("test macro-F1 (%), mean +- std over seeds")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", default="runs/study")
    parser.add_argument("--model", default=None, help="encoder (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--domains", nargs="+", default=list(DOMAINS), choices=list(DOMAINS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--lm_budgets", nargs="+", type=int, default=[300, 1200])
    parser.add_argument("--budgets_for", nargs="+", default=None,
                        help="domains that get every budget (others get only the largest); default: all")
    parser.add_argument("--pregen_epochs", type=int, default=3)
    parser.add_argument("--lm_epochs", type=int, default=None,
                        help="passes of LM fine-tuning (default: --pregen_epochs; --max_steps stops it first)")
    parser.add_argument("--max_seq_len", type=int, default=128, help="of the pregenerated LM instances")
    parser.add_argument("--head_warmup_steps", type=int, default=100)
    parser.add_argument("--lm_learning_rate", type=float, default=DEFAULT_LM_LR)
    parser.add_argument("--lm_corpus", choices=["reviews+task", "task"], default="reviews+task",
                        help="LM text: the reviews plus the task's training sentences, or the latter alone (TAPT)")
    parser.add_argument("--lm_objective", choices=["mlm+nsp", "mlm"], default="mlm+nsp",
                        help="masked LM + next sentence (the paper), or masked LM alone (pooler kept as it was)")
    parser.add_argument("--atsc_steps", type=int, default=800)
    parser.add_argument("--atsc_warmup_steps", type=int, default=120)
    parser.add_argument("--seed", type=int, default=42, help="seed of pregeneration and LM fine-tuning")
    parser.add_argument("--report_only", action="store_true",
                        help="train nothing: summarise the finished runs (tables and plots)")
    parser.add_argument("--freeze_embeddings", action="store_true",
                        help="LM fine-tuning keeps the word embeddings (tied to the fresh MLM decoder) frozen")
    args = parser.parse_args(argv)
    out = Path(args.output_dir)
    model = args.model or packaged_minilm_path()
    timings_path = out / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else {}
    per_run = []
    for domain in [] if args.report_only else args.domains:
        with timer(timings, f"{domain}/prepare_s"):
            prepare_domain(out, domain)
        with timer(timings, f"{domain}/pregenerate_s"):
            pregen = pregenerate(out, domain, model, args.pregen_epochs, args.seed, args.max_seq_len, args.lm_corpus,
                                 args.lm_objective == "mlm")
        budgets = args.lm_budgets if args.budgets_for is None or domain in args.budgets_for else [max(args.lm_budgets)]
        encoders = {}
        for steps in sorted(budgets, reverse=True):  # the largest budget first: the main comparison
            with timer(timings, f"{domain}/lm_finetune_{steps}{variant_suffix(args)}_s"):
                encoders[f"adapted-{steps}{variant_suffix(args)}"] = str(lm_finetune(out, domain, model, pregen, steps, args))
        encoders["plain"] = model
        for name, encoder in encoders.items():
            for seed in args.seeds:
                with timer(timings, f"{domain}/train_{name}_s"):
                    per_run.append(train_and_score(out, name, encoder, domain, seed, args))
                write_json(out / "results.json", per_run)
                write_json(timings_path, timings)
    per_run = collect_runs(out, list(DOMAINS), args)
    write_json(out / "results.json", per_run)
    rows = summarise(per_run)
    with atomic_open(out / "results.md") as handle:
        handle.write(markdown_table(rows) + "\n")
    with atomic_open(out / "results.csv") as handle:
        handle.write(csv_table(rows))
    write_json(out / "summary.json", rows)
    plot_scores(rows, out / "scores.png")
    plot_budget(rows, args.lm_budgets, out / "budget.png")
    write_json(timings_path, timings)
    print(markdown_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
