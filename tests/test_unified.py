"""The unified tagger: tags, collapsed decoding by hand, training, and the commands that take it as --model."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from ada_atsc.absa.unified import decode_unified, unified_word_tags
from ada_atsc.absa.unified_training import gold_pairs
from ada_atsc.cli import main
from ada_atsc.core.labels import UNIFIED_TAGS
from ada_atsc.data.records import AspectSpan, SentenceRecord
from tests.conftest import FAST

TAG = {t: i for i, t in enumerate(UNIFIED_TAGS)}


def onehot(*tags: str, p: float = 0.9) -> np.ndarray:
    rows = np.full((len(tags), len(UNIFIED_TAGS)), (1 - p) / (len(UNIFIED_TAGS) - 1))
    for i, tag in enumerate(tags):
        rows[i, TAG[tag]] = p
    return rows


def test_word_tags_carry_each_aspects_polarity():
    record = SentenceRecord("1", "Great wine list but rude staff", (
        AspectSpan("wine list", 6, 15, "positive"), AspectSpan("staff", 25, 30, "conflict")))
    words = [(0, 5), (6, 10), (11, 15), (16, 19), (20, 24), (25, 30)]
    tags = unified_word_tags(words, record)
    assert [UNIFIED_TAGS[t] for t in tags] == ["O", "B-positive", "I-positive", "O", "O", "B-conflict"]
    assert gold_pairs(tags) == {((1, 3), "positive"), ((5, 6), "conflict")}
    assert gold_pairs([TAG["I-negative"], TAG["I-negative"], 0]) == {((0, 2), "negative")}  # an I opens a span


def test_collapsed_decoding_keeps_a_span_whole_and_sums_polarity_mass():
    words = [(0, 3), (4, 9), (10, 14), (15, 18)]
    # "hot dog" leans positive on its first word and negative on its second: one span, the larger mass wins
    probs = np.vstack([onehot("O"), onehot("B-positive", p=0.5), onehot("I-negative", p=0.6), onehot("O")])
    probs[1, TAG["B-negative"]] = 0.3  # B mass of word 1: 0.8 in all; its negative share 0.3
    probs[1] /= probs[1].sum()
    [(start, end, score, label, probabilities)] = decode_unified(words, probs)
    assert (start, end) == (4, 14)  # not cut in two by the change of polarity
    assert label == max(probabilities, key=probabilities.get) == "negative"
    assert set(probabilities) == {"positive", "negative", "neutral"}  # conflict is never an output
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert 0 < score <= 1
    # conflict mass makes a span but not a label
    [(_, _, _, label, _)] = decode_unified(words[:1], onehot("B-conflict", p=0.5) + onehot("B-neutral", p=0.2))
    assert label == "neutral"
    assert decode_unified([], np.zeros((0, len(UNIFIED_TAGS)))) == []


def test_training_writes_a_model_that_says_what_it_is(unified_dir):
    from transformers import AutoModelForTokenClassification

    from ada_atsc.runtime.model_dir import model_kind

    assert model_kind(unified_dir) == "unified"
    model = AutoModelForTokenClassification.from_pretrained(unified_dir)
    assert tuple(model.config.id2label[i] for i in range(len(UNIFIED_TAGS))) == UNIFIED_TAGS
    results = json.loads((unified_dir / "eval_results.json").read_text())
    best = results["test"]["best"]
    assert {"f1", "ate_f1", "atsc_accuracy_on_extracted"} <= set(best) and best["f1"] <= best["ate_f1"] + 1e-9


def test_absa_and_evaluate_take_the_tagger_as_model(unified_dir, sentence_dir, tmp_path, capsys):
    import torch

    from ada_atsc.absa.pipeline import AbsaPipeline

    pipeline = AbsaPipeline(unified_dir)
    with torch.no_grad():  # every word begins a negative aspect
        bias = torch.zeros(len(UNIFIED_TAGS))
        bias[TAG["B-negative"]] = 100.0
        pipeline.unified.model.classifier.bias.copy_(bias)
    text = "  The food was great.\n\nBut the  service was slow!"
    timings: dict = {}
    [result] = pipeline.predict([text], timings=timings)
    assert [a["term"] for a in result["aspects"]] == ["The", "food", "was", "great", ".", "But", "the", "service",
                                                      "was", "slow", "!"]
    assert all(text[a["from"]:a["to"]] == a["term"] and a["label"] == "negative" for a in result["aspects"])
    assert list(result["aspects"][0]) == ["term", "from", "to", "label", "probabilities", "score"]
    assert set(timings) == {"tagging"}

    capsys.readouterr()
    assert main(["evaluate", "--model", str(unified_dir), "--data", str(sentence_dir / "test.sentences.jsonl"),
                 "--output_dir", str(tmp_path / "scores")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    trained = json.loads((unified_dir / "eval_results.json").read_text())["test"]["best"]
    assert line["joint_f1"] == pytest.approx(trained["f1"], abs=1e-4)  # the command scores as training did
    assert line["ate_f1"] == pytest.approx(trained["ate_f1"], abs=1e-4)

    source = tmp_path / "reviews.txt"
    source.write_text("The food was great. The service was slow!\n\nNice wine list.\n")
    out = tmp_path / "absa.jsonl"
    assert main(["absa", "--model", str(unified_dir), "--input", str(source), "--output", str(out),
                 "--disable_tqdm"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 3] and all("aspects" in r for r in records)


def test_wrong_data_and_wrong_models_are_one_line(unified_dir, classifier_dir, tiny_bert_dir, tmp_path, capsys):
    from ada_atsc.absa.unified import load_unified
    from ada_atsc.core.errors import AdaError

    with pytest.raises(AdaError, match="an ATSC classifier"):
        load_unified(str(classifier_dir))
    unlabelled = tmp_path / "train.sentences.jsonl"
    unlabelled.write_text(json.dumps({"id": "1", "sentence": "Nice food.", "aspects": [
        {"term": "food", "from": 5, "to": 9}]}) + "\n")
    assert main(["train", "--task", "unified", "--model", str(tiny_bert_dir), "--train_file", str(unlabelled),
                 "--output_dir", str(tmp_path / "out"), "--do_train", *FAST]) == 2
    assert "has no polarity" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_export_runs_the_tagger_in_onnx_runtime(unified_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from ada_atsc.absa.pipeline import AbsaPipeline

    assert main(["export", "--model", str(unified_dir), "--output", str(tmp_path / "onnx")]) == 0
    manifest = json.loads((tmp_path / "onnx" / "ada_atsc_export.json").read_text())
    assert manifest["kind"] == "unified"
    texts = ["The food was great but the service was slow.", "Nice wine list."]
    torch_out = AbsaPipeline(unified_dir).predict(texts)
    onnx_out = AbsaPipeline(tmp_path / "onnx").predict(texts)
    for a, b in zip(torch_out, onnx_out):
        assert [(x["from"], x["to"], x["label"]) for x in a["aspects"]] == [(x["from"], x["to"], x["label"])
                                                                            for x in b["aspects"]]


def test_server_answers_absa_from_the_tagger_alone(unified_dir):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from ada_atsc.commands.arguments import pipeline_models
    from ada_atsc.serve import create_app

    class Args:
        model, extractor, classifier = str(unified_dir), None, None

    extractor, classifier = pipeline_models(Args)
    assert (extractor, classifier) == (str(unified_dir), None)
    with TestClient(create_app(classifier, extractor)) as client:
        answer = client.post("/v1/absa", json={"texts": ["The food was great.", "Slow service."]})
        assert answer.status_code == 200 and len(answer.json()["results"]) == 2
        refused = client.post("/v1/atsc", json={"items": [{"text": "The food was great.", "aspect": "food"}]})
        assert refused.status_code == 404 and "unified tagger" in refused.json()["error"]
        info = client.get("/v1/model").json()
        assert info["unified"] is True and info["labels"] == ["positive", "negative", "neutral"]


def test_the_tagger_travels_with_a_model_card(unified_dir):
    card = (unified_dir / "README.md").read_text()
    results = json.loads((unified_dir / "eval_results.json").read_text())
    assert "teacher: none" in card and f"best-dev step {results['best_step']}" in card
    assert f"joint F1 {100 * results['test']['best']['f1']:.2f}" in card


def test_server_workers_get_the_tagger_alone(unified_dir, monkeypatch):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from ada_atsc.serve import ServeLimits
    from ada_atsc.serve.app import SETTINGS_VARIABLE, app_from_environment, settings_to_environment

    monkeypatch.delenv(SETTINGS_VARIABLE, raising=False)
    settings_to_environment(None, unified_dir, ServeLimits(), 2)  # what 'serve --model UNIFIED --workers 2' hands on
    assert json.loads(os.environ[SETTINGS_VARIABLE])["classifier"] is None
    with TestClient(app_from_environment()) as client:
        assert client.post("/v1/absa", json={"texts": ["Nice food."]}).status_code == 200


def test_report_runs_on_the_tagger_alone(unified_dir, tmp_path, capsys):
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("The food was great but the waiter was rude.\nNice wine list. Slow service.\n")
    assert main(["report", "--model", str(unified_dir), "--input", str(reviews), "--output_dir",
                 str(tmp_path / "report"), "--no_embedding_grouping", "--no_progress"]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["settings"]["classifier"] is None and summary["settings"]["extractor"] == str(unified_dir)
    assert (tmp_path / "report" / "report.html").is_file()
