"""Range checks for config dataclasses: each config's `__post_init__` names a `Rule` per field,
so a bad value, set in code or through `mano train --set`, fails at once with a message naming
the setting, the value and what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any


def _integer(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and value == value  # not NaN


@dataclass(frozen=True)
class Rule:
    """What a field's value must satisfy, and how to say it."""

    check: Callable[[Any], bool]
    allowed: str


def _device(value: Any) -> bool:
    import torch  # here: configs are built where torch may not be needed yet

    try:
        torch.device(value)
    except (RuntimeError, TypeError):
        return False
    return True


POSITIVE_INT = Rule(lambda v: _integer(v) and v >= 1, "an integer >= 1")
NON_NEGATIVE_INT = Rule(lambda v: _integer(v) and v >= 0, "an integer >= 0")
POSITIVE_INTS = Rule(
    lambda v: isinstance(v, tuple) and len(v) > 0 and all(_integer(x) and x >= 1 for x in v),
    "a non-empty tuple of integers >= 1",
)
POSITIVE = Rule(lambda v: _real(v) and 0 < v < float("inf"), "a finite number > 0")
NON_NEGATIVE = Rule(lambda v: _real(v) and 0 <= v < float("inf"), "a finite number >= 0")
FRACTION = Rule(lambda v: _real(v) and 0 <= v <= 1, "a number in [0, 1]")
OPEN_FRACTION = Rule(lambda v: _real(v) and 0 < v < 1, "a number in (0, 1)")
POSITIVE_FRACTION = Rule(lambda v: _real(v) and 0 < v <= 1, "a number in (0, 1]")
DEVICE = Rule(_device, "a torch device, e.g. cpu or cuda")
OPTIONAL_POSITIVE = Rule(lambda v: v is None or POSITIVE.check(v), "None or " + POSITIVE.allowed)
# a folder saved with a config into a checkpoint: a plain string, which any reader can load
OPTIONAL_FOLDER = Rule(lambda v: v is None or isinstance(v, str), "None or a folder as a str")


def one_of(*values: Any) -> Rule:
    """A rule that allows exactly `values`."""
    return Rule(lambda v: v in values, "one of " + ", ".join(map(repr, values)))


def check_fields(config: Any, rules: dict[str, Rule]) -> None:
    """A `ValueError` for the first field of `config` that breaks its rule."""
    for name, rule in rules.items():
        value = getattr(config, name)
        if not rule.check(value):
            raise ValueError(
                f"{type(config).__name__}.{name} must be {rule.allowed}, got {value!r}"
            )
