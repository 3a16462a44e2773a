"""The treatments an agent can prescribe: the one source of truth for their names and the
intensity bounds.

| index | name           | what it stands for                                  |
|-------|----------------|-----------------------------------------------------|
| 0     | `control`      | no active treatment (watchful waiting)              |
| 1     | `wellness_app` | a self-guided smartphone mental-health app          |
| 2     | `cbt`          | cognitive behavioural therapy                       |
| 3     | `exercise`     | a structured exercise programme                     |
| 4     | `medication`   | antidepressant medication                           |

An action pairs a treatment index with an intensity in [`INTENSITY_LOW`, `INTENSITY_HIGH`]
(the fraction of a full-dose course given this week).

What an observer knows of past treatment is the **exposure trace**: per treatment, the
prescribed intensity averaged with exponential forgetting, `e' = e + EXPOSURE_RATE * (a - e)`
with `a` this week's intensity for the treatment given and 0 for the others (`control` has none).
It is the environment's `exposure` observation and a world-model input. It is not the reference
simulator's latent exposure, which also depends on adherence and each treatment's onset.
"""

from __future__ import annotations

import sys
from functools import lru_cache

import numpy as np

TREATMENTS: tuple[str, ...] = ("control", "wellness_app", "cbt", "exercise", "medication")
N_TREATMENTS = len(TREATMENTS)
INTENSITY_LOW = 0.1
INTENSITY_HIGH = 1.0
EXPOSURE_RATE = 0.3  # judgement: a memory of about three weeks, as slow as medication's onset


# each treatment's index, -1 for control (which has no exposure): a treatment matches only itself
_ACTIVE = np.where(np.arange(N_TREATMENTS) > 0, np.arange(N_TREATMENTS), -1)


@lru_cache(maxsize=4)
def _active_on(device):
    """`_ACTIVE` as a tensor on a torch device, made once per device."""
    import torch  # only reached with a tensor, so torch is loaded already

    return torch.as_tensor(_ACTIVE, device=device)


_LOW32, _HIGH32 = np.float32(INTENSITY_LOW), np.float32(INTENSITY_HIGH)


def treatment_index(name: str) -> int:
    """The index of treatment `name`; a `ValueError` lists the known names otherwise."""
    try:
        return TREATMENTS.index(name)
    except ValueError:
        raise ValueError(
            f"unknown treatment {name!r}; known treatments: {', '.join(TREATMENTS)}"
        ) from None


def next_exposure(exposure, treatment, intensity):
    """The exposure trace `(n, 5)` after a week of `treatment` `(n,)` at `intensity` `(n,)`;
    works on NumPy arrays and on torch tensors alike (and returns the same kind)."""
    active = _ACTIVE if isinstance(treatment, np.ndarray) else _active_on(treatment.device)
    given = treatment[:, None] == active
    return exposure + EXPOSURE_RATE * (given * intensity[:, None] - exposure)


def is_tensor(value) -> bool:
    """Whether `value` is a torch tensor (without importing torch where nobody has)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _kind(values) -> str:
    """The NumPy dtype kind of an array or a torch tensor: `b`ool, `i`nt, `u`int, `f`loat,
    `c`omplex."""
    if isinstance(values, np.ndarray):
        return values.dtype.kind
    dtype = values.dtype
    if dtype.is_complex:
        return "c"
    if dtype.is_floating_point:
        return "f"
    return "i" if dtype.is_signed else ("b" if str(dtype) == "torch.bool" else "u")


def check_actions(treatment, intensity, n: int):
    """A batch of `n` actions, checked: NumPy arrays (or anything `np.asarray` takes) come back
    as `(treatment int64, intensity float64)` arrays, torch tensors as `(long, float32)` tensors
    on the treatment's device. A `ValueError` names what is wrong (shape, dtype, range, NaN);
    nothing is clipped or rounded. Treatments must be integers (not bool); intensities real
    numbers whose float32 value lies in [`INTENSITY_LOW`, `INTENSITY_HIGH`], the bounds of the
    float32 action space."""
    tensor = is_tensor(treatment)
    if not tensor:
        treatment, intensity = np.asarray(treatment), np.asarray(intensity)
    if tuple(treatment.shape) != (n,) or tuple(intensity.shape) != (n,):
        raise ValueError(
            f"treatment and intensity must have shape ({n},), got {tuple(treatment.shape)} "
            f"and {tuple(intensity.shape)}"
        )
    if _kind(treatment) not in "iu":
        raise ValueError(f"treatment must be an integer index, got dtype {treatment.dtype}")
    if _kind(intensity) not in "fiu":
        raise ValueError(f"intensity must be a number, got dtype {intensity.dtype}")
    if tensor:
        import torch  # a tensor was given: torch is loaded already

        treatment = treatment.long()
        value32 = intensity.to(treatment.device, torch.float32)
    else:
        with np.errstate(over="ignore"):  # a huge value becomes inf: refused as out of bounds
            value32 = intensity.astype(np.float32)
    # NaN fails both comparisons, so one test covers every bad value (one sync on a GPU)
    valid = (treatment >= 0) & (treatment < N_TREATMENTS) & (value32 >= _LOW32)
    if not bool((valid & (value32 <= _HIGH32)).all()):
        if tensor:
            treatment, value32 = treatment.cpu().numpy(), value32.cpu().numpy()
        _raise_action_error(treatment, value32)
    if tensor:
        return treatment, value32
    return treatment.astype(np.int64), intensity.astype(np.float64)


def _raise_action_error(treatment: np.ndarray, intensity: np.ndarray) -> None:
    """The `ValueError` for actions known to hold a bad value, naming the first rows."""

    def rows(bad: np.ndarray) -> list[int]:
        return np.flatnonzero(bad)[:5].tolist()

    bad = (treatment < 0) | (treatment >= N_TREATMENTS)
    if bad.any():
        raise ValueError(
            f"treatment out of range 0..{N_TREATMENTS - 1}: {treatment[bad][:5].tolist()} "
            f"(rows {rows(bad)})"
        )
    bad = np.isnan(intensity)
    if bad.any():
        raise ValueError(f"intensity must be finite, got NaN in rows {rows(bad)}")
    bad = (intensity < _LOW32) | (intensity > _HIGH32)
    raise ValueError(
        f"intensity outside [{INTENSITY_LOW}, {INTENSITY_HIGH}]: "
        f"{intensity[bad][:5].tolist()} (rows {rows(bad)})"
    )
