"""Build the environment's artifacts: the train and held-out cohorts and the world model
distilled from virtual trials on the train cohort; evaluate a world model.

`mano train world-model` runs `train_world_model_artifacts`: it samples both cohorts from the
generators of `--assets`, runs the trials, trains, and writes a new asset set holding
`cohort_train.npz`, `cohort_eval.npz` and `world_model.pt` with their manifest entries (the
fidelity report in the world model's). `mano evaluate world-model` recomputes that report
(`evaluate_shipped_world_model`).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from generators.config_checks import POSITIVE_INT, check_fields
from mano_gym.assets import (
    COHORTS,
    FILES,
    LATENT,
    PREDICTORS,
    PROFILES,
    RHYTHMS,
    WORLD_MODEL,
    load_cohort,
    load_profile_generator,
    load_rhythm_generator,
    load_world_model,
    verified_artifact,
)
from mano_gym.build.manifest import (
    code_version,
    input_hashes,
    machine,
    output_folder,
    published,
    record_artifact,
    staged_assets,
)
from mano_gym.build.predictor import CohortConfig
from mano_gym.build.world_model_fidelity import one_week_fidelity, rollout_drift
from mano_gym.build.world_model_training import WorldModelConfig, train_world_model
from mano_gym.cohorts.behaviour import (
    BehaviourPolicy,
    FixedPolicy,
    MeasurementBasedCare,
    SteppedCare,
    Untreated,
)
from mano_gym.cohorts.cohort import Cohort, enrolled_patients
from mano_gym.cohorts.sampling import make_cohort
from mano_gym.cohorts.trials import make_trials
from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.dynamics.world_model import WorldModel
from mano_gym.envs.episodes import DEFAULT_MAX_WEEKS
from mano_gym.envs.rollouts import RiskScorePolicy, run_policy

RANKING_INTENSITIES = (0.3, 1.0)
DRIFT_REPLICAS = 8  # trajectories per held-out patient for the drift: one draw's error is ~0.05 SD


@dataclass
class WorldModelTrainingConfig:
    # trials as long as the environment's episodes, so the model sees the weeks an agent reaches
    cohort: CohortConfig = field(default_factory=lambda: CohortConfig(weeks=DEFAULT_MAX_WEEKS))
    replicas: int = 8  # trajectories per enrolled train patient, each under its own policy
    world_model: WorldModelConfig = field(default_factory=WorldModelConfig)

    def __post_init__(self) -> None:
        check_fields(self, {"replicas": POSITIVE_INT})


def ranking_policies() -> dict[str, BehaviourPolicy]:
    """The policies whose returns are ranked under both dynamics: no treatment, every active
    treatment at a low and a full intensity, and the adaptive ones: stepped care and
    measurement-based care starting on CBT or on medication (12 in all)."""
    policies: dict[str, BehaviourPolicy] = {"control": Untreated()}
    for treatment in TREATMENTS[1:]:
        for intensity in RANKING_INTENSITIES:
            policies[f"{treatment}-{intensity}"] = FixedPolicy(treatment, intensity)
    policies["stepped-care"] = SteppedCare()
    policies["measurement-based-care"] = MeasurementBasedCare()
    policies["measurement-based-care-medication-first"] = MeasurementBasedCare(
        (("medication", 0.6), ("medication", 1.0), ("cbt", 1.0), ("exercise", 1.0))
    )
    return policies


def policy_ranking(
    world_model: str | Path | None = None,
    cohort: str | Path = "eval",
    seed: int = 0,
    assets: str | Path | None = None,
) -> dict[str, float]:
    """Mean return of each ranking policy under the world model and the reference simulator
    (every enrolled patient of `cohort` once, in the environment on asset set `assets`), and
    the Spearman correlation of the two."""
    metrics: dict[str, float] = {}
    means = {"world_model": [], "reference": []}
    for name, policy in ranking_policies().items():
        for dynamics, values in means.items():
            outcome = run_policy(
                RiskScorePolicy(policy), cohort, dynamics, seed, world_model, assets=assets
            )
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
    assets: str | Path | None = None,
) -> dict[str, float]:
    """The fidelity report (`mano_gym.build.world_model_fidelity`) of `model` on trials of the
    enrolled patients of `eval_cohort` (the drift on `DRIFT_REPLICAS` trajectories of each),
    and the policy ranking in the environment on asset set `assets` (its world model and
    held-out cohort)."""
    enrolled = enrolled_patients(eval_cohort)
    trials = make_trials(eval_cohort, weeks, seed, redraw=True, patients=enrolled)
    drift_trials = make_trials(eval_cohort, weeks, seed, DRIFT_REPLICAS, patients=enrolled)
    return (
        {"held_out_patients": float(len(enrolled))}
        | one_week_fidelity(model, trials, seed)
        | rollout_drift(model, drift_trials, seed)
        | policy_ranking(cohort="eval", seed=seed, assets=assets)
    )


def evaluate_shipped_world_model(assets: str | Path | None = None) -> dict[str, float]:
    """The report of the world model of `assets` (default: the shipped one), with the weeks
    and seed it was evaluated with."""
    entry = verified_artifact(WORLD_MODEL, assets)[1]
    config = CohortConfig(**entry["cohort"])
    return evaluate_world_model(
        load_world_model(assets=assets),
        load_cohort("eval", assets),
        config.weeks,
        config.eval_seed,
        assets,
    )


def train_world_model_artifacts(
    config: WorldModelTrainingConfig | None = None,
    out: str | Path | None = None,
    assets: str | Path | None = None,
    ship: bool = False,
    logdir: str | Path | None = None,
    progress: bool = True,
    trusted: bool = False,
) -> dict[str, dict]:
    """Sample the cohorts from the generators of `assets`, run the trials, train the world
    model, and write the asset set `out` (default `runs/assets`; the shipped set with `ship`):
    a copy of `assets` with all three artifacts replaced and their manifest entries, staged so
    that a failure leaves `out` as it was. Returns those entries."""
    config = config or WorldModelTrainingConfig()
    out = output_folder(out, ship)
    c = config.cohort
    inputs = input_hashes((PROFILES, RHYTHMS), assets)
    predictor = input_hashes((PREDICTORS[LATENT],), assets)
    generators = (
        load_profile_generator(assets=assets, trusted=trusted),
        load_rhythm_generator(assets=assets),
    )
    cohorts = {
        COHORTS["train"]: make_cohort(c.train_patients, c.train_seed, *generators),
        COHORTS["eval"]: make_cohort(c.eval_patients, c.eval_seed, *generators),
    }
    common = {
        "code_version": code_version(),
        "inputs": inputs,
        "cohort": asdict(c),
        "machine": machine(),
    }
    start = time.perf_counter()
    train = cohorts[COHORTS["train"]]
    trials = make_trials(
        train, c.weeks, c.train_seed, config.replicas, patients=enrolled_patients(train)
    )
    model = train_world_model(trials, config.world_model, logdir, progress)
    seconds = time.perf_counter() - start
    entries = {}
    with staged_assets(out, assets) as staging:
        for name, cohort in cohorts.items():
            cohort.save(staging / FILES[name])
            entry = common | {"seed": cohort.seed, "patients": len(cohort)}
            entries[name] = record_artifact(name, FILES[name], entry, staging)
        model.save(staging / FILES[WORLD_MODEL])
        entry = common | {
            "inputs": inputs | predictor | {"cohort_train": entries["cohort_train"]["sha256"]},
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
        }
        record_artifact(WORLD_MODEL, FILES[WORLD_MODEL], entry, staging)
        metrics = evaluate_world_model(model, cohorts["cohort_eval"], c.weeks, c.eval_seed, staging)
        entries[WORLD_MODEL] = record_artifact(
            WORLD_MODEL, FILES[WORLD_MODEL], entry | {"metrics": _finite(metrics)}, staging
        )
    return published(out, entries)


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in metrics.items() if np.isfinite(v)}
