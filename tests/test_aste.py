"""ASTE-Data-V2 triplets read into sentence records: offsets exact, opinions under their aspect, malformed lines
one clear error, a literal never evaluated as code; the shipped files read whole."""

from __future__ import annotations

import json

import pytest

from ada_atsc.core.errors import AdaError
from ada_atsc.data.aste import parse_aste_line
from ada_atsc.data.readers import read_sentences

from .conftest import DATA


def test_a_line_gives_aspects_with_their_opinions_at_exact_offsets():
    line = "The food is uniformly exceptional , with a very capable kitchen .####[([1], [4], 'POS'), ([10], [9], 'POS')]"
    record = parse_aste_line(line, "x, line 1", "1")
    sentence = record.sentence
    assert sentence == line.split("####")[0]
    got = [(a.term, a.polarity, [o.term for o in a.opinions]) for a in record.aspects]
    assert got == [("food", "positive", ["exceptional"]), ("kitchen", "positive", ["capable"])]
    for aspect in record.aspects:
        assert sentence[aspect.start:aspect.end] == aspect.term
        assert all(sentence[o.start:o.end] == o.term for o in aspect.opinions)


def test_spans_of_first_and_last_or_every_index_and_an_aspect_with_two_opinions():
    line = "The wine list is long and very good .####[([1, 2], [4], 'POS'), ([1, 2], [6, 7], 'POS')]"
    [aspect] = parse_aste_line(line, "x", "1").aspects
    assert aspect.term == "wine list" and [o.term for o in aspect.opinions] == ["long", "very good"]
    every = "The wine list is long and very good .####[([1, 2], [5, 6, 7], 'POS')]"
    assert parse_aste_line(every, "x", "1").aspects[0].opinions[0].term == "and very good"


@pytest.mark.parametrize("line, message", [
    ("no separator here", "no '####'"),
    ("The food .####[([1], [7], 'POS')]", "outside the sentence"),
    ("The food is good .####[([1], [3], 'GREAT')]", "polarity 'GREAT'"),
    ("The food is good .####__import__('os').system('echo hacked')", "not a Python literal"),
    ("The food is good .####[([1], [1, 3, 4], 'POS')]", "not one span"),
    ("The food is good .####[([1], 'POS')]", "expected \\(aspect indices"),
])
def test_a_malformed_line_is_one_clear_error(line, message):
    with pytest.raises(AdaError, match=message) as error:
        parse_aste_line(line, "file.txt, line 7", "7")
    assert "file.txt, line 7" in str(error.value) and "\n" not in str(error.value)


def test_the_shipped_files_read_whole_and_round_trip_through_jsonl(tmp_path):
    counts = {}
    for folder in ("14res", "14lap", "15res", "16res"):
        for split in ("train", "dev", "test"):
            path = DATA / "aste" / folder / f"{split}_triplets.txt"
            if path.exists():
                sentences = read_sentences(path)
                counts[(folder, split)] = (len(sentences), sum(len(a.opinions) for s in sentences for a in s.aspects))
    assert counts[("14res", "test")] == (492, 994) and counts[("14lap", "test")] == (328, 541)
    assert counts[("16res", "train")][0] == 857 and ("16res", "test") not in counts
    sentences = read_sentences(DATA / "aste" / "15res" / "dev_triplets.txt")
    jsonl = tmp_path / "dev.sentences.jsonl"
    jsonl.write_text("".join(json.dumps(s.to_record()) + "\n" for s in sentences))
    assert read_sentences(jsonl) == sentences
    bad = tmp_path / "bad.sentences.jsonl"
    record = sentences[0].to_record()
    record["aspects"][0]["opinions"][0]["from"] += 1
    bad.write_text(json.dumps(record) + "\n")
    with pytest.raises(AdaError, match=r"jsonl:1: aspects\[0\]\.opinions\[0\]"):
        read_sentences(bad)


def test_prepare_semeval_splits_triplet_files_and_keeps_the_opinions(tmp_path):
    from ada_atsc.cli import main

    source = DATA / "aste" / "15res" / "train_triplets.txt"
    assert main(["prepare-semeval", "--files", str(source), "--istrain", "--output_dir", str(tmp_path)]) == 0
    train = read_sentences(tmp_path / "train.sentences.jsonl")
    dev = read_sentences(tmp_path / "dev.sentences.jsonl")
    assert len(train) == 605 and 0 < len(dev) < len(train)
    assert sum(len(a.opinions) for s in train for a in s.aspects) == 1013
    assert not {s.sentence for s in dev} & {s.sentence for s in read_sentences(tmp_path / "train_split.sentences.jsonl")}
    pairs = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    assert len(pairs) == sum(len(s.aspects) for s in train)
