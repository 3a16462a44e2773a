"""`ManoPatientVectorEnv`: N patients of `ManoPatient-v0` stepped in one tensor operation.

`gymnasium.make_vec("ManoPatient-v0", num_envs=N, device="cpu" | "cuda")` returns it (the
registration's `vector_entry_point`). It runs the same `Episodes` as the single environment, so
the dynamics, observation and reward are the same code; only the random streams differ: one
NumPy generator and one torch generator (on the device) for the whole batch, both seeded by
`reset(seed=...)`.

| method                               | in / out                                           |
|--------------------------------------|----------------------------------------------------|
| `reset(seed=, options=)`             | NumPy observations (batched `Dict`), info          |
| `step(actions)`                      | NumPy in (`{"treatment": (N,), "intensity": (N, 1)}` |
|                                      | or the `Tuple` form), NumPy out                    |
| `reset_tensor(seed=)`                | observations as tensors on the device              |
| `step_tensor(treatment, intensity)`  | tensors in (`(N,)` long, `(N,)` float), tensors out, |
|                                      | no NumPy round trip (world-model dynamics)         |

Autoreset follows Gymnasium 1.x (`autoreset_mode=`, as `SyncVectorEnv` takes it):

| mode                  | when a row's episode ends                                         |
|-----------------------|-------------------------------------------------------------------|
| `NEXT_STEP` (default) | the step returns its last observation and info; the row's next    |
|                       | step starts the next patient (reward 0, not done, the reset info) |
|                       | and ignores that row's action                                     |
| `SAME_STEP`           | the step already returns the next patient's first observation and |
|                       | reset info; the ended episode's last ones are in `final_obs` and  |
|                       | `final_info` (valid where `_final_obs`, `_final_info`)            |
| `DISABLED`            | the row waits: the caller restarts it with                        |
|                       | `reset(options={"reset_mask": mask})` (a `RuntimeError` names the |
|                       | rows if it is stepped first); other rows keep their episodes      |

The NumPy path builds `info` exactly as `SyncVectorEnv` of single envs would: every key of the
single env's info (`mano_gym.envs.infos`) as an array over the rows with its `_key` mask, and
under `SAME_STEP` `final_obs` as an object array of single observations. The tensor path
returns the same keys as tensors without masks (every row has every key; the safety flags as
one `safety_flags` array), and `final_obs` batched. `step_info` picks each row's own step
values under `SAME_STEP`. `reset(options={"patients": array})` starts given cohort patients
(one per row), as `{"patient": i}` does for the single environment.

Building and stepping run torch on one thread for up to 256 patients, which also keeps the
process fork-safe: `AsyncVectorEnv` (default `fork` start method) can be built after an
environment exists in the parent. A parent that has itself run multi-threaded torch work
(a larger batch, a training step) should use `context="spawn"` or `"forkserver"`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from mano_gym.cohorts.cohort import Cohort
from mano_gym.dynamics.treatments import is_tensor
from mano_gym.envs.episodes import (
    DEFAULT_MAX_WEEKS,
    RETURNED,
    RandomDraws,
    RewardWeights,
    make_episodes,
    restored_rng,
)
from mano_gym.envs.infos import info_arrays
from mano_gym.envs.spaces import make_action_space, make_observation_space, read_actions

_DEFAULT = RewardWeights()
AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED)
Observation = dict[str, torch.Tensor]


class ManoPatientVectorEnv(VectorEnv):
    """N patients stepped together; see the module docstring and `ManoPatientEnv`."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int,
        cohort: str | Path | Cohort = "train",
        dynamics: str = "world_model",
        action_space: str = "dict",
        max_weeks: int = DEFAULT_MAX_WEEKS,
        risk_weight: float = _DEFAULT.risk_weight,
        intensity_cost: tuple[float, ...] = _DEFAULT.intensity_cost,
        safety_penalty: float = _DEFAULT.safety_penalty,
        cure_bonus: float = _DEFAULT.cure_bonus,
        cure_threshold: float = _DEFAULT.cure_threshold,
        cure_weeks: int = _DEFAULT.cure_weeks,
        dropout_penalty: float = _DEFAULT.dropout_penalty,
        device: str = "cpu",
        world_model: str | Path | None = None,
        assets: str | Path | None = None,
        render_mode: str | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self.autoreset_mode = _autoreset_mode(autoreset_mode)
        self.metadata = self.metadata | {"autoreset_mode": self.autoreset_mode}
        if render_mode is not None:
            raise ValueError("the batched environment does not render; use ManoPatientEnv")
        if isinstance(num_envs, (bool, np.bool_)) or not isinstance(num_envs, (int, np.integer)):
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.num_envs = int(num_envs)
        self.single_action_space = make_action_space(action_space)
        self.episodes = make_episodes(
            self.num_envs,
            cohort,
            dynamics,
            max_weeks,
            RewardWeights(
                risk_weight,
                tuple(intensity_cost),
                safety_penalty,
                cure_bonus,
                cure_threshold,
                cure_weeks,
                dropout_penalty,
            ),
            device,
            world_model,
            assets,
        )
        self.device, self.dynamics, self._form = self.episodes.device, dynamics, action_space
        self.single_observation_space = make_observation_space(max_weeks)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._generator = torch.Generator(self.device)
        self._generator.seed()
        self._use_rng(np.random.default_rng(), -1)
        # rows whose episode ended: NEXT_STEP restarts them next step, DISABLED waits for reset
        self._pending = np.zeros(self.num_envs, bool)
        self._started = False

    def _seed(self, seed: int) -> None:
        """Both random streams from `seed`."""
        self._generator.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        self._use_rng(np.random.default_rng(seed), seed)

    def _use_rng(self, rng: np.random.Generator, seed: int) -> None:
        """Draw from `rng` (patients, reference dynamics) from now on; `np_random_seed` is
        `seed` (-1: unknown, as Gymnasium reports it)."""
        self._rng, self._np_random, self._np_random_seed = rng, rng, seed
        self._draws = RandomDraws(self._rng, self._generator)

    # --------------------------------------------------------------------- tensor path
    def reset_tensor(
        self, seed: int | None = None, patients: np.ndarray | None = None
    ) -> Observation:
        """Start N new episodes (random enrolled patients, or the cohort `patients`, one per
        row); returns the observations as tensors on the device."""
        self._start_all(seed, patients)
        return self.episodes.observation()

    def _start_all(self, seed: int | None, patients: np.ndarray | None) -> dict[str, torch.Tensor]:
        """`reset_tensor`'s work; returns what `Episodes.start` reports of the first weeks."""
        if patients is not None:
            patients = np.asarray(patients)
            if patients.shape != (self.num_envs,) or not np.issubdtype(patients.dtype, np.integer):
                raise ValueError(
                    f"patients must be {self.num_envs} cohort indices, got {patients!r}"
                )
        if seed is not None:
            self._seed(seed)
        if patients is None:
            patients = self._draw(self.num_envs)
        first = self.episodes.start(np.arange(self.num_envs), patients.astype(np.int64))
        self._pending[:] = False
        self._started = True
        return first

    def step_tensor(
        self, treatment: torch.Tensor, intensity: torch.Tensor
    ) -> tuple[Observation, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """One week for all N patients from tensors on the device: `treatment` (N,) integer,
        `intensity` (N,) or (N, 1) float. Returns observation, reward, terminated, truncated
        and info, all tensors (under `SAME_STEP`, once an episode ends, info's `final_obs` and
        `final_info` are dicts of them)."""
        if not (is_tensor(treatment) and is_tensor(intensity)):
            raise TypeError("step_tensor takes torch tensors; step() takes NumPy actions")
        treatment, intensity = read_actions(
            {"treatment": treatment, "intensity": intensity}, "dict", self.num_envs
        )
        return self._step(treatment.to(self.device), intensity.to(self.device))

    def _step(
        self, treatment: torch.Tensor, intensity: torch.Tensor
    ) -> tuple[Observation, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """`step_tensor` on actions already checked."""
        if not self._started:
            raise RuntimeError("call reset() (or reset_tensor()) before the first step")
        restart = np.flatnonzero(self._pending)
        if len(restart) and self.autoreset_mode == AutoresetMode.DISABLED:
            raise RuntimeError(
                f"rows {restart.tolist()} have ended (autoreset_mode DISABLED): restart them "
                'with reset(options={"reset_mask": mask}) before the next step'
            )
        if len(restart) == self.num_envs:  # every row starts again: nothing to step
            out = self._restart(restart)
        else:
            out = self.episodes.step(treatment, intensity, self._draws)
            if len(restart):
                out = _replaced(out, restart, self._restart(restart))
        done = out["terminated"] | out["truncated"]
        info: dict[str, Any] = {key: value for key, value in out.items() if key not in RETURNED}
        ended = np.flatnonzero(done.cpu().numpy())
        if self.autoreset_mode != AutoresetMode.SAME_STEP:
            self._pending[:] = False
            self._pending[ended] = True
        elif len(ended):
            final = {"final_obs": self.episodes.observation(), "final_info": info}
            info = _replaced(info, ended, self._restart(ended))
            info |= final | {"_final_obs": done, "_final_info": done}
        return self.episodes.observation(), out["reward"], out["terminated"], out["truncated"], info

    def _restart(self, rows: np.ndarray) -> dict[str, torch.Tensor]:
        """Start new patients in `rows`; what `Episodes.start` returns for them."""
        return self.episodes.start(rows, self._draw(len(rows)))

    def get_state(self) -> dict[str, Any]:
        """Everything the N episodes and the random streams hold, as tensors and plain values
        (a checkpoint reads it back with `torch.load(weights_only=True)`): `set_state`
        continues from it exactly as if nothing had stopped."""
        if not self._started:
            raise RuntimeError("call reset() (or reset_tensor()) before saving a state")
        return {
            "episodes": self.episodes.get_state(),
            "numpy_rng": self._rng.bit_generator.state,
            "torch_generator": self._generator.get_state(),
            "pending_restart": torch.from_numpy(self._pending.copy()),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from what `get_state` returned (of a vector env of the same size, cohort
        and dynamics); a `ValueError` names what does not fit, and changes nothing."""
        keys = {"episodes", "numpy_rng", "torch_generator", "pending_restart"}
        if not isinstance(state, dict) or keys - set(state):
            raise ValueError("not a saved vector-env state (get_state gives one)")
        pending = state["pending_restart"]
        if not (
            isinstance(pending, torch.Tensor)
            and pending.dtype == torch.bool
            and pending.shape == (self.num_envs,)
        ):
            raise ValueError(f"saved pending_restart must be a bool tensor of {self.num_envs} rows")
        rng = restored_rng(state["numpy_rng"], "numpy_rng")
        generator = torch.Generator(self.device)
        try:
            generator.set_state(state["torch_generator"])
        except (TypeError, RuntimeError) as error:
            raise ValueError(
                f"saved torch_generator is not a generator state on {self.device} ({error})"
            ) from None
        self.episodes.set_state(state["episodes"])
        self._generator = generator
        self._use_rng(rng, -1)
        self._pending = pending.numpy().copy()
        self._started = True

    def _draw(self, k: int) -> np.ndarray:
        return self.episodes.enrolled[self._rng.integers(len(self.episodes.enrolled), size=k)]

    # ---------------------------------------------------------------------- NumPy path
    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        options = dict(options or {})
        unknown = set(options) - {"patients", "reset_mask"}
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(map(str, unknown))}; known: patients "
                "(one cohort index per row), reset_mask (the rows to restart)"
            )
        if "reset_mask" not in options:
            first = self._start_all(seed, options.get("patients"))
            return _numpy(self.episodes.observation()), _masked(info_arrays(first, self.dynamics))
        mask = options["reset_mask"]
        if not (
            isinstance(mask, np.ndarray) and mask.dtype == bool and mask.shape == (self.num_envs,)
        ):
            raise ValueError(
                f"reset_mask must be a bool array of {self.num_envs} rows, got {mask!r}"
            )
        if not self._started or "patients" in options or not mask.any():
            raise ValueError(
                "reset_mask restarts some rows of running episodes: call reset() first, give at "
                "least one row, and no patients"
            )
        if seed is not None:
            self._seed(seed)
        rows = np.flatnonzero(mask)
        first = info_arrays(self._restart(rows), self.dynamics)
        self._pending[rows] = False
        info = {key: np.zeros((self.num_envs, *v.shape[1:]), v.dtype) for key, v in first.items()}
        for key, value in first.items():
            info[key][rows] = value
        return _numpy(self.episodes.observation()), _masked(info, mask)

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        treatment, intensity = read_actions(actions, self._form, self.num_envs)
        obs, reward, terminated, truncated, info = self._step(
            torch.as_tensor(treatment, device=self.device),
            torch.as_tensor(intensity, dtype=torch.float32, device=self.device),
        )
        out = _masked(info_arrays(info, self.dynamics))
        if "final_info" in info:  # SAME_STEP, some episode ended: as SyncVectorEnv has them
            ended = info["_final_obs"].cpu().numpy()
            final_info = info_arrays(info["final_info"], self.dynamics)
            out["final_info"] = _masked({k: _only(v, ended) for k, v in final_info.items()}, ended)
            final_obs = np.full(self.num_envs, None, dtype=object)
            rows = _numpy(info["final_obs"])
            for row in np.flatnonzero(ended):
                final_obs[row] = {key: value[row] for key, value in rows.items()}
            out |= {"final_obs": final_obs, "_final_obs": ended, "_final_info": ended.copy()}
        return (
            _numpy(obs),
            reward.cpu().numpy().astype(np.float64),
            terminated.cpu().numpy(),
            truncated.cpu().numpy(),
            out,
        )


def step_info(info: dict[str, Any]) -> dict[str, Any]:
    """Under `SAME_STEP` autoreset, each row's own step values (NumPy or tensor `info`): the
    ended episodes' `final_info` where an episode ended, since the top level there already
    describes the next patient; `info` itself under `NEXT_STEP`."""
    final = info.get("final_info")
    if final is None:
        return info
    mask = info["_final_info"]
    where = torch.where if isinstance(mask, torch.Tensor) else np.where
    return {
        key: where(mask.reshape(-1, *[1] * (value.ndim - 1)), final[key], value)
        for key, value in info.items()
        if key in final
    }


def _autoreset_mode(value: AutoresetMode | str) -> AutoresetMode:
    try:
        mode = AutoresetMode(value)
    except ValueError:
        mode = None
    if mode not in AUTORESET_MODES:
        raise ValueError(
            f"unknown autoreset_mode {value!r}; choose one of "
            f"{', '.join(f'AutoresetMode.{m.name} ({m.value!r})' for m in AUTORESET_MODES)}"
        )
    return mode


def _replaced(
    values: dict[str, torch.Tensor], rows: np.ndarray, new: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """`values` with `rows` of each of its keys replaced by `new`'s (new tensors: what was
    returned before stays as it was)."""
    index = torch.as_tensor(rows, device=next(iter(new.values())).device)
    out = dict(values)
    for key in values.keys() & new.keys():
        out[key] = values[key].clone()
        out[key][index] = new[key].to(values[key].dtype)
    return out


def _masked(arrays: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict[str, Any]:
    """`arrays` with a `_key` mask each (`mask`, default every row), as Gymnasium pairs them."""
    out: dict[str, Any] = {}
    for key, value in arrays.items():
        out[key] = value
        out[f"_{key}"] = np.ones(len(value), bool) if mask is None else mask.copy()
    return out


def _only(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`values` where `rows` is true, zeros elsewhere (the rows `SyncVectorEnv` leaves unset)."""
    return np.where(rows.reshape(-1, *[1] * (values.ndim - 1)), values, np.zeros_like(values))


def _numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numpy(v) for key, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.cpu().numpy()
    return value
