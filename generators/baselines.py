"""Naive generators the real ones must beat, on the same metrics and sample sizes.

| baseline              | keeps                                   | loses                          |
|-----------------------|-----------------------------------------|--------------------------------|
| `independent_columns` | every column's marginal                 | every relation between columns |
| `block_bootstrap`     | real days, people, 3-day runs           | nothing new: replays real days |
| `fit_ar1` / `AR1`     | each signal's mean, spread, persistence | people, links between signals  |

A generator that does not beat `independent_columns` or `AR1` on fidelity has learnt little.
`block_bootstrap` is near the best fidelity possible with no privacy at all: every day it emits
is a real day, although its stitched weeks are rarely whole copies of a real week, so the
window-level privacy metrics understate what it reveals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from generators.data.pmdata import Windows
from generators.evaluation.rhythms import check_windows, lag1_autocorrelation
from generators.signals import N_SIGNALS, WINDOW_DAYS, to_support

PHI_LIMIT = 0.99  # |phi| < 1 keeps the AR(1) stationary


def independent_columns(table: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """`n` rows whose columns are drawn independently, each from its own empirical marginal
    (with replacement); dtypes are kept."""
    if len(table) == 0:
        raise ValueError("cannot sample from an empty table")
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            column: table[column].iloc[rng.integers(len(table), size=n)].reset_index(drop=True)
            for column in table.columns
        }
    )


def block_bootstrap(windows: Windows, n: int, seed: int, block: int = 3) -> np.ndarray:
    """`n` weeks stitched from real runs of `block` consecutive days, one person per week.

    Each new week picks a participant (with probability proportional to their number of
    windows), then fills its days with blocks taken from that participant's windows (random
    window, random offset), the last block cut at the week's end. Returns `(n, days, 5)`
    float32 in real units.
    """
    signals = check_windows(windows.signals, "windows.signals")
    days = signals.shape[1]
    if not 1 <= block <= days:
        raise ValueError(f"block must be between 1 and {days} days, got {block}")
    rng = np.random.default_rng(seed)
    people, counts = np.unique(windows.participant, return_counts=True)
    own = {p: np.flatnonzero(windows.participant == p) for p in people}
    weeks = np.empty((n, days, N_SIGNALS), dtype=np.float32)
    chosen = rng.choice(people, size=n, p=counts / counts.sum())
    for week, person in zip(weeks, chosen, strict=True):
        for start in range(0, days, block):
            window = rng.choice(own[person])
            offset = rng.integers(days - block + 1)
            length = min(block, days - start)
            week[start : start + length] = signals[window, offset : offset + length]
    return weeks


@dataclass(frozen=True)
class AR1:
    """Independent Gaussian AR(1) processes, one per signal: `mean`, stationary `std` and
    lag-1 coefficient `phi`, each of shape `(5,)` in real units."""

    mean: np.ndarray
    std: np.ndarray
    phi: np.ndarray

    def sample(self, n: int, seed: int, days: int = WINDOW_DAYS) -> np.ndarray:
        """`n` windows of `days` days: day 1 from the stationary distribution, then
        x_t = mean + phi (x_{t-1} - mean) + noise; put on each signal's support."""
        rng = np.random.default_rng(seed)
        noise_std = self.std * np.sqrt(1 - self.phi**2)  # keeps the variance stationary
        values = np.empty((n, days, N_SIGNALS))
        values[:, 0] = rng.normal(self.mean, self.std, size=(n, N_SIGNALS))
        for t in range(1, days):
            noise = rng.normal(0.0, noise_std, size=(n, N_SIGNALS))
            values[:, t] = self.mean + self.phi * (values[:, t - 1] - self.mean) + noise
        return to_support(values)


def _within_window_autocorrelation(phi: float, days: int) -> float:
    """What `lag1_autocorrelation` converges to on many `days`-day windows of a stationary
    AR(1) with coefficient `phi`: E[sum of lag-1 products] / E[sum of squares] of the
    deviations from each window's mean."""
    lags = np.abs(np.subtract.outer(np.arange(days), np.arange(days)))
    centre = np.eye(days) - 1.0 / days
    deviations = centre @ phi**lags @ centre  # their covariance, in units of the variance
    return float(np.trace(deviations, offset=1) / np.trace(deviations))


def fit_ar1(windows: np.ndarray) -> AR1:
    """Fit `AR1` to `(N, days, 5)` windows: mean and std over all days; `phi` such that the
    AR(1)'s own windows have the same pooled within-window lag-1 autocorrelation
    (`generators.evaluation.rhythms.lag1_autocorrelation`) as `windows`, within +-0.99.

    The within-window estimate itself is not used as `phi`: on 7-day windows it sits 0.15 to 0.5
    below the true coefficient, so an AR(1) built on it would reproduce a weaker persistence
    than the data's.
    """
    windows = check_windows(windows)
    days = windows.shape[1]
    target = lag1_autocorrelation(windows)
    bounds = (-PHI_LIMIT, PHI_LIMIT)
    reachable = [_within_window_autocorrelation(b, days) for b in bounds]
    phi = [
        brentq(lambda p, r=r: _within_window_autocorrelation(p, days) - r, *bounds)
        if reachable[0] < r < reachable[1]
        else bounds[int(r >= reachable[1])]
        for r in target
    ]
    values = windows.reshape(-1, N_SIGNALS).astype(np.float64)
    return AR1(mean=values.mean(axis=0), std=values.std(axis=0), phi=np.array(phi))
