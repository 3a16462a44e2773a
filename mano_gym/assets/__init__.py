"""Asset sets and their one registry: every artifact's name, file, loader and hash check.

An asset set is a folder of trained artifacts with a `manifest.json`. This folder is the
shipped set (`SHIPPED`), which `gymnasium.make("ManoPatient-v0")` runs on; `mano train ...
--out DIR` builds others, and every loader and environment takes `assets=DIR` to use one.

| name              | file                      | what                | loaded by                |
|-------------------|---------------------------|---------------------|--------------------------|
| `profiles`        | `profiles_ctgan.pt`       | CTGAN (a pickle)    | `load_profile_generator` |
| `rhythms`         | `rhythms_timegan.pt`      | TimeGAN             | `load_rhythm_generator`  |
| `predictor`       | `predictor_lstm.pt`       | risk, latent labels | `load_risk_predictor`    |
| `predictor_rules` | `predictor_rules_lstm.pt` | risk, rule labels   | the same, `kind="rule"`  |
| `cohort_train`    | `cohort_train.npz`        | episodes start here | `load_cohort("train")`   |
| `cohort_eval`     | `cohort_eval.npz`         | held-out patients   | `load_cohort("eval")`    |
| `world_model`     | `world_model.pt`          | Seq2Seq dynamics    | `load_world_model`       |
| `policy`          | `policy_hybrid_ppo.pt`    | default hybrid PPO  | `agents.catalog`         |

Each manifest entry holds the file's SHA-256, the code version, seed, hyperparameters and
metrics, and, under `inputs`, the SHA-256 of every artifact it was built from. Loading checks
the file against its SHA-256 (a mismatch is an error) and its inputs against the artifacts
beside it (a mismatch is a `StaleArtifactWarning`: the set mixes builds). Models and cohorts
are cached per (file, device), so a `SyncVectorEnv` of many environments reads them once.
Nothing here downloads or writes anything; the build pipelines (`mano_gym.build`) write sets.
"""

from __future__ import annotations

import json
import re
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from generators.files import file_sha256
from mano_gym.cohorts.cohort import Cohort
from mano_gym.dynamics.world_model import WorldModel
from predictor.model import RiskPredictor

if TYPE_CHECKING:  # the generators are loaded only when new people are sampled
    from generators.profiles import ProfileGenerator
    from generators.timegan import TimeGAN

SHIPPED = Path(__file__).parent
MANIFEST = "manifest.json"

PROFILES, RHYTHMS = "profiles", "rhythms"
LATENT, RULE = "latent", "rule"
PREDICTORS = {LATENT: "predictor", RULE: "predictor_rules"}
COHORTS = {"train": "cohort_train", "eval": "cohort_eval"}
WORLD_MODEL = "world_model"
POLICY = "policy"
FILES: dict[str, str] = {
    PROFILES: "profiles_ctgan.pt",
    RHYTHMS: "rhythms_timegan.pt",
    PREDICTORS[LATENT]: "predictor_lstm.pt",
    PREDICTORS[RULE]: "predictor_rules_lstm.pt",
    COHORTS["train"]: "cohort_train.npz",
    COHORTS["eval"]: "cohort_eval.npz",
    WORLD_MODEL: "world_model.pt",
    POLICY: "policy_hybrid_ppo.pt",
}
_SHA256 = re.compile(r"[0-9a-f]{64}")
# The shipped CTGAN profile generator is a pickle, and a hash in the manifest beside it vouches
# for nothing (whoever can replace the file can rewrite the manifest), so its hash is kept here,
# in code. Re-shipping CTGAN (`mano train generators --ship`) means updating this line.
SHIPPED_PROFILES_SHA256 = "ecd475c4afdf14d1595d690ccc86540543ac2c27d118e3b398745aa9430a25ab"


class StaleArtifactWarning(UserWarning):
    """An artifact was built from inputs that are not the ones in its asset set."""


def asset_folder(assets: str | Path | None = None) -> Path:
    """The folder of asset set `assets` (None: the shipped set)."""
    return SHIPPED if assets is None else Path(assets)


def read_manifest(assets: str | Path | None = None) -> dict:
    """The manifest of `assets` (`{"artifacts": {name: entry}}`); empty when there is none."""
    path = asset_folder(assets) / MANIFEST
    if not path.is_file():
        return {"artifacts": {}}
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts"), dict):
        raise ValueError(f"{path}: no 'artifacts' table")
    for name, entry in manifest["artifacts"].items():
        file = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(file, str) or not file or Path(file).name != file:
            raise ValueError(f"{path}: artifact {name!r} needs a plain file name, got {file!r}")
        if not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
            raise ValueError(f"{path}: artifact {name!r} has no valid 'sha256'")
    return manifest


