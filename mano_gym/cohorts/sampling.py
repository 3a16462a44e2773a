"""New cohorts: patients sampled from the generators and the reference simulator's prior.

`make_cohort` draws n profiles (CTGAN) and baseline rhythms (TimeGAN), then the simulator's
patient draws and first observed week; `encode_profiles` turns profiles into
`STATIC_FEATURES` (see `mano_gym.cohorts.cohort` for the encoding table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from generators.profile_schema import (
    AGE_MAX,
    AGE_MIN,
    ANSWERS,
    GENDERS,
    NOT_APPLICABLE,
    PROFILE_COLUMNS,
)
from mano_gym.cohorts.cohort import Cohort
from mano_gym.dynamics.reference import ReferenceSimulator

if TYPE_CHECKING:
    from generators.profiles import ProfileGenerator
    from generators.timegan import TimeGAN

_INTERFERENCE = {
    "Never": 0.0,
    "Rarely": 1 / 3,
    "Sometimes": 2 / 3,
    "Often": 1.0,
    NOT_APPLICABLE: 0.0,
}
_SIZES = ANSWERS["no_employees"]


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
    return Cohort(
        profiles.astype(str).to_numpy(dtype=str),
        tuple(profiles.columns),
        encode_profiles(profiles),
        patients,
        first.signals,
        seed,
    )
