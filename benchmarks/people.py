"""Rhythms of new people: the person-level generator (`generators.people`) against the weeks-only
TimeGAN, by leave-people-out validation over the training participants, the final test on the
held-out pair, and the between-person and week-to-week structure of the weeks each gives.

    python -m benchmarks.people [--folds 3] [--seeds 0 1 2] [--workers 2]

| part              | what                                                                 |
|-------------------|----------------------------------------------------------------------|
| folds             | `generators.people_folds`: k groups of the training people held out  |
|                   | in turn; a TimeGAN fitted on the rest with every seed, each model    |
|                   | built on it (`generators.people_folds.fit_generators`) scored        |
|                   | against the group, beside the real weeks of the people it was fitted |
|                   | on (the yardstick); the floors are the yardstick's distribution      |
|                   | score - 0.02 and discriminative score + 0.02                         |
| final test        | the same on the shipped split: fitted on the training people, scored |
|                   | against the held-out pair (p05, p10), which no fold ever sees        |
| structure         | per signal, the share of the variance of weekly means between people |
|                   | (ICC) and the within-person correlation of consecutive weekly means, |
|                   | for PMData's weeks, the person-level generator's and the weeks the   |
|                   | reference simulator emits for untreated patients today (one baseline |
|                   | week repeated, with daily noise)                                     |

Both models sample one TimeGAN of the shipped recipe (`TimeGANConfig()`) per fold and seed.
Writes `benchmarks/results/people.{json,md}`.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch

from benchmarks.publish import write_results
from generators.data import Windows, load_pmdata, make_windows
from generators.data.describe import PMDATA_FOLDER
from generators.people import (
    PersonModel,
    PersonRhythms,
    consecutive_weeks,
    intraclass_correlation,
    week_to_week_correlation,
    weekly_windows,
)
from generators.people_folds import fit_generators, people_folds, score_held_out
from generators.signals import SIGNALS
from generators.splits import SplitConfig, load_generator_data
from generators.timegan import TimeGANConfig
from mano_gym.assets import load_cohort, load_rhythm_generator
from mano_gym.dynamics.reference import ReferenceSimulator
from mano_gym.dynamics.treatments import INTENSITY_LOW

DATA = "../shared/data"
RECIPE = TimeGANConfig()  # the shipped TimeGAN's
MODEL_NAMES = ("weeks-only", "person-level")
STRUCTURE_PEOPLE, STRUCTURE_WEEKS = 300, 10


def _job(train: Windows, held: Windows, seed: int) -> list[dict]:
    """A TimeGAN fitted with one seed on `train`, each model scored against `held` (one
    process's work)."""
    torch.set_num_threads(1)
    rows = score_held_out(train, held, [seed], fit_generators(RECIPE))
    return [row | {"fold": sorted(set(held.participant))} for row in rows]


def structure(split, seed: int) -> dict[str, list[float]]:
    """ICC and week-to-week correlation per signal: PMData (every participant's weeks), the
    person-level generator on the shipped TimeGAN (fitted on the training people with the
    recipe, seed 0), and the reference simulator's
    untreated patients of the shipped train cohort."""
    daily, _ = load_pmdata(f"{DATA}/{PMDATA_FOLDER}")
    real = weekly_windows(make_windows(daily))
    levels = real.signals.mean(1)
    out = {
        "real.icc": intraclass_correlation(levels, real.participant),
        "real.week_to_week": week_to_week_correlation(
            levels, real.participant, consecutive_weeks(real)
        ),
    }
    rhythms = PersonRhythms(PersonModel.fit(split.windows.train), load_rhythm_generator())
    samples = {
        "person-level": rhythms.sample(STRUCTURE_PEOPLE, STRUCTURE_WEEKS, seed),
        "simulator": untreated_weeks(STRUCTURE_PEOPLE, STRUCTURE_WEEKS, seed),
    }
    who = np.repeat(np.arange(STRUCTURE_PEOPLE), STRUCTURE_WEEKS)
    for name, weeks in samples.items():
        levels = weeks.mean(2).reshape(-1, len(SIGNALS))
        out[f"{name}.icc"] = intraclass_correlation(levels, who)
        out[f"{name}.week_to_week"] = week_to_week_correlation(levels, who, who[1:] == who[:-1])
    return {key: [float(v) for v in value] for key, value in out.items()}


def untreated_weeks(n: int, weeks: int, seed: int) -> np.ndarray:
    """(n, weeks, 7, 5) signals of `n` patients of the shipped train cohort left untreated."""
    simulator = ReferenceSimulator()
    patients = load_cohort("train").patients.subset(np.arange(n))
    rng = np.random.default_rng(seed)
    state, out = simulator.first_state(patients), []
    control = np.zeros(n, np.int64), np.full(n, INTENSITY_LOW)
    for _ in range(weeks):
        state, week = simulator.step(patients, state, *control, rng)
        out.append(week.signals)
    return np.stack(out, axis=1)


def summarise(rows: list[dict]) -> dict:
    """Per model: the mean over folds and seeds of each score, the worst seed's distance past
    its floor (negative: inside), and the floors held."""
    metrics: dict = {}
    for model in sorted({row["model"] for row in rows}):
        own = [row for row in rows if row["model"] == model]
        distribution = np.array([r["distribution_score"] for r in own])
        floor_distribution = np.array([r["real.distribution_score"] - 0.02 for r in own])
        discriminative = np.array([r["discriminative_score"] for r in own])
        floor_discriminative = np.array([r["real.discriminative_score"] + 0.02 for r in own])
        metrics |= {
            f"{model}.distribution_score": float(distribution.mean()),
            f"{model}.distribution_floor": float(floor_distribution.mean()),
            f"{model}.discriminative_score": float(discriminative.mean()),
            f"{model}.discriminative_ceiling": float(floor_discriminative.mean()),
            f"{model}.worst_distribution_shortfall": float(
                (floor_distribution - distribution).max()
            ),
            f"{model}.worst_discriminative_excess": float(
                (discriminative - floor_discriminative).max()
            ),
        }
    return metrics


def markdown(metrics: dict, rows: list[dict], final: list[dict], folds: int, seeds) -> str:
    lines = [
        f"Leave-people-out validation over the training participants: {folds} folds x"
        f" {len(seeds)} training seeds (x86_64 CPU, 2 cores); each generator's 2,000 weeks"
        " against the fold's people, beside the real weeks of the people it was fitted on.",
        "",
        "| fold (held out) | model | distribution score [range over seeds] | real weeks |"
        " discriminative score [range] | real weeks |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for fold in sorted({tuple(row["fold"]) for row in rows}):
        for model in sorted({row["model"] for row in rows}):
            own = [r for r in rows if tuple(r["fold"]) == fold and r["model"] == model]
            if not own:
                continue
            cells = []
            for key in ("distribution_score", "discriminative_score"):
                values = np.array([r[key] for r in own])
                cells += [
                    f"{values.mean():.3f} [{values.min():.3f}, {values.max():.3f}]",
                    f"{own[0][f'real.{key}']:.3f}",
                ]
            lines.append(f"| {', '.join(fold)} | {model} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Over every fold and seed (floors: distribution >= real - 0.02, discriminative <= real"
        " + 0.02, every seed within 0.05 of them):",
        "",
        "| model | distribution score | floor | worst seed below it | discriminative score |"
        " ceiling | worst seed above it |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in sorted({row["model"] for row in rows}):
        m = {key.split(".", 1)[1]: v for key, v in metrics.items() if key.startswith(model)}
        lines.append(
            f"| {model} | {m['distribution_score']:.3f} | {m['distribution_floor']:.3f} |"
            f" {m['worst_distribution_shortfall']:+.3f} | {m['discriminative_score']:.3f} |"
            f" {m['discriminative_ceiling']:.3f} | {m['worst_discriminative_excess']:+.3f} |"
        )
    lines += [
        "",
        "Final test, the shipped split (fitted on the training people, scored against p05 and"
        " p10):",
        "",
        "| model | seed | distribution score | real weeks | discriminative score | real weeks |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in final:
        lines.append(
            f"| {r['model']} | {r['seed']} | {r['distribution_score']:.3f} |"
            f" {r['real.distribution_score']:.3f} | {r['discriminative_score']:.3f} |"
            f" {r['real.discriminative_score']:.3f} |"
        )
    header = " | ".join(s.short for s in SIGNALS)
    lines += [
        "",
        f"Structure of weekly means ({STRUCTURE_PEOPLE} synthetic people x {STRUCTURE_WEEKS}"
        " weeks; PMData: every participant's non-overlapping weeks). ICC: the share of their"
        " variance between people; week to week: a person's weekly mean against their next.",
        "",
        f"| statistic | weeks of | {header} |",
        "|---|---|" + "---:|" * len(SIGNALS),
    ]
    for statistic, label in (("icc", "ICC"), ("week_to_week", "week to week")):
        for source in ("real", "person-level", "simulator"):
            values = metrics[f"structure.{source}.{statistic}"]
            name = {"real": "PMData", "simulator": "reference simulator today"}.get(source, source)
            lines.append(f"| {label} | {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 3: seven training people have whole weeks, and a fold of one person can hold too few
    # runs of days for the discriminator's grouped cross-validation
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    split = load_generator_data(DATA, SplitConfig())
    train = split.windows.train
    # the final test people (p05, p10) are not training people: they never enter a fold
    folds = people_folds(np.unique(train.participant), args.folds, seed=0)
    tasks = [
        (train.subset(~np.isin(train.participant, fold)), train.select(list(fold)), seed)
        for fold in folds
        for seed in args.seeds
    ]
    tasks += [(train, split.windows.holdout_people, seed) for seed in args.seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(_job, *zip(*tasks, strict=True)))
    finals = len(args.seeds) * len(MODEL_NAMES)
    rows = [row for result in results for row in result]
    rows, final = rows[:-finals], rows[-finals:]
    torch.set_num_threads(1)
    metrics = summarise(rows)
    metrics |= {
        f"final.{r['model']}.{r['seed']}.{key}": value
        for r in final
        for key, value in r.items()
        if key.endswith("score")
    }
    metrics |= {f"structure.{k}": v for k, v in structure(split, args.seeds[0]).items()}
    metrics |= {"folds": [list(f) for f in folds], "seeds": args.seeds, "rows": rows}
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    write_results("people", metrics, markdown(metrics, rows, final, args.folds, args.seeds))


if __name__ == "__main__":
    main()
