"""`mano train predictor`, `mano evaluate predictor`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mano_gym.artifacts import ASSETS
from mano_gym.cli.generators import DEFAULT_DATA, print_metrics
from mano_gym.cli.overrides import add_overrides_option, apply_overrides
from mano_gym.cli.threads import add_threads_option, limit_threads
from mano_gym.predictor_artifacts import (
    PredictorTrainingConfig,
    evaluate_shipped_predictors,
    train_predictors,
)


def register(topics: dict[str, argparse._SubParsersAction]) -> None:
    train = topics["train"].add_parser(
        "predictor",
        help="train the hybrid LSTM risk predictors (latent DASS and rule labels) on simulated "
        "weeks, write them to --assets",
    )
    train.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real-data folder")
    train.add_argument("--assets", type=Path, default=ASSETS, help="where to write the models")
    train.add_argument("--seed", type=int, help="seed of the predictors' training")
    train.add_argument("--device", help="torch device, e.g. cpu or cuda")
    train.add_argument("--logdir", type=Path, help="TensorBoard folder for the training curves")
    add_overrides_option(
        train,
        "override any setting, e.g. predictor.lstm_hidden=32 or cohort.train_patients=2048 "
        "(sections: cohort, predictor)",
    )
    add_threads_option(train)
    train.set_defaults(run=run_train)

    evaluate = topics["evaluate"].add_parser(
        "predictor",
        help="metrics of the shipped predictors and their baselines on the held-out cohort",
    )
    evaluate.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real-data folder")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    add_threads_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)


def run_train(args: argparse.Namespace) -> int:
    config = PredictorTrainingConfig()
    if args.seed is not None:
        config.predictor.seed = args.seed
    if args.device is not None:
        config.predictor.device = args.device
    apply_overrides(config, args.set)
    with limit_threads(args.threads):
        entries = train_predictors(args.data, config, args.assets, args.logdir)
    for name, entry in entries.items():
        print(f"{name}: {args.assets / entry['file']} ({entry['training_seconds']} s)")
    print_metrics({k: v for e in entries.values() for k, v in e["metrics"].items()}, "predictor")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        metrics = evaluate_shipped_predictors(args.data)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_metrics({k: v for k, v in metrics.items() if not isinstance(v, list)}, "predictor")
    return 0
