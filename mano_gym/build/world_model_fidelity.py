"""How faithful the world model is to the reference simulator it was distilled from.

All measured on trials of the held-out cohort (patients the model never saw):

| metric                          | what                                                        |
|---------------------------------|-------------------------------------------------------------|
| `mae.<signal>`                  | one-week MAE of the point forecast (the predicted mean put  |
|                                 | on the signal's support), given the true last week          |
| `noise_floor.<signal>`          | MAE between two independent reference draws of that week    |
| `mae_ratio.<signal>`            | `mae / noise_floor`: 1 is as close as the simulator to itself |
| `sample_mae_ratio.<signal>`     | the same for a sampled week instead of the mean             |
| `coverage_90.<signal>`          | share of true values inside the predicted central 90%       |
| `rollout_drift.<signal>`        | cohort mean after the trials' weeks fed its own samples     |
|                                 | (same actions as the trial) minus the reference's, in real  |
|                                 | units                                                       |
| `rollout_drift_sd.<signal>`     | that drift in between-patient SDs of the reference's week   |
| `rollout_drift_12w[_sd].<signal>` | the same after 12 weeks (one STAR*D level)                |
| `dropout_hazard_mean[_reference]` | mean weekly drop-out hazard, the model's (given the true  |
| `[.<treatment> / .weeks_<a>_<b>]` | weeks before) and the reference's, overall, per treatment |
|                                 | given and per block of weeks                                |
| `policy_rank_spearman`          | Spearman correlation of mean returns of fixed policies run  |
|                                 | in ManoPatient-v0 under both dynamics                       |
"""

from __future__ import annotations

import numpy as np
import torch

from generators.signals import SIGNAL_NAMES
from mano_gym.cohorts.trials import Trials, trial_week
from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.dynamics.world_model import WorldModel

_Z90 = 1.6448536269514722  # the standard normal's 95th percentile
DRIFT_WEEKS = 12  # the drift goal's horizon: one STAR*D level
HAZARD_WEEKS = ((1, 4), (5, 12), (13, 24), (25, 52))  # blocks of weeks the hazard is compared in


def one_week_fidelity(model: WorldModel, trials: Trials, seed: int = 0) -> dict[str, float]:
    """MAE, noise floor, their ratios and 90% coverage per signal, over every treated week of
    `trials` (made with `redraw=True`), each predicted from the true weeks before."""
    if trials.redrawn.shape[1] != trials.weeks:
        raise ValueError("one-week fidelity needs trials made with redraw=True")
    x = trials.tensors(model.device)
    generator = torch.Generator(model.device).manual_seed(seed)
    errors, sampled_errors, inside, hazards = [], [], [], []
    belief = model.initial_belief(len(trials))
    for t in range(trials.weeks):
        mean, var, hazard, belief = model.predict(trial_week(x, t, x["signals"][:, t]), belief)
        hazards.append(hazard)
        truth = x["signals"][:, t + 1]
        noise = torch.randn(mean.shape, generator=generator, device=model.device)
        sample = model.to_support(mean + var.sqrt() * noise)
        errors.append((model.to_support(mean) - truth).abs())
        sampled_errors.append((sample - truth).abs())
        inside.append(((truth - mean).abs() <= _Z90 * var.sqrt()).float())
    floor = np.abs(trials.redrawn - trials.signals[:, 1:]).mean(axis=(0, 1, 2))
    per_signal = {
        "mae": torch.stack(errors).mean(dim=(0, 1, 2)).cpu().numpy(),
        "sample_mae": torch.stack(sampled_errors).mean(dim=(0, 1, 2)).cpu().numpy(),
        "coverage_90": torch.stack(inside).mean(dim=(0, 1, 2)).cpu().numpy(),
    }
    hazard = torch.stack(hazards, dim=1).cpu().numpy()
    metrics = {"dropout_hazard_mae": float(np.abs(hazard - trials.dropout_hazard).mean())}
    metrics |= hazard_calibration(hazard, trials)
    for i, name in enumerate(SIGNAL_NAMES):
        metrics[f"mae.{name}"] = float(per_signal["mae"][i])
        metrics[f"noise_floor.{name}"] = float(floor[i])
        metrics[f"mae_ratio.{name}"] = float(per_signal["mae"][i] / floor[i])
        metrics[f"sample_mae_ratio.{name}"] = float(per_signal["sample_mae"][i] / floor[i])
        metrics[f"coverage_90.{name}"] = float(per_signal["coverage_90"][i])
    return metrics


def hazard_calibration(hazard: np.ndarray, trials: Trials) -> dict[str, float]:
    """Mean weekly drop-out hazard, predicted (`hazard`, patients x weeks) and the reference's,
    over every week, per treatment given and per block of `HAZARD_WEEKS` the trials reach."""
    week = np.broadcast_to(np.arange(1, trials.weeks + 1), hazard.shape)
    groups = {"": np.ones(hazard.shape, bool)}
    groups |= {f".{name}": trials.treatment == k for k, name in enumerate(TREATMENTS)}
    groups |= {f".weeks_{a}_{b}": (week >= a) & (week <= b) for a, b in HAZARD_WEEKS}
    metrics = {}
    for suffix, rows in groups.items():
        if rows.any():
            metrics[f"dropout_hazard_mean{suffix}"] = float(hazard[rows].mean())
            metrics[f"dropout_hazard_mean_reference{suffix}"] = float(
                trials.dropout_hazard[rows].mean()
            )
    return metrics


def rollout_drift(model: WorldModel, trials: Trials, seed: int = 0) -> dict[str, float]:
    """Cohort-mean difference per signal between the world model fed its own samples, under
    the trials' own actions, and the reference's weeks, after `DRIFT_WEEKS` weeks (when the
    trials are that long) and after all `trials.weeks`. The reference side is one draw: its
    own sampling error is about SD / sqrt(trajectories), so trials with several replicas per
    patient measure a small drift better than one trajectory each."""
    x = trials.tensors(model.device)
    generator = torch.Generator(model.device).manual_seed(seed)
    last = x["signals"][:, 0]
    belief = model.initial_belief(len(trials))
    horizons = [(trials.weeks, "")] + [(DRIFT_WEEKS, "_12w")] * (trials.weeks >= DRIFT_WEEKS)
    metrics: dict[str, float] = {}
    for t in range(trials.weeks):
        noise = torch.randn(last.shape, generator=generator, device=model.device)
        last, _, belief = model.sample(trial_week(x, t, last), belief, noise)
        for suffix in (suffix for week, suffix in horizons if week == t + 1):
            model_mean = last.mean(dim=1).mean(dim=0).cpu().numpy()
            reference_week = trials.signals[:, t + 1].mean(axis=1)
            drift = model_mean - reference_week.mean(axis=0)
            spread = reference_week.std(axis=0)
            for i, name in enumerate(SIGNAL_NAMES):
                metrics[f"rollout_drift{suffix}.{name}"] = float(drift[i])
                metrics[f"rollout_drift{suffix}_sd.{name}"] = float(drift[i] / spread[i])
    return metrics
