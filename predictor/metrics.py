"""Scores of a 3-class risk prediction: the figures the predictor benchmark reports.

`classification_metrics` gives accuracy, macro-F1, per-class F1 / recall / precision, the
top-label expected calibration error and the confusion matrix (rows = true class), for any
model that outputs `(n, 3)` probabilities in `RISK_CLASSES` order (and, optionally, its own
class decisions).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from predictor.labels import RISK_CLASSES, check_labels

_CLASSES = list(range(len(RISK_CLASSES)))


def _check(labels: np.ndarray, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[1] != len(RISK_CLASSES):
        raise ValueError(
            f"proba must have shape (n, {len(RISK_CLASSES)}) with columns "
            f"{', '.join(RISK_CLASSES)}, got shape {proba.shape}"
        )
    labels = check_labels(labels, len(proba))
    if len(labels) == 0:
        raise ValueError("no weeks to score: labels and proba are empty")
    if not np.isfinite(proba).all():
        raise ValueError("proba contains NaN or infinite values")
    if (proba < 0).any() or not np.allclose(proba.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError("proba rows must be probabilities: non-negative, summing to 1")
    return labels, proba


def expected_calibration_error(labels: np.ndarray, proba: np.ndarray, bins: int = 15) -> float:
    """Top-label ECE: over `bins` equal-width confidence bins (right-closed), the
    week-weighted mean gap between the accuracy and the mean confidence of the top class."""
    labels, proba = _check(labels, proba)
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, bins - 1)
    ece = 0.0
    for b in np.unique(which):
        members = which == b
        gap = abs(correct[members].mean() - confidence[members].mean())
        ece += members.mean() * gap
    return float(ece)


def classification_metrics(
    labels: np.ndarray, proba: np.ndarray, predicted: np.ndarray | None = None
) -> dict[str, float | list]:
    """Accuracy, macro-F1, per-class F1 / recall / precision (`f1_high`, ...), ECE, the 3x3
    confusion matrix (list of int lists, rows = true class) and n; 0 where undefined.

    The classes scored are `predicted` (a model's decision rule) when given, else the argmax
    of `proba`; ECE always reads the probabilities."""
    labels, proba = _check(labels, proba)
    if predicted is None:
        predicted = proba.argmax(axis=1)
    else:
        predicted = check_labels(predicted, len(labels), name="predicted")
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=_CLASSES, zero_division=0
    )
    result: dict[str, float | list] = {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(
            f1_score(labels, predicted, labels=_CLASSES, average="macro", zero_division=0)
        ),
    }
    for name, values in (("f1", f1), ("recall", recall), ("precision", precision)):
        for c, cls in enumerate(RISK_CLASSES):
            result[f"{name}_{cls}"] = float(values[c])
    result["ece"] = expected_calibration_error(labels, proba)
    result["confusion"] = confusion_matrix(labels, predicted, labels=_CLASSES).tolist()
    result["n"] = len(labels)
    return result
