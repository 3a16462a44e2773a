"""Train and evaluate the generators of an asset set (CTGAN profiles, TimeGAN rhythms).

`train_generators` is what `mano train generators` runs: it fits both generators on the real
data and writes a new asset set (staged, see `mano_gym.build.manifest`) holding them with their
manifest entries (data hashes, seed, hyperparameters, training time, metrics).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from generators.config_checks import POSITIVE_INT, check_fields
from generators.evaluation.report import evaluate_generators, evaluate_profiles, evaluate_windows
from generators.evaluation.rhythms import DISCRIMINATOR_REPEATS
from generators.profiles import ProfileGenerator, ProfileGeneratorConfig
from generators.splits import GeneratorData, SplitConfig, data_files, load_generator_data
from generators.timegan import TimeGAN, TimeGANConfig
from mano_gym.assets import (
    FILES,
    PROFILES,
    RHYTHMS,
    load_profile_generator,
    load_rhythm_generator,
    verified_artifact,
)
from mano_gym.build.manifest import (
    code_version,
    data_hashes,
    machine,
    output_folder,
    published,
    record_artifact,
    staged_assets,
)

EVALUATION_SAMPLES = 1000  # synthetic rows / windows drawn to evaluate an artifact


@dataclass
class GeneratorTrainingConfig:
    profiles: ProfileGeneratorConfig = field(default_factory=ProfileGeneratorConfig)
    rhythms: TimeGANConfig = field(default_factory=TimeGANConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    # how the metrics recorded in the manifest are measured (as by `mano evaluate generators`)
    evaluation_samples: int = EVALUATION_SAMPLES
    discriminator_repeats: int = DISCRIMINATOR_REPEATS

    def __post_init__(self) -> None:
        check_fields(
            self, {"evaluation_samples": POSITIVE_INT, "discriminator_repeats": POSITIVE_INT}
        )


def shipped_split(data: str | Path, assets: str | Path | None = None) -> GeneratorData:
    """The real data in `data`, split as it was when the generators of `assets` (default: the
    shipped ones) were trained (the split config is read from the manifest)."""
    _, entry = verified_artifact(RHYTHMS, assets)
    split = entry["split"] | {"holdout_participants": tuple(entry["split"]["holdout_participants"])}
    return load_generator_data(data, SplitConfig(**split))


def evaluate_shipped_generators(
    data: str | Path,
    samples: int = EVALUATION_SAMPLES,
    seed: int = 0,
    device: str = "cpu",
    discriminator_repeats: int = DISCRIMINATOR_REPEATS,
    assets: str | Path | None = None,
) -> dict[str, float]:
    """Every metric of the generators of `assets` (default: the shipped ones) and their
    baselines, on their training split."""
    profiles = load_profile_generator(device=device, assets=assets).sample(samples, seed=seed)
    rhythms = load_rhythm_generator(device=device, assets=assets).sample(samples, seed=seed)
    split = shipped_split(data, assets)
    return evaluate_generators(profiles, rhythms, split, seed, device, discriminator_repeats)


def train_generators(
    data: str | Path,
    config: GeneratorTrainingConfig | None = None,
    out: str | Path | None = None,
    assets: str | Path | None = None,
    ship: bool = False,
    logdir: str | Path | None = None,
    progress: bool = True,
    checkpoint: str | Path | None = None,
    resume: bool = False,
) -> dict[str, dict]:
    """Fit both generators on the real data in `data` and write the asset set `out` (default
    `runs/assets`; the shipped set with `ship`): a copy of `assets` with the two generators
    replaced, staged so that a failure leaves `out` as it was. Returns the two manifest
    entries. With `checkpoint`, TimeGAN saves its training state there and, with `resume`,
    continues from it (see `TimeGAN.fit`); CTGAN has no such state and is fitted again
    (seeded, so to the same model)."""
    config = config or GeneratorTrainingConfig()
    out, data = output_folder(out, ship), Path(data)
    if resume and (checkpoint is None or not Path(checkpoint).is_file()):
        raise FileNotFoundError(f"nothing to resume: no TimeGAN checkpoint at {checkpoint}")
    split = load_generator_data(data, config.split)
    common = {
        "code_version": code_version(),
        "data": data_hashes(data_files(data), data),
        "split": asdict(config.split),
        "machine": machine(),
        "torch": f"{torch.__version__}, {torch.get_num_threads()} CPU thread(s)",
    }
    logs = {name: Path(logdir) / name if logdir else None for name in (PROFILES, RHYTHMS)}
    with staged_assets(out, assets) as staging:
        start = time.perf_counter()
        profiles = ProfileGenerator(config.profiles).fit(
            split.profiles_train, logdir=logs[PROFILES], progress=progress
        )
        seconds = time.perf_counter() - start
        profiles.save(staging / FILES[PROFILES])
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
            participants=split.windows.train.participant,
        )
        seconds = time.perf_counter() - start
        rhythms.save(staging / FILES[RHYTHMS])
        cfg = config.rhythms
        metrics = evaluate_windows(
            rhythms.sample(config.evaluation_samples, seed=cfg.seed),
            split,
            cfg.seed,
            cfg.device,
            discriminator_repeats=config.discriminator_repeats,
        )
        entries[RHYTHMS] = _entry(common, cfg, seconds, metrics)
        if rhythms.privacy is not None:  # what a private model guarantees (TimeGAN.privacy)
            entries[RHYTHMS]["privacy"] = rhythms.privacy
        for name, entry in entries.items():
            record_artifact(name, FILES[name], entry, staging)
    return published(out, entries)


def _entry(common: dict, hyperparameters, seconds: float, metrics: dict) -> dict:
    return common | {
        "seed": hyperparameters.seed,
        "hyperparameters": asdict(hyperparameters),
        "training_seconds": round(seconds, 1),
        "metrics": metrics,
    }
