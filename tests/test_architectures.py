"""Every step works for every encoder family: BERT, RoBERTa, DeBERTa-v2/v3, ModernBERT, ELECTRA, DistilBERT.

Each family gets a tiny random model with a tokenizer the test builds itself (:mod:`tests.tiny_models`), so
nothing is downloaded: the sequence layout is the tokenizer's own, the sparse masked-LM head gives the dense
head's loss and gradients, and corpus -> pregenerate -> lm-finetune -> train -> predict runs end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ada_atsc.cli import main
from ada_atsc.core.sequence_template import SequenceTemplate, model_uses_token_types
from ada_atsc.runtime.models import load_tokenizer

from .conftest import FAST, REPO
from .tiny_models import ARCHITECTURES, build_tiny_model

HOTELS = REPO / "data" / "corpora" / "dev_corpus_hotels.txt"
PAIRS = [("The food was great but the service was slow.", "service"),
         ("Battery life isn't what they promised!", "battery life"),
         ("Zimmerservice: überteuert, naja.", "zimmerservice")]


@pytest.fixture(scope="module", params=ARCHITECTURES)
def model_dir(request, tmp_path_factory) -> Path:
    return build_tiny_model(request.param, tmp_path_factory.mktemp(request.param.replace("-", "_")))


def _model_type(model_dir: Path) -> str:
    return json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["model_type"]


def test_the_template_reproduces_the_tokenizers_own_encodings(model_dir):
    tokenizer = load_tokenizer(str(model_dir))
    template = SequenceTemplate.from_tokenizer(tokenizer)
    for text, aspect in PAIRS:
        a = tokenizer(text, add_special_tokens=False)["input_ids"]
        b = tokenizer(aspect, add_special_tokens=False)["input_ids"]
        expected = tokenizer(text, aspect, return_token_type_ids=True)
        ids, types = template.pair(a, b)
        assert ids == expected["input_ids"]
        assert types == expected["token_type_ids"]
        assert [*template.single_prefix, *a, *template.single_suffix] == tokenizer(text)["input_ids"]
        index, lengths = template.pair_index(np.array([0]), np.array([len(a)]), np.array([len(a)]),
                                             np.array([len(a) + len(b)]))
        source = np.asarray(a + b)
        rebuilt = np.where(index >= 0, source[np.maximum(index, 0)], template.pair_specials[np.maximum(-1 - index, 0)])
        assert rebuilt.tolist() == ids and lengths.tolist() == [len(ids)]
    if _model_type(model_dir) == "roberta":
        assert template.pair_overhead == 4 and not template.has_segments  # <s> A </s></s> B </s>
    else:
        assert template.pair_overhead == 3


def _batch(config, generator: torch.Generator) -> dict:
    ids = torch.randint(5, config.vocab_size, (3, 20), generator=generator)
    labels = torch.full_like(ids, -100)
    mask = torch.rand(ids.shape, generator=generator) < 0.2
    mask[:, 2] = True
    labels[mask] = ids[mask]
    attention = torch.ones_like(ids)
    attention[0, 15:] = 0
    labels[0, 15:] = -100
    batch = {"input_ids": ids, "attention_mask": attention, "labels": labels}
    if model_uses_token_types(config):
        batch["token_type_ids"] = (torch.arange(20) >= 10).long().expand(3, 20)
    return batch


def test_the_sparse_head_gives_the_dense_heads_loss_and_gradients(model_dir):
    from ada_atsc.lm.heads import load_pretraining_model

    dense = load_pretraining_model(str(model_dir), with_nsp=False, seed=3, sparse=False)
    sparse = load_pretraining_model(str(model_dir), with_nsp=False, seed=3, sparse=True)
    assert sparse.sparse and not dense.sparse and type(sparse.model).__name__.startswith("Sparse")
    batch = _batch(dense.model.config, torch.Generator().manual_seed(0))
    losses = []
    for loaded in (dense, sparse):
        model = loaded.model.eval()
        loss = model(**batch).loss
        loss.backward()
        losses.append((loss.item(), model.get_input_embeddings().weight.grad.clone()))
    assert abs(losses[0][0] - losses[1][0]) < 1e-5
    assert torch.allclose(losses[0][1], losses[1][1], atol=1e-6)


def _cont_only_ids(tokenizer, lines: list[str]) -> set[int]:
    """Token ids that only ever continue a word (never start one) in ``lines``, by the tokenizer's word ids."""
    starts: set[int] = set()
    conts: set[int] = set()
    for enc in tokenizer(lines, add_special_tokens=False).encodings:
        previous = None
        for token, word in zip(enc.ids, enc.word_ids):
            (conts if word is not None and word == previous else starts).add(token)
            previous = word
    return conts - starts


