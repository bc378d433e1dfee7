#!/usr/bin/env python
"""Why people feel that way, measured: the study behind docs/opinions.md (resumable).

For each ASTE-V2 data set (``data/aste/<name>/{train,dev,test}_triplets.txt``) and seed, two MiniLM models on the
same training sentences, each selected on dev by its own measure:

  triplets: ``train --task triplets`` (aspects, polarity, opinion words; dev selection on triplet F1);
  unified: ``train --task unified`` on the same sentences without their opinions (dev selection on joint F1),
           the reference for "opinions cost the aspects no more than a point".

Both are scored on the test set (16res ships no test set: its dev set, marked so) with the pipeline a user
runs (``AbsaPipeline``): triplet, pair, opinion and aspect F1, and joint (aspect, polarity) F1. Every run is
cached in ``<output_dir>/results.json``; tables go to ``results.md``.

    .venv/bin/python scripts/triplets_study.py --output_dir runs/triplets --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASTE = REPO / "data" / "aste"
DATASETS = ("14res", "14lap", "15res", "16res")
MEASURES = ("triplet", "pair", "opinion", "ate", "joint")


def split_files(name: str) -> tuple[Path, Path, Path, str]:
    """(train, dev, scored, what the scored set is) of a data set."""
    folder = ASTE / name
    test = folder / "test_triplets.txt"
    return (folder / "train_triplets.txt", folder / "dev_triplets.txt", test if test.is_file() else
            folder / "dev_triplets.txt", "test" if test.is_file() else "dev (no test set shipped)")


def train(task: str, name: str, seed: int, output: Path, steps: int) -> None:
    from ada_atsc.cli import main as cli
    from ada_atsc.runtime.models import packaged_minilm_path

    train_file, dev_file, _, _ = split_files(name)
    code = cli(["train", "--task", task, "--model", str(packaged_minilm_path()), "--train_file", str(train_file),
                "--dev_file", str(dev_file), "--output_dir", str(output), "--do_train", "--evaluate_during_training",
                "--max_steps", str(steps), "--logging_steps", str(max(1, steps // 12)), "--warmup_steps",
                str(steps // 15), "--learning_rate", "5e-5", "--per_device_train_batch_size", "16", "--seed",
                str(seed), "--overwrite_output_dir", "--disable_tqdm"])
    if code != 0:
        raise SystemExit(f"training {task} on {name} (seed {seed}) failed")


def score(model: Path, name: str) -> dict:
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import triplet_scores
    from ada_atsc.ate.training import load_sentence_file

    sentences = load_sentence_file(split_files(name)[2])
    predicted = [r["aspects"] for r in AbsaPipeline(str(model), batch_size=64).predict([s.sentence for s in sentences])]
    scores = triplet_scores(sentences, predicted)
    return {m: round(scores[m]["f1"] * 100, 2) for m in MEASURES}


def table(results: dict) -> str:
    rows = ["| data | scored on | model | seeds | " + " | ".join(f"{m} F1" for m in MEASURES) + " |",
            "|---|---|---|---|" + "---|" * len(MEASURES)]
    for name in DATASETS:
        for task in ("triplets", "unified"):
            runs = [v for k, v in results.items() if k.startswith(f"{name}|{task}|")]
            if not runs:
                continue
            cells = []
            for m in MEASURES:
                values = [r[m] for r in runs]
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                cells.append("–" if task == "unified" and m in ("triplet", "pair", "opinion") else
                             f"{statistics.mean(values):.2f} ± {std:.2f}")
            rows.append(f"| {name} | {split_files(name)[3]} | {task} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--tasks", nargs="+", default=["triplets", "unified"], choices=["triplets", "unified"])
    parser.add_argument("--steps", type=int, default=1200, help="training steps per model (batch 16)")
    parser.add_argument("--keep_models", action="store_true", help="keep each trained model (else deleted)")
    parser.add_argument("--table", action="store_true", help="print the table of what is cached; train nothing")
    args = parser.parse_args()
    cache = args.output_dir / "results.json"
    results = json.loads(cache.read_text()) if cache.is_file() else {}
    if args.table:
        print(table(results))
        return 0
    args.output_dir.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        for name in args.datasets:
            for task in args.tasks:
                key = f"{name}|{task}|{seed}"
                if key in results:
                    continue
                model = args.output_dir / f"{name}_{task}_seed{seed}"
                train(task, name, seed, model, args.steps)
                results[key] = score(model, name)
                cache.write_text(json.dumps(results, indent=2) + "\n")
                (args.output_dir / "results.md").write_text(table(results) + "\n")
                if not args.keep_models:
                    shutil.rmtree(model, ignore_errors=True)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(main())
