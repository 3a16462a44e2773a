"""`--threads`: the CPU thread count of torch and of scikit-learn's native code."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from threadpoolctl import threadpool_limits


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="CPU threads (default 1: these small models run fastest on one thread, and the "
        "thread count changes trained weights)",
    )


@contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    if threads < 1:
        raise ValueError(f"--threads must be at least 1, got {threads}")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            yield
    finally:
        torch.set_num_threads(before)
