"""The label mix of new text: estimate it from the classifier's own outputs and correct the probabilities.

A classifier learns the label mix of its training data along with everything else: trained with MAMS (45%
neutral) it calls polar aspects neutral on reviews where neutral is rare. When the new text's mix differs but
what each label looks like does not (label shift), the posterior under the new mix is the old posterior
re-weighted by the ratio of the mixes and renormalised (Saerens, Latinne and Decaestecker, 2002)::

    p_t(y | x) = p_s(y | x) * pi_t(y) / pi_s(y)  /  sum over y' of the same

The new mix ``pi_t`` is unknown, but it is the fixed point of EM over unlabeled outputs: start from the
training mix, correct every output with the current estimate, take the mean corrected output as the next
estimate, until it stops moving (:func:`estimate_label_mix`). No target label is used.

EM trusts the probabilities: a classifier fine-tuned for a few hundred steps is over-confident, and EM on its
raw outputs runs to a corner (every aspect neutral, say). So the outputs are first calibrated on the source
dev set with bias-corrected temperature scaling (one temperature and one bias per class, fitted by
likelihood: :func:`fit_calibration`; Alexandari et al. 2020 found this with EM hard to beat for label shift),
and both the estimate and the correction work on calibrated outputs.

Across domains the shift is not only in the label mix, and EM can still over-shoot: on the laptops test sentences
a restaurants classifier that under-calls neutral had EM estimate 0% neutral where there are 26%. So the
correction applied is bounded: no label's weight ``pi_t / pi_s`` goes beyond :data:`MAX_RATIO` either way (the
estimate itself is reported unbounded).

The alternative estimator, :func:`estimate_label_mix_bbse` (black-box shift estimation, Lipton et al. 2018),
does not trust the probabilities at all: it measures on the source dev set how often each true label comes out
as each predicted one (the confusion matrix) and solves for the mix whose confusions give the predictions seen
on the new text. A classifier that under-calls neutral on the dev set is then not read as "no neutral here".

A classifier directory that holds :data:`LABEL_MIX_FILE` is corrected wherever it runs (``Predictor``, the
pipeline, ``evaluate``, ``serve``): ``ada-atsc adapt`` writes it for the target domain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import AdaError
from ..core.fileio import write_json
from ..core.labels import ATSC_LABELS

EM_METHOD = ("EM re-estimation of the label priors (Saerens et al. 2002) on outputs calibrated by bias-corrected "
             "temperature scaling on the source dev set")
BBSE_METHOD = ("black-box shift estimation (Lipton et al. 2018): the source dev set's soft confusion matrix "
               "inverted against the mean prediction on the new text (non-negative least squares)")

MAX_RATIO = 3.0
"""The most the correction multiplies or divides one label's odds by."""

LABEL_MIX_FILE = "label_mix.json"
"""The file in a classifier directory that switches the correction on (source and target mixes)."""


@dataclass(frozen=True)
class LabelMix:
    """The training (``source``) and estimated new-text (``target``) mixes, each over :data:`ATSC_LABELS`."""

    source: tuple[float, ...]
    target: tuple[float, ...]
    iterations: int = 0
    examples: int = 0
    calibration: Calibration | None = None
    max_ratio: float = MAX_RATIO
    method: str = EM_METHOD

    def applied_target(self) -> np.ndarray:
        """The mix the correction uses: the estimate with each ``target / source`` kept within ``max_ratio``."""
        source = np.asarray(self.source, dtype=np.float64)
        ratio = np.clip(np.asarray(self.target, dtype=np.float64) / source, 1 / self.max_ratio, self.max_ratio)
        return source * ratio / (source * ratio).sum()

    def correct(self, probs: np.ndarray) -> np.ndarray:
        """``probs`` (rows over :data:`ATSC_LABELS`) calibrated, then under the (bounded) target mix."""
        if self.calibration is not None:
            probs = self.calibration.apply(probs)
        return correct_probabilities(probs, np.asarray(self.source), self.applied_target())

    def to_json(self) -> dict:
        named = {"source": dict(zip(ATSC_LABELS, self.source)), "target": dict(zip(ATSC_LABELS, self.target))}
        calibration = self.calibration.to_json() if self.calibration else None
        applied = dict(zip(ATSC_LABELS, (round(float(x), 6) for x in self.applied_target())))
        return {**named, "applied": applied, "max_ratio": self.max_ratio, "iterations": self.iterations,
                "examples": self.examples, "calibration": calibration, "method": self.method}


