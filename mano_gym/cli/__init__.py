"""The `mano` command. Each command group lives in its own module and adds its sub-parser here."""

from __future__ import annotations

import argparse
import sys

from generators.data import DataSchemaError
from mano_gym import __version__
from mano_gym.cli import data


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mano", description="Mano: adaptive mental-health treatment environments for RL."
    )
    parser.add_argument("--version", action="version", version=f"mano {__version__}")
    groups = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    data.add_parser(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (DataSchemaError, FileNotFoundError, ValueError) as error:
        print(f"mano: error: {error}", file=sys.stderr)
        return 2
