"""Every generator metric in one flat table of dotted names (SPEC section 13), for the
shipped generators and the baselines they must beat, on the same splits and samples sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from generators.baselines import block_bootstrap, fit_ar1, independent_columns
from generators.evaluation.privacy import window_privacy
from generators.evaluation.profiles import profile_privacy, profile_quality
from generators.evaluation.rhythms import (
    DISCRIMINATOR_REPEATS,
    discriminative_score,
    distribution_score,
    evaluate_rhythms,
)
from generators.splits import GeneratorData


def evaluate_profiles(
    synthetic: pd.DataFrame, data: GeneratorData, seed: int = 0, prefix: str = "profiles"
) -> dict[str, float]:
    """Fidelity against the training rows, privacy against the held-out rows."""
    quality = profile_quality(data.profiles_train, synthetic)
    privacy = profile_privacy(synthetic, data.profiles_train, data.profiles_holdout, seed)
    metrics = {f"{prefix}.{k}": v for k, v in quality.items()}
    metrics |= {f"privacy.{prefix}.{k}": v for k, v in privacy.items()}
    return metrics


def evaluate_windows(
    synthetic: np.ndarray,
    data: GeneratorData,
    seed: int = 0,
    device: str = "cpu",
    prefix: str = "rhythms",
    discriminator_repeats: int = DISCRIMINATOR_REPEATS,
) -> dict[str, float]:
    """Fidelity and utility against the training windows and the held-out participants;
    privacy against the time-blocked holdout (memorised weeks) and against other people."""
    windows = data.windows
    fidelity = evaluate_rhythms(
        windows.train.signals,
        synthetic,
        windows.holdout_people.signals,
        seed=seed,
        device=device,
        discriminator_repeats=discriminator_repeats,
    )
    metrics = {f"{prefix}.{k}": v for k, v in fidelity.items()}
    time_blocked = window_privacy(
        synthetic, windows.train.signals, windows.holdout_time.signals, seed=seed
    )
    people = window_privacy(
        synthetic, windows.train.signals, windows.holdout_people.signals, seed=seed
    )
    metrics |= {f"privacy.{prefix}.{k}": v for k, v in time_blocked.items()}
    metrics |= {f"privacy.{prefix}.people.{k}": v for k, v in people.items()}
    return metrics


def real_reference(
    data: GeneratorData,
    seed: int = 0,
    device: str = "cpu",
    discriminator_repeats: int = DISCRIMINATOR_REPEATS,
) -> dict[str, float]:
    """How real training windows score against the held-out participants: the bar that
    synthetic windows are held to on people they never saw."""
    train, people = data.windows.train.signals, data.windows.holdout_people.signals
    return {
        "rhythms.real_train.holdout_people.distribution_score": distribution_score(people, train),
        "rhythms.real_train.holdout_people.discriminative_score": discriminative_score(
            people, train, seed=seed, device=device, repeats=discriminator_repeats
        ),
    }


def evaluate_generators(
    profiles: pd.DataFrame,
    rhythms: np.ndarray,
    data: GeneratorData,
    seed: int = 0,
    device: str = "cpu",
    discriminator_repeats: int = DISCRIMINATOR_REPEATS,
) -> dict[str, float]:
    """All metrics of synthetic `profiles` and `rhythms`, of the baselines (sampled with the
    same sizes and seed), and the real-data reference. `discriminator_repeats`: classifiers
    averaged per discriminative score."""
    metrics = evaluate_profiles(profiles, data, seed)
    independent = independent_columns(data.profiles_train, len(profiles), seed)
    metrics |= evaluate_profiles(independent, data, seed, prefix="profiles.baseline_independent")
    metrics |= evaluate_windows(rhythms, data, seed, device, "rhythms", discriminator_repeats)
    baselines = {
        "baseline_ar1": fit_ar1(data.windows.train.signals).sample(len(rhythms), seed),
        "baseline_bootstrap": block_bootstrap(data.windows.train, len(rhythms), seed),
    }
    for name, windows in baselines.items():
        metrics |= evaluate_windows(
            windows, data, seed, device, f"rhythms.{name}", discriminator_repeats
        )
    metrics |= real_reference(data, seed, device, discriminator_repeats)
    return metrics