def test_corpus_to_predictions_end_to_end(model_dir, sentence_dir, tmp_path, capsys):
    from transformers import AutoModelForMaskedLM, AutoModelForSequenceClassification

    from ada_atsc.pregenerate.format import open_epoch

    model_type = _model_type(model_dir)
    mlm_only = model_type != "bert"
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("".join(HOTELS.read_text(encoding="utf-8").splitlines(keepends=True)[:1500]), encoding="utf-8")
    pregen = tmp_path / "pregenerated"
    argv = ["pregenerate", "--train_corpus", str(corpus), "--bert_model", str(model_dir), "--output_dir", str(pregen),
            "--epochs_to_generate", "1", "--max_seq_len", "48", "--do_whole_word_mask", "--no_progress"]
    if mlm_only:  # sentence pairs for a family without a next-sentence head: refused, with the flag to add
        assert main(argv) == 2
        assert "--mlm_only is required" in capsys.readouterr().err and not pregen.exists()
        argv.append("--mlm_only")
    assert main(argv) == 0

    tokenizer = load_tokenizer(str(model_dir))
    template = SequenceTemplate.from_tokenizer(tokenizer)
    data = open_epoch(pregen, 0)
    metrics = data.metrics
    assert metrics["sequence_layout"] == template.describe(single=mlm_only)
    assert metrics["model_type"] == model_type
    assert 0.12 <= metrics["masked_fraction"] <= 0.16
    prefix = template.single_prefix if mlm_only else template.pair_prefix
    suffix = template.single_suffix if mlm_only else template.pair_suffix
    cont_only = _cont_only_ids(tokenizer, corpus.read_text(encoding="utf-8").splitlines()[:1500])
    specials = set(tokenizer.all_special_ids)
    checked = 0
    for i in range(len(data)):
        item = data[i]
        ids = item["input_ids"].copy()
        ids[item["masked_lm_positions"]] = item["masked_lm_ids"]  # the original tokens
        assert ids[:len(prefix)].tolist() == list(prefix) and ids[len(ids) - len(suffix):].tolist() == list(suffix)
        assert len(ids) <= 48 and not set(item["masked_lm_ids"].tolist()) & specials
        if not template.has_segments or mlm_only:
            assert not item["token_type_ids"].any()
        masked = set(item["masked_lm_positions"].tolist())
        for p in masked:  # whole words: a masked token's word-continuation neighbours are masked with it
            if p + 1 < len(ids) and int(ids[p + 1]) in cont_only:
                assert p + 1 in masked, f"instance {i}: word split at {p + 1}"
                checked += 1
    assert checked >= 5, "the whole-word check saw too few multi-token words"

    adapted = tmp_path / "adapted"
    assert main(["lm-finetune", "--pregenerated_data", str(pregen), "--bert_model", str(model_dir), "--output_dir",
                 str(adapted), "--epochs", "1", "--max_steps", "3", "--train_batch_size", "8", "--no_progress"]) == 0
    summary = json.loads((adapted / "training_summary.json").read_text(encoding="utf-8"))
    assert summary["sparse_mlm_head"] is True
    saved = json.loads((adapted / "config.json").read_text(encoding="utf-8"))
    assert not saved["architectures"][0].startswith("Sparse")
    AutoModelForMaskedLM.from_pretrained(adapted)

    classifier = tmp_path / "classifier"
    assert main(["train", "--model", str(adapted), "--data_dir", str(sentence_dir), "--output_dir", str(classifier),
                 "--do_train", *FAST]) == 0
    assert AutoModelForSequenceClassification.from_pretrained(classifier).config.model_type == model_type
    capsys.readouterr()
    assert main(["predict", "--model", str(classifier), "--text", PAIRS[0][0], "--aspect", "service"]) == 0
    record = json.loads(capsys.readouterr().out.splitlines()[0])
    assert record["label"] in ("positive", "negative", "neutral") and record["aspect"] == "service"

    extractor = tmp_path / "extractor"  # aspect extraction: word-level tags from the tokenizer's word ids
    assert main(["train", "--task", "ate", "--model", str(adapted), "--data_dir", str(sentence_dir), "--output_dir",
                 str(extractor), "--do_train", *FAST]) == 0
    assert main(["absa", "--extractor", str(extractor), "--classifier", str(classifier), "--text", PAIRS[0][0]]) == 0
    result = json.loads(capsys.readouterr().out.splitlines()[-1])
    for aspect in result["aspects"]:  # offsets point into the original text, whatever the tokenizer
        assert PAIRS[0][0][aspect["from"]:aspect["to"]] == aspect["term"]


