#!/usr/bin/env bash
# usage: DEMO=demo_output scripts/demo_outputs.sh SRC OUT -- the demo models' predict, absa and evaluate outputs on the restaurant test sentences, run with the package in SRC (e.g. an earlier checkout's src/): two runs compared with cmp show a change of behaviour
set -euo pipefail
SRC=$1; OUT=$2; D=${DEMO:-demo_output}
export PYTHONPATH=$SRC HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PY=${PYTHON:-.venv/bin/python}
rm -rf $OUT; mkdir -p $OUT
SENT=$D/data/restaurants/test.sentences.jsonl
$PY - <<PYEOF
import json
rows=[json.loads(l) for l in open("$SENT")]
with open("$OUT/texts.jsonl","w") as f:
    for r in rows: f.write(json.dumps({"id": r["id"], "text": r["sentence"]})+"\n")
with open("$OUT/requests.jsonl","w") as f:
    for r in rows:
        if r["aspects"]: f.write(json.dumps({"id": r["id"], "sentence": r["sentence"], "aspects": [[a["from"], a["to"]] for a in r["aspects"]]})+"\n")
PYEOF
for enc in plain adapted; do
  $PY -m ada_atsc predict --model $D/classifiers/$enc --input $OUT/requests.jsonl --output $OUT/predict_$enc.jsonl 2>/dev/null
  $PY -m ada_atsc absa --extractor $D/extractors/$enc --classifier $D/classifiers/$enc --input $OUT/texts.jsonl --output $OUT/absa_$enc.jsonl --no_progress 2>/dev/null
  $PY -m ada_atsc evaluate --extractor $D/extractors/$enc --classifier $D/classifiers/$enc --data $SENT --output_dir $OUT/joint_$enc > $OUT/joint_$enc.stdout 2>/dev/null
  $PY -m ada_atsc evaluate --model $D/classifiers/$enc --data $D/data/restaurants/test.jsonl --output_dir $OUT/atsc_$enc > $OUT/atsc_$enc.stdout 2>/dev/null
done
