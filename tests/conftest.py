"""Shared fixtures: a tiny random BERT that loads with the real ``from_pretrained`` code, and data paths."""

from __future__ import annotations

import string
from pathlib import Path

import pytest

from ada_atsc.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SEMEVAL = DATA / "semeval2014"

_WORDS = """the a an and or but of to in on at for with is was are were be been it this that these those
i we you he she they my our your their me us him her them not no very so too really just also only
food service staff place restaurant menu price prices wine drinks dinner lunch table waiter waitress
sushi pizza pasta chicken fish meal dish dishes dessert bar atmosphere ambience decor music kitchen
good great bad terrible excellent delicious nice friendly rude slow fast cheap expensive fresh cold hot
laptop battery screen keyboard price performance windows mac apple computer software hardware life
love like hate liked loved enjoyed recommend would will can could should had has have do did does
go went come came back again time night day hour wait minutes people everything nothing all some
""".split()


def build_tiny_bert(path: Path, *, seed: int = 0) -> Path:
    """Write a tiny random ``BertForPreTraining`` with a WordPiece tokenizer to ``path`` (a few seconds)."""
    import torch
    from transformers import BertConfig, BertForPreTraining, BertTokenizerFast

    path.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"[unused{i}]" for i in range(5)]
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    vocab = specials + chars + [f"##{c}" for c in string.ascii_lowercase + string.digits]
    vocab += [w for w in dict.fromkeys(_WORDS) if w not in vocab]
    vocab += ["##s", "##ed", "##ing", "##ly", "##er"]
    vocab = list(dict.fromkeys(vocab))
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast.from_pretrained(path, do_lower_case=True)  # reads vocab.txt
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    BertForPreTraining(config).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A tiny random BERT model directory, built once per test session."""
    return build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


FAST = ["--max_steps", "6", "--logging_steps", "3", "--per_gpu_train_batch_size", "8", "--disable_tqdm"]


@pytest.fixture(scope="session")
def sentence_dir(tmp_path_factory) -> Path:
    """SemEval-2014 restaurants prepared, sentence files cut to 60 sentences a split (quick ATE tests)."""
    folder = tmp_path_factory.mktemp("ate_data")
    assert cli_main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Train_v2.xml"), "--istrain",
                     "--noconfl", "--output_dir", str(folder)]) == 0
    assert cli_main(["prepare-semeval", "--files", str(SEMEVAL / "Restaurants_Test_Gold.xml"), "--noconfl",
                     "--output_dir", str(folder)]) == 0
    for name in ("train_split", "dev", "test"):  # keep the tests quick: a slice of each split
        for suffix in (".sentences.jsonl", ".categories.jsonl"):
            path = folder / f"{name}{suffix}"
            path.write_text("".join(path.read_text().splitlines(keepends=True)[:60]))
    return folder


@pytest.fixture(scope="session")
def extractor_dir(tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    """A tiny aspect extractor (6 steps: for plumbing, not for scores)."""
    out = tmp_path_factory.mktemp("ate") / "extractor"
    assert cli_main(["train", "--task", "ate", "--model", str(tiny_bert_dir), "--data_dir", str(sentence_dir),
                     "--output_dir", str(out), "--do_train", "--do_eval", "--evaluate_during_training", *FAST]) == 0
    return out


@pytest.fixture(scope="session")
def classifier_dir(tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    """A tiny ATSC classifier (6 steps)."""
    out = tmp_path_factory.mktemp("clf") / "classifier"
    assert cli_main(["train", "--model", str(tiny_bert_dir), "--data_dir", str(sentence_dir),
                     "--output_dir", str(out), "--do_train", *FAST]) == 0
    return out


@pytest.fixture(scope="session")
def unified_dir(tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    """A tiny unified tagger (6 steps)."""
    out = tmp_path_factory.mktemp("unified") / "tagger"
    assert cli_main(["train", "--task", "unified", "--model", str(tiny_bert_dir), "--data_dir", str(sentence_dir),
                     "--output_dir", str(out), "--do_train", "--do_eval", "--evaluate_during_training", *FAST]) == 0
    return out


@pytest.fixture(scope="session")
def category_model_dir(tiny_bert_dir, sentence_dir, tmp_path_factory) -> Path:
    """A tiny aspect-category model (6 steps) on the SemEval-2014 restaurant categories."""
    out = tmp_path_factory.mktemp("acsa") / "categories"
    assert cli_main(["train", "--task", "acsa", "--model", str(tiny_bert_dir), "--data_dir", str(sentence_dir),
                     "--output_dir", str(out), "--do_train", "--do_eval", "--evaluate_during_training", *FAST]) == 0
    return out


def src_env() -> dict:
    """The environment for a subprocess that must import this checkout's ``src``."""
    import os

    return {**os.environ, "PYTHONPATH": str(REPO / "src")}


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(*serve_args: str, port: int | None = None, timeout: float = 120, command: tuple = ("serve",),
                 env: dict | None = None):
    """``ada-atsc serve ARGS`` (or another ``command``) on 127.0.0.1 in a subprocess, once ``/readyz`` answers:
    (process, base URL)."""
    import subprocess
    import sys
    import time

    import httpx

    port = port or free_port()
    server = subprocess.Popen([sys.executable, "-m", "ada_atsc", *command, *serve_args, "--port", str(port)],
                              env={**src_env(), **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise AssertionError("the server did not come up")
