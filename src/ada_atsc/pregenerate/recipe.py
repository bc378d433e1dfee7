"""The BERT pregeneration recipe as pure functions over one block of documents.

Each function takes its randomness from the generator it is given, so a block's output depends only on
(seed, epoch, block) and never on how many workers share the corpus. The per-chunk planning is a short
Python loop over sentence offsets (bisect, no token lists); everything per token -- truncation, assembly,
masking -- is vectorised over the whole block.

Faithful to the 2019 ``pregenerate_training_data.py``: the same target lengths, chunking, A/B split,
put-back of unused sentences, sentence-weighted choice of the random document, truncation one token at a
time from a random end of the longer side (drawn here in closed form: a binomial number of front cuts),
``num_to_mask = min(max_pred, max(1, round(len * prob)))`` with the same greedy skip of whole words that do
not fit, and 80/10/10. Deliberate fixes: random replacement tokens are real tokens (no special or
``[unused]`` ones); whole words come from the tokenizer's word ids (any tokenizer) and never continue across a
special token; the special tokens around A and B are the tokenizer's own (``SequenceTemplate``); sentences without tokens are dropped instead of crashing.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np

from ..core.sequence_template import SequenceTemplate

SENTENCE_LENGTH_MASK, LAST_IN_DOCUMENT = 0x7FFF, 0x8000  # the bits of the index's per-sentence info


@dataclass(frozen=True)
class RecipeConfig:
    """The knobs of the recipe, all from the command line (the special tokens are the tokenizer's
    :class:`~ada_atsc.core.sequence_template.SequenceTemplate`)."""

    max_seq_len: int = 128
    short_seq_prob: float = 0.1
    masked_lm_prob: float = 0.15
    max_predictions_per_seq: int = 20
    whole_word_mask: bool = False
    mlm_only: bool = False


def block_generators(seed: int, epoch: int, block: int) -> tuple[np.random.Generator, random.Random]:
    """The two random streams of one block: numpy for vectorised draws, ``random`` for the planning loop."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, epoch, block])))
    return rng, random.Random(int(rng.integers(2**63)))


@dataclass
class PairPlan:
    """Instances of a block before truncation, as global token ranges; random B given by start sentence."""

    a0: np.ndarray
    a1: np.ndarray
    b0: np.ndarray
    b1: np.ndarray
    is_random: np.ndarray
    random_start: np.ndarray  # global sentence where a random B starts (rows with is_random)
    random_target: np.ndarray  # tokens B should reach (target length minus len(A))
    documents: int
    short_documents: int


def plan_pairs(
    prng: random.Random,
    doc_sent: np.ndarray,
    sent_off: list[int],
    first_sentence: int,
    total_sentences: int,
    max_num_tokens: int,
    short_seq_prob: float,
) -> PairPlan:
    """Chunk each document of the block into A/B pairs (the 2019 loop, per chunk instead of per sentence).

    ``doc_sent``: global sentence offsets of the block's documents (``d + 1``); ``sent_off``: global token
    offsets of the block's sentences, starting at sentence ``first_sentence``.
    """
    a0: list[int] = []
    a1: list[int] = []
    b0: list[int] = []
    b1: list[int] = []
    rnd: list[bool] = []
    rstart: list[int] = []
    rtarget: list[int] = []
    short = 0
    rand = prng.random  # int(rand() * n): a draw from range(n), bias ~n / 2**53; 3x faster than randrange
    bounds = [int(x) - first_sentence for x in doc_sent]
    for d in range(len(bounds) - 1):
        s0, s1 = bounds[d], bounds[d + 1]
        target = max_num_tokens
        if rand() < short_seq_prob:
            target = prng.randint(2, max_num_tokens)
            short += 1
        others = total_sentences - (s1 - s0)
        end_global = s1 + first_sentence
        start = s0
        while start < s1:
            last = bisect_left(sent_off, sent_off[start] + target, start + 1, s1 + 1) - 1
            if last >= s1:
                last = s1 - 1
            n_chunk = last - start + 1
            a_end = start + 1 if n_chunk < 2 else start + 1 + int(rand() * (n_chunk - 1))
            a0.append(sent_off[start])
            a1.append(sent_off[a_end])
            if n_chunk == 1 or rand() < 0.5:
                rnd.append(True)
                rtarget.append(target - (sent_off[a_end] - sent_off[start]))
                rstart.append((end_global + int(rand() * others)) % total_sentences)
                b0.append(-1)
                b1.append(-1)
                start = a_end  # the unused sentences of the chunk are put back
            else:
                rnd.append(False)
                rtarget.append(0)
                rstart.append(-1)
                b0.append(sent_off[a_end])
                b1.append(sent_off[last + 1])
                start = last + 1
    as_int = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return PairPlan(
        as_int(a0), as_int(a1), as_int(b0), as_int(b1), np.asarray(rnd, dtype=bool), as_int(rstart),
        as_int(rtarget), len(bounds) - 1, short,
    )


