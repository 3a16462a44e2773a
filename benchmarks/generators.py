"""Quality and privacy of the shipped generators against their baselines (trains nothing).

    python -m benchmarks.generators [--data ../shared/data] [--samples 1000] [--seed 0]

Writes `benchmarks/results/generators.json` (every metric, `mano evaluate generators --json`
names), `benchmarks/results/generators.md` (the tables the README quotes, with the training
time and size of each artifact from the manifest) and two figures of real against synthetic
data, `generators_profiles.png` and `generators_rhythms.png`.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from benchmarks.publish import RESULTS, write_results
from generators.evaluation.plots import plot_profiles, plot_rhythms
from generators.evaluation.report import evaluate_generators
from generators.evaluation.rhythms import DISCRIMINATOR_REPEATS
from mano_gym.assets import PROFILES, RHYTHMS, SHIPPED, load_rhythm_generator, read_manifest
from mano_gym.build.generators import (
    load_profile_generator,
    shipped_split,
)

PROFILE_ROWS = [  # (label, metric suffix, goal)
    ("Column Shapes", "column_shapes", ">= 0.92"),
    ("Column Pair Trends", "column_pair_trends", ">= 0.80 and > baseline"),
]
PROFILE_PRIVACY_ROWS = [
    ("exact copies of training rows", "exact_copies", "0"),
    ("DCR overfitting protection", "dcr_overfitting_protection", ">= 0.9"),
    ("membership-inference AUC", "mia_auc", "<= 0.6"),
]
RHYTHM_ROWS = [
    ("distribution score", "distribution_score", ">= 0.90"),
    ("daily marginal KS", "daily_marginal_ks", "lower"),
    ("lag-1 autocorrelation error", "autocorrelation_error", "lower"),
    ("discriminative score", "discriminative_score", "<= 0.20 and < AR(1)"),
    ("predictive score (TSTR / TRTR MAE)", "predictive_score_ratio", "<= 1.15"),
    ("held-out people: distribution score", "holdout_people.distribution_score", ">= real - 0.02"),
    (
        "held-out people: discriminative score",
        "holdout_people.discriminative_score",
        "<= real + 0.02",
    ),
]
RHYTHM_PRIVACY_ROWS = [
    ("exact copies of training windows", "exact_copies", "0"),
    ("DCR overfitting protection (time holdout)*", "dcr_overfitting_protection", "report"),
    ("share closer to train (time holdout)", "dcr_share", "<= 0.55"),
    ("membership-inference AUC (time holdout)", "mia_auc", "<= 0.6"),
    ("membership-inference AUC (people)", "people.mia_auc", "report"),
]


def _cell(metrics: dict, key: str) -> str:
    if key not in metrics:
        return ""
    value = metrics[key]
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def _table(metrics: dict, rows: list, columns: list[tuple[str, str]]) -> list[str]:
    lines = [
        "| metric | " + " | ".join(label for label, _ in columns) + " | goal |",
        "|---|" + "---:|" * len(columns) + "---|",
    ]
    for label, suffix, goal in rows:
        cells = [_cell(metrics, f"{prefix}.{suffix}") for _, prefix in columns]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {goal} |")
    return lines


def markdown(metrics: dict, manifest: dict, machine: str) -> str:
    real = {
        f"real.holdout_people.{k}": metrics[f"rhythms.real_train.holdout_people.{k}"]
        for k in ("distribution_score", "discriminative_score")
    }
    profiles = [("CTGAN", "profiles"), ("independent columns", "profiles.baseline_independent")]
    profile_privacy = [(label, f"privacy.{prefix}") for label, prefix in profiles]
    rhythms = [
        ("TimeGAN", "rhythms"),
        ("AR(1)", "rhythms.baseline_ar1"),
        ("block bootstrap", "rhythms.baseline_bootstrap"),
        ("real training windows", "real"),
    ]
    rhythm_privacy = [(label, f"privacy.{prefix}") for label, prefix in rhythms]
    artifacts = manifest["artifacts"]
    lines = [
        f"Profiles: CTGAN vs sampling each column independently ({machine}).",
        "",
        *_table(metrics, PROFILE_ROWS, profiles),
        *_table(metrics, PROFILE_PRIVACY_ROWS, profile_privacy)[2:],
        "",
        "Rhythms: TimeGAN vs a Gaussian AR(1) per signal and a per-participant block bootstrap;",
        "fidelity against the training windows unless the row says held-out people; each",
        f"discriminative score is the mean of {DISCRIMINATOR_REPEATS} post-hoc classifiers.",
        "",
        *_table(metrics | real, RHYTHM_ROWS, rhythms),
        *_table(metrics, RHYTHM_PRIVACY_ROWS, rhythm_privacy)[2:],
        "",
        "\\* SDMetrics scales each column by the range of the table it measures against; the",
        "small time holdout has narrower ranges, which makes every generator look close to",
        "training. The share closer to train uses one scale for both and is the check.",
        "",
        "| artifact | file | size | training time |",
        "|---|---|---:|---:|",
    ]
    for name in (PROFILES, RHYTHMS):
        entry = artifacts[name]
        size = (SHIPPED / entry["file"]).stat().st_size / 1e6
        lines.append(
            f"| {name} | `{entry['file']}` | {size:.2f} MB | {entry['training_seconds']:.0f} s |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    data = shipped_split(args.data)
    profiles = load_profile_generator(device=args.device).sample(args.samples, seed=args.seed)
    rhythms = load_rhythm_generator(device=args.device).sample(args.samples, seed=args.seed)
    metrics = evaluate_generators(profiles, rhythms, data, seed=args.seed, device=args.device)
    machine = (
        f"{platform.machine()} CPU, {os.cpu_count()} cores" if args.device == "cpu" else args.device
    )
    write_results("generators", metrics, markdown(metrics, read_manifest(), machine))
    plot_profiles(data.profiles_train, profiles, RESULTS / "generators_profiles.png")
    plot_rhythms(data.windows.train.signals, rhythms, RESULTS / "generators_rhythms.png")
    print(f"evaluated in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
