"""The demo pipeline at a tiny scale, through the same code path as ``make demo``: every artefact is checked."""

from __future__ import annotations

import json

from ada_atsc.cli import main
from ada_atsc.pregenerate import count_epochs, open_epoch


def test_demo_pipeline_tiny(tmp_path, tiny_bert_dir, capsys):
    out = tmp_path / "demo"
    argv = ["demo", "--scale", "tiny", "--model", str(tiny_bert_dir), "--output_dir", str(out), "--no_progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out

    # 1. data splits
    stats = json.loads((out / "data" / "restaurants" / "stats.json").read_text())
    assert stats["train"]["total"] == 3602 and stats["test"]["total"] == 1120
    # 2. corpora: one sentence per line, blank line between documents, task text appended after the reviews
    reviews = (out / "corpus" / "reviews.txt").read_text()
    task = (out / "corpus" / "task.txt").read_text()
    combined = (out / "corpus" / "restaurants_plus_task.txt").read_text()
    assert combined == reviews + "\n" + task
    review_stats = json.loads((out / "corpus" / "reviews.txt.stats.json").read_text())
    assert 0 < review_stats["sentences"] <= 2000 and review_stats["stopped_at_max_sentences"]
    assert all(len(doc.strip().splitlines()) >= 2 for doc in combined.split("\n\n"))
    # 3. pregenerated epochs that the LM step can read
    assert count_epochs(out / "pregenerated") == 1
    epoch = open_epoch(out / "pregenerated", 0)
    assert len(epoch) > 50 and max(epoch.lengths) <= 64
    # 4. the adapted encoder is a Hugging Face directory that changed the encoder
    from safetensors.torch import load_file

    adapted = load_file(out / "models" / "adapted" / "model.safetensors")
    plain = load_file(tiny_bert_dir / "model.safetensors")
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert adapted[key].shape == plain[key].shape and not (adapted[key] == plain[key]).all()
    # 5. both classifiers, with test scored at the best-dev checkpoint
    for name in ("plain", "adapted"):
        results = json.loads((out / "classifiers" / name / "eval_results.json").read_text())
        assert results["num_examples"]["test"] == 1120 and 0 <= results["test"]["best"]["macro_f1"] <= 1
        assert results["input_format"]["aspect_markers"] and "mams" in results["data"]["train"]
        assert results["more_tests"]["mams/test"]["best"]["num_examples"] == 1336
        config = json.loads((out / "classifiers" / name / "config.json").read_text())
        assert set(config["id2label"].values()) == {"positive", "negative", "neutral"}
    # 5. unified taggers, their int8 exports scored and timed on the test sentences
    for name in ("plain", "adapted"):
        tagger = json.loads((out / "taggers" / name / "eval_results.json").read_text())
        assert tagger["task"] == "unified" and 0 <= tagger["dev"]["best"]["f1"] <= 1
        assert (out / "taggers" / f"{name}-int8" / "ada_atsc_export.json").is_file()
        joint = json.loads((out / "tagger_eval" / name / "eval_results.json").read_text())
        assert joint["sentences"] == 800 and 0 <= joint["joint"]["f1"] <= joint["ate"]["f1"] + 1e-9
        speed = json.loads((out / "tagger_eval" / name / "speed.json").read_text())
        assert speed["sentences"] == 800 and speed["sentences_per_second"] > 0
    # 6. the table and the example predictions
    table = (out / "results.md").read_text()
    assert "| plain |" in table and "| adapted |" in table and table in printed and "MAMS accuracy" in table
    assert "tagger extraction F1" in table and "tagger joint F1" in table and "sentences/s" in table
    assert "'service' ->" in printed and "'wine list' ->" in printed
    # 7. absa on three raw reviews: one record each, in order, offsets into the review
    from ada_atsc.demo import RAW_REVIEWS

    records = [json.loads(line) for line in (out / "reviews.absa.jsonl").read_text().splitlines()]
    assert [r["text"] for r in records] == RAW_REVIEWS
    for record in records:
        assert all(record["text"][a["from"]:a["to"]] == a["term"] for a in record["aspects"])
    assert "absa on raw reviews" in printed

    # a second run reuses every finished step
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.safetensors")}
    assert main(argv) == 0
    assert "done already, reused" in capsys.readouterr().out
    assert before == {p: p.stat().st_mtime_ns for p in out.rglob("*.safetensors")}
