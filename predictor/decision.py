"""The decision rule: which class a week is called, given its calibrated probabilities.

The argmax of calibrated probabilities maximises accuracy, which is not what a risk screen
needs: a missed High-risk week costs more than a false alarm, and the rare Medium band
disappears into its neighbours. The rule adds one bias per class to the log-probabilities,

    class = argmax(log p + b),        b = (0, b_medium, b_high)

with `b` fitted on validation weeks: of the biases on a grid, the one with the best macro-F1
among those whose recall (High) reaches a target (`PredictorConfig.high_recall`). The
probabilities, and so the risk score, are left as they are.
"""

from __future__ import annotations

import numpy as np

from predictor.labels import HIGH, MEDIUM, RISK_CLASSES, check_labels

# Candidate biases for medium and high, in log-probability units (low stays at 0: only
# differences matter). exp(3) = 20: beyond it a class would win on 5% probability.
BIAS_GRID = np.round(np.linspace(-3.0, 3.0, 61), 2)
N_CLASSES = len(RISK_CLASSES)


def decide(proba: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """Class of each row of `(n, 3)` probabilities under per-class `bias`: `(n,)` int64."""
    with np.errstate(divide="ignore"):  # log 0 = -inf: that class can never win
        return (np.log(proba) + np.asarray(bias, dtype=np.float64)).argmax(axis=1).astype(np.int64)


def _macro_f1_and_high_recall(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    confusion = np.bincount(labels * N_CLASSES + predicted, minlength=N_CLASSES**2).reshape(
        N_CLASSES, N_CLASSES
    )
    hits = np.diag(confusion)
    denominator = confusion.sum(axis=0) + confusion.sum(axis=1)  # predicted + true
    f1 = np.divide(2 * hits, denominator, out=np.zeros(N_CLASSES), where=denominator > 0)
    true_high = confusion[HIGH].sum()
    return float(f1.mean()), float(hits[HIGH] / true_high) if true_high else 0.0


def fit_decision_bias(
    proba: np.ndarray, labels: np.ndarray, high_recall: float
) -> tuple[list[float], dict[str, float]]:
    """The bias `(0, b_medium, b_high)` from `BIAS_GRID` with the best macro-F1 on these
    weeks among those reaching recall (High) >= `high_recall`, and its validation figures
    (`macro_f1`, `recall_high`). Ties go to the earlier grid point, so the same inputs give
    the same rule. A `ValueError` if no bias on the grid reaches the
    target (a target of 1.0 with a High week given probability 0, for instance)."""
    proba = np.asarray(proba, dtype=np.float64)
    labels = check_labels(labels, len(proba))
    if not 0.0 <= high_recall <= 1.0:
        raise ValueError(f"high_recall must be in [0, 1], got {high_recall}")
    if proba.ndim != 2 or proba.shape[1] != N_CLASSES:
        raise ValueError(f"proba must have shape (n, {N_CLASSES}), got {proba.shape}")
    with np.errstate(divide="ignore"):
        log_p = np.log(proba)
    best: tuple[float, float, float, float] | None = None  # macro-F1, recall, b_medium, b_high
    for b_medium in BIAS_GRID:
        for b_high in BIAS_GRID:
            bias = np.zeros(N_CLASSES)
            bias[MEDIUM], bias[HIGH] = b_medium, b_high
            predicted = (log_p + bias).argmax(axis=1)
            macro_f1, recall = _macro_f1_and_high_recall(labels, predicted)
            if recall >= high_recall and (best is None or macro_f1 > best[0]):
                best = (macro_f1, recall, float(b_medium), float(b_high))
    if best is None:
        raise ValueError(
            f"no class bias in [{BIAS_GRID[0]}, {BIAS_GRID[-1]}] reaches recall (High) >= "
            f"{high_recall} on these {len(labels)} weeks"
        )
    macro_f1, recall, b_medium, b_high = best
    return [0.0, b_medium, b_high], {"macro_f1": macro_f1, "recall_high": recall}
