"""Aspect categories: the readers, prepare-semeval's category files, the scores by hand, and train / evaluate /
predict / absa with a category model (tiny models: plumbing, not scores; the scores are in docs/categories.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ada_atsc.acsa.metrics import category_metrics, tune_detection_threshold
from ada_atsc.acsa.schema import CategorySchema, auxiliary_text
from ada_atsc.cli import main as cli_main
from ada_atsc.core.errors import AdaError
from ada_atsc.data.category_readers import read_category_sentences
from ada_atsc.runtime.model_dir import model_kind

from .conftest import DATA, SEMEVAL


def test_readers_give_the_published_category_counts():
    train = read_category_sentences(SEMEVAL / "Restaurants_Train_v2.xml")
    test = read_category_sentences(SEMEVAL / "Restaurants_Test_Gold.xml")
    assert (len(train), sum(len(s.categories) for s in train)) == (3041, 3711)
    assert (len(test), sum(len(s.categories) for s in test)) == (800, 1025)  # Sun et al. 2019 score these 1025
    mams = read_category_sentences(DATA / "mams_acsa" / "test.xml")
    assert (len(mams), sum(len(s.categories) for s in mams)) == (400, 901)
    assert CategorySchema.from_data(mams).categories == ("ambience", "food", "menu", "miscellaneous", "place",
                                                         "price", "service", "staff")
    assert CategorySchema.from_data(train).labels == ("none", "positive", "negative", "neutral", "conflict")


def test_reader_errors_are_one_line(tmp_path):
    with pytest.raises(AdaError, match="Laptops_Test_Gold.xml: no aspect categories"):
        read_category_sentences(SEMEVAL / "Laptops_Test_Gold.xml")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"sentence": "ok", "categories": [{"category": "food", "polarity": "great"}]}\n')
    with pytest.raises(AdaError, match=r"bad.jsonl:1: unknown polarity 'great'"):
        read_category_sentences(bad)
    bad.write_text('{"sentence": "ok", "categories": "food"}\n')
    with pytest.raises(AdaError, match="bad.jsonl:1: 'categories' must be a list"):
        read_category_sentences(bad)


def test_same_category_twice_with_two_polarities_is_conflict(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "s1", "sentence": "Great pasta, awful pizza.", "categories": [
        {"category": "food", "polarity": "positive"}, {"category": "food", "polarity": "negative"}]}) + "\n")
    (sentence,) = read_category_sentences(path)
    assert [c.to_record() for c in sentence.categories] == [{"category": "food", "polarity": "conflict"}]


def test_auxiliary_text():
    assert auxiliary_text("anecdotes/miscellaneous") == "anecdotes miscellaneous"
    assert auxiliary_text("FOOD#QUALITY") == "food quality"


def test_metrics_by_hand():
    schema = CategorySchema(("food", "price"), ("positive", "negative"))  # classes: none, positive, negative
    gold = np.array([[1, 0], [2, 2]])  # s1: food+ ; s2: food-, price-
    probs = np.array([
        [[0.1, 0.8, 0.1], [0.2, 0.1, 0.7]],  # food: positive (right); price: detected negative (false positive)
        [[0.6, 0.1, 0.3], [0.1, 0.2, 0.7]],  # food: missed, but among polarities negative (right); price: right
    ])
    m = category_metrics(gold, probs, schema)
    # detected: (s1 food), (s1 price), (s2 price) = 3; gold: 3; hits: (s1 food), (s2 price) = 2
    assert m["category_detection_precision"] == pytest.approx(2 / 3)
    assert m["category_detection_recall"] == pytest.approx(2 / 3)
    assert m["category_detection_f1"] == pytest.approx(2 / 3)
    assert m["category_polarity_accuracy"] == pytest.approx(1.0)  # gold categories, none left out: 3 of 3
    assert m["polarity_accuracy_on_detected"] == pytest.approx(1.0)  # both hits carry the right label
    assert m["category_polarity_f1"] == pytest.approx(2 / 3)
    assert m["per_category"]["price"]["support"] == 1


def test_detection_threshold_decides_and_is_tuned_by_hand():
    schema = CategorySchema(("food", "price"), ("positive", "negative"))
    # P(none) 0.4 beats each polarity (0.3, 0.3): the arg-max calls it absent, a 0.5 threshold finds it
    probs = np.array([[[0.4, 0.3, 0.3], [0.9, 0.05, 0.05]]])
    assert schema.decide(probs).tolist() == [[0, 0]]
    tuned = CategorySchema(("food", "price"), ("positive", "negative"), detection_threshold=0.5)
    assert tuned.decide(probs).tolist() == [[1, 0]]  # found; label: the first of the tied polarities
    assert CategorySchema.from_config(type("C", (), {"ada_atsc_categories": tuned.to_config()})()) == tuned
    # gold: food mentioned in both sentences; mentioned probabilities 0.6 / 0.35 (food), 0.3 / 0.1 (price)
    gold = np.array([[1, 0], [2, 0]])
    probs = np.array([[[0.4, 0.5, 0.1], [0.7, 0.2, 0.1]], [[0.65, 0.05, 0.3], [0.9, 0.05, 0.05]]])
    result = tune_detection_threshold(gold, probs, schema)
    # any threshold in (0.30, 0.35] finds both foods and no price: F1 1.0; the nearest to 0.5 in the grid is 0.35
    assert result["detection_threshold"] == pytest.approx(0.35) and result["dev_detection_f1"] == pytest.approx(1.0)
    assert result["dev_detection_f1_argmax"] == pytest.approx(2 / 3)  # the arg-max finds the first food only
    with_threshold = CategorySchema(("food", "price"), ("positive", "negative"), detection_threshold=0.35)
    assert category_metrics(gold, probs, with_threshold)["category_detection_f1"] == pytest.approx(1.0)


def test_prepare_semeval_writes_category_files(sentence_dir):
    stats = json.loads((sentence_dir / "stats.json").read_text())
    assert stats["category_files"]["train"]["categories"] == 3711
    assert stats["category_files"]["test"]["categories"] == 1025
    dev = {json.loads(line)["sentence"] for line in (sentence_dir / "dev.sentences.jsonl").read_text().splitlines()}
    assert dev  # the category dev split uses the sentence files' dev sentences (checked on the full files below)


def test_category_only_source_gives_category_files(tmp_path):
    out = tmp_path / "mams"
    assert cli_main(["prepare-semeval", "--files", str(DATA / "mams_acsa" / "val.xml"), "--istrain",
                     "--output_dir", str(out)]) == 0
    train = (out / "train.categories.jsonl").read_text().splitlines()
    dev = (out / "dev.categories.jsonl").read_text().splitlines()
    split = (out / "train_split.categories.jsonl").read_text().splitlines()
    assert len(train) == 400 and len(dev) == 40 and len(split) == 360
    assert not (out / "train.jsonl").exists()


def test_train_evaluate_predict_with_a_category_model(category_model_dir, sentence_dir, capsys):
    assert model_kind(category_model_dir) == "acsa"
    results = json.loads((category_model_dir / "eval_results.json").read_text())
    assert results["task"] == "acsa" and results["selection"] == "best dev acsa_score"
    for key in ("category_detection_precision", "category_detection_recall", "category_detection_f1",
                "category_polarity_accuracy", "polarity_accuracy_on_detected"):
        assert 0.0 <= results["test"]["best"][key] <= 1.0
    config = json.loads((category_model_dir / "config.json").read_text())
    assert "detection_threshold" not in config["ada_atsc_categories"]  # training keeps the arg-max rule
    assert config["ada_atsc_categories"]["categories"] == ["ambience", "anecdotes/miscellaneous", "food", "price",
                                                          "service"]
    capsys.readouterr()
    assert cli_main(["evaluate", "--model", str(category_model_dir), "--data",
                     str(sentence_dir / "test.categories.jsonl")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["task"] == "acsa" and line["sentences"] == 60
    assert "category_detection_f1" in line and "category_polarity_accuracy" in line
    assert cli_main(["predict", "--model", str(category_model_dir), "--text", "It was way overpriced."]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    assert record["text"] == "It was way overpriced." and isinstance(record["categories"], list)
    for found in record["categories"]:
        assert found["category"] in config["ada_atsc_categories"]["categories"]
        assert found["label"] != "none" and abs(sum(found["probabilities"].values()) - 1) < 1e-3


def test_category_model_refuses_an_aspect_and_wrong_roles(category_model_dir, classifier_dir, extractor_dir, capsys):
    assert cli_main(["predict", "--model", str(category_model_dir), "--text", "Nice.", "--aspect", "x"]) == 2
    assert "finds the categories itself" in capsys.readouterr().err
    assert cli_main(["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir),
                     "--categories", str(classifier_dir), "--text", "Nice food."]) == 2
    assert "is not an aspect-category model" in capsys.readouterr().err


def test_absa_with_categories_places_them_on_sentences(category_model_dir, classifier_dir, extractor_dir, capsys):
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.acsa.predict import CategoryClassifier

    text = "The pasta was cold. It was way overpriced."
    assert cli_main(["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir),
                     "--categories", str(category_model_dir), "--text", text]) == 0
    record = json.loads(capsys.readouterr().out.strip())
    assert set(record) >= {"aspects", "categories"}
    direct = AbsaPipeline(extractor_dir, classifier_dir, categories_dir=category_model_dir).predict([text])[0]
    assert record["categories"] == direct["categories"]
    expected = CategoryClassifier(str(category_model_dir)).categorise(["The pasta was cold.", "It was way overpriced."])
    flat = [(c["category"], c["label"], c["from"], c["to"]) for c in record["categories"]]
    want = [(c["category"], c["label"], a, b) for found, (a, b) in zip(expected, [(0, 19), (20, 42)]) for c in found]
    assert flat == want


def test_a_category_model_can_start_from_an_aspect_sentiment_classifier(classifier_dir, sentence_dir, tmp_path):
    """The intermediate-task start of docs/categories.md: the ATSC classifier's encoder is kept, its 3-class head
    replaced by the 5-class category head, and its input layout (aspect markers) not inherited."""
    from safetensors.numpy import load_file

    from .conftest import FAST

    out = tmp_path / "from_atsc"
    assert cli_main(["train", "--task", "acsa", "--model", str(classifier_dir), "--data_dir", str(sentence_dir),
                     "--output_dir", str(out), "--do_train", "--evaluate_during_training", *FAST]) == 0
    config = json.loads((out / "config.json").read_text())
    assert model_kind(out) == "acsa" and len(config["id2label"]) == 5
    assert not [k for k in config if k.startswith("ada_atsc_") and k not in ("ada_atsc_task", "ada_atsc_categories")]
    start, trained = load_file(str(classifier_dir / "model.safetensors")), load_file(str(out / "model.safetensors"))
    head = [k for k in trained if k.startswith("classifier.") and k.endswith("weight")][0]
    assert start[head].shape[0] == 3 and trained[head].shape[0] == 5
    embeddings = "bert.embeddings.word_embeddings.weight"
    assert trained[embeddings].shape == start[embeddings].shape  # the classifier's vocabulary (its marker tokens)


def test_without_dev_selection_a_category_model_trains_on_the_whole_training_set(tiny_bert_dir, sentence_dir,
                                                                                 tmp_path):
    """The SemEval final protocol of docs/categories.md: no --evaluate_during_training → train.categories.jsonl
    (dev sentences included), the last step kept, no dev scores."""
    from .conftest import FAST

    data = tmp_path / "data"
    data.mkdir()
    for name, lines in (("train", 80), ("train_split", 70), ("dev", 10), ("test", 20)):
        source = (sentence_dir / f"{name}.categories.jsonl").read_text().splitlines(keepends=True)
        (data / f"{name}.categories.jsonl").write_text("".join(source[:lines]))
    out = tmp_path / "whole"
    assert cli_main(["train", "--task", "acsa", "--model", str(tiny_bert_dir), "--data_dir", str(data),
                     "--output_dir", str(out), "--do_train", "--do_eval", *FAST]) == 0
    results = json.loads((out / "eval_results.json").read_text())
    assert results["data"]["train"].endswith("/train.categories.jsonl") and "dev" not in results["data"]
    assert results["num_examples"]["train"] == 80
    assert results["best_step"] == results["last_step"]
    assert 0.0 <= results["test"]["last"]["category_detection_f1"] <= 1.0
