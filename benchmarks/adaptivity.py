"""The value of adaptivity: what knowing a patient, and following them week by week, is worth
under the reference dynamics, against the literature's bounds (SPEC section 14).

    python -m benchmarks.adaptivity [--seeds 5] [--episode-seeds 4] [--timesteps 1000000]
                                    [--assets DIR]

Every enrolled patient of the held-out cohort, one episode each per evaluation seed, reference
dynamics; each run (seed) is scored by its mean over `--episode-seeds` evaluation seeds of its
own, so that the spread over runs is the learners' and not the episodes' noise:

| row                      | what                                                          |
|--------------------------|---------------------------------------------------------------|
| `control`                | no treatment (the yardstick of the depression column)          |
| `best-fixed`             | the best (treatment, intensity) of `GRID` (every treatment at  |
|                          | 0.1, 0.2, ..., 1.0) by mean return on the *train* cohort       |
| `measurement-based-care` | the heuristic of the agent catalogue                          |
| `static-oracle`          | knows each patient's responsiveness and moderators: the       |
|                          | treatment of largest intake effect, at the grid intensity of  |
|                          | its best mean return on the train cohort (an upper reference, |
|                          | never an agent)                                                |
| `moderator-oracle`       | the same from the moderators alone (what a clinician sees at  |
|                          | intake), without the unobserved responsiveness: what intake   |
|                          | information is worth to a static policy                       |
| `adaptive-oracle`        | the static oracle's treatment, dosed each week by the latent  |
|                          | depression it also sees: full intensity while moderate or      |
|                          | worse, the static oracle's while mild, the lowest while normal |
| `return-oracle`          | each patient's (treatment, intensity) of                       |
|                          | `RETURN_ORACLE_CHOICES` (every treatment at 0.1, 0.2, 0.3, 0.6 |
|                          | and 1.0, or no treatment) of the highest mean return over 20   |
|                          | episodes of that patient on other seeds: the best static       |
|                          | choice under the task's reward, where the oracles above choose |
|                          | by effect                                                      |
| `hybrid-ppo`             | trained on the world model (one run per seed, `--timesteps`), |
|                          | evaluated here                                                 |
| `hybrid-ppo-reference`   | the same, trained on the reference simulator itself: what     |
|                          | the learner finds without the world model's errors            |
| `best-fixed-full-dose`,  | the best treatment at intensity 1.0 (on the train cohort) and |
| `static-oracle-full-dose`| the static oracle at 1.0: personalised assignment at the      |
|                          | standard dose trials compare, whatever the reward's cost      |

Columns: mean return, true sustained remission (latent DASS normal or mild in the last two
weeks, still in care), drop-out, mean intensity of the active weeks, weeks treated, the share
of patients given more than one treatment (control counts as one), and end
depression as an improvement over control in SD units of the control arm (the last week seen:
a drop-out's week of leaving). The margins over best-fixed are given for every enrolled patient
and for those of moderate or worse depression at intake (DASS-42 >= 14), the population of the
depression trials the literature's bounds come from. Seeds give the spread; rliable gives
hybrid PPO's probability of improvement (on per-seed mean return) over best-fixed and
measurement-based care. Best fixed and both hybrid PPO runs are also evaluated under the world
model, for the sign of (hybrid PPO minus best fixed) under each dynamics.
Writes `benchmarks/results/adaptivity.{json,md}`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from rliable import metrics as rly_metrics

from agents.catalog import load_agent
from agents.hybrid_ppo import HybridPPOConfig, HybridPPOPolicy, train
from benchmarks.publish import write_results
from mano_gym.assets import load_cohort
from mano_gym.cohorts.behaviour import FixedPolicy
from mano_gym.dynamics.reference import ReferenceSimulator
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, TREATMENTS
from mano_gym.envs.rollouts import Outcomes, Policy, RiskScorePolicy, enrolled, run_policy

GRID_INTENSITIES = tuple(round(0.1 * k, 1) for k in range(1, 11))
GRID = tuple((t, i) for t in TREATMENTS[1:] for i in GRID_INTENSITIES)
# the return oracle's choices: fewer intensities, as it runs each of them on many seeds
RETURN_ORACLE_CHOICES = (
    (TREATMENTS[0], INTENSITY_LOW),
    *((t, i) for t in TREATMENTS[1:] for i in (0.1, 0.2, 0.3, 0.6, 1.0)),
)
RETURN_ORACLE_SEEDS = range(1000, 1020)
_DEPRESSION = 0
NORMAL_DEPRESSION, MODERATE_DEPRESSION = 10.0, 14.0  # DASS-42 depression cuts
# (row, the row its margin is over)
MARGINS = (
    ("static-oracle", "best-fixed"),
    ("moderator-oracle", "best-fixed"),
    ("adaptive-oracle", "best-fixed"),
    ("return-oracle", "best-fixed"),
    ("measurement-based-care", "best-fixed"),
    ("hybrid-ppo", "best-fixed"),
    ("hybrid-ppo-reference", "best-fixed"),
    ("static-oracle-full-dose", "best-fixed-full-dose"),
)
WORLD_MODEL_ROWS = ("best-fixed", "hybrid-ppo", "hybrid-ppo-reference")
LEARNERS = ("hybrid-ppo", "hybrid-ppo-reference")
COLUMNS = (
    "mean_return",
    "true_remission",
    "dropout",
    "mean_intensity",
    "weeks",
    "switched",
    "end_depression_sd",
)


class StaticOracle:
    """One treatment per patient (`best`), at one intensity or one per patient, every week."""

    def __init__(self, best: np.ndarray, intensity: float | np.ndarray) -> None:
        self.best = best
        self.intensity = intensity

    @classmethod
    def by_effect(cls, effect: np.ndarray, intensity: float | np.ndarray) -> StaticOracle:
        """Each patient's active treatment of largest `effect` (n, 5)."""
        return cls(effect[:, 1:].argmax(1) + 1, intensity)

    def reset(self, n: int) -> None:
        if n != len(self.best):
            raise ValueError(f"built for {len(self.best)} patients, asked for {n}")

    def act(self, obs, rng) -> tuple[np.ndarray, np.ndarray]:
        return self.best.copy(), np.broadcast_to(self.intensity, self.best.shape).copy()


