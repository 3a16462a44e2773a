"""Train, store and load the default generators (CTGAN profiles, TimeGAN rhythms).

`train_generators` is what `mano train generators` runs: it fits both generators on the real
data, writes them to an assets folder with their manifest entries (data hashes, seed,
hyperparameters, training time, metrics), and returns those entries.
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from generators.evaluation.report import evaluate_generators, evaluate_profiles, evaluate_windows
from generators.profiles import ProfileGenerator, ProfileGeneratorConfig
from generators.splits import GeneratorData, SplitConfig, data_files, load_generator_data
from generators.timegan import TimeGAN, TimeGANConfig
from mano_gym.artifacts import (
    ASSETS,
    code_version,
    data_hashes,
    record_artifact,
    verified_artifact,
)

PROFILES = "profiles"
RHYTHMS = "rhythms"
FILES = {PROFILES: "profiles_ctgan.pt", RHYTHMS: "rhythms_timegan.pt"}
EVALUATION_SAMPLES = 1000  # synthetic rows / windows drawn to evaluate an artifact


@dataclass
class GeneratorTrainingConfig:
    profiles: ProfileGeneratorConfig = field(default_factory=ProfileGeneratorConfig)
    rhythms: TimeGANConfig = field(default_factory=TimeGANConfig)
    split: SplitConfig = field(default_factory=SplitConfig)


def load_profile_generator(
    path: str | Path | None = None, trusted: bool = False, device: str = "cpu"
) -> ProfileGenerator:
    """The shipped profile generator (hash-checked against the manifest), or the one at `path`
    (a pickle: opened only with `trusted=True`)."""
    if path is None:
        path, entry = verified_artifact(PROFILES)
        return ProfileGenerator.load(path, sha256=entry["sha256"], device=device)
    return ProfileGenerator.load(path, trusted=trusted, device=device)


def load_rhythm_generator(path: str | Path | None = None, device: str = "cpu") -> TimeGAN:
    """The shipped rhythm generator (hash-checked against the manifest), or the one at `path`."""
    if path is None:
        path, _ = verified_artifact(RHYTHMS)
    return TimeGAN.load(path, device=device)


def shipped_split(data: str | Path) -> GeneratorData:
    """The real data in `data`, split as it was when the shipped generators were trained
    (the split config is read from the manifest)."""
    _, entry = verified_artifact(RHYTHMS)
    split = SplitConfig(**entry["split"])
    split.holdout_participants = tuple(split.holdout_participants)
    return load_generator_data(data, split)


def evaluate_shipped_generators(
    data: str | Path, samples: int = EVALUATION_SAMPLES, seed: int = 0, device: str = "cpu"
) -> dict[str, float]:
    """Every metric of the shipped generators and their baselines, on their training split."""
    profiles = load_profile_generator(device=device).sample(samples, seed=seed)
    rhythms = load_rhythm_generator(device=device).sample(samples, seed=seed)
    return evaluate_generators(profiles, rhythms, shipped_split(data), seed=seed, device=device)


def train_generators(
    data: str | Path,
    config: GeneratorTrainingConfig | None = None,
    assets: str | Path = ASSETS,
    logdir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, dict]:
    """Fit both generators on the real data in `data`, save them to `assets` and record them
    in its manifest; returns the two manifest entries."""
    config = config or GeneratorTrainingConfig()
    data, assets = Path(data), Path(assets)
    assets.mkdir(parents=True, exist_ok=True)
    split = load_generator_data(data, config.split)
    common = {
        "code_version": code_version(),
        "data": data_hashes(data_files(data), data),
        "split": asdict(config.split),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "torch": f"{torch.__version__}, {torch.get_num_threads()} CPU thread(s)",
    }
    logs = {name: Path(logdir) / name if logdir else None for name in FILES}

    start = time.perf_counter()
    profiles = ProfileGenerator(config.profiles).fit(
        split.profiles_train, logdir=logs[PROFILES], progress=progress
    )
    seconds = time.perf_counter() - start
    profiles.save(assets / FILES[PROFILES])
    entries = {
        PROFILES: _entry(common, config.profiles, seconds, _profile_metrics(profiles, split))
    }

    start = time.perf_counter()
    rhythms = TimeGAN(config.rhythms).fit(
        split.windows.train.signals, logdir=logs[RHYTHMS], progress=progress
    )
    seconds = time.perf_counter() - start
    rhythms.save(assets / FILES[RHYTHMS])
    entries[RHYTHMS] = _entry(common, config.rhythms, seconds, _rhythm_metrics(rhythms, split))
    return {
        name: record_artifact(name, assets / FILES[name], entry, assets)
        for name, entry in entries.items()
    }


def _entry(common: dict, hyperparameters, seconds: float, metrics: dict) -> dict:
    return common | {
        "seed": hyperparameters.seed,
        "hyperparameters": asdict(hyperparameters),
        "training_seconds": round(seconds, 1),
        "metrics": metrics,
    }


def _profile_metrics(generator: ProfileGenerator, split: GeneratorData) -> dict[str, float]:
    synthetic = generator.sample(EVALUATION_SAMPLES, seed=generator.config.seed)
    return evaluate_profiles(synthetic, split, generator.config.seed)


def _rhythm_metrics(generator: TimeGAN, split: GeneratorData) -> dict[str, float]:
    cfg = generator.config
    synthetic = generator.sample(EVALUATION_SAMPLES, seed=cfg.seed)
    return evaluate_windows(synthetic, split, cfg.seed, cfg.device)
