"""The bundle's model card (``README.md``): what the models are for, how they were made, what was measured on
the source data, and what was not (there are no target labels)."""

from __future__ import annotations

from pathlib import Path

from ..core.fileio import atomic_open


def write_card(folder: Path, manifest: dict) -> None:
    stages = manifest["stages"]
    source = stages.get("source_models", {}).get("summary", {})
    rounds = stages.get("self_training", {}).get("summary", {}).get("rounds", [])
    mix = stages.get("label_mix", {}).get("summary", {})
    final = rounds[-1] if rounds else {}
    lines = [
        "---", "library_name: transformers", "tags: [ada-atsc, aspect-based-sentiment, domain-adaptation]", "---", "",
        "# Aspect sentiment for one domain (ada-atsc adapt)", "",
        f"An aspect extractor (`extractor/`) and an aspect sentiment classifier (`classifier/`) for the reviews of "
        f"`{manifest['corpus']}`, made without target labels by `ada-atsc adapt` (scale `{manifest['scale']}`, "
        f"seed {manifest['seed']}).", "",
        "```bash",
        f"ada-atsc absa --model {folder} --input reviews.txt --output aspects.jsonl",
        "```", "",
        "```python",
        "from ada_atsc import AbsaPipeline",
        f"AbsaPipeline({str(folder)!r}).predict(['The room was spotless but the staff were rude.'])",
        "```", "",
        "## How it was made", "",
        f"1. the encoder `{manifest['encoder']}` adapted to the target reviews by masked-LM fine-tuning "
        f"({manifest['budget']['lm_steps']} steps);",
        "2. both models trained from the adapted encoder on the labelled source data: "
        + ", ".join(f"`{p}`" for p in manifest["labeled"]) + " (a seeded 10% of its sentences held out as dev);",
        f"3. {len(rounds)} round(s) of self-training: target sentences labelled by the models, the confident ones kept "
        "(thresholds chosen on the source dev set) and added to the training data;",
        "4. the target's label mix estimated from the classifier's outputs (EM, Saerens et al. 2002)"
        + (" and the classifier's probabilities corrected to it (`classifier/label_mix.json`)."
           if manifest["label_mix_correction"] else "; the correction is off."), "",
        "## Measured", "",
        "No target labels were used, so nothing here is a target score.", "",
        "| | source dev |", "|---|---|",
        f"| extractor F1, source-trained | {source.get('extractor_dev', {}).get('f1', 'n/a')} |",
        f"| classifier macro-F1, source-trained | {source.get('classifier_dev', {}).get('macro_f1', 'n/a')} |",
        f"| extractor F1, after self-training | {final.get('extractor_dev', {}).get('f1', 'n/a')} |",
        f"| classifier macro-F1, after self-training | {final.get('classifier_dev', {}).get('macro_f1', 'n/a')} |", "",
    ]
    if final:
        counts = final["pseudo_labels"]
        lines += [f"Pseudo-labels of the last round: {counts['pairs_kept']} pairs "
                  f"({counts['pairs_kept_by_label']}) and {counts['extraction_sentences_kept']} sentences kept of "
                  f"{counts['target_sentences']} target sentences.", ""]
    if mix.get("estimated"):
        lines += [f"Label mix: training {mix['source']}, estimated target {mix['target']} "
                  f"(over {mix['aspects']} aspects).", ""]
    lines += ["Every setting, threshold, count and stage time: `adapt.json`.", ""]
    with atomic_open(folder / "README.md") as handle:
        handle.write("\n".join(lines))
