"""`mano generate trials`, `mano train world-model`, `mano evaluate world-model`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mano_gym.assets import load_cohort
from mano_gym.build.manifest import output_folder
from mano_gym.build.world_model import (
    WorldModelTrainingConfig,
    evaluate_shipped_world_model,
    train_world_model_artifacts,
)
from mano_gym.cli.generators import print_metrics
from mano_gym.cli.options import (
    add_threads_option,
    add_training_options,
    add_trusted_option,
    limit_threads,
    output_file,
    positive_int,
    seed,
    shortcuts,
)
from mano_gym.cli.overrides import apply_overrides
from mano_gym.cohorts.trials import make_trials


def register(topics: dict[str, argparse._SubParsersAction]) -> None:
    trials = topics["generate"].add_parser(
        "trials",
        help="virtual clinical trials: reference-simulator rollouts of a cohort under many "
        "behaviour policies, to .npz",
    )
    trials.add_argument(
        "--cohort", default="train", help="'train', 'eval' or a cohort .npz (mano generate cohort)"
    )
    trials.add_argument(
        "--weeks", type=positive_int, default=12, help="treated weeks per trajectory"
    )
    trials.add_argument("--replicas", type=positive_int, default=1, help="trajectories per patient")
    trials.add_argument("--seed", type=seed, default=0)
    trials.add_argument("--out", type=output_file, required=True, help=".npz file to write")
    trials.set_defaults(run=run_generate_trials)

    train = topics["train"].add_parser(
        "world-model",
        help="sample the train and held-out cohorts, run virtual trials, train the attention "
        "Seq2Seq world model, write an asset set holding all three to --out",
    )
    train.add_argument("--epochs", type=positive_int, help="training epochs")
    add_training_options(
        train,
        "override any setting, e.g. world_model.hidden=64 or cohort.weeks=16 "
        "(sections: cohort, world_model; replicas=N at the top level)",
    )
    add_trusted_option(train)
    train.set_defaults(run=run_train)

    evaluate = topics["evaluate"].add_parser(
        "world-model",
        help="fidelity of the shipped world model to the reference simulator on the held-out "
        "cohort (one-week MAE vs noise floor, calibration, drift, policy ranking)",
    )
    evaluate.add_argument(
        "--assets", type=Path, help="asset set to evaluate (default: the shipped set)"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    add_threads_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)


def run_generate_trials(args: argparse.Namespace) -> int:
    trials = make_trials(load_cohort(args.cohort), args.weeks, args.seed, args.replicas)
    trials.save(args.out)
    print(f"wrote {len(trials)} trajectories of {trials.weeks} weeks to {args.out}")
    return 0


def run_train(args: argparse.Namespace) -> int:
    out = output_folder(args.out, args.ship)
    fields = {name: (f"world_model.{name}",) for name in ("seed", "epochs", "device")}
    config = apply_overrides(WorldModelTrainingConfig(), shortcuts(args, fields))
    with limit_threads(args.threads):
        entries = train_world_model_artifacts(
            config, out, args.assets, args.ship, args.logdir, trusted=args.trusted
        )
    for name, entry in entries.items():
        print(f"{name}: {out / entry['file']}")
    print_metrics(entries["world_model"]["metrics"], "world model")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        metrics = evaluate_shipped_world_model(args.assets)
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics, "world model")
    return 0
