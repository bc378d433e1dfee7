#!/usr/bin/env python
"""Cross-domain aspect sentiment without target labels: the study behind ``docs/cross_domain.md``.

The standard unsupervised setting: labelled source data, unlabelled target reviews, target test labels used
only to score. For each pair and seed, one ``ada-atsc adapt`` run (``--labeled`` the source training file,
``--corpus`` the target reviews) gives three of the variants, scored on the target's SemEval-2014 test
sentences:

  (a) source-trained: extractor and classifier from the plain encoder on the source data (same budgets);
  (b) + target LM adaptation (the paper): the adapt run's ``source_models`` stage;
  (c) + self-training: its last self-training round, no label-mix correction;
  (d) + label-mix correction: the bundle;
  (e) (for -> laptops) restaurants + MAMS as the source, all of (d);
  ceiling: in-domain, the extractor and classifier trained on the target's own training data.

Scores: extraction F1, ATSC accuracy and macro-F1 on the gold aspects, joint (span, polarity) F1. Every run
is cached in ``<output_dir>/results.json`` and skipped when there, and ``adapt`` resumes itself, so the study
continues where it stopped. Writes the tables into ``<output_dir>/results.md`` and a plot ``scores.png``.

    .venv/bin/python scripts/cross_domain_study.py --output_dir runs/cross --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
SEMEVAL = DATA / "semeval2014"
PAIRS = {
    "restaurants->laptops": {"source": [SEMEVAL / "Restaurants_Train_v2.xml"], "test": SEMEVAL / "Laptops_Test_Gold.xml",
                             "corpora": ["electronics_reviews_amazon.txt", "electronics_reviews_amazon_6k.txt.gz"],
                             "in_domain": SEMEVAL / "Laptop_Train_v2.xml"},
    "laptops->restaurants": {"source": [SEMEVAL / "Laptop_Train_v2.xml"], "test": SEMEVAL / "Restaurants_Test_Gold.xml",
                             "corpora": ["restaurant_reviews_zomato.txt"], "in_domain": SEMEVAL / "Restaurants_Train_v2.xml"},
    "restaurants+mams->laptops": {"source": [SEMEVAL / "Restaurants_Train_v2.xml", DATA / "mams" / "train.xml"],
                                  "test": SEMEVAL / "Laptops_Test_Gold.xml",
                                  "corpora": ["electronics_reviews_amazon.txt", "electronics_reviews_amazon_6k.txt.gz"],
                                  "in_domain": SEMEVAL / "Laptop_Train_v2.xml"},
}
VARIANTS = ("a_source", "b_lm", "c_self_training", "d_label_mix", "in_domain")
MEASURES = ("ate_f1", "joint_f1", "atsc_accuracy", "atsc_macro_f1")


def target_corpus(out: Path, names: list[str]) -> Path:
    """The target reviews, one a line, from every corpus file named (some are gzip)."""
    path = out / ("corpus_" + "+".join(Path(n).name.split(".")[0] for n in names) + ".txt")
    if not path.exists():
        lines = []
        for name in names:
            opener = gzip.open if name.endswith(".gz") else open
            with opener(DATA / "corpora" / name, "rt", encoding="utf-8") as handle:
                lines.extend(line for line in handle if line.strip())
        path.write_text("".join(lines), encoding="utf-8")
    return path


def score(extractor: Path, classifier: Path, test: Path, label_mix: bool) -> dict:
    """Extraction and joint F1 of the pipeline, ATSC on the gold aspects (conflict dropped)."""
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import evaluate_pipeline
    from ada_atsc.ate.training import load_sentence_file
    from ada_atsc.atsc.datasets import load_labeled
    from ada_atsc.atsc.inference import load_classifier
    from ada_atsc.atsc.scoring import score_examples

    pipeline = AbsaPipeline(extractor, classifier)
    if not label_mix:
        pipeline.classifier.model.ada_label_mix = None
    joint, _ = evaluate_pipeline(pipeline, load_sentence_file(test))
    model, tokenizer, _ = load_classifier(str(classifier), label_mix=label_mix)
    atsc, _ = score_examples(model, tokenizer, load_labeled(test), 128, 64)
    return {"ate_f1": joint["ate"]["f1"] * 100, "joint_f1": joint["joint"]["f1"] * 100,
            "atsc_accuracy": atsc["accuracy"] * 100, "atsc_macro_f1": atsc["macro_f1"] * 100}


def run_pair(out: Path, pair: str, seed: int, scale: str, results: dict, save) -> None:
    from ada_atsc.adapt import AdaptOptions, run_adapt
    from ada_atsc.adapt.pair_stages import _train_models
    from ada_atsc.adapt.source import read_labeled, split_source, write_source
    from ada_atsc.adapt.stages import final_models
    from ada_atsc.runtime.models import packaged_minilm_path

    spec = PAIRS[pair]
    folder = out / pair.replace("->", "_to_").replace("+", "_") / f"seed{seed}"
    options = AdaptOptions(corpus=str(target_corpus(out, spec["corpora"])),
                           output_dir=str(folder / "bundle"), labeled=tuple(map(str, spec["source"])), scale=scale,
                           seed=seed, resume=True, pipeline=True)
    key = f"{pair}|{seed}"
    done = results.setdefault(key, {})
    if "d_label_mix" not in done:
        run_adapt(options)
        work = folder / "bundle" / "work"
        final = final_models(work)
        done["b_lm"] = score(work / "source_models" / "extractor", work / "source_models" / "classifier", spec["test"], False)
        done["c_self_training"] = score(final / "extractor", final / "classifier", spec["test"], False)
        done["d_label_mix"] = score(folder / "bundle" / "extractor", folder / "bundle" / "classifier", spec["test"], True)
        done["label_mix"] = json.loads((folder / "bundle" / "adapt.json").read_text())["stages"]["label_mix"]["summary"]
        save()
    if "label_mix_check" not in done:
        done["label_mix_check"] = rare_neutral_check(folder, spec["test"], seed)
        save()
    if "a_source" not in done and pair != "restaurants+mams->laptops":
        plain = folder / "plain"
        _train_models(options, packaged_minilm_path(), folder / "bundle" / "work" / "source", plain)
        done["a_source"] = score(plain / "extractor", plain / "classifier", spec["test"], False)
        save()
    if "in_domain" not in done and pair != "restaurants+mams->laptops":
        ceiling = folder / "in_domain"
        train, dev = split_source(read_labeled([spec["in_domain"]]), seed)
        write_source(ceiling / "data", train, dev)
        _train_models(options, packaged_minilm_path(), ceiling / "data", ceiling)
        done["in_domain"] = score(ceiling / "extractor", ceiling / "classifier", spec["test"], False)
        save()


def rare_neutral_check(folder: Path, test: Path, seed: int, neutral_share: float = 0.05) -> dict:
    """The label-mix correction where neutral is rare, for the bundle in ``folder``: :func:`label_mix_check`
    on its final classifier."""
    return label_mix_check(folder / "bundle" / "work", test, seed, neutral_share)


def label_mix_check(work: Path, test: Path, seed: int, neutral_share: float = 0.05) -> dict:
    """The target test pairs with neutral cut to ``neutral_share`` (seeded), and the whole test; for each, the
    final classifier of the adapt run in ``work`` before and after the correction, with the mix estimated from
    those outputs alone (labels unused) by EM (Saerens et al. 2002, on calibrated outputs) and by BBSE
    (Lipton et al. 2018, the source dev set's confusions): polar aspects called neutral, accuracy, macro-F1."""
    import random

    import numpy as np
    from sklearn.metrics import f1_score

    from ada_atsc.adapt.source import polar_pairs
    from ada_atsc.adapt.stages import final_models
    from ada_atsc.atsc.datasets import load_labeled
    from ada_atsc.atsc.label_mix import estimate_label_mix, estimate_label_mix_bbse, fit_calibration, mix_of
    from ada_atsc.atsc.predict import Predictor
    from ada_atsc.core.labels import ATSC_LABELS
    from ada_atsc.data.readers import read_sentences

    final = final_models(work)
    train = [json.loads(line)["polarity"] for line in (final.parent / "train.jsonl").read_text().splitlines()]
    predictor = Predictor(final / "classifier", label_mix=False)
    dev = polar_pairs(read_sentences(work / "source" / "dev.sentences.jsonl"))
    dev_probs = predictor.span_probabilities([(p.sentence, p.start, p.end) for p in dev])
    dev_labels = np.asarray([ATSC_LABELS.index(p.polarity) for p in dev])
    calibration = fit_calibration(dev_probs, dev_labels)
    examples = load_labeled(test)
    polar = [e for e in examples if e.polarity != "neutral"]
    neutral = [e for e in examples if e.polarity == "neutral"]
    keep = round(neutral_share / (1 - neutral_share) * len(polar))
    rare = polar + random.Random(seed).sample(neutral, min(keep, len(neutral)))
    neutral_id = ATSC_LABELS.index("neutral")
    out = {}
    for name, subset in (("neutral_5pct", rare), ("whole_test", examples)):
        probs = predictor.span_probabilities([(e.sentence, e.start, e.end) for e in subset])
        gold = np.asarray([ATSC_LABELS.index(e.polarity) for e in subset])

        def counts(p, gold=gold):
            predicted = p.argmax(axis=1)
            return {"accuracy": round(float((predicted == gold).mean()) * 100, 2),
                    "macro_f1": round(float(f1_score(gold, predicted, average="macro")) * 100, 2),
                    "polar_called_neutral": int(((gold != neutral_id) & (predicted == neutral_id)).sum())}

        mixes = {"em": estimate_label_mix(probs, mix_of(train), calibration=calibration),
                 "bbse": estimate_label_mix_bbse(probs, mix_of(train), dev_probs, dev_labels, calibration=calibration)}
        out[name] = {"pairs": len(subset), "neutral_share": round(float((gold == neutral_id).mean()), 4),
                     "true_mix": dict(zip(ATSC_LABELS, (round(float((gold == i).mean()), 4) for i in range(3)))),
                     "before": counts(probs)}
        for method, mix in mixes.items():
            out[name][method] = {"estimated_mix": dict(zip(ATSC_LABELS, mix.target)), "after": counts(mix.correct(probs))}
    return out


def table(results: dict) -> str:
    """Mean +- std over seeds per pair and variant."""
    rows = ["| pair | variant | seeds | " + " | ".join(MEASURES) + " |", "|---|---|---|" + "---|" * len(MEASURES)]
    pairs = sorted({key.split("|")[0] for key in results if "|" in key})
    for pair in pairs:
        for variant in VARIANTS:
            runs = [r[variant] for key, r in results.items() if key.startswith(pair + "|") and variant in r]
            if not runs:
                continue
            cells = []
            for measure in MEASURES:
                values = [r[measure] for r in runs]
                std = statistics.stdev(values) if len(values) > 1 else 0.0
                cells.append(f"{statistics.mean(values):.2f} ± {std:.2f}")
            rows.append(f"| {pair} | {variant} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = sorted({key.split("|")[0] for key in results if "|" in key})
    figure, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 3.6), squeeze=False)
    for axis, pair in zip(axes[0], pairs):
        variants = [v for v in VARIANTS if any(v in r for k, r in results.items() if k.startswith(pair + "|"))]
        for offset, measure in enumerate(("ate_f1", "joint_f1", "atsc_macro_f1")):
            means = [statistics.mean(r[v][measure] for k, r in results.items() if k.startswith(pair + "|") and v in r)
                     for v in variants]
            axis.bar([i + offset * 0.27 for i in range(len(variants))], means, width=0.27, label=measure)
        axis.set_xticks([i + 0.27 for i in range(len(variants))], variants, rotation=20, fontsize=8)
        axis.set_title(pair)
        axis.set_ylim(0, 100)
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("score (%)")
    axes[0][-1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--pairs", nargs="+", default=list(PAIRS), choices=list(PAIRS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--scale", default="small")
    args = parser.parse_args(argv)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}

    def save() -> None:
        results_path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
        (out / "results.md").write_text(table(results) + "\n")

    for seed in args.seeds:
        for pair in args.pairs:
            run_pair(out, pair, seed, args.scale, results, save)
            print(table(results), file=sys.stderr, flush=True)
    save()
    plot(results, out / "scores.png")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
