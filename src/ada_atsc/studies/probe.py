"""The contrast probe (``ada-atsc probe``): does the classifier judge the aspect or the sentence?

From a labeled test set, each item gets contrast variants (:mod:`.contrast`): its sentence joined with a
clause about another aspect of the opposite polarity, taken from another sentence of the same set. The gold
label of the item's aspect does not change, so a classifier that reads the aspect keeps its answer and one
that follows the sentence's tone flips it. Reported (Xing et al. 2020 call the last one the aspect
robustness score):

* ``original_accuracy``: accuracy on the unchanged items that have variants;
* ``variant_accuracy``: accuracy on all variants;
* ``robust_share``: the share of items whose original *and every variant* are classified correctly.

Writes ``probe_set.jsonl`` (originals and variants in the project's record format, with ``variant_of``),
``predictions.jsonl``, ``probe_results.json`` and ``probe_report.md`` (summary and failed examples, for a
person). Without ``--model`` only the probe set and its counts are written. Same seed, same probe.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..atsc.contrast import build_probe
from ..core.errors import AdaError
from ..core.fileio import atomic_open, check_output_dir, staged_output_dir, write_json, write_jsonl
from ..data.records import AspectExample


def probe_records(probe: list[tuple[AspectExample, list[AspectExample]]]) -> list[dict]:
    """Originals and their variants, in order, as records with ``variant_of`` (None for an original)."""
    records = []
    for original, variants in probe:
        records.append({**original.to_record(), "variant_of": None})
        records.extend({**v.to_record(), "variant_of": original.id} for v in variants)
    return records


def score_probe(probe: list[tuple[AspectExample, list[AspectExample]]], correct: dict[str, bool]) -> dict:
    """The probe's scores from per-example correctness (keyed by example id)."""
    with_variants = [(o, vs) for o, vs in probe if vs]
    if not with_variants:
        raise AdaError("the probe has no variants: the data needs sentences of one positive or negative polarity")
    originals = [correct[o.id] for o, _ in with_variants]
    variants = [correct[v.id] for _, vs in with_variants for v in vs]
    robust = [correct[o.id] and all(correct[v.id] for v in vs) for o, vs in with_variants]
    by_polarity: dict[str, dict] = {}
    for polarity in sorted({o.polarity for o, _ in with_variants}):
        items = [(o, vs) for o, vs in with_variants if o.polarity == polarity]
        by_polarity[polarity] = {
            "items": len(items),
            "original_accuracy": sum(correct[o.id] for o, _ in items) / len(items),
            "variant_accuracy": sum(correct[v.id] for _, vs in items for v in vs) / sum(len(vs) for _, vs in items),
        }
    return {
        "items": len(probe),
        "items_with_variants": len(with_variants),
        "variants": len(variants),
        "original_accuracy": sum(originals) / len(originals),
        "variant_accuracy": sum(variants) / len(variants),
        "robust_share": sum(robust) / len(robust),
        "gap_points": round(100 * (sum(originals) / len(originals) - sum(variants) / len(variants)), 2),
        "by_polarity": by_polarity,
    }


def _marked(record: dict) -> str:
    s, a, b = record["sentence"], record["from"], record["to"]
    return f"{s[:a]}**[{s[a:b]}]**{s[b:]}"


