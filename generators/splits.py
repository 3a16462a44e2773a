"""The train / holdout splits every generator is trained and evaluated on, reproducible from
a small config (recorded in the artifact manifest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from generators.config_checks import NON_NEGATIVE_INT, OPEN_FRACTION, Rule, check_fields
from generators.data import WindowSplit, load_osmi, load_pmdata, make_windows, split_windows
from generators.data.describe import OSMI_FILE, PMDATA_FOLDER


@dataclass
class SplitConfig:
    profile_holdout: float = 0.2  # share of survey rows kept out of CTGAN training
    holdout_participants: tuple[str, ...] = ("p05", "p10")  # never seen by TimeGAN
    time_holdout: float = 0.2  # later weeks of each training participant, for privacy checks
    seed: int = 0

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "profile_holdout": OPEN_FRACTION,
                "holdout_participants": Rule(
                    lambda v: isinstance(v, tuple) and all(isinstance(p, str) for p in v),
                    "a tuple of participant names such as ('p05', 'p10')",
                ),
                "time_holdout": OPEN_FRACTION,
                "seed": NON_NEGATIVE_INT,
            },
        )


@dataclass(frozen=True)
class GeneratorData:
    profiles_train: pd.DataFrame
    profiles_holdout: pd.DataFrame
    windows: WindowSplit


def data_files(data: str | Path) -> list[Path]:
    """Every file the generators are trained on, for the manifest's hashes."""
    data = Path(data)
    return [data / OSMI_FILE, *sorted((data / PMDATA_FOLDER).glob("p*/*"))]


def load_generator_data(data: str | Path, config: SplitConfig | None = None) -> GeneratorData:
    """Load `data` (a folder with `osmi-2014/survey.csv` and `pmdata/`) and split it."""
    config = config or SplitConfig()
    data = Path(data)
    profiles, _ = load_osmi(data / OSMI_FILE)
    order = np.random.default_rng(config.seed).permutation(len(profiles))
    n_holdout = int(round(len(profiles) * config.profile_holdout))
    holdout = profiles.iloc[np.sort(order[:n_holdout])].reset_index(drop=True)
    train = profiles.iloc[np.sort(order[n_holdout:])].reset_index(drop=True)
    daily, _ = load_pmdata(data / PMDATA_FOLDER)
    windows = split_windows(make_windows(daily), config.holdout_participants, config.time_holdout)
    return GeneratorData(train, holdout, windows)
