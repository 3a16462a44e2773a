"""Offline RL datasets of `ManoPatient-v0` in Minari's format (the Farama standard), logged
under a named behaviour policy mixed with uniform exploration.

    mano generate offline-dataset --policy fixed-cbt --episodes 500 --epsilon 0.1 --out DIR

Each week the behaviour takes the policy's action (any name `mano evaluate agent --agent`
takes) or, with probability `epsilon`, a uniform one: a uniform treatment at a uniform
intensity in [0.1, 1.0]. Minari's `DataCollector(record_infos=True)` records observations,
actions, rewards, ends and every info key (`mano_gym.envs.infos`; with
`dynamics="reference"` the latent DASS scores `dass` and `true_risk` too), and this module adds
what off-policy evaluation needs of the behaviour:

| info key                 | dtype   | what (at reset: NaN, False, -1, NaN)                     |
|--------------------------|---------|----------------------------------------------------------|
| `behaviour_probability`  | float64 | P(the logged treatment) under the behaviour, exploration |
|                          |         | included; the intensity is the base policy's exactly     |
|                          |         | unless `explored`                                        |
| `explored`               | bool    | the action was the uniform one                           |
| `base_treatment`         | int64   | what the policy alone would have given                   |
| `base_intensity`         | float64 |                                                          |

The base policy's treatment probabilities are known for every catalogue agent: `random` is
uniform, every other one (heuristics, the greedy hybrid PPO policy, SB3 runs predicting
deterministically) gives its action with probability 1.

Read it back with `MINARI_DATASETS_PATH=DIR` set: `minari.load_dataset(dataset_id)`, and
`dataset.recover_environment()` makes the environment (same cohort, dynamics and horizon).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from tqdm.auto import tqdm

from agents.catalog import load_agent
from generators.config_checks import (
    FRACTION,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    check_fields,
    one_of,
)
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.episodes import DYNAMICS
from mano_gym.envs.rollouts import Policy

UNIFORM_POLICIES = ("random",)  # catalogue agents whose treatment is uniform, not one action


@dataclass(frozen=True)
class OfflineDatasetConfig:
    """What `write_offline_dataset` logs."""

    policy: str = "default"
    episodes: int = 100
    epsilon: float = 0.1
    seed: int = 0
    cohort: str = "train"
    dynamics: str = "world_model"
    intensity: float = 0.5  # of the fixed-* heuristics
    dataset_id: str | None = None  # default: mano/<policy>-eps<epsilon>-<dynamics>-v0, 0.1 as 0_1

    def __post_init__(self) -> None:
        rules = {"episodes": POSITIVE_INT, "epsilon": FRACTION, "seed": NON_NEGATIVE_INT}
        check_fields(self, rules | {"dynamics": one_of(*DYNAMICS)})

    @property
    def name(self) -> str:
        """The Minari dataset id (letters, digits, `_` and `-` only, as Minari requires)."""
        if self.dataset_id is not None:
            return self.dataset_id
        policy = Path(self.policy).stem if Path(self.policy).suffix else self.policy
        epsilon = f"{self.epsilon:g}".replace(".", "_")
        return f"mano/{re.sub(r'[^A-Za-z0-9]+', '_', policy)}-eps{epsilon}-{self.dynamics}-v0"


class LoggedBehaviour(gym.Wrapper):
    """The behaviour policy's log: `choose(obs)` picks this week's action (the base policy's,
    or a uniform one with probability `epsilon`), and the following `step` adds what was
    chosen and its probability to `info` (see the module's table)."""

    def __init__(
        self,
        env: gym.Env,
        policy: Policy,
        epsilon: float,
        uniform: bool,
        rng: np.random.Generator,
    ) -> None:
        super().__init__(env)
        self.policy, self.epsilon, self.uniform, self.rng = policy, epsilon, uniform, rng
        self._chosen: dict[str, Any] | None = None

    @property
    def spec(self) -> gym.envs.registration.EnvSpec | None:
        """The environment's own spec: the behaviour is not part of the environment, so that
        `recover_environment` of the dataset makes the environment alone."""
        return self.env.spec

    def reset(self, **kwargs: Any) -> tuple[dict, dict]:
        obs, info = self.env.reset(**kwargs)
        self.policy.reset(1)
        self._chosen = None
        none = {"behaviour_probability": np.float64(np.nan), "explored": False}
        return obs, info | none | {
            "base_treatment": np.int64(-1),
            "base_intensity": np.float64(np.nan),
        }

    def choose(self, obs: dict[str, np.ndarray]) -> dict[str, Any]:
        """This week's action for observation `obs` (what `step` must be given next)."""
        treatment, intensity = self.policy.act({k: v[None] for k, v in obs.items()}, self.rng)
        base_t, base_i = int(treatment[0]), float(intensity[0])
        explored = bool(self.rng.random() < self.epsilon)
        if explored:
            given_t = int(self.rng.integers(N_TREATMENTS))
            given_i = float(self.rng.uniform(INTENSITY_LOW, INTENSITY_HIGH))
        else:
            given_t, given_i = base_t, base_i
        base_p = 1.0 / N_TREATMENTS if self.uniform else float(given_t == base_t)
        probability = (1.0 - self.epsilon) * base_p + self.epsilon / N_TREATMENTS
        action = {
            "treatment": np.int64(given_t),
            "intensity": np.clip(np.array([given_i], np.float32), INTENSITY_LOW, INTENSITY_HIGH),
        }
        self._chosen = {
            "action": action,
            "behaviour_probability": np.float64(probability),
            "explored": explored,
            "base_treatment": np.int64(base_t),
            "base_intensity": np.float64(base_i),
        }
        return action

    def step(self, action: Any) -> tuple[dict, float, bool, bool, dict]:
        chosen = self._chosen
        if chosen is None or not _same_action(chosen["action"], action):
            raise RuntimeError("step() takes the action choose() just returned")
        self._chosen = None
        obs, reward, terminated, truncated, info = self.env.step(action)
        logged = {key: value for key, value in chosen.items() if key != "action"}
        return obs, reward, terminated, truncated, info | logged


def _same_action(chosen: dict[str, Any], given: Any) -> bool:
    return (
        isinstance(given, dict)
        and set(given) == set(chosen)
        and all(np.array_equal(given[key], chosen[key]) for key in chosen)
    )


def write_offline_dataset(
    config: OfflineDatasetConfig,
    out: str | Path,
    assets: str | Path | None = None,
    trusted: bool = False,
) -> Any:
    """Log `config.episodes` episodes under the behaviour of `config` into a Minari dataset
    in folder `out`; returns the `MinariDataset`. A `ValueError` if `out` already holds a
    dataset of that id. `trusted` as `agents.catalog.load_agent` takes it."""
    import minari  # the offline extra (`pip install mano-gym[offline]`)

    out = Path(out)
    if (out / config.name).exists():
        raise ValueError(f"{out / config.name} already holds a dataset; choose another --out")
    policy = load_agent(config.policy, intensity=config.intensity, assets=assets, trusted=trusted)
    env = gym.make("ManoPatient-v0", cohort=config.cohort, dynamics=config.dynamics, assets=assets)
    rng = np.random.default_rng(config.seed)
    behaviour = LoggedBehaviour(env, policy, config.epsilon, config.policy in UNIFORM_POLICIES, rng)
    collector = minari.DataCollector(behaviour, record_infos=True)
    seeds = np.random.SeedSequence(config.seed).generate_state(config.episodes)
    for seed in tqdm(seeds, desc="episodes", unit="episode"):
        obs, _ = collector.reset(seed=int(seed))
        while True:
            obs, _, terminated, truncated, _ = collector.step(behaviour.choose(obs))
            if terminated or truncated:
                break
    with _datasets_root(out):
        return collector.create_dataset(
            dataset_id=config.name,
            algorithm_name=f"{config.policy} with epsilon {config.epsilon:g} uniform",
            author="Mano",
            description=(
                f"{config.episodes} episodes of ManoPatient-v0 ({config.dynamics} dynamics, "
                f"{config.cohort} cohort) under {config.policy!r} mixed with a uniform action "
                f"with probability {config.epsilon:g}; seed {config.seed}. Infos hold the "
                "behaviour's probability of each logged treatment (agents.offline_dataset)."
            ),
        )


@contextlib.contextmanager
def _datasets_root(folder: Path) -> Iterator[None]:
    """Minari's datasets folder set to `folder` inside the block (Minari reads it from the
    environment)."""
    before = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(folder.resolve())
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MINARI_DATASETS_PATH")
        else:
            os.environ["MINARI_DATASETS_PATH"] = before
