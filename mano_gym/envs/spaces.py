"""The spaces of `ManoPatient-v0` and the one reader of its hybrid actions.

`read_actions` turns an action of either form (`Dict` or `Tuple`), single or batched, NumPy or
torch, into checked `(treatment, intensity)` arrays through `mano_gym.dynamics.treatments.
check_actions`; the single env, the vector env and the wrappers all read actions through it,
so every malformed action gets the same `ValueError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from generators.signals import N_SIGNALS, WINDOW_DAYS
from mano_gym.cohorts.cohort import STATIC_FEATURES
from mano_gym.dynamics.treatments import (
    INTENSITY_HIGH,
    INTENSITY_LOW,
    N_TREATMENTS,
    check_actions,
    is_tensor,
)

ACTION_FORMS = ("dict", "tuple")


def make_action_space(form: str = "dict") -> spaces.Space:
    """The hybrid action space, as a `Dict` (default) or the equivalent `Tuple`."""
    treatment = spaces.Discrete(N_TREATMENTS)
    intensity = spaces.Box(INTENSITY_LOW, INTENSITY_HIGH, (1,), np.float32)
    if form == "dict":
        return spaces.Dict({"treatment": treatment, "intensity": intensity})
    if form == "tuple":
        return spaces.Tuple((treatment, intensity))
    raise ValueError(f"unknown action_space {form!r}; choose one of {', '.join(ACTION_FORMS)}")


def make_observation_space(max_weeks: int) -> spaces.Dict:
    """The observation space of one patient."""
    return spaces.Dict(
        {
            "static": spaces.Box(0.0, 1.0, (len(STATIC_FEATURES),), np.float32),
            "signals": spaces.Box(0.0, 1.0, (WINDOW_DAYS, N_SIGNALS), np.float32),
            "risk": spaces.Box(0.0, 1.0, (3,), np.float32),
            "exposure": spaces.Box(0.0, 1.0, (N_TREATMENTS,), np.float32),
            "week": spaces.Box(0.0, float(max_weeks), (1,), np.float32),
        }
    )


def split_action(action: Any, form: str) -> tuple[Any, Any]:
    """The treatment and intensity parts of an action (or a batch) in `form`, unchecked; a
    `ValueError` if it is not a dict with exactly those keys (or a pair, for `"tuple"`)."""
    if form == "dict":
        if not isinstance(action, dict):
            raise ValueError(
                f"action must be a dict with keys 'treatment' and 'intensity', "
                f"got {type(action).__name__}"
            )
        if set(action) != {"treatment", "intensity"}:
            raise ValueError(
                f"action keys must be 'treatment' and 'intensity', got {sorted(map(str, action))}"
            )
        return action["treatment"], action["intensity"]
    if not isinstance(action, (tuple, list)) or len(action) != 2:
        raise ValueError("action must be a (treatment, intensity) pair")
    return action[0], action[1]


def read_actions(action: Any, form: str, n: int | None = None):
    """Checked `(treatment, intensity)` of one action (`n=None`: a treatment integer and an
    intensity of shape `(1,)` or `()`) or of a batch of `n` (treatments `(n,)`, intensities
    `(n,)` or `(n, 1)`), in `form`. Returns `check_actions`'s arrays (tensors if tensors were
    given); a `ValueError` names what is wrong."""
    treatment, intensity = split_action(action, form)
    if is_tensor(treatment) or is_tensor(intensity):  # both as tensors, on one device
        import torch  # a tensor was given: torch is loaded already

        device = (treatment if is_tensor(treatment) else intensity).device
        try:
            treatment = torch.as_tensor(treatment, device=device)
            intensity = torch.as_tensor(intensity, device=device)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"treatment and intensity must be numbers ({error})") from None
    else:
        treatment, intensity = np.asarray(treatment), np.asarray(intensity)
    if n is None:
        if treatment.ndim > 1 or tuple(treatment.shape) not in ((), (1,)):
            raise ValueError(f"treatment must be one integer, got shape {tuple(treatment.shape)}")
        if tuple(intensity.shape) not in ((1,), ()):
            raise ValueError(f"intensity must have shape (1,), got shape {tuple(intensity.shape)}")
        return check_actions(treatment.reshape(1), intensity.reshape(1), 1)
    if tuple(intensity.shape) == (n, 1):  # only (n, 1): a reshape would take any n numbers
        intensity = intensity[:, 0]
    return check_actions(treatment, intensity, n)
