"""The shipped artifacts an environment runs on, read once per process.

| artifact       | file               | what                                                      |
|----------------|--------------------|-----------------------------------------------------------|
| `world_model`  | `world_model.pt`   | the attention Seq2Seq dynamics                            |
| `cohort_train` | `cohort_train.npz` | the patients episodes start from by default               |
| `cohort_eval`  | `cohort_eval.npz`  | held-out patients (`cohort="eval"`), never trained on     |
| `predictor`    | see `predictor_artifacts` | the risk predictor behind observation and reward   |

Each file is checked against its SHA-256 in the manifest before it is read; models and cohorts
are cached per (file, device), so a `SyncVectorEnv` of many environments reads them once.
Environments only read them: nothing downloads, nothing is written.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from mano_gym.artifacts import verified_artifact
from mano_gym.cohort import Cohort
from mano_gym.predictor_artifacts import ARTIFACTS as PREDICTORS
from mano_gym.predictor_artifacts import LATENT, load_predictor
from mano_gym.world_model import WorldModel
from predictor.model import RiskPredictor

WORLD_MODEL = "world_model"
COHORTS = {"train": "cohort_train", "eval": "cohort_eval"}
FILES = {
    WORLD_MODEL: "world_model.pt",
    "cohort_train": "cohort_train.npz",
    "cohort_eval": "cohort_eval.npz",
}


def cohort_path(cohort: str | Path) -> Path:
    """The file of cohort `"train"`, `"eval"` (shipped, hash-checked) or a user's `.npz` path."""
    if isinstance(cohort, str) and cohort in COHORTS:
        return verified_artifact(COHORTS[cohort])[0]
    path = Path(cohort)
    if path.suffix != ".npz":
        raise ValueError(
            f"cohort must be 'train', 'eval' or a cohort .npz file (mano generate cohort), "
            f"got {cohort!r}"
        )
    return path


def _stamp(path: Path) -> tuple[Path, int, int]:
    """A cache key that changes when the file is rewritten."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    status = path.stat()
    return path, status.st_mtime_ns, status.st_size


@lru_cache(maxsize=8)
def _cohort(key: tuple[Path, int, int]) -> Cohort:
    return Cohort.load(key[0])


def load_cohort(cohort: str | Path | Cohort = "train") -> Cohort:
    """Cohort `"train"`, `"eval"`, a user file (read once per process; do not modify it), or a
    `Cohort` already in memory (returned as it is)."""
    if isinstance(cohort, Cohort):
        return cohort
    return _cohort(_stamp(cohort_path(cohort)))


@lru_cache(maxsize=8)
def _world_model(key: tuple[Path, int, int], device: str) -> WorldModel:
    return WorldModel.load(key[0], device=device)


def load_world_model(path: str | Path | None = None, device: str = "cpu") -> WorldModel:
    """The shipped world model (hash-checked) or the one at `path`, on `device`."""
    if path is None:
        path = verified_artifact(WORLD_MODEL)[0]
    return _world_model(_stamp(path), str(device))


@lru_cache(maxsize=8)
def _predictor(key: tuple[Path, int, int], device: str) -> RiskPredictor:
    return load_predictor(key[0], device=device)


def load_risk_predictor(device: str = "cpu") -> RiskPredictor:
    """The shipped latent-label risk predictor (hash-checked)."""
    return _predictor(_stamp(verified_artifact(PREDICTORS[LATENT])[0]), str(device))
