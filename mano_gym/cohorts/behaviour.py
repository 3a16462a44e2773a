"""Behaviour policies that prescribe for many patients at once, from their current risk.

They generate the treated weeks the risk predictor learns from and the virtual clinical trials
the world model is distilled from, and they are the clinical heuristics agents are compared
with. Each takes a risk per patient (a risk class or a risk score: only its rise and fall
matter to stepped care) and returns `(treatment, intensity)` arrays.

| policy          | prescribes                                                                |
|-----------------|---------------------------------------------------------------------------|
| `Untreated`     | `control` every week                                                      |
| `RandomPolicy`  | a uniform treatment at a uniform intensity, every week anew               |
| `FixedPolicy`   | one treatment at one intensity                                            |
| `SteppedCare`   | starts on the lowest step; after two weeks without a fall in risk, steps  |
|                 | up (app -> CBT -> medication) unless risk is already low; steps down once |
|                 | risk has fallen two weeks in a row                                        |
| `NoisyPolicy`   | another policy, replaced by a random action with probability `epsilon`    |
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mano_gym.dynamics.treatments import (
    INTENSITY_HIGH,
    INTENSITY_LOW,
    N_TREATMENTS,
    treatment_index,
)

# Stepped care's ladder: (treatment, intensity) from the least to the most intensive step.
STEPPED_CARE_LADDER: tuple[tuple[str, float], ...] = (
    ("wellness_app", 0.5),
    ("cbt", 0.6),
    ("medication", 0.6),
)
STEPPED_CARE_PATIENCE = 2  # weeks without improvement before stepping up (and of it before down)


class BehaviourPolicy(Protocol):
    def reset(self, n: int) -> None:
        """Start n new patients."""

    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """`(treatment (n,) int64, intensity (n,) float64)` for this week."""


def random_actions(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n uniform treatments at uniform intensities."""
    return rng.integers(0, N_TREATMENTS, n), rng.uniform(INTENSITY_LOW, INTENSITY_HIGH, n)


class _Stateless:
    def reset(self, n: int) -> None:
        """Nothing to remember between weeks."""


class Untreated(_Stateless):
    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros(len(risk), np.int64), np.full(len(risk), INTENSITY_LOW)


class RandomPolicy(_Stateless):
    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return random_actions(len(risk), rng)


class FixedPolicy(_Stateless):
    def __init__(self, treatment: str, intensity: float) -> None:
        if not INTENSITY_LOW <= intensity <= INTENSITY_HIGH:
            raise ValueError(f"intensity {intensity} outside [{INTENSITY_LOW}, {INTENSITY_HIGH}]")
        self.treatment, self.intensity = treatment_index(treatment), float(intensity)

    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n = len(risk)
        return np.full(n, self.treatment, np.int64), np.full(n, self.intensity)


class SteppedCare:
    """Step up the ladder when risk has not fallen for `patience` weeks (unless it is at
    `lowest_risk`, the low class or score), down when it has fallen for `patience` weeks in a
    row."""

    def __init__(self, patience: int = STEPPED_CARE_PATIENCE, lowest_risk: float = 0.0) -> None:
        self.patience, self.lowest_risk = patience, lowest_risk
        self.ladder = np.array([treatment_index(t) for t, _ in STEPPED_CARE_LADDER])
        self.intensities = np.array([i for _, i in STEPPED_CARE_LADDER])
        self.reset(0)

    def reset(self, n: int) -> None:
        self.step = np.zeros(n, np.int64)
        self.last_risk: np.ndarray | None = None
        self.stalled = np.zeros(n, np.int64)  # weeks in a row without a fall in risk
        self.improving = np.zeros(n, np.int64)  # weeks in a row with a fall in risk

    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        risk = np.asarray(risk, dtype=np.float64)
        if self.last_risk is not None:
            fell = risk < self.last_risk
            settled = risk <= self.lowest_risk  # nothing left to fall: never a reason to step up
            self.stalled = np.where(fell | settled, 0, self.stalled + 1)
            self.improving = np.where(fell, self.improving + 1, 0)
            up = self.stalled >= self.patience
            down = self.improving >= self.patience
            self.step = np.clip(self.step + up - down, 0, len(self.ladder) - 1)
            self.stalled[up] = 0
            self.improving[down] = 0
        self.last_risk = risk
        return self.ladder[self.step], self.intensities[self.step]


class NoisyPolicy:
    """`base`, with each patient-week's action replaced by a random one with probability
    `epsilon`."""

    def __init__(self, base: BehaviourPolicy, epsilon: float) -> None:
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon {epsilon} outside [0, 1]")
        self.base, self.epsilon = base, epsilon

    def reset(self, n: int) -> None:
        self.base.reset(n)

    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        treatment, intensity = self.base.act(risk, rng)
        noisy = rng.random(len(risk)) < self.epsilon
        random_treatment, random_intensity = random_actions(len(risk), rng)
        return (
            np.where(noisy, random_treatment, treatment),
            np.where(noisy, random_intensity, intensity),
        )
