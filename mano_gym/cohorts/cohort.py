"""Cohorts of synthetic patients: what an episode starts from, and how it is stored.

A patient is a CTGAN profile + a TimeGAN baseline rhythm + draws from the reference
simulator's prior (trait and first-week DASS scores, responsiveness to each treatment); the
first observed week is the simulator's emission from them (`mano_gym.cohorts.sampling` makes
new cohorts). Training and evaluation cohorts come from different seeds, so they share no
patient. Reading a cohort file needs NumPy alone: the environment reads one at every start.

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
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from generators.files import atomic_write
from generators.profile_schema import GENDERS, PROFILE_COLUMNS
from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, WINDOW_DAYS
from mano_gym.dynamics.reference import DASS_MAX, Patients
from mano_gym.dynamics.treatments import TREATMENTS
from predictor.labels import dass_risk_labels

if TYPE_CHECKING:
    import pandas as pd

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
_COHORT_ARRAYS = (
    "static",
    "set_point",
    "first_scores",
    "responsiveness",
    "moderation",
    "treated_before",
    "rhythm",
    "first_signals",
)


@dataclass
class Cohort:
    """n synthetic patients: profiles (as text, one row each), their encoding, the simulator's
    patient draws and the first observed week."""

    profile_table: np.ndarray  # (n, len(profile_columns)) str
    profile_columns: tuple[str, ...]
    static: np.ndarray  # (n, len(STATIC_FEATURES)) float32
    patients: Patients
    first_signals: np.ndarray  # (n, 7, 5) float32, real units
    seed: int

    def __len__(self) -> int:
        return len(self.static)

    @cached_property
    def profiles(self) -> pd.DataFrame:
        """The profiles as a table (`age` numeric), as the profile generator sampled them."""
        import pandas as pd  # only for reading profiles; the environment never does

        profiles = pd.DataFrame(self.profile_table, columns=list(self.profile_columns))
        profiles["age"] = pd.to_numeric(profiles["age"])
        return profiles

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
            "moderation": self.patients.moderation,
            "treated_before": self.patients.treated_before,
            "rhythm": self.patients.rhythm.astype(np.float32),  # TimeGAN output: float32 exact
            "first_signals": self.first_signals,
            "profiles": self.profile_table,
            "profile_columns": np.array(self.profile_columns, dtype=str),
            "seed": np.array(self.seed),
        }
        with atomic_write(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> Cohort:
        """A cohort written by `save` (or `mano generate cohort`); a `ValueError` naming the
        file and the array otherwise (shape, NaN, or a value outside its range)."""
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
        signals = (SIGNAL_LOW, SIGNAL_HIGH)
        expected = {  # name: (shape, low, high)
            "static": ((n, len(STATIC_FEATURES)), 0.0, 1.0),
            "set_point": ((n, 3), 0.0, DASS_MAX),
            "first_scores": ((n, 3), 0.0, DASS_MAX),
            "responsiveness": ((n, len(TREATMENTS)), 0.0, np.inf),
            "moderation": ((n, len(TREATMENTS)), 0.0, np.inf),
            "treated_before": ((n,), 0.0, 1.0),
            "rhythm": ((n, WINDOW_DAYS, N_SIGNALS), *signals),
            "first_signals": ((n, WINDOW_DAYS, N_SIGNALS), *signals),
        }
        for name, (shape, low, high) in expected.items():
            values = arrays[name]
            if values.shape != shape:
                raise ValueError(f"{path}: {name} has shape {values.shape}, expected {shape}")
            if values.dtype.kind != "f":
                raise ValueError(f"{path}: {name} must hold real numbers, got {values.dtype}")
            if not np.all(np.isfinite(values)):
                raise ValueError(f"{path}: {name} holds NaN or infinite values")
            if np.any(values < low) or np.any(values > high):
                raise ValueError(
                    f"{path}: {name} holds values outside its range "
                    f"[{np.min(low)}, {np.max(high)}] (found {values.min()} to {values.max()})"
                )
        columns = tuple(str(c) for c in arrays["profile_columns"])
        if arrays["profiles"].shape != (n, len(columns)) or not set(PROFILE_COLUMNS) <= set(
            columns
        ):
            raise ValueError(
                f"{path}: profiles must be {n} rows of the columns {PROFILE_COLUMNS}, "
                f"got shape {arrays['profiles'].shape}"
            )
        patients = Patients(
            arrays["set_point"],
            arrays["first_scores"],
            arrays["responsiveness"],
            arrays["moderation"],
            arrays["treated_before"],
            arrays["rhythm"].astype(np.float64),
        )
        seed = int(arrays["seed"]) if "seed" in arrays else -1
        return cls(
            arrays["profiles"],
            columns,
            arrays["static"].astype(np.float32),
            patients,
            arrays["first_signals"].astype(np.float32),
            seed,
        )


def enrolled_patients(cohort: Cohort) -> np.ndarray:
    """Indices of the patients a clinic would take on: at least moderate on one DASS subscale
    in their first observed week (the patients environment episodes start from)."""
    return np.flatnonzero(dass_risk_labels(cohort.patients.first_scores) >= 1)
