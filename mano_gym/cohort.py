"""Cohorts of synthetic patients, and the labelled weeks the risk predictor learns from.

A patient is a CTGAN profile + a TimeGAN baseline rhythm + draws from the reference
simulator's prior (trait and first-week DASS scores, responsiveness to each treatment); the
first observed week is the simulator's emission from them. Training and evaluation cohorts
come from different seeds, so they share no patient.

`STATIC_FEATURES` is the one encoding of a profile as numbers (the predictor's static input
and the environment's `static` observation):

| feature                    | encoding                                                    |
|----------------------------|-------------------------------------------------------------|
| `age`                      | (age - 18) / (75 - 18)                                      |
| `gender_female/male/other` | one-hot                                                     |
| `family_history`           | 1 = Yes                                                     |
| `treatment_history`        | 1 = has sought treatment (`treatment` Yes)                  |
| `work_interference`        | Never 0, Rarely 1/3, Sometimes 2/3, Often 1; 0 if no answer |
| `work_interference_na`     | 1 = not applicable                                          |
| `self_employed`            | 1 = Yes                                                     |
| `remote_work`              | 1 = Yes                                                     |
| `tech_company`             | 1 = Yes                                                     |
| `company_size`             | the six size bands as 0 .. 1                                |
| `benefits`                 | 1 = Yes                                                     |
| `care_options`             | 1 = Yes                                                     |
| `seek_help`                | 1 = Yes                                                     |
| `consequence_feared`       | `mental_health_consequence`: Yes 1, Maybe 0.5, No 0         |
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from generators.data.osmi import AGE_MAX, AGE_MIN, ANSWERS, GENDERS, NOT_APPLICABLE, PROFILE_COLUMNS
from generators.files import atomic_write
from generators.profiles import ProfileGenerator
from generators.signals import N_SIGNALS, SIGNAL_NAMES, WINDOW_DAYS
from generators.timegan import TimeGAN
from mano_gym.behaviour import (
    BehaviourPolicy,
    FixedPolicy,
    NoisyPolicy,
    RandomPolicy,
    SteppedCare,
    Untreated,
)
from mano_gym.reference import Patients, PatientState, ReferenceSimulator, Week
from mano_gym.treatments import INTENSITY_HIGH, INTENSITY_LOW, TREATMENTS
from predictor.labels import dass_risk_labels

TRAIN_COHORT_SEED = 0
EVAL_COHORT_SEED = 1
STATIC_FEATURES: tuple[str, ...] = (
    "age",
    *(f"gender_{g}" for g in GENDERS),
    "family_history",
    "treatment_history",
    "work_interference",
    "work_interference_na",
    "self_employed",
    "remote_work",
    "tech_company",
    "company_size",
    "benefits",
    "care_options",
    "seek_help",
    "consequence_feared",
)
_INTERFERENCE = {
    "Never": 0.0,
    "Rarely": 1 / 3,
    "Sometimes": 2 / 3,
    "Often": 1.0,
    NOT_APPLICABLE: 0.0,
}
_SIZES = ANSWERS["no_employees"]
_COHORT_ARRAYS = (
    "static",
    "set_point",
    "first_scores",
    "responsiveness",
    "rhythm",
    "first_signals",
)


def encode_profiles(profiles: pd.DataFrame) -> np.ndarray:
    """(n, len(STATIC_FEATURES)) float32 encoding of OSMI-style profiles (see the table)."""
    missing = [c for c in PROFILE_COLUMNS if c not in profiles]
    if missing:
        raise ValueError(f"profiles lack the columns {missing}")
    for column in ("gender", *ANSWERS):
        known = GENDERS if column == "gender" else ANSWERS[column]
        unknown = set(profiles[column]) - set(known)
        if unknown:
            raise ValueError(f"unknown {column} answers {sorted(map(str, unknown))}")
    age = pd.to_numeric(profiles["age"], errors="coerce").to_numpy(np.float64)
    if np.isnan(age).any():
        raise ValueError("age must be numeric")

    def yes(column: str) -> np.ndarray:
        return (profiles[column] == "Yes").to_numpy(np.float64)

    columns = [
        (np.clip(age, AGE_MIN, AGE_MAX) - AGE_MIN) / (AGE_MAX - AGE_MIN),
        *((profiles["gender"] == g).to_numpy(np.float64) for g in GENDERS),
        yes("family_history"),
        yes("treatment"),
        profiles["work_interfere"].map(_INTERFERENCE).to_numpy(np.float64),
        (profiles["work_interfere"] == NOT_APPLICABLE).to_numpy(np.float64),
        yes("self_employed"),
        yes("remote_work"),
        yes("tech_company"),
        profiles["no_employees"].map(_SIZES.index).to_numpy(np.float64) / (len(_SIZES) - 1),
        yes("benefits"),
        yes("care_options"),
        yes("seek_help"),
        profiles["mental_health_consequence"].map({"Yes": 1.0, "Maybe": 0.5, "No": 0.0}).to_numpy(),
    ]
    return np.stack(columns, axis=1).astype(np.float32)


@dataclass
class Cohort:
    """n synthetic patients: profiles, their encoding, the simulator's patient draws and the
    first observed week."""

    profiles: pd.DataFrame
    static: np.ndarray  # (n, len(STATIC_FEATURES)) float32
    patients: Patients
    first_signals: np.ndarray  # (n, 7, 5) float32, real units
    seed: int

    def __len__(self) -> int:
        return len(self.static)

    def save(self, path: str | Path) -> None:
        """Write the cohort to a compressed `.npz` file (atomically); `Cohort.load` reads it
        back."""
        arrays = {
            "static": self.static,
            "static_names": np.array(STATIC_FEATURES),
            "signal_names": np.array(SIGNAL_NAMES),
            "set_point": self.patients.set_point,
            "first_scores": self.patients.first_scores,
            "responsiveness": self.patients.responsiveness,
            "rhythm": self.patients.rhythm.astype(np.float32),  # TimeGAN output: float32 exact
            "first_signals": self.first_signals,
            "profiles": self.profiles.astype(str).to_numpy(dtype=str),
            "profile_columns": np.array(list(self.profiles.columns), dtype=str),
            "seed": np.array(self.seed),
        }
        with atomic_write(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Cohort:
        """A cohort written by `save` (or `mano generate cohort`); a clear error otherwise."""
        path = Path(path)
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError("not an .npz archive")
            with data:
                arrays = {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path}: not a readable cohort file ({error})") from None
        missing = {*_COHORT_ARRAYS, "static_names", "signal_names", "profiles", "profile_columns"}
        missing -= set(arrays)
        if missing:
            raise ValueError(f"{path}: not a cohort file, missing arrays {sorted(missing)}")
        if tuple(arrays["static_names"]) != STATIC_FEATURES:
            raise ValueError(f"{path}: static features differ from {STATIC_FEATURES}")
        if tuple(arrays["signal_names"]) != SIGNAL_NAMES:
            raise ValueError(f"{path}: signals differ from {SIGNAL_NAMES}")
        n = len(arrays["static"])
        shapes = {
            "static": (n, len(STATIC_FEATURES)),
            "set_point": (n, 3),
            "first_scores": (n, 3),
            "responsiveness": (n, len(TREATMENTS)),
            "rhythm": (n, WINDOW_DAYS, N_SIGNALS),
            "first_signals": (n, WINDOW_DAYS, N_SIGNALS),
        }
        for name, shape in shapes.items():
            if arrays[name].shape != shape:
                raise ValueError(f"{path}: {name} has shape {arrays[name].shape}, expected {shape}")
            if not np.all(np.isfinite(arrays[name])):
                raise ValueError(f"{path}: {name} holds NaN or infinite values")
        columns = list(arrays["profile_columns"])
        if arrays["profiles"].shape != (n, len(columns)) or not set(PROFILE_COLUMNS) <= set(
            columns
        ):
            raise ValueError(
                f"{path}: profiles must be {n} rows of the columns {PROFILE_COLUMNS}, "
                f"got shape {arrays['profiles'].shape}"
            )
        profiles = pd.DataFrame(arrays["profiles"], columns=columns)
        profiles["age"] = pd.to_numeric(profiles["age"])
        patients = Patients(
            arrays["set_point"],
            arrays["first_scores"],
            arrays["responsiveness"],
            arrays["rhythm"].astype(np.float64),
        )
        seed = int(arrays["seed"]) if "seed" in arrays else -1
        return cls(profiles, arrays["static"], patients, arrays["first_signals"], seed)


def enrolled_patients(cohort: Cohort) -> np.ndarray:
    """Indices of the patients a clinic would take on: at least moderate on one DASS subscale
    in their first observed week (the patients environment episodes start from)."""
    return np.flatnonzero(dass_risk_labels(cohort.patients.first_scores) >= 1)


def make_cohort(
    n: int,
    seed: int,
    profile_generator: ProfileGenerator,
    rhythm_generator: TimeGAN,
    simulator: ReferenceSimulator | None = None,
) -> Cohort:
    """n new patients; the same seed gives the same cohort."""
    if n < 1:
        raise ValueError(f"a cohort needs at least one patient, got n={n}")
    simulator = simulator or ReferenceSimulator()
    profile_seed, rhythm_seed, patient_seed = np.random.SeedSequence(seed).generate_state(3)
    profiles = profile_generator.sample(n, seed=int(profile_seed)).reset_index(drop=True)
    rhythms = rhythm_generator.sample(n, seed=int(rhythm_seed))
    rng = np.random.default_rng(patient_seed)
    patients = simulator.draw_patients(profiles, rhythms, rng)
    first = simulator.first_week(patients, rng)
    return Cohort(profiles, encode_profiles(profiles), patients, first.signals, seed)


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
