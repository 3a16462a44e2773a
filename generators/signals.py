"""The daily signals: the one source of truth for their names, units, ranges and directions.

Every module that reads, generates, scales or clips a daily signal takes it from here, in the
order of `SIGNAL_NAMES` (the last axis of every `(..., 7, 5)` signal array).

| index | name            | unit | range    | values | direction                              |
|-------|-----------------|------|----------|--------|----------------------------------------|
| 0     | `sleep_hours`   | h    | 1 - 16   | whole  | higher = more sleep                    |
| 1     | `sleep_quality` | 1-5  | 1 - 5    | whole  | higher = better sleep                  |
| 2     | `resting_hr`    | bpm  | 30 - 120 | real   | higher = faster resting heart rate     |
| 3     | `stress`        | 1-5  | 1 - 5    | whole  | higher = MORE stressed (PMSys inverted) |
| 4     | `mood`          | 1-5  | 1 - 5    | whole  | higher = better mood                   |

PMSys scores every 1-5 item so that higher means better wellbeing, so its `stress` (5 = very
relaxed) is inverted on load; Mano's `stress` follows the seed and the Sleep Health dataset.
A value outside the range is not physiological (or not on the questionnaire's scale) and is
treated as missing by the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Signal:
    """One daily signal: what it measures, in which unit, and where its values may lie."""

    name: str
    unit: str
    low: float
    high: float
    integer: bool
    direction: str
    short: str  # a label for narrow tables and legends


SIGNALS: tuple[Signal, ...] = (
    Signal("sleep_hours", "h", 1.0, 16.0, True, "higher = more sleep", "sleep h"),
    Signal("sleep_quality", "1-5", 1.0, 5.0, True, "higher = better sleep", "sleep q"),
    Signal("resting_hr", "bpm", 30.0, 120.0, False, "higher = faster resting heart rate", "HR"),
    Signal("stress", "1-5", 1.0, 5.0, True, "higher = more stressed", "stress"),
    Signal("mood", "1-5", 1.0, 5.0, True, "higher = better mood", "mood"),
)
SIGNAL_NAMES: tuple[str, ...] = tuple(s.name for s in SIGNALS)
N_SIGNALS = len(SIGNALS)
SIGNAL_LOW = np.array([s.low for s in SIGNALS], dtype=np.float32)
SIGNAL_HIGH = np.array([s.high for s in SIGNALS], dtype=np.float32)
_INTEGER = np.array([s.integer for s in SIGNALS])
WINDOW_DAYS = 7


def signal(name: str) -> Signal:
    """The signal called `name`; a `KeyError` lists the known names otherwise."""
    for s in SIGNALS:
        if s.name == name:
            return s
    raise KeyError(f"unknown signal {name!r}; known signals: {', '.join(SIGNAL_NAMES)}")


def to_support(values: np.ndarray) -> np.ndarray:
    """Put signal values (last axis in `SIGNAL_NAMES` order) on each signal's support: clipped
    to its range, and rounded where the signal is reported in whole numbers."""
    values = np.asarray(values, dtype=np.float32)
    if values.shape[-1] != N_SIGNALS:
        raise ValueError(f"expected {N_SIGNALS} signals on the last axis, got shape {values.shape}")
    clipped = np.clip(values, SIGNAL_LOW, SIGNAL_HIGH)
    return np.where(_INTEGER, np.round(clipped), clipped).astype(np.float32)
