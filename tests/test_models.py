"""Model names behave as in transformers: local directories, the Hugging Face cache, downloads when online."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from ada_atsc.core.errors import AdaError
from ada_atsc.runtime.models import resolve_model_path

from .conftest import REPO


def _fake_cache(cache, model_dir, repo="acme/tiny-bert", revision="0123456789abcdef0123456789abcdef01234567"):
    """The Hugging Face cache layout for one snapshot of ``repo`` (as a download would leave it)."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / revision
    shutil.copytree(model_dir, snapshot)
    (folder / "refs").mkdir(parents=True)
    (folder / "refs" / "main").write_text(revision)
    return snapshot


def test_a_cached_snapshot_is_used_without_network(tiny_bert_dir, tmp_path):
    snapshot = _fake_cache(tmp_path / "hub", tiny_bert_dir)
    assert resolve_model_path("acme/tiny-bert", cache_dir=str(tmp_path / "hub"), offline=True) == str(snapshot)


def test_offline_and_not_cached_is_one_clear_line(tmp_path):
    with pytest.raises(AdaError, match=r"model 'acme/absent' is not a local directory .* downloads are off .* local model directory"):
        resolve_model_path("acme/absent", cache_dir=str(tmp_path), offline=True)


def test_an_unreachable_hub_names_the_model_and_the_endpoint(tmp_path):
    """Online, but the endpoint is a closed local port: the command stops with one line, exit 2."""
    env = {**os.environ, "HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_ENDPOINT": "http://127.0.0.1:9",
           "HF_HUB_CACHE": str(tmp_path / "hub"), "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.run([sys.executable, "-m", "ada_atsc", "--log_level", "error", "train", "--model", "acme/absent-model", "--train_file",
                           str(REPO / "data" / "semeval2014" / "Laptops_Test_Gold.xml"), "--output_dir",
                           str(tmp_path / "out"), "--do_train"], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert "acme/absent-model" in err and "http://127.0.0.1:9" in err and "local model directory" in err
    assert not (tmp_path / "out").exists()
    proc = subprocess.run([sys.executable, "-m", "ada_atsc", "--log_level", "error", "pregenerate", "--bert_model",
                           "acme/absent-model", "--mlm_only", "--train_corpus", str(REPO / "data" / "corpora" /
                           "dev_corpus_hotels.txt"), "--output_dir", str(tmp_path / "pregen")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "http://127.0.0.1:9" in proc.stderr and "\n" not in proc.stderr.strip()
    assert not (tmp_path / "pregen").exists()


def test_a_missing_directory_is_not_looked_up_on_the_hub(tmp_path):
    for name in (str(tmp_path / "absent"), "./absent", "runs/a/b"):
        with pytest.raises(AdaError, match="model directory not found"):
            resolve_model_path(name, offline=False)


def test_offline_and_cache_dir_flags_reach_every_model_command(tiny_bert_dir, tmp_path, monkeypatch):
    """``--cache_dir`` finds a cached hub name; ``--offline`` refuses one that is not cached, in one line."""
    from ada_atsc.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the flags set these two for the process: restored afterwards
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "elsewhere"))
    _fake_cache(tmp_path / "hub", tiny_bert_dir)
    corpus = REPO / "data" / "corpora" / "dev_corpus_hotels.txt"
    common = ["--train_corpus", str(corpus), "--max_steps", "1", "--train_batch_size", "4", "--no_progress",
              "--do_train"]
    assert main(["lm-finetune-simple", "--bert_model", "acme/tiny-bert", "--cache_dir", str(tmp_path / "hub"),
                 "--offline", "--output_dir", str(tmp_path / "adapted"), *common]) == 0
    assert (tmp_path / "adapted" / "config.json").is_file()
    assert main(["pregenerate", "--bert_model", "acme/not-cached", "--offline", "--train_corpus", str(corpus),
                 "--output_dir", str(tmp_path / "pregen")]) == 2
    assert not (tmp_path / "pregen").exists()
