"""Risk labels: the three classes, the DASS severity bands they come from, and the seed-style
rules on an observed week used to compare with the seed project's figures.

Mano's risk label follows the DASS severity bands (Lovibond & Lovibond 1995), on the DASS-42
scale (a DASS-21 score doubled). Scores are real-valued here, so a band starts at its lower
cut: a depression score of 13.9 is mild and 14.0 is moderate.

| subscale     | normal | mild    | moderate | severe  | extremely severe |
|--------------|--------|---------|----------|---------|------------------|
| `depression` | 0 - 9  | 10 - 13 | 14 - 20  | 21 - 27 | 28+              |
| `anxiety`    | 0 - 7  | 8 - 9   | 10 - 14  | 15 - 19 | 20+              |
| `stress`     | 0 - 14 | 15 - 18 | 19 - 25  | 26 - 33 | 34+              |

The risk class is High when any subscale is severe or extremely severe, Medium when any is
moderate, and Low otherwise.

This module also holds the checks on a `(n, 7, 5)` signal array that every part of the
package shares, since the rules here are the first thing to read one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, WINDOW_DAYS

RISK_CLASSES: tuple[str, ...] = ("low", "medium", "high")
LOW, MEDIUM, HIGH = 0, 1, 2
DASS_SUBSCALES: tuple[str, ...] = ("depression", "anxiety", "stress")
SEVERITY_BANDS: tuple[str, ...] = ("normal", "mild", "moderate", "severe", "extremely_severe")
MODERATE, SEVERE = SEVERITY_BANDS.index("moderate"), SEVERITY_BANDS.index("severe")

# Lower cut of mild, moderate, severe and extremely severe (DASS-42 scale), one row per
# subscale in `DASS_SUBSCALES` order; normal is everything below the first cut.
DASS_CUTS = np.array(
    [
        [10.0, 14.0, 21.0, 28.0],  # depression
        [8.0, 10.0, 15.0, 20.0],  # anxiety
        [15.0, 19.0, 26.0, 34.0],  # stress
    ]
)

_SLEEP_HOURS, _SLEEP_QUALITY, _RESTING_HR, _STRESS, _MOOD = range(N_SIGNALS)


@dataclass(frozen=True)
class WeekRules:
    """Thresholds on the observed week's per-signal means, written in the style of the seed
    project's rules (its exact rules were not published). They are used only to train and
    score the predictor on labels like the seed's, so that its figures can be compared like
    for like; Mano's own risk label comes from the DASS bands.

    High if mood <= 2, or stress >= 4, or (sleep < 5 h and sleep quality <= 2); otherwise
    Medium if mood <= 3, or stress >= 3, or sleep < 6 h; otherwise Low.
    """

    high_mood_at_most: float = 2.0
    high_stress_at_least: float = 4.0
    high_sleep_hours_below: float = 5.0  # together with poor sleep quality
    high_sleep_quality_at_most: float = 2.0  # together with short sleep
    medium_mood_at_most: float = 3.0
    medium_stress_at_least: float = 3.0
    medium_sleep_hours_below: float = 6.0


SEED_RULES = WeekRules()


def check_signals(signals: np.ndarray, name: str = "signals") -> np.ndarray:
    """`signals` as float32 `(n, 7, 5)` in real units; a `ValueError` names what is wrong
    (shape, day or signal count, NaN, a value outside a signal's physiological range)."""
    data = np.asarray(signals, dtype=np.float32)
    expected = f"(n, {WINDOW_DAYS}, {N_SIGNALS}) with signals {', '.join(SIGNAL_NAMES)}"
    if data.ndim != 3:
        raise ValueError(f"{name} must have shape {expected}, got shape {data.shape}")
    if data.shape[1] != WINDOW_DAYS:
        raise ValueError(
            f"{name} must cover {WINDOW_DAYS} days (axis 1), got {data.shape[1]}: "
            f"shape {data.shape}, expected {expected}"
        )
    if data.shape[2] != N_SIGNALS:
        raise ValueError(
            f"{name} must have {N_SIGNALS} signals on the last axis, got {data.shape[2]}: "
            f"shape {data.shape}, expected {expected}"
        )
    finite = np.isfinite(data)
    if not finite.all():
        bad = sorted({SIGNAL_NAMES[j] for j in np.argwhere(~finite)[:, 2]})
        raise ValueError(f"{name} contain NaN or infinite values (signals: {', '.join(bad)})")
    outside = (data < SIGNAL_LOW) | (data > SIGNAL_HIGH)
    if outside.any():
        j = int(np.argwhere(outside)[0, 2])
        values = data[..., j]
        raise ValueError(
            f"{name} hold {SIGNAL_NAMES[j]} values outside its range "
            f"{SIGNAL_LOW[j]:g} - {SIGNAL_HIGH[j]:g} (found {values.min():g} - "
            f"{values.max():g}); signals must be in real units, not scaled"
        )
    return data


def check_labels(labels: np.ndarray, n: int | None = None, name: str = "labels") -> np.ndarray:
    """`labels` as int64 `(n,)` in {0, 1, 2} (`RISK_CLASSES` order); no float or bool labels."""
    data = np.asarray(labels)
    if data.ndim != 1:
        raise ValueError(f"{name} must have shape (n,), got shape {data.shape}")
    if n is not None and len(data) != n:
        raise ValueError(f"{name} has {len(data)} rows, expected {n} (one per week)")
    if len(data) and not np.issubdtype(data.dtype, np.integer):
        raise ValueError(
            f"{name} must be integers (0 = low, 1 = medium, 2 = high), got {data.dtype}"
        )
    unknown = np.setdiff1d(data, np.arange(len(RISK_CLASSES)))
    if unknown.size:
        raise ValueError(
            f"{name} must be 0, 1 or 2 ({', '.join(RISK_CLASSES)}), found {unknown[:5].tolist()}"
        )
    return data.astype(np.int64)


def severity_bands(scores: np.ndarray) -> np.ndarray:
    """Band index (into `SEVERITY_BANDS`) of each `(n, 3)` DASS-42 score, columns in
    `DASS_SUBSCALES` order; returns `(n, 3)` int64."""
    data = np.asarray(scores, dtype=np.float64)
    if data.ndim != 2 or data.shape[1] != len(DASS_SUBSCALES):
        raise ValueError(
            f"scores must have shape (n, {len(DASS_SUBSCALES)}) with columns "
            f"{', '.join(DASS_SUBSCALES)}, got shape {data.shape}"
        )
    if not np.isfinite(data).all():
        bad = sorted({DASS_SUBSCALES[j] for j in np.argwhere(~np.isfinite(data))[:, 1]})
        raise ValueError(f"scores contain NaN or infinite values (subscales: {', '.join(bad)})")
    # side="right": a score equal to a cut belongs to the band that starts there
    return np.stack(
        [np.searchsorted(DASS_CUTS[j], data[:, j], side="right") for j in range(data.shape[1])],
        axis=1,
    ).astype(np.int64)


def dass_risk_labels(scores: np.ndarray) -> np.ndarray:
    """Risk class of each `(n, 3)` DASS-42 score: High if any subscale is severe or worse,
    Medium if any is moderate, else Low; returns `(n,)` int64."""
    worst = severity_bands(scores).max(axis=1, initial=0)
    return np.select([worst >= SEVERE, worst >= MODERATE], [HIGH, MEDIUM], LOW).astype(np.int64)


def rule_labels(signals: np.ndarray) -> np.ndarray:
    """Seed-style risk class of each observed week `(n, 7, 5)` from `SEED_RULES` on its
    per-signal means; returns `(n,)` int64."""
    m = check_signals(signals).astype(np.float64).mean(axis=1)
    r = SEED_RULES
    mood, stress = m[:, _MOOD], m[:, _STRESS]
    sleep, quality = m[:, _SLEEP_HOURS], m[:, _SLEEP_QUALITY]
    high = (
        (mood <= r.high_mood_at_most)
        | (stress >= r.high_stress_at_least)
        | ((sleep < r.high_sleep_hours_below) & (quality <= r.high_sleep_quality_at_most))
    )
    medium = (
        (mood <= r.medium_mood_at_most)
        | (stress >= r.medium_stress_at_least)
        | (sleep < r.medium_sleep_hours_below)
    )
    return np.select([high, medium], [HIGH, MEDIUM], LOW).astype(np.int64)
