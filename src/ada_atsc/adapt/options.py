"""The settings of one ``adapt`` run, and the budgets of each scale."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..core.errors import AdaError

REPO_DATA = Path(__file__).resolve().parents[3] / "data"
"""The data the project ships (a source checkout); an installed package names its labelled files itself."""

DEFAULT_LABELED = ("semeval2014/Restaurants_Train_v2.xml", "semeval2014/Laptop_Train_v2.xml", "mams/train.xml")
"""All the labelled training data the project ships, relative to :data:`REPO_DATA`."""

BENCHMARK_TESTS = ("semeval2014/Restaurants_Test_Gold.xml", "semeval2014/Laptops_Test_Gold.xml", "mams/test.xml")
"""Test sets whose sentences never enter the LM corpus or the pseudo-labelled data (they score the result)."""


@dataclass(frozen=True)
class Scale:
    """The budget of every stage."""

    max_corpus_sentences: int | None  # LM corpus size (sentences), None for all
    pregen_epochs: int
    max_seq_len: int
    lm_steps: int
    head_warmup_steps: int
    lm_learning_rate: float
    ate_steps: int
    atsc_steps: int
    eval_steps: int
    target_sentences: int  # target sentences pseudo-labelled per round
    rounds: int
    tagger_steps: int  # the unified tagger (the default bundle), each time it is trained
    batch_size: int = 32


SCALES = {
    "tiny": Scale(400, 1, 32, 4, 2, 1e-4, 6, 6, 3, 40, 1, 6, batch_size=8),
    # this 2-core CPU, 15,000 hotel reviews in under 30 minutes: the demo's LM budget, about half the tagger
    # studies' 1,500 steps for each of the two taggers (a fifth of the studies' budgets for the pair)
    "small": Scale(60_000, 1, 64, 200, 100, 1e-4, 250, 400, 100, 3000, 1, 800),
    # a GPU: the paper's LM budget and the studies' task budgets, two rounds of self-training
    "full": Scale(None, 3, 256, 6000, 500, 3e-5, 1000, 1600, 100, 20_000, 2, 1500),
}


@dataclass(frozen=True)
class AdaptOptions:
    """One run: the target ``corpus`` (reviews: .txt a review a line, JSONL or CSV with ``text``, optionally
    .gz), the bundle's ``output_dir``, the ``labeled`` source files (default: :data:`DEFAULT_LABELED`)."""

    corpus: str
    output_dir: str
    labeled: tuple[str, ...] = ()
    model: str | None = None  # the encoder (default: the packaged MiniLM)
    scale: str = "small"
    seed: int = 42
    resume: bool = False
    overwrite: bool = False
    pipeline: bool = False  # the pair (an extractor and a classifier) instead of a unified tagger
    export: bool = True  # the tagger's ONNX int8 export in the bundle (what absa, report and serve run)
    label_mix_correction: bool = True  # the pair's classifier only
    text_field: str | None = None
    extraction_precision: float = 0.8  # sentence-level exact match wanted of kept pseudo-labelled sentences
    polarity_precision: float = 0.9  # accuracy wanted of kept pseudo-labelled polarities
    max_per_term: int = 8  # kept pseudo-labelled pairs per aspect term and label (balance)
    # rounds of self-training instead of the scale's; 0 makes the source-trained model the bundle's (on the
    # SemEval pairs self-training did not beat it on average: docs/cross_domain.md)
    self_training_rounds: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise AdaError(f"--scale {self.scale}: choose from {', '.join(SCALES)}")
        for name in ("extraction_precision", "polarity_precision"):
            if not 0 < getattr(self, name) <= 1:
                raise AdaError(f"--{name} must be in (0, 1], got {getattr(self, name)}")
        if self.max_per_term < 1:
            raise AdaError(f"--max_per_term must be at least 1, got {self.max_per_term}")
        if self.self_training_rounds is not None and self.self_training_rounds < 0:
            raise AdaError(f"--self_training_rounds must be 0 or more, got {self.self_training_rounds}")

    @property
    def budget(self) -> Scale:
        scale = SCALES[self.scale]
        return scale if self.self_training_rounds is None else replace(scale, rounds=self.self_training_rounds)

    @property
    def kind(self) -> str:
        """``tagger`` (the default bundle) or ``pipeline``."""
        return "pipeline" if self.pipeline else "tagger"

    def labeled_files(self) -> list[Path]:
        files = [Path(f) for f in self.labeled] or [REPO_DATA / f for f in DEFAULT_LABELED]
        for path in files:
            if not path.is_file():
                raise AdaError(f"{path}: labelled file not found (--labeled)")
        return files

    def benchmark_tests(self) -> list[Path]:
        return [REPO_DATA / f for f in BENCHMARK_TESTS if (REPO_DATA / f).is_file()]
