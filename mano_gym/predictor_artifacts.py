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

import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from mano_gym.artifacts import ASSETS, code_version, record_artifact, verified_artifact
from mano_gym.cohort import (
    EVAL_COHORT_SEED,
    STATIC_FEATURES,
    TRAIN_COHORT_SEED,
    LabelledWeeks,
    make_cohort,
    simulate_weeks,
)
from mano_gym.generator_artifacts import (
    FILES as GENERATOR_FILES,
)
from mano_gym.generator_artifacts import (
    load_profile_generator,
    load_rhythm_generator,
    shipped_split,
)
from predictor.baselines import fit_baseline
from predictor.decision import decide
from predictor.labels import rule_labels
from predictor.metrics import classification_metrics
from predictor.model import RiskPredictor
from predictor.training import PredictorConfig, train_predictor

LATENT, RULE = "latent", "rule"
ARTIFACTS = {LATENT: "predictor", RULE: "predictor_rules"}
FILES = {LATENT: "predictor_lstm.pt", RULE: "predictor_rules_lstm.pt"}
BASELINES = ("logreg", "gbm")


@dataclass
class CohortConfig:
    train_patients: int = 4096
    eval_patients: int = 2048
    train_seed: int = TRAIN_COHORT_SEED
    eval_seed: int = EVAL_COHORT_SEED
    weeks: int = 12  # treated weeks per patient after the first observed week


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


def labelled_weeks(config: CohortConfig) -> tuple[LabelledWeeks, LabelledWeeks]:
    """The training and held-out weeks, from the shipped generators and the reference
    simulator; the same config gives the same weeks."""
    profiles, rhythms = load_profile_generator(), load_rhythm_generator()
    weeks = []
    for n, seed in (
        (config.train_patients, config.train_seed),
        (config.eval_patients, config.eval_seed),
    ):
        cohort = make_cohort(n, seed, profiles, rhythms)
        weeks.append(simulate_weeks(cohort, config.weeks, seed))
    return weeks[0], weeks[1]


def labels_of(weeks: LabelledWeeks, kind: str) -> np.ndarray:
    if kind not in ARTIFACTS:
        raise ValueError(f"unknown label kind {kind!r}; known: {', '.join(ARTIFACTS)}")
    return weeks.risk if kind == LATENT else rule_labels(weeks.signals)


def load_predictor(
    path: str | Path | None = None, kind: str = LATENT, device: str = "cpu"
) -> RiskPredictor:
    """The shipped predictor for `kind` labels (hash-checked), or the one at `path`."""
    if path is None:
        path, _ = verified_artifact(ARTIFACTS[kind])
    return RiskPredictor.load(path, device=device)


def evaluate_predictors(
    models: dict[str, RiskPredictor],
    train: LabelledWeeks,
    held_out: LabelledWeeks,
    data: str | Path | None,
    seed: int = 0,
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
        real = shipped_split(data).windows.holdout_people.signals
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
    data: str | Path | None, config: CohortConfig | None = None
) -> dict[str, float]:
    """Metrics of the shipped predictors (and freshly fitted baselines) on the held-out cohort,
    by default the cohorts they were trained and evaluated on (read from the manifest)."""
    if config is None:
        config = CohortConfig(**verified_artifact(ARTIFACTS[LATENT])[1]["cohort"])
    train, held_out = labelled_weeks(config)
    models = {kind: load_predictor(kind=kind) for kind in ARTIFACTS}
    return evaluate_predictors(models, train, held_out, data)


def train_predictors(
    data: str | Path | None,
    config: PredictorTrainingConfig | None = None,
    assets: str | Path = ASSETS,
    logdir: str | Path | None = None,
    progress: bool = True,
) -> dict[str, dict]:
    """Train both predictors, save them to `assets` with their manifest entries (including
    every metric of `evaluate_predictors`), and return those entries."""
    config = config or PredictorTrainingConfig()
    assets = Path(assets)
    assets.mkdir(parents=True, exist_ok=True)
    train, held_out = labelled_weeks(config.cohort)
    models, seconds = {}, {}
    for kind in ARTIFACTS:
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
    metrics = evaluate_predictors(models, train, held_out, data, config.predictor.seed)
    common = {
        "code_version": code_version(),
        "inputs": {name: verified_artifact(name)[1]["sha256"] for name in GENERATOR_FILES},
        "seed": config.predictor.seed,
        "hyperparameters": asdict(config.predictor),
        "cohort": asdict(config.cohort),
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "torch": f"{torch.__version__}, {torch.get_num_threads()} CPU thread(s)",
    }
    entries = {}
    for kind, name in ARTIFACTS.items():
        models[kind].save(assets / FILES[kind])
        own = {k: v for k, v in metrics.items() if f".{kind}." in k and not isinstance(v, list)}
        entry = common | {
            "labels": kind,
            "training_seconds": round(seconds[kind], 1),
            "history": {k: v for k, v in models[kind].history.items() if not isinstance(v, list)},
            "metrics": own,
        }
        entries[name] = record_artifact(name, assets / FILES[kind], entry, assets)
    return entries
