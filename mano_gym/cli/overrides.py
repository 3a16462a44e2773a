"""`--set section.field=value`: override any field of a nested config dataclass from the CLI."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any


def add_overrides_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    help: str,
    metavar: str = "SECTION.FIELD=VALUE",
) -> None:
    """`--set`, repeatable, collected in order for `apply_overrides`."""
    parser.add_argument("--set", action="append", default=[], metavar=metavar, help=help)


def apply_overrides(config: Any, assignments: list[str]) -> Any:
    """Set each `a.b=value` on `config` (in place), converting `value` to the type of the
    field's current value; an unknown field or a bad value raises `ValueError`."""
    for assignment in assignments:
        dotted, sep, text = assignment.partition("=")
        if not sep:
            raise ValueError(f"--set expects section.field=value, got {assignment!r}")
        *path, name = dotted.split(".")
        target = config
        for part in path:
            target = getattr(target, part, None)
            if not dataclasses.is_dataclass(target):
                raise ValueError(f"unknown config section {part!r} in {dotted!r}")
        fields = {f.name for f in dataclasses.fields(target)}
        if name not in fields:
            raise ValueError(f"unknown setting {dotted!r}; {'.'.join(path)} has {sorted(fields)}")
        setattr(target, name, _convert(getattr(target, name), text, dotted))
    return config


def _convert(current: Any, text: str, name: str) -> Any:
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError("expected true or false")
            return text.lower() == "true"
        if isinstance(current, tuple):
            element = type(current[0]) if current else str
            return tuple(element(part) for part in text.split(",") if part)
        return type(current)(text)
    except ValueError as error:
        raise ValueError(f"bad value {text!r} for {name} ({error})") from None