def test_simple_mode_lays_out_pairs_as_the_tokenizer_and_trains(tmp_path):
    """``lm-finetune-simple`` on RoBERTa: ``<s> A </s></s> B </s>``, no segment ids, B always the next line
    (no next-sentence head to learn from), and the run writes a model the Auto classes open."""
    from transformers import AutoModelForMaskedLM

    from ada_atsc.lm.simple_data import OnTheFlyPairs, read_documents

    model_dir = build_tiny_model("roberta", tmp_path / "roberta")
    tokenizer = load_tokenizer(str(model_dir))
    pairs = OnTheFlyPairs(read_documents(HOTELS), tokenizer, max_seq_length=40, epochs=1, seed=0, next_sentence=False)
    for i in range(len(pairs)):
        item = pairs[i]
        ids = item["input_ids"].copy()
        ids[item["masked_lm_positions"]] = item["masked_lm_ids"]
        assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id and len(ids) <= 40
        assert (ids == tokenizer.sep_token_id).sum() == 3 and not item["token_type_ids"].any()
        assert item["next_sentence_label"] == 0
    out = tmp_path / "adapted"
    assert main(["lm-finetune-simple", "--train_corpus", str(HOTELS), "--bert_model", str(model_dir), "--output_dir",
                 str(out), "--do_train", "--max_steps", "2", "--train_batch_size", "4", "--max_seq_length", "40",
                 "--no_progress"]) == 0
    assert AutoModelForMaskedLM.from_pretrained(out).config.model_type == "roberta"


def test_byte_level_sentences_that_continue_a_document_follow_a_space(tmp_path):
    """RoBERTa/ModernBERT tokenise a line alone without a leading space; in running text the next sentence's
    first word has one (``Ġ``), so a packed ``--mlm_only`` stream reads like the text, not ``fair.The staff``."""
    from ada_atsc.pregenerate.corpus_index import build_index
    from ada_atsc.pregenerate.tokenizer_info import build_tokenizer_info

    model_dir = build_tiny_model("roberta", tmp_path / "roberta")
    tokenizer = load_tokenizer(str(model_dir))
    info = build_tokenizer_info(tokenizer)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("The room was fair.\nThe staff was nice.\n\nGood food.\nBad service.\n", encoding="utf-8")
    build_index(corpus, info, tmp_path / "index", whole_word=True, progress=False)
    tokens = np.fromfile(tmp_path / "index" / "tokens.bin", dtype=info.token_dtype).astype(np.int64)
    offsets = np.fromfile(tmp_path / "index" / "sent_off.bin", dtype=np.int64)
    first = [tokenizer.convert_ids_to_tokens(int(tokens[o])) for o in offsets[:-1]]
    assert [t.startswith("Ġ") for t in first] == [False, True, False, True]
    assert tokenizer.decode(tokens[offsets[0]:offsets[2]].tolist()) == "The room was fair. The staff was nice."


def test_pair_data_is_refused_for_a_family_without_a_next_sentence_head(tmp_path, capsys):
    """A tokenizer-only directory hides the family from pregenerate (a warning); lm-finetune then refuses."""
    import shutil

    model_dir = build_tiny_model("deberta-v2", tmp_path / "deberta")
    tokenizer_only = tmp_path / "tokenizer"
    tokenizer_only.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(model_dir / name, tokenizer_only / name)
    pregen = tmp_path / "pregen"
    assert main(["pregenerate", "--train_corpus", str(HOTELS), "--bert_model", str(tokenizer_only), "--output_dir",
                 str(pregen), "--epochs_to_generate", "1", "--max_seq_len", "48", "--no_progress"]) == 0
    capsys.readouterr()
    out = tmp_path / "adapted"
    assert main(["lm-finetune", "--pregenerated_data", str(pregen), "--bert_model", str(model_dir), "--output_dir",
                 str(out), "--max_steps", "1", "--no_progress"]) == 2
    assert "--mlm_only" in capsys.readouterr().err and not out.exists()
