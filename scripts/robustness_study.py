#!/usr/bin/env python
"""Aspect robustness of the ATSC classifier: which input format, head, training data and augmentation make
the classifier judge the aspect rather than the sentence?  The study behind ``docs/robustness.md``.

Every variant trains the packaged MiniLM with the paper's recipe (lr 3e-5, batch 32, 800 steps, warm-up 120,
dev every 100 steps, best dev macro-F1 kept) and is scored on the SemEval-2014 test set of its domain, that
set's multi-polarity subset, MAMS test (cross-domain for laptops) and the contrast probe built from that test
set. Dev for selection always holds multi-polarity sentences: the SemEval dev split + MAMS val, for both
domains, whatever the variant trains on.

    .venv/bin/python scripts/robustness_study.py --output_dir runs/robust --domain restaurants \
        --variants paper markers markers_mams --seeds 1 2 3

Each step is skipped when its output exists (the study resumes). Writes ``results.json`` (every run) and
``results.md`` (mean ± std over seeds per variant).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from ada_atsc.cli import main as ada_atsc
from ada_atsc.core.fileio import atomic_open, write_json
from ada_atsc.runtime.models import packaged_minilm_path

DATA = Path(__file__).resolve().parents[1] / "data"
SEMEVAL = {"restaurants": ("Restaurants_Train_v2.xml", "Restaurants_Test_Gold.xml"),
           "laptops": ("Laptop_Train_v2.xml", "Laptops_Test_Gold.xml")}
RECIPE = ["--max_steps", "800", "--warmup_steps", "120", "--learning_rate", "3e-5", "--logging_steps", "100",
          "--per_gpu_train_batch_size", "32", "--disable_tqdm"]
# name -> (train flags, train on SemEval, train on MAMS)
VARIANTS: dict[str, tuple[list[str], bool, bool]] = {
    "paper": (["--no_aspect_markers", "--no_aspect_pooling"], True, False),
    "markers": (["--aspect_markers", "--no_aspect_pooling"], True, False),
    "markers_pooling": (["--aspect_markers", "--aspect_pooling"], True, False),
    "paper_mams": (["--no_aspect_markers", "--no_aspect_pooling"], True, True),
    "markers_mams": (["--aspect_markers", "--no_aspect_pooling"], True, True),
    "markers_pooling_mams": (["--aspect_markers", "--aspect_pooling"], True, True),
    "markers_contrast": (["--aspect_markers", "--no_aspect_pooling", "--contrast_augmentation", "0.5"], True, False),
    "markers_mams_contrast": (["--aspect_markers", "--no_aspect_pooling", "--contrast_augmentation", "0.5"], True, True),
    "markers_mams_only": (["--aspect_markers", "--no_aspect_pooling"], False, True),
    # SemEval + MAMS is 4.4x the SemEval training data: the same 800 steps are 1.8 epochs of it
    "markers_mams_1600": (["--aspect_markers", "--no_aspect_pooling", "--max_steps", "1600", "--warmup_steps", "240"],
                          True, True),
    "markers_mams_contrast_1600": (["--aspect_markers", "--no_aspect_pooling", "--contrast_augmentation", "0.5",
                                    "--max_steps", "1600", "--warmup_steps", "240"], True, True),
}


def use_smoke_recipe() -> None:
    """Shrink every run to 4 steps (dev at 2 and 4) so that a new machine can check the whole study quickly."""
    global RECIPE
    RECIPE = [*RECIPE, "--max_steps", "4", "--warmup_steps", "1", "--logging_steps", "2"]
    for name, (flags, semeval, mams) in VARIANTS.items():
        VARIANTS[name] = ([f for f in flags if f not in ("--max_steps", "1600", "--warmup_steps", "240")], semeval, mams)


def call(argv: list[str]) -> None:
    if ada_atsc(argv) != 0:
        raise SystemExit(f"study: 'ada-atsc {argv[0]}' failed")


def prepare(out: Path, domain: str) -> Path:
    train_xml, test_xml = SEMEVAL[domain]
    folder = out / "data" / domain
    if not (folder / "test.jsonl").exists():
        call(["prepare-semeval", "--files", str(DATA / "semeval2014" / train_xml), "--output_dir", str(folder),
              "--istrain", "--noconfl", "--overwrite_output_dir"])
        call(["prepare-semeval", "--files", str(DATA / "semeval2014" / test_xml), "--output_dir", str(folder),
              "--noconfl"])
    return folder


def run_name(domain: str, variant: str, seed: int, encoder_name: str = "plain") -> str:
    """``restaurants__markers_mams__seed1``; another encoder than the plain MiniLM shows as ``variant@name``."""
    return f"{domain}__{variant}{'' if encoder_name == 'plain' else '@' + encoder_name}__seed{seed}"


def train_run(out: Path, domain: str, variant: str, seed: int, model: str | None = None,
              encoder_name: str = "plain") -> Path:
    folder = prepare(out, domain)
    flags, semeval, mams = VARIANTS[variant]
    run_dir = out / "runs" / run_name(domain, variant, seed, encoder_name)
    if (run_dir / "eval_results.json").exists():
        return run_dir
    train_files = ([str(folder / "train_split.jsonl")] if semeval else []) + ([str(DATA / "mams" / "train.xml")] if mams else [])
    dev_files = [str(folder / "dev.jsonl"), str(DATA / "mams" / "val.xml")]
    test_files = [str(folder / "test.jsonl"), str(DATA / "mams" / "test.xml")]
    call(["train", "--model_name_or_path", model or packaged_minilm_path(), "--output_dir", str(run_dir), "--seed", str(seed),
          "--do_train", "--do_eval", "--evaluate_during_training", "--overwrite_output_dir",
          "--train_file", *train_files, "--dev_file", *dev_files, "--test_file", *test_files, *RECIPE, *flags])
    return run_dir


def probe_run(run_dir: Path, test_file: Path) -> dict:
    probe_dir = run_dir / "probe"
    if not (probe_dir / "probe_results.json").exists():
        call(["probe", "--model", str(run_dir), "--data", str(test_file), "--output_dir", str(probe_dir),
              "--seed", "42", "--overwrite_output_dir"])
    return json.loads((probe_dir / "probe_results.json").read_text(encoding="utf-8"))


def collect(run_dir: Path, probe: dict | None) -> dict:
    results = json.loads((run_dir / "eval_results.json").read_text(encoding="utf-8"))
    best = results["test"]["best"]
    row = {"dev_macro_f1": results["dev"]["best"]["macro_f1"],
           "test_accuracy": best["accuracy"], "test_macro_f1": best["macro_f1"],
           "multi_polarity_accuracy": best["multi_polarity"]["accuracy"],
           "best_step": results["best_step"], "train_runtime_s": results["train_runtime_s"]}
    for name, scores in results.get("more_tests", {}).items():
        if name.startswith("mams"):
            row["mams_accuracy"] = scores["best"]["accuracy"]
            row["mams_macro_f1"] = scores["best"]["macro_f1"]
    if probe:
        row["probe_original_accuracy"] = probe["original_accuracy"]
        row["probe_variant_accuracy"] = probe["variant_accuracy"]
        row["probe_robust_share"] = probe["robust_share"]
    return row


COLUMNS = ["dev_macro_f1", "test_accuracy", "test_macro_f1", "multi_polarity_accuracy", "mams_accuracy", "mams_macro_f1",
           "probe_original_accuracy", "probe_variant_accuracy", "probe_robust_share"]


def summary_table(rows: list[dict], group: str = "variant", columns: list[str] = COLUMNS) -> str:
    """Mean ± sample std over seeds (in percent) per (domain, ``group``), in the order the rows come."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["domain"], row[group]), []).append(row)
    head = ["domain", group, "seeds"] + columns
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (domain, name), items in groups.items():
        cells = [domain, name, str(len(items))]
        for column in columns:
            values = [100 * i[column] for i in items if i.get(column) is not None]
            if not values:
                cells.append("–")
            elif len(values) == 1:
                cells.append(f"{values[0]:.2f}")
            else:
                cells.append(f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


PLOTTED = [("test_macro_f1", "SemEval test macro-F1"), ("multi_polarity_accuracy", "multi-polarity subset accuracy"),
           ("mams_accuracy", "MAMS test accuracy"), ("probe_variant_accuracy", "probe: accuracy on variants")]
TARGETS = {("restaurants", "test_macro_f1"): 74, ("restaurants", "multi_polarity_accuracy"): 72,
           ("restaurants", "mams_accuracy"): 80, ("laptops", "test_macro_f1"): 68.2}
"""The issue's targets (MiniLM, mean of 3 seeds), drawn as dashed lines."""


def plot(rows: list[dict], domain: str, path: Path) -> None:
    """One panel per measure: each variant's per-seed scores as dots, the mean as a bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(r["variant"] for r in rows if r["domain"] == domain))
    fig, axes = plt.subplots(1, len(PLOTTED), figsize=(3.2 * len(PLOTTED), 3.8), squeeze=False)
    for ax, (column, title) in zip(axes[0], PLOTTED):
        for x, variant in enumerate(variants):
            values = [100 * r[column] for r in rows if r["domain"] == domain and r["variant"] == variant
                      and r.get(column) is not None]
            if values:
                ax.bar(x, statistics.fmean(values), color="#9ecae1" if variant != "paper" else "#d9d9d9")
                ax.scatter([x] * len(values), values, s=14, color="black", zorder=3)
        if (domain, column) in TARGETS:
            ax.axhline(TARGETS[(domain, column)], color="#d62728", linestyle="--", linewidth=1, label="target")
            ax.legend(fontsize=7, loc="lower right")
        ax.set_xticks(range(len(variants)), variants, fontsize=7, rotation=35, ha="right")
        ax.set_title(title, fontsize=9)
        ax.set_ylim(40, 90)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{domain}: bars are means over seeds, dots single seeds (%)", fontsize=9)
    fig.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png", dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--domain", choices=sorted(SEMEVAL), default="restaurants")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["paper", "markers_mams"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--model", default=None, help="encoder (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--encoder_name", default="plain",
                        help="names the encoder in the run folders and tables (variant@NAME) when --model is another")
    parser.add_argument("--no_probe", action="store_true", help="train only (score the probe in a later call)")
    parser.add_argument("--report_only", action="store_true", help="only score missing probes and rebuild the tables")
    parser.add_argument("--smoke", action="store_true", help="4 training steps a run: checks the plumbing, not a result")
    args = parser.parse_args(argv)
    if args.smoke:
        use_smoke_recipe()
    out = Path(args.output_dir)
    for seed in [] if args.report_only else args.seeds:
        for variant in args.variants:
            run_dir = train_run(out, args.domain, variant, seed, args.model, args.encoder_name)
            if not args.no_probe:
                probe_run(run_dir, out / "data" / args.domain / "test.jsonl")
    if args.report_only:
        for run_dir in sorted((out / "runs").glob("*__seed*")):
            if (run_dir / "eval_results.json").exists():
                probe_run(run_dir, out / "data" / run_dir.name.split("__")[0] / "test.jsonl")
    rows = []
    for run_dir in sorted((out / "runs").glob("*__seed*")):
        if not (run_dir / "eval_results.json").exists():
            continue
        domain, variant, seed = run_dir.name.split("__")
        probe_file = run_dir / "probe" / "probe_results.json"
        probe = json.loads(probe_file.read_text(encoding="utf-8")) if probe_file.exists() else None
        rows.append({"domain": domain, "variant": variant, "seed": int(seed.removeprefix("seed")),
                     **collect(run_dir, probe)})
    order = list(VARIANTS)
    rows.sort(key=lambda r: (r["domain"], order.index(r["variant"]) if r["variant"] in order else len(order), r["seed"]))
    write_json(out / "results.json", rows)
    with atomic_open(out / "results.md") as handle:
        handle.write(summary_table(rows))
    for domain in sorted({r["domain"] for r in rows}):
        plot(rows, domain, out / f"robustness_{domain}.png")
    sys.stdout.write(summary_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
