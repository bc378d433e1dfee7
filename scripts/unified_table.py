#!/usr/bin/env python
"""The unified tagger against the wave-2 pipeline, 3 seeds each, on the SemEval-2014 test sentences.

Reads the runs of ``scripts/unified_study.sh`` (``OUT_DIR/<domain>_seed<k>_steps<n>/eval_results.json``, test
scores at the best-dev step) and the pipeline's figures from ``docs/results/extraction_results.json`` (the
extraction study: plain MiniLM extractor + aspect-robust classifier, same encoder, same test sentences),
and writes ``docs/results/unified_results.json`` and a markdown table to stdout.

    .venv/bin/python scripts/unified_table.py --runs runs/unified
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KEYS = {"joint_f1": "f1", "extraction_f1": "ate_f1", "atsc_accuracy_on_extracted": "atsc_accuracy_on_extracted"}


def mean_std(values: list[float]) -> dict:
    return {"mean": round(statistics.mean(values), 2), "std": round(statistics.stdev(values), 2) if len(values) > 1
            else None, "n": len(values), "values": [round(v, 2) for v in values]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=str(REPO / "runs/unified"))
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--output", default=str(REPO / "docs/results/unified_results.json"))
    args = parser.parse_args()

    pipeline_runs = json.loads((REPO / "docs/results/extraction_results.json").read_text())
    table = {}
    for domain in ("restaurants", "laptops"):
        runs = sorted(Path(args.runs).glob(f"{domain}_seed*_steps{args.steps}/eval_results.json"))
        unified = [json.loads(p.read_text())["test"]["best"] for p in runs]
        if not unified:
            continue
        pipeline = [r for r in pipeline_runs if r["domain"] == domain and r["encoder"] == "plain"]
        table[domain] = {
            "unified": {name: mean_std([100 * r[key] for r in unified]) for name, key in KEYS.items()}
            | {"seeds": [json.loads(p.read_text())["seed"] for p in runs]},
            "pipeline": {name: mean_std([100 * r[key] for r in pipeline])
                         for name, key in (("joint_f1", "joint_f1"), ("extraction_f1", "ate_f1"),
                                           ("atsc_accuracy_on_extracted", "atsc_accuracy_on_extracted"))}
            | {"seeds": [r["seed"] for r in pipeline]},
        }
        table[domain]["joint_f1_difference"] = round(table[domain]["unified"]["joint_f1"]["mean"]
                                                     - table[domain]["pipeline"]["joint_f1"]["mean"], 2)
    Path(args.output).write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    out = sys.stdout
    out.write("| domain | system | seeds | extraction F1 | joint F1 | sentiment accuracy on found |\n|---|---|---|---|---|---|\n")
    for domain, rows in table.items():
        for system in ("pipeline", "unified"):
            r = rows[system]
            cells = [f"{r[k]['mean']:.2f} ± {r[k]['std']:.2f}" if r[k]["std"] is not None else f"{r[k]['mean']:.2f}"
                     for k in ("extraction_f1", "joint_f1", "atsc_accuracy_on_extracted")]
            out.write(f"| {domain} | {system} | {len(r['seeds'])} | " + " | ".join(cells) + " |\n")


if __name__ == "__main__":
    main()
