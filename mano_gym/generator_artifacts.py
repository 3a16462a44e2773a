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
from generators.evaluation.rhythms import DISCRIMINATOR_REPEATS
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
    # how the metrics recorded in the manifest are measured (as by `mano evaluate generators`)
    evaluation_samples: int = EVALUATION_SAMPLES
    discriminator_repeats: int = DISCRIMINATOR_REPEATS


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
    data: str | Path,
    samples: int = EVALUATION_SAMPLES,
    seed: int = 0,
    device: str = "cpu",
    discriminator_repeats: int = DISCRIMINATOR_REPEATS,
) -> dict[str, float]:
    """Every metric of the shipped generators and their baselines, on their training split."""
    profiles = load_profile_generator(device=device).sample(samples, seed=seed)
    rhythms = load_rhythm_generator(device=device).sample(samples, seed=seed)
    split = shipped_split(data)
    return evaluate_generators(profiles, rhythms, split, seed, device, discriminator_repeats)


def train_generators(
    data: str | Path,
    config: GeneratorTrainingConfig | None = None,
    assets: str | Path = ASSETS,
    logdir: str | Path | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
) -> dict[str, dict]:
    """Fit both generators on the real data in `data`, save them to `assets` and record them
    in its manifest; returns the two manifest entries. With `checkpoint`, TimeGAN saves its
    training state there and, with `resume`, continues from it (see `TimeGAN.fit`); CTGAN has
    no such state and is fitted again (seeded, so to the same model)."""
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
    metrics = evaluate_profiles(
        profiles.sample(config.evaluation_samples, seed=config.profiles.seed),
        split,
        config.profiles.seed,
    )
    entries = {PROFILES: _entry(common, config.profiles, seconds, metrics)}

    if checkpoint is not None:
        Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    rhythms = TimeGAN(config.rhythms).fit(
        split.windows.train.signals,
        logdir=logs[RHYTHMS],
        progress=progress,
        checkpoint=checkpoint,
        resume=resume,
    )
    seconds = time.perf_counter() - start
    rhythms.save(assets / FILES[RHYTHMS])
    cfg = config.rhythms
    metrics = evaluate_windows(
        rhythms.sample(config.evaluation_samples, seed=cfg.seed),
        split,
        cfg.seed,
        cfg.device,
        discriminator_repeats=config.discriminator_repeats,
    )
    entries[RHYTHMS] = _entry(common, cfg, seconds, metrics)
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
