"""ONNX export: parity with PyTorch for both model kinds, the same interface, and clear errors for bad exports."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ada_atsc.core.errors import AdaError
from ada_atsc.data import read_dataset

from .conftest import SEMEVAL

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def rest_pairs():
    return [e for e in read_dataset(SEMEVAL / "Restaurants_Test_Gold.xml") if e.polarity != "conflict"]


@pytest.fixture(scope="module")
def exported(classifier_dir, extractor_dir, tmp_path_factory):
    from ada_atsc.export import ExportOptions, export_model

    root = tmp_path_factory.mktemp("exports")
    return {
        "classifier": export_model(classifier_dir, root / "clf-fp32") and root / "clf-fp32",
        "classifier_int8": export_model(classifier_dir, root / "clf-int8", ExportOptions(quantize="int8"))
        and root / "clf-int8",
        "extractor": export_model(extractor_dir, root / "ate-fp32") and root / "ate-fp32",
    }


def test_fp32_classifier_logits_match_pytorch_on_the_restaurants_test_pairs(classifier_dir, exported, rest_pairs):
    from ada_atsc.atsc.inference import load_classifier, predict_proba

    sentences = [e.sentence for e in rest_pairs]
    aspects = [e.aspect for e in rest_pairs]
    spans = [(e.start, e.end) for e in rest_pairs]
    torch_model, tokenizer, _ = load_classifier(str(classifier_dir), device="cpu")
    onnx_model, onnx_tokenizer, device = load_classifier(str(exported["classifier"]))
    assert type(onnx_model).__name__ == "OnnxModel" and str(device) == "cpu"
    expected = predict_proba(torch_model, tokenizer, sentences, aspects, spans=spans)
    got = predict_proba(onnx_model, onnx_tokenizer, sentences, aspects, spans=spans)
    assert got.shape == (1120, 3)
    assert np.abs(got - expected).max() < 1e-4
    # the logits themselves, not only probabilities: one batch straight through both models
    import torch

    from ada_atsc.atsc.features import InputFormat, PairCollator, encode_pairs

    features = encode_pairs(tokenizer, sentences[:64], aspects[:64], 128, spans=spans[:64],
                            input_format=InputFormat.from_config(torch_model.config))
    batch = PairCollator(tokenizer.pad_token_id)(features)
    batch.pop("labels", None)
    with torch.inference_mode():
        diff = (onnx_model(**batch).logits - torch_model(**batch).logits).abs().max().item()
    assert diff < 1e-4


def test_fp32_extractor_gives_the_pytorch_spans(extractor_dir, exported, sentence_dir):
    from ada_atsc.ate.extractor import Extractor

    texts = [json.loads(line)["sentence"] for line in (sentence_dir / "test.sentences.jsonl").read_text().splitlines()]
    texts.append("The food was great. " * 40)  # a text longer than one window
    plain, onnx = Extractor(extractor_dir, device="cpu"), Extractor(exported["extractor"])
    expected, got = plain.extract(texts), onnx.extract(texts)
    assert [[(a["from"], a["to"]) for a in spans] for spans in got] == \
        [[(a["from"], a["to"]) for a in spans] for spans in expected]
    scores = [(a["score"], b["score"]) for x, y in zip(got, expected) for a, b in zip(x, y)]
    assert all(abs(a - b) < 1e-4 for a, b in scores)


def test_int8_export_is_smaller_and_records_how_it_was_made(classifier_dir, exported):
    manifest = json.loads((exported["classifier_int8"] / "ada_atsc_export.json").read_text())
    assert manifest["quantization"] == "int8" and manifest["kind"] == "atsc" and manifest["opset"] == 17
    assert manifest["source_fingerprint"].startswith("sha256:") and manifest["tokenizer_fingerprint"].startswith("sha256:")
    fp32 = (exported["classifier"] / "model.onnx").stat().st_size
    assert (exported["classifier_int8"] / "model.onnx").stat().st_size < 0.6 * fp32
    assert not (exported["classifier_int8"] / "model.fp32.onnx").exists()


def test_predictor_and_pipeline_take_an_export(exported):
    from ada_atsc import AbsaPipeline, Predictor

    got = Predictor(exported["classifier"]).predict("The food was great but the service was slow.",
                                                    aspects=["food", "service"])
    assert [r["aspect"] for r in got] == ["food", "service"] and all(r["label"] for r in got)
    results = AbsaPipeline(exported["extractor"], exported["classifier_int8"]).predict(
        ["The food was great. The service was slow!", ""])
    assert "aspects" in results[0] and "error" in results[1]
    for aspect in results[0]["aspects"]:
        assert "The food was great. The service was slow!"[aspect["from"]:aspect["to"]] == aspect["term"]


def test_bad_exports_fail_with_one_clear_line(exported, classifier_dir, tmp_path):
    from ada_atsc.export import ExportOptions, export_model
    from ada_atsc.runtime.onnx import OnnxModel

    with pytest.raises(AdaError, match="not an ONNX export"):
        OnnxModel(classifier_dir)
    truncated = tmp_path / "truncated"
    shutil.copytree(exported["classifier"], truncated)
    data = (truncated / "model.onnx").read_bytes()
    (truncated / "model.onnx").write_bytes(data[: len(data) // 3])
    with pytest.raises(AdaError, match="cannot load the ONNX graph"):
        OnnxModel(truncated)
    other_tokenizer = tmp_path / "other_tokenizer"
    shutil.copytree(exported["classifier"], other_tokenizer)
    tokenizer = json.loads((other_tokenizer / "tokenizer.json").read_text())
    tokenizer["model"]["vocab"]["zzzextra"] = len(tokenizer["model"]["vocab"])
    (other_tokenizer / "tokenizer.json").write_text(json.dumps(tokenizer))
    with pytest.raises(AdaError, match="does not match"):
        OnnxModel(other_tokenizer)
    with pytest.raises(AdaError, match="is an export already"):
        export_model(exported["classifier"], tmp_path / "again")
    with pytest.raises(AdaError, match="exists"):
        export_model(classifier_dir, exported["classifier"])
    with pytest.raises(AdaError, match="--quantize"):
        ExportOptions(quantize="int4")


def test_export_command_writes_a_directory_that_predict_uses(classifier_dir, tmp_path, capsys):
    from ada_atsc.cli import main

    out = tmp_path / "clf-onnx"
    assert main(["export", "--model", str(classifier_dir), "--output", str(out), "--quantize", "int8"]) == 0
    assert json.loads(capsys.readouterr().out.strip())["quantization"] == "int8"
    assert main(["export", "--model", str(classifier_dir), "--output", str(out)]) == 2  # exists: refused
    assert "exists" in capsys.readouterr().err
    assert main(["predict", "--model", str(out), "--text", "The food was great.", "--aspect", "food"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["aspect"] == "food"


@pytest.mark.slow
def test_int8_minilm_stays_within_the_accuracy_budget_of_pytorch(tmp_path):
    """MiniLM classifier (150 steps) and extractor (300 steps), exported int8: restaurants test accuracy within
    0.5 points and macro-F1 within 1.0 of PyTorch; extraction span F1 within 1.0. About 6 minutes on 2 cores."""
    from ada_atsc.ate.evaluate import evaluate_extractor
    from ada_atsc.ate.training import load_sentence_file
    from ada_atsc.atsc.evaluate import evaluate_model
    from ada_atsc.cli import main
    from ada_atsc.export import ExportOptions, export_model
    from ada_atsc.runtime.models import packaged_minilm_path

    data = tmp_path / "rest"
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Train_v2.xml"), "--output_dir", str(data),
                 "--istrain", "--noconfl"]) == 0
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Test_Gold.xml"), "--output_dir", str(data),
                 "--noconfl"]) == 0
    for task, steps in (("atsc", 150), ("ate", 300)):
        out = tmp_path / ("clf" if task == "atsc" else "ate")
        assert main(["train", "--task", task, "--model", packaged_minilm_path(), "--data_dir", str(data),
                     "--output_dir", str(out), "--do_train", "--learning_rate", "5e-5", "--max_steps", str(steps),
                     "--warmup_steps", str(steps // 10), "--logging_steps", str(steps), "--seed", "1",
                     "--no_progress"]) == 0
        export_model(out, tmp_path / f"{task}-int8", ExportOptions(quantize="int8"))
    pairs = [e for e in read_dataset(data / "test.jsonl")]
    reference, quantised = evaluate_model(tmp_path / "clf", pairs), evaluate_model(tmp_path / "atsc-int8", pairs)
    assert abs(quantised["accuracy"] - reference["accuracy"]) <= 0.005
    assert abs(quantised["macro_f1"] - reference["macro_f1"]) <= 0.010
    sentences = load_sentence_file(data / "test.sentences.jsonl")
    spans, _ = evaluate_extractor(tmp_path / "ate", sentences)
    spans_int8, _ = evaluate_extractor(tmp_path / "ate-int8", sentences)
    assert abs(spans_int8["f1"] - spans["f1"]) <= 0.010


def test_a_worker_running_exports_never_loads_pytorch(exported):
    """Bulk-scoring workers whose models are all exports run on numpy: no PyTorch (~200 MB) in the process,
    their sessions run without ONNX Runtime's memory arena (which kept the largest batch ever seen: RSS grew over
    long runs), and they give the same aspects as the PyTorch-loaded process."""
    import subprocess
    import sys

    from ada_atsc import AbsaPipeline

    from .conftest import src_env

    texts = ["The food was great. The service was slow!", "Battery life is short but the screen is bright."]
    script = (
        "import json, sys\n"
        "import onnxruntime as ort\n"
        "arenas = []\n"
        "class Recording(ort.InferenceSession):\n"
        "    def __init__(self, path, options, **kwargs):\n"
        "        arenas.append(options.enable_cpu_mem_arena)\n"
        "        super().__init__(path, options, **kwargs)\n"
        "ort.InferenceSession = Recording\n"
        "from ada_atsc.bulk import AnalyserSpec\n"
        f"spec = AnalyserSpec('absa', ({str(exported['extractor'])!r}, {str(exported['classifier'])!r}))\n"
        f"aspects = spec.build(worker=True)({texts!r})\n"
        "print(json.dumps({'torch': sys.modules.get('torch') is not None, 'arenas': arenas, 'aspects': aspects}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], env=src_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["torch"] is False
    assert result["arenas"] == [False, False]  # the extractor's and the classifier's sessions
    expected = AbsaPipeline(exported["extractor"], exported["classifier"]).predict(texts)
    for got, want in zip(result["aspects"], expected):
        assert [(a["from"], a["to"], a["label"]) for a in got] == [(a["from"], a["to"], a["label"])
                                                                   for a in want["aspects"]]
        for a, b in zip(got, want["aspects"]):
            assert abs(a["probabilities"][a["label"]] - b["probabilities"][b["label"]]) < 1e-5


def test_models_of_a_long_run_open_their_sessions_without_the_memory_arena(exported):
    """ONNX Runtime's arena kept room for the largest batch ever seen (RSS grew over a 100,000-line run); the
    models of a long run skip it, and only those."""
    from ada_atsc.runtime.memory import for_long_run
    from ada_atsc.runtime.onnx import OnnxModel

    def arena(model: OnnxModel) -> bool:
        return model.session.get_session_options().enable_cpu_mem_arena

    assert arena(OnnxModel(exported["classifier"]))
    long_run = []
    for_long_run(lambda: long_run.append(OnnxModel(exported["classifier"])) or (lambda texts: []))
    assert not arena(long_run[0])
    assert arena(OnnxModel(exported["classifier"]))
