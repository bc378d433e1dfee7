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


@pytest.fixture(scope="module")
def many_requests(tmp_path_factory) -> Path:
    """``predict`` requests: sentences with one to several aspects, one request without a sentence."""
    records = []
    for sentence in load_sentence_file(SEMEVAL / "Restaurants_Test_Gold.xml")[:60]:
        if sentence.aspects:
            records.append({"id": sentence.id, "sentence": sentence.sentence,
                            "aspects": [[a.start, a.end] for a in sentence.aspects]})
    records.insert(5, {"id": "bad", "aspect": "food"})  # no sentence: one error record in its place
    path = tmp_path_factory.mktemp("predict") / "requests.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_predict_streams_through_the_bulk_path_with_workers_and_resume(classifier_dir, many_requests, tmp_path):
    one, two, resumed = tmp_path / "one.jsonl", tmp_path / "two.jsonl", tmp_path / "resumed.jsonl"
    common = ["predict", "--model", str(classifier_dir), "--input", str(many_requests), "--no_progress"]
    assert main([*common, "--output", str(one)]) == 0
    assert main([*common, "--output", str(two), "--workers", "2"]) == 0
    assert one.read_bytes() == two.read_bytes()
    lines = one.read_text().splitlines(keepends=True)
    groups = [json.loads(line)["line"] for line in lines]
    assert len(set(groups)) == many_requests.read_text().count("\n") and len(lines) > len(set(groups))
    # a kill inside a request's group of records (one per aspect), with a torn last line
    cut = next(i for i in range(1, len(groups)) if groups[i] == groups[i - 1])
    partial = tmp_path / "resumed.jsonl.partial"
    partial.write_text("".join(lines[:cut]) + '{"line": 3, "sent')
    assert main([*common, "--output", str(resumed), "--resume"]) == 0
    assert resumed.read_bytes() == one.read_bytes() and not partial.exists()


def test_the_ray_actor_pool_is_sized_to_leave_room_for_reading():
    from ada_atsc.bulk.ray import actor_pool_size
    from ada_atsc.core.errors import AdaError

    assert actor_pool_size(2, 1) == 1  # ray.init(num_cpus=2): one actor, one CPU for the read
    assert actor_pool_size(8, 2) == 3 and actor_pool_size(8, 2, concurrency=2) == 2
    with pytest.raises(AdaError, match="has 1 free CPU"):
        actor_pool_size(1, 1)
    with pytest.raises(AdaError, match="does not fit"):
        actor_pool_size(2, 1, concurrency=2)


RAY_DEFAULTS = """
import json, sys
import ray
from ada_atsc.bulk import absa_with_ray
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
rows = absa_with_ray(ray.data.read_text(sys.argv[1]), sys.argv[2], sys.argv[3]).take_all()
print(json.dumps({"rows": len(rows), "with_aspects": sum('"aspects"' in r["aspects"] for r in rows)}))
"""


def test_the_ray_data_path_with_its_defaults_finishes_on_two_cpus(extractor_dir, classifier_dir, tmp_path):
    """The new user's call that used to wait forever: default concurrency on ``ray.init(num_cpus=2)``."""
    import subprocess
    import sys

    pytest.importorskip("ray")
    reviews = tmp_path / "reviews.txt"
    reviews.write_text("".join(f"The food was great but the service was slow, visit {i}.\n" for i in range(150)))
    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "PATH": "/usr/bin:/bin",
           "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0"}
    try:
        done = subprocess.run([sys.executable, "-c", RAY_DEFAULTS, str(reviews), str(extractor_dir),
                               str(classifier_dir)], env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("absa_with_ray with its defaults on 2 CPUs did not finish in 300 s")
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"rows": 150, "with_aspects": 150}


def test_absa_on_ray_actors_gives_the_single_process_output(extractor_dir, classifier_dir, many_reviews, tmp_path):
    ray = pytest.importorskip("ray")
    one, on_ray = tmp_path / "one.jsonl", tmp_path / "ray.jsonl"
    common = ["absa", "--extractor", str(extractor_dir), "--classifier", str(classifier_dir), "--input",
              str(many_reviews), "--batch_size", "16", "--no_progress"]
    assert main([*common, "--output", str(one)]) == 0
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    except Exception as exc:  # the machine cannot start a local Ray instance: not this project's failure
        pytest.skip(f"no local Ray instance here: {exc}")
    try:
        assert main([*common, "--output", str(on_ray), "--ray", "auto"]) == 0
    finally:
        ray.shutdown()
    assert _absa_records(one) == _absa_records(on_ray)
