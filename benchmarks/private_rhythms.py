"""Differentially private rhythm generators: TimeGAN trained with participant-level DP-SGD at
epsilon 1, 3 and 10, beside the shipped (non-private) TimeGAN and the Gaussian AR(1) baseline.

    python -m benchmarks.private_rhythms [--data ../shared/data] [--epsilons 1 3 10]

Every private model trains with one recipe (`RECIPE`: a short schedule, since each update
spends privacy) on the shipped generators' training split, and is scored by the same
evaluation as `benchmarks/generators.py` (fidelity against the training windows and the
held-out people, privacy against the time holdout). Two controls separate the costs: the same recipe
trained without privacy (what the short schedule costs), and trained through the private
mechanism at an epsilon so large that its noise is negligible (what clipping each person's
gradient and scaling by published ranges cost). Writes
`benchmarks/results/private_rhythms.{json,md}`.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import replace
from pathlib import Path

import torch

from benchmarks.publish import write_results
from generators.baselines import fit_ar1
from generators.evaluation.report import evaluate_windows
from generators.timegan import TimeGAN, TimeGANConfig
from mano_gym.assets import load_rhythm_generator
from mano_gym.build.generators import EVALUATION_SAMPLES, shipped_split

EPSILONS = (1.0, 3.0, 10.0)
CONTROL_EPSILON = 1e5  # noise multiplier about 0.1: clipping and public scaling alone
# Judgement: every update of a private run spends privacy, so it trains for a fraction of the
# shipped schedule (5,000 / 3,000 / 8,000 iterations); 2,600 private updates in all.
RECIPE = TimeGANConfig(
    embedding_iterations=400,
    supervised_iterations=200,
    joint_iterations=400,
    average_last=200,
    average_every=40,
)
ROWS = [  # (label, metric suffix, goal)
    ("distribution score", "distribution_score", ">= 0.90 (non-private floor)"),
    ("discriminative score", "discriminative_score", "< AR(1) at epsilon 10"),
    ("held-out people: distribution score", "holdout_people.distribution_score", ""),
    ("held-out people: discriminative score", "holdout_people.discriminative_score", ""),
    ("predictive score (TSTR / TRTR MAE)", "predictive_score_ratio", ""),
]
PRIVACY_ROWS = [
    ("exact copies of training windows", "exact_copies", "0"),
    ("share closer to train (time holdout)", "dcr_share", "<= 0.55"),
    ("membership-inference AUC (time holdout)", "mia_auc", "<= 0.6"),
]


def _label(epsilon: float) -> str:
    return "no-noise control" if epsilon == CONTROL_EPSILON else f"epsilon {epsilon:g}"


def _key(epsilon: float) -> str:
    return "dp_control" if epsilon == CONTROL_EPSILON else f"dp_eps{epsilon:g}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--epsilons", type=float, nargs="+", default=list(EPSILONS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small recurrent networks: threads only contend
    split = shipped_split(args.data)
    train = split.windows.train
    samples, seed = EVALUATION_SAMPLES, args.seed
    metrics: dict[str, float | str] = {
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
        "training_people": len(set(train.participant)),
        "training_windows": len(train.signals),
    }
    columns = {
        "rhythms.shipped": load_rhythm_generator().sample(samples, seed=seed),
        "rhythms.ar1": fit_ar1(train.signals).sample(samples, seed),
    }
    plain = TimeGAN(replace(RECIPE, seed=seed)).fit(train.signals, progress=False)
    columns["rhythms.recipe_plain"] = plain.sample(samples, seed=seed)
    for epsilon in [*args.epsilons, CONTROL_EPSILON]:
        config = replace(RECIPE, dp_epsilon=epsilon, seed=seed)
        start = time.perf_counter()
        model = TimeGAN(config).fit(train.signals, progress=False, participants=train.participant)
        key = f"rhythms.{_key(epsilon)}"
        metrics[f"{key}.training_seconds"] = time.perf_counter() - start
        metrics |= {f"{key}.privacy.{k}": v for k, v in model.privacy.items()}
        columns[key] = model.sample(samples, seed=seed)
    for key, windows in columns.items():
        metrics |= evaluate_windows(windows, split, seed, prefix=key)
    write_results("private_rhythms", metrics, markdown(metrics, args.epsilons))


def markdown(m: dict, epsilons: list[float]) -> str:
    private = [*epsilons, CONTROL_EPSILON]
    columns = [("TimeGAN (shipped, not private)", "shipped"), ("AR(1) (not private)", "ar1")]
    columns += [("TimeGAN, same recipe, not private", "recipe_plain")]
    columns += [(f"DP TimeGAN, {_label(e)}", _key(e)) for e in private]

    def cell(key: str) -> str:
        value = m.get(key)
        if value is None:
            return ""
        return str(value) if isinstance(value, int) else f"{value:.3f}"

    def table(rows: list, prefix: str) -> list[str]:
        return [
            f"| {label} | "
            + " | ".join(cell(f"{prefix}rhythms.{key}.{suffix}") for _, key in columns)
            + f" | {goal} |"
            for label, suffix, goal in rows
        ]

    first = _key(private[0])
    lines = [
        f"{m['machine']}; trained on {m['training_windows']} windows of"
        f" {m['training_people']} people; every private model:"
        f" {RECIPE.embedding_iterations} / {RECIPE.supervised_iterations} /"
        f" {RECIPE.joint_iterations} iterations,"
        f" {m[f'rhythms.{first}.privacy.updates']} private updates, each person taking part"
        f" with probability {m[f'rhythms.{first}.privacy.sample_rate']}, gradients clipped"
        f" to {m[f'rhythms.{first}.privacy.max_grad_norm']} per person, delta"
        f" {m[f'rhythms.{first}.privacy.delta']:g} (Opacus RDP accountant).",
        "",
        "| metric | " + " | ".join(label for label, _ in columns) + " | goal |",
        "|---|" + "---:|" * len(columns) + "---|",
        *table(ROWS, ""),
        *table(PRIVACY_ROWS, "privacy."),
        "| epsilon spent | | | | "
        + " | ".join(cell(f"rhythms.{_key(e)}.privacy.epsilon") for e in private)
        + " | |",
        "| noise multiplier | | | | "
        + " | ".join(cell(f"rhythms.{_key(e)}.privacy.noise_multiplier") for e in private)
        + " | |",
        "| training time, s | | | | "
        + " | ".join(f"{m[f'rhythms.{_key(e)}.training_seconds']:.0f}" for e in private)
        + " | |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
