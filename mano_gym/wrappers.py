"""Flat action spaces over the hybrid one, for RL libraries without hybrid actions.

`ManoPatient-v0` takes a discrete treatment and a continuous intensity together; most libraries
(Stable-Baselines3 among them) take one `Box` or one `MultiDiscrete`. These wrappers translate
from such a flat action to the environment's own `Dict` (or `Tuple`) action, and back with
`reverse_action` (to replay logged or heuristic actions as flat ones).

| wrapper                      | action space                | treatment     | intensity         |
|------------------------------|-----------------------------|---------------|-------------------|
| `BoxActionWrapper`           | `Box(-1, 1, (6,), float32)` | argmax of     | last entry,       |
|                              |                             | scores 0-4    | continuous        |
| `MultiDiscreteActionWrapper` | `MultiDiscrete([5, bins])`  | first entry   | one of `bins`     |
|                              |                             |               | evenly spaced     |

Both validate what they are given, as the environment does: a malformed flat action (wrong
shape, NaN, out of its space) raises a `ValueError` naming the problem; nothing is clipped.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from mano_gym.env import ACTION_FORMS, make_action_space, parse_action
from mano_gym.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS

_INTENSITY_SPAN = INTENSITY_HIGH - INTENSITY_LOW


def hybrid_action_form(env: gym.Env) -> str:
    """`"dict"` or `"tuple"`: which form of the hybrid action `env` takes; a `ValueError` if
    its action space is not the hybrid one."""
    for form in ACTION_FORMS:
        if env.action_space == make_action_space(form):
            return form
    raise ValueError(
        f"expected an environment with Mano's hybrid action space {make_action_space('dict')} "
        f"(or its Tuple form), got {env.action_space}"
    )


class _HybridActionWrapper(gym.ActionWrapper):
    """What both wrappers share: the form of the hybrid action they translate to."""

    def __init__(self, env: gym.Env) -> None:
        # The wrapped env's own space, not `env.unwrapped`'s: another wrapper in between may
        # already have changed it, and then the form we produce would be wrong.
        self._form = hybrid_action_form(env)
        super().__init__(env)

    def _hybrid(self, treatment: int, intensity: float) -> dict[str, Any] | tuple[Any, Any]:
        # np.int64 and a float32 (1,) array: exactly what the hybrid space's `sample()` gives.
        treatment = np.int64(treatment)
        value = np.array([intensity], np.float32)
        # float32 rounding must not step outside the bounds the environment checks
        value = np.clip(value, np.float32(INTENSITY_LOW), np.float32(INTENSITY_HIGH))
        if self._form == "dict":
            return {"treatment": treatment, "intensity": value}
        return (treatment, value)

    def _parse(self, action: Any) -> tuple[int, float]:
        return parse_action(action, self._form)


def _flat(act: Any, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """`act` as an array of `shape`, numbers of `kind` (`"f"` any real, `"i"` integers)."""
    array = np.asarray(act)
    if array.shape != shape:
        raise ValueError(f"action must have shape {shape}, got shape {array.shape}")
    allowed = "fiu" if kind == "f" else "iu"
    if array.dtype.kind not in allowed:
        what = "numbers" if kind == "f" else "integers"
        raise ValueError(f"action must hold {what}, got dtype {array.dtype}")
    return array


class BoxActionWrapper(_HybridActionWrapper, gym.utils.RecordConstructorArgs):
    """The hybrid action as `Box(-1, 1, (N_TREATMENTS + 1,), float32)`, symmetric as
    Stable-Baselines3 recommends: entries 0-4 score the treatments (the highest is given; a tie
    goes to the lower index) and entry 5 maps linearly from [-1, 1] onto the intensity range
    [0.1, 1.0].

    What is lost: the treatment is an argmax over five scores, a choice with no gradient of its
    own: a Gaussian policy learns it only through whichever score is highest, and moving a
    losing score changes nothing until it overtakes. Ties (rare in sampled scores, but exact at
    the box's centre, all zeros) go to the lower index, so the centre means `control`. Intensity
    keeps its full, continuous resolution.

    Values outside [-1, 1] raise rather than clip: SB3's PPO already clips its samples to the
    box, so an out-of-range value here is a caller's mistake.
    """

    def __init__(self, env: gym.Env) -> None:
        # recorded, so that `env.spec` (and gymnasium's `check_env`) can remake the wrapped env
        gym.utils.RecordConstructorArgs.__init__(self)
        _HybridActionWrapper.__init__(self, env)
        self.action_space = spaces.Box(-1.0, 1.0, (N_TREATMENTS + 1,), np.float32)

    def action(self, act: Any) -> dict[str, Any] | tuple[Any, Any]:
        """The environment's action for flat `act`; a `ValueError` names what is wrong."""
        array = _flat(act, (N_TREATMENTS + 1,), "f").astype(np.float64)
        if not np.all(np.isfinite(array)):
            raise ValueError(f"action must be finite, got {array.tolist()}")
        if array.min() < -1.0 or array.max() > 1.0:
            raise ValueError(f"action outside [-1, 1]: {array.tolist()}")
        treatment = int(np.argmax(array[:N_TREATMENTS]))
        intensity = INTENSITY_LOW + (array[N_TREATMENTS] + 1.0) / 2.0 * _INTENSITY_SPAN
        return self._hybrid(treatment, intensity)

    def reverse_action(self, action: Any) -> np.ndarray:
        """A flat action that `action()` maps back to the environment's `action`: +1 for the
        treatment given, -1 for the others, and the intensity rescaled to [-1, 1]."""
        treatment, intensity = self._parse(action)
        flat = np.full(N_TREATMENTS + 1, -1.0, np.float32)
        flat[treatment] = 1.0
        # clipped only against float rounding: `_parse` has already checked the bounds
        scaled = 2.0 * (intensity - INTENSITY_LOW) / _INTENSITY_SPAN - 1.0
        flat[N_TREATMENTS] = np.clip(scaled, -1.0, 1.0)
        return flat


class MultiDiscreteActionWrapper(_HybridActionWrapper, gym.utils.RecordConstructorArgs):
    """The hybrid action as `MultiDiscrete([N_TREATMENTS, intensity_bins])`: a treatment index
    and an intensity bin, bin k standing for `np.linspace(0.1, 1.0, intensity_bins)[k]`.

    What is lost: intensity is quantised to `intensity_bins` levels, a step of
    `0.9 / (intensity_bins - 1)` (0.1 with the default 10 bins; `intensity_step`); and a
    factorised policy (SB3's, which samples each dimension independently) picks the intensity
    independently of the treatment, so it cannot prefer, say, a high dose of the app but a low
    one of medication within one state. `reverse_action` rounds to the nearest bin.
    """

    def __init__(self, env: gym.Env, intensity_bins: int = 10) -> None:
        if isinstance(intensity_bins, bool) or not isinstance(intensity_bins, (int, np.integer)):
            raise ValueError(f"intensity_bins must be an integer, got {intensity_bins!r}")
        if intensity_bins < 2:
            raise ValueError(
                f"intensity_bins must be at least 2 (both ends of the range), got {intensity_bins}"
            )
        gym.utils.RecordConstructorArgs.__init__(self, intensity_bins=intensity_bins)
        _HybridActionWrapper.__init__(self, env)
        self.intensity_bins = int(intensity_bins)
        self.intensities = np.linspace(INTENSITY_LOW, INTENSITY_HIGH, self.intensity_bins)
        self.intensity_step = _INTENSITY_SPAN / (self.intensity_bins - 1)
        self.action_space = spaces.MultiDiscrete([N_TREATMENTS, self.intensity_bins])

    def action(self, act: Any) -> dict[str, Any] | tuple[Any, Any]:
        """The environment's action for `[treatment, bin]`; a `ValueError` names what is
        wrong."""
        treatment, level = _flat(act, (2,), "i").tolist()
        if not 0 <= treatment < N_TREATMENTS:
            raise ValueError(f"treatment out of range 0..{N_TREATMENTS - 1}: {treatment}")
        if not 0 <= level < self.intensity_bins:
            raise ValueError(f"intensity bin out of range 0..{self.intensity_bins - 1}: {level}")
        return self._hybrid(treatment, self.intensities[level])

    def reverse_action(self, action: Any) -> np.ndarray:
        """`[treatment, bin]` of the environment's `action`, with the bin nearest its
        intensity (the lower one on a tie)."""
        treatment, intensity = self._parse(action)
        level = int(np.argmin(np.abs(self.intensities - intensity)))
        return np.array([treatment, level], np.int64)