@dataclass(frozen=True)
class Calibration:
    """Bias-corrected temperature scaling: ``softmax(log(p) / temperature + bias)``."""

    temperature: float = 1.0
    bias: tuple[float, ...] = (0.0, 0.0, 0.0)

    def apply(self, probs: np.ndarray) -> np.ndarray:
        logits = np.log(np.maximum(np.asarray(probs, dtype=np.float64), 1e-12)) / self.temperature + np.asarray(self.bias)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)

    def to_json(self) -> dict:
        return {"temperature": round(self.temperature, 6), "bias": dict(zip(ATSC_LABELS, self.bias))}


def fit_calibration(probs: np.ndarray, labels: np.ndarray) -> Calibration:
    """The :class:`Calibration` that maximises the likelihood of the (dev) ``labels`` (class indices)."""
    from scipy.optimize import minimize

    logp = np.log(np.maximum(np.asarray(probs, dtype=np.float64), 1e-12))
    labels = np.asarray(labels)
    classes = logp.shape[1]

    def loss(params: np.ndarray) -> float:
        logits = logp / np.exp(params[0]) + params[1:]
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        return float(-(logits[np.arange(len(labels)), labels] - log_norm).mean())

    start = np.zeros(classes + 1)
    found = minimize(loss, start, method="L-BFGS-B")
    params = found.x if found.success and loss(found.x) <= loss(start) else start
    bias = params[1:] - params[1:].mean()
    return Calibration(round(float(np.exp(params[0])), 6), tuple(round(float(b), 6) for b in bias))


