"""The shipped risk predictors against their baselines on the held-out cohort (trains nothing).

    python -m benchmarks.predictor [--data ../shared/data]

Writes `benchmarks/results/predictor.json` (every metric, `mano evaluate predictor --json`
names, plus the `predict_proba` timing) and `benchmarks/results/predictor.md` (the tables the
README quotes).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from benchmarks.publish import write_results
from mano_gym.assets import (
    LATENT,
    PREDICTORS,
    load_profile_generator,
    load_rhythm_generator,
    load_risk_predictor,
    read_manifest,
)
from mano_gym.build.predictor import evaluate_shipped_predictors
from mano_gym.cohorts.cohort import EVAL_COHORT_SEED, STATIC_FEATURES
from mano_gym.cohorts.sampling import make_cohort

TIMED_BATCH = 4096
ROWS = [  # (label, metric, goal for latent labels, goal for rule labels)
    ("accuracy", "accuracy", "", ">= 0.96"),
    ("macro-F1", "macro_f1", ">= GBM - 0.01", ""),
    ("F1 (High)", "f1_high", "", ">= 0.98"),
    ("recall (High)", "recall_high", ">= 0.90", ""),
    ("precision (High)", "precision_high", "", ""),
    ("ECE", "ece", "<= 0.05", ""),
]
MODELS = [
    ("hybrid LSTM", "lstm"),
    ("hybrid LSTM, argmax", "lstm_argmax"),
    ("gradient boosting", "gbm"),
    ("logistic regression", "logreg"),
]


def time_predict_proba(batch: int = TIMED_BATCH, repeats: int = 50) -> float:
    """Median seconds of one `predict_proba` call on the first weeks of `batch` held-out
    patients (one thread)."""
    cohort = make_cohort(batch, EVAL_COHORT_SEED, load_profile_generator(), load_rhythm_generator())
    model = load_risk_predictor(kind=LATENT)
    model.predict_proba(cohort.static, cohort.first_signals)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict_proba(cohort.static, cohort.first_signals)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _table(metrics: dict, labels: str, goal_column: int) -> list[str]:
    lines = [
        "| metric | " + " | ".join(label for label, _ in MODELS) + " | goal |",
        "|---|" + "---:|" * len(MODELS) + "---|",
    ]
    for row in ROWS:
        cells = [f"{metrics[f'{model}.{labels}.{row[1]}']:.3f}" for _, model in MODELS]
        lines.append(f"| {row[0]} | " + " | ".join(cells) + f" | {row[goal_column]} |")
    return lines


def markdown(metrics: dict, manifest: dict, machine: str) -> str:
    entries = [manifest["artifacts"][name] for name in PREDICTORS.values()]
    cohort = entries[0]["cohort"]
    confusion = metrics["lstm.latent.confusion"]
    lines = [
        f"Held-out cohort: {cohort['eval_patients']:,} patients x {cohort['weeks'] + 1} weeks"
        f" (seed {cohort['eval_seed']}); training cohort {cohort['train_patients']:,} patients"
        f" (seed {cohort['train_seed']}); {machine}.",
        "",
        "Latent labels (DASS bands of the simulator's latent scores: Mano's risk):",
        "",
        *_table(metrics, "latent", 2),
        "",
        "The hybrid LSTM calls classes by its decision rule, `argmax(log p + b)` with class"
        " biases b fitted on the validation patients for the best macro-F1 at recall (High) >="
        f" {entries[0]['hyperparameters']['high_recall']:.2f} (here b = "
        + ", ".join(f"{b:+.1f}" for b in metrics["lstm.latent.decision_bias"])
        + "); the argmax column reads the same probabilities' most probable class, as the"
        " baselines do. ECE is on the probabilities, so the two columns share it.",
        "",
        "Confusion matrix of the hybrid LSTM, latent labels (rows true, columns predicted;"
        " low, medium, high):",
        "",
        "| true \\ predicted | low | medium | high |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | " + " | ".join(f"{v:,}" for v in row) + " |"
            for name, row in zip(("low", "medium", "high"), confusion, strict=True)
        ),
        "",
        "Seed-style rule labels (rules on the observed week, to compare with the seed's 0.96"
        " accuracy and 0.98 F1 (High)):",
        "",
        *_table(metrics, "rule", 3),
        "",
        "The rule-label LSTM on real PMData weeks of the two participants the rhythm generator"
        " never saw (the synthetic-to-real gap):"
        f" accuracy {metrics['lstm.rule.real.accuracy']:.3f},"
        f" macro-F1 {metrics['lstm.rule.real.macro_f1']:.3f},"
        f" {metrics['lstm.rule.real.n']:.0f} weeks.",
        "",
        f"`predict_proba` on {TIMED_BATCH:,} patients in one batch:"
        f" {metrics['predict_proba_seconds'] * 1000:.1f} ms (median, 1 thread);"
        f" training {entries[0]['training_seconds']:.0f} s (latent) and"
        f" {entries[1]['training_seconds']:.0f} s (rules); {len(STATIC_FEATURES)} static"
        " features.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        metrics = evaluate_shipped_predictors(args.data)
        metrics["predict_proba_seconds"] = time_predict_proba()
    metrics["lstm.latent.decision_bias"] = load_risk_predictor(kind=LATENT).decision_bias.tolist()
    machine = f"{platform.machine()} CPU, {os.cpu_count()} cores"
    write_results("predictor", metrics, markdown(metrics, read_manifest(), machine))
    print(f"evaluated in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
