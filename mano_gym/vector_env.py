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

from generators.signals import N_SIGNALS, WINDOW_DAYS
from mano_gym.cohort import Cohort
from mano_gym.env import make_action_space, make_episodes, make_observation_space, split_action
from mano_gym.episodes import SAFETY_FLAGS, RewardWeights
from mano_gym.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS, check_actions

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
        render_mode: str | None = None,
    ) -> None:
        if render_mode is not None:
            raise ValueError("the batched environment does not render; use ManoPatientEnv")
        self.num_envs = int(num_envs)
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
        )
        self.device, self.dynamics, self._form = self.episodes.device, dynamics, action_space
        self.single_action_space = make_action_space(action_space)
        self.single_observation_space = make_observation_space(max_weeks)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._rng = np.random.default_rng()
        self._generator = torch.Generator(self.device)
        self._generator.seed()

    # --------------------------------------------------------------------- tensor path
    def reset_tensor(
        self, seed: int | None = None, patients: np.ndarray | None = None
    ) -> Observation:
        """Start N new episodes (random enrolled patients, or the cohort `patients`, one per
        row); returns the observations as tensors on the device."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
            self._generator.manual_seed(int(np.random.SeedSequence(seed).generate_state(1)[0]))
        if patients is None:
            patients = self._draw(self.num_envs)
        patients = np.asarray(patients)
        if patients.shape != (self.num_envs,) or not np.issubdtype(patients.dtype, np.integer):
            raise ValueError(f"patients must be {self.num_envs} cohort indices, got {patients!r}")
        self.episodes.start(np.arange(self.num_envs), patients)
        return self.episodes.observation()

    def step_tensor(
        self, treatment: torch.Tensor, intensity: torch.Tensor
    ) -> tuple[Observation, torch.Tensor, torch.Tensor, torch.Tensor, dict[str, Any]]:
        """One week for all N patients from tensors on the device: `treatment` (N,) integer,
        `intensity` (N,) or (N, 1) float. Returns observation, reward, terminated, truncated
        and info, all tensors (info's `final_obs` a dict of them)."""
        n = self.num_envs
        if intensity.shape == (n, 1):  # only (N, 1): a reshape would take any N numbers
            intensity = intensity[:, 0]
        if treatment.shape != (n,) or intensity.shape != (n,):
            raise ValueError(
                f"treatment and intensity must have shape ({n},), got "
                f"{tuple(treatment.shape)} and {tuple(intensity.shape)}"
            )
        if treatment.dtype.is_floating_point or treatment.dtype == torch.bool:
            raise ValueError(f"treatment must be an integer tensor, got {treatment.dtype}")
        treatment = treatment.to(self.device, torch.long)
        intensity = intensity.to(self.device, torch.float32)
        bad = (treatment < 0) | (treatment >= N_TREATMENTS) | ~torch.isfinite(intensity)
        bad |= (intensity < INTENSITY_LOW - 1e-6) | (intensity > INTENSITY_HIGH + 1e-6)
        if bad.any():
            rows = torch.nonzero(bad).flatten()[:5].tolist()
            raise ValueError(
                f"actions out of range in rows {rows}: treatment must be 0..{N_TREATMENTS - 1}, "
                f"intensity finite in [{INTENSITY_LOW}, {INTENSITY_HIGH}]"
            )
        noise = None
        if self.episodes.world_model is not None:
            noise = torch.randn(
                (n, WINDOW_DAYS, N_SIGNALS), generator=self._generator, device=self.device
            )
        out = self.episodes.step(treatment, intensity, noise, self._rng)
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

    def _draw(self, k: int) -> np.ndarray:
        return self.episodes.enrolled[self._rng.integers(len(self.episodes.enrolled), size=k)]

    # ---------------------------------------------------------------------- NumPy path
    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        patients = (options or {}).get("patients")
        obs = self.reset_tensor(seed, patients)
        return _numpy(obs), {"patient": self.episodes.patient.copy()}

    def step(
        self, actions: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        treatment, intensity = self._parse(actions)
        obs, reward, terminated, truncated, info = self.step_tensor(
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

    def _parse(self, actions: Any) -> tuple[np.ndarray, np.ndarray]:
        n = self.num_envs
        treatment, intensity = split_action(actions, self._form)
        intensity = np.asarray(intensity)
        if intensity.shape == (n, 1):
            intensity = intensity[:, 0]
        return check_actions(treatment, intensity, n)


_RETURNED = ("reward", "terminated", "truncated")


def _numpy(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _numpy(v) for key, v in value.items()}
    if isinstance(value, torch.Tensor):
        return value.cpu().numpy()
    return value
