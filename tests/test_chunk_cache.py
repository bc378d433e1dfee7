"""The corpus pass's chunk cache must give exactly the tokenizer's own ids, for any text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ada_atsc.pregenerate.chunk_cache import ChunkCache, tokenizer_is_chunk_local
from ada_atsc.pregenerate.corpus_index import build_index, encode_lines, read_line_blocks
from ada_atsc.pregenerate.tokenizer_info import build_tokenizer_info
from ada_atsc.runtime.models import packaged_minilm_path

# Characters where a naive whitespace split and BERT's normaliser disagree (control characters that BERT
# deletes but Python splits on, no-break and ideographic spaces, zero-width characters, accents, CJK
# characters that BERT isolates), mixed with plain words and punctuation.
TRICKY = [" ", "  ", "\t", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2028", "\u3000", "\u200b", "\ufeff",
          "\u00e9", "e\u0301", "\u4e2d", "\U0001f600", "[MASK]", "[SEP]", "'", ",", ".", "-", "$", "^", "`"]
WORDS = ["the", "food", "was", "Great", "SERVICE", "pizza's", "don't", "zyxwv", "1,000", "e-mail", "naïve",
         "caf\u00e9", "http://x.io/a?b=c"]
line_strategy = st.lists(st.sampled_from(WORDS + TRICKY), min_size=1, max_size=12).map("".join)


@pytest.fixture(scope="module")
def info():
    from transformers import AutoTokenizer

    return build_tokenizer_info(AutoTokenizer.from_pretrained(packaged_minilm_path()))


@pytest.fixture(scope="module")
def backend(info):
    from tokenizers import Tokenizer

    return Tokenizer.from_str(info.backend_json)


def test_bert_is_chunk_local_and_others_are_not(info):
    assert tokenizer_is_chunk_local(info.backend_json)
    backend = json.loads(info.backend_json)
    for change in (
        {"pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}},
        {"pre_tokenizer": None},
        {"normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "_"}},
        {"added_tokens": backend["added_tokens"] + [{"id": 1, "content": "new york", "special": False}]},
    ):
        assert not tokenizer_is_chunk_local(json.dumps({**backend, **change}))


@settings(max_examples=60, deadline=None)
@given(st.lists(line_strategy, min_size=1, max_size=20), st.sampled_from([False, True]))
def test_cache_gives_the_tokenizers_ids(info, backend, lines, whole_word):
    texts = [line.strip() or "x" for line in lines]
    dtype = info.token_dtype
    cache = ChunkCache(backend, dtype, whole_word, max_entries=4)  # tiny: batch-only entries are exercised
    expected = encode_lines(backend, texts, whole_word, dtype)
    for _ in range(2):  # a second pass reads what the first one cached
        got = cache.encode(texts)
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
    assert cache.entries <= 4
    assert len(cache.index) == cache.entries


def test_index_is_the_same_with_and_without_cache_and_block_size(tmp_path, info):
    lines = ["\ufeffFirst review , first sentence.", "Tab\tseparated\x0bcontrol", "", "\u200b", "", "caf\u00e9 au lait"]
    lines += ["", "x " * 5000, "The pizza's crust was great!!", "\r", "Second doc\r", "naïve \u4e2d\u6587 text", ""]
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes("\n".join(lines).encode("utf-8") + b"\nbad \xff byte line\nlast line without newline")
    results = {}
    for cache in (False, True):
        for block in (1 << 20, 64):
            for whole_word in (False, True):
                out = tmp_path / f"index-{cache}-{block}-{whole_word}"
                index = build_index(corpus, info, out, whole_word=whole_word, progress=False, chunk_cache=cache,
                                    block_bytes=block)
                names = ["tokens", "sent_off", "sent_info", "doc_sent"] + (["cont"] if whole_word else [])
                results[cache, block, whole_word] = (
                    {name: (out / f"{name}.bin").read_bytes() for name in names},
                    (index.num_sentences, index.num_documents, index.non_utf8_lines, index.empty_sentences),
                )
    for whole_word in (False, True):
        reference = results[False, 1 << 20, whole_word]
        # 9 sentences in 5 documents (a line of only "\r" is blank), one bad line, the zero-width line dropped
        assert reference[1] == (9, 5, 1, 1)
        for cache in (False, True):
            for block in (1 << 20, 64):
                assert results[cache, block, whole_word] == reference


def test_read_line_blocks_reports_bad_lines(tmp_path: Path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"ok\n\xc3\x28 bad\nfine\n\xff\n")
    blocks = list(read_line_blocks(str(path), 0, path.stat().st_size, 1 << 20))
    assert [b[0] for b in blocks] == [["ok", "\ufffd( bad", "fine", "\ufffd"]]
    assert blocks[0][2] == [1, 3]


def test_whole_lines_are_not_kept_but_words_are(info, backend):
    cache = ChunkCache(backend, info.token_dtype, False)
    line = "tab\tseparated line that cannot be split into words safely " * 2
    texts = [line, "good food", line]
    np.testing.assert_array_equal(cache.encode(texts)[0], encode_lines(backend, texts, False, info.token_dtype)[0])
    assert set(cache.index) == {"good", "food"}
    assert cache.misses == 3  # the long line was tokenised once for the batch, then forgotten
