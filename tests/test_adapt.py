"""``ada-atsc adapt``: end to end over a tiny model, resume after a kill, the bundle in every command, bad input;
the label-mix estimate on synthetic outputs; the self-training thresholds and balance."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ada_atsc.cli import main

from .conftest import REPO

SHARED_HOTELS = REPO.parent / "shared" / "data" / "corpora" / "hotel_reviews_opinrank.jsonl.gz"

HOTEL_REVIEWS = [
    "The room was spotless and the bed was comfortable. The staff at the front desk were rude.",
    "Great location near the station. Breakfast was cold and the coffee was terrible.",
    "The pool was lovely but the wifi never worked. Parking was expensive.",
    "Friendly staff, clean rooms. The restaurant food was excellent and the price was fair.",
    "Our room smelled of smoke. The shower was broken and nobody fixed it.",
    "The view from the balcony was amazing. The elevator was slow and the hallway was noisy.",
]


@pytest.fixture(scope="module")
def hotel_corpus(tmp_path_factory) -> Path:
    """60 hotel reviews, JSONL with a ``text`` field."""
    path = tmp_path_factory.mktemp("adapt") / "hotels.jsonl"
    lines = [json.dumps({"id": f"h{i}", "text": f"{HOTEL_REVIEWS[i % len(HOTEL_REVIEWS)]} Visit {i}."})
             for i in range(60)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _adapt_argv(corpus: Path, out: Path, tiny_bert_dir: Path, sentence_dir: Path, *extra: str) -> list[str]:
    return ["adapt", "--corpus", str(corpus), "--output_dir", str(out), "--model_name_or_path", str(tiny_bert_dir),
            "--labeled", str(sentence_dir / "train_split.sentences.jsonl"), "--scale", "tiny", "--no_progress", *extra]


@pytest.fixture(scope="module")
def bundle(hotel_corpus, tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    """A pipeline bundle (``--pipeline``: an extractor and a classifier)."""
    out = tmp_path_factory.mktemp("bundle") / "hotels"
    assert main(_adapt_argv(hotel_corpus, out, tiny_bert_dir, sentence_dir, "--pipeline")) == 0
    return out


@pytest.fixture(scope="module")
def tagger_bundle(hotel_corpus, tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    """The default bundle: a unified tagger (and its int8 export where ONNX Runtime is installed)."""
    out = tmp_path_factory.mktemp("tagger_bundle") / "hotels"
    extra = () if _has_onnxruntime() else ("--no_export",)
    assert main(_adapt_argv(hotel_corpus, out, tiny_bert_dir, sentence_dir, *extra)) == 0
    return out


def _has_onnxruntime() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def _model_bytes(folder: Path, parts=("extractor", "classifier")) -> dict[str, bytes]:
    return {part: (folder / part / "model.safetensors").read_bytes() for part in parts}


def test_adapt_writes_a_bundle_that_every_command_takes(bundle, sentence_dir, tmp_path, capsys):
    manifest = json.loads((bundle / "adapt.json").read_text())
    assert list(manifest["stages"]) == ["corpus", "pregenerate", "lm", "source_models", "self_training",
                                        "label_mix", "bundle"]
    assert all(stage["seconds"] >= 0 for stage in manifest["stages"].values())
    assert manifest["stages"]["corpus"]["summary"]["reviews_kept"] == 60
    round_1 = manifest["stages"]["self_training"]["summary"]["rounds"][0]
    assert {"threshold", "dev_precision"} <= set(round_1["polarity_threshold"])
    assert round_1["pseudo_labels"]["target_sentences"] > 0
    mix = manifest["stages"]["label_mix"]["summary"]
    assert mix["estimated"] and abs(sum(mix["target"].values()) - 1) < 1e-3
    assert manifest["label_mix_correction"] and (bundle / "classifier" / "label_mix.json").is_file()
    assert "ada-atsc absa --model" in (bundle / "README.md").read_text()
    capsys.readouterr()

    from ada_atsc import AbsaPipeline

    text = "The room was spotless but the staff were rude."
    expected = AbsaPipeline(bundle).predict([text])[0]
    assert main(["absa", "--model", str(bundle), "--text", text]) in (0, 2)
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["aspects"] == expected["aspects"]
    assert main(["evaluate", "--model", str(bundle), "--data", str(sentence_dir / "test.sentences.jsonl")]) == 0
    scores = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {"ate_f1", "joint_f1"} <= set(scores)
    assert main(["absa", "--model", str(bundle), "--extractor", str(bundle / "extractor"), "--text", text]) == 2
    assert "not both" in capsys.readouterr().err


def test_the_label_mix_correction_changes_the_probabilities_and_can_be_off(bundle):
    from ada_atsc.atsc.predict import Predictor

    on = Predictor(bundle / "classifier").predict("The staff were rude.", ["staff"])[0]["probabilities"]
    off = Predictor(bundle / "classifier", label_mix=False).predict("The staff were rude.", ["staff"])[0]["probabilities"]
    assert on != off and abs(sum(on.values()) - 1) < 1e-4


def test_a_bundle_exports_to_a_bundle_of_onnx_models(bundle, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "exported"
    assert main(["export", "--model", str(bundle), "--output", str(out)]) == 0
    assert (out / "adapt.json").is_file() and (out / "classifier" / "label_mix.json").is_file()
    from ada_atsc import AbsaPipeline

    text = "The room was spotless but the staff were rude."
    torch_result = AbsaPipeline(bundle).predict([text])[0]["aspects"]
    onnx_result = AbsaPipeline(out).predict([text])[0]["aspects"]
    assert [(a["from"], a["to"], a["label"]) for a in onnx_result] == \
        [(a["from"], a["to"], a["label"]) for a in torch_result]


def test_a_killed_adapt_resumes_to_the_same_bundle(bundle, hotel_corpus, tiny_bert_dir, sentence_dir, tmp_path):
    out = tmp_path / "killed"
    argv = _adapt_argv(hotel_corpus, out, tiny_bert_dir, sentence_dir, "--pipeline")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen([sys.executable, "-m", "ada_atsc", *argv], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (out / "work" / "stages" / "lm.json").exists():
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)  # in the source-models stage, or just after
    process.wait()
    assert (out / "work" / "stages" / "lm.json").exists()
    assert main(argv) == 2  # without --resume an earlier run is not replaced
    assert main([*argv, "--resume"]) == 0
    assert _model_bytes(out) == _model_bytes(bundle)
    assert (out / "classifier" / "label_mix.json").read_text() == (bundle / "classifier" / "label_mix.json").read_text()
    stages = json.loads((out / "adapt.json").read_text())["stages"]
    assert stages["lm"] == json.loads((out / "work" / "stages" / "lm.json").read_text())
    assert main([*argv[:-1], "--resume"]) == 2  # a pipeline run is not resumed as a tagger bundle


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", b"", "nothing to write"),
    ("one.txt", b"Just one sentence here.\n", "adapt needs at least 2"),
    ("notext.jsonl", b'{"body": "no text field"}\n', "no text field"),
    ("latin1.txt", b"caf\xe9 is nice. The room was big.\n", "not valid UTF-8"),
])
def test_bad_corpus_is_one_line_and_writes_nothing(name, content, message, tiny_bert_dir, sentence_dir, tmp_path,
                                                   capsys):
    corpus = tmp_path / name
    corpus.write_bytes(content)
    out = tmp_path / "out"
    assert main(_adapt_argv(corpus, out, tiny_bert_dir, sentence_dir)) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert len(errors) == 1 and message in errors[0]
    assert not out.exists()


def test_an_existing_folder_that_is_not_an_adapt_output_is_never_replaced(hotel_corpus, tiny_bert_dir, sentence_dir,
                                                                         tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    argv = _adapt_argv(hotel_corpus, out, tiny_bert_dir, sentence_dir)
    assert main([*argv, "--overwrite_output_dir"]) == 2
    assert "not an 'ada-atsc adapt' output" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "keep me"


def test_the_label_mix_estimate_recovers_a_known_mix_and_halves_polar_called_neutral():
    """Three classes with known likelihoods: the classifier's posteriors under the training mix, on text whose
    mix has 5% neutral. EM finds the mix without labels; the correction cuts polar aspects called neutral."""
    from ada_atsc.atsc.label_mix import estimate_label_mix

    rng = np.random.default_rng(0)
    means = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 1.5]])  # positive, negative, neutral
    source = np.array([0.35, 0.2, 0.45])  # MAMS-like: much neutral
    target = np.array([0.6, 0.35, 0.05])
    labels = rng.choice(3, size=20_000, p=target)
    points = means[labels] + rng.normal(size=(len(labels), 2))
    likelihood = np.exp(-0.5 * ((points[:, None, :] - means[None]) ** 2).sum(axis=2))
    posterior = likelihood * source
    posterior /= posterior.sum(axis=1, keepdims=True)
    mix = estimate_label_mix(posterior, source)
    assert np.abs(np.asarray(mix.target) - target).max() < 0.02
    corrected = mix.correct(posterior)  # bounded to 3x either way: neutral 45% -> 15%, not 5%

    def polar_called_neutral(probs):
        return int(((labels != 2) & (probs.argmax(axis=1) == 2)).sum())

    assert polar_called_neutral(corrected) * 2 <= polar_called_neutral(posterior)
    assert (corrected.argmax(axis=1) == labels).mean() >= (posterior.argmax(axis=1) == labels).mean()


def test_bbse_recovers_the_mix_from_confusions_where_the_probabilities_are_not_posteriors():
    """A classifier that under-calls neutral: its outputs are a fixed row per true label (not posteriors). The
    source dev set's confusions tell BBSE so, and it recovers the new text's mix exactly; EM, which reads the
    outputs as posteriors, does not."""
    from ada_atsc.atsc.label_mix import BBSE_METHOD, estimate_label_mix, estimate_label_mix_bbse
    from ada_atsc.core.errors import AdaError

    rows = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.45, 0.2, 0.35]])  # neutral mostly looks positive
    source = np.array([0.4, 0.3, 0.3])
    dev_labels = np.repeat([0, 1, 2], [400, 300, 300])
    target_labels = np.repeat([0, 1, 2], [500, 300, 200])  # 50 / 30 / 20
    mix = estimate_label_mix_bbse(rows[target_labels], source, rows[dev_labels], dev_labels)
    np.testing.assert_allclose(mix.target, [0.5, 0.3, 0.2], atol=1e-4)
    assert mix.method == BBSE_METHOD
    assert np.abs(np.asarray(estimate_label_mix(rows[target_labels], source).target) - [0.5, 0.3, 0.2]).max() > 0.05
    with pytest.raises(AdaError, match="every label must occur"):
        estimate_label_mix_bbse(rows[target_labels], source, rows[:2], np.array([0, 1]))


def test_thresholds_are_the_lowest_that_meet_the_precision_asked():
    from ada_atsc.adapt.pseudo import choose_threshold

    confidence = [0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    correct = [True, True, True, True, False, True, False, False, False, False]
    chosen = choose_threshold(confidence, correct, 0.8)
    assert chosen.target_met and chosen.value == 0.6 and chosen.precision == pytest.approx(5 / 6)
    unmet = choose_threshold(confidence, correct, 1.01)
    assert not unmet.target_met and unmet.precision == 1.0


def test_balance_keeps_at_most_n_per_term_and_label_the_most_confident_first():
    from ada_atsc.adapt.pseudo import balance
    from ada_atsc.data.records import AspectExample

    pairs = [(0.9 - i / 100, AspectExample(f"s{i}", "The Room was big.", "Room" if i % 2 else "room", 4, 8, "positive"))
             for i in range(10)]
    pairs.append((0.5, AspectExample("x", "The pool was warm.", "pool", 4, 8, "positive")))
    kept = balance(pairs, 3)
    assert [p.id for p in kept] == ["s0", "s1", "s2", "x"]


@pytest.mark.skipif(not SHARED_HOTELS.is_file(), reason="the shared hotel corpus is not here")
def test_adapt_reads_the_shipped_hotel_format(tmp_path):
    """The hotel corpus (JSONL with text, date, hotel, city) reads as reviews."""
    from ada_atsc.corpus import iter_reviews

    sample = tmp_path / "hotels.jsonl.gz"
    with gzip.open(SHARED_HOTELS, "rt") as source, gzip.open(sample, "wt") as target:
        for _, line in zip(range(5), source):
            target.write(line)
    assert len(list(iter_reviews(sample))) == 5


def test_calibration_tames_an_over_confident_classifier_and_survives_the_round_trip(tmp_path):
    from ada_atsc.atsc.label_mix import LabelMix, fit_calibration, read_label_mix, write_label_mix

    rng = np.random.default_rng(1)
    labels = rng.choice(3, size=3000, p=[0.5, 0.3, 0.2])
    logits = rng.normal(size=(3000, 3))
    logits[np.arange(3000), labels] += 1.0
    sharp = np.exp(4 * logits) / np.exp(4 * logits).sum(axis=1, keepdims=True)  # four times too confident

    def nll(p):
        return float(-np.log(p[np.arange(len(labels)), labels]).mean())

    calibration = fit_calibration(sharp, labels)
    assert calibration.temperature > 2 and nll(calibration.apply(sharp)) < nll(sharp)
    mix = LabelMix((0.5, 0.3, 0.2), (0.6, 0.35, 0.05), 3, 100, calibration)
    write_label_mix(tmp_path, mix)
    assert read_label_mix(tmp_path) == mix
    np.testing.assert_allclose(read_label_mix(tmp_path).correct(sharp[:5]), mix.correct(sharp[:5]), atol=1e-6)


def test_serve_takes_a_bundle(bundle):
    pytest.importorskip("fastapi")
    import httpx

    from ada_atsc import AbsaPipeline

    from .conftest import start_server

    server, url = start_server("--model", str(bundle))
    try:
        text = "The room was spotless but the staff were rude."
        answer = httpx.post(f"{url}/v1/absa", json={"texts": [text]}, timeout=30)
        assert answer.status_code == 200
        served = answer.json()["results"][0]["aspects"]
        expected = AbsaPipeline(bundle).predict([text])[0]["aspects"]
        assert [(a["from"], a["to"], a["label"]) for a in served] == [(a["from"], a["to"], a["label"]) for a in expected]
    finally:
        server.terminate()
        server.wait(timeout=30)


# ------------------------------------------------------------------------------------------- the tagger bundle


def test_the_default_bundle_is_a_unified_tagger_with_its_int8_export_and_a_card(tagger_bundle, capsys):
    manifest = json.loads((tagger_bundle / "adapt.json").read_text())
    assert manifest["kind"] == "tagger"
    assert list(manifest["stages"]) == ["corpus", "pregenerate", "lm", "source_tagger", "tagger_self_training",
                                        "bundle"]
    assert (tagger_bundle / "tagger" / "config.json").is_file() and not (tagger_bundle / "extractor").exists()
    assert set(manifest["dev_scores"]) == {"source_tagger", "final_tagger"}
    assert 0 <= manifest["dev_scores"]["final_tagger"]["f1"] <= 1
    assert manifest["speed"]["sentences_per_second"] > 0 and manifest["speed"]["sentences"] > 0
    round_1 = manifest["stages"]["tagger_self_training"]["summary"]["rounds"][0]
    counts = round_1["pseudo_labels"]
    assert counts["sentences_kept"] == counts["sentences_all_polarities_sure"] + counts["empty_sentences_kept"]
    if _has_onnxruntime():
        assert manifest["export"] == manifest["runs"] == "tagger-int8"
        assert (tagger_bundle / "tagger-int8" / "ada_atsc_export.json").is_file()
    card = (tagger_bundle / "README.md").read_text()
    assert "unified tagger" in card and "ada-atsc absa --model hotels" in card
    # a bundle is moved and shared: no absolute path of the machine that wrote it
    for text in (card, (tagger_bundle / "adapt.json").read_text()):
        assert str(tagger_bundle.parent) not in text and "/tmp" not in text and str(REPO) not in text
    assert manifest["corpus"] == "hotels.jsonl" and manifest["labeled"] == ["train_split.sentences.jsonl"]


def test_a_moved_tagger_bundle_opens_and_runs_in_every_command(tagger_bundle, sentence_dir, tmp_path, capsys):
    import shutil

    from ada_atsc import AbsaPipeline
    from ada_atsc.runtime.model_dir import bundle_parts

    moved = tmp_path / "elsewhere" / "my-hotels"
    shutil.copytree(tagger_bundle, moved, ignore=shutil.ignore_patterns("work"))
    text = "The room was spotless but the staff were rude."
    here = AbsaPipeline(tagger_bundle).predict([text])[0]["aspects"]
    pipeline = AbsaPipeline(moved)
    assert pipeline.unified is not None and pipeline.extractor is None
    assert pipeline.predict([text])[0]["aspects"] == here
    runs = Path(bundle_parts(moved)[0]).name
    assert runs == ("tagger-int8" if _has_onnxruntime() else "tagger")
    assert Path(bundle_parts(moved, prefer_export=False)[0]).name == "tagger"
    capsys.readouterr()
    assert main(["absa", "--model", str(moved), "--text", text]) in (0, 2)
    record = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert record["aspects"] == here
    assert main(["evaluate", "--model", str(moved), "--data", str(sentence_dir / "test.sentences.jsonl")]) == 0
    assert {"ate_f1", "joint_f1"} <= set(json.loads(capsys.readouterr().out.strip().splitlines()[-1]))
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("\n".join(HOTEL_REVIEWS) + "\n")
    assert main(["report", "--model", str(moved), "--input", str(reviews), "--output_dir", str(tmp_path / "report"),
                 "--no_progress", "--no_embedding_grouping", "--min_count", "1"]) == 0
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["totals"]["reviews"] == len(HOTEL_REVIEWS)


def test_a_tagger_bundle_without_export_runs_pytorch_and_exports_to_int8(hotel_corpus, tiny_bert_dir, sentence_dir,
                                                                       tagger_bundle, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    from ada_atsc import AbsaPipeline

    plain = tmp_path / "plain"
    assert main(_adapt_argv(hotel_corpus, plain, tiny_bert_dir, sentence_dir, "--no_export")) == 0
    manifest = json.loads((plain / "adapt.json").read_text())
    assert manifest["export"] is None and manifest["runs"] == "tagger" and not (plain / "tagger-int8").exists()
    # the same seed, the same tagger as the default run
    assert _model_bytes(plain, ("tagger",)) == _model_bytes(tagger_bundle, ("tagger",))
    out = tmp_path / "exported"
    assert main(["export", "--model", str(plain), "--output", str(out), "--quantize", "int8"]) == 0
    assert (out / "tagger-int8" / "ada_atsc_export.json").is_file() and (out / "adapt.json").is_file()
    text = "The room was spotless but the staff were rude."
    assert [(a["from"], a["to"]) for a in AbsaPipeline(out).predict([text])[0]["aspects"]] == \
        [(a["from"], a["to"]) for a in AbsaPipeline(tagger_bundle).predict([text])[0]["aspects"]]
    assert main(["export", "--model", str(plain), "--output", str(tmp_path / "fp32")]) == 2
    assert "int8" in capsys.readouterr().err


def test_no_self_training_keeps_the_source_trained_tagger(hotel_corpus, tiny_bert_dir, sentence_dir, tagger_bundle,
                                                         tmp_path, capsys):
    """``--self_training_rounds 0``: the bundle's tagger is the source-trained one (the same seed, the same bytes
    as the default run's source stage), no round is run, and the card and ``adapt.json`` say so."""
    out = tmp_path / "source_only"
    assert main(_adapt_argv(hotel_corpus, out, tiny_bert_dir, sentence_dir, "--no_export",
                            "--self_training_rounds", "0")) == 0
    manifest = json.loads((out / "adapt.json").read_text())
    assert manifest["stages"]["tagger_self_training"]["summary"]["rounds"] == []
    assert manifest["budget"]["rounds"] == 0 and not (out / "work" / "round_1").exists()
    assert manifest["dev_scores"]["final_tagger"] == manifest["dev_scores"]["source_tagger"]
    source_stage = tagger_bundle / "work" / "source_models"
    assert _model_bytes(out, ("tagger",)) == _model_bytes(source_stage, ("tagger",))
    assert (tagger_bundle / "work" / "round_1").is_dir()  # the default ran its round
    assert "no self-training" in (out / "README.md").read_text()
    pair = tmp_path / "pair"
    assert main(_adapt_argv(hotel_corpus, pair, tiny_bert_dir, sentence_dir, "--pipeline",
                            "--self_training_rounds", "0")) == 0
    assert json.loads((pair / "adapt.json").read_text())["stages"]["self_training"]["summary"]["rounds"] == []
    assert "no self-training" in (pair / "README.md").read_text()
    capsys.readouterr()
    assert main(_adapt_argv(hotel_corpus, tmp_path / "bad", tiny_bert_dir, sentence_dir,
                            "--self_training_rounds", "-1")) == 2
    assert "--self_training_rounds must be 0 or more" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_serve_takes_a_tagger_bundle(tagger_bundle):
    pytest.importorskip("fastapi")
    import httpx

    from ada_atsc import AbsaPipeline

    from .conftest import start_server

    server, url = start_server("--model", str(tagger_bundle))
    try:
        text = "The room was spotless but the staff were rude."
        answer = httpx.post(f"{url}/v1/absa", json={"texts": [text]}, timeout=30)
        assert answer.status_code == 200
        served = answer.json()["results"][0]["aspects"]
        expected = AbsaPipeline(tagger_bundle).predict([text])[0]["aspects"]
        assert [(a["from"], a["to"], a["label"]) for a in served] == [(a["from"], a["to"], a["label"]) for a in expected]
        info = httpx.get(f"{url}/v1/model", timeout=30).json()
        assert info["unified"] is True
    finally:
        server.terminate()
        server.wait(timeout=30)
