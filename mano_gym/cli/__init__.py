"""The `mano` command: `mano VERB TOPIC ...` (`mano data inspect`, `mano train generators`,
`mano generate profiles`, `mano evaluate generators`, ...). Each topic module registers its
commands under the verbs it offers."""

from __future__ import annotations

import argparse
import sys

from mano_gym import __version__
from mano_gym.cli import data, generators, predictor, reference, world_model

VERBS = {
    "data": "inspect real datasets",
    "train": "train models and write them with their manifest entries",
    "generate": "sample synthetic data to a file",
    "evaluate": "measure models and print their metrics",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mano", description="Mano: adaptive mental-health treatment environments for RL."
    )
    parser.add_argument("--version", action="version", version=f"mano {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")
    topics = {
        verb: verbs.add_parser(verb, help=text).add_subparsers(
            dest="topic", required=True, metavar="TOPIC"
        )
        for verb, text in VERBS.items()
    }
    data.register(topics)
    generators.register(topics)
    reference.register(topics)
    predictor.register(topics)
    world_model.register(topics)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as error:  # bad input: a message, not a traceback
        print(f"mano: error: {error}", file=sys.stderr)
        return 2
