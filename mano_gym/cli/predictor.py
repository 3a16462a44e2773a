"""`mano train predictor`, `mano evaluate predictor`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mano_gym.build.manifest import output_folder
from mano_gym.build.predictor import (
    PredictorTrainingConfig,
    evaluate_shipped_predictors,
    train_predictors,
)
from mano_gym.cli.generators import DEFAULT_DATA, print_metrics
from mano_gym.cli.options import (
    add_threads_option,
    add_training_options,
    add_trusted_option,
    limit_threads,
    shortcuts,
)
from mano_gym.cli.overrides import apply_overrides


def register(topics: dict[str, argparse._SubParsersAction]) -> None:
    train = topics["train"].add_parser(
        "predictor",
        help="train the hybrid LSTM risk predictors (latent DASS and rule labels) on simulated "
        "weeks from the generators of --assets, write an asset set holding them to --out",
    )
    train.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real-data folder")
    add_training_options(
        train,
        "override any setting, e.g. predictor.lstm_hidden=32 or cohort.train_patients=2048 "
        "(sections: cohort, predictor)",
    )
    add_trusted_option(train)
    train.set_defaults(run=run_train)

    evaluate = topics["evaluate"].add_parser(
        "predictor",
        help="metrics of the shipped predictors and their baselines on the held-out cohort",
    )
    evaluate.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real-data folder")
    evaluate.add_argument(
        "--assets", type=Path, help="asset set to evaluate (default: the shipped set)"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    add_trusted_option(evaluate)
    add_threads_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)


def run_train(args: argparse.Namespace) -> int:
    out = output_folder(args.out, args.ship)
    if not args.data.is_dir():
        raise FileNotFoundError(f"real-data folder not found: {args.data}")
    fields = {"seed": ("predictor.seed",), "device": ("predictor.device",)}
    config = apply_overrides(PredictorTrainingConfig(), shortcuts(args, fields))
    with limit_threads(args.threads):
        entries = train_predictors(
            args.data, config, out, args.assets, args.ship, args.logdir, trusted=args.trusted
        )
    for name, entry in entries.items():
        print(f"{name}: {out / entry['file']} ({entry['training_seconds']} s)")
    print_metrics({k: v for e in entries.values() for k, v in e["metrics"].items()}, "predictor")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        metrics = evaluate_shipped_predictors(args.data, assets=args.assets, trusted=args.trusted)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_metrics({k: v for k, v in metrics.items() if not isinstance(v, list)}, "predictor")
    return 0
