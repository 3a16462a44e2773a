"""Build the environment's shipped artifacts: the train and held-out cohorts and the world
model distilled from virtual trials on the train cohort; evaluate the shipped world model.

`mano train world-model` runs `train_world_model_artifacts`: it samples both cohorts from the
shipped generators, runs the trials, trains, writes `cohort_train.npz`, `cohort_eval.npz` and
`world_model.pt` with their manifest entries, and stores the fidelity report in the world
model's entry. `mano evaluate world-model` recomputes that report (`evaluate_world_model`).
"""

from __future__ import annotations

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from mano_gym.artifacts import ASSETS, code_version, record_artifact, verified_artifact
from mano_gym.behaviour import BehaviourPolicy, FixedPolicy, SteppedCare, Untreated
from mano_gym.cohort import Cohort, enrolled_patients, make_cohort
from mano_gym.env_assets import FILES, WORLD_MODEL, load_cohort, load_world_model
from mano_gym.generator_artifacts import FILES as GENERATOR_FILES
from mano_gym.generator_artifacts import load_profile_generator, load_rhythm_generator
from mano_gym.predictor_artifacts import ARTIFACTS as PREDICTORS
from mano_gym.predictor_artifacts import LATENT, CohortConfig
from mano_gym.rollouts import RiskScorePolicy, run_policy
from mano_gym.treatments import TREATMENTS
from mano_gym.trials import make_trials
from mano_gym.world_model import WorldModel
from mano_gym.world_model_evaluation import one_week_fidelity, rollout_drift
from mano_gym.world_model_training import WorldModelConfig, train_world_model

RANKING_INTENSITIES = (0.3, 1.0)


@dataclass
class WorldModelTrainingConfig:
    cohort: CohortConfig = field(default_factory=CohortConfig)
    replicas: int = 8  # trajectories per enrolled train patient, each under its own policy
    world_model: WorldModelConfig = field(default_factory=WorldModelConfig)


def ranking_policies() -> dict[str, BehaviourPolicy]:
    """The fixed policies whose returns are ranked under both dynamics: no treatment, every
    active treatment at a low and a full intensity, and stepped care (10 in all)."""
    policies: dict[str, BehaviourPolicy] = {"control": Untreated()}
    for treatment in TREATMENTS[1:]:
        for intensity in RANKING_INTENSITIES:
            policies[f"{treatment}-{intensity}"] = FixedPolicy(treatment, intensity)
    policies["stepped-care"] = SteppedCare()
    return policies


def policy_ranking(
    world_model: str | Path | None = None, cohort: str | Path = "eval", seed: int = 0
) -> dict[str, float]:
    """Mean return of each ranking policy under the world model and the reference simulator
    (every enrolled patient of `cohort` once), and the Spearman correlation of the two."""
    metrics: dict[str, float] = {}
    means = {"world_model": [], "reference": []}
    for name, policy in ranking_policies().items():
        for dynamics, values in means.items():
            outcome = run_policy(RiskScorePolicy(policy), cohort, dynamics, seed, world_model)
            values.append(float(outcome.returns.mean()))
            metrics[f"policy_return.{dynamics}.{name}"] = values[-1]
    metrics["policy_rank_spearman"] = float(
        stats.spearmanr(means["world_model"], means["reference"]).statistic
    )
    return metrics


def evaluate_world_model(
    model: WorldModel,
    eval_cohort: Cohort,
    weeks: int,
    seed: int,
    world_model_path: str | Path | None = None,
    eval_cohort_path: str | Path = "eval",
) -> dict[str, float]:
    """The fidelity report (`mano_gym.world_model_evaluation`) on trials of the enrolled
    patients of `eval_cohort`, and
    the policy ranking in the environment (the world model at `world_model_path`, default the
    shipped one, on the cohort at `eval_cohort_path`)."""
    enrolled = enrolled_patients(eval_cohort)
    trials = make_trials(eval_cohort, weeks, seed, redraw=True, patients=enrolled)
    return (
        {"held_out_patients": float(len(enrolled))}
        | one_week_fidelity(model, trials, seed)
        | rollout_drift(model, trials, seed)
        | policy_ranking(world_model_path, eval_cohort_path, seed)
    )


def evaluate_shipped_world_model() -> dict[str, float]:
    """The report of the shipped world model, with the weeks and seed it was evaluated with."""
    entry = verified_artifact(WORLD_MODEL)[1]
    config = CohortConfig(**entry["cohort"])
    return evaluate_world_model(
        load_world_model(), load_cohort("eval"), config.weeks, config.eval_seed
    )


def train_world_model_artifacts(
    config: WorldModelTrainingConfig | None = None,
    assets: str | Path = ASSETS,
    logdir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, dict]:
    """Sample the cohorts, run the trials, train the world model, write all three artifacts to
    `assets` with manifest entries, and return those entries."""
    config = config or WorldModelTrainingConfig()
    assets = Path(assets)
    assets.mkdir(parents=True, exist_ok=True)
    c = config.cohort
    generators = load_profile_generator(), load_rhythm_generator()
    cohorts = {
        "cohort_train": make_cohort(c.train_patients, c.train_seed, *generators),
        "cohort_eval": make_cohort(c.eval_patients, c.eval_seed, *generators),
    }
    common = {
        "code_version": code_version(),
        "inputs": {name: verified_artifact(name)[1]["sha256"] for name in GENERATOR_FILES},
        "cohort": asdict(c),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
    }
    entries = {}
    for name, cohort in cohorts.items():
        cohort.save(assets / FILES[name])
        entry = common | {"seed": cohort.seed, "patients": len(cohort)}
        entries[name] = record_artifact(name, assets / FILES[name], entry, assets)

    start = time.perf_counter()
    train = cohorts["cohort_train"]
    trials = make_trials(
        train, c.weeks, c.train_seed, config.replicas, patients=enrolled_patients(train)
    )
    model = train_world_model(trials, config.world_model, logdir, progress)
    seconds = time.perf_counter() - start
    path = assets / FILES[WORLD_MODEL]
    model.save(path)
    entry = common | {
        "inputs": common["inputs"] | {"cohort_train": entries["cohort_train"]["sha256"]},
        "seed": config.world_model.seed,
        "hyperparameters": asdict(config.world_model),
        "trials": {
            "patients": len(np.unique(trials.patient)),
            "trajectories": len(trials),
            "weeks": trials.weeks,
        },
        "training_seconds": round(seconds, 1),
        "torch": f"{torch.__version__}, {torch.get_num_threads()} CPU thread(s)",
        "history": {k: v for k, v in model.history.items() if not isinstance(v, (list, dict))},
        "predictor": verified_artifact(PREDICTORS[LATENT])[1]["sha256"],
    }
    entries[WORLD_MODEL] = record_artifact(WORLD_MODEL, path, entry, assets)
    metrics = evaluate_world_model(
        model, cohorts["cohort_eval"], c.weeks, c.eval_seed, path, assets / FILES["cohort_eval"]
    )
    entries[WORLD_MODEL] = record_artifact(
        WORLD_MODEL, path, entry | {"metrics": _finite(metrics)}, assets
    )
    return entries


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in metrics.items() if np.isfinite(v)}
