"""Inference batches: length-sorted, capped in rows and in padded tokens."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ada_atsc.runtime.batching import length_sorted_batches


def test_a_long_tail_does_not_pad_a_whole_batch():
    lengths = [10, 12, 11, 90, 10, 40]
    assert length_sorted_batches(lengths, 4, max_tokens=100) == [[0, 4, 2, 1], [5], [3]]
    assert length_sorted_batches(lengths, 4, max_tokens=10_000) == [[0, 4, 2, 1], [5, 3]]  # rows cap only
    assert length_sorted_batches([500], 4, max_tokens=100) == [[0]]  # longer than the budget: alone
    assert length_sorted_batches([], 4) == []


@given(st.lists(st.integers(1, 200), max_size=300), st.integers(1, 64), st.integers(1, 5000))
def test_every_index_once_and_every_batch_within_its_limits(lengths, batch_size, budget):
    batches = length_sorted_batches(lengths, batch_size, max_tokens=budget)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) <= batch_size
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= budget
