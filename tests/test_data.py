"""Data layer: exact counts on the real files, round trips, prepare-semeval, and bad input."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ada_atsc.cli import main
from ada_atsc.core.errors import AdaError
from ada_atsc.data import AspectExample, read_dataset, write_dataset

from .conftest import SEMEVAL

EXPECTED = {  # with conflict dropped: (total, positive, negative, neutral)
    "Restaurants_Train_v2.xml": (3602, 2164, 805, 633),
    "Restaurants_Test_Gold.xml": (1120, 728, 196, 196),
    "Laptop_Train_v2.xml": (2313, 987, 866, 460),
    "Laptops_Test_Gold.xml": (638, 341, 128, 169),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_counts_on_vendored_semeval2014(name):
    examples = [e for e in read_dataset(SEMEVAL / name) if e.polarity != "conflict"]
    counts = Counter(e.polarity for e in examples)
    assert (len(examples), counts["positive"], counts["negative"], counts["neutral"]) == EXPECTED[name]
    assert all(e.sentence[e.start : e.end] == e.aspect for e in examples)


SEMEVAL2015 = """<?xml version="1.0" encoding="UTF-8"?>
<Reviews>
  <Review rid="1">
    <sentences>
      <sentence id="1:0">
        <text>The pizza was great but the waiter was rude.</text>
        <Opinions>
          <Opinion target="pizza" category="FOOD#QUALITY" polarity="positive" from="4" to="9"/>
          <Opinion target="pizza" category="FOOD#STYLE_OPTIONS" polarity="positive" from="4" to="9"/>
          <Opinion target="waiter" category="SERVICE#GENERAL" polarity="negative" from="28" to="34"/>
          <Opinion target="waiter" category="RESTAURANT#GENERAL" polarity="positive" from="28" to="34"/>
          <Opinion target="NULL" category="RESTAURANT#GENERAL" polarity="neutral" from="0" to="0"/>
        </Opinions>
      </sentence>
      <sentence id="1:1"><text>No opinions here.</text></sentence>
    </sentences>
  </Review>