def return_oracle(assets: str | None) -> StaticOracle:
    """Each enrolled held-out patient's choice of `RETURN_ORACLE_CHOICES` of the highest mean
    return over `RETURN_ORACLE_SEEDS` episodes of that patient under the reference dynamics
    (seeds apart from the evaluation's): an estimate of the best static choice for each
    patient under the task's reward."""
    returns = np.stack(
        [
            np.mean(
                [
                    run_policy(
                        RiskScorePolicy(FixedPolicy(t, i)), "eval", "reference", seed, assets=assets
                    ).returns
                    for seed in RETURN_ORACLE_SEEDS
                ],
                axis=0,
            )
            for t, i in RETURN_ORACLE_CHOICES
        ],
        axis=1,
    )
    choice = returns.argmax(1)
    treatments = np.array([TREATMENTS.index(t) for t, _ in RETURN_ORACLE_CHOICES])
    intensities = np.array([i for _, i in RETURN_ORACLE_CHOICES])
    return StaticOracle(treatments[choice], intensities[choice])


class AdaptiveOracle(StaticOracle):
    """The static oracle's treatment, dosed by the latent depression it reads each week
    (`observe`): full intensity while moderate or worse, its own while mild, the lowest while
    normal."""

    def reset(self, n: int) -> None:
        super().reset(n)
        self.depression: np.ndarray | None = None

    def observe(self, info: dict) -> None:
        self.depression = np.asarray(info["dass"])[:, _DEPRESSION]

    def act(self, obs, rng) -> tuple[np.ndarray, np.ndarray]:
        d = self.depression
        dose = np.where(d >= MODERATE_DEPRESSION, INTENSITY_HIGH, self.intensity)
        return self.best.copy(), np.where(d < NORMAL_DEPRESSION, INTENSITY_LOW, dose)


