"""Leave-people-out validation of the rhythm generators: rotate the held-out people over the
training participants, so that a model is chosen by how it describes people it never saw and
not by watching one fixed pair (the final test people stay out of every fold).

For each fold and training seed, one TimeGAN is fitted on the other training people and each
generator built on it (`fit_generators`: the weeks-only TimeGAN and the person-level model) is
scored against the fold's people, beside the yardstick of the real weeks of the people it was
fitted on (the same scores, with those weeks in the generator's place):

| key                                   | what                                              |
|---------------------------------------|---------------------------------------------------|
| `distribution_score`                  | `generators.evaluation.rhythms.distribution_score`|
| `discriminative_score`                | its `discriminative_score` (mean of classifiers)  |
| `real.distribution_score`, `real.discriminative_score` | the yardstick               |

    for fold in people_folds(participants, k=5, seed=0):
        held = windows.select(list(fold))
        train = windows.subset(~np.isin(windows.participant, fold))
        rows = score_held_out(train, held, seeds=(0, 1, 2), fit=fit_generators(config))

`benchmarks/people.py` runs the folds in parallel processes, one (fold, seed) each.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from generators.data import Windows
from generators.evaluation.rhythms import discriminative_score, distribution_score
from generators.people import PersonModel, PersonRhythms
from generators.timegan import TimeGAN, TimeGANConfig

Sampler = Callable[[int, int], np.ndarray]  # (n windows, seed) -> (n, 7, 5) windows
# (training windows, seed) -> each generator's sampler, by name
Fit = Callable[[Windows, int], dict[str, Sampler]]


def people_folds(participants: Sequence[str], k: int, seed: int = 0) -> list[tuple[str, ...]]:
    """`k` disjoint groups of held-out people covering every one of `participants` once, in an
    order shuffled by `seed`."""
    names = sorted(set(participants))
    if not 2 <= k <= len(names):
        raise ValueError(f"k must lie in [2, {len(names)}] for {len(names)} people, got {k}")
    order = np.random.default_rng(seed).permutation(names)
    return [tuple(sorted(str(name) for name in group)) for group in np.array_split(order, k)]


def fit_generators(config: TimeGANConfig, weeks_per_person: int = 10) -> Fit:
    """One TimeGAN fitted on the training windows, sampled two ways: `weeks-only` (the shipped
    kind) and `person-level` (`PersonRhythms`: a sample of n windows is the weeks of
    n / `weeks_per_person` new people)."""

    def fit(windows: Windows, seed: int) -> dict[str, Sampler]:
        timegan = TimeGAN(replace(config, seed=seed)).fit(windows.signals, progress=False)
        rhythms = PersonRhythms(PersonModel.fit(windows), timegan)

        def people(n: int, sample_seed: int) -> np.ndarray:
            weeks = rhythms.sample(-(-n // weeks_per_person), weeks_per_person, sample_seed)
            return weeks.reshape(-1, *weeks.shape[2:])[:n]

        return {"weeks-only": timegan.sample, "person-level": people}

    return fit


def score_held_out(
    train: Windows,
    held: Windows,
    seeds: Sequence[int],
    fit: Fit,
    samples: int = 2000,
    discriminator_repeats: int = 10,
) -> list[dict]:
    """Fit on `train` with each of `seeds` and score `samples` weeks of each generator against
    `held`; one row per seed and generator, with the yardstick of `train`'s own weeks."""
    if not len(held) or not len(train):
        raise ValueError("no windows to hold out, or none left to train on")
    if set(held.participant) & set(train.participant):
        raise ValueError("a held-out person is among the training people")
    yardstick = {
        "real.distribution_score": distribution_score(held.signals, train.signals),
        "real.discriminative_score": discriminative_score(
            held.signals, train.signals, seed=0, repeats=discriminator_repeats
        ),
    }
    rows = []
    for seed in seeds:
        for model, sample in fit(train, seed).items():
            synthetic = sample(samples, seed)
            scores = {
                "distribution_score": distribution_score(held.signals, synthetic),
                "discriminative_score": discriminative_score(
                    held.signals, synthetic, seed=0, repeats=discriminator_repeats
                ),
            }
            rows.append({"model": model, "seed": seed} | yardstick | scores)
    return rows
