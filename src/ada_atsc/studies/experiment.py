"""Experiments (``ada-atsc experiment``): models x datasets x seeds, each run in its own folder, summarised the
way the field reports ATSC: mean +- std and max over seeds of accuracy and macro-F1.

Fine-tuning BERT on ~3k examples varies by several points between seeds, so a single run says little;
the table is what to compare. Every run trains on its dataset's train split (dev-selected checkpoint) and
is scored on its own test split (in-domain) and on every other dataset's test split (cross-domain).

Resumable: a run whose folder holds ``eval_results.json`` is finished and skipped (that file only appears
when the whole run folder is renamed into place); an interrupted run has no such folder and restarts.

Config (YAML/JSON, ``--config exp.yaml``)::

    output_dir: runs/grid
    seeds: [1, 2, 3]
    models: {base: packaged-minilm, adapted: runs/lm/restaurants}
    datasets: {restaurants: prepared/restaurants, laptops: prepared/laptops}   # prepare-semeval folders
    cross_domain: true
    train: {learning_rate: 3.0e-5, per_gpu_train_batch_size: 32, max_steps: 800, warmup_steps: 120}
"""

from __future__ import annotations

import csv
import io
import json
import logging
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..core.errors import AdaError
from ..core.fileio import atomic_open, write_json

logger = logging.getLogger(__name__)

PACKAGED_MINILM = "packaged-minilm"


def _dataset_files(name: str, spec) -> dict[str, str]:
    """A dataset is a prepare-semeval folder, or a mapping with data_dir and/or train/dev/test files."""
    spec = {"data_dir": spec} if isinstance(spec, str) else dict(spec)
    allowed = {"data_dir", "train_file", "dev_file", "test_file"}
    if set(spec) - allowed or not spec:
        raise AdaError(f"dataset '{name}': use a folder or keys {', '.join(sorted(allowed))}")
    for key, path in spec.items():
        if not Path(str(path)).exists():
            raise AdaError(f"dataset '{name}': {key} {path} does not exist")
    return {k: str(v) for k, v in spec.items()}


def _test_file(files: dict[str, str]) -> str | None:
    if "test_file" in files:
        return files["test_file"]
    folder = Path(files.get("data_dir", ""))
    return next((str(folder / n) for n in ("test.jsonl", "test.xml", "test.csv") if (folder / n).is_file()), None)


SET_BY_EXPERIMENT = frozenset({"model_name_or_path", "output_dir", "seed", "data_dir", "train_file", "dev_file",
                               "test_file", "do_train", "do_eval", "evaluate_during_training", "overwrite_output_dir"})
"""Training options every run sets itself (the rest come from the grid's ``train`` settings)."""


def plan_runs(output_dir: str | Path, models: Mapping[str, str], datasets: Mapping[str, object], seeds: Sequence[int],
              train: Mapping[str, object] | None = None, *, cross_domain: bool = True) -> list[dict]:
    """Every (model, dataset, seed) run with its folder; validates the whole grid before any training.

    ``models`` maps names to model paths (:data:`PACKAGED_MINILM` names the shipped encoder), ``datasets``
    names to prepare-semeval folders or mappings of ``data_dir``/``train_file``/``dev_file``/``test_file``,
    and ``train`` holds :class:`~.options.ClassifierTrainingOptions` values for every run (all but
    :data:`SET_BY_EXPERIMENT`).
    """
    from ..atsc.options import ClassifierTrainingOptions
    from ..runtime.models import packaged_minilm_path, resolve_model_path

    models = {name: packaged_minilm_path() if str(path) == PACKAGED_MINILM else resolve_model_path(str(path))
              for name, path in models.items()}
    datasets = {name: _dataset_files(name, spec) for name, spec in datasets.items()}
    for name in list(models) + list(datasets):
        if not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
            raise AdaError(f"name {name!r}: use letters, digits, '-', '_' or '.' (it names folders)")
    train = dict(train or {})
    if set(train) & SET_BY_EXPERIMENT:
        raise AdaError(f"train: {', '.join(sorted(set(train) & SET_BY_EXPERIMENT))} are set by the experiment")
    unknown = sorted(set(train) - ClassifierTrainingOptions.field_names())
    if unknown:
        raise AdaError(f"train: unknown training option(s): {', '.join(unknown)}")
    if not seeds:
        raise AdaError("--seeds: give at least one seed")
    runs = []
    for model_name, model_path in models.items():
        for data_name, files in datasets.items():
            tests = {data_name: _test_file(files)}
            if cross_domain:
                tests.update({other: _test_file(f) for other, f in datasets.items() if other != data_name})
            for seed in seeds:
                runs.append({
                    "model": model_name, "model_path": model_path, "dataset": data_name, "files": files,
                    "seed": int(seed), "tests": {k: v for k, v in tests.items() if v},
                    "dir": Path(output_dir) / "runs" / f"{model_name}__{data_name}__seed{seed}",
                    "train": train,
                })
    return runs


