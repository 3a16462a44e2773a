"""The options the `mano` commands share, defined once: where a build reads its inputs and
writes its asset set, seeds, devices, logs, config overrides and CPU threads."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

from mano_gym.build.manifest import DEFAULT_OUT

Parser = argparse.ArgumentParser | argparse._ArgumentGroup


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1 (counts: samples, patients, epochs, steps)."""
    return _integer(text, 1)


def seed(text: str) -> int:
    """An argparse type: an integer >= 0."""
    return _integer(text, 0)


def _integer(text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < low:
        raise argparse.ArgumentTypeError(f"must be an integer >= {low}, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0 (a privacy budget's epsilon)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {value}")
    return value


def output_file(text: str) -> Path:
    """An argparse type: a file to write, in a folder that exists (checked before any work)."""
    path = Path(text)
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"folder {path.parent} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder, not a file")
    return path


def add_threads_option(parser: Parser) -> None:
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="CPU threads (default 1: these small models run fastest on one thread, and the "
        "thread count changes trained weights)",
    )


@contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """torch's and the native libraries' thread count set to `threads` inside the block."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        torch.set_num_threads(before)


def add_trusted_option(parser: Parser) -> None:
    parser.add_argument(
        "--trusted",
        action="store_true",
        help="open a profile generator of --assets that is not the shipped one (it is a "
        "pickle: only one you trained yourself)",
    )


def add_training_options(
    parser: Parser,
    overrides_help: str,
    overrides_metavar: str = "SECTION.FIELD=VALUE",
    out_help: str = f"asset set to write (default {DEFAULT_OUT})",
    defaults: dict | None = None,
) -> None:
    """`--assets`, `--out`, `--ship`, `--seed`, `--device`, `--logdir`, `--set` and
    `--threads`, as every `mano train` command takes them (`defaults` overrides the defaults
    of some, by option name)."""
    defaults = defaults or {}
    parser.add_argument(
        "--assets",
        type=Path,
        help="asset set to read the inputs from (default: the shipped set)",
    )
    parser.add_argument("--out", type=Path, help=out_help)
    parser.add_argument(
        "--ship",
        action="store_true",
        help="write the shipped set inside the installed package instead of --out",
    )
    parser.add_argument("--seed", type=seed, default=defaults.get("seed"), help="random seed")
    parser.add_argument(
        "--device", default=defaults.get("device"), help="torch device, e.g. cpu or cuda"
    )
    parser.add_argument(
        "--logdir",
        type=Path,
        default=defaults.get("logdir"),
        help="TensorBoard folder for the training curves",
    )
    # repeatable, collected in order for `mano_gym.cli.overrides.apply_overrides`
    parser.add_argument(
        "--set", action="append", default=[], metavar=overrides_metavar, help=overrides_help
    )
    add_threads_option(parser)


def shortcuts(args: argparse.Namespace, fields: dict[str, tuple[str, ...]]) -> list[str]:
    """`--set` assignments for the shortcut options given (`fields`: option name -> the config
    fields it sets), placed before the user's own `--set` so those win."""
    assignments = [
        f"{field}={getattr(args, option)}"
        for option, targets in fields.items()
        if getattr(args, option) is not None
        for field in targets
    ]
    return assignments + args.set