def row(outcomes: Outcomes, control: Outcomes) -> dict[str, float]:
    """The table's columns for one policy and seed."""
    active = outcomes.treatment_weeks[:, 1:].sum()
    spread = control.end_depression.std()
    return {
        "mean_return": float(outcomes.returns.mean()),
        "true_remission": float(outcomes.true_cured.mean()),
        "dropout": float(outcomes.dropout.mean()),
        "mean_intensity": float(outcomes.intensity.sum() / active) if active else 0.0,
        "weeks": float(outcomes.weeks.mean()),
        "switched": float(((outcomes.treatment_weeks > 0).sum(1) > 1).mean()),
        "end_depression_sd": float(
            (control.end_depression.mean() - outcomes.end_depression.mean()) / spread
        ),
    }


def episode_seeds(seed: int, count: int) -> range:
    """The evaluation seeds of run `seed`: `count` of them, apart from every other run's."""
    return range(seed * count, (seed + 1) * count)


def mean_row(rows: list[dict[str, float]]) -> dict[str, float]:
    """Each column's mean over the rows (one per evaluation seed of a run)."""
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def best_on_train(policies: dict, seed: int, assets: str | None):
    """The key of `policies` whose policy has the highest mean return on the train cohort."""
    returns = {
        key: run_policy(policy, "train", "reference", seed, assets=assets).returns.mean()
        for key, policy in policies.items()
    }
    return max(returns, key=returns.get)


def best_fixed(seed: int, assets: str | None, grid=GRID) -> tuple[str, float]:
    """The (treatment, intensity) of `grid` of the highest mean return on the train cohort."""
    return best_on_train(
        {(t, i): RiskScorePolicy(FixedPolicy(t, i)) for t, i in grid}, seed, assets
    )


def oracle_intensity(seed: int, assets: str | None) -> float:
    """The grid intensity of the static oracle's best mean return on the train cohort."""
    patients = load_cohort("train", assets).patients.subset(enrolled("train", assets=assets))
    effect = ReferenceSimulator().intake_effect(patients)
    oracles = {i: StaticOracle.by_effect(effect, i) for i in GRID_INTENSITIES}
    return best_on_train(oracles, seed, assets)


