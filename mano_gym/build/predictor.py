"""Train, store, load and evaluate the default risk predictors.

Two hybrid LSTMs are trained on the same simulated weeks (train cohort, every patient followed
for `weeks` weeks under a mixture of behaviour policies):

| artifact          | labels                                        | used by                     |
|-------------------|-----------------------------------------------|-----------------------------|
| `predictor`       | DASS bands of the latent scores (Mano's risk) | the environment's reward    |
| `predictor_rules` | seed-style rules on the observed week         | comparison with the seed    |

Both are evaluated on the weeks of a separate held-out cohort, next to a logistic regression
and gradient boosting fitted on summary features of the same training weeks. The rule-label
model is also scored on real PMData weeks of the participants the rhythm generator never saw
(paired with held-out synthetic profiles, since PMData has none), to show the
synthetic-to-real gap.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from generators.config_checks import NON_NEGATIVE_INT, POSITIVE_INT, check_fields
from mano_gym.assets import (
    FILES,
    LATENT,
    PREDICTORS,
    PROFILES,
    RHYTHMS,
    RULE,
    load_profile_generator,
    load_rhythm_generator,
    load_risk_predictor,
    verified_artifact,
)
from mano_gym.build.generators import shipped_split
from mano_gym.build.manifest import (
    code_version,
    input_hashes,
    machine,
    output_folder,
    published,
    record_artifact,
    staged_assets,
)
from mano_gym.cohorts.cohort import EVAL_COHORT_SEED, STATIC_FEATURES, TRAIN_COHORT_SEED
from mano_gym.cohorts.sampling import make_cohort
from mano_gym.cohorts.weeks import LabelledWeeks, simulate_weeks
from predictor.baselines import fit_baseline
from predictor.decision import decide
from predictor.labels import rule_labels
from predictor.metrics import classification_metrics
from predictor.model import RiskPredictor
from predictor.training import PredictorConfig, train_predictor

BASELINES = ("logreg", "gbm")


@dataclass
class CohortConfig:
    train_patients: int = 4096
    eval_patients: int = 2048
    train_seed: int = TRAIN_COHORT_SEED
    eval_seed: int = EVAL_COHORT_SEED
    weeks: int = 12  # treated weeks per patient after the first observed week

    def __post_init__(self) -> None:
        check_fields(
            self,
            {"train_patients": POSITIVE_INT, "eval_patients": POSITIVE_INT, "weeks": POSITIVE_INT}
            | {"train_seed": NON_NEGATIVE_INT, "eval_seed": NON_NEGATIVE_INT},
        )


# The predictor learns from 4x the environment's train cohort (simulated weeks are free):
# measured on the held-out cohort (argmax, before the split by patient), latent macro-F1 rose
# from 0.783 (4,096 patients) to 0.809 (16,384) and 0.819 (32,768, at 2.4x the training
# time); gradient boosting's only from 0.801 to 0.810 (16,384).
PREDICTOR_TRAIN_PATIENTS = 16_384


@dataclass
class PredictorTrainingConfig:
    cohort: CohortConfig = field(
        default_factory=lambda: CohortConfig(train_patients=PREDICTOR_TRAIN_PATIENTS)
    )
    predictor: PredictorConfig = field(default_factory=PredictorConfig)


def labelled_weeks(
    config: CohortConfig, assets: str | Path | None = None, trusted: bool = False
) -> tuple[LabelledWeeks, LabelledWeeks]:
    """The training and held-out weeks, from the generators of `assets` (default: the
    shipped ones; `trusted` as for `load_profile_generator`) and the reference simulator;
    the same config gives the same weeks."""
    profiles = load_profile_generator(assets=assets, trusted=trusted)
    rhythms = load_rhythm_generator(assets=assets)
    weeks = []
    for n, seed in (
        (config.train_patients, config.train_seed),
        (config.eval_patients, config.eval_seed),
    ):
        cohort = make_cohort(n, seed, profiles, rhythms)
        weeks.append(simulate_weeks(cohort, config.weeks, seed))
    return weeks[0], weeks[1]


def labels_of(weeks: LabelledWeeks, kind: str) -> np.ndarray:
    if kind not in PREDICTORS:
        raise ValueError(f"unknown label kind {kind!r}; known: {', '.join(PREDICTORS)}")
    return weeks.risk if kind == LATENT else rule_labels(weeks.signals)


def evaluate_predictors(
    models: dict[str, RiskPredictor],
    train: LabelledWeeks,
    held_out: LabelledWeeks,
    data: str | Path | None,
    seed: int = 0,
    assets: str | Path | None = None,
) -> dict[str, float]:
    """`{model}.{labels}.{metric}` for the LSTMs (`models`: labels kind -> predictor) and the
    baselines on the held-out weeks; with real `data`, also `lstm.rule.real.{metric}`.

    `lstm` scores the classes of the LSTM's decision rule, `lstm_argmax` the most probable
    class, the baselines their most probable class."""
    metrics: dict[str, float] = {}

    def add(
        prefix: str, labels: np.ndarray, proba: np.ndarray, predicted: np.ndarray | None = None
    ) -> None:
        for name, value in classification_metrics(labels, proba, predicted).items():
            metrics[f"{prefix}.{name}"] = value

    for kind, model in models.items():
        truth = labels_of(held_out, kind)
        proba = model.predict_proba(held_out.static, held_out.signals)
        add(f"lstm.{kind}", truth, proba, decide(proba, model.decision_bias))
        add(f"lstm_argmax.{kind}", truth, proba)
        for baseline in BASELINES:
            fitted = fit_baseline(
                baseline, train.static, train.signals, labels_of(train, kind), seed
            )
            add(
                f"{baseline}.{kind}", truth, fitted.predict_proba(held_out.static, held_out.signals)
            )
    if data is not None and RULE in models:
        real = shipped_split(data, assets).windows.holdout_people.signals
        static = held_out.static[
            np.random.default_rng(seed).integers(0, len(held_out.static), len(real))
        ]
        add(
            "lstm.rule.real",
            rule_labels(real),
            models[RULE].predict_proba(static, real),
            models[RULE].predict(static, real),
        )
    return metrics


def evaluate_shipped_predictors(
    data: str | Path | None,
    config: CohortConfig | None = None,
    assets: str | Path | None = None,
    trusted: bool = False,
) -> dict[str, float]:
    """Metrics of the predictors of `assets` (default: the shipped ones, with freshly fitted
    baselines) on the held-out cohort, by default the cohorts they were trained and evaluated
    on (read from the manifest)."""
    if config is None:
        config = CohortConfig(**verified_artifact(PREDICTORS[LATENT], assets)[1]["cohort"])
    train, held_out = labelled_weeks(config, assets, trusted)
    models = {kind: load_risk_predictor(kind=kind, assets=assets) for kind in PREDICTORS}
    return evaluate_predictors(models, train, held_out, data, assets=assets)


def train_predictors(
    data: str | Path | None,
    config: PredictorTrainingConfig | None = None,
    out: str | Path | None = None,
    assets: str | Path | None = None,
    ship: bool = False,
    logdir: str | Path | None = None,
    progress: bool = True,
    trusted: bool = False,
) -> dict[str, dict]:
    """Train both predictors on weeks from the generators of `assets` and write the asset set
    `out` (default `runs/assets`; the shipped set with `ship`): a copy of `assets` with both
    predictors replaced and their manifest entries (including every metric of
    `evaluate_predictors`), staged so that a failure leaves `out` as it was."""
    config = config or PredictorTrainingConfig()
    out = output_folder(out, ship)
    if data is not None and not Path(data).is_dir():
        raise FileNotFoundError(f"real-data folder not found: {data}")
    inputs = input_hashes((PROFILES, RHYTHMS), assets)
    train, held_out = labelled_weeks(config.cohort, assets, trusted)
    models, seconds = {}, {}
    for kind in PREDICTORS:
        start = time.perf_counter()
        models[kind] = train_predictor(
            train.static,
            train.signals,
            labels_of(train, kind),
            config.predictor,
            logdir=Path(logdir) / kind if logdir else None,
            progress=progress,
            static_names=STATIC_FEATURES,
            groups=train.patient,
        )
        seconds[kind] = time.perf_counter() - start
    metrics = evaluate_predictors(models, train, held_out, data, config.predictor.seed, assets)
    common = {
        "code_version": code_version(),
        "inputs": inputs,
        "seed": config.predictor.seed,
        "hyperparameters": asdict(config.predictor),
        "cohort": asdict(config.cohort),
        "machine": machine(),
        "torch": f"{torch.__version__}, {torch.get_num_threads()} CPU thread(s)",
    }
    entries = {}
    with staged_assets(out, assets) as staging:
        for kind, name in PREDICTORS.items():
            models[kind].save(staging / FILES[name])
            own = {k: v for k, v in metrics.items() if f".{kind}." in k and not isinstance(v, list)}
            entry = common | {
                "labels": kind,
                "training_seconds": round(seconds[kind], 1),
                "history": {
                    k: v for k, v in models[kind].history.items() if not isinstance(v, list)
                },
                "metrics": own,
            }
            entries[name] = record_artifact(name, FILES[name], entry, staging)
    return published(out, entries)
