"""`--set section.field=value`: a new config with any fields of a nested config dataclass
replaced, built with `dataclasses.replace` so that every config's own checks run (once per
dataclass, on all of its changes together)."""

from __future__ import annotations

import dataclasses
from typing import Any


def apply_overrides(config: Any, assignments: list[str]) -> Any:
    """`config` with each `a.b=value` applied (a later one wins), `value` converted to the type
    of the field's current value; an unknown field, or a value the config refuses, raises a
    `ValueError` naming the setting."""
    changes: dict[tuple[str, ...], str] = {}
    for assignment in assignments:
        dotted, sep, text = assignment.partition("=")
        if not sep:
            raise ValueError(f"--set expects section.field=value, got {assignment!r}")
        changes[tuple(dotted.split("."))] = text
    return _replaced(config, changes, ())


def _replaced(config: Any, changes: dict[tuple[str, ...], str], prefix: tuple[str, ...]) -> Any:
    types = {f.name: str(f.type) for f in dataclasses.fields(config) if f.init}
    fields = set(types)
    where = ".".join(prefix) or type(config).__name__
    values: dict[str, Any] = {}
    for name in dict.fromkeys(path[0] for path in changes):
        dotted = ".".join((*prefix, name))
        if name not in fields:
            raise ValueError(f"unknown setting {dotted!r}; {where} has {', '.join(sorted(fields))}")
        current = getattr(config, name)
        inner = {path[1:]: text for path, text in changes.items() if path[0] == name}
        if dataclasses.is_dataclass(current):
            if () in inner:
                sub = ", ".join(f.name for f in dataclasses.fields(current))
                raise ValueError(f"{dotted} is a section: set one of its fields ({sub})")
            values[name] = _replaced(current, inner, (*prefix, name))
        elif set(inner) != {()}:
            raise ValueError(f"unknown setting {dotted}.{next(iter(p for p in inner if p))[0]}")
        else:
            values[name] = _convert(current, inner[()], dotted, types[name])
    try:
        return dataclasses.replace(config, **values)
    except (TypeError, ValueError) as error:
        given = [".".join((*prefix, *path)) + "=" + text for path, text in changes.items()]
        raise ValueError(f"--set {' '.join(given)}: {error}") from None


def _convert(current: Any, text: str, name: str, annotation: str) -> Any:
    try:
        if isinstance(current, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError("expected true or false")
            return text.lower() == "true"
        if isinstance(current, tuple):
            element = type(current[0]) if current else str
            return tuple(element(part) for part in text.split(",") if part)
        if current is None:  # an optional setting: the type it is declared with, or none
            if text.lower() == "none":
                return None
            kind = next((k for k in (int, float, str) if k.__name__ in annotation), str)
            return kind(text)
        if isinstance(current, dict):
            raise ValueError("a table cannot be set from the command line")
        return type(current)(text)
    except ValueError as error:
        raise ValueError(f"bad value {text!r} for {name} ({error})") from None
