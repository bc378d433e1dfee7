"""Scoring large inputs: worker processes in input order, resume after a kill, the Ray Data path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ada_atsc.ate.training import load_sentence_file
from ada_atsc.cli import main

from .conftest import SEMEVAL


def _absa_records(path: Path) -> list[tuple]:
    """What must not change between runs: order, lines, texts, spans, labels (probabilities to 1e-4)."""
    out = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        out.append((record["line"], record.get("text"), record.get("error"),
                    [(a["from"], a["to"], a["label"], round(a["probabilities"][a["label"]], 4))
                     for a in record.get("aspects", [])]))
    return out


@pytest.fixture(scope="module")
def many_reviews(tmp_path_factory) -> Path:
    sentences = [s.sentence for s in load_sentence_file(SEMEVAL / "Restaurants_Test_Gold.xml")] * 2
    lines = [" ".join(sentences[i:i + 3]).encode() for i in range(0, 1500, 3)]
    lines[7] = b"caf\xe9 latte"  # not UTF-8: an error record in its place, the run goes on
    path = tmp_path_factory.mktemp("bulk") / "reviews.txt"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_absa_workers_give_the_single_process_output(extractor_dir, classifier_dir, many_reviews, tmp_path):
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    common = ["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir), "--input",
              str(many_reviews), "--batch_size", "16", "--no_progress"]
    assert main([*common, "--output", str(one)]) == 0
    assert main([*common, "--output", str(two), "--workers", "2"]) == 0
    assert _absa_records(one) == _absa_records(two)
    records = _absa_records(one)
    assert len(records) == 500 and records[7][2] and not (tmp_path / "two.jsonl.partial").exists()


def test_absa_resume_after_a_kill_repeats_and_loses_nothing(extractor_dir, classifier_dir, many_reviews, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    reference, output = tmp_path / "reference.jsonl", tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    argv = ["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir), "--input",
            str(many_reviews), "--batch_size", "4", "--no_progress"]
    assert main([*argv, "--output", str(reference)]) == 0
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    process = subprocess.Popen([sys.executable, "-m", "ada_atsc", *argv, "--output", str(output)], env=env,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (not partial.exists() or partial.read_text().count("\n") < 40):
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = partial.read_text().count("\n")
    assert 40 <= written < 500 and not output.exists()
    with partial.open("a") as handle:  # a torn last line, as a kill in the middle of a write leaves it
        handle.write('{"line": 99, "te')
    assert main([*argv, "--output", str(output), "--resume"]) == 0
    assert _absa_records(output) == _absa_records(reference) and not partial.exists()
    before = output.read_bytes()  # complete: --resume changes nothing, without --resume it is refused
    assert main([*argv, "--output", str(output), "--resume"]) == 0 and output.read_bytes() == before
    assert main([*argv, "--output", str(output)]) == 2


def test_workers_and_resume_need_an_input_and_an_output_file(extractor_dir, classifier_dir, capsys):
    assert main(["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir),
                 "--text", "The food was good.", "--workers", "2"]) == 2
    assert "--workers and --resume are for --input FILE --output FILE" in capsys.readouterr().err



def test_ray_data_path_gives_the_pipeline_output(extractor_dir, classifier_dir):
    ray = pytest.importorskip("ray")
    from ada_atsc.absa.pipeline import AbsaPipeline
    from ada_atsc.bulk import absa_with_ray

    texts = ["The food was great. The service was slow!", "", "Great pizza, terrible waiter.",
             "The wine list is long but the prices are high."] * 5
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    except Exception as exc:  # the machine cannot start a local Ray instance: not this project's failure
        pytest.skip(f"no local Ray instance here: {exc}")
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        dataset = ray.data.from_items([{"text": t, "n": i} for i, t in enumerate(texts)])
        rows = absa_with_ray(dataset, extractor_dir, classifier_dir, concurrency=1, batch_size=8).take_all()
    finally:
        ray.shutdown()
    expected = AbsaPipeline(extractor_dir, classifier_dir).predict(texts)
    got = {int(row["n"]): json.loads(row["aspects"]) for row in rows}
    assert sorted(got) == list(range(len(texts)))
    for i, result in enumerate(expected):
        if "error" in result:
            assert "error" in got[i]
        else:
            assert [(a["from"], a["to"], a["label"]) for a in got[i]["aspects"]] == \
                [(a["from"], a["to"], a["label"]) for a in result["aspects"]]
