#!/usr/bin/env python
"""Would a target-corpus term prior rescue the aspects a source-trained extractor misses? (docs/cross_domain.md)

Inference only, no training. The extractor tags a seeded sample of the target reviews; each word's mean
probability of being part of an aspect over its occurrences there (at least 5) is its *term prior*. Words whose
prior reaches ``tau`` get a lower bar on the test sentences (tagged when P(aspect) >= ``t_low`` instead of 0.5).
The target test's labels only score the sweep; nothing is chosen on them.

    .venv/bin/python scripts/term_prior_check.py runs/cross/restaurants_to_laptops/seed1/plain/extractor \\
        runs/cross/restaurants_to_laptops/seed1/bundle/work/corpus/corpus.txt data/semeval2014/Laptops_Test_Gold.xml
"""

from __future__ import annotations

import argparse
import collections
import json
import random
from pathlib import Path

import numpy as np

from ada_atsc.ate.extractor import load_extractor, word_probabilities
from ada_atsc.ate.spans import B, I, O, decode_spans, span_scores
from ada_atsc.ate.training import load_sentence_file


def term_priors(model, tokenizer, reviews: list[str], min_count: int = 5) -> dict[str, float]:
    """Each lower-cased word's mean P(aspect) over its occurrences in ``reviews`` (words seen ``min_count``+ times)."""
    seen = collections.defaultdict(list)
    for text, words in zip(reviews, word_probabilities(model, tokenizer, reviews)):
        for (start, end), probs in words:
            seen[text[start:end].lower()].append(1.0 - float(probs[0]))
    return {word: float(np.mean(values)) for word, values in seen.items() if len(values) >= min_count}


def tag_with_prior(text: str, words, lexicon: set[str], t_low: float) -> list[int]:
    """O / B / I tags: a word is inside an aspect when P(aspect) >= 0.5, or ``t_low`` for a lexicon word (an ``I``
    after an ``O`` opens a span when decoded, :func:`~ada_atsc.ate.spans.span_word_groups`)."""
    tags: list[int] = []
    for (start, end), probs in words:
        bar = t_low if text[start:end].lower() in lexicon else 0.5
        tags.append(O if 1.0 - probs[O] < bar else (B if probs[B] >= probs[I] else I))
    return tags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("extractor")
    parser.add_argument("corpus", help="target reviews, one a line")
    parser.add_argument("test", help="the target's labelled sentences, for scoring only")
    parser.add_argument("--sample", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for path, what in ((args.extractor, "an extractor folder"), (args.corpus, "a file"), (args.test, "a file")):
        if not (Path(path).is_dir() if what.startswith("an") else Path(path).is_file()):
            parser.error(f"{path}: not {what}")
    model, tokenizer = load_extractor(args.extractor)[:2]
    with open(args.corpus, encoding="utf-8") as handle:
        reviews = [line.strip() for line in handle if 20 < len(line.strip()) < 300]
    random.Random(args.seed).shuffle(reviews)
    priors = term_priors(model, tokenizer, reviews[:args.sample])
    sentences = load_sentence_file(args.test)
    test_words = word_probabilities(model, tokenizer, [s.sentence for s in sentences])
    gold = [{(a.start, a.end) for a in s.aspects} for s in sentences]
    rows = []
    for tau, t_low in [(None, 0.5)] + [(tau, t) for tau in (0.5, 0.4, 0.3, 0.2) for t in (0.3, 0.2, 0.1)]:
        lexicon = set() if tau is None else {w for w, p in priors.items() if p >= tau}
        predicted = [{(start, end) for start, end, _ in decode_spans([span for span, _ in words],
                                                                    tag_with_prior(s.sentence, words, lexicon, t_low))}
                     for s, words in zip(sentences, test_words)]
        scores = span_scores(gold, predicted)
        rows.append({"tau": tau, "t_low": t_low, "lexicon_words": len(lexicon),
                     **{k: round(100 * scores[k], 2) for k in ("precision", "recall", "f1")}})
        print(json.dumps(rows[-1]), flush=True)


if __name__ == "__main__":
    main()