def report_markdown(results: dict, predictions: list[dict] | None, limit: int = 15) -> str:
    """A page a person reads: what the probe is, its scores, and items that flipped."""
    lines = ["# Contrast probe", "",
             f"Data: `{results['data']}`, seed {results['seed']}, {results['variants_per_item']} variant(s) per item.",
             f"Model: `{results.get('model') or '(none: probe set only)'}`", "",
             "Each variant adds a clause about another aspect with the opposite polarity; the gold label of the "
             "**[bracketed]** aspect is unchanged.", ""]
    scores = results.get("scores")
    counts = results["counts"]
    lines += [f"Items: {counts['items']}, with variants: {counts['items_with_variants']}, "
              f"variants: {counts['variants']}.", ""]
    if scores:
        lines += ["| measure | value |", "|---|---|",
                  f"| accuracy on the originals | {100 * scores['original_accuracy']:.2f} |",
                  f"| accuracy on the variants | {100 * scores['variant_accuracy']:.2f} |",
                  f"| gap (points) | {scores['gap_points']:.2f} |",
                  f"| items right on the original and every variant | {100 * scores['robust_share']:.2f} |", "",
                  "| gold | items | originals | variants |", "|---|---|---|---|"]
        for polarity, entry in scores["by_polarity"].items():
            lines.append(f"| {polarity} | {entry['items']} | {100 * entry['original_accuracy']:.2f} | "
                         f"{100 * entry['variant_accuracy']:.2f} |")
        lines.append("")
    if predictions:
        by_id = {r["id"]: r for r in predictions}
        flips = [r for r in predictions if r["variant_of"] and not r["correct"] and by_id[r["variant_of"]]["correct"]]
        lines += [f"## Flipped by a variant ({len(flips)}; first {min(limit, len(flips))})", ""]
        for record in flips[:limit]:
            original = by_id[record["variant_of"]]
            lines += [f"- gold **{record['gold']}**, original right: {_marked(original)}",
                      f"  - predicted **{record['pred']}** on: {_marked(record)}"]
    else:
        lines += ["## Examples", ""]
        variants = [r for r in (results.get("examples") or [])][:limit]
        lines += [f"- {r['polarity']}: {_marked(r)}" for r in variants]
    return "\n".join(lines) + "\n"


def run_probe(data: str | Path, output_dir: str | Path | None, *, model: str | None = None, seed: int = 42,
              variants: int = 2, max_clause_words: int = 20, max_seq_length: int = 128, batch_size: int = 64,
              device: str | None = None, overwrite: bool = False) -> dict:
    """Build the probe from ``data``, score ``model`` on it (if given), write the files; returns the results."""
    from ..atsc.datasets import load_labeled

    if variants < 1:
        raise AdaError(f"--variants must be at least 1, got {variants}")
    if output_dir:
        check_output_dir(output_dir, overwrite)
    probe = build_probe(load_labeled(data), seed=seed, variants=variants, max_clause_words=max_clause_words)
    records = probe_records(probe)
    counts = Counter(r["variant_of"] is None for r in records)
    results: dict = {"data": str(data), "model": model, "seed": seed, "variants_per_item": variants,
                     "max_clause_words": max_clause_words,
                     "counts": {"items": counts[True], "variants": counts[False],
                                "items_with_variants": sum(1 for _, vs in probe if vs)}}
    predictions = None
    if model:
        from ..atsc.inference import load_classifier
        from ..atsc.scoring import examples_to_predictions, predict_examples

        classifier, tokenizer, _ = load_classifier(model, device=device)
        examples = [ex for original, vs in probe for ex in (original, *vs)]
        probs = predict_examples(classifier, tokenizer, examples, max_seq_length, batch_size)
        predictions = examples_to_predictions(examples, probs)
        for record, source in zip(predictions, records):
            record["variant_of"] = source["variant_of"]
        results["scores"] = score_probe(probe, {r["id"]: r["correct"] for r in predictions})
    else:
        results["examples"] = [r for r in records if r["variant_of"]][:15]
    if output_dir:
        with staged_output_dir(output_dir, overwrite) as staging:
            write_jsonl(staging / "probe_set.jsonl", records)
            if predictions is not None:
                write_jsonl(staging / "predictions.jsonl", predictions)
            flat = {k: v for k, v in results.items() if k != "examples"}
            write_json(staging / "probe_results.json", {**flat, **(results.get("scores") or {})})
            with atomic_open(staging / "probe_report.md") as handle:
                handle.write(report_markdown(results, predictions))
    return results
