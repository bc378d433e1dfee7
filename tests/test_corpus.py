"""Corpus preparation: splitting awkward text, cleaning, filters, formats, leakage exclusion, bad input."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ada_atsc.cli import main
from ada_atsc.core.errors import AdaError
from ada_atsc.corpus import clean_text, prepare_corpus, split_sentences

from .conftest import DATA, SEMEVAL


def test_splitter_on_awkward_text():
    text = ("I met Dr. Smith at 5 p.m. on Jan. 3 and it was ok.. The food was gr8 😀!! "
            "See http://foo.com/a.b?x=1 for the menu. Prices e.g. $5.50 were fine... Really?! Yes.")
    assert split_sentences(text) == [
        "I met Dr. Smith at 5 p.m. on Jan. 3 and it was ok..",
        "The food was gr8 😀!!",
        "See http://foo.com/a.b?x=1 for the menu.",
        "Prices e.g. $5.50 were fine...",
        "Really?!",
        "Yes.",
    ]


def test_clean_text_strips_zero_width_and_control_characters():
    assert clean_text("a\u200bb\x00 c\t\td\u00a0e\n") == "ab c d e"
    assert split_sentences("\u200b\u200c\ufeff") == []


def _write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_filters_and_statistics(tmp_path):
    reviews = [
        "Great food. Slow service.",
        "Only one sentence here.",
        "Great food. Slow service.",  # exact duplicate
        "\u200b\u200b",  # only zero-width characters
        "But the staff was so horrible to us. We left early.",
        "Nice view.  Friendly   staff. Will return.",
    ]
    src = _write_lines(tmp_path / "reviews.txt", reviews)
    out = tmp_path / "corpus.txt"
    stats = prepare_corpus([str(src)], out, exclude=[str(SEMEVAL / "Restaurants_Train_v2.xml")], progress=False)
    assert out.read_text() == "Great food.\nSlow service.\n\nNice view.\nFriendly staff.\nWill return.\n"
    assert stats["reviews_read"] == 6 and stats["reviews_kept"] == 2 and stats["sentences"] == 5
    # "But the staff was so horrible to us." is a SemEval training sentence: its review is dropped (leakage)
    assert stats["dropped"] == {"empty": 1, "too_few_sentences": 1, "duplicate": 1, "benchmark_overlap": 1}
    assert json.loads((tmp_path / "corpus.txt.stats.json").read_text()) == stats


def test_max_sentences_and_workers_agree(tmp_path):
    src = DATA / "corpora" / "restaurant_reviews_zomato.txt"
    one = prepare_corpus([str(src)], tmp_path / "one.txt", max_sentences=3000, progress=False)
    two = prepare_corpus([str(src)], tmp_path / "two.txt", max_sentences=3000, num_workers=2, progress=False)
    assert (tmp_path / "one.txt").read_bytes() == (tmp_path / "two.txt").read_bytes()
    assert one["stopped_at_max_sentences"] and 2900 < one["sentences"] <= 3000 and one == {**two, "output": one["output"]}
    documents = (tmp_path / "one.txt").read_text().split("\n\n")
    assert len(documents) == one["reviews_kept"] and all(len(d.strip().split("\n")) >= 2 for d in documents)


def test_json_csv_and_gzip_inputs(tmp_path):
    yelp = tmp_path / "yelp.jsonl.gz"
    with gzip.open(yelp, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"text": "Tasty. Cheap."}) + "\n\n" + json.dumps({"text": "Cold soup. Rude waiter."}) + "\n")
    amazon = tmp_path / "amazon.json"
    amazon.write_text(json.dumps({"reviewText": "Good battery. Bright screen."}) + "\n")
    table = tmp_path / "t.csv"
    table.write_text('id,body\n1,"Loud room. Nice bed."\n')
    out = tmp_path / "c.txt"
    prepare_corpus([str(yelp), str(amazon)], out, progress=False)
    assert out.read_text().split("\n\n")[-1] == "Good battery.\nBright screen.\n"
    prepare_corpus([str(table)], tmp_path / "c2.txt", text_field="body", progress=False)
    assert (tmp_path / "c2.txt").read_text() == "Loud room.\nNice bed.\n"


@pytest.mark.parametrize(
    ("name", "content", "extra", "message"),
    [
        ("r.txt", b"Good. Fine.\n\xff\xfe bad\n", [], "r.txt:2: not valid UTF-8"),
        ("r.jsonl", b'{"text": "A. B."}\n{"stars": 5}\n', [], "r.jsonl:2: no text field"),
        ("r.jsonl", b'{"text": "A. B."}\n{oops\n', [], "r.jsonl:2: not valid JSON"),
        ("r.csv", b"a,b\n1,2\n", ["--text_field", "body"], "no column 'body'"),
        ("r.txt", b"", [], "nothing to write"),
        ("r.txt.gz", b"not gzip at all", [], "cannot read"),
    ],
)
def test_bad_input_one_line_no_output(tmp_path, capsys, name, content, extra, message):
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "corpus.txt"
    assert main(["prepare-corpus", "--input", str(src), "--output", str(out), "--no_progress", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert list(tmp_path.iterdir()) == [src]  # nothing written, no temporary left behind


def test_existing_output_is_kept_without_overwrite(tmp_path):
    src = _write_lines(tmp_path / "r.txt", ["One. Two."])
    out = tmp_path / "corpus.txt"
    out.write_text("precious\n")
    with pytest.raises(AdaError, match="exists already"):
        prepare_corpus([str(src)], out, progress=False)
    assert out.read_text() == "precious\n"
    prepare_corpus([str(src)], out, overwrite=True, progress=False)
    assert out.read_text() == "One.\nTwo.\n"


def test_task_data_is_added_and_not_excluded(tmp_path):
    src = _write_lines(tmp_path / "r.txt", ["But the staff was so horrible to us. We left.", "Fine food. Good wine."])
    train = SEMEVAL / "Restaurants_Train_v2.xml"
    stats = prepare_corpus([str(src)], tmp_path / "c.txt", task_data=[str(train)], exclude=[str(train)], progress=False)
    documents = (tmp_path / "c.txt").read_text().split("\n\n")
    assert documents[0] == "Fine food.\nGood wine."  # the leaking review is dropped ...
    assert documents[1].startswith("But the staff was so horrible to us.\n")  # ... the task's own text is kept
    assert stats["dropped"]["benchmark_overlap"] == 1 and stats["reviews_kept"] == len(documents) > 300


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["The room was big.", "Staff rude!", "Caf\u00e9 na\u00efve\u2026", "  ", "\n", "Wi-Fi ok?",
                                 "e.g. the U.S. office", "\U0001f600", "\u200b", "no stop", "\t.", "Mr. Smith said so."]),
                max_size=12))
def test_sentence_offsets_are_blingfires_own_offsets(pieces):
    """The fast path (sentences found in the text in order) gives exactly BlingFire's offsets function's spans."""
    import blingfire

    from ada_atsc.core.sentences import sentence_offsets

    text = " ".join(pieces)
    expected = [] if not text.strip() else [(a, b) for a, b in blingfire.text_to_sentences_and_offsets(text)[1]
                                            if text[a:b].strip()]
    assert sentence_offsets(text) == expected
