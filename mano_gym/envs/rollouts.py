"""Run a policy over patients of a cohort, one episode each, all at once in the batched
environment: the common ground for comparing policies, agents and dynamics.

A policy here sees the batched observation (NumPy, as `ManoPatientVectorEnv` gives it) and
returns `(treatment (n,), intensity (n,))`; `RiskScorePolicy` turns a behaviour policy of
`mano_gym.cohorts.behaviour`, which looks only at the risk score, into one. A policy with an
`observe(info)` method also gets each week's info (each row's own, as `step_info` gives it):
reference policies that see what no agent can (the latent scores of the reference dynamics)
read it there. Row `i` of a run holds patient `patients[i]` for its one episode.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Protocol

import numpy as np
from gymnasium.vector import AutoresetMode

from mano_gym.cohorts.behaviour import BehaviourPolicy
from mano_gym.dynamics.treatments import N_TREATMENTS
from mano_gym.envs.episodes import RewardWeights
from mano_gym.envs.vector import ManoPatientVectorEnv, step_info
from predictor.labels import dass_risk_labels
from predictor.model import risk_score_from_proba


class Policy(Protocol):
    def reset(self, n: int) -> None:
        """Start n new patients."""

    def act(
        self, obs: dict[str, np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """`(treatment (n,) int, intensity (n,) float)` for this week's observations."""


class RiskScorePolicy:
    """A behaviour policy acting on the observed risk score `P(medium) * 0.5 + P(high)`."""

    def __init__(self, behaviour: BehaviourPolicy) -> None:
        self.behaviour = behaviour

    def reset(self, n: int) -> None:
        self.behaviour.reset(n)

    def act(
        self, obs: dict[str, np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.behaviour.act(risk_score_from_proba(obs["risk"]), rng)


@dataclass
class Outcomes:
    """Per-patient results of one episode each."""

    returns: np.ndarray  # (n,) undiscounted return
    cured: np.ndarray  # (n,) bool, the episode ended in sustained remission (predicted risk)
    dropout: np.ndarray  # (n,) bool, the patient left care
    weeks: np.ndarray  # (n,) weeks treated
    patients: np.ndarray  # (n,) cohort indices
    treatment_weeks: np.ndarray  # (n, 5) weeks on each treatment
    intensity: np.ndarray  # (n,) summed intensity of the active (non-control) weeks
    safety_events: np.ndarray  # (n,) safety flags raised over the episode
    # (n,) reference dynamics: in true sustained remission at the end, every latent DASS
    # subscale normal or mild in the last two weeks, and still in care
    true_cured: np.ndarray | None
    end_depression: np.ndarray | None  # (n,) reference dynamics: latent depression at the end

    def subset(self, rows: np.ndarray) -> Outcomes:
        """The outcomes of `rows` (a mask or indices) only."""
        return Outcomes(
            *(None if (v := getattr(self, f.name)) is None else v[rows] for f in fields(self))
        )


def enrolled(
    cohort: str | Path = "eval",
    reward: RewardWeights | None = None,
    assets: str | Path | None = None,
) -> np.ndarray:
    """Cohort indices of the patients episodes start from (see `ManoPatientEnv`)."""
    reward = reward or RewardWeights()
    env = ManoPatientVectorEnv(
        1, cohort=cohort, cure_threshold=reward.cure_threshold, assets=assets
    )
    return env.episodes.enrolled


def run_policy(
    policy: Policy,
    cohort: str | Path = "eval",
    dynamics: str = "world_model",
    seed: int = 0,
    world_model: str | Path | None = None,
    device: str = "cpu",
    patients: np.ndarray | None = None,
    assets: str | Path | None = None,
) -> Outcomes:
    """One episode of each of `patients` (default: every enrolled patient of `cohort`, once)
    under `policy` (wrap a behaviour policy in `RiskScorePolicy`), all patients at once; the
    same seed gives the same outcomes."""
    patients = enrolled(cohort, assets=assets) if patients is None else np.asarray(patients)
    n = len(patients)
    env = ManoPatientVectorEnv(
        n,
        cohort=cohort,
        dynamics=dynamics,
        world_model=world_model,
        device=device,
        assets=assets,
        # SAME_STEP: ended rows draw their next patients in the order every published result
        # was measured with, so the reference dynamics' shared random stream is unchanged
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    obs, info = env.reset(seed=seed, options={"patients": patients})
    rng = np.random.default_rng(seed)
    policy.reset(n)
    observe = getattr(policy, "observe", None)
    if observe is not None:
        observe(info)
    returns, intensity, safety = np.zeros(n), np.zeros(n), np.zeros(n)
    weeks = np.zeros(n, np.int64)
    treatment_weeks = np.zeros((n, N_TREATMENTS), np.int64)
    cured, dropout = np.zeros(n, bool), np.zeros(n, bool)
    reference = dynamics == "reference"
    true_cured = np.zeros(n, bool) if reference else None
    end_depression = np.zeros(n) if reference else None
    low_before = np.zeros(n, bool)  # the latent risk was low last week
    running = np.ones(n, bool)
    while running.any():
        treatment, dose = policy.act(obs, rng)
        obs, reward, terminated, truncated, info = env.step(
            {"treatment": np.asarray(treatment), "intensity": np.asarray(dose)[:, None]}
        )
        info = step_info(info)
        if observe is not None:
            observe(info)
        returns += np.where(running, reward, 0.0)
        weeks += running
        np.add.at(treatment_weeks, (np.flatnonzero(running), np.asarray(treatment)[running]), 1)
        intensity += np.where(running & (np.asarray(treatment) > 0), dose, 0.0)
        safety += np.where(running, info["cost"], 0.0)
        ended = running & (terminated | truncated)
        left = running & info["dropout"]
        dropout |= left
        cured |= running & terminated & ~left
        if reference:
            low = dass_risk_labels(info["dass"]) == 0
            true_cured |= ended & ~left & low & low_before
            end_depression[ended] = info["dass"][ended, 0]
            low_before = low
        running &= ~(terminated | truncated)
    return Outcomes(
        returns,
        cured,
        dropout,
        weeks,
        patients,
        treatment_weeks,
        intensity,
        safety,
        true_cured,
        end_depression,
    )