def random_b_sentence_counts(
    starts: np.ndarray,
    targets: np.ndarray,
    sent_info: np.ndarray,
    window: int,
) -> np.ndarray:
    """How many sentences each random B takes: from its start sentence on, until ``target`` tokens or the end
    of its document.

    ``sent_info`` is the index's per-sentence array (token count in the low 15 bits, saturated; bit 15 marks a
    document's last sentence). Looks at ``window`` sentences per B: every sentence has a token, so ``window``
    >= the target is always enough; a saturated count already exceeds any target, so the answer is exact.
    """
    if starts.size == 0:
        return starts.copy()
    n_sent = sent_info.shape[0]
    rows = np.minimum(starts[:, None] + np.arange(window), n_sent - 1)
    info = sent_info[rows]
    gained = np.cumsum(info & SENTENCE_LENGTH_MASK, axis=1, dtype=np.int64)  # column j: after j+1 sentences
    reached = gained >= np.maximum(targets, 1)[:, None]
    last = (info & LAST_IN_DOCUMENT) != 0
    n_reach = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, window)
    n_doc = np.where(last.any(axis=1), last.argmax(axis=1) + 1, window)
    return np.minimum(n_reach, n_doc)


def truncate_pairs(
    rng: np.random.Generator, a0: np.ndarray, a1: np.ndarray, b0: np.ndarray, b1: np.ndarray, max_num_tokens: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cut the longer side one token at a time from a random end until ``len(A) + len(B) <= max_num_tokens``.

    Closed form of the 2019 loop: the longer side loses the difference first, then B and A alternate (B on
    ties); each cut is from the front with probability 1/2, so the front cuts are binomial.
    """
    la, lb = a1 - a0, b1 - b0
    excess = np.maximum(la + lb - max_num_tokens, 0)
    first_a = np.where(la > lb, np.minimum(excess, la - lb), 0)
    first_b = np.where(la > lb, 0, np.minimum(excess, lb - la))
    rest = excess - first_a - first_b
    cut_a = first_a + rest // 2
    cut_b = first_b + (rest + 1) // 2
    front_a = rng.binomial(cut_a, 0.5)
    front_b = rng.binomial(cut_b, 0.5)
    return a0 + front_a, a1 - (cut_a - front_a), b0 + front_b, b1 - (cut_b - front_b)


def plan_packed(
    prng: random.Random, doc_tokens: np.ndarray, max_len: int, short_seq_prob: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """--mlm_only: cut the block's token stream (documents joined by the separator token) into chunks of
    ``max_len``.

    The first chunk has a random length so that epochs cut at different places; with ``short_seq_prob`` a
    chunk gets a random length from 2 up. Returns chunk starts, ends (stream positions) and #short chunks.
    """
    total = int(doc_tokens.size)
    starts: list[int] = []
    ends: list[int] = []
    short = 0
    pos = 0
    first = True
    while pos < total:
        if first:
            length = prng.randint(1, max_len)
            first = False
        elif prng.random() < short_seq_prob:
            length = prng.randint(2, max_len)
            short += 1
        else:
            length = max_len
        starts.append(pos)
        ends.append(min(pos + length, total))
        pos += length
    return np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64), short


def packed_stream(doc_token_bounds: np.ndarray, separator_marker: int) -> np.ndarray:
    """Global token index of the stream ``doc1 SEP doc2 SEP ...`` (``separator_marker`` for each SEP) for
    documents with these token bounds."""
    lens = np.diff(doc_token_bounds) + 1
    offsets = np.concatenate([[0], np.cumsum(lens)])
    pos = np.arange(offsets[-1]) - np.repeat(offsets[:-1], lens)
    index = np.repeat(doc_token_bounds[:-1], lens) + pos
    index[offsets[1:] - 1] = separator_marker
    return index


def packed_gather_index(
    template: SequenceTemplate, stream: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The single-text layout (BERT: ``[CLS] chunk [SEP]``) around each chunk of ``stream``: global token
    index (negative: special-token markers of ``template.single_specials``) and lengths."""
    index, lengths = template.single_index(starts, ends)
    inner = index >= 0
    index[inner] = stream[index[inner]]
    return index, lengths


def num_to_mask(lengths: np.ndarray, masked_lm_prob: float, max_predictions: int) -> np.ndarray:
    """``min(max_predictions, max(1, round(len * prob)))`` per instance (round half to even, like Python)."""
    return np.minimum(max_predictions, np.maximum(1, np.round(lengths * masked_lm_prob).astype(np.int64)))


@dataclass
class Masked:
    input_ids: np.ndarray
    positions: np.ndarray  # within the instance, sorted
    labels: np.ndarray
    counts: np.ndarray
    replaced_by_mask: int
    kept: int
    replaced_by_random: int


def mask_instances(
    rng: np.random.Generator,
    tokens: np.ndarray,
    offsets: np.ndarray,
    special: np.ndarray,
    word_start: np.ndarray,
    k: np.ndarray,
    random_ids: np.ndarray,
    mask_id: int,
) -> Masked:
    """Mask whole units (tokens, or words with whole-word masking) of every instance at once.

    Units are visited in a uniformly random order (the first distinct values of iid draws), and, as in 2019,
    a unit is masked if it still fits into ``k`` tokens, else skipped. Rows whose draws run out before they are
    full continue with an explicit permutation of their remaining units (rare).
    """
    n = k.size
    total = tokens.size
    unit_starts = np.flatnonzero(word_start | special)
    sizes = np.diff(np.append(unit_starts, total))
    candidate = ~special[unit_starts]
    cu, cs = unit_starts[candidate], sizes[candidate]
    inst = np.searchsorted(offsets, cu, side="right") - 1
    n_c = np.bincount(inst, minlength=n)
    c_start = np.concatenate([[0], np.cumsum(n_c)])[:-1]
    k = np.minimum(k, np.bincount(inst, weights=cs, minlength=n).astype(np.int64))
    draws_per_row = int(max(16, 2 * int(k.max(initial=0)) + 8))
    draws = np.floor(rng.random((n, draws_per_row)) * n_c[:, None]).astype(np.int64)
    order = np.argsort(draws, axis=1, kind="stable")
    sorted_draws = np.take_along_axis(draws, order, axis=1)
    first_sorted = np.ones_like(sorted_draws, dtype=bool)
    first_sorted[:, 1:] = sorted_draws[:, 1:] != sorted_draws[:, :-1]
    first = np.empty_like(first_sorted)
    np.put_along_axis(first, order, first_sorted, axis=1)
    first &= (n_c > 0)[:, None]
    units = np.minimum(c_start[:, None] + draws, max(cu.size - 1, 0))
    unit_size = cs[units] if cu.size else np.zeros_like(units)
    count = np.zeros(n, dtype=np.int64)
    take = np.zeros_like(first)
    for j in range(draws_per_row):
        size = unit_size[:, j]
        fits = first[:, j] & (count < k) & (count + size <= k)
        take[:, j] = fits
        count += fits * size
    chosen = [units[take]]
    for row in np.flatnonzero((count < k) & (first.sum(axis=1) < n_c)):
        remaining = np.setdiff1d(np.arange(n_c[row]), draws[row])
        filled = int(count[row])
        extra = []
        for unit in c_start[row] + rng.permutation(remaining):
            if filled >= k[row]:
                break
            if filled + cs[unit] <= k[row]:
                extra.append(unit)
                filled += int(cs[unit])
        chosen.append(np.asarray(extra, dtype=np.int64))
    picked = np.concatenate(chosen)
    pick_sizes = cs[picked]
    pos_offsets = np.concatenate([[0], np.cumsum(pick_sizes)])
    positions = np.repeat(cu[picked], pick_sizes) + (
        np.arange(pos_offsets[-1]) - np.repeat(pos_offsets[:-1], pick_sizes)
    )
    positions.sort()
    labels = tokens[positions].copy()
    out = tokens.copy()
    u = rng.random(positions.size)
    use_mask = u < 0.8
    use_random = u >= 0.9
    out[positions[use_mask]] = mask_id
    n_random = int(use_random.sum())
    out[positions[use_random]] = random_ids[rng.integers(random_ids.size, size=n_random)]
    owner = np.searchsorted(offsets, positions, side="right") - 1
    return Masked(
        input_ids=out,
        positions=positions - offsets[owner],
        labels=labels,
        counts=np.bincount(owner, minlength=n),
        replaced_by_mask=int(use_mask.sum()),
        kept=int(positions.size - use_mask.sum() - n_random),
        replaced_by_random=n_random,
    )
