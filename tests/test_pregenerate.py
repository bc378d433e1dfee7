"""Pregeneration: the recipe's statistics, determinism, the formats and bad input."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ada_atsc.core.errors import AdaError
from ada_atsc.pregenerate import count_epochs, open_epoch, read_epoch_metrics, tokenizer_fingerprint
from ada_atsc.pregenerate.format import BINARY_FIELDS, field_path, metrics_path
from ada_atsc.pregenerate.pipeline import pregenerate
from ada_atsc.pregenerate.recipe import RecipeConfig, random_b_sentence_counts, truncate_pairs
from ada_atsc.pregenerate.tokenizer_info import build_tokenizer_info

WORDS = "the food was great and service slow but staff friendly pizza pasta wine dinner place menu".split()
ODD = ["zyx", "qwv", "kjh"]  # not in the tiny vocabulary: split into several word pieces


@pytest.fixture(scope="module")
def tokenizer(tiny_bert_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_bert_dir)


@pytest.fixture(scope="module")
def info(tokenizer, tiny_bert_dir):
    return build_tokenizer_info(tokenizer, name=str(tiny_bert_dir))


def write_corpus(path: Path, docs: list[list[str]]) -> Path:
    path.write_text("\n\n".join("\n".join(doc) for doc in docs) + "\n", encoding="utf-8")
    return path


def random_docs(n_docs: int, seed: int = 0, max_sents: int = 8, odd: bool = False) -> list[list[str]]:
    rnd = random.Random(seed)
    pool = WORDS + (ODD if odd else [])
    return [
        [" ".join(rnd.choice(pool) for _ in range(rnd.randint(2, 14))) for _ in range(rnd.randint(1, max_sents))]
        for _ in range(n_docs)
    ]


def run(corpus, out, info, **kwargs):
    cfg_keys = {"max_seq_len", "short_seq_prob", "masked_lm_prob", "max_predictions_per_seq", "whole_word_mask", "mlm_only"}
    cfg = RecipeConfig(**{k: v for k, v in kwargs.items() if k in cfg_keys})
    rest = {k: v for k, v in kwargs.items() if k not in cfg_keys}
    rest.setdefault("block_sentences", 256)
    rest.setdefault("progress", False)
    return pregenerate(corpus, out, info, cfg, **rest)


def all_instances(directory, epoch=0, tokenizer=None):
    ds = open_epoch(directory, epoch, tokenizer)
    return ds, [ds[i] for i in range(len(ds))]


def dir_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def big(tmp_path_factory, info):
    """A 3000-document corpus, 2 epochs at max_seq_len 64: the large seeded sample for the statistics."""
    root = tmp_path_factory.mktemp("big")
    corpus = write_corpus(root / "corpus.txt", random_docs(3000, seed=1))
    run(corpus, root / "out", info, max_seq_len=64, short_seq_prob=0.3, epochs=2, seed=7)
    return root


def test_structure_and_masking_statistics(big, info):
    ds, items = all_instances(big / "out")
    metrics = ds.metrics
    assert metrics["num_training_examples"] == len(ds) > 5000
    assert metrics["mlm_only"] is False and metrics["seed"] == 7
    specials = set(info.special_ids)
    template = info.sequence_template
    assert template.describe() == "[2] A [3] B [3]" and template.middle_in_segment_a == 1
    unused = {i for i, t in enumerate(info.id_to_token) if t.startswith("[unused")}
    n_mask = n_keep = n_rand = 0
    for item in items:
        ids, types, pos = item["input_ids"], item["token_type_ids"], item["masked_lm_positions"]
        assert len(ids) <= 64
        b = int(np.argmax(types))
        cls_id, sep_id = template.pair_prefix[0], template.pair_suffix[0]  # BERT's layout, from its tokenizer
        assert ids[0] == cls_id and ids[b - 1] == sep_id and ids[-1] == sep_id
        assert np.all(types[:b] == 0) and np.all(types[b:] == 1) and 1 < b < len(ids) - 1
        assert np.all(np.diff(pos) > 0), "positions sorted and unique"
        # exactly min(max_pred, max(1, round(len * 0.15))) tokens (no whole words here)
        assert len(pos) == min(20, max(1, round(len(ids) * 0.15)))
        assert not set(pos.tolist()) & {0, b - 1, len(ids) - 1}, "a special token was masked"
        assert not set(item["masked_lm_ids"].tolist()) & specials
        shown = ids[pos]
        n_mask += int((shown == info.mask_id).sum())
        kept = shown == item["masked_lm_ids"]
        n_keep += int(kept.sum())
        replaced = shown[(shown != info.mask_id) & ~kept]
        n_rand += replaced.size
        assert not set(replaced.tolist()) & (specials | unused), "random token drawn from special/[unused]"
    total = n_mask + n_keep + n_rand
    # 80/10/10: a binomial proportion over `total` draws has sd sqrt(p(1-p)/total) (< 0.004 here); 5 sd bounds
    for observed, p in ((n_mask, 0.8), (n_keep, 0.1), (n_rand, 0.1)):
        assert abs(observed / total - p) < 5 * np.sqrt(p * (1 - p) / total)
    # the masked fraction is round(0.15 * len)/len per instance: off by at most 0.5/len on average
    assert abs(metrics["masked_fraction"] - 0.15) < 0.5 / metrics["mean_length"] + 0.01
    assert metrics["masked_fraction"] == pytest.approx(total / sum(len(i["input_ids"]) for i in items), abs=1e-6)


def test_short_targets_follow_short_seq_prob(big):
    for epoch in (0, 1):
        m = read_epoch_metrics(big / "out", epoch)
        n = m["documents"]  # one target length per document and epoch
        assert abs(m["short_fraction"] - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)


def test_epochs_differ(big):
    a, b = open_epoch(big / "out", 0), open_epoch(big / "out", 1)
    assert len(a) != len(b) or any(not np.array_equal(a[i]["input_ids"], b[i]["input_ids"]) for i in range(20))


def _expected_random_next(m: int) -> tuple[Fraction, Fraction]:
    """(instances, random instances) expected from a chunk of m sentences when the target is never reached."""
    if m == 1:
        return Fraction(1), Fraction(1)
    inst, rand = Fraction(1), Fraction(1, 2)
    for a in range(1, m):
        sub_i, sub_r = _expected_random_next(m - a)
        inst += Fraction(1, 2 * (m - 1)) * sub_i
        rand += Fraction(1, 2 * (m - 1)) * sub_r
    return inst, rand


def test_random_next_fraction_matches_the_2019_chunking(tmp_path, info):
    """Documents of 4 short sentences, target never reached: the put-back rule fixes the expected fraction."""
    docs = [[f"the food was {w}" for w in ("great", "slow", "good", "bad")] for _ in range(1500)]
    corpus = write_corpus(tmp_path / "c.txt", docs)
    run(corpus, tmp_path / "out", info, max_seq_len=128, short_seq_prob=0.0, epochs=1)
    ds, items = all_instances(tmp_path / "out")
    inst, rand = _expected_random_next(4)
    expected = float(rand / inst)
    labels = np.array([item["next_sentence_label"] for item in items])
    # instances of one document are dependent, so use the per-document count (1500) for the 5-sd bound
    assert abs(labels.mean() - expected) < 5 * np.sqrt(expected * (1 - expected) / 1500)
    assert ds.metrics["random_next_fraction"] == pytest.approx(labels.mean(), abs=1e-6)
    for item in items:  # a true continuation is the next sentences of the same document, in order
        if item["next_sentence_label"] == 0:
            assert len(item["input_ids"]) <= 128


def test_whole_words_are_masked_whole(tmp_path, info):
    corpus = write_corpus(tmp_path / "c.txt", random_docs(400, seed=3, odd=True))
    run(corpus, tmp_path / "out", info, max_seq_len=48, whole_word_mask=True, epochs=1)
    _, items = all_instances(tmp_path / "out")
    vocab = info.id_to_token
    partial = 0
    for item in items:
        original = item["input_ids"].copy()
        original[item["masked_lm_positions"]] = item["masked_lm_ids"]
        masked = np.zeros(len(original), dtype=bool)
        masked[item["masked_lm_positions"]] = True
        types = item["token_type_ids"]
        start = 0
        for i in range(1, len(original) + 1):  # words: a token and the "##" pieces after it, within a segment
            if i == len(original) or not vocab[original[i]].startswith("##") or types[i] != types[i - 1] \
                    or vocab[original[i - 1]] in ("[SEP]", "[CLS]"):
                word = masked[start:i]
                partial += int(word.any() and not word.all())
                start = i
        assert len(item["masked_lm_positions"]) <= min(20, max(1, round(len(original) * 0.15)))
    assert partial == 0


def test_same_seed_same_bytes_and_workers_agree(tmp_path, info):
    corpus = write_corpus(tmp_path / "c.txt", random_docs(600, seed=5))
    run(corpus, tmp_path / "a", info, epochs=2, seed=3, block_sentences=128)
    run(corpus, tmp_path / "b", info, epochs=2, seed=3, block_sentences=128)
    run(corpus, tmp_path / "w2", info, epochs=2, seed=3, block_sentences=128, num_workers=2)
    run(corpus, tmp_path / "other", info, epochs=2, seed=4, block_sentences=128)
    a = dir_bytes(tmp_path / "a")
    assert a == dir_bytes(tmp_path / "b")
    assert a == dir_bytes(tmp_path / "w2")
    assert a["epoch_0.input_ids.npy"] != dir_bytes(tmp_path / "other")["epoch_0.input_ids.npy"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "staging left behind"


def test_json_output_is_the_2019_format_and_matches_binary(tmp_path, info, tokenizer):
    corpus = write_corpus(tmp_path / "c.txt", random_docs(200, seed=6))
    run(corpus, tmp_path / "bin", info, epochs=1, seed=9)
    run(corpus, tmp_path / "json", info, epochs=1, seed=9, output_format="json")
    lines = (tmp_path / "json" / "epoch_0.json").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert set(first) == {"tokens", "segment_ids", "is_random_next", "masked_lm_positions", "masked_lm_labels"}
    assert first["tokens"][0] == "[CLS]" and isinstance(first["is_random_next"], bool)
    metrics = json.loads((tmp_path / "json" / "epoch_0_metrics.json").read_text())
    assert metrics["num_training_examples"] == len(lines) and metrics["max_seq_len"] == 128
    assert count_epochs(tmp_path / "json") == 1
    with pytest.raises(AdaError, match="tokenizer"):
        open_epoch(tmp_path / "json", 0)
    _, from_json = all_instances(tmp_path / "json", tokenizer=tokenizer)
    _, from_bin = all_instances(tmp_path / "bin")
    assert len(from_json) == len(from_bin)
    for x, y in zip(from_json, from_bin):
        assert x.keys() == y.keys()
        for key in x:
            assert np.array_equal(x[key], y[key]), key


def test_reads_a_2019_style_directory(tmp_path, tokenizer):
    """Data pregenerated by the 2019 script: JSON lines plus a two-key metrics file."""
    record = {"tokens": ["[CLS]", "the", "[MASK]", "[SEP]", "was", "great", "[SEP]"], "segment_ids": [0, 0, 0, 0, 1, 1, 1],
              "is_random_next": False, "masked_lm_positions": [2], "masked_lm_labels": ["food"]}
    (tmp_path / "epoch_0.json").write_text(json.dumps(record) + "\n")
    (tmp_path / "epoch_0_metrics.json").write_text(json.dumps({"num_training_examples": 1, "max_seq_len": 128}))
    item = open_epoch(tmp_path, 0, tokenizer)[0]
    assert item["token_type_ids"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert item["masked_lm_ids"].tolist() == [tokenizer.convert_tokens_to_ids("food")]
    assert item["next_sentence_label"] == 0
    (tmp_path / "epoch_0_metrics.json").write_text(json.dumps({"num_training_examples": 2, "max_seq_len": 128}))
    with pytest.raises(AdaError, match="epoch_0.json"):
        open_epoch(tmp_path, 0, tokenizer)


def test_mlm_only_packs_full_sequences(tmp_path, info):
    corpus = write_corpus(tmp_path / "c.txt", random_docs(300, seed=8))
    run(corpus, tmp_path / "out", info, max_seq_len=32, short_seq_prob=0.0, mlm_only=True, epochs=1)
    ds, items = all_instances(tmp_path / "out")
    assert ds.metrics["mlm_only"] is True and ds.metrics["random_next_fraction"] is None
    assert all(item["next_sentence_label"] == -1 and not item["token_type_ids"].any() for item in items)
    full = np.mean(ds.lengths == 32)
    assert full > 0.95 and ds.lengths.max() == 32


def test_metrics_disagreeing_with_data_is_an_error(tmp_path, info):
    corpus = write_corpus(tmp_path / "c.txt", random_docs(50))
    run(corpus, tmp_path / "out", info, epochs=2)
    path = metrics_path(tmp_path / "out", 0)
    metrics = json.loads(path.read_text())
    metrics["num_training_examples"] += 1
    path.write_text(json.dumps(metrics))
    with pytest.raises(AdaError, match="lengths.npy"):
        open_epoch(tmp_path / "out", 0)
    field_path(tmp_path / "out", 1, BINARY_FIELDS[0]).unlink()
    assert count_epochs(tmp_path / "out") == 1  # an epoch with a missing file is not complete
    metrics_path(tmp_path / "out", 0).unlink()
    assert count_epochs(tmp_path / "out") == 0
    with pytest.raises(AdaError, match="epoch_0_metrics.json"):
        read_epoch_metrics(tmp_path / "out", 0)


def test_bad_input(tmp_path, info):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n  \n")
    with pytest.raises(AdaError, match="no sentences"):
        run(empty, tmp_path / "o1", info)
    single = write_corpus(tmp_path / "single.txt", [["the food was great", "the wine was great"]])
    with pytest.raises(AdaError, match="only one document"):
        run(single, tmp_path / "o2", info)
    assert not (tmp_path / "o2").exists()
    long_line = " ".join(WORDS * 2000)  # 30k words on one line
    raw = (
        "the food was great\n\u200b\n\u200b\u200c\u200d\nthe staff was friendly\n\n"  # zero-width lines
        "only one sentence here\n\n"  # a document of one sentence
        + long_line + "\nwine\n\n"
    ).encode() + b"caf\xe9 was \xff great\nthe menu\n"  # latin-1 bytes
    corpus = tmp_path / "odd.txt"
    corpus.write_bytes(raw)
    run(corpus, tmp_path / "out", info, max_seq_len=64, epochs=3)
    m = read_epoch_metrics(tmp_path / "out", 0)
    assert m["corpus"]["documents"] == 4 and m["corpus"]["non_utf8_lines"] == 1
    assert m["corpus"]["dropped_lines_without_tokens"] == 2
    for epoch in range(3):
        ds = open_epoch(tmp_path / "out", epoch)
        assert ds.lengths.max() <= 64 and len(ds) >= 4
    # an existing output directory holding epochs is refused without --overwrite_output_dir
    with pytest.raises(AdaError, match="overwrite_output_dir"):
        run(corpus, tmp_path / "out", info, epochs=1)
    assert count_epochs(tmp_path / "out") == 3
    run(corpus, tmp_path / "out", info, epochs=1, overwrite=True)
    assert count_epochs(tmp_path / "out") == 1


def test_truncation_keeps_both_sides_and_fits():
    rng = np.random.default_rng(0)
    a0 = np.zeros(1000, dtype=np.int64)
    a1 = rng.integers(1, 300, 1000)
    b0 = np.full(1000, 10_000)
    b1 = b0 + rng.integers(1, 300, 1000)
    na0, na1, nb0, nb1 = truncate_pairs(rng, a0, a1, b0, b1, 61)
    la, lb = na1 - na0, nb1 - nb0
    assert np.all(la + lb <= 61) and np.all(la >= 1) and np.all(lb >= 1)
    assert np.all((na0 >= a0) & (na1 <= a1) & (nb0 >= b0) & (nb1 <= b1))
    over = (a1 - a0) + (b1 - b0) > 61
    assert np.all(la[over] + lb[over] == 61)
    # cuts come from both ends about equally often
    front = (na0 - a0).sum() + (nb0 - b0).sum()
    back = (a1 - na1).sum() + (b1 - nb1).sum()
    assert abs(front / (front + back) - 0.5) < 0.02


def test_fingerprint_is_stable_and_sensitive(tiny_bert_dir):
    from transformers import AutoTokenizer

    a = AutoTokenizer.from_pretrained(tiny_bert_dir)
    b = AutoTokenizer.from_pretrained(tiny_bert_dir)
    c = AutoTokenizer.from_pretrained(tiny_bert_dir, do_lower_case=False)
    assert tokenizer_fingerprint(a) == tokenizer_fingerprint(b) != tokenizer_fingerprint(c)


def test_cli_with_the_2019_flags(tmp_path, tiny_bert_dir, monkeypatch, capsys):
    from ada_atsc.cli import main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    corpus = write_corpus(tmp_path / "c.txt", random_docs(100, seed=2))
    out = tmp_path / "out"
    argv = ["pregenerate", "--train_corpus", str(corpus), "--output_dir", str(out), "--bert_model", str(tiny_bert_dir),
            "--do_lower_case", "--reduce_memory", "--num_workers", "1", "--epochs_to_generate", "2",
            "--max_seq_len", "40", "--short_seq_prob", "0.1", "--masked_lm_prob", "0.15",
            "--max_predictions_per_seq", "20", "--do_whole_word_mask", "--no_progress"]
    assert main(argv) == 0
    assert count_epochs(out) == 2
    assert open_epoch(out, 1).lengths.max() <= 40
    assert main(argv) == 2  # output exists
    assert "overwrite_output_dir" in capsys.readouterr().err
    assert main([*argv[:5], "--bert_model", "no-such/model-xyz", "--overwrite_output_dir"]) == 2
    assert "pass the path of a local model directory" in capsys.readouterr().err


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 40), st.booleans()), min_size=1, max_size=60), st.data())
def test_random_b_sentence_counts_match_a_plain_loop(sentences, data):
    """Sentences taken by a random B: from its start, until the target is reached or its document ends."""
    lengths = [n for n, _ in sentences]
    last = [end for _, end in sentences]
    last[-1] = True  # the corpus ends a document
    info = np.asarray([min(n, 0x7FFF) | (0x8000 if end else 0) for n, end in zip(lengths, last)], dtype=np.uint16)
    window = data.draw(st.integers(1, 30))
    starts = np.asarray(data.draw(st.lists(st.integers(0, len(lengths) - 1), min_size=1, max_size=10)))
    targets = np.asarray(data.draw(st.lists(st.integers(0, window), min_size=starts.size, max_size=starts.size)))
    expected = []
    for s, target in zip(starts, targets):
        got = taken = 0
        for j in range(s, min(s + window, len(lengths))):
            got += lengths[j]
            taken += 1
            if got >= max(target, 1) or last[j]:
                break
        expected.append(taken)
    np.testing.assert_array_equal(random_b_sentence_counts(starts, targets, info, window), expected)
