"""The bundle's model card (``README.md``): what the models are for, how they were made, what was measured on
the source data and on this machine, and what was not (there are no target labels).

The card names the bundle by its folder name and everything else by file name: a bundle is moved and shared, and
the absolute paths of the machine that wrote it mean nothing elsewhere."""

from __future__ import annotations

from pathlib import Path

from ..core.fileio import atomic_open

FRONT_MATTER = ["---", "library_name: transformers", "tags: [ada-atsc, aspect-based-sentiment, domain-adaptation]",
                "---", ""]


def _usage(folder: Path) -> list[str]:
    return ["From the folder that holds the bundle:", "",
            "```bash", f"ada-atsc absa --model {folder.name} --input reviews.txt --output aspects.jsonl",
            f"ada-atsc report --model {folder.name} --input reviews.jsonl --output_dir report", "```", "",
            "```python", "from ada_atsc import AbsaPipeline",
            f"AbsaPipeline({folder.name!r}).predict(['The room was spotless but the staff were rude.'])", "```", ""]


def _percent(scores: dict, key: str) -> str:
    value = scores.get(key)
    return f"{100 * value:.2f}" if isinstance(value, (int, float)) else "n/a"


def write_card(folder: Path, manifest: dict) -> None:
    lines = tagger_card(folder, manifest) if manifest.get("kind") == "tagger" else pipeline_card(folder, manifest)
    lines += ["Every setting, threshold, count and stage time: `adapt.json`.", ""]
    with atomic_open(folder / "README.md") as handle:
        handle.write("\n".join(lines))


def tagger_card(folder: Path, manifest: dict) -> list[str]:
    stages = manifest["stages"]
    rounds = stages.get("tagger_self_training", {}).get("summary", {}).get("rounds", [])
    dev = manifest["dev_scores"]
    speed = manifest["speed"]
    runs = (f"its ONNX int8 export (`{manifest['export']}/`), which `absa`, `report` and `serve` run by default "
            "(the PyTorch tagger when ONNX Runtime is not installed)" if manifest.get("export")
            else "no ONNX export (`--no_export`): commands run the PyTorch tagger")
    lines = FRONT_MATTER + [
        "# Aspect sentiment for one domain (ada-atsc adapt, unified tagger)", "",
        f"One unified tagger (`tagger/`, an `AutoModelForTokenClassification`) that finds every aspect term of a "
        f"sentence with its polarity in one encoder pass, for the reviews of `{manifest['corpus']}`, made without "
        f"target labels by `ada-atsc adapt` (scale `{manifest['scale']}`, seed {manifest['seed']}); {runs}.", "",
        *_usage(folder),
        "## How it was made", "",
        f"1. the encoder `{manifest['encoder']}` adapted to the target reviews by masked-LM fine-tuning "
        f"({manifest['budget']['lm_steps']} steps);",
        f"2. a tagger trained from the adapted encoder ({manifest['budget']['tagger_steps']} steps) on the labelled "
        "source data: " + ", ".join(f"`{p}`" for p in manifest["labeled"])
        + " (a seeded 10% of its sentences held out as dev, which selects the checkpoint by joint F1);",
        (f"3. {len(rounds)} round(s) of self-training: target sentences tagged, those whose every span and polarity "
         "is sure kept (thresholds chosen on the source dev set), a new tagger trained on source + kept sentences."
         if rounds else "3. no self-training (`--self_training_rounds 0`): the source-trained tagger is the bundle's."),
        "",
        "## Measured", "",
        "No target labels were used, so nothing here is a target score.", "",
        "| source dev | joint F1 | extraction F1 | sentiment accuracy on found aspects |", "|---|---|---|---|",
        *(f"| {name} | {_percent(scores, 'f1')} | {_percent(scores, 'ate_f1')} | "
          f"{_percent(scores, 'atsc_accuracy_on_extracted')} |"
          for name, scores in (("source-trained tagger", dev["source_tagger"]),
                               ("after self-training (the bundle's)", dev["final_tagger"]))), "",
        f"Speed on the machine that made it: {speed['sentences_per_second']} sentences/s "
        f"(`{speed['model']}/`, {speed['sentences']} target sentences).", ""]
    labelled = manifest.get("label_rounds", [])
    if labelled:
        lines += ["## Labels of the target domain (`ada-atsc label train`)", "",
                  "| round | target sentences labelled | with aspects | without | source sentences mixed in | steps "
                  "| seconds |", "|---|---|---|---|---|---|---|",
                  *(f"| {r['round']} | {r['target_labels']} | {r['target_labels'] - r['target_without_aspects']} | "
                    f"{r['target_without_aspects']} | {r['source_sentences']} | {r['steps']} | {r['seconds']} |"
                    for r in labelled), "",
                  "The source dev scores above are those of the tagger before these rounds.", ""]
    if rounds:
        counts = rounds[-1]["pseudo_labels"]
        lines += [f"Self-training, last round: {counts['sentences_kept']} of {counts['target_sentences']} target "
                  f"sentences kept ({counts['sentences_all_polarities_sure']} with aspects, "
                  f"{counts['empty_sentences_kept']} without).", ""]
    return lines


def pipeline_card(folder: Path, manifest: dict) -> list[str]:
    stages = manifest["stages"]
    source = stages.get("source_models", {}).get("summary", {})
    rounds = stages.get("self_training", {}).get("summary", {}).get("rounds", [])
    mix = stages.get("label_mix", {}).get("summary", {})
    final = rounds[-1] if rounds else {}
    lines = FRONT_MATTER + [
        "# Aspect sentiment for one domain (ada-atsc adapt --pipeline)", "",
        f"An aspect extractor (`extractor/`) and an aspect sentiment classifier (`classifier/`) for the reviews of "
        f"`{manifest['corpus']}`, made without target labels by `ada-atsc adapt` (scale `{manifest['scale']}`, "
        f"seed {manifest['seed']}).", "",
        *_usage(folder),
        "## How it was made", "",
        f"1. the encoder `{manifest['encoder']}` adapted to the target reviews by masked-LM fine-tuning "
        f"({manifest['budget']['lm_steps']} steps);",
        "2. both models trained from the adapted encoder on the labelled source data: "
        + ", ".join(f"`{p}`" for p in manifest["labeled"]) + " (a seeded 10% of its sentences held out as dev);",
        (f"3. {len(rounds)} round(s) of self-training: target sentences labelled by the models, the confident ones "
         "kept (thresholds chosen on the source dev set) and added to the training data;" if rounds else
         "3. no self-training (`--self_training_rounds 0`): the source-trained models are the bundle's;"),
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
    return lines
