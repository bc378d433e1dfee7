"""The triplet tagger: opinion links, the round trip of tags on the real ASTE data, scores, training and the
commands that take it as --model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ada_atsc.absa.scores import triplet_scores
from ada_atsc.absa.triplets import (
    best_link,
    decode_triplets,
    linked_aspects,
    opinion_links,
    triplet_word_tags,
)
from ada_atsc.cli import main
from ada_atsc.core.labels import OPINION_LINKS, TRIPLET_TAGS, UNIFIED_TAGS
from ada_atsc.data.aste import read_aste
from ada_atsc.data.records import AspectSpan, OpinionSpan, SentenceRecord
from tests.conftest import FAST, REPO

ASTE = REPO / "data" / "aste"


def words_of(sentence: str) -> list[tuple[int, int]]:
    spans, at = [], 0
    for token in sentence.split(" "):
        spans.append((at, at + len(token)))
        at += len(token) + 1
    return spans


def triplets_of(record: SentenceRecord) -> set[tuple]:
    return {((a.start, a.end), (o.start, o.end), a.polarity) for a in record.aspects for o in a.opinions}


def round_trip(record: SentenceRecord) -> set[tuple]:
    """Encode the gold as tags, decode the tags back (as the model's output would be read)."""
    words = words_of(record.sentence)
    probs = np.eye(len(TRIPLET_TAGS))[triplet_word_tags(words, record)]
    predicted = decode_triplets(words, probs)
    return {((a, b), (o[0], o[1]), label) for a, b, _, label, _, opinions in predicted for o in opinions}


def test_links_name_the_aspects_counted_from_the_opinion():
    food, service, room = (4, 8), (17, 24), (44, 48)
    aspects = [food, service, room]
    great = (30, 35)
    assert linked_aspects(aspects, great, "left") == [service]
    assert linked_aspects(aspects, great, "two-left") == [service, food]
    assert linked_aspects(aspects, great, "right") == [room]
    assert linked_aspects(aspects, great, "left-right") == [service, room]
    assert linked_aspects(aspects, great, "two-right") == [room]  # only one aspect on that side
    assert best_link(aspects, great, {food, service}) == "two-left"
    assert best_link(aspects, great, {room}) == "right"
    assert best_link(aspects, great, {food}) == "two-left"  # nothing names food alone: found, with one wrong
    assert set(OPINION_LINKS) == {"left", "right", "two-left", "two-right", "left-right"}


def test_a_shared_opinion_and_its_aspects_survive_the_round_trip():
    sentence = "The food and the service were great but the room was tiny ."
    great, tiny = OpinionSpan("great", 30, 35), OpinionSpan("tiny", 53, 57)
    record = SentenceRecord("s", sentence, (
        AspectSpan("food", 4, 8, "positive", (great,)), AspectSpan("service", 17, 24, "positive", (great,)),
        AspectSpan("room", 44, 48, "negative", (tiny,))))
    tags = [TRIPLET_TAGS[t] for t in triplet_word_tags(words_of(sentence), record)]
    assert tags[1] == "B-positive" and tags[4] == "B-positive" and tags[9] == "B-negative"
    assert tags[6] == "B-opinion-two-left" and tags[11] == "B-opinion-left"
    assert round_trip(record) == triplets_of(record)
    assert opinion_links(record) == {(30, 35): "two-left", (53, 57): "left"}


@pytest.mark.parametrize("name", ["14res", "14lap", "15res", "16res"])
def test_the_tags_carry_almost_every_training_triplet_and_invent_none(name):
    """What the tag scheme can express at best: on the real training sets the decoded gold tags give back at
    least 95% of the triplets, and (aspect / opinion overlaps aside) nothing that is not there."""
    records = read_aste(ASTE / name / "train_triplets.txt")
    gold = [triplets_of(r) for r in records]
    back = [round_trip(r) for r in records]
    found = sum(len(g & b) for g, b in zip(gold, back))
    invented = sum(len(b - g) for g, b in zip(gold, back))
    total = sum(len(g) for g in gold)
    assert found / total >= 0.95
    assert invented / total <= 0.01


def test_decoding_reads_the_link_and_polarity_from_the_span_mass():
    tag = {t: i for i, t in enumerate(TRIPLET_TAGS)}
    words = [(0, 4), (5, 9), (10, 13), (14, 18), (19, 24)]  # "room very thin wall ..."
    probs = np.full((5, len(TRIPLET_TAGS)), 0.01)
    probs[0, tag["B-negative"]] = 0.9
    probs[1, tag["B-opinion-left"]] = 0.4  # the opinion's link: left on its first word ...
    probs[1, tag["B-opinion-right"]] = 0.3
    probs[2, tag["I-opinion-right"]] = 0.8  # ... right on its second; summed over the span, right wins
    probs[3, tag["B-positive"]] = 0.9
    probs[4, 0] = 0.9
    probs /= probs.sum(axis=1, keepdims=True)
    aspects = decode_triplets(words, probs)
    assert [(a[0], a[1], a[3]) for a in aspects] == [(0, 4, "negative"), (14, 18, "positive")]
    assert aspects[0][5] == [] and [o[:2] for o in aspects[1][5]] == [(5, 13)]
    assert decode_triplets([], np.zeros((0, len(TRIPLET_TAGS)))) == []
    assert TRIPLET_TAGS[:len(UNIFIED_TAGS)] == UNIFIED_TAGS  # a triplet tagger's first tags are the unified ones


def test_triplet_scores_count_exact_triplets_pairs_and_opinions():
    great, slow = OpinionSpan("great", 9, 14), OpinionSpan("slow", 28, 32)
    gold = [SentenceRecord("1", "food was great , service is slow", (
        AspectSpan("food", 0, 4, "positive", (great,)), AspectSpan("service", 17, 24, "negative", (slow,))))]
    predicted = [[{"from": 0, "to": 4, "label": "positive", "opinions": [{"from": 9, "to": 14}]},
                  {"from": 17, "to": 24, "label": "positive", "opinions": [{"from": 28, "to": 32}]}]]
    scores = triplet_scores(gold, predicted)
    assert scores["triplet"]["f1"] == pytest.approx(0.5)  # service's polarity is wrong
    assert scores["pair"]["f1"] == scores["opinion"]["f1"] == scores["ate"]["f1"] == 1.0
    assert scores["joint"]["f1"] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def aste_slice(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("aste")
    for split in ("train", "dev", "test"):
        lines = (ASTE / "14res" / f"{split}_triplets.txt").read_text().splitlines(keepends=True)[:40]
        (folder / f"{split}_triplets.txt").write_text("".join(lines))
    return folder


@pytest.fixture(scope="module")
def triplets_dir(tiny_bert_dir, aste_slice, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("triplets") / "tagger"
    assert main(["train", "--task", "triplets", "--model", str(tiny_bert_dir),
                 "--train_file", str(aste_slice / "train_triplets.txt"), "--dev_file", str(aste_slice / "dev_triplets.txt"),
                 "--test_file", str(aste_slice / "test_triplets.txt"), "--output_dir", str(out), "--do_train",
                 "--do_eval", "--evaluate_during_training", *FAST]) == 0
    return out


def test_training_writes_a_triplet_tagger_that_every_command_takes(triplets_dir, aste_slice, tmp_path, capsys):
    from transformers import AutoModelForTokenClassification

    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.runtime.model_dir import model_kind

    assert model_kind(triplets_dir) == "triplets"
    assert AutoModelForTokenClassification.from_pretrained(triplets_dir).config.num_labels == len(TRIPLET_TAGS)
    results = json.loads((triplets_dir / "eval_results.json").read_text())
    best = results["test"]["best"]
    assert {"f1", "pair_f1", "opinion_f1", "ate_f1", "joint_f1"} <= set(best)
    assert "triplet F1" in (triplets_dir / "README.md").read_text()
    record = AbsaPipeline(str(triplets_dir)).predict(["The room was tiny but the staff were friendly."])[0]
    assert all(isinstance(a["opinions"], list) for a in record["aspects"])
    for aspect in record["aspects"]:
        for opinion in aspect["opinions"]:
            assert "The room was tiny but the staff were friendly."[opinion["from"]:opinion["to"]] == opinion["term"]
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("The room was tiny.\nGreat breakfast and friendly staff!\n")
    capsys.readouterr()
    assert main(["absa", "--model", str(triplets_dir), "--input", str(reviews), "--output", str(tmp_path / "o.jsonl")]) == 0
    lines = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and all("opinions" in a for line in lines for a in line["aspects"])
    capsys.readouterr()
    assert main(["evaluate", "--model", str(triplets_dir), "--data", str(aste_slice / "test_triplets.txt")]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"triplet_f1", "pair_f1", "opinion_f1", "joint_f1"} <= set(printed)


def test_training_without_opinions_is_one_clear_line(tiny_bert_dir, sentence_dir, tmp_path, capsys):
    code = main(["train", "--task", "triplets", "--model", str(tiny_bert_dir), "--data_dir", str(sentence_dir),
                 "--output_dir", str(tmp_path / "t"), "--do_train", *FAST])
    assert code != 0
    assert "no opinion spans" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_the_onnx_export_gives_the_same_triplets(triplets_dir, tmp_path):
    pytest.importorskip("onnxruntime")
    from ada_atsc.absa.pipeline import AbsaPipeline

    assert main(["export", "--model", str(triplets_dir), "--output_dir", str(tmp_path / "onnx")]) == 0
    texts = ["The room was tiny but the staff were friendly.", "Great food, slow service."]
    torch_out = AbsaPipeline(str(triplets_dir)).predict(texts)
    onnx_out = AbsaPipeline(str(tmp_path / "onnx")).predict(texts)
    strip = [[(a["from"], a["to"], a["label"], [(o["from"], o["to"]) for o in a["opinions"]]) for a in r["aspects"]]
             for r in torch_out]
    assert strip == [[(a["from"], a["to"], a["label"], [(o["from"], o["to"]) for o in a["opinions"]])
                      for a in r["aspects"]] for r in onnx_out]


def test_report_with_a_triplet_tagger_has_the_opinion_column(triplets_dir, tmp_path):
    reviews = tmp_path / "reviews.jsonl"
    reviews.write_text("".join(json.dumps({"text": t}) + "\n" for t in (
        "The room was tiny but the staff were friendly.", "Great breakfast, rude waiter.", "Clean room.")))
    out = tmp_path / "report"
    assert main(["report", "--model", str(triplets_dir), "--input", str(reviews), "--output_dir", str(out),
                 "--no_embedding_grouping", "--min_count", "1"]) == 0
    header = (out / "aspects.csv").read_text().splitlines()[0].split(",")
    assert "opinions" in header
    assert (out / "report.html").is_file()


def test_the_server_answers_with_opinions(triplets_dir):
    from fastapi.testclient import TestClient

    from ada_atsc.serve import create_app

    with TestClient(create_app(None, str(triplets_dir))) as client:
        assert client.get("/v1/model").json()["opinions"] is True
        answer = client.post("/v1/absa", json={"texts": ["The room was tiny but the staff were friendly."]})
        assert answer.status_code == 200
        assert all("opinions" in a for a in answer.json()["results"][0]["aspects"])