def verified_artifact(name: str, assets: str | Path | None = None) -> tuple[Path, dict]:
    """The path of artifact `name` in `assets` and its manifest entry, after checking the
    file's SHA-256 (a `ValueError` if it differs) and its inputs (a `StaleArtifactWarning`)."""
    folder = asset_folder(assets)
    entries = read_manifest(folder)["artifacts"]
    if name not in entries:
        known = ", ".join(entries) or "none"
        raise ValueError(f"no artifact {name!r} in {folder / MANIFEST} (artifacts: {known})")
    entry = entries[name]
    path = folder / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"artifact {name!r} missing: {path}")
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise ValueError(
            f"{path}: SHA-256 {actual} does not match the manifest's {entry['sha256']}; "
            f"rebuild it (see {folder / MANIFEST}) or restore the file"
        )
    for source, sha256 in entry.get("inputs", {}).items():
        beside = entries.get(source, {}).get("sha256")
        if beside != sha256:
            warnings.warn(
                f"{path} was built from {source} {sha256[:12]}, but {folder} holds "
                f"{'no ' + source if beside is None else source + ' ' + beside[:12]}: "
                f"rebuild {name} on this set, or use the set it was built with",
                StaleArtifactWarning,
                stacklevel=2,
            )
    return path, entry


def _stamp(path: str | Path) -> tuple[Path, int, int]:
    """A cache key that changes when the file is rewritten."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    status = path.stat()
    return path, status.st_mtime_ns, status.st_size


def cohort_path(cohort: str | Path, assets: str | Path | None = None) -> Path:
    """The file of cohort `"train"` or `"eval"` of `assets` (hash-checked), or a user's `.npz`."""
    if isinstance(cohort, str) and cohort in COHORTS:
        return verified_artifact(COHORTS[cohort], assets)[0]
    path = Path(cohort)
    if path.suffix != ".npz":
        raise ValueError(
            f"cohort must be 'train', 'eval' or a cohort .npz file (mano generate cohort), "
            f"got {cohort!r}"
        )
    return path


@lru_cache(maxsize=8)
def _cohort(key: tuple[Path, int, int]) -> Cohort:
    return Cohort.load(key[0])


def load_cohort(cohort: str | Path | Cohort = "train", assets: str | Path | None = None) -> Cohort:
    """Cohort `"train"`, `"eval"`, a user file (read once per process; do not modify it), or a
    `Cohort` already in memory (returned as it is)."""
    if isinstance(cohort, Cohort):
        return cohort
    return _cohort(_stamp(cohort_path(cohort, assets)))


@lru_cache(maxsize=8)
def _world_model(key: tuple[Path, int, int], device: str) -> WorldModel:
    return WorldModel.load(key[0], device=device)


def load_world_model(
    path: str | Path | None = None, device: str = "cpu", assets: str | Path | None = None
) -> WorldModel:
    """The world model of `assets` (hash-checked) or the one at `path`, on `device`."""
    if path is None:
        path = verified_artifact(WORLD_MODEL, assets)[0]
    return _world_model(_stamp(path), str(device))


@lru_cache(maxsize=8)
def _predictor(key: tuple[Path, int, int], device: str) -> RiskPredictor:
    return RiskPredictor.load(key[0], device=device)


def load_risk_predictor(
    path: str | Path | None = None,
    kind: str = LATENT,
    device: str = "cpu",
    assets: str | Path | None = None,
) -> RiskPredictor:
    """The risk predictor for `kind` labels (`"latent"`, the reward's, or `"rule"`) of
    `assets` (hash-checked), or the one at `path`."""
    if kind not in PREDICTORS:
        raise ValueError(f"unknown label kind {kind!r}; known: {', '.join(PREDICTORS)}")
    if path is None:
        path = verified_artifact(PREDICTORS[kind], assets)[0]
    return _predictor(_stamp(path), str(device))


def load_profile_generator(
    path: str | Path | None = None,
    trusted: bool = False,
    device: str = "cpu",
    assets: str | Path | None = None,
) -> ProfileGenerator:
    """The profile generator of `assets` (hash-checked against its manifest), or the one at
    `path`. The file is a pickle: it is opened only if it is the shipped generator (its SHA-256
    is `SHIPPED_PROFILES_SHA256`, kept in code), or with `trusted=True` for a file the caller
    vouches for (one they trained themselves)."""
    from generators.profiles import ProfileGenerator

    if path is None:
        path, _ = verified_artifact(PROFILES, assets)
    expected = None if trusted else SHIPPED_PROFILES_SHA256
    return ProfileGenerator.load(path, sha256=expected, trusted=trusted, device=device)


def load_rhythm_generator(
    path: str | Path | None = None, device: str = "cpu", assets: str | Path | None = None
) -> TimeGAN:
    """The rhythm generator of `assets` (hash-checked), or the one at `path`."""
    from generators.timegan import TimeGAN

    if path is None:
        path, _ = verified_artifact(RHYTHMS, assets)
    return TimeGAN.load(path, device=device)
