"""Aspect term extraction: tags and spans, features, training (tiny model), extractor, evaluate, extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ada_atsc.ate.features import encode_sentences, word_offsets
from ada_atsc.ate.spans import B, I, O, decode_spans, span_scores, word_tags
from ada_atsc.ate.training import load_sentence_file
from ada_atsc.cli import main

from .conftest import SEMEVAL


def test_tags_and_spans_round_trip():
    words = [(0, 3), (4, 8), (9, 13), (14, 17), (18, 22)]  # "The wine list was good"
    assert word_tags(words, [(4, 13)]) == [O, B, I, O, O]
    assert decode_spans(words, [O, B, I, O, O]) == [(4, 13, 1.0)]
    assert decode_spans(words, [I, O, B, B, I], [0.5, 1, 0.8, 0.6, 0.4]) == [(0, 3, 0.5), (9, 13, 0.8), (14, 22, 0.5)]
    scores = span_scores([{(4, 13)}, {(0, 3), (5, 9)}], [{(4, 13), (0, 3)}, {(0, 3)}])
    assert (scores["true_positives"], scores["gold_spans"], scores["predicted_spans"]) == (2, 3, 3)
    assert scores["f1"] == pytest.approx(2 / 3)


def test_first_subword_labels_decode_back_to_the_gold_spans(tiny_bert_dir):
    from ada_atsc.runtime.models import load_tokenizer

    tokenizer = load_tokenizer(str(tiny_bert_dir))
    sentences = load_sentence_file(SEMEVAL / "Restaurants_Test_Gold.xml")
    features = encode_sentences(tokenizer, sentences, 128)
    enc = tokenizer([s.sentence for s in sentences], return_offsets_mapping=True, truncation=True, max_length=128)
    for i, (sentence, feature) in enumerate(zip(sentences, features)):
        word_ids, words = word_offsets(enc, i, enc["offset_mapping"][i])
        tags, seen = [], set()
        for word, label in zip(word_ids, feature["labels"]):
            assert (label == -100) == (word is None or word in seen)
            if word is not None and word not in seen:
                seen.add(word)
                tags.append(label)
        if len(feature["input_ids"]) == 128:
            continue  # truncated (the tiny vocabulary spells many words letter by letter): training only
        decoded = {(a, b) for a, b, _ in decode_spans([words[w] for w in sorted(words)], tags)}
        assert decoded == {(a.start, a.end) for a in sentence.aspects}, sentence.sentence


def test_ate_training_writes_an_extractor_and_honest_span_scores(extractor_dir):
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(extractor_dir)
    assert model.config.id2label == {0: "O", 1: "B-ASP", 2: "I-ASP"}
    results = json.loads((extractor_dir / "eval_results.json").read_text())
    assert results["task"] == "ate" and results["selection"] == "best dev f1"
    assert [h["step"] for h in results["dev_history"]] == [3, 6]
    for which in ("best", "last"):
        test = results["test"][which]
        assert test["sentences"] == 60 and 0 <= test["f1"] <= 1
        assert test["gold_spans"] == sum(len(json.loads(line)["aspects"]) for line in
                                         (Path(results["data"]["test"])).read_text().splitlines())
    records = [json.loads(line) for line in (extractor_dir / "predictions_test.jsonl").read_text().splitlines()]
    assert len(records) == 60 and all(r["sentence"][p["from"]:p["to"]] == p["term"] for r in records for p in r["pred"])
    assert "f1 = " in (extractor_dir / "eval_results.txt").read_text()


def test_evaluate_knows_an_extractor_and_reproduces_its_score(extractor_dir, sentence_dir, tmp_path, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(extractor_dir), "--data", str(sentence_dir / "test.sentences.jsonl"),
                 "--output_dir", str(tmp_path / "eval")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    results = json.loads((extractor_dir / "eval_results.json").read_text())
    assert line["task"] == "ate" and line["f1"] == pytest.approx(results["test"]["best"]["f1"], abs=1e-4)
    assert main(["predict", "--model", str(extractor_dir), "--text", "Good food.", "--aspect", "food"]) == 2
    assert "not an ATSC classifier" in capsys.readouterr().err


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc food  wine list.!?,\u200b\t\nÉ雪")), min_size=0, max_size=300))
def test_extracted_spans_are_substrings_of_the_original_text(extractor_dir, text):

    extractor = _cached_extractor(extractor_dir)
    for span in extractor.extract(text):
        assert text[span["from"]:span["to"]] == span["term"] and span["term"].strip()
        assert 0 <= span["score"] <= 1


_EXTRACTORS: dict = {}


def _cached_extractor(path):
    from ada_atsc.ate.extractor import Extractor

    if path not in _EXTRACTORS:
        _EXTRACTORS[path] = Extractor(path, max_seq_length=16, stride=4)
    return _EXTRACTORS[path]


def test_long_text_is_covered_by_windows_not_truncated(extractor_dir):
    """A sentence far longer than the window: every word gets a tag, from windows that overlap."""
    import torch

    from ada_atsc.ate.extractor import extract_spans, load_extractor

    model, tokenizer, _ = load_extractor(str(extractor_dir))
    with torch.no_grad():  # every word tagged B: each word becomes a span, so coverage is visible
        model.classifier.bias.copy_(torch.tensor([0.0, 100.0, 0.0]))
    text = " ".join(["the food and the wine list were great but the staff was rude"] * 30)
    words = [(m.start(), m.end()) for m in __import__("re").finditer(r"\w+", text)]
    assert len(tokenizer(text)["input_ids"]) > 256  # beyond the model's positions
    for length in (24, 64):
        spans = extract_spans(model, tokenizer, [text], max_seq_length=length, stride=8)[0]
        assert [(a, b) for a, b, _ in spans] == words


def test_extract_command_streams_records_in_order_with_errors_in_place(extractor_dir, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"id": "a", "text": "The food was great. The wine list is short!"}\n'
                       b'not json\n{"text": ""}\n\n{"id": "d", "text": "Nice staff."}\n' + b'\xff\xfe\n')
    out = tmp_path / "out.jsonl"
    assert main(["extract", "--model", str(extractor_dir), "--input", str(source), "--output", str(out),
                 "--disable_tqdm"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 2, 3, 5, 6]
    assert [("error" in r) for r in records] == [False, True, True, False, True]
    assert records[0]["id"] == "a" and all(records[0]["text"][s["from"]:s["to"]] == s["term"]
                                           for s in records[0]["aspects"])
    assert main(["extract", "--model", str(extractor_dir), "--input", str(source), "--output", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(["extract", "--model", str(extractor_dir), "--text", "   "]) == 2


# ------------------------------------------------------------------------------------------ pipeline

from ada_atsc.absa.scores import joint_scores  # noqa: E402
from ada_atsc.data.records import AspectSpan, SentenceRecord  # noqa: E402


def test_joint_scores_exact_span_and_polarity():
    gold = [SentenceRecord("1", "Great food but slow service and ok wine.", (
        AspectSpan("food", 6, 10, "positive"), AspectSpan("service", 20, 27, "negative"),
        AspectSpan("wine", 35, 39, "conflict")))]
    predicted = [[{"from": 6, "to": 10, "label": "positive"}, {"from": 20, "to": 27, "label": "positive"},
                  {"from": 35, "to": 39, "label": "neutral"}, {"from": 0, "to": 5, "label": "positive"}]]
    scores = joint_scores(gold, predicted)
    assert scores["ate"]["true_positives"] == 3 and scores["ate"]["f1"] == pytest.approx(6 / 7)
    # joint: food right; service wrong polarity; wine (conflict) counts neither way; "Great" a false positive
    assert (scores["joint"]["true_positives"], scores["joint"]["gold_spans"], scores["joint"]["predicted_spans"]) == (1, 2, 3)
    assert scores["atsc_on_extracted"]["accuracy"] == 0.5 and scores["atsc_on_extracted"]["num_examples"] == 2


def test_pipeline_gives_offsets_into_the_original_text_and_errors_per_text(extractor_dir, classifier_dir):
    import torch

    from ada_atsc.absa.pipeline import AbsaPipeline

    pipeline = AbsaPipeline(extractor_dir, classifier_dir)
    with torch.no_grad():  # tag every word, so that every word is an aspect to classify
        pipeline.extractor.model.classifier.bias.copy_(torch.tensor([0.0, 100.0, 0.0]))
    texts = ["  The food was great.\n\nBut the  service was slow!", "", 42, "wine " * 400]
    results = pipeline.predict(texts)
    assert [("error" in r) for r in results] == [False, True, True, False]
    first = results[0]["aspects"]
    assert [a["term"] for a in first] == ["The", "food", "was", "great", ".", "But", "the", "service", "was", "slow", "!"]
    for text, result in ((texts[0], results[0]), (texts[3], results[3])):
        for aspect in result["aspects"]:
            assert text[aspect["from"]:aspect["to"]] == aspect["term"]
            assert list(aspect) == ["term", "from", "to", "label", "probabilities", "score"]
            assert aspect["label"] in ("positive", "negative", "neutral")
    assert len(results[3]["aspects"]) == 400  # a 2,000-character sentence: every word found and classified


def test_absa_command_and_joint_evaluation(extractor_dir, classifier_dir, sentence_dir, tmp_path, capsys):
    source = tmp_path / "reviews.txt"
    source.write_text("The food was great. The service was slow!\n\nNice wine list.\n")
    out = tmp_path / "absa.jsonl"
    assert main(["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir), "--input",
                 str(source), "--output", str(out), "--disable_tqdm"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["line"] for r in records] == [1, 3] and all("aspects" in r for r in records)
    capsys.readouterr()
    assert main(["evaluate", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir), "--data",
                 str(sentence_dir / "test.sentences.jsonl"), "--output_dir", str(tmp_path / "joint")]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    results = json.loads((tmp_path / "joint" / "eval_results.json").read_text())
    assert line["joint_f1"] == pytest.approx(results["joint"]["f1"], abs=1e-4) and results["sentences"] == 60
    assert results["joint"]["f1"] <= results["ate"]["f1"] + 1e-9
    # models in the wrong places: one clear line each
    for argv, message in (
        (["--extractor", str(classifier_dir), "--classifier", str(classifier_dir)], "not an aspect extractor"),
        (["--extractor", str(extractor_dir), "--classifier", str(extractor_dir)], "not a sentiment classifier"),
        (["--extractor", str(extractor_dir)], "--classifier"),
    ):
        assert main(["evaluate", *argv, "--data", str(sentence_dir / "test.sentences.jsonl")]) == 2
        assert message in capsys.readouterr().err
    assert main(["absa", "--extractor", str(classifier_dir), "--classifier", str(classifier_dir), "--text", "Good."]) == 2
    assert "an ATSC classifier" in capsys.readouterr().err
