"""Choose the detection threshold on dev for category models trained before training did it, and score test.

Training (``train --task acsa``) decides detection by the arg-max over ``none`` and the polarities. This
script measures the alternative, a threshold on P(mentioned) chosen on the dev set only
(``acsa.training.choose_detection_threshold``), on finished runs without retraining, and writes
``RUN/retuned.json`` (the threshold, dev detection F1 with it and with the arg-max, the test scores with it and
as trained). The model directory is left as it was.

    .venv/bin/python scripts/acsa_retune.py runs/acsa/semeval_seed1 runs/acsa/mams_seed1 ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def retune(run: Path) -> dict:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ada_atsc.acsa.training import (
        choose_detection_threshold,
        load_category_file,
        score_category_sentences,
    )

    if not (run / "eval_results.json").is_file():
        raise SystemExit(f"{run}: no eval_results.json (not a finished 'train --task acsa' run)")
    results = json.loads((run / "eval_results.json").read_text())
    if not results["dev"]:
        raise SystemExit(f"{run}: trained without a dev split (DEV_SELECTION=0): there is no dev set to tune on")
    args = json.loads((run / "training_args.json").read_text())
    model = AutoModelForSequenceClassification.from_pretrained(run).eval()
    tokenizer = AutoTokenizer.from_pretrained(run)
    length, batch = args["max_seq_length"], args["eval_batch_size"]
    tuned = choose_detection_threshold(model, tokenizer, load_category_file(results["data"]["dev"]),
                                       max_seq_length=length, batch_size=batch)
    test, _ = score_category_sentences(model, tokenizer, load_category_file(results["data"]["test"]), length, batch)
    out = {"dev_tuning": tuned, "test": test, "test_argmax": results["test"]["best"]}
    (run / "retuned.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return out


def main(runs: list[str]) -> None:
    for run in runs:
        out = retune(Path(run))
        print(f"{run}: threshold {out['dev_tuning']['detection_threshold']:.2f}; dev detection F1 "
              f"{100 * out['dev_tuning']['dev_detection_f1_argmax']:.2f} -> {100 * out['dev_tuning']['dev_detection_f1']:.2f}; "
              f"test {100 * out['test_argmax']['category_detection_f1']:.2f} -> {100 * out['test']['category_detection_f1']:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
