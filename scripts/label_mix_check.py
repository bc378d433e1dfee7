#!/usr/bin/env python
"""The label-mix correction where neutral is rare and where it is not, for finished ``adapt`` runs: EM and BBSE
estimates, polar aspects called neutral, accuracy and macro-F1 before and after (docs/cross_domain.md).

    .venv/bin/python scripts/label_mix_check.py --output docs/results/label_mix_check.json \
        runs/cross/restaurants_to_laptops/seed1/bundle/work:Laptops_Test_Gold runs/hotels/work:Restaurants_Test_Gold \
        runs/hotels/work:Laptops_Test_Gold

Each argument is ``WORK_DIR:TEST`` (an adapt run's ``work`` folder, a SemEval-2014 test file's stem).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cross_domain_study import SEMEVAL, label_mix_check  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="WORK_DIR:TEST_STEM")
    parser.add_argument("--output", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = {}
    for run in args.runs:
        work, test = run.rsplit(":", 1) if ":" in run else (run, "")
        if not (Path(work) / "final_models.json").is_file():
            parser.error(f"{work}: not the work folder of a finished adapt run (no final_models.json)")
        if not (SEMEVAL / f"{test}.xml").is_file():
            parser.error(f"{run}: no test file {SEMEVAL / (test + '.xml')} (give WORK_DIR:TEST_STEM)")
        out[run] = label_mix_check(Path(work), SEMEVAL / f"{test}.xml", args.seed)
        for name, result in out[run].items():
            print(f"{run} {name}: true neutral {result['true_mix']['neutral']:.3f}; before {result['before']}")
            for method in ("em", "bbse"):
                print(f"    {method}: neutral estimated {result[method]['estimated_mix']['neutral']:.3f}; "
                      f"after {result[method]['after']}")
    tmp = Path(args.output).with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.output)


if __name__ == "__main__":
    main()