def correct_probabilities(probs: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Re-weight each row by ``target / source`` and renormalise (float32, rows sum to 1)."""
    weights = np.asarray(target, dtype=np.float64) / np.maximum(np.asarray(source, dtype=np.float64), 1e-12)
    corrected = np.asarray(probs, dtype=np.float64) * weights
    return (corrected / np.maximum(corrected.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _outputs(probs: np.ndarray, classes: int) -> np.ndarray:
    """A classifier's outputs on the new text as float64 ``(n > 0, classes)``, or one clear error."""
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != classes or len(probs) == 0:
        raise AdaError(f"label mix: expected outputs of shape (n > 0, {classes}), got {probs.shape}")
    return probs


def estimate_label_mix(probs: np.ndarray, source: np.ndarray, *, calibration: Calibration | None = None,
                       max_iterations: int = 1000, tolerance: float = 1e-6) -> LabelMix:
    """EM estimate of the label mix of the texts behind ``probs`` (the classifier's outputs on them, rows over
    :data:`ATSC_LABELS`), from the training mix ``source``; ``calibration`` (fitted on the source dev set) is
    applied to the outputs first and kept with the estimate."""
    if calibration is not None:
        probs = calibration.apply(probs)
    probs = _outputs(probs, len(source))
    source = np.asarray(source, dtype=np.float64)
    if not np.isclose(source.sum(), 1.0) or (source <= 0).any():
        raise AdaError(f"label mix: the training mix must be positive and sum to 1, got {source.tolist()}")
    target = source.copy()
    iterations, moved = 0, np.inf
    while moved >= tolerance and iterations < max_iterations:
        updated = correct_probabilities(probs, source, target).astype(np.float64).mean(axis=0)
        updated = np.maximum(updated, 1e-6)
        updated /= updated.sum()
        moved = np.abs(updated - target).max()
        target = updated
        iterations += 1
    return LabelMix(tuple(round(float(x), 6) for x in source), tuple(round(float(x), 6) for x in target), iterations,
                    len(probs), calibration)


def estimate_label_mix_bbse(probs: np.ndarray, source: np.ndarray, dev_probs: np.ndarray, dev_labels: np.ndarray,
                            *, calibration: Calibration | None = None) -> LabelMix:
    """Black-box shift estimate of the mix behind ``probs`` (outputs on the new text) from the classifier's
    outputs ``dev_probs`` on the source dev set and their true ``dev_labels`` (class indices).

    ``C[i, j]``, the mean probability of predicting ``i`` on dev items of label ``j`` times the dev share of
    ``j``, is what the predictions look like under the dev mix; under another mix each column is re-weighted by
    ``w_j = pi_t(j) / pi_dev(j)``, so the mean prediction on the new text is ``C w``. ``w`` is solved by
    non-negative least squares and ``pi_t = w * pi_dev``, normalised. ``calibration`` is kept for the correction
    (the estimate itself needs none). ``source`` is the training mix the correction divides out."""
    from scipy.optimize import nnls

    classes = len(source)
    probs = _outputs(probs, classes)
    dev_probs = np.asarray(dev_probs, dtype=np.float64)
    dev_labels = np.asarray(dev_labels, dtype=np.int64)
    if dev_probs.shape != (len(dev_labels), classes) or len(dev_labels) == 0:
        raise AdaError(f"label mix: dev outputs {dev_probs.shape} do not match {len(dev_labels)} dev labels")
    dev_mix = np.bincount(dev_labels, minlength=classes) / len(dev_labels)
    if (dev_mix == 0).any():
        raise AdaError("label mix: every label must occur in the dev set to estimate the mix by its confusions")
    confusion = np.stack([dev_probs[dev_labels == j].mean(axis=0) * dev_mix[j] for j in range(classes)], axis=1)
    weights, _ = nnls(confusion, probs.mean(axis=0))
    target = np.maximum(weights * dev_mix, 1e-6)
    target /= target.sum()
    return LabelMix(tuple(round(float(x), 6) for x in np.asarray(source, dtype=np.float64)),
                    tuple(round(float(x), 6) for x in target), 0, len(probs), calibration, method=BBSE_METHOD)


def mix_of(labels) -> np.ndarray:
    """The label mix of a sequence of labels (each in :data:`ATSC_LABELS`; others are not counted)."""
    counts = np.asarray([sum(1 for label in labels if label == name) for name in ATSC_LABELS], dtype=np.float64)
    if counts.sum() == 0:
        raise AdaError("label mix: no labels to count")
    mix = np.maximum(counts / counts.sum(), 1e-6)
    return mix / mix.sum()


def write_label_mix(model_dir: str | Path, mix: LabelMix) -> None:
    """Switch the correction on for the classifier in ``model_dir``."""
    write_json(Path(model_dir) / LABEL_MIX_FILE, mix.to_json())


def read_label_mix(model_dir: str | Path) -> LabelMix | None:
    """The correction of the classifier in ``model_dir``, or None when it has none."""
    path = Path(model_dir) / LABEL_MIX_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        source = tuple(float(data["source"][label]) for label in ATSC_LABELS)
        target = tuple(float(data["target"][label]) for label in ATSC_LABELS)
        calibration = None
        if data.get("calibration"):
            calibration = Calibration(float(data["calibration"]["temperature"]),
                                      tuple(float(data["calibration"]["bias"][label]) for label in ATSC_LABELS))
    except (OSError, ValueError, KeyError, TypeError):
        raise AdaError(f"{path}: not a label mix (source and target over {', '.join(ATSC_LABELS)})") from None
    if min(source) <= 0 or min(target) < 0:
        raise AdaError(f"{path}: a mix must be positive")
    return LabelMix(source, target, int(data.get("iterations", 0)), int(data.get("examples", 0)), calibration,
                    float(data.get("max_ratio", MAX_RATIO)), str(data.get("method", EM_METHOD)))
