"""Run a behaviour policy over every enrolled patient of a cohort, once each, in the batched
environment: the common ground for comparing policies and dynamics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mano_gym.behaviour import BehaviourPolicy
from mano_gym.vector_env import ManoPatientVectorEnv


@dataclass
class Outcomes:
    """Per-patient results of one episode each."""

    returns: np.ndarray  # (n,) undiscounted return
    cured: np.ndarray  # (n,) bool, the episode ended by cure
    weeks: np.ndarray  # (n,) weeks treated
    patients: np.ndarray  # (n,) cohort indices


def run_policy(
    policy: BehaviourPolicy,
    cohort: str | Path = "eval",
    dynamics: str = "world_model",
    seed: int = 0,
    world_model: str | Path | None = None,
    device: str = "cpu",
) -> Outcomes:
    """One episode of each enrolled patient of `cohort` under `policy` (which sees the risk
    score), all patients at once."""
    probe = ManoPatientVectorEnv(1, cohort=cohort, dynamics=dynamics, world_model=world_model)
    patients = probe.episodes.enrolled
    env = ManoPatientVectorEnv(
        len(patients), cohort=cohort, dynamics=dynamics, world_model=world_model, device=device
    )
    env.reset_tensor(seed=seed, patients=patients)
    rng = np.random.default_rng(seed)
    policy.reset(len(patients))
    returns = np.zeros(len(patients))
    weeks = np.zeros(len(patients), np.int64)
    cured = np.zeros(len(patients), bool)
    running = np.ones(len(patients), bool)
    score = env.episodes.score.cpu().numpy()
    while running.any():
        treatment, intensity = policy.act(score, rng)
        _, reward, terminated, truncated, info = env.step_tensor(
            torch.as_tensor(treatment, device=env.device),
            torch.as_tensor(intensity, dtype=torch.float32, device=env.device),
        )
        returns += np.where(running, reward.cpu().numpy(), 0.0)
        weeks += running
        cured |= running & terminated.cpu().numpy()
        running &= ~(terminated | truncated).cpu().numpy()
        score = info["risk_score"].cpu().numpy()
    return Outcomes(returns, cured, weeks, patients)
