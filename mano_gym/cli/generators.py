"""`mano train generators`, `mano generate profiles|rhythms`, `mano evaluate generators`."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from generators.evaluation.rhythms import DISCRIMINATOR_REPEATS
from generators.signals import SIGNAL_NAMES
from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.build.generators import (
    GeneratorTrainingConfig,
    evaluate_shipped_generators,
    train_generators,
)
from mano_gym.build.manifest import output_folder
from mano_gym.cli.options import (
    add_training_options,
    limit_threads,
    output_file,
    positive_float,
    positive_int,
    seed,
    shortcuts,
)
from mano_gym.cli.overrides import apply_overrides

DEFAULT_DATA = Path("../shared/data")
DEFAULT_CHECKPOINT = Path("runs/generators/rhythms_timegan.ckpt")


def register(topics: dict[str, argparse._SubParsersAction]) -> None:
    train = topics["train"].add_parser(
        "generators",
        help="fit CTGAN (profiles) and TimeGAN (rhythms) on real data, write an asset set "
        "holding them to --out",
    )
    train.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real-data folder")
    train.add_argument("--epochs", type=positive_int, help="CTGAN epochs")
    train.add_argument(
        "--dp-epsilon",
        type=positive_float,
        help="train TimeGAN with differential privacy (DP-SGD, the participant as the unit) "
        "within this epsilon (delta: rhythms.dp_delta); CTGAN profiles stay non-private",
    )
    add_training_options(
        train,
        "override any setting, e.g. rhythms.hidden_dim=32 or profiles.batch_size=200 "
        "(sections: profiles, rhythms, split)",
    )
    train.add_argument(
        "--checkpoint",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="TimeGAN training state, saved every 500 iterations",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue TimeGAN from --checkpoint after a kill (CTGAN, about a minute, is refitted)",
    )
    train.set_defaults(run=run_train)

    profiles = topics["generate"].add_parser("profiles", help="sample static profiles to CSV")
    rhythms = topics["generate"].add_parser("rhythms", help="sample 7-day rhythms to .npz")
    for parser in (profiles, rhythms):
        parser.add_argument("--n", type=positive_int, required=True, help="how many to sample")
        parser.add_argument("--seed", type=seed, default=0)
        parser.add_argument("--model", type=Path, help="a model file instead of the shipped one")
        parser.add_argument("--device", default="cpu")
    profiles.add_argument("--out", type=output_file, required=True, help="CSV file to write")
    profiles.add_argument(
        "--condition", metavar="COLUMN=VALUE", help="only profiles with this category"
    )
    profiles.add_argument(
        "--trusted",
        action="store_true",
        help="load --model although its hash is unknown (it is a pickle: only your own files)",
    )
    profiles.set_defaults(run=run_generate_profiles)
    rhythms.add_argument("--out", type=output_file, required=True, help=".npz file to write")
    rhythms.set_defaults(run=run_generate_rhythms)

    evaluate = topics["evaluate"].add_parser(
        "generators", help="metrics of the shipped generators and their baselines"
    )
    evaluate.add_argument("--data", type=Path, default=DEFAULT_DATA, help="real-data folder")
    evaluate.add_argument("--seed", type=seed, default=0)
    evaluate.add_argument(
        "--samples", type=positive_int, default=1000, help="synthetic rows / windows"
    )
    evaluate.add_argument("--device", default="cpu")
    evaluate.add_argument(
        "--discriminator-repeats",
        type=positive_int,
        default=DISCRIMINATOR_REPEATS,
        help="post-hoc classifiers averaged per discriminative score (fewer: faster, noisier)",
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.set_defaults(run=run_evaluate)


def run_train(args: argparse.Namespace) -> int:
    out = output_folder(args.out, args.ship)
    fields = {
        "seed": ("profiles.seed", "rhythms.seed", "split.seed"),
        "epochs": ("profiles.epochs",),
        "device": ("profiles.device", "rhythms.device"),
        "dp_epsilon": ("rhythms.dp_epsilon",),
    }
    config = apply_overrides(GeneratorTrainingConfig(), shortcuts(args, fields))
    with limit_threads(args.threads):
        entries = train_generators(
            args.data,
            config,
            out,
            args.assets,
            args.ship,
            args.logdir,
            checkpoint=args.checkpoint,
            resume=args.resume,
        )
    for name, entry in entries.items():
        privacy = entry.get("privacy")
        guarantee = (
            f"({privacy['epsilon']:.2f}, {privacy['delta']:g})-DP per participant"
            if privacy
            else "not differentially private"
        )
        print(f"{name}: {out / entry['file']} ({entry['training_seconds']} s; {guarantee})")
    print_metrics({k: v for e in entries.values() for k, v in e["metrics"].items()})
    return 0


def run_generate_profiles(args: argparse.Namespace) -> int:
    column = value = None
    if args.condition is not None:
        column, sep, value = args.condition.partition("=")
        if not sep:
            raise ValueError(f"--condition expects COLUMN=VALUE, got {args.condition!r}")
    generator = load_profile_generator(args.model, trusted=args.trusted, device=args.device)
    table = generator.sample(args.n, seed=args.seed, condition_column=column, condition_value=value)
    table.to_csv(args.out, index=False)
    print(f"wrote {len(table)} profiles to {args.out}")
    return 0


def run_generate_rhythms(args: argparse.Namespace) -> int:
    windows = load_rhythm_generator(args.model, device=args.device).sample(args.n, seed=args.seed)
    np.savez(args.out, signals=windows, signal_names=np.array(SIGNAL_NAMES))
    print(f"wrote {len(windows)} windows {windows.shape} to {args.out}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    metrics = evaluate_shipped_generators(
        args.data, args.samples, args.seed, args.device, args.discriminator_repeats
    )
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        print_metrics(metrics)
    return 0


def print_metrics(metrics: dict[str, float], topic: str = "generator") -> None:
    """A two-column table of `metrics`."""
    table = Table(title=f"{topic} metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in metrics.items():
        table.add_row(name, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)
