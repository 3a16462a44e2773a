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

Autoreset is `SAME_STEP`: when a patient's episode ends, the observation returned for that row
already belongs to the next patient; the last observation of the ended episode is in
`info["final_obs"]` (batched like the observation, valid where `info["_final_obs"]`). Every
`info` entry is an array over the N rows. `reset(options={"patients": array})` starts given
cohort patients (one per row), as `{"patient": i}` does for the single environment.
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
    SAFETY_FLAGS,
    RandomDraws,
    RewardWeights,
    make_episodes,
    restored_rng,
)
from mano_gym.envs.spaces import make_action_space, make_observation_space, read_actions

_DEFAULT = RewardWeights()
Observation = dict[str, torch.Tensor]


class ManoPatientVectorEnv(VectorEnv):
    """N patients stepped together; see the module docstring and `ManoPatientEnv`."""

    metadata = {"autoreset_mode": AutoresetMode.SAME_STEP, "render_modes": []}

    def __init__(
        self,
        num_envs: int,
        cohort: str | Path | Cohort = "train",
        dynamics: str = "world_model",
        action_space: str = "dict",
        max_weeks: int = 12,
        risk_weight: float = _DEFAULT.risk_weight,
        intensity_cost: tuple[float, ...] = _DEFAULT.intensity_cost,
        safety_penalty: float = _DEFAULT.safety_penalty,
        cure_bonus: float = _DEFAULT.cure_bonus,
        cure_threshold: float = _DEFAULT.cure_threshold,
        device: str = "cpu",
        world_model: str | Path | None = None,
        assets: str | Path | None = None,
        render_mode: str | None = None,
    ) -> None:
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
                risk_weight, tuple(intensity_cost), safety_penalty, cure_bonus, cure_threshold
            ),
            device,
            world_model,
            assets,
        )
        self.device, self.dynamics, self._form = self.episodes.device, dynamics, action_space
        self.single_observation_space = make_observation_space(max_weeks)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._rng = np.random.default_rng()
        self._generator = torch.Generator(self.device)
        self._generator.seed()
        self._draws = RandomDraws(self._rng, self._generator)
        self._started = False

    # --------------------------------------------------------------------- tensor path
    def reset_tensor(
        self, seed: int | None = None, patients: np.ndarray | None = None
    ) -> Observation:
        """Start N new episodes (random enrolled patients, or the cohort `patients`, one per
        row); returns the observations as tensors on the device."""
        if patients is not None:
            patients = np.asarray(patients)
            if patients.shape != (self.num_envs,) or not np.issubdtype(patients.dtype, np.integer):
                raise ValueError(
                    f"patients must be {self.num_envs} cohort indices, got {patients!r}"
                )
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._generator.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
            self._draws = RandomDraws(self._rng, self._generator)
        if patients is None:
            patients = self._draw(self.num_envs)
        self.episodes.start(np.arange(self.num_envs), patients.astype(np.int64))
        self._started = True
        return self.episodes.observation()

    def step_tensor(
        self, treatment: torch.Tensor, intensity: torch.Tensor
    ) -> tuple[Observation, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """One week for all N patients from tensors on the device: `treatment` (N,) integer,
        `intensity` (N,) or (N, 1) float. Returns observation, reward, terminated, truncated
        and info, all tensors (info's `final_obs` a dict of them)."""
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
        out = self.episodes.step(treatment, intensity, self._draws)
        done = out["terminated"] | out["truncated"]
        info: dict[str, Any] = {key: value for key, value in out.items() if key not in _RETURNED}
        info["final_obs"] = self.episodes.observation()
        info["_final_obs"] = done
        ended = np.flatnonzero(done.cpu().numpy())
        info["patient"] = torch.as_tensor(self.episodes.patient, device=self.device)
        if len(ended):
            self.episodes.start(ended, self._draw(len(ended)))
        return (
            self.episodes.observation(),
            out["reward"],
            out["terminated"],
            out["truncated"],
            info,
        )

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
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue from what `get_state` returned (of a vector env of the same size, cohort
        and dynamics); a `ValueError` names what does not fit, and changes nothing."""
        if not isinstance(state, dict) or {"episodes", "numpy_rng", "torch_generator"} - set(state):
            raise ValueError("not a saved vector-env state (get_state gives one)")
        rng = restored_rng(state["numpy_rng"], "numpy_rng")
        generator = torch.Generator(self.device)
        try:
            generator.set_state(state["torch_generator"])
        except (TypeError, RuntimeError) as error:
            raise ValueError(
                f"saved torch_generator is not a generator state on {self.device} ({error})"
            ) from None
        self.episodes.set_state(state["episodes"])
        self._rng, self._generator = rng, generator
        self._draws = RandomDraws(self._rng, self._generator)
        self._started = True

    def _draw(self, k: int) -> np.ndarray:
        return self.episodes.enrolled[self._rng.integers(len(self.episodes.enrolled), size=k)]

    # ---------------------------------------------------------------------- NumPy path
    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        options = dict(options or {})
        unknown = set(options) - {"patients"}
        if unknown:
            raise ValueError(
                f"unknown reset options {sorted(map(str, unknown))}; known: patients "
                "(one cohort index per row)"
            )
        obs = self.reset_tensor(seed, options.get("patients"))
        return _numpy(obs), {"patient": self.episodes.patient.copy()}

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        treatment, intensity = read_actions(actions, self._form, self.num_envs)
        obs, reward, terminated, truncated, info = self._step(
            torch.as_tensor(treatment, device=self.device),
            torch.as_tensor(intensity, dtype=torch.float32, device=self.device),
        )
        flags = info.pop("safety_flags").cpu().numpy()
        out = {key: _numpy(value) for key, value in info.items()}
        out.update({flag: flags[:, k] for k, flag in enumerate(SAFETY_FLAGS)})
        return (
            _numpy(obs),
            reward.cpu().numpy(),
            terminated.cpu().numpy(),
            truncated.cpu().numpy(),
            out,
        )


_RETURNED = ("reward", "terminated", "truncated")


def _numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numpy(v) for key, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.cpu().numpy()
    return value
