#!/usr/bin/env python
"""The tagger bundle across domains: the study behind "The tagger bundle across domains" in docs/cross_domain.md.

For each pair and seed, one ``ada-atsc adapt`` run (the default tagger bundle: ``--labeled`` the source training
file, ``--corpus`` the target reviews, ``--scale small``), scored on the target's SemEval-2014 test sentences:

  source_tagger: the tagger trained from the LM-adapted encoder on the source (the ``source_tagger`` stage);
  bundle: the bundle's tagger after self-training, run as the bundle runs it (its int8 export);
  bundle_pytorch: the same tagger in PyTorch (what int8 costs).

Joint (span, polarity) F1, extraction F1, accuracy on the aspects found. Every run is cached in
``<output_dir>/results.json`` and ``adapt`` resumes itself, so the study continues where it stopped; the tables go
to ``<output_dir>/results.md``.

    .venv/bin/python scripts/tagger_cross_domain.py --output_dir runs/tagger_cross --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cross_domain_study import PAIRS, target_corpus  # noqa: E402

SYSTEMS = ("source_tagger", "bundle", "bundle_pytorch")
MEASURES = ("ate_f1", "joint_f1", "accuracy_on_found")


def score(model: Path, test: Path) -> dict:
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import evaluate_pipeline
    from ada_atsc.ate.training import load_sentence_file

    joint, _ = evaluate_pipeline(AbsaPipeline(str(model)), load_sentence_file(test))
    found = joint.get("atsc_on_extracted") or {}
    return {"ate_f1": round(joint["ate"]["f1"] * 100, 2), "joint_f1": round(joint["joint"]["f1"] * 100, 2),
            "accuracy_on_found": round(found.get("accuracy", 0.0) * 100, 2)}


def run(out: Path, pair: str, seed: int, scale: str, results: dict, save) -> None:
    from ada_atsc.adapt import AdaptOptions, run_adapt

    spec = PAIRS[pair]
    key = f"{pair}|{seed}"
    if all(system in results.get(key, {}) for system in SYSTEMS):
        return
    bundle = out / pair.replace("->", "_to_").replace("+", "_") / f"seed{seed}"
    manifest = run_adapt(AdaptOptions(corpus=str(target_corpus(out, spec["corpora"])), output_dir=str(bundle),
                                      labeled=tuple(map(str, spec["source"])), scale=scale, seed=seed, resume=True,
                                      progress=False))
    results[key] = {"source_tagger": score(bundle / "work" / "source_models" / "tagger", spec["test"]),
                    "bundle": score(bundle, spec["test"]), "bundle_pytorch": score(bundle / "tagger", spec["test"]),
                    "adapt_seconds": {k: v["seconds"] for k, v in manifest["stages"].items()},
                    "pseudo_labels": manifest["stages"]["tagger_self_training"]["summary"]["rounds"][-1]["pseudo_labels"]}
    save()


def table(results: dict) -> str:
    rows = ["| pair | system | seeds | " + " | ".join(MEASURES) + " |", "|---|---|---|" + "---|" * len(MEASURES)]
    for pair in sorted({k.split("|")[0] for k in results}):
        for system in SYSTEMS:
            runs = [r[system] for k, r in results.items() if k.startswith(pair + "|") and system in r]
            cells = []
            for measure in MEASURES:
                values = [r[measure] for r in runs]
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                cells.append(f"{statistics.mean(values):.2f} ± {std:.2f} ({', '.join(f'{v:.2f}' for v in values)})")
            rows.append(f"| {pair} | {system} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--pairs", nargs="+", default=["restaurants->laptops", "laptops->restaurants"],
                        choices=sorted(PAIRS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--scale", default="small")
    args = parser.parse_args()
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "results.json"
    results = json.loads(cache.read_text()) if cache.is_file() else {}

    def save() -> None:
        cache.write_text(json.dumps(results, indent=2) + "\n")
        (out / "results.md").write_text(table(results) + "\n")

    for seed in args.seeds:
        for pair in args.pairs:
            run(out, pair, seed, args.scale, results, save)
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
