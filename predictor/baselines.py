"""Baselines the LSTM must beat: classic classifiers on hand-made summary features.

Each week becomes six numbers per signal (weekly mean, std, min, max, last day and the
least-squares slope per day) followed by the static features. Two classifiers read them:

| kind     | model                                                                       |
|----------|-----------------------------------------------------------------------------|
| `logreg` | `StandardScaler` + `LogisticRegression(max_iter=2000, class_weight="balanced")` |
| `gbm`    | `HistGradientBoostingClassifier(class_weight="balanced")`, sklearn defaults |

If the LSTM does no better than these, its recurrent branch has learnt nothing the weekly
summaries do not already say.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from generators.signals import N_SIGNALS, SIGNAL_NAMES, WINDOW_DAYS
from predictor.labels import RISK_CLASSES, check_labels
from predictor.model import check_inputs

BASELINES = ("logreg", "gbm")
SUMMARY_STATISTICS = ("mean", "std", "min", "max", "last", "slope")


def summary_feature_names(static_names: Sequence[str]) -> list[str]:
    """Column names of `summary_features`: `<signal>_<statistic>`, then the static names."""
    return [f"{s}_{stat}" for s in SIGNAL_NAMES for stat in SUMMARY_STATISTICS] + list(static_names)


def summary_features(static: np.ndarray, signals: np.ndarray) -> np.ndarray:
    """`(n, 30 + S)` float32: per signal the week's mean, std, min, max, last day and slope
    (least squares, units per day), signal by signal in `SIGNAL_NAMES` order, then static."""
    static, signals = check_inputs(static, signals)
    days = np.arange(WINDOW_DAYS, dtype=np.float32) - (WINDOW_DAYS - 1) / 2
    mean = signals.mean(axis=1)
    slope = np.einsum("d,nds->ns", days, signals - mean[:, None, :]) / (days**2).sum()
    stats = np.stack(
        [
            mean,
            signals.std(axis=1),
            signals.min(axis=1),
            signals.max(axis=1),
            signals[:, -1],
            slope,
        ],
        axis=2,
    )  # (n, signal, statistic)
    return np.concatenate([stats.reshape(len(signals), -1), static], axis=1).astype(np.float32)


class Baseline:
    """A fitted baseline classifier; `predict_proba` takes the same arrays as `RiskPredictor`."""

    def __init__(self, kind: str, estimator: Pipeline | HistGradientBoostingClassifier) -> None:
        self.kind = kind
        self.estimator = estimator
        self.static_dim = estimator.n_features_in_ - N_SIGNALS * len(SUMMARY_STATISTICS)

    def predict_proba(self, static: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """Class probabilities `(n, 3)` float32, columns in `RISK_CLASSES` order."""
        static, signals = check_inputs(static, signals, self.static_dim)
        return self.estimator.predict_proba(summary_features(static, signals)).astype(np.float32)

    def predict(self, static: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """Most probable class `(n,)` int64."""
        return self.predict_proba(static, signals).argmax(axis=1).astype(np.int64)


def fit_baseline(
    kind: str, static: np.ndarray, signals: np.ndarray, labels: np.ndarray, seed: int = 0
) -> Baseline:
    """Fit the `kind` baseline (`logreg` or `gbm`) on summary features of the weeks."""
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; choose one of {', '.join(BASELINES)}")
    features = summary_features(static, signals)
    labels = check_labels(labels, len(features))
    missing = [name for c, name in enumerate(RISK_CLASSES) if not (labels == c).any()]
    if missing:
        raise ValueError(f"labels lack the class(es) {', '.join(missing)}: cannot fit 3 classes")
    if kind == "logreg":
        estimator = make_pipeline(
            StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced")
        )
    else:
        estimator = HistGradientBoostingClassifier(class_weight="balanced", random_state=seed)
    return Baseline(kind, estimator.fit(features, labels))
