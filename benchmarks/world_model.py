"""Fidelity of the shipped world model to the reference simulator (trains nothing).

    python -m benchmarks.world_model

Writes `benchmarks/results/world_model.json` (every metric, `mano evaluate world-model --json`
names) and `benchmarks/results/world_model.md` (the tables the README quotes).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from benchmarks.publish import write_results
from generators.signals import SIGNAL_NAMES, signal
from mano_gym.assets import read_manifest
from mano_gym.build.world_model import (
    DRIFT_REPLICAS,
    evaluate_shipped_world_model,
    ranking_policies,
)
from mano_gym.build.world_model_fidelity import HAZARD_WEEKS
from mano_gym.dynamics.treatments import TREATMENTS

MAE_RATIO_GOAL = 1.25
SPEARMAN_GOAL = 0.9
DRIFT_GOAL = 0.05


def hazard_rows(metrics: dict) -> list[tuple[str, str]]:
    """(label, metric suffix) of each group the drop-out hazard was compared in."""
    groups = [("all", "")] + [(f"`{name}`", f".{name}") for name in TREATMENTS]
    groups += [(f"weeks {a}-{b}", f".weeks_{a}_{b}") for a, b in HAZARD_WEEKS]
    return [(label, g) for label, g in groups if f"dropout_hazard_mean{g}" in metrics]


def markdown(metrics: dict, manifest: dict, machine: str) -> str:
    entry = manifest["artifacts"]["world_model"]
    cohort, trials = entry["cohort"], entry["trials"]
    lines = [
        f"Held-out: the {metrics['held_out_patients']:,.0f} enrolled patients of the"
        f" {cohort['eval_patients']:,}-patient eval cohort (seed {cohort['eval_seed']}),"
        f" {cohort['weeks']} treated weeks of virtual trials each; trained on"
        f" {trials['trajectories']:,} trajectories of the {trials['patients']:,} enrolled"
        f" patients of the {cohort['train_patients']:,}-patient train cohort in"
        f" {entry['training_seconds']:.0f} s; {machine}.",
        "",
        "One-week forecast given the true last week (point forecast: the predicted mean on the"
        " signal's support). Noise floor: the MAE between two independent reference draws of"
        " the same week.",
        "",
        "| signal | unit | MAE | noise floor | MAE / floor | sampled-week MAE / floor"
        f" | 90% interval coverage | drift of the cohort mean after 12 weeks"
        f" | after {cohort['weeks']} weeks |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in SIGNAL_NAMES:
        lines.append(
            f"| {name} | {signal(name).unit} | {metrics[f'mae.{name}']:.3f}"
            f" | {metrics[f'noise_floor.{name}']:.3f} | {metrics[f'mae_ratio.{name}']:.3f}"
            f" | {metrics[f'sample_mae_ratio.{name}']:.3f}"
            f" | {metrics[f'coverage_90.{name}']:.3f}"
            f" | {metrics[f'rollout_drift_12w.{name}']:+.3f}"
            f" ({metrics[f'rollout_drift_12w_sd.{name}']:+.3f} SD)"
            f" | {metrics[f'rollout_drift.{name}']:+.3f}"
            f" ({metrics[f'rollout_drift_sd.{name}']:+.3f} SD) |"
        )
    lines += [
        "",
        f"Goal: MAE / floor <= {MAE_RATIO_GOAL} for every signal; 12-week drift within"
        f" {DRIFT_GOAL} SDs. The drift is measured on {DRIFT_REPLICAS} trajectories of each"
        " held-out patient, each under its own trial policy (on one trajectory each, the"
        " reference's own sampling error is about as large as the goal); real units, SDs of"
        " the reference's between-patient spread in brackets.",
        "",
        "Drop-out: the mean weekly hazard the model predicts (given the true weeks before)"
        " against the reference's, overall, per treatment given and per block of weeks (mean"
        f" absolute error per patient-week {metrics['dropout_hazard_mae']:.4f}):",
        "",
        "| patient-weeks | world model | reference |",
        "|---|---:|---:|",
        *(
            f"| {label} | {metrics[f'dropout_hazard_mean{group}']:.4f}"
            f" | {metrics[f'dropout_hazard_mean_reference{group}']:.4f} |"
            for label, group in hazard_rows(metrics)
        ),
        "",
        "Mean return of fixed and adaptive policies over every enrolled held-out patient, one"
        " episode each, under each dynamics:",
        "",
        "| policy | world model | reference simulator |",
        "|---|---:|---:|",
        *(
            f"| {name} | {metrics[f'policy_return.world_model.{name}']:+.3f}"
            f" | {metrics[f'policy_return.reference.{name}']:+.3f} |"
            for name in ranking_policies()
        ),
        "",
        f"Spearman rank correlation of the two columns: {metrics['policy_rank_spearman']:.3f}"
        f" (goal >= {SPEARMAN_GOAL}).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(1)
    metrics = evaluate_shipped_world_model()
    machine = f"{platform.machine()} CPU, {os.cpu_count()} cores, 1 torch thread"
    write_results("world_model", metrics, markdown(metrics, read_manifest(), machine))
    print(f"evaluated in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
