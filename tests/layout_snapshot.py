"""What the commands give on tiny models, as one JSON snapshot: the behaviour the package layout must not change.

The snapshot is made through the command line alone (``train``, ``predict``, ``extract``, ``absa``,
``evaluate``), which is the same in every layout, so the same function records it from an earlier checkout and
checks it against this one (``tests/test_layout.py``):

    PYTHONPATH=<earlier checkout>/src:. python -m tests.layout_snapshot tests/golden/layout_snapshot.json
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEMEVAL = REPO / "data" / "semeval2014"
SENTENCES = 40
"""Test sentences used (the first of the SemEval-2014 restaurants test split)."""
PAIRS = 200
"""Test (sentence, aspect) pairs the classifier is evaluated on."""


def _cli(argv: list[str]) -> None:
    from ada_atsc.cli import main

    status = main(argv)
    if status not in (0, 2):
        raise RuntimeError(f"ada-atsc {' '.join(argv)}: exit {status}")


def build_models(work: Path) -> tuple[Path, Path, Path]:
    """(data folder, extractor, classifier): the test fixtures' recipe (tests/conftest.py), seeded."""
    from tests.conftest import FAST, build_tiny_bert

    data = work / "data"
    _cli(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Train_v2.xml"), "--istrain", "--noconfl",
          "--output_dir", str(data)])
    _cli(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Test_Gold.xml"), "--noconfl", "--output_dir", str(data)])
    for name in ("train_split", "dev", "test"):
        path = data / f"{name}.sentences.jsonl"
        path.write_text("".join(path.read_text().splitlines(keepends=True)[:60]))
    bert = build_tiny_bert(work / "tiny_bert")
    extractor, classifier = work / "extractor", work / "classifier"
    _cli(["train", "--task", "ate", "--model", str(bert), "--data_dir", str(data), "--output_dir", str(extractor),
          "--do_train", "--do_eval", "--evaluate_during_training", *FAST])
    _cli(["train", "--model", str(bert), "--data_dir", str(data), "--output_dir", str(classifier), "--do_train", *FAST])
    return data, extractor, classifier


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _without_paths(value, root: str):
    """``value`` with the temporary folder in its strings replaced (paths differ from run to run)."""
    if isinstance(value, dict):
        return {k: _without_paths(v, root) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_paths(v, root) for v in value]
    return value.replace(root, "<work>") if isinstance(value, str) else value


def snapshot(data: Path, extractor: Path, classifier: Path, work: Path) -> dict:
    """Every command's output on the first :data:`SENTENCES` test sentences."""
    sentences = _records(data / "test.sentences.jsonl")[:SENTENCES]
    texts = work / "texts.jsonl"
    texts.write_text("".join(json.dumps({"id": s["id"], "text": s["sentence"]}) + "\n" for s in sentences))
    requests = work / "requests.jsonl"
    requests.write_text("".join(json.dumps({"id": s["id"], "sentence": s["sentence"],
                                            "aspects": [[a["from"], a["to"]] for a in s["aspects"]]}) + "\n"
                                for s in sentences))
    pairs = work / "pairs.jsonl"
    pairs.write_text("".join((data / "test.jsonl").read_text().splitlines(keepends=True)[:PAIRS]))
    gold = work / "gold.sentences.jsonl"
    gold.write_text("".join(json.dumps(s) + "\n" for s in sentences))
    out = work / "out"
    out.mkdir()
    _cli(["predict", "--model", str(classifier), "--input", str(requests), "--output", str(out / "predict.jsonl")])
    _cli(["extract", "--model", str(extractor), "--input", str(texts), "--output", str(out / "extract.jsonl"),
          "--no_progress"])
    _cli(["absa", "--extractor", str(extractor), "--classifier", str(classifier), "--input", str(texts),
          "--output", str(out / "absa.jsonl"), "--no_progress"])
    _cli(["evaluate", "--extractor", str(extractor), "--classifier", str(classifier), "--data", str(gold),
          "--output_dir", str(out / "joint")])
    _cli(["evaluate", "--model", str(classifier), "--data", str(pairs), "--output_dir", str(out / "atsc")])
    result = {name: _records(out / f"{name}.jsonl") for name in ("predict", "extract", "absa")}
    for name in ("joint", "atsc"):
        result[f"{name}_scores"] = json.loads((out / name / "eval_results.json").read_text())
        result[f"{name}_predictions"] = _records(out / name / "predictions.jsonl")
    return _without_paths(result, str(work))


def make_snapshot() -> dict:
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        return snapshot(*build_models(work), work)


if __name__ == "__main__":
    Path(sys.argv[1]).parent.mkdir(parents=True, exist_ok=True)
    Path(sys.argv[1]).write_text(json.dumps(make_snapshot(), sort_keys=True) + "\n", encoding="utf-8")
