"""``ada-atsc demo`` (``make demo``): the method on the shipped data, every output under one folder.

Steps that exist so far: prepare SemEval-2014 restaurants and the restaurant-review LM corpus.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .corpus import prepare_corpus
from .data.prepare import prepare_semeval

REPO_DATA = Path(__file__).resolve().parents[2] / "data"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output_dir", default="demo_output", help="every file the demo writes goes here")


def run(args: argparse.Namespace) -> int:
    out = Path(args.output_dir)
    print(f"demo: writing everything under {out.resolve()}")
    semeval = REPO_DATA / "semeval2014"
    data_dir = out / "restaurants"
    if not (data_dir / "test.jsonl").exists():
        prepare_semeval([str(semeval / "Restaurants_Train_v2.xml")], data_dir, is_train=True, drop_conflict=True, overwrite=True)
        prepare_semeval([str(semeval / "Restaurants_Test_Gold.xml")], data_dir, is_train=False, drop_conflict=True, overwrite=True)
    print(json.dumps(json.loads((data_dir / "stats.json").read_text())["train"], indent=None))
    corpus = out / "corpus" / "restaurants.txt"
    if not corpus.exists():
        excluded = [str(p) for p in sorted(semeval.rglob("*.xml"))]
        prepare_corpus([str(REPO_DATA / "corpora" / "restaurant_reviews_zomato.txt")], corpus, exclude=excluded)
    print(json.loads(Path(str(corpus) + ".stats.json").read_text()))
    return 0
