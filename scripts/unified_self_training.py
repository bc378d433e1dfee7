#!/usr/bin/env python
"""Self-training a unified tagger on a new domain without its labels: the experiment behind the "unified
tagger across domains" section of docs/cross_domain.md.

A tagger trained on the source domain (``train --task unified``) labels a seeded sample of target sentences;
the confident sentences are kept with the thresholds ``adapt`` uses, chosen on the **source** dev set only
(:mod:`ada_atsc.adapt.pseudo`: every span of a kept sentence above a score at which 80% of such dev sentences
have exactly their gold spans; every polarity above a probability at which 90% of dev polarities are right;
at most ``--max_per_term`` sentences per term); a new tagger is trained from the plain encoder on the source
training sentences plus those, selected on the source dev set, and scored on the target test sentences.

    .venv/bin/python scripts/unified_self_training.py --tagger runs/unified/restaurants_seed1_steps1500 \\
        --source_data runs/unified/restaurants_data --corpus runs/cross/corpus_electronics_reviews_amazon+electronics_reviews_amazon_6k.txt \\
        --test data/semeval2014/Laptops_Test_Gold.xml --output_dir runs/unified_st/r2l_seed1 --seed 1

Writes ``OUTPUT_DIR/result.json`` (thresholds, pseudo-label counts, source-only and self-trained test scores).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from pathlib import Path


def sentence_sample(corpus: Path, count: int, seed: int, exclude: set[str]) -> list[str]:
    """``count`` distinct sentences of 4 to 60 words from a one-review-a-line corpus, seeded."""
    from ada_atsc.core.sentences import split_sentences

    sentences: dict[str, None] = {}
    for line in corpus.read_text(encoding="utf-8").splitlines():
        for sentence in split_sentences(line):
            if 4 <= len(sentence.split()) <= 60 and sentence not in exclude:
                sentences[sentence] = None
    return random.Random(seed).sample(list(sentences), min(count, len(sentences)))


def score_tagger(model_dir: Path, test: Path) -> dict:
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.absa.scores import evaluate_pipeline
    from ada_atsc.ate.training import load_sentence_file

    joint, _ = evaluate_pipeline(AbsaPipeline(str(model_dir)), load_sentence_file(test))
    return {"ate_f1": round(joint["ate"]["f1"] * 100, 2), "joint_f1": round(joint["joint"]["f1"] * 100, 2)}


def main(argv: list[str] | None = None) -> int:
    from ada_atsc.absa.unified import OUTPUT_COLUMNS, UnifiedTagger
    from ada_atsc.adapt.pseudo import pseudo_label
    from ada_atsc.adapt.tagger import spans_and_rows, tagger_thresholds
    from ada_atsc.ate.training import load_sentence_file
    from ada_atsc.cli import main as cli_main
    from ada_atsc.core.fileio import write_json, write_jsonl
    from ada_atsc.runtime.models import packaged_minilm_path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tagger", required=True, help="the source-trained unified tagger")
    parser.add_argument("--source_data", required=True, help="folder with train_split/dev .sentences.jsonl")
    parser.add_argument("--corpus", required=True, help="target reviews, one a line")
    parser.add_argument("--test", required=True, help="target test sentences (scored only)")
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target_sentences", type=int, default=3000)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--max_per_term", type=int, default=8)
    args = parser.parse_args(argv)

    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    source = Path(args.source_data)
    labels = tuple(OUTPUT_COLUMNS)
    tagger = UnifiedTagger(args.tagger, batch_size=64)

    dev = load_sentence_file(source / "dev.sentences.jsonl")
    extraction, empty_right, polarity = tagger_thresholds(tagger.tag([s.sentence for s in dev]), dev,
                                                          extraction_precision=0.8, polarity_precision=0.9,
                                                          labels=labels)

    test_sentences = {s.sentence for s in load_sentence_file(args.test)}
    texts = sentence_sample(Path(args.corpus), args.target_sentences, args.seed, test_sentences)
    found = tagger.tag(texts)
    pairs = [spans_and_rows(f, t, labels) for f, t in zip(found, texts)]
    source_empty = sum(1 for s in dev if not s.aspects) / max(1, len(dev))
    pseudo = pseudo_label(texts, [p[0] for p in pairs], [p[1] for p in pairs], labels, extraction, polarity,
                          keep_empty=empty_right >= 0.8, empty_share=source_empty, max_per_term=args.max_per_term,
                          seed=args.seed)
    # the tagger learns a polarity for every span: a sentence with an unsure polarity is left out
    kept = [s for s in pseudo.sentences if all(a.polarity is not None for a in s.aspects)]
    data = out / "data"
    data.mkdir(exist_ok=True)
    write_jsonl(data / "pseudo.sentences.jsonl", (s.to_record() for s in kept))
    (data / "train.sentences.jsonl").write_bytes((source / "train_split.sentences.jsonl").read_bytes()
                                                  + (data / "pseudo.sentences.jsonl").read_bytes())
    shutil.copyfile(source / "dev.sentences.jsonl", data / "dev.sentences.jsonl")

    model_dir = out / "tagger"
    if not (model_dir / "eval_results.json").is_file():
        code = cli_main(["train", "--task", "unified", "--model", packaged_minilm_path(), "--data_dir", str(data),
                         "--do_train", "--evaluate_during_training", "--max_steps", str(args.steps),
                         "--warmup_steps", "100", "--learning_rate", "5e-5", "--logging_steps", "100",
                         "--per_device_train_batch_size", "32", "--max_seq_length", "128", "--seed", str(args.seed),
                         "--no_progress", "--output_dir", str(model_dir), "--overwrite_output_dir"])
        if code:
            return code
    result = {"tagger": args.tagger, "corpus": args.corpus, "test": args.test, "seed": args.seed,
              "extraction_threshold": extraction.to_json(), "polarity_threshold": polarity.to_json(),
              "empty_sentences_right_on_dev": round(empty_right, 4), "pseudo_labels": pseudo.counts,
              "sentences_kept_all_polarities_sure": len(kept),
              "source_only": score_tagger(Path(args.tagger), Path(args.test)),
              "self_trained": score_tagger(model_dir, Path(args.test))}
    write_json(out / "result.json", result)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
