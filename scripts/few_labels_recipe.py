#!/usr/bin/env python
"""How should one ``label train`` round learn? Chosen on held-out *pool* sentences, never on a test set.

The pool (the target's training sentences, whose gold labels simulate the annotator) is split, seeded: 80%
to draw labels from, 20% to score on. From a source-trained tagger (``few_labels_study.py``'s base), ``--k``
randomly drawn labels are learnt with each recipe (source share, epochs, learning rate, target weight) in one
round, and each result is scored (joint F1) on the held-out 20%. Cached in ``<output_dir>/recipes.json``.

    .venv/bin/python scripts/few_labels_recipe.py --base runs/few_labels/restaurants_to_laptops/base_seed1/tagger \\
        --pool data/semeval2014/Laptop_Train_v2.xml --source data/semeval2014/Restaurants_Train_v2.xml \\
        --output_dir runs/few_labels_recipe
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

RECIPES = {
    "default (source 1:1, 3 epochs, lr 3e-5, weight 4)": {},
    "source 1:4": {"source_ratio": 0.25},
    "no source": {"source_ratio": 0.0},
    "6 epochs, lr 5e-5": {"epochs": 6, "learning_rate": 5e-5},
    "source 1:4, 6 epochs, lr 5e-5": {"source_ratio": 0.25, "epochs": 6, "learning_rate": 5e-5},
    "no source, 6 epochs, lr 5e-5": {"source_ratio": 0.0, "epochs": 6, "learning_rate": 5e-5},
    "source 1:4, 10 epochs, lr 5e-5": {"source_ratio": 0.25, "epochs": 10, "learning_rate": 5e-5},
    "source 1:4, 6 epochs, lr 1e-4": {"source_ratio": 0.25, "epochs": 6, "learning_rate": 1e-4},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--recipes", nargs="+", help="only these recipes (names as in RECIPES)")
    args = parser.parse_args()

    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import evaluate_pipeline
    from ada_atsc.adapt.source import read_labeled
    from ada_atsc.label.train import LabelTrainOptions, train_round

    args.output_dir.mkdir(parents=True, exist_ok=True)
    cache = args.output_dir / "recipes.json"
    results = json.loads(cache.read_text()) if cache.is_file() else {}
    pool = read_labeled([args.pool])
    order = list(range(len(pool)))
    random.Random(0).shuffle(order)
    held = [pool[i] for i in order[: len(pool) // 5]]
    draw = [pool[i] for i in order[len(pool) // 5:]]
    labels = random.Random(args.seed).sample(draw, args.k)
    labels_file = args.output_dir / f"labels_k{args.k}_seed{args.seed}.jsonl"
    labels_file.write_text("".join(json.dumps(s.to_record()) + "\n" for s in labels))
    for name, change in RECIPES.items():
        if args.recipes and name not in args.recipes:
            continue
        key = f"{name}|k={args.k}|seed={args.seed}"
        if key in results:
            continue
        target = args.output_dir / "tagger"
        record = train_round(LabelTrainOptions(model=str(args.base), labels=(str(labels_file),), output_dir=str(target),
                                               source=(str(args.source),), seed=args.seed, export=False,
                                               overwrite=True, progress=False, **change))
        scores, _ = evaluate_pipeline(AbsaPipeline(str(target), batch_size=64), held)
        results[key] = {"joint_f1": round(scores["joint"]["f1"] * 100, 2), "ate_f1": round(scores["ate"]["f1"] * 100, 2),
                        "steps": record["steps"], "seconds": record["seconds"]}
        cache.write_text(json.dumps(results, indent=2) + "\n")
        shutil.rmtree(target, ignore_errors=True)
        print(key, results[key], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
