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
| `MeasurementBasedCare` | STAR*D-like: starts on the first step of its ladder; after `patience` |
|                 | weeks without the risk falling by `target` (a share) since the step     |
|                 | began, moves to the next step (a higher intensity, or a switch)         |
| `SwitchingPolicy` | a random treatment at a random intensity, drawn again once, at a     |
|                 | random week                                                               |
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
# Measurement-based care's ladder (judgement, after STAR*D and Guo et al. 2015: raise the dose
# of the first treatment, then switch): (treatment, intensity) from the first step on.
MBC_LADDER: tuple[tuple[str, float], ...] = (
    ("cbt", 0.6),
    ("cbt", 1.0),
    ("medication", 1.0),
    ("exercise", 1.0),
)
MBC_PATIENCE = 4  # weeks on a step before judging it (Szegedi et al. 2009: 2-4 weeks)
MBC_TARGET = 0.2  # the share the risk must fall by on a step (the 20% early-improvement cut)


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


class MeasurementBasedCare:
    """Measurement-based care: each patient climbs `ladder` (`(treatment, intensity)` steps)
    when the risk has not fallen by the share `target` within `patience` weeks of the step's
    start; the last step is kept."""

    def __init__(
        self,
        ladder: tuple[tuple[str, float], ...] = MBC_LADDER,
        patience: int = MBC_PATIENCE,
        target: float = MBC_TARGET,
    ) -> None:
        if not ladder:
            raise ValueError("the ladder needs at least one step")
        if patience < 1 or not 0.0 <= target < 1.0:
            raise ValueError(
                f"patience must be >= 1 and target in [0, 1), got {patience} and {target}"
            )
        steps = [FixedPolicy(t, i) for t, i in ladder]  # checks names and intensities
        self.treatments = np.array([step.treatment for step in steps])
        self.intensities = np.array([step.intensity for step in steps])
        self.patience, self.target = patience, target
        self.reset(0)

    def reset(self, n: int) -> None:
        self.step = np.zeros(n, np.int64)
        self.weeks = np.zeros(n, np.int64)  # weeks on the current step
        self.start_risk: np.ndarray | None = None  # the risk when the current step began

    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        risk = np.asarray(risk, dtype=np.float64)
        if self.start_risk is None:
            self.start_risk = risk.copy()
        judged = self.weeks >= self.patience
        failed = judged & (risk > (1.0 - self.target) * self.start_risk)
        climb = failed & (self.step < len(self.treatments) - 1)
        self.step = self.step + climb
        self.weeks = np.where(climb, 0, self.weeks) + 1
        self.start_risk = np.where(climb, risk, self.start_risk)
        return self.treatments[self.step], self.intensities[self.step]


class SwitchingPolicy:
    """A random treatment at a random intensity, switched once, in a random week between
    `earliest` and `latest`, to a second random draw of both (which may repeat the first)."""

    def __init__(self, earliest: int = 3, latest: int = 16) -> None:
        if not 1 <= earliest <= latest:
            raise ValueError(f"need 1 <= earliest <= latest, got {earliest}, {latest}")
        self.earliest, self.latest = earliest, latest
        self.reset(0)

    def reset(self, n: int) -> None:
        self.week, self.plan = 0, None

    def act(self, risk: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if self.plan is None:
            n = len(risk)
            first, second = random_actions(n, rng), random_actions(n, rng)
            switch = rng.integers(self.earliest, self.latest + 1, n)
            self.plan = first, second, switch
        (t1, i1), (t2, i2), switch = self.plan
        self.week += 1
        later = self.week > switch
        return np.where(later, t2, t1), np.where(later, i2, i1)


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
