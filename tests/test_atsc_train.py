"""End to end on the tiny model: train (CLI, paper command, torchrun), evaluate, predict, experiment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ada_atsc.cli import main
from ada_atsc.data.readers import read_dataset

from .conftest import REPO, SEMEVAL

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src")}
FAST = ["--max_steps", "6", "--logging_steps", "2", "--per_gpu_train_batch_size", "8", "--disable_tqdm"]


def _write_jsonl(path: Path, examples) -> None:
    path.write_text("".join(json.dumps(e.to_record()) + "\n" for e in examples), encoding="utf-8")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A small prepare-semeval-style folder cut from the real restaurants data (conflict included)."""
    folder = tmp_path_factory.mktemp("rest")
    train = read_dataset(SEMEVAL / "Restaurants_Train_v2.xml")[:120]
    test = read_dataset(SEMEVAL / "Restaurants_Test_Gold.xml")[:50]
    dev_ids = {e.sentence_id for e in train[-30:]}
    _write_jsonl(folder / "train.jsonl", train)
    _write_jsonl(folder / "dev.jsonl", [e for e in train if e.sentence_id in dev_ids])
    _write_jsonl(folder / "train_split.jsonl", [e for e in train if e.sentence_id not in dev_ids])
    _write_jsonl(folder / "test.jsonl", test)
    return folder


