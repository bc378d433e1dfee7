#!/usr/bin/env python
"""The learning curves of docs/few_labels.md, both pairs side by side, from ``few_labels_study.py``'s results.

    .venv/bin/python scripts/few_labels_plot.py --output_dir runs/few_labels_v2 --image docs/img/few_labels_curve.png
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from few_labels_study import ANCHORS  # noqa: E402

PANELS = {"restaurants_to_laptops": "restaurants → laptops", "laptops_to_restaurants": "laptops → restaurants"}
TARGETS = {"restaurants_to_laptops": {100: 55, 200: 58}, "laptops_to_restaurants": {100: 60, 200: 64}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--image", type=Path, required=True)
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    for axis, (folder, title) in zip(axes, PANELS.items()):
        results = json.loads((args.output_dir / folder / "results.json").read_text())
        for curve in sorted({key.rsplit("|", 1)[0] for key in results} - {"all"}):
            runs = [v for key, v in results.items() if key.rsplit("|", 1)[0] == curve]
            ks = sorted({int(k) for r in runs for k in r if k != "all"})
            every = [k for k in ks if all(str(k) in r for r in runs)]  # the mean over every seed, with its spread
            means = [statistics.mean(r[str(k)]["joint_f1"] for r in runs) for k in every]
            spread = [statistics.stdev([r[str(k)]["joint_f1"] for r in runs]) if len(runs) > 1 else 0.0 for k in every]
            line, = axis.plot(every, means, marker="o", label=f"{curve} ({len(runs)} seed{'s' if len(runs) > 1 else ''})")
            axis.fill_between(every, [m - s for m, s in zip(means, spread)], [m + s for m, s in zip(means, spread)],
                              color=line.get_color(), alpha=0.15)
            # points run on fewer seeds (e.g. k = 400 on seed 1): dotted, from the seeds that have them
            for k in (k for k in ks if k not in every and every):
                have = [r for r in runs if str(k) in r]
                axis.plot([every[-1], k], [statistics.mean(r[str(every[-1])]["joint_f1"] for r in have),
                                           statistics.mean(r[str(k)]["joint_f1"] for r in have)],
                          linestyle=":", marker="o", color=line.get_color())
        for key, value in results.items():  # one round on every pool sentence, from the source tagger
            if key.startswith("all|") and "all" in value:
                axis.axhline(value["all"]["joint_f1"], linestyle=":", linewidth=1, color="black")
                axis.annotate(f"all pool sentences, one label-train round (seed {key.split('|')[1]})",
                              (0.99, value["all"]["joint_f1"] - 1.6), xycoords=("axes fraction", "data"),
                              ha="right", fontsize=7)
        for name, value in ANCHORS[title.replace(" → ", "->")].items():
            axis.axhline(value, linestyle="--", linewidth=1, color="grey")
            axis.annotate(name, (2, value + 0.4), fontsize=7, color="grey")
        for k, target in TARGETS[folder].items():
            axis.plot([k], [target], marker="*", markersize=11, color="black", linestyle="none")
        axis.set_title(title)
        axis.set_xlabel("target sentences labelled (k)")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8, loc="lower right")
    axes[0].set_ylabel("joint F1 on the target test sentences")
    figure.suptitle("A few labels of your own (MiniLM tagger; ★ the issue's targets; dashed: no labels / all labels)",
                    fontsize=10)
    figure.tight_layout()
    args.image.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.image, dpi=110)
    print(args.image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
