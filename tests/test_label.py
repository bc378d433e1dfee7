"""``label select``: the pool, the uncertainty of a sentence, the strategies, exclusion of what is labelled, bad
input; over a tiny unified tagger (plumbing, not quality)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ada_atsc.cli import main
from ada_atsc.label.batch import read_batch, sentence_id
from ada_atsc.label.select import Candidate, SelectOptions, choose, sentence_pool, tagger_uncertainty

from .test_adapt import HOTEL_REVIEWS as REVIEWS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("label") / "reviews.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{i}", "text": f"{REVIEWS[i % 6]} We stayed {i} nights in total."})
                            + "\n" for i in range(40)))
    return path


def _select(unified_dir, corpus, out, *extra) -> int:
    return main(["label", "select", "--model", str(unified_dir), "--corpus", str(corpus), "--output", str(out),
                 "--no_progress", *extra])


def test_select_writes_a_prelabelled_batch_and_the_same_seed_the_same_bytes(unified_dir, corpus, tmp_path, capsys):
    out = tmp_path / "batch.jsonl"
    assert _select(unified_dir, corpus, out, "--n", "8", "--strategy", "uncertainty") == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["selected"] == 8 and summary["model"] == "unified tagger"
    items = read_batch(out)  # offsets of every guess checked against its text
    assert len(items) == 8 and len({i.id for i in items}) == 8
    assert all(i.id == sentence_id(i.text) and i.origin["review"].startswith("r") for i in items)
    assert [i.uncertainty for i in items] == sorted((i.uncertainty for i in items), reverse=True)
    # the most uncertain of the pool were chosen
    assert items[-1].uncertainty >= summary["mean_uncertainty_pool"] - 1e-9
    again = tmp_path / "again.jsonl"
    assert _select(unified_dir, corpus, again, "--n", "8", "--strategy", "uncertainty") == 0
    assert again.read_bytes() == out.read_bytes()
    assert _select(unified_dir, corpus, out, "--n", "8") == 2  # an existing batch is never replaced silently
    assert "exists already" in capsys.readouterr().err


def test_labelled_and_earlier_batches_are_never_chosen_again(unified_dir, corpus, tmp_path):
    first = tmp_path / "first.jsonl"
    assert _select(unified_dir, corpus, first, "--n", "5", "--strategy", "random") == 0
    labels = tmp_path / "labels.jsonl"
    chosen = read_batch(first)
    labels.write_text(json.dumps({"id": chosen[0].id, "sentence": chosen[0].text, "aspects": []}) + "\n")
    second = tmp_path / "second.jsonl"
    assert _select(unified_dir, corpus, second, "--n", "10", "--exclude", str(labels), str(first)) == 0
    assert not {i.id for i in read_batch(second)} & {i.id for i in chosen}
    assert all(item.predictions or item.uncertainty >= 0 for item in read_batch(second))


def test_the_pool_is_a_bounded_seeded_sample_of_distinct_sentences(corpus):
    pool, counts = sentence_pool(str(corpus), 7, seed=1, exclude=set())
    assert len(pool) == 7 and len({c.id for c in pool}) == 7
    assert counts["reviews"] == 40 and counts["duplicates"] > 0  # the six reviews repeat
    again, _ = sentence_pool(str(corpus), 7, seed=1, exclude=set())
    assert [c.id for c in again] == [c.id for c in pool]
    other, _ = sentence_pool(str(corpus), 7, seed=2, exclude=set())
    assert [c.id for c in other] != [c.id for c in pool]
    kept, counts = sentence_pool(str(corpus), 100, seed=1, exclude={pool[0].id})
    assert pool[0].id not in {c.id for c in kept} and counts["excluded"] >= 1


def test_uncertainty_is_low_for_sure_words_and_high_for_a_doubtful_one():
    from ada_atsc.core.labels import UNIFIED_TAGS

    sure = np.zeros((4, len(UNIFIED_TAGS)))
    sure[:, 0] = 0.99
    sure[:, 1:] = 0.01 / (len(UNIFIED_TAGS) - 1)
    low, _ = tagger_uncertainty(sure, [])
    doubtful = sure.copy()
    doubtful[2, 0], doubtful[2, 1] = 0.5, 0.5 - 0.01 + sure[2, 1]  # "is this word an aspect?" a coin toss
    high, details = tagger_uncertainty(doubtful, [])
    assert low < 0.05 < 0.4 < high and details["boundary"] == pytest.approx(high)
    polar, details = tagger_uncertainty(sure, [(0, 4, 0.99, "positive", {"positive": 0.4, "negative": 0.35,
                                                                          "neutral": 0.25})])
    assert polar == pytest.approx(0.6) and details["polarity"] == pytest.approx(0.6)


def _candidates(uncertainties, terms) -> list[Candidate]:
    from ada_atsc.label.batch import Guess

    return [Candidate(f"s{k}", f"sentence {k}", {}, (Guess(t, 0, len(t), "positive", 0.9),) if t else (), u)
            for k, (u, t) in enumerate(zip(uncertainties, terms))]


def test_diverse_skips_near_duplicates_and_spreads_over_terms():
    # s0 and s1 are near-duplicates (same vector); s2..s5 all show "room"
    candidates = _candidates([0.9, 0.89, 0.8, 0.79, 0.78, 0.77, 0.3], [None, None, "room", "room", "room", "room", "bar"])
    vectors = np.eye(7)
    vectors[1] = vectors[0]

    def embed(texts):
        return np.stack([vectors[int(t.split()[1])] for t in texts])

    options = SelectOptions(model="m", corpus="c", output="o", n=5, max_per_term=2, shortlist=5, strategy="diverse")
    chosen = [c.id for c in choose(candidates, options, embed)]
    assert "s0" in chosen and "s1" not in chosen
    assert sum(1 for c in chosen if c in {"s2", "s3", "s4", "s5"}) == 2 + 1  # 2 by the cap, 1 to fill n
    assert "s6" in chosen
    plain = [c.id for c in choose(candidates, SelectOptions(model="m", corpus="c", output="o", n=5,
                                                           strategy="uncertainty"))]
    assert plain == ["s0", "s1", "s2", "s3", "s4"]


@pytest.mark.parametrize("argv_extra, message", [
    (["--corpus", "missing.txt"], "corpus file not found"),
    (["--n", "0"], "--n and --pool must be at least 1"),
    (["--pool", "3", "--n", "5"], "smaller than --n"),
])
def test_bad_select_input_is_one_line(argv_extra, message, unified_dir, corpus, tmp_path, capsys):
    argv = ["label", "select", "--model", str(unified_dir), "--corpus", str(corpus),
            "--output", str(tmp_path / "b.jsonl"), "--no_progress"]
    for flag, value in zip(argv_extra[::2], argv_extra[1::2]):
        if flag in argv:
            argv[argv.index(flag) + 1] = str(tmp_path / value) if flag == "--corpus" else value
        else:
            argv += [flag, value]
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0]
    assert not (tmp_path / "b.jsonl").exists()


def test_a_classifier_is_not_a_model_to_select_with(classifier_dir, corpus, tmp_path, capsys):
    assert _select(classifier_dir, corpus, tmp_path / "b.jsonl", "--n", "3") == 2
    assert "unified tagger" in capsys.readouterr().err
    assert not (tmp_path / "b.jsonl").exists()


@pytest.mark.parametrize("fmt", ["label-studio", "prodigy", "doccano"])
def test_a_batch_goes_to_each_tool_and_its_answers_come_back_through_the_command(fmt, unified_dir, corpus, tmp_path,
                                                                                 capsys):
    batch = tmp_path / "batch.jsonl"
    assert _select(unified_dir, corpus, batch, "--n", "4", "--strategy", "random") == 0
    exported = tmp_path / ("tasks.json" if fmt == "label-studio" else "tasks.jsonl")
    assert main(["label", "export", "--format", fmt, "--input", str(batch), "--output", str(exported)]) == 0
    items = read_batch(batch)
    # the tool's export after a person accepted every guess
    if fmt == "label-studio":
        tasks = json.loads(exported.read_text())
        for task in tasks:
            task["annotations"] = [{"result": task["predictions"][0]["result"], "was_cancelled": False}]
        exported.write_text(json.dumps(tasks))
    elif fmt == "prodigy":
        tasks = [json.loads(line) for line in exported.read_text().splitlines()]
        exported.write_text("".join(json.dumps({**t, "answer": "accept"}) + "\n" for t in tasks))
    labels = tmp_path / "labels.jsonl"
    assert main(["label", "import", "--format", fmt, "--input", str(exported), "--output", str(labels)]) == 0
    back = {r["id"]: r for r in map(json.loads, labels.read_text().splitlines())}
    assert set(back) == {i.id for i in items}
    for item in items:
        assert [(a["from"], a["to"], a["polarity"]) for a in back[item.id]["aspects"]] == \
            sorted((g.start, g.end, g.label) for g in item.predictions)
    assert main(["label", "import", "--format", fmt, "--input", str(exported), "--output", str(labels)]) == 2
    assert "exists already" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ label train


@pytest.fixture(scope="module")
def tagger_bundle(corpus, tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("label_bundle") / "hotels"
    assert main(["adapt", "--corpus", str(corpus), "--output_dir", str(out), "--model_name_or_path", str(tiny_bert_dir),
                 "--labeled", str(sentence_dir / "train_split.sentences.jsonl"), "--scale", "tiny",
                 "--no_progress"]) == 0
    return out


def _labels(path: Path, unified_dir: Path, corpus: Path, n: int) -> Path:
    batch = path.with_suffix(".batch.jsonl")
    assert _select(unified_dir, corpus, batch, "--n", str(n), "--strategy", "random", "--overwrite_output_dir") == 0
    with path.open("w") as handle:  # a person's answers: "room" positive where it occurs, else no aspect
        for item in read_batch(batch):
            at = item.text.find("room")
            aspects = [{"term": "room", "from": at, "to": at + 4, "polarity": "positive"}] if at >= 0 else []
            handle.write(json.dumps({"id": item.id, "sentence": item.text, "aspects": aspects}) + "\n")
    return path


def test_label_train_updates_a_tagger_bundle_in_place_round_by_round(tagger_bundle, unified_dir, corpus, tmp_path,
                                                                     capsys):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(tagger_bundle, bundle)
    labels = _labels(tmp_path / "labels.jsonl", unified_dir, corpus, 6)
    before = (bundle / "tagger" / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert main(["label", "train", "--model", str(bundle), "--labels", str(labels), "--no_progress"]) == 0
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["round"] == 1 and record["target_labels"] == 6 and record["steps"] >= 1
    assert record["source_sentences"] == 6  # a quarter as many source sentences as weighted target ones (6 x 4)
    assert (bundle / "tagger" / "model.safetensors").read_bytes() != before
    assert (bundle / "work" / "label" / "round_1" / "previous" / "tagger" / "model.safetensors").read_bytes() == before
    manifest = json.loads((bundle / "adapt.json").read_text())
    assert [r["round"] for r in manifest["label_rounds"]] == [1]
    assert "label train" in (bundle / "README.md").read_text()
    from ada_atsc import AbsaPipeline

    assert "aspects" in AbsaPipeline(bundle).predict(["The room was fine."])[0]
    assert main(["label", "train", "--model", str(bundle), "--labels", str(labels), "--no_progress"]) == 0
    assert [r["round"] for r in json.loads((bundle / "adapt.json").read_text())["label_rounds"]] == [1, 2]
    assert not (bundle / "work" / "label" / "round_1" / "previous").exists()  # only the last predecessor kept


def test_label_train_on_a_plain_tagger_writes_a_new_one_and_refuses_what_it_cannot_train(unified_dir, corpus,
                                                                                        sentence_dir, tmp_path,
                                                                                        capsys):
    labels = _labels(tmp_path / "labels.jsonl", unified_dir, corpus, 4)
    out = tmp_path / "new_tagger"
    argv = ["label", "train", "--model", str(unified_dir), "--labels", str(labels), "--no_progress",
            "--source", str(sentence_dir / "train_split.sentences.jsonl")]
    assert main([*argv, "--output_dir", str(out)]) == 0
    assert (out / "config.json").is_file() and json.loads((out / "config.json").read_text())["ada_atsc_task"] == "unified"
    capsys.readouterr()
    assert main([*argv, "--output_dir", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert main(argv) == 2
    assert "--output_dir" in capsys.readouterr().err
    missing = ["label", "train", "--model", str(unified_dir), "--labels", str(tmp_path / "none.jsonl"),
               "--output_dir", str(tmp_path / "x")]
    assert main(missing) == 2 and "labels file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"sentence": "The room was fine.", "aspects": [{"term": "bed", "from": 4, "to": 8,
                                                                               "polarity": "positive"}]}) + "\n")
    assert main([*argv[:5], str(bad), "--output_dir", str(tmp_path / "y")]) == 2
    err = capsys.readouterr().err
    assert "line 1, aspect 1" in err and "not 'bed'" in err and not (tmp_path / "y").exists()
