"""The `mano` command: `mano VERB TOPIC ...` (`mano data inspect`, `mano train generators`,
`mano generate profiles`, `mano evaluate generators`, ...). Each topic module registers its
commands under the verbs it offers.

Packages that build on `mano_gym` (the `agents` package: `mano train --agent`, `mano evaluate
agent`, `mano demo`) add their commands through the `mano.commands` entry-point group, so that
`mano_gym` never imports them: each entry point is a function
`register(verbs, verb_parsers, topics)`."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from mano_gym import __version__
from mano_gym.cli import data, generators, predictor, reference, world_model

PLUGINS = "mano.commands"
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
    verb_parsers = {verb: verbs.add_parser(verb, help=text) for verb, text in VERBS.items()}
    topics = {
        verb: verb_parser.add_subparsers(dest="topic", metavar="TOPIC")
        for verb, verb_parser in verb_parsers.items()
    }
    for verb, verb_parser in verb_parsers.items():
        verb_parser.set_defaults(run=_missing_topic(verb, topics[verb]))
    data.register(topics)
    generators.register(topics)
    reference.register(topics)
    predictor.register(topics)
    world_model.register(topics)
    for plugin in entry_points(group=PLUGINS):
        plugin.load()(verbs, verb_parsers, topics)
    return parser


def _missing_topic(verb: str, topics: argparse._SubParsersAction):
    def run(args: argparse.Namespace) -> int:
        raise ValueError(f"mano {verb} needs a topic: {', '.join(topics.choices)}")

    return run


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (FileNotFoundError, ValueError) as error:  # bad input: a message, not a traceback
        print(f"mano: error: {error}", file=sys.stderr)
        return 2
