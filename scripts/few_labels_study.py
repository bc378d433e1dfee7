#!/usr/bin/env python
"""A few labels of your own, measured: the study behind docs/few_labels.md (resumable).

For a source / pool / test triple (SemEval XML or sentence JSONL each): a unified tagger is trained on the
source (plain MiniLM, dev-selected on a seeded 10% of the source); then, round by round, ``label select``'s
library chooses ``--round_size`` pool sentences with a strategy, a simulated annotator answers them with the
pool's gold labels (the pool is the target's *training* sentences; its labels are used for nothing else),
``label train``'s library updates the tagger from where it stands (warm start), with the source kept beside the
labels or not; at each k of ``--ks`` the tagger is scored on the target *test* sentences (joint F1, extraction
F1). ``all`` is one round on every pool sentence from the source tagger.

Everything is cached under ``--output_dir`` (``results.json``; each curve's labels, tagger and state), so a killed
study continues where it stopped. Writes ``results.md`` (mean ± std over seeds) and ``curve.png``.

    .venv/bin/python scripts/few_labels_study.py --pair restaurants->laptops --output_dir runs/few_labels \\
        --seeds 1 2 3 --strategies random uncertainty diverse
    .venv/bin/python scripts/few_labels_study.py --source S.xml --pool P.jsonl --test T.xml --output_dir runs/mine
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "semeval2014"
PAIRS = {
    "restaurants->laptops": (DATA / "Restaurants_Train_v2.xml", DATA / "Laptop_Train_v2.xml",
                             DATA / "Laptops_Test_Gold.xml"),
    "laptops->restaurants": (DATA / "Laptop_Train_v2.xml", DATA / "Restaurants_Train_v2.xml",
                             DATA / "Restaurants_Test_Gold.xml"),
}
ANCHORS = {"restaurants->laptops": {"no labels (unified + self-training, 3 seeds)": 36.13,
                                    "in-domain, all 3,045 laptop sentences": 62.95},
           "laptops->restaurants": {"no labels (unified, source only, 3 seeds)": 36.96,
                                    "in-domain, all 3,041 restaurant sentences": 70.18}}


def records(path: Path) -> list:
    """The sentences of a SemEval XML or sentence JSONL file, spans made tag-able (as ``adapt`` reads them)."""
    from ada_atsc.adapt.source import read_labeled

    return read_labeled([path])


def base_tagger(out: Path, source: Path, seed: int, steps: int) -> Path:
    """The source-trained tagger of a seed (cached)."""
    from ada_atsc.adapt.source import split_source, write_source
    from ada_atsc.adapt.tagger import train_tagger
    from ada_atsc.runtime.models import packaged_minilm_path

    folder = out / f"base_seed{seed}"
    if not (folder / "tagger" / "eval_results.json").is_file():
        train, dev = split_source(records(source), seed)
        write_source(folder / "data", train, dev)
        train_tagger(packaged_minilm_path(), folder / "data", folder / "tagger", steps=steps, batch_size=32,
                     eval_steps=max(1, steps // 10), seed=seed, progress=False)
    return folder / "tagger"


def score(model: Path, test: Path) -> dict:
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import evaluate_pipeline
    from ada_atsc.ate.training import load_sentence_file

    joint, _ = evaluate_pipeline(AbsaPipeline(str(model), batch_size=64), load_sentence_file(test))
    return {"joint_f1": round(joint["joint"]["f1"] * 100, 2), "ate_f1": round(joint["ate"]["f1"] * 100, 2)}


def choose_next(model: Path, pool: list, labelled: set[str], n: int, strategy: str, seed: int) -> list:
    """``n`` pool sentences not labelled yet, chosen by ``strategy`` with the current tagger."""
    from ada_atsc.label.select import Candidate, SelectOptions, choose, score_sentences, sentence_embedder

    candidates = [Candidate(s.id, s.sentence, {}) for s in pool if s.id not in labelled]
    options = SelectOptions(model=str(model), corpus="-", output="-", n=min(n, len(candidates)), strategy=strategy,
                            pool=max(n, len(candidates)), seed=seed)
    if strategy != "random":
        score_sentences(str(model), candidates, progress=False)
    chosen = choose(candidates, options, sentence_embedder() if strategy == "diverse" else None)
    return [c.id for c in chosen]


def run_curve(out: Path, name: str, source: Path, pool: list, test: Path, base: Path, seed: int, strategy: str,
              keep_source: bool, ks: list[int], round_size: int, result: dict, save) -> None:
    """One learning curve, round by round, resumable from its state file."""
    from ada_atsc.label.train import LabelTrainOptions, train_round

    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    state_file = folder / "state.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {"labelled": [], "tagger": str(base)}
    by_id = {s.id: s for s in pool}
    result.setdefault("0", score(base, test))
    save()
    for k in ks:
        while len(state["labelled"]) < k and len(state["labelled"]) < len(pool):
            step = min(round_size, k - len(state["labelled"]))
            state["labelled"] += choose_next(Path(state["tagger"]), pool, set(state["labelled"]), step, strategy,
                                             seed + len(state["labelled"]))
            labels = folder / "labels.jsonl"
            labels.write_text("".join(json.dumps(by_id[i].to_record()) + "\n" for i in state["labelled"]))
            target = folder / f"tagger_{len(state['labelled'])}"
            train_round(LabelTrainOptions(model=state["tagger"], labels=(str(labels),), output_dir=str(target),
                                          source=(str(source),), source_ratio=1.0 if keep_source else 0.0,
                                          seed=seed, export=False, overwrite=True, progress=False))
            previous, state["tagger"] = state["tagger"], str(target)
            state_file.write_text(json.dumps(state))
            if previous != str(base):
                shutil.rmtree(previous, ignore_errors=True)
        if str(k) not in result:
            result[str(k)] = score(Path(state["tagger"]), test)
            save()


def all_labels(out: Path, source: Path, pool: list, test: Path, base: Path, seed: int, result: dict, save) -> None:
    """Every pool sentence, one round from the source tagger (the curve's end)."""
    from ada_atsc.label.train import LabelTrainOptions, train_round

    if "all" in result:
        return
    labels = out / f"all_seed{seed}.jsonl"
    labels.write_text("".join(json.dumps(s.to_record()) + "\n" for s in pool))
    target = out / f"all_seed{seed}_tagger"
    train_round(LabelTrainOptions(model=str(base), labels=(str(labels),), output_dir=str(target), source=(str(source),),
                                  seed=seed, export=False, overwrite=True, max_steps=1500, progress=False))
    result["all"] = score(target, test)
    save()
    shutil.rmtree(target, ignore_errors=True)


def table(results: dict) -> str:
    rows = ["| curve | seeds | " + " | ".join(f"k={k}" for k in _ks(results)) + " |",
            "|---|---|" + "---|" * len(_ks(results))]
    for curve in sorted({key.rsplit("|", 1)[0] for key in results}):
        runs = [v for key, v in results.items() if key.rsplit("|", 1)[0] == curve]
        cells = []
        for k in _ks(results):
            values = [r[k]["joint_f1"] for r in runs if k in r]
            cells.append("–" if not values else f"{statistics.mean(values):.2f} ± "
                         f"{statistics.stdev(values) if len(values) > 1 else 0.0:.2f}")
        rows.append(f"| {curve} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _ks(results: dict) -> list[str]:
    ks = {k for r in results.values() for k in r}
    return sorted((k for k in ks if k != "all"), key=int) + (["all"] if "all" in ks else [])


def plot(results: dict, path: Path, anchors: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for curve in sorted({key.rsplit("|", 1)[0] for key in results}):
        runs = [v for key, v in results.items() if key.rsplit("|", 1)[0] == curve]
        ks = [k for k in _ks(results) if k != "all" and any(k in r for r in runs)]
        means = [statistics.mean(r[k]["joint_f1"] for r in runs if k in r) for k in ks]
        axis.plot([int(k) for k in ks], means, marker="o", label=curve)
    for name, value in anchors.items():
        axis.axhline(value, linestyle="--", linewidth=1, color="grey")
        axis.annotate(name, (0, value), fontsize=8, va="bottom", color="grey")
    axis.set_xlabel("target sentences labelled (k)")
    axis.set_ylabel("joint F1 on the target test sentences")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=sorted(PAIRS), help="a shipped pair (else --source, --pool, --test)")
    parser.add_argument("--source", type=Path)
    parser.add_argument("--pool", type=Path, help="target sentences with gold labels: the simulated annotator")
    parser.add_argument("--test", type=Path)
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--strategies", nargs="+", default=["random", "uncertainty", "diverse"])
    parser.add_argument("--ks", nargs="+", type=int, default=[25, 50, 100, 200, 400])
    parser.add_argument("--round_size", type=int, default=25, help="sentences per round (25 or 50)")
    parser.add_argument("--no_source", action="store_true", help="also curves without the source kept")
    parser.add_argument("--all", action="store_true", help="also the point with every pool sentence")
    parser.add_argument("--base_steps", type=int, default=1500, help="the source tagger's steps")
    args = parser.parse_args()
    if args.pair:
        args.source, args.pool, args.test = PAIRS[args.pair]
    if not (args.source and args.pool and args.test):
        parser.error("give --pair, or --source, --pool and --test")
    name = args.pair or f"{args.source.stem}->{args.pool.stem}"
    out = args.output_dir / name.replace("->", "_to_")
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "results.json"
    results = json.loads(cache.read_text()) if cache.is_file() else {}

    def save() -> None:
        cache.write_text(json.dumps(results, indent=2) + "\n")
        (out / "results.md").write_text(table(results) + "\n")

    pool = records(args.pool)
    for seed in args.seeds:
        base = base_tagger(out, args.source, seed, args.base_steps)
        for strategy in args.strategies:
            for keep in (True, False) if args.no_source else (True,):
                curve = f"{strategy}{'' if keep else ', no source'}"
                result = results.setdefault(f"{curve}|{seed}", {})
                run_curve(out, f"{curve.replace(', ', '_').replace(' ', '_')}_seed{seed}", args.source, pool,
                          args.test, base, seed, strategy, keep, sorted(args.ks), args.round_size, result, save)
        if args.all:
            all_labels(out, args.source, pool, args.test, base, seed, results.setdefault(f"all|{seed}", {}), save)
    plot(results, out / "curve.png", ANCHORS.get(args.pair or "", {}))
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