</Reviews>
"""


def test_semeval2015_merges_categories_and_skips_null(tmp_path):
    path = tmp_path / "r15.xml"
    path.write_text(SEMEVAL2015, encoding="utf-8")
    examples = read_dataset(path)
    assert [(e.aspect, e.start, e.end, e.polarity) for e in examples] == [
        ("pizza", 4, 9, "positive"),  # same polarity under two categories: kept once
        ("waiter", 28, 34, "conflict"),  # differing polarities: conflict
    ]


def test_transformed_2019_xml_and_mams_layout(tmp_path):
    # BERT-ADA 2019 transformed XML: one term per sentence, offsets 0; MAMS: same layout, no sentence ids.
    path = tmp_path / "t.xml"
    path.write_text(
        '<sentences><sentence><text>Great sushi, slow service.</text><aspectTerms>'
        '<aspectTerm term="service" polarity="negative" from="0" to="0"/></aspectTerms></sentence></sentences>',
        encoding="utf-8",
    )
    (example,) = read_dataset(path)
    assert (example.id, example.start, example.end, example.polarity) == ("0#0", 18, 25, "negative")


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "xml"])
def test_round_trip_through_every_format(tmp_path, fmt):
    original = read_dataset(SEMEVAL / "Laptops_Test_Gold.xml")
    path = tmp_path / f"out.{fmt}"
    assert write_dataset(path, original) == len(original)
    assert read_dataset(path) == original


def test_prepare_semeval_splits_by_sentence_and_is_reproducible(tmp_path):
    args = ["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Train_v2.xml"), "--istrain", "--noconfl"]
    assert main([*args, "--output_dir", str(tmp_path / "a")]) == 0
    assert main([*args, "--output_dir", str(tmp_path / "b")]) == 0
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Test_Gold.xml"), "--noconfl",
                 "--output_dir", str(tmp_path / "a")]) == 0
    for name in ("train", "dev", "train_split"):
        assert (tmp_path / "a" / f"{name}.jsonl").read_bytes() == (tmp_path / "b" / f"{name}.jsonl").read_bytes()
    train = read_dataset(tmp_path / "a" / "train.jsonl")
    dev = read_dataset(tmp_path / "a" / "dev.jsonl")
    split = read_dataset(tmp_path / "a" / "train_split.jsonl")
    assert len(train) == 3602 and len(dev) + len(split) == 3602
    assert not {e.sentence for e in dev} & {e.sentence for e in split}
    n_sentences = len({e.sentence for e in train})
    assert len({e.sentence for e in dev}) == round(0.1 * n_sentences)
    stats = json.loads((tmp_path / "a" / "stats.json").read_text())
    assert stats["test"]["total"] == 1120 and stats["train"]["positive"] == 2164 and stats["dev"]["total"] == len(dev)
    # another seed gives another dev split
    assert main([*args, "--output_dir", str(tmp_path / "c"), "--seed", "7"]) == 0
    assert (tmp_path / "c" / "dev.jsonl").read_bytes() != (tmp_path / "a" / "dev.jsonl").read_bytes()


def test_upsample_reaches_the_ratios(tmp_path):
    out = tmp_path / "up"
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Laptop_Train_v2.xml"), "--istrain", "--noconfl",
                 "--upsample", "0.4", "0.3", "0.3", "--output_dir", str(out)]) == 0
    counts = Counter(e.polarity for e in read_dataset(out / "train.jsonl"))
    total = sum(counts.values())
    assert counts["positive"] >= 987 and counts["negative"] >= 866 and counts["neutral"] >= 460
    for label, ratio in (("positive", 0.4), ("negative", 0.3), ("neutral", 0.3)):
        assert abs(counts[label] / total - ratio) < 0.005
    assert main(["prepare-semeval", "--files", str(SEMEVAL / "Laptop_Train_v2.xml"), "--istrain",
                 "--upsample", "0.5", "0.3", "0.3", "--output_dir", str(tmp_path / "bad")]) == 2


GOOD_SENTENCE = '<sentences><sentence id="1"><text>The food was good.</text><aspectTerms>{}</aspectTerms></sentence></sentences>'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<sentences><sentence id='1'><text>x</text>\n<aspectTerms>\n</sentence>", ":3: malformed XML"),
        (GOOD_SENTENCE.format('<aspectTerm term="food" from="4" to="8"/>').replace('term="food" ', "").encode(),
         "missing the attribute 'term'"),
        (GOOD_SENTENCE.format('<aspectTerm term="food" polarity="great" from="4" to="8"/>').encode(),
         "unknown polarity 'great'"),
        (GOOD_SENTENCE.format('<aspectTerm term="food" polarity="positive" from="5" to="9"/>').encode(),
         "offsets 5-9 give 'ood ', not the term 'food'"),
        (GOOD_SENTENCE.format('<aspectTerm term="food" polarity="positive" from="4" to="99"/>').encode(),
         "outside the sentence"),
        (GOOD_SENTENCE.format('<aspectTerm term="" polarity="positive" from="0" to="0"/>').encode(), "empty aspect"),
        ('<sentences><sentence id="1"><text>caf\xe9</text></sentence></sentences>'.encode("latin-1"), "malformed XML"),
        (b"", "file is empty"),
    ],
)
def test_bad_xml_is_one_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    with pytest.raises(AdaError, match=str(path).replace(".", r"\.")) as info:
        read_dataset(path)
    assert message in str(info.value)
    out = tmp_path / "out"
    assert main(["prepare-semeval", "--files", str(path), "--output_dir", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err
    assert not out.exists()  # no partial output


def test_bad_jsonl_names_the_line(tmp_path):
    path = tmp_path / "d.jsonl"
    good = {"sentence": "Nice staff.", "aspect": "staff", "polarity": "positive"}
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, "polarity": "meh"}) + "\n")
    with pytest.raises(AdaError, match=r"d\.jsonl:2: unknown polarity 'meh'"):
        read_dataset(path)
    path.write_bytes(json.dumps(good).encode() + b"\n\xff\xfe\n")
    with pytest.raises(AdaError, match=r"d\.jsonl:2: not valid UTF-8"):
        read_dataset(path)


def test_existing_split_files_are_not_overwritten(tmp_path):
    out = tmp_path / "out"
    args = ["prepare-semeval", "--files", str(SEMEVAL / "Laptops_Test_Gold.xml"), "--output_dir", str(out)]
    assert main(args) == 0
    (out / "test.jsonl").write_text("mine\n")
    assert main(args) == 2
    assert (out / "test.jsonl").read_text() == "mine\n"
    assert main([*args, "--overwrite_output_dir"]) == 0
    assert len(read_dataset(out / "test.jsonl")) == 654


def _xml_mutations():
    base = (SEMEVAL / "Laptops_Test_Gold.xml").read_bytes()[:3000]
    return st.tuples(st.integers(0, len(base) - 1), st.integers(0, 40), st.binary(max_size=8)).map(
        lambda t: base[: t[0]] + t[2] + base[t[0] + t[1] :]
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=300), _xml_mutations()), suffix=st.sampled_from([".xml", ".jsonl", ".csv"]))
def test_readers_raise_only_our_error(tmp_path, data, suffix):
    path = tmp_path / f"fuzz{suffix}"
    path.write_bytes(data)
    try:
        examples = read_dataset(path)
    except AdaError:
        return
    assert all(isinstance(e, AspectExample) and e.sentence[e.start : e.end] == e.aspect for e in examples)


# ----------------------------------------------------------------------------------- sentence level

from ada_atsc.data.readers import read_sentences  # noqa: E402
from ada_atsc.data.records import AspectSpan, SentenceRecord, resolve_span_overlaps  # noqa: E402


@pytest.mark.parametrize("train, test, n_train, n_test", [
    ("Restaurants_Train_v2.xml", "Restaurants_Test_Gold.xml", 3041, 800),
    ("Laptop_Train_v2.xml", "Laptops_Test_Gold.xml", 3045, 800),
])
def test_sentence_files_keep_every_sentence_and_the_pair_split(tmp_path, train, test, n_train, n_test):
    out = tmp_path / "prep"
    assert main(["prepare-semeval", "--files", str(SEMEVAL / train), "--istrain", "--noconfl", "--output_dir", str(out)]) == 0
    assert main(["prepare-semeval", "--files", str(SEMEVAL / test), "--noconfl", "--output_dir", str(out)]) == 0
    sentences = {name: read_sentences(out / f"{name}.sentences.jsonl") for name in ("train", "dev", "train_split", "test")}
    assert len(sentences["train"]) == n_train and len(sentences["test"]) == n_test
    assert any(not s.aspects for s in sentences["train"])  # sentences without aspects are kept
    dev_texts = {s.sentence for s in sentences["dev"]}
    assert not dev_texts & {s.sentence for s in sentences["train_split"]}
    assert len(sentences["dev"]) + len(sentences["train_split"]) == n_train
    # the pair files' dev sentences are exactly the sentence files' dev sentences that carry pairs
    pair_dev = {e.sentence for e in read_dataset(out / "dev.jsonl")}
    pair_split = {e.sentence for e in read_dataset(out / "train_split.jsonl")}
    assert pair_dev <= dev_texts and not pair_split & dev_texts
    # the pairs of the sentence file (conflict included; aspects in text order) are the source's pairs
    def content(pairs):
        return Counter((e.sentence, e.aspect, e.start, e.end, e.polarity) for e in pairs)

    assert content(p for s in sentences["test"] for p in s.pairs()) == content(read_dataset(SEMEVAL / test))
    stats = json.loads((out / "stats.json").read_text())
    assert stats["sentence_files"]["test"]["sentences"] == n_test


def test_span_overlap_rule():
    spans = [AspectSpan("wine", 4, 8, "positive"), AspectSpan("wine list", 4, 13, "positive"),
             AspectSpan("list", 9, 13, "neutral"), AspectSpan("staff", 20, 25, "positive"),
             AspectSpan("staff", 20, 25, "negative"), AspectSpan("bar", 30, 33, "neutral")]
    kept, duplicates, dropped = resolve_span_overlaps(spans)
    assert kept == (AspectSpan("wine list", 4, 13, "positive"), AspectSpan("staff", 20, 25, "conflict"),
                    AspectSpan("bar", 30, 33, "neutral"))
    assert (duplicates, dropped) == (1, 2)
    assert resolve_span_overlaps([AspectSpan("ab", 0, 2, None), AspectSpan("bc", 1, 3, None)])[0] == (
        AspectSpan("ab", 0, 2, None),)  # a tie in length: the earlier span


def test_sentence_records_in_every_reader(tmp_path):
    r15 = tmp_path / "r15.xml"
    r15.write_text(SEMEVAL2015, encoding="utf-8")
    first, empty = read_sentences(r15)
    assert [a.term for a in first.aspects] == ["pizza", "waiter"] and empty.aspects == ()  # NULL target dropped
    mams = read_sentences(SEMEVAL.parent / "mams" / "test.xml")
    assert len(mams) == 500 and all(len({a.polarity for a in s.aspects}) > 1 for s in mams)
    # JSONL sentence records: read as sentences, or as pairs with ids <id>#<k>
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "s1", "sentence": "Great food, slow service.", "aspects": [
        {"term": "food", "from": 6, "to": 10, "polarity": "positive"}, {"term": "service", "polarity": "negative"}]})
        + "\n" + json.dumps({"id": "s2", "sentence": "Nothing to say.", "aspects": []}) + "\n")
    assert read_sentences(path) == [
        SentenceRecord("s1", "Great food, slow service.", (AspectSpan("food", 6, 10, "positive"),
                                                           AspectSpan("service", 17, 24, "negative"))),
        SentenceRecord("s2", "Nothing to say.", ())]
    assert [(e.id, e.aspect) for e in read_dataset(path)] == [("s1#0", "food"), ("s1#1", "service")]
    # a pair file (JSONL or CSV) is grouped back into sentences
    pairs = read_dataset(SEMEVAL / "Laptops_Test_Gold.xml")
    for fmt in ("jsonl", "csv"):
        write_dataset(tmp_path / f"pairs.{fmt}", pairs)
        grouped = read_sentences(tmp_path / f"pairs.{fmt}")
        assert [p for s in grouped for p in s.pairs()] == pairs
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"sentence": "Good food.", "aspects": [{"from": 5, "to": 9}]}) + "\n")
    with pytest.raises(AdaError, match=r"bad.jsonl:1: aspects\[0\] has no string field 'term'"):
        read_sentences(bad)