def train_hybrid_ppo(
    seed: int, timesteps: int, assets: str | None, folder: Path, dynamics: str = "world_model"
) -> Policy:
    config = HybridPPOConfig(total_timesteps=timesteps, seed=seed, assets=assets, dynamics=dynamics)
    network, _ = train(config, folder / f"hybrid-ppo-{dynamics}-{seed}", progress=False)
    return HybridPPOPolicy(network)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=1_000_000)
    parser.add_argument(
        "--episode-seeds",
        type=int,
        default=4,
        help="evaluation seeds per run: each run's score is its mean over them",
    )
    parser.add_argument("--assets", help="asset set to measure (default: the shipped one)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(1)
    treatment, intensity = best_fixed(0, args.assets)
    full_dose = best_fixed(0, args.assets, tuple((t, 1.0) for t in TREATMENTS[1:]))[0]
    cohort = load_cohort("eval", args.assets)
    index = enrolled("eval", assets=args.assets)
    patients = cohort.patients.subset(index)
    simulator = ReferenceSimulator()
    effect = simulator.intake_effect(patients)
    moderators = simulator.intake_effect(patients, responsiveness=False)
    moderate = cohort.patients.first_scores[:, _DEPRESSION] >= MODERATE_DEPRESSION
    oracle = oracle_intensity(0, args.assets)
    by_return = return_oracle(args.assets)
    results: dict[str, list[dict[str, float]]] = {}
    in_trials: dict[str, list[dict[str, float]]] = {}  # moderate or worse at intake only
    on_world_model: dict[str, list[float]] = {}  # per-seed mean return under the world model
    with tempfile.TemporaryDirectory() as folder:
        for seed in range(args.seeds):
            policies: dict[str, Policy] = {
                "control": load_agent("control"),
                "best-fixed": RiskScorePolicy(FixedPolicy(treatment, intensity)),
                "measurement-based-care": load_agent("measurement-based-care"),
                "static-oracle": StaticOracle.by_effect(effect, oracle),
                "moderator-oracle": StaticOracle.by_effect(moderators, oracle),
                "adaptive-oracle": AdaptiveOracle.by_effect(effect, oracle),
                "return-oracle": by_return,
                "hybrid-ppo": train_hybrid_ppo(seed, args.timesteps, args.assets, Path(folder)),
                "hybrid-ppo-reference": train_hybrid_ppo(
                    seed, args.timesteps, args.assets, Path(folder), "reference"
                ),
                "best-fixed-full-dose": RiskScorePolicy(FixedPolicy(full_dose, 1.0)),
                "static-oracle-full-dose": StaticOracle.by_effect(effect, 1.0),
            }
            # each run's row: the mean over its evaluation seeds
            rows: dict[str, list[dict[str, float]]] = {}
            rows_in_trials: dict[str, list[dict[str, float]]] = {}
            returns_on_world_model: dict[str, list[float]] = {}
            for episode_seed in episode_seeds(seed, args.episode_seeds):
                outcomes = {
                    name: run_policy(policy, "eval", "reference", episode_seed, assets=args.assets)
                    for name, policy in policies.items()
                }
                control = outcomes["control"]
                control_in_trials = control.subset(moderate[control.patients])
                for name, outcome in outcomes.items():
                    rows.setdefault(name, []).append(row(outcome, control))
                    rows_in_trials.setdefault(name, []).append(
                        row(outcome.subset(moderate[outcome.patients]), control_in_trials)
                    )
                for name in WORLD_MODEL_ROWS:
                    outcome = run_policy(
                        policies[name], "eval", "world_model", episode_seed, assets=args.assets
                    )
                    returns_on_world_model.setdefault(name, []).append(outcome.returns.mean())
            for name in policies:
                results.setdefault(name, []).append(mean_row(rows[name]))
                in_trials.setdefault(name, []).append(mean_row(rows_in_trials[name]))
            for name in WORLD_MODEL_ROWS:
                on_world_model.setdefault(name, []).append(
                    float(np.mean(returns_on_world_model[name]))
                )
    metrics = summarise(results, f"{treatment}-{intensity}") | {"oracle_intensity": oracle}
    in_trial = summarise(in_trials, metrics["best_fixed"])
    metrics |= {f"moderate_or_worse.{k}": v for k, v in in_trial.items() if ".margin." in k}
    metrics["moderate_or_worse.share"] = float(moderate[index].mean())
    metrics |= signs_under_both(metrics, on_world_model) | {"best_fixed_full_dose": full_dose}
    metrics["return-oracle.untreated_share"] = float((by_return.best == 0).mean())
    metrics["episode_seeds"] = args.episode_seeds
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    write_results(
        "adaptivity", metrics, markdown(metrics, list(results), args.seeds, args.episode_seeds)
    )


def signs_under_both(metrics: dict, on_world_model: dict[str, list[float]]) -> dict:
    """Each learner's margin of mean return over best-fixed under the world model, and whether
    its sign is the reference's."""
    out: dict = {}
    fixed = np.mean(on_world_model["best-fixed"])
    for name in LEARNERS:
        margin = float(np.mean(on_world_model[name]) - fixed)
        out[f"{name}.world_model.margin.mean_return"] = margin
        out[f"{name}.same_sign_under_both"] = bool(
            np.sign(margin) == np.sign(metrics[f"{name}.margin.mean_return"])
        )
    return out


def summarise(results: dict[str, list[dict[str, float]]], fixed: str) -> dict:
    """Per policy and column the mean and range over seeds; the oracles' and the learners'
    margins over best-fixed; hybrid PPO's probability of improvement."""
    metrics: dict = {"best_fixed": fixed}
    for name, rows in results.items():
        for column in COLUMNS:
            values = np.array([r[column] for r in rows])
            metrics[f"{name}.{column}"] = float(values.mean())
            metrics[f"{name}.{column}_low"] = float(values.min())
            metrics[f"{name}.{column}_high"] = float(values.max())
    for name, baseline in MARGINS:
        for column in ("end_depression_sd", "true_remission", "mean_return"):
            margin = metrics[f"{name}.{column}"] - metrics[f"{baseline}.{column}"]
            metrics[f"{name}.margin.{column}"] = margin
    scores = {name: np.array([[r["mean_return"]] for r in rows]) for name, rows in results.items()}
    oracle = metrics["static-oracle.margin.end_depression_sd"]
    by_return = metrics["return-oracle.margin.mean_return"]
    for name in LEARNERS:
        for other in ("best-fixed", "measurement-based-care"):
            metrics[f"{name}.poi_vs_{other}"] = float(
                rly_metrics.probability_of_improvement(scores[name], scores[other])
            )
        metrics[f"{name}.share_of_static_oracle_margin"] = (
            metrics[f"{name}.margin.end_depression_sd"] / oracle if oracle else float("nan")
        )
        metrics[f"{name}.share_of_return_oracle_margin"] = (
            metrics[f"{name}.margin.mean_return"] / by_return if by_return else float("nan")
        )
    return metrics


def markdown(m: dict, names: list[str], seeds: int, episode_seeds: int) -> str:
    lines = [
        f"Reference dynamics, every enrolled patient of the held-out cohort, {seeds} seeds, each"
        f" the mean of {episode_seeds} evaluation seeds (mean, range over seeds). Best fixed"
        f" (chosen on the train cohort): `{m['best_fixed']}`;"
        f" the oracles' intensity (chosen likewise): {m['oracle_intensity']}.",
        "",
        "| policy | return | true remission | drop-out | mean intensity | weeks | switched |"
        " end depression (SD vs control) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        cells = [
            f"{m[f'{name}.{c}']:.3f} [{m[f'{name}.{c}_low']:.3f}, {m[f'{name}.{c}_high']:.3f}]"
            if c in ("mean_return", "end_depression_sd")
            else f"{m[f'{name}.{c}']:.3f}"
            for c in COLUMNS
        ]
        lines.append(f"| `{name}` | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Margins over the baseline row, for every enrolled patient and for the"
        f" {100 * m['moderate_or_worse.share']:.0f}% of moderate or worse depression at intake:",
        "",
        "| margin | over | end depression (SD) | true remission (points) | return |"
        " moderate or worse: end depression (SD) | true remission (points) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, baseline in MARGINS:
        margin = f"{name}.margin"
        lines.append(
            f"| `{name}` | `{baseline}` | {m[f'{margin}.end_depression_sd']:+.3f} | "
            f"{100 * m[f'{margin}.true_remission']:+.1f} | "
            f"{m[f'{margin}.mean_return']:+.3f} | "
            f"{m[f'moderate_or_worse.{margin}.end_depression_sd']:+.3f} | "
            f"{100 * m[f'moderate_or_worse.{margin}.true_remission']:+.1f} |"
        )
    lines += [
        "",
        f"Best fixed at full dose (chosen on the train cohort): `{m['best_fixed_full_dose']}-1.0`."
        f" The return oracle leaves {100 * m['return-oracle.untreated_share']:.0f}% of the"
        " patients untreated.",
        "",
        "| learner | PoI over best fixed | PoI over measurement-based care | share of the static"
        " oracle's margin (end depression) | share of the return oracle's margin (return) |"
        " return margin under the world model | same sign under both dynamics |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in LEARNERS:
        lines.append(
            f"| `{name}` | {m[f'{name}.poi_vs_best-fixed']:.2f} |"
            f" {m[f'{name}.poi_vs_measurement-based-care']:.2f} |"
            f" {m[f'{name}.share_of_static_oracle_margin']:.2f} |"
            f" {m[f'{name}.share_of_return_oracle_margin']:.2f} |"
            f" {m[f'{name}.world_model.margin.mean_return']:+.3f} |"
            f" {'yes' if m[f'{name}.same_sign_under_both'] else 'no'} |"
        )
    lines += [
        "",
        "PoI: rliable's probability of improvement on per-run mean return (reference dynamics).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