@pytest.fixture(scope="module")
def trained(tiny_bert_dir, data_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "model"
    code = main(["train", "--model_name_or_path", str(tiny_bert_dir), "--data_dir", str(data_dir),
                 "--output_dir", str(out), "--do_train", "--do_eval", "--evaluate_during_training", *FAST])
    assert code == 0
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_train_writes_a_plain_hf_model_and_honest_results(trained, data_dir):
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(trained)
    assert model.config.id2label == {0: "positive", 1: "negative", 2: "neutral"}
    assert model.config.label2id == {"positive": 0, "negative": 1, "neutral": 2}
    results = json.loads((trained / "eval_results.json").read_text())
    history = results["dev_history"]
    assert [h["step"] for h in history] == [2, 4, 6] and results["last_step"] == 6
    best = max(history, key=lambda h: (h["macro_f1"], -h["step"]))
    assert results["best_step"] == best["step"]
    assert results["dev"]["best"]["macro_f1"] == pytest.approx(best["macro_f1"], abs=1e-6)
    test_gold = [e for e in read_dataset(data_dir / "test.jsonl") if e.polarity != "conflict"]
    for which in ("best", "last"):
        assert results["test"][which]["num_examples"] == len(test_gold)
    assert results["data"]["train"].endswith("train_split.jsonl")
    preds = _jsonl(trained / "predictions_test.jsonl")
    assert [p["id"] for p in preds] == [e.id for e in test_gold]
    assert {p["gold"] for p in preds} <= {"positive", "negative", "neutral"}
    assert all(abs(sum(p["probabilities"].values()) - 1) < 1e-4 for p in preds)
    accuracy = sum(p["pred"] == p["gold"] for p in preds) / len(preds)
    assert results["test"]["best"]["accuracy"] == pytest.approx(accuracy)
    assert "acc = " in (trained / "eval_results.txt").read_text()


def test_saved_model_is_the_best_dev_checkpoint(trained, data_dir, capsys):
    """Re-scoring the saved model on dev gives the recorded best-dev score, not the last step's."""
    code = main(["evaluate", "--model", str(trained), "--data", str(data_dir / "dev.jsonl")])
    assert code == 0
    scored = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    results = json.loads((trained / "eval_results.json").read_text())
    assert scored["macro_f1"] == pytest.approx(results["dev"]["best"]["macro_f1"], abs=1e-4)


def test_same_seed_same_metrics(tiny_bert_dir, data_dir, tmp_path):
    runs = []
    for name in ("a", "b"):
        code = main(["train", "--model", str(tiny_bert_dir), "--data_dir", str(data_dir), "--output_dir",
                     str(tmp_path / name), "--do_train", "--do_eval", "--evaluate_during_training", *FAST])
        assert code == 0
        runs.append(json.loads((tmp_path / name / "eval_results.json").read_text()))
    strip = [[{k: v for k, v in h.items() if "runtime" not in k and "per_second" not in k} for h in r["dev_history"]]
             for r in runs]
    assert strip[0] == strip[1]
    assert runs[0]["test"]["best"]["confusion_matrix"] == runs[1]["test"]["best"]["confusion_matrix"]


def test_existing_output_dir_needs_overwrite(tiny_bert_dir, data_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("user data")
    code = main(["train", "--model", str(tiny_bert_dir), "--data_dir", str(data_dir), "--output_dir", str(out),
                 "--do_train", *FAST])
    assert code == 2
    assert "--overwrite_output_dir" in capsys.readouterr().err
    assert (out / "keep.txt").read_text() == "user data"


def test_bad_input_is_one_clear_line(tiny_bert_dir, tmp_path, capsys):
    (tmp_path / "train.jsonl").write_text(
        '{"id": "1", "sentence": "The food was great.", "aspect": "food", "from": 4, "to": 8, "polarity": "tasty"}\n')
    code = main(["train", "--model", str(tiny_bert_dir), "--train_file", str(tmp_path / "train.jsonl"),
                 "--output_dir", str(tmp_path / "out"), "--do_train"])
    assert code == 2
    err = capsys.readouterr().err
    assert "train.jsonl" in err and "tasty" in err and "Traceback" not in err
    code = main(["train", "--model", str(tiny_bert_dir), "--data_dir", str(tmp_path / "missing"),
                 "--output_dir", str(tmp_path / "out"), "--do_train"])
    assert code == 2 and "missing" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_paper_command_verbatim_with_2019_layout(tiny_bert_dir, tmp_path):
    """The 2019 run_glue.py command (steps cut), on train.xml/dev.xml/test.xml, with --fp16 on a CPU."""
    data = tmp_path / "xml"
    data.mkdir()
    shutil.copy(SEMEVAL / "Laptops_Test_Gold.xml", data / "train.xml")
    shutil.copy(SEMEVAL / "Restaurants_Test_Gold.xml", data / "dev.xml")
    shutil.copy(SEMEVAL / "Restaurants_Test_Gold.xml", data / "test.xml")
    out = tmp_path / "out"
    cmd = [sys.executable, str(REPO / "compat" / "run_glue.py"), "--model_type", "bert", "--model_name_or_path",
           str(tiny_bert_dir), "--do_train", "--evaluate_during_training", "--do_eval", "--logging_steps", "2",
           "--save_steps", "2", "--task_name=semeval2014-atsc", "--seed", "42", "--do_lower_case",
           f"--data_dir={data}", f"--output_dir={out}", "--max_seq_length=128", "--learning_rate", "3e-5",
           "--per_gpu_eval_batch_size=32", "--per_gpu_train_batch_size=32", "--gradient_accumulation_steps=1",
           "--max_steps=4", "--overwrite_output_dir", "--overwrite_cache", "--warmup_steps=1", "--fp16",
           "--eval_all_checkpoints"]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "full precision" in proc.stderr
    results = json.loads((out / "eval_results.json").read_text())
    assert results["precision"] == "fp32" and results["task_name"] == "semeval2014-atsc"
    assert results["num_examples"]["train"] == 638  # laptops test without conflict; no sentence shared with dev
    assert sorted(results["all_checkpoints"]) == ["checkpoint-2", "checkpoint-4"]
    assert (out / "checkpoint-4" / "config.json").is_file()


def test_torchrun_two_processes_on_cpu(tiny_bert_dir, data_dir, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    out = tmp_path / "ddp"
    cmd = [str(torchrun), "--nproc_per_node", "2", "--master_port", "29533", str(REPO / "compat" / "run_glue.py"),
           "--model_name_or_path", str(tiny_bert_dir), "--data_dir", str(data_dir), "--output_dir", str(out),
           "--do_train", "--do_eval", "--evaluate_during_training", "--no_cuda", *FAST]
    proc = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((out / "eval_results.json").read_text())
    assert results["world_size"] == 2 and results["last_step"] == 6
    assert results["test"]["best"]["num_examples"] > 0


def test_predictor_on_several_aspects_and_sentences(trained):
    from ada_atsc import Predictor

    predictor = Predictor(trained)
    one = predictor.predict("The food was great but the service was slow.", aspects=["food", "service", (4, 8)])
    assert [(r["aspect"], r["from"], r["to"]) for r in one] == [("food", 4, 8), ("service", 27, 34), ("food", 4, 8)]
    assert one[0]["probabilities"] == one[2]["probabilities"]
    assert all(r["label"] in ("positive", "negative", "neutral") for r in one)
    assert all(abs(sum(r["probabilities"].values()) - 1) < 1e-4 for r in one)
    batch = predictor.predict(["The food was great but the service was slow.", "the pizza was cold"],
                              aspects=[["food", "service", "wine"], ["pizza"]])
    assert "not in the sentence" in batch[0][2]["error"] and "label" not in batch[0][2]
    # batched (padded with a longer/shorter neighbour) gives the same probabilities as one at a time
    for got, alone in zip(batch[0][:2], one[:2]):
        for label, p in got["probabilities"].items():
            assert p == pytest.approx(alone["probabilities"][label], abs=1e-5)
    assert batch[1][0]["aspect"] == "pizza"


def test_predict_cli_reads_jsonl_and_keeps_going_on_bad_records(trained, tmp_path):
    requests = tmp_path / "in.jsonl"
    requests.write_text("\n".join([
        json.dumps({"id": "a", "sentence": "The staff was rude.", "aspect": "staff"}),
        json.dumps({"id": "b", "sentence": "The staff was rude.", "aspect": "wine"}),
        json.dumps({"id": "c", "sentence": "Great sushi.", "from": 6, "to": 11}),
        "not json",
        json.dumps({"id": "e", "sentence": "Nice place.", "from": 5, "to": 40}),
    ]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(trained), "--input", str(requests), "--output", str(out)]) == 0
    records = _jsonl(out)
    assert [r.get("id") for r in records] == ["a", "b", "c", None, "e"]
    assert records[0]["label"] and records[2]["aspect"] == "sushi"
    assert "error" in records[1] and "error" in records[3] and "outside" in records[4]["error"]


def test_experiment_grid_is_resumable(tiny_bert_dir, data_dir, tmp_path):
    out = tmp_path / "grid"
    config = tmp_path / "exp.yaml"
    config.write_text(
        f"output_dir: {out}\nseeds: [1, 2]\nmodels: {{tiny: {tiny_bert_dir}}}\ndatasets: {{rest: {data_dir}}}\n"
        "train: {max_steps: 2, logging_steps: 1, per_gpu_train_batch_size: 8, disable_tqdm: true}\n")
    assert main(["experiment", "--config", str(config)]) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert len(rows) == 1 and rows[0]["n_seeds"] == 2
    md = (out / "results.md").read_text()
    assert f"| tiny | rest | rest | in-domain | 2 | {rows[0]['accuracy_mean']:.2f} ± {rows[0]['accuracy_std']:.2f} |" in md
    assert (out / "scores.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "results.csv").read_text().startswith("model,train,test")
    kept = out / "runs" / "tiny__rest__seed1" / "eval_results.json"
    stamp = kept.stat().st_mtime_ns
    shutil.rmtree(out / "runs" / "tiny__rest__seed2")  # as if interrupted
    assert main(["experiment", "--config", str(config)]) == 0
    assert kept.stat().st_mtime_ns == stamp
    assert (out / "runs" / "tiny__rest__seed2" / "eval_results.json").is_file()
    assert json.loads((out / "results.json").read_text())["rows"] == rows


def test_predict_guards_output_aspects_and_device(trained, tmp_path, capsys):
    requests = tmp_path / "in.jsonl"
    requests.write_text(json.dumps({"sentence": "Great pizza here.", "aspects": "pizza"}) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text("keep me\n")
    base = ["predict", "--model", str(trained), "--input", str(requests), "--output", str(out)]
    assert main(base) == 2 and out.read_text() == "keep me\n"  # an existing output is not replaced
    assert "exists already" in capsys.readouterr().err
    assert main([*base, "--overwrite_output_dir"]) == 0
    (record,) = _jsonl(out)  # a string is one aspect, not one per character
    assert (record["aspect"], record["from"], record["to"]) == ("pizza", 6, 11)
    capsys.readouterr()  # the --input run's progress bar
    import torch

    cases = [(["--device", "foo"], "not a device"), (["--batch_size", "0"], "--batch_size must be at least 1")]
    if not torch.cuda.is_available():
        cases.append((["--device", "cuda:7"], "no CUDA GPU"))
    for flags, message in cases:
        assert main(["predict", "--model", str(trained), "--text", "Good food.", "--aspect", "food", *flags]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err
