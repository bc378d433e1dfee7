"""Collect the aspect-category runs of scripts/acsa_study.sh into docs/results/categories.json and a Markdown
table (mean ± std over the seeds that finished; each seed's test scores at the best-dev step, and the dev
``acsa_score`` that chose it: recipes are compared on that, never on test). A run trained without a dev split
(``DEV_SELECTION=0``: the whole training set, fixed epochs) is scored at its last step and has no dev score.

    .venv/bin/python scripts/acsa_table.py runs/acsa docs/results/categories.json
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

KEYS = ("category_detection_precision", "category_detection_recall", "category_detection_f1",
        "category_polarity_accuracy", "polarity_accuracy_on_detected", "category_polarity_f1")


def _mean_std(values: list[float]) -> dict:
    """Mean and sample std of a metric over seeds (std None for one seed, both None for none)."""
    return {"mean": round(statistics.mean(values), 2) if values else None,
            "std": round(statistics.stdev(values), 2) if len(values) > 1 else None}


def main(runs: str, output: str) -> None:
    table: dict = {}
    for data in ("semeval", "mams"):
        seeds = {}
        for folder in sorted(Path(runs).glob(f"{data}_seed*")):
            results = folder / "eval_results.json"
            if results.is_file():
                scores = json.loads(results.read_text())
                best, dev = scores["test"]["best"], scores["dev"].get("best")  # without dev: best is the last step
                seeds[folder.name.split("seed")[-1]] = {**{k: round(100 * best[k], 2) for k in KEYS},
                                                        "dev_acsa_score": round(100 * dev["acsa_score"], 2) if dev else None}
        if seeds:
            summary = {k: _mean_std([s[k] for s in seeds.values() if s[k] is not None])
                       for k in (*KEYS, "dev_acsa_score")}
            table[data] = {"seeds": seeds, "summary": summary}
    if not table:
        raise SystemExit(f"{runs}: no finished run (semeval_seedN/ or mams_seedN/ with eval_results.json)")
    staged = Path(output).with_name(Path(output).name + ".tmp")
    staged.write_text(json.dumps(table, indent=2) + "\n", encoding="utf-8")
    staged.replace(output)
    print("| data | seeds | detection P | detection R | detection F1 | polarity acc (gold categories) | "
          "polarity acc (detected) | category+polarity F1 | dev acsa_score |")
    print("|---|---|---|---|---|---|---|---|---|")
    for data, entry in table.items():
        cells = ["–" if v["mean"] is None else f"{v['mean']:.2f}" + (f" ± {v['std']:.2f}" if v["std"] is not None else "")
                 for v in entry["summary"].values()]
        print(f"| {data} | {', '.join(entry['seeds'])} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(*sys.argv[1:3])
