#!/usr/bin/env python
"""Task-specific distillation of a unified tagger into a smaller student (docs/inference.md).

1. the unlabelled restaurant reviews shipped in ``data/corpora/`` (every benchmark sentence excluded,
   ``prepare-corpus``), their first ``--sentences`` sentences of 4 to 60 words;
2. the teacher (a unified tagger, ``train --task unified``) tags them: each sentence becomes a training sentence
   with the teacher's aspects and polarities (hard labels: sequence-level distillation, Kim and Rush 2016);
3. the student, MiniLM cut to its first ``--layers`` layers (``--config_name``: the same weights, fewer
   layers), is trained like the teacher on the gold training sentences plus the teacher's, with the same dev
   selection and test sentences;
4. the student's model card names its teacher and the pseudo-labelled data.

    .venv/bin/python scripts/distill_unified.py --teacher runs/unified/restaurants_seed1_steps1500 \\
        --data_dir runs/unified/restaurants_data --output_dir runs/distill/restaurants_l3_seed1 --seed 1

Every step is skipped when its output exists (the script resumes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from ada_atsc.cli import main as ada_atsc  # noqa: E402
from ada_atsc.core.fileio import atomic_open, write_json  # noqa: E402
from ada_atsc.runtime.models import packaged_minilm_path  # noqa: E402


def call(argv: list[str]) -> None:
    if ada_atsc(argv) != 0:
        raise SystemExit(f"ada-atsc {argv[0]} failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teacher", required=True)
    parser.add_argument("--data_dir", required=True, help="prepare-semeval output (train_split/dev/test sentences)")
    parser.add_argument("--corpus", default=str(REPO / "data/corpora/restaurant_reviews_zomato.txt"))
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--work_dir", default=None, help="default: OUTPUT_DIR.work")
    parser.add_argument("--sentences", type=int, default=20000)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--max_steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    out = Path(args.output_dir)
    work = Path(args.work_dir or f"{args.output_dir}.work")
    work.mkdir(parents=True, exist_ok=True)

    corpus = work / "corpus.txt"
    if not corpus.exists():
        call(["prepare-corpus", "--input", args.corpus, "--output", str(corpus), "--exclude",
              *map(str, sorted((REPO / "data/semeval2014").rglob("*.xml"))), "--no_progress"])
    pseudo = work / "pseudo.sentences.jsonl"
    if not pseudo.exists():
        from ada_atsc.absa.unified import UnifiedTagger, aspect_record

        sentences = []
        with corpus.open(encoding="utf-8") as handle:
            for line in handle:
                words = len(line.split())
                if 4 <= words <= 60:
                    sentences.append(line.strip())
                if len(sentences) >= args.sentences:
                    break
        tagger = UnifiedTagger(args.teacher, batch_size=64)
        found = []
        for at in range(0, len(sentences), 512):
            found += tagger.tag(sentences[at : at + 512])
        aspects_total = 0
        with atomic_open(pseudo) as handle:
            for i, (sentence, spans) in enumerate(zip(sentences, found)):
                aspects = [aspect_record(sentence, 0, f) for f in spans]
                aspects_total += len(aspects)
                handle.write(json.dumps({"id": f"teacher-{i}", "sentence": sentence, "aspects": [
                    {"term": a["term"], "from": a["from"], "to": a["to"], "polarity": a["label"]} for a in aspects]})
                    + "\n")
        write_json(work / "pseudo_stats.json", {"sentences": len(sentences), "aspects": aspects_total,
                                               "teacher": str(args.teacher)})
    student_config = work / f"minilm_{args.layers}_layers"
    if not (student_config / "config.json").exists():
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(packaged_minilm_path())
        config.num_hidden_layers = args.layers
        config.save_pretrained(student_config)
    if not (out / "eval_results.json").exists():
        data = Path(args.data_dir)
        call(["train", "--task", "unified", "--model", str(packaged_minilm_path()), "--config_name", str(student_config),
              "--train_file", str(data / "train_split.sentences.jsonl"), str(pseudo),
              "--dev_file", str(data / "dev.sentences.jsonl"), "--test_file", str(data / "test.sentences.jsonl"),
              "--do_train", "--do_eval", "--evaluate_during_training", "--max_steps", str(args.max_steps),
              "--warmup_steps", "100", "--learning_rate", "5e-5", "--logging_steps", "100",
              "--per_device_train_batch_size", "32", "--max_seq_length", "128", "--seed", str(args.seed),
              "--no_progress", "--output_dir", str(out)])
        stats = json.loads((work / "pseudo_stats.json").read_text())
        card = (out / "README.md").read_text(encoding="utf-8").replace(
            "- teacher: none (trained on the gold labels of its training data, no distillation)",
            f"- teacher: `{args.teacher}` (a unified tagger); distilled with its hard labels on {stats['sentences']:,} "
            f"unlabelled review sentences ({stats['aspects']:,} aspects), beside the gold training sentences; "
            f"student: the encoder's first {args.layers} layers")
        (out / "README.md").write_text(card, encoding="utf-8")
    print(json.dumps(json.loads((out / "eval_results.json").read_text())["test"]["best"]))


if __name__ == "__main__":
    main()
