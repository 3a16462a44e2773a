"""Flat action and observation forms over the hybrid ones, for RL libraries without hybrid
actions or `Dict` observations.

`ManoPatient-v0` takes a discrete treatment and a continuous intensity together; most libraries
(Stable-Baselines3 among them) take one `Box` or one `MultiDiscrete`, and DQN-family agents one
`Discrete`. These wrappers translate from such a flat action to the environment's own `Dict`
(or `Tuple`) action, and back with `reverse_action` (to replay logged or heuristic actions as
flat ones).

| single env                   | vector env                  | action space                |
|------------------------------|-----------------------------|-----------------------------|
| `BoxActionWrapper`           | `VectorBoxAction`           | `Box(-1, 1, (6,), float32)` |
| `MultiDiscreteActionWrapper` | `VectorMultiDiscreteAction` | `MultiDiscrete([5, bins])`  |
| `DiscreteActionWrapper`      | `VectorDiscreteAction`      | `Discrete(5 * bins)`        |

What each loses is in its docstring: the treatment chosen by an argmax of scores (`Box`), the
intensity quantised and chosen apart from the treatment (`MultiDiscrete`), the intensity
quantised (`Discrete`).

The single-env wrappers go inside `gymnasium.make_vec(..., vectorization_mode="sync" |
"async", wrappers=[...])`; the vector ones wrap any vector env of `ManoPatient-v0`, the native
one included (`make_vec` refuses `wrappers=` for it). For flat observations use Gymnasium's
own `gymnasium.wrappers.FlattenObservation` (single env) or
`gymnasium.wrappers.vector.FlattenObservation` (vector env, `NEXT_STEP` autoreset): one
`float32` vector of 60 in `gymnasium.spaces.flatten`'s order (each key in the `Dict` space's
order, C order inside). What it loses is the layout: which entry is which day of which signal
is only in that order, so a network that should see the week as 7 days of 5 signals (the LSTM
policies) must unflatten it again.

All validate what they are given, as the environment does: a malformed flat action (wrong
shape, NaN, out of its space) raises a `ValueError` naming the problem; nothing is clipped.

`decode_box`, `decode_multidiscrete` and `decode_discrete` are the same mappings over a batch
of flat actions (what a trained model predicts for many patients at once); every wrapper's
`action()` (or `actions()`) calls them, so each mapping is written once.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import VectorActionWrapper, VectorEnv
from gymnasium.vector.utils import batch_space

from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.spaces import ACTION_FORMS, make_action_space, read_actions

_INTENSITY_SPAN = INTENSITY_HIGH - INTENSITY_LOW


def hybrid_action_form(env: gym.Env | VectorEnv) -> str:
    """`"dict"` or `"tuple"`: which form of the hybrid action `env` (a single env, or a vector
    env by its `single_action_space`) takes; a `ValueError` if it is not the hybrid one."""
    space = env.single_action_space if isinstance(env, VectorEnv) else env.action_space
    for form in ACTION_FORMS:
        if space == make_action_space(form):
            return form
    raise ValueError(
        f"expected an environment with Mano's hybrid action space {make_action_space('dict')} "
        f"(or its Tuple form), got {space}"
    )


class _HybridActionWrapper(gym.ActionWrapper):
    """What the single-env wrappers share: the form of the hybrid action they translate to."""

    def __init__(self, env: gym.Env) -> None:
        # The wrapped env's own space, not `env.unwrapped`'s: another wrapper in between may
        # already have changed it, and then the form we produce would be wrong.
        self._form = hybrid_action_form(env)
        super().__init__(env)

    def _hybrid(self, treatment: int, intensity: float) -> dict[str, Any] | tuple[Any, Any]:
        # np.int64 and a float32 (1,) array: exactly what the hybrid space's `sample()` gives.
        batch = _batched_hybrid(self._form, np.array([treatment]), np.array([intensity]))
        if self._form == "dict":
            return {key: value[0] for key, value in batch.items()}
        return tuple(value[0] for value in batch)

    def _parse(self, action: Any) -> tuple[int, float]:
        treatment, intensity = read_actions(action, self._form)
        return int(treatment[0]), float(intensity[0])


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


def _batch(actions: Any, width: int, kind: str) -> np.ndarray:
    """`actions` as an `(n, width)` array of numbers of `kind` (see `_flat`)."""
    array = np.asarray(actions)
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"actions must have shape (n, {width}), got shape {array.shape}")
    return _flat(array, array.shape, kind)


def _show(values: np.ndarray, bad: np.ndarray) -> str:
    """The offending values: the one action itself in a batch of one (as the wrappers'
    `action()` reports it), else the first five offending rows and their indices."""
    if len(values) == 1:
        return str(values[0].tolist())
    rows = np.flatnonzero(bad)[:5]
    return f"{values[rows].tolist()} (rows {rows.tolist()})"


def check_intensity_bins(intensity_bins: Any) -> int:
    """`intensity_bins` as an int; a `ValueError` unless it is an integer of at least 2."""
    if isinstance(intensity_bins, bool) or not isinstance(intensity_bins, (int, np.integer)):
        raise ValueError(f"intensity_bins must be an integer, got {intensity_bins!r}")
    if intensity_bins < 2:
        raise ValueError(
            f"intensity_bins must be at least 2 (both ends of the range), got {intensity_bins}"
        )
    return int(intensity_bins)


def intensity_levels(intensity_bins: int) -> np.ndarray:
    """The intensity each of `intensity_bins` bins stands for: evenly spaced over [0.1, 1.0]."""
    return np.linspace(INTENSITY_LOW, INTENSITY_HIGH, check_intensity_bins(intensity_bins))


def decode_box(actions: Any) -> tuple[np.ndarray, np.ndarray]:
    """`(treatment (n,) int64, intensity (n,) float64)` of a batch of `BoxActionWrapper`
    actions `(n, N_TREATMENTS + 1)`: the argmax of entries 0-4 (a tie to the lower index) and
    entry 5 mapped linearly from [-1, 1] onto [0.1, 1.0]. Both ends, -1 and 1 exactly, are in
    range; anything outside, NaN or inf raises a `ValueError` (nothing is clipped)."""
    array = _batch(actions, N_TREATMENTS + 1, "f").astype(np.float64)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ValueError(f"action must be finite, got {_show(array, bad)}")
    bad = (array < -1.0).any(axis=1) | (array > 1.0).any(axis=1)
    if bad.any():
        raise ValueError(f"action outside [-1, 1]: {_show(array, bad)}")
    treatment = np.argmax(array[:, :N_TREATMENTS], axis=1).astype(np.int64)
    intensity = INTENSITY_LOW + (array[:, N_TREATMENTS] + 1.0) / 2.0 * _INTENSITY_SPAN
    # only against float rounding: the entry has been checked to lie in [-1, 1]
    return treatment, np.clip(intensity, INTENSITY_LOW, INTENSITY_HIGH)


def decode_multidiscrete(actions: Any, intensity_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """`(treatment (n,) int64, intensity (n,) float64)` of a batch of
    `MultiDiscreteActionWrapper` actions `(n, 2)`, `[treatment, bin]` each, bin k standing for
    `intensity_levels(intensity_bins)[k]`; an index out of range raises a `ValueError`."""
    levels = intensity_levels(intensity_bins)
    array = _batch(actions, 2, "i").astype(np.int64)
    treatment, level = array[:, 0], array[:, 1]
    bad = (treatment < 0) | (treatment >= N_TREATMENTS)
    if bad.any():
        raise ValueError(f"treatment out of range 0..{N_TREATMENTS - 1}: {_show(treatment, bad)}")
    bad = (level < 0) | (level >= len(levels))
    if bad.any():
        raise ValueError(f"intensity bin out of range 0..{len(levels) - 1}: {_show(level, bad)}")
    return treatment, levels[level]


def decode_discrete(actions: Any, intensity_bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """`(treatment (n,) int64, intensity (n,) float64)` of a batch of `DiscreteActionWrapper`
    actions `(n,)`: index k is treatment `k // intensity_bins` at the intensity of bin
    `k % intensity_bins`; an index out of range raises a `ValueError`."""
    bins = check_intensity_bins(intensity_bins)
    array = np.asarray(actions)
    if array.ndim != 1:
        raise ValueError(f"actions must have shape (n,), got shape {array.shape}")
    index = _flat(array, array.shape, "i").astype(np.int64)
    bad = (index < 0) | (index >= N_TREATMENTS * bins)
    if bad.any():
        raise ValueError(f"action out of range 0..{N_TREATMENTS * bins - 1}: {_show(index, bad)}")
    return decode_multidiscrete(np.stack([index // bins, index % bins], axis=1), bins)


def _batched_hybrid(
    form: str, treatment: np.ndarray, intensity: np.ndarray
) -> dict[str, np.ndarray] | tuple[np.ndarray, np.ndarray]:
    """A batch of hybrid actions in `form` (as the batched hybrid space's `sample()` gives)."""
    # float32 rounding must not step outside the bounds the environment checks
    bounds = np.float32(INTENSITY_LOW), np.float32(INTENSITY_HIGH)
    value = np.clip(intensity.astype(np.float32), *bounds)[:, None]
    treatment = treatment.astype(np.int64)
    return {"treatment": treatment, "intensity": value} if form == "dict" else (treatment, value)


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
        array = _flat(act, (N_TREATMENTS + 1,), "f")
        treatment, intensity = decode_box(array[None])
        return self._hybrid(int(treatment[0]), float(intensity[0]))

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


class _BinnedActionWrapper(_HybridActionWrapper):
    """What the wrappers with intensity bins share: the bins and rounding to the nearest."""

    def __init__(self, env: gym.Env, intensity_bins: int) -> None:
        check_intensity_bins(intensity_bins)
        gym.utils.RecordConstructorArgs.__init__(self, intensity_bins=intensity_bins)
        _HybridActionWrapper.__init__(self, env)
        self.intensity_bins = int(intensity_bins)
        self.intensities = intensity_levels(self.intensity_bins)

    def _nearest(self, action: Any) -> tuple[int, int]:
        """`(treatment, bin)` of the environment's `action`, with the bin nearest its intensity
        (the lower one on a tie)."""
        treatment, intensity = self._parse(action)
        return treatment, int(np.argmin(np.abs(self.intensities - intensity)))


class MultiDiscreteActionWrapper(_BinnedActionWrapper, gym.utils.RecordConstructorArgs):
    """The hybrid action as `MultiDiscrete([N_TREATMENTS, intensity_bins])`: a treatment index
    and an intensity bin, bin k standing for `np.linspace(0.1, 1.0, intensity_bins)[k]`.

    What is lost: intensity is quantised to `intensity_bins` levels, a step of
    `0.9 / (intensity_bins - 1)` (0.1 with the default 10 bins; `intensity_step`); and a
    factorised policy (SB3's, which samples each dimension independently) picks the intensity
    independently of the treatment, so it cannot prefer, say, a high dose of the app but a low
    one of medication within one state. `reverse_action` rounds to the nearest bin.
    """

    def __init__(self, env: gym.Env, intensity_bins: int = 10) -> None:
        _BinnedActionWrapper.__init__(self, env, intensity_bins)
        self.intensity_step = _INTENSITY_SPAN / (self.intensity_bins - 1)
        self.action_space = spaces.MultiDiscrete([N_TREATMENTS, self.intensity_bins])

    def action(self, act: Any) -> dict[str, Any] | tuple[Any, Any]:
        """The environment's action for `[treatment, bin]`; a `ValueError` names what is
        wrong."""
        array = _flat(act, (2,), "i")
        treatment, intensity = decode_multidiscrete(array[None], self.intensity_bins)
        return self._hybrid(int(treatment[0]), float(intensity[0]))

    def reverse_action(self, action: Any) -> np.ndarray:
        """`[treatment, bin]` of the environment's `action`, with the bin nearest its
        intensity (the lower one on a tie)."""
        return np.array(self._nearest(action), np.int64)


class DiscreteActionWrapper(_BinnedActionWrapper, gym.utils.RecordConstructorArgs):
    """The hybrid action as one `Discrete(N_TREATMENTS * intensity_bins)`, for DQN-family
    agents: index k is treatment `k // intensity_bins` at intensity bin `k % intensity_bins`
    (bin b standing for `np.linspace(0.1, 1.0, intensity_bins)[b]`).

    What is lost: intensity is quantised to `intensity_bins` levels, as with
    `MultiDiscreteActionWrapper`, but treatment and intensity are chosen together, so a
    policy can prefer a high dose of one treatment and a low one of another. `control` takes
    `intensity_bins` indices that all mean the same (control has no intensity to speak of), a
    small redundancy kept so that the encoding stays one product. `reverse_action` rounds to
    the nearest bin.
    """

    def __init__(self, env: gym.Env, intensity_bins: int = 10) -> None:
        _BinnedActionWrapper.__init__(self, env, intensity_bins)
        self.action_space = spaces.Discrete(N_TREATMENTS * self.intensity_bins)

    def action(self, act: Any) -> dict[str, Any] | tuple[Any, Any]:
        """The environment's action for index `act`; a `ValueError` names what is wrong."""
        index = _flat(act, (), "i")
        treatment, intensity = decode_discrete(index[None], self.intensity_bins)
        return self._hybrid(int(treatment[0]), float(intensity[0]))

    def reverse_action(self, action: Any) -> np.int64:
        """The index of the environment's `action`, with the bin nearest its intensity."""
        treatment, level = self._nearest(action)
        return np.int64(treatment * self.intensity_bins + level)


class _VectorHybridAction(VectorActionWrapper):
    """What the vector wrappers share: the batched form they translate to, through `decode`
    (one of the batch decoders above)."""

    def __init__(
        self,
        env: VectorEnv,
        single_space: spaces.Space,
        decode: Callable[[Any], tuple[np.ndarray, np.ndarray]],
    ) -> None:
        self._form = hybrid_action_form(env)
        super().__init__(env)
        self.single_action_space = single_space
        self.action_space = batch_space(single_space, env.num_envs)
        self._decode = decode

    def actions(self, actions: Any) -> dict[str, np.ndarray] | tuple[np.ndarray, np.ndarray]:
        """The vector env's batched hybrid actions for a batch of flat ones."""
        treatment, intensity = self._decode(actions)
        if len(treatment) != self.num_envs:
            raise ValueError(f"expected {self.num_envs} actions, got {len(treatment)}")
        return _batched_hybrid(self._form, treatment, intensity)


class VectorBoxAction(_VectorHybridAction):
    """`BoxActionWrapper` for a vector env: actions `(num_envs, 6)` in [-1, 1]."""

    def __init__(self, env: VectorEnv) -> None:
        space = spaces.Box(-1.0, 1.0, (N_TREATMENTS + 1,), np.float32)
        super().__init__(env, space, decode_box)


class VectorMultiDiscreteAction(_VectorHybridAction):
    """`MultiDiscreteActionWrapper` for a vector env: actions `(num_envs, 2)`, `[treatment,
    bin]` each."""

    def __init__(self, env: VectorEnv, intensity_bins: int = 10) -> None:
        self.intensity_bins = check_intensity_bins(intensity_bins)
        space = spaces.MultiDiscrete([N_TREATMENTS, self.intensity_bins])
        super().__init__(env, space, partial(decode_multidiscrete, intensity_bins=intensity_bins))


class VectorDiscreteAction(_VectorHybridAction):
    """`DiscreteActionWrapper` for a vector env: actions `(num_envs,)`, one index each."""

    def __init__(self, env: VectorEnv, intensity_bins: int = 10) -> None:
        self.intensity_bins = check_intensity_bins(intensity_bins)
        space = spaces.Discrete(N_TREATMENTS * self.intensity_bins)
        super().__init__(env, space, partial(decode_discrete, intensity_bins=intensity_bins))
