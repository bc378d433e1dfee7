"""``ada-atsc report`` over a small file with the tiny test models: the three files checked against each other
and against the analysis, categories from a category model, resume, refusals, hostile reviews shown as text.

(The statistics and the HTML are checked by hand-computed cases in tests/test_report_html.py; grouping in
tests/test_grouping.py. These tiny models are random: the labels are arbitrary, the plumbing is not.)"""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest

from ada_atsc.cli import main as cli_main
from ada_atsc.report.grouping import normalise_term

REVIEWS = [
    {"id": "r1", "date": "2008-01-03", "hotel": "A", "text": "The food was great. The staff were rude."},
    {"id": "r2", "date": "2008-02-11", "hotel": "A", "text": "Great pizza and friendly waiter. The prices are fair."},
    {"id": "r3", "date": "2008-06-30", "hotel": "B", "text": "<script>alert(1)</script> The food was cold."},
    {"id": "r4", "date": None, "hotel": "B", "text": "<img src=x onerror=alert(1)> The service was slow."},
    {"id": "r5", "date": "2009-01-01", "hotel": "B", "text": "It was way overpriced. The wine list is long."},
    {"id": "r6", "hotel": "C", "text": "The pasta was good. " + "very " * 2000 + "long dinner."},
]


@pytest.fixture(scope="module")
def reviews_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("reviews") / "reviews.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in REVIEWS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def eager_category_model(category_model_dir, tmp_path_factory):
    """The tiny category model with its 'none' class pushed down, so that it detects categories (a 6-step
    random model detects none, which would leave the category side of the report untested)."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    out = tmp_path_factory.mktemp("eager") / "categories"
    model = AutoModelForSequenceClassification.from_pretrained(category_model_dir)
    with torch.no_grad():
        model.classifier.bias[0] -= 8.0
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(category_model_dir).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def report_dir(reviews_file, extractor_dir, classifier_dir, eager_category_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "out"
    assert cli_main(["report", "--input", str(reviews_file), "--extractor", str(extractor_dir), "--classifier",
                     str(classifier_dir), "--categories", str(eager_category_model), "--entity_field", "hotel",
                     "--no_embedding_grouping", "--min_count", "2", "--output_dir", str(out), "--no_progress"]) == 0
    return out


def _analysed(folder):
    return [json.loads(line) for line in (folder / ".work" / "analysed.jsonl").read_text().splitlines()]


def test_files_agree_with_the_analysis(report_dir):
    analysed = _analysed(report_dir)
    summary = json.loads((report_dir / "summary.json").read_text())
    rows = list(csv.DictReader((report_dir / "aspects.csv").open(encoding="utf-8")))
    terms = [a for record in analysed for a in record["aspects"] if normalise_term(a["term"])]  # "." is no aspect
    detections = [c for record in analysed for c in record["categories"]]
    assert [r["id"] for r in analysed if "error" not in r] == [r["id"] for r in REVIEWS]
    assert analysed[0]["fields"] == {"date": "2008-01-03", "hotel": "A"}
    term_rows = [r for r in rows if r["term"]]
    category_rows = [r for r in rows if not r["term"]]
    assert len(term_rows) == len(terms) == summary["totals"]["mentions"]
    assert len(category_rows) == len(detections) > 0
    assert summary["totals"]["reviews_analysed"] == len(REVIEWS)
    # every term row: its span is the term in its sentence, its group the normalised term (no embeddings here)
    for row in term_rows:
        assert row["sentence"][int(row["from"]):int(row["to"])] == row["term"]
        members = next(g["members"] for g in summary["grouping"] if g["name"] == row["group"])
        assert normalise_term(row["term"]) in [m[0] if isinstance(m, list) else m["term"] for m in members]
        assert abs(sum(float(row[f"p_{k}"]) for k in ("positive", "negative", "neutral")) - 1) < 1e-3
    # the summary's group counts are the CSV's, label by label
    by_group = Counter((r["group"], r["label"]) for r in term_rows)
    for group in summary["groups"]:
        assert {k: v for k, v in group["counts"].items() if v} == {
            label: n for (name, label), n in by_group.items() if name == group["name"]}
    overall = Counter(r["label"] for r in term_rows)
    assert {k: v for k, v in summary["overall"]["counts"].items() if v} == dict(overall)
    # categories: the category model's detections alone
    by_category = Counter(r["category"] for r in category_rows)
    assert {c["name"]: c["count"] for c in summary["categories"]} == dict(by_category)
    assert summary["category_source"].startswith("category model")


def test_report_html_shows_hostile_text_as_text(report_dir):
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "<img" not in page.lower() and "&lt;script&gt;" in page  # shown, escaped
    assert "Content-Security-Policy" in page


def test_resume_of_a_finished_report_and_refusals(report_dir, reviews_file, extractor_dir, classifier_dir, capsys):
    before = (report_dir / "summary.json").read_bytes()
    args = ["report", "--input", str(reviews_file), "--extractor", str(extractor_dir), "--classifier",
            str(classifier_dir), "--no_embedding_grouping", "--output_dir", str(report_dir), "--no_progress"]
    assert cli_main(args) == 2  # the folder holds a report: refused without --overwrite_output_dir
    assert "--overwrite_output_dir" in capsys.readouterr().err
    assert (report_dir / "summary.json").read_bytes() == before


def test_resume_after_a_kill_gives_the_same_report(reviews_file, extractor_dir, classifier_dir, tmp_path):
    common = ["report", "--input", str(reviews_file), "--extractor", str(extractor_dir), "--classifier",
              str(classifier_dir), "--no_embedding_grouping", "--entity_field", "hotel", "--no_progress",
              "--batch_size", "2"]
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    assert cli_main([*common, "--output_dir", str(whole)]) == 0
    assert cli_main([*common, "--output_dir", str(cut)]) == 0
    work = cut / ".work" / "analysed.jsonl"  # as a kill leaves it: a partial file, a torn last line
    lines = work.read_text().splitlines(keepends=True)
    work.with_name(work.name + ".partial").write_text("".join(lines[:3]) + lines[3][:20])
    work.unlink()
    for name in ("report.html", "summary.json", "aspects.csv"):
        (cut / name).unlink()
    assert cli_main([*common, "--output_dir", str(cut), "--resume"]) == 0
    for name in ("summary.json", "aspects.csv", "report.html"):
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name


def test_bad_input_is_one_line_and_writes_nothing(extractor_dir, classifier_dir, tmp_path, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out = tmp_path / "out"
    models = ["--extractor", str(extractor_dir), "--classifier", str(classifier_dir), "--no_embedding_grouping"]
    assert cli_main(["report", "--input", str(empty), *models, "--output_dir", str(out), "--no_progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "empty.jsonl: no reviews" in err[0]
    assert not (out / "report.html").exists() and not (out / "summary.json").exists()
    bad = tmp_path / "reviews.xml"
    bad.write_text("<x/>")
    assert cli_main(["report", "--input", str(bad), *models, "--output_dir", str(out), "--no_progress"]) == 2
    assert "expected a .txt" in capsys.readouterr().err
    broken_map = tmp_path / "map.yaml"
    broken_map.write_text("food: pizza\n")
    good = tmp_path / "r.txt"
    good.write_text("The food was great.\n")
    assert cli_main(["report", "--input", str(good), *models, "--aspect_map", str(broken_map), "--output_dir",
                     str(tmp_path / "o2"), "--no_progress"]) == 2
    assert "map.yaml" in capsys.readouterr().err


def test_aspect_map_puts_terms_in_a_named_group(extractor_dir, classifier_dir, tmp_path, reviews_file):
    out = tmp_path / "mapped"
    analysed_terms = None
    aspect_map = tmp_path / "map.yaml"
    aspect_map.write_text("dining: [food, pizza, pasta, wine list, dinner]\n")
    assert cli_main(["report", "--input", str(reviews_file), "--extractor", str(extractor_dir), "--classifier",
                     str(classifier_dir), "--no_embedding_grouping", "--aspect_map", str(aspect_map),
                     "--output_dir", str(out), "--no_progress"]) == 0
    rows = list(csv.DictReader((out / "aspects.csv").open(encoding="utf-8")))
    analysed_terms = {r["term"].lower() for r in rows}
    mapped = [r for r in rows if normalise_term(r["term"]) in {"food", "pizza", "pasta", "wine list", "dinner"}]
    assert all(r["group"] == "dining" and r["category"] == "dining" for r in mapped)
    others = [r for r in rows if r not in mapped]
    assert all(r["group"] != "dining" for r in others)
    assert analysed_terms is not None