def execute_run(run: dict) -> dict:
    """Train one run (unless finished) and score its cross-domain test sets; returns per-test scores."""
    from ..atsc.datasets import load_labeled
    from ..atsc.evaluate import evaluate_model
    from ..atsc.options import ClassifierTrainingOptions
    from ..atsc.training import run_training

    folder: Path = run["dir"]
    results_file = folder / "eval_results.json"
    if results_file.is_file():
        logger.info("%s: finished, skipped", folder.name)
    else:
        logger.info("%s: training", folder.name)
        files = {key: value if key == "data_dir" else [value] for key, value in run["files"].items()}
        options = ClassifierTrainingOptions(
            **run["train"], model_name_or_path=run["model_path"], output_dir=str(folder), seed=run["seed"],
            do_train=True, do_eval=True, evaluate_during_training=True, overwrite_output_dir=True, **files)
        if run["dataset"] in run["tests"] and "test_file" not in run["files"]:
            options.test_file = [run["tests"][run["dataset"]]]
        run_training(options)
    results = json.loads(results_file.read_text(encoding="utf-8"))
    scores = {}
    for test_name, test_path in run["tests"].items():
        if test_name == run["dataset"]:
            metrics = results["test"].get("best")
            last = results["test"].get("last")
        else:
            cache = folder / f"eval_cross_{test_name}.json"
            if not cache.is_file():
                metrics = evaluate_model(folder, load_labeled(test_path))
                write_json(cache, metrics)
            metrics, last = json.loads(cache.read_text(encoding="utf-8")), None
        if metrics:
            scores[test_name] = {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"],
                                 "last_accuracy": last["accuracy"] if last else None,
                                 "last_macro_f1": last["macro_f1"] if last else None}
    return scores


def summarise(per_run: list[dict]) -> list[dict]:
    """Rows (model, train, test): n seeds, mean/std/max of accuracy and macro-F1 (in percent)."""
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for entry in per_run:
        for test_name, scores in entry["scores"].items():
            groups.setdefault((entry["model"], entry["dataset"], test_name), []).append({"seed": entry["seed"], **scores})
    rows = []
    for (model, train, test), items in groups.items():
        row = {"model": model, "train": train, "test": test, "setting": "in-domain" if train == test else "cross-domain",
               "n_seeds": len(items), "seeds": [i["seed"] for i in items]}
        for metric in ("accuracy", "macro_f1"):
            values = [100 * i[metric] for i in items]
            row[f"{metric}_mean"] = round(statistics.fmean(values), 2)
            row[f"{metric}_std"] = round(statistics.stdev(values), 2) if len(values) > 1 else 0.0
            row[f"{metric}_max"] = round(max(values), 2)
            row[f"{metric}_per_seed"] = [round(v, 2) for v in values]
        rows.append(row)
    return rows


def markdown_table(rows: list[dict]) -> str:
    lines = ["| model | train | test | setting | seeds | accuracy mean ± std | accuracy max | macro-F1 mean ± std | macro-F1 max |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['train']} | {r['test']} | {r['setting']} | {r['n_seeds']} | "
                     f"{r['accuracy_mean']:.2f} ± {r['accuracy_std']:.2f} | {r['accuracy_max']:.2f} | "
                     f"{r['macro_f1_mean']:.2f} ± {r['macro_f1_std']:.2f} | {r['macro_f1_max']:.2f} |")
    return "\n".join(lines) + "\n"


def csv_table(rows: list[dict]) -> str:
    keys = ["model", "train", "test", "setting", "n_seeds", "accuracy_mean", "accuracy_std", "accuracy_max",
            "macro_f1_mean", "macro_f1_std", "macro_f1_max"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=keys, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def plot_scores(rows: list[dict], path: Path) -> None:
    """Per-seed scores as dots with the mean as a bar, one panel per metric."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(max(6, 1.2 * len(rows) + 3), 4.5), squeeze=False)
    labels = [f"{r['model']}\n{r['train']}→{r['test']}" for r in rows]
    for ax, metric, title in zip(axes[0], ("accuracy", "macro_f1"), ("accuracy (%)", "macro-F1 (%)")):
        for x, row in enumerate(rows):
            values = row[f"{metric}_per_seed"]
            ax.scatter([x] * len(values), values, s=18, alpha=0.8)
            ax.hlines(row[f"{metric}_mean"], x - 0.3, x + 0.3, colors="black")
        ax.set_xticks(range(len(rows)), labels, fontsize=7, rotation=30, ha="right")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    with atomic_open(path, "wb", encoding=None) as handle:
        fig.savefig(handle, format="png", dpi=120)
    plt.close(fig)


def run_experiment(runs: list[dict], output_dir: str | Path) -> dict:
    """Run (or resume) ``runs`` (from :func:`plan_runs`) and write results.md, results.csv, results.json and
    scores.png under ``output_dir``; returns what results.json holds: ``rows``, ``runs`` and ``failures``
    (a failed run is logged and skipped, so the others still count)."""
    out = Path(output_dir)
    per_run, failures = [], []
    for index, run in enumerate(runs, 1):
        logger.info("run %d/%d: model %s, data %s, seed %d", index, len(runs), run["model"], run["dataset"], run["seed"])
        try:
            scores = execute_run(run)
        except AdaError as exc:
            logger.error("%s failed: %s", run["dir"].name, exc)
            failures.append({"run": run["dir"].name, "error": str(exc)})
            continue
        per_run.append({"model": run["model"], "dataset": run["dataset"], "seed": run["seed"], "scores": scores})
    rows = summarise(per_run)
    results = {"rows": rows, "runs": per_run, "failures": failures}
    write_json(out / "results.json", results)
    with atomic_open(out / "results.md") as handle:
        handle.write(markdown_table(rows))
    with atomic_open(out / "results.csv") as handle:
        handle.write(csv_table(rows))
    if rows:
        plot_scores(rows, out / "scores.png")
    return results
