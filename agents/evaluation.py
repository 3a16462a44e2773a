"""Evaluate any agent the same way: one episode per enrolled patient of a cohort, all at once,
under either dynamics; metrics under the names of `mano evaluate agent --json`.

| metric                   | what                                                         |
|--------------------------|--------------------------------------------------------------|
| `mean_return`            | undiscounted return per episode                              |
| `cure_rate`              | share of episodes ended by cure (risk score under threshold  |
|                          | for `cure_weeks` weeks in a row)                             |
| `dropout_rate`           | share of episodes ended by the patient leaving care          |
| `mean_weeks`             | weeks per episode                                            |
| `weeks_to_cure`          | weeks per cured episode                                      |
| `mean_intensity`         | mean intensity of the weeks on an active treatment           |
| `safety_events`          | safety flags raised per episode                              |
| `treatment_mix.<name>`   | share of weeks on each treatment                             |
| `episodes`               | episodes run                                                 |
| `true_cure_rate`         | reference dynamics only: true sustained remission, latent    |
|                          | DASS normal or mild in the last two weeks and still in care  |
| `end_depression`         | reference dynamics only: mean latent depression at the end   |
|                          | (DASS-42; the last week seen for a drop-out)                 |
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.envs.rollouts import Outcomes, Policy, enrolled, run_policy


def outcome_metrics(outcomes: Outcomes) -> dict[str, float]:
    """The table's metrics of `outcomes`."""
    active = outcomes.treatment_weeks[:, 1:].sum()
    weeks = outcomes.treatment_weeks.sum(axis=0) / outcomes.treatment_weeks.sum()
    metrics = {
        "mean_return": float(outcomes.returns.mean()),
        "cure_rate": float(outcomes.cured.mean()),
        "dropout_rate": float(outcomes.dropout.mean()),
        "mean_weeks": float(outcomes.weeks.mean()),
        "weeks_to_cure": float(outcomes.weeks[outcomes.cured].mean())
        if outcomes.cured.any()
        else float("nan"),
        "mean_intensity": float(outcomes.intensity.sum() / active) if active else 0.0,
        "safety_events": float(outcomes.safety_events.mean()),
        **{f"treatment_mix.{name}": float(weeks[k]) for k, name in enumerate(TREATMENTS)},
        "episodes": float(len(outcomes.returns)),
    }
    if outcomes.true_cured is not None:
        metrics["true_cure_rate"] = float(outcomes.true_cured.mean())
        metrics["end_depression"] = float(outcomes.end_depression.mean())
    return metrics


def evaluate_policy(
    policy: Policy,
    cohort: str | Path = "eval",
    dynamics: str = "world_model",
    episodes: int | None = None,
    seed: int = 0,
    device: str = "cpu",
    assets: str | Path | None = None,
) -> dict[str, float]:
    """Metrics of `policy` over `episodes` episodes (default: every enrolled patient of
    `cohort` once; more cycle through them again), in the environment on asset set `assets`."""
    patients = enrolled(cohort, assets=assets)
    if episodes is not None:
        if episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {episodes}")
        patients = patients[np.arange(episodes) % len(patients)]
    outcomes = run_policy(policy, cohort, dynamics, seed, None, device, patients, assets)
    return outcome_metrics(outcomes)
