"""Labelled weeks: a cohort followed under a mixture of behaviour policies on the reference
simulator, one row per patient-week with the latent truth (what the risk predictor learns from).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mano_gym.cohorts.behaviour import (
    BehaviourPolicy,
    FixedPolicy,
    NoisyPolicy,
    RandomPolicy,
    SteppedCare,
    Untreated,
)
from mano_gym.cohorts.cohort import Cohort
from mano_gym.dynamics.reference import PatientState, ReferenceSimulator, Week
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, TREATMENTS


@dataclass
class LabelledWeeks:
    """Simulated weeks with the latent truth, one row per patient-week (the predictor's data)."""

    static: np.ndarray  # (m, S) float32
    signals: np.ndarray  # (m, 7, 5) float32
    scores: np.ndarray  # (m, 3) latent DASS scores
    risk: np.ndarray  # (m,) risk class from the DASS bands
    week: np.ndarray  # (m,) week index, 0 = first observed week
    treatment: np.ndarray  # (m,) treatment given in the week before (-1 for week 0)
    patient: np.ndarray  # (m,) index of the patient in its cohort


def behaviour_mix() -> list[tuple[float, BehaviourPolicy]]:
    """The mixture of policies (share of patients, policy) the predictor's weeks come from:
    untreated, random, a fixed treatment, stepped care and noisy stepped care."""
    fixed = [
        FixedPolicy(t, i) for t in TREATMENTS[1:] for i in (INTENSITY_LOW, 0.5, INTENSITY_HIGH)
    ]
    return [
        (0.2, Untreated()),
        (0.2, RandomPolicy()),
        *((0.25 / len(fixed), policy) for policy in fixed),
        (0.2, SteppedCare()),
        (0.15, NoisyPolicy(SteppedCare(), 0.3)),
    ]


def simulate_weeks(
    cohort: Cohort,
    weeks: int,
    seed: int,
    simulator: ReferenceSimulator | None = None,
    policies: list[tuple[float, BehaviourPolicy]] | None = None,
) -> LabelledWeeks:
    """Follow every patient of `cohort` for `weeks` treated weeks under a policy drawn from
    `policies` (default `behaviour_mix()`); returns the first week and every treated week."""
    simulator = simulator or ReferenceSimulator()
    policies = policies or behaviour_mix()
    rng = np.random.default_rng(seed)
    shares = np.array([share for share, _ in policies])
    assignment = rng.choice(len(policies), size=len(cohort), p=shares / shares.sum())
    rows: list[tuple[np.ndarray, Week, np.ndarray, int]] = []
    for k, (_, policy) in enumerate(policies):
        index = np.flatnonzero(assignment == k)
        if len(index) == 0:
            continue
        patients = cohort.patients.subset(index)
        state: PatientState = simulator.first_state(patients)
        week = Week.untreated(cohort.first_signals[index], patients.first_scores)
        rows.append((index, week, np.full(len(index), -1), 0))
        policy.reset(len(index))
        for t in range(1, weeks + 1):
            treatment, intensity = policy.act(week.risk, rng)
            state, week = simulator.step(patients, state, treatment, intensity, rng)
            rows.append((index, week, treatment, t))
    index = np.concatenate([r[0] for r in rows])
    return LabelledWeeks(
        static=cohort.static[index],
        signals=np.concatenate([r[1].signals for r in rows]).astype(np.float32),
        scores=np.concatenate([r[1].scores for r in rows]),
        risk=np.concatenate([r[1].risk for r in rows]),
        week=np.concatenate([np.full(len(r[0]), r[3]) for r in rows]),
        treatment=np.concatenate([r[2] for r in rows]),
        patient=index,
    )
