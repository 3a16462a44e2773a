"""Virtual clinical trials: reference-simulator rollouts the world model is distilled from.

Every patient of a cohort (or the given ones: the shipped world model learns from the enrolled
patients, whom episodes start from) is followed for `weeks` treated weeks under a behaviour
policy drawn from `trial_policies()`, `replicas` times (each replica draws its own policy and
noise). A trial stores whole trajectories, so a transition is `(baseline rhythm, last week,
profile, exposure trace, action) -> next week`:

| array       | shape              | what                                                     |
|-------------|--------------------|----------------------------------------------------------|
| `static`    | (P, S) float32     | the patient's encoded profile (`STATIC_FEATURES`)        |
| `baseline`  | (P, 7, 5) float32  | the patient's baseline rhythm (TimeGAN week), real units |
| `signals`   | (P, W+1, 7, 5) f32 | week 0 is the first observed week, week t the t-th       |
|             |                    | treated week, real units                                 |
| `exposure`  | (P, W+1, 5) f32    | the exposure trace before week t+1's action              |
| `treatment` | (P, W) int64       | treatment given in week t+1                              |
| `intensity` | (P, W) float32     | its intensity                                            |
| `scores`    | (P, W+1, 3) f32    | latent DASS scores (for analysis; not a model input)     |
| `dropout_hazard` | (P, W) f32    | the probability of leaving care in week t+1 (a target;   |
|             |                    | trajectories go on after a drop-out, so every week of    |
|             |                    | signals is seen)                                         |
| `patient`   | (P,) int64         | the patient's index in its cohort                        |
| `policy`    | (P,) int64         | index into `policy_names`                                |
| `redrawn`   | (P, W', 7, 5) f32  | with `redraw=True`, a second independent draw of each    |
|             |                    | treated week from the same state and action (W' = W),    |
|             |                    | the reference's own noise floor; else W' = 0             |
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch

from generators.files import atomic_write
from generators.signals import N_SIGNALS, SIGNAL_NAMES, WINDOW_DAYS
from mano_gym.cohorts.behaviour import (
    BehaviourPolicy,
    FixedPolicy,
    MeasurementBasedCare,
    NoisyPolicy,
    RandomPolicy,
    SteppedCare,
    SwitchingPolicy,
)
from mano_gym.cohorts.cohort import STATIC_FEATURES, Cohort
from mano_gym.dynamics.reference import ReferenceSimulator, Week
from mano_gym.dynamics.treatments import N_TREATMENTS, TREATMENTS, next_exposure
from mano_gym.dynamics.world_model import WeekInputs

TRIAL_INTENSITIES = (0.1, 0.4, 0.7, 1.0)


def trial_policies() -> list[tuple[str, float, BehaviourPolicy]]:
    """`(name, share of trajectories, policy)`: random, every treatment at several fixed
    intensities, stepped care, measurement-based care, one random switch, and noisy mixtures
    of fixed treatments, stepped care and measurement-based care (so that the world model sees
    adaptive histories)."""
    fixed = [(f"fixed-{t}-{i}", FixedPolicy(t, i)) for t in TREATMENTS for i in TRIAL_INTENSITIES]
    noisy = [
        (f"noisy-{name}", NoisyPolicy(policy, 0.3))
        for name, policy in fixed
        if policy.intensity == 0.7
    ]
    return [
        ("random", 0.15, RandomPolicy()),
        *((name, 0.3 / len(fixed), policy) for name, policy in fixed),
        ("stepped-care", 0.1, SteppedCare()),
        ("noisy-stepped-care", 0.05, NoisyPolicy(SteppedCare(), 0.3)),
        ("measurement-based-care", 0.1, MeasurementBasedCare()),
        ("noisy-measurement-based-care", 0.05, NoisyPolicy(MeasurementBasedCare(), 0.3)),
        ("switching", 0.15, SwitchingPolicy()),
        *((name, 0.1 / len(noisy), policy) for name, policy in noisy),
    ]


@dataclass
class Trials:
    """Trajectories of reference patients under behaviour policies (see the module table)."""

    static: np.ndarray
    baseline: np.ndarray
    signals: np.ndarray
    exposure: np.ndarray
    treatment: np.ndarray
    intensity: np.ndarray
    scores: np.ndarray
    dropout_hazard: np.ndarray
    patient: np.ndarray
    policy: np.ndarray
    redrawn: np.ndarray
    policy_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.static)

    @property
    def weeks(self) -> int:
        return self.treatment.shape[1]

    def tensors(self, device: str | torch.device) -> dict[str, torch.Tensor]:
        """The world model's inputs and targets (static, baseline, signals, exposure,
        treatment, intensity, dropout_hazard) as tensors on `device`."""
        names = ("static", "baseline", "signals", "exposure", "treatment", "intensity")
        names += ("dropout_hazard",)
        return {name: torch.as_tensor(getattr(self, name), device=device) for name in names}

    def subset(self, index: np.ndarray) -> Trials:
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        names = arrays.pop("policy_names")
        return Trials(**{k: v[index] for k, v in arrays.items()}, policy_names=names)

    def save(self, path: str | Path) -> None:
        """Write the trials to a compressed `.npz` file, atomically."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self)}
        arrays["policy_names"] = np.array(self.policy_names)
        arrays["static_names"] = np.array(STATIC_FEATURES)
        arrays["signal_names"] = np.array(SIGNAL_NAMES)
        with atomic_write(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Trials:
        """Trials written by `save` (or `mano generate trials`); a clear error otherwise."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError) as error:
            raise ValueError(f"{path}: not a readable trials file ({error})") from None
        missing = {f.name for f in fields(cls)} | {"static_names", "signal_names"}
        missing -= set(arrays)
        if missing:
            raise ValueError(f"{path}: not a trials file, missing arrays {sorted(missing)}")
        if tuple(arrays.pop("static_names")) != STATIC_FEATURES:
            raise ValueError(f"{path}: static features differ from {STATIC_FEATURES}")
        if tuple(arrays.pop("signal_names")) != SIGNAL_NAMES:
            raise ValueError(f"{path}: signals differ from {SIGNAL_NAMES}")
        n, weeks = arrays["treatment"].shape if arrays["treatment"].ndim == 2 else (-1, -1)
        shapes = {
            "static": (n, len(STATIC_FEATURES)),
            "baseline": (n, WINDOW_DAYS, N_SIGNALS),
            "signals": (n, weeks + 1, WINDOW_DAYS, N_SIGNALS),
            "exposure": (n, weeks + 1, N_TREATMENTS),
            "treatment": (n, weeks),
            "intensity": (n, weeks),
            "scores": (n, weeks + 1, 3),
            "dropout_hazard": (n, weeks),
            "patient": (n,),
            "policy": (n,),
            "redrawn": (n, arrays["redrawn"].shape[1], WINDOW_DAYS, N_SIGNALS),
        }
        if arrays["redrawn"].ndim != 4 or arrays["redrawn"].shape[1] not in (0, weeks):
            raise ValueError(f"{path}: redrawn must hold 0 or {weeks} weeks per trajectory")
        for name, shape in shapes.items():
            if arrays[name].shape != shape:
                raise ValueError(f"{path}: {name} has shape {arrays[name].shape}, expected {shape}")
            if not np.all(np.isfinite(arrays[name])):
                raise ValueError(f"{path}: {name} holds NaN or infinite values")
        names = tuple(str(s) for s in arrays.pop("policy_names"))
        return cls(**arrays, policy_names=names)


def trial_week(x: dict[str, torch.Tensor], t: int, last: torch.Tensor) -> WeekInputs:
    """The world model's inputs for week `t` of trial tensors `x` (`Trials.tensors`), with
    `last` as the week before (the true one, or the model's own sample of it)."""
    return WeekInputs(
        x["static"],
        x["baseline"],
        last,
        x["exposure"][:, t],
        x["treatment"][:, t],
        x["intensity"][:, t],
    )


def make_trials(
    cohort: Cohort,
    weeks: int,
    seed: int,
    replicas: int = 1,
    simulator: ReferenceSimulator | None = None,
    redraw: bool = False,
    patients: np.ndarray | None = None,
) -> Trials:
    """Follow `patients` of `cohort` (indices; default all) for `weeks` weeks, `replicas`
    times, each trajectory under a policy drawn from `trial_policies()`; the same seed gives
    the same trials. With `redraw`, every treated week is drawn a second time from the same
    state (`redrawn`)."""
    if weeks < 1 or replicas < 1:
        raise ValueError(f"weeks and replicas must be >= 1, got {weeks} and {replicas}")
    simulator = simulator or ReferenceSimulator()
    policies = trial_policies()
    shares = np.array([share for _, share, _ in policies])
    rng = np.random.default_rng(seed)
    followed = np.arange(len(cohort)) if patients is None else np.asarray(patients)
    if len(followed) == 0 or followed.min() < 0 or followed.max() >= len(cohort):
        raise ValueError(f"patients must be indices into the cohort's {len(cohort)} patients")
    patient = np.tile(followed, replicas)
    assignment = rng.choice(len(policies), size=len(patient), p=shares / shares.sum())
    p, w = len(patient), weeks
    signals = np.zeros((p, w + 1, WINDOW_DAYS, N_SIGNALS), np.float32)
    exposure = np.zeros((p, w + 1, N_TREATMENTS), np.float32)
    treatment = np.zeros((p, w), np.int64)
    intensity = np.zeros((p, w), np.float32)
    scores = np.zeros((p, w + 1, 3), np.float32)
    hazard = np.zeros((p, w), np.float32)
    redrawn = np.zeros((p, w if redraw else 0, WINDOW_DAYS, N_SIGNALS), np.float32)
    for k, (_, _, policy) in enumerate(policies):
        rows = np.flatnonzero(assignment == k)
        if len(rows) == 0:
            continue
        patients = cohort.patients.subset(patient[rows])
        state = simulator.first_state(patients)
        week = Week.untreated(cohort.first_signals[patient[rows]], patients.first_scores)
        signals[rows, 0], scores[rows, 0] = week.signals, week.scores
        trace = np.zeros((len(rows), N_TREATMENTS))
        policy.reset(len(rows))
        for t in range(w):
            given, dose = policy.act(week.risk, rng)
            if redraw:
                redrawn[rows, t] = simulator.step(patients, state, given, dose, rng)[1].signals
            state, week = simulator.step(patients, state, given, dose, rng)
            trace = next_exposure(trace, given, dose)
            treatment[rows, t], intensity[rows, t] = given, dose
            hazard[rows, t] = week.dropout_hazard
            signals[rows, t + 1], scores[rows, t + 1] = week.signals, week.scores
            exposure[rows, t + 1] = trace
    return Trials(
        static=cohort.static[patient],
        baseline=cohort.patients.rhythm[patient].astype(np.float32),
        signals=signals,
        exposure=exposure,
        treatment=treatment,
        intensity=intensity,
        scores=scores,
        dropout_hazard=hazard,
        patient=patient,
        policy=assignment.astype(np.int64),
        redrawn=redrawn,
        policy_names=tuple(name for name, _, _ in policies),
    )
