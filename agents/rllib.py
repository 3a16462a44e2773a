"""RLlib PPO on `ManoPatient-v0` with its native hybrid action: for scale-out on Ray (the
optional extra `pip install mano-gym[ray]`).

    config = RLlibConfig(total_timesteps=100_000, num_env_runners=4)
    algo, summary = train_rllib(config, "runs/rllib-ppo-seed0")
    policy = RLlibPolicy(algo.get_module())        # a `mano_gym.envs.rollouts.Policy`

RLlib's new API stack runs the environment it makes with `gymnasium.make_vec`: by default the
native batched env (`vectorize="vector_entry_point"`, `NEXT_STEP` autoreset, as RLlib expects),
or Gymnasium's `SyncVectorEnv` of single envs (`"sync"`). Observations reach the model through
RLlib's `FlattenObservations` connector (one vector of 60). The action stays hybrid: RLlib's
catalogue builds a categorical head for the treatment and a diagonal Gaussian for the
intensity. What RLlib does with the Gaussian: it samples in a normalised space and, with
`normalize_actions=True` (its default, kept), maps the sample from [-1, 1] onto [0.1, 1.0]
and clips what falls outside, so the intensity is bounded by clipping after sampling, not by
construction as in Mano's own hybrid PPO (a Beta). The clipped share of the probability mass
sits at the bounds.

To run on a Ray cluster instead of this machine, start Ray there (`ray start --head`, then
`ray start --address HEAD:6379` on each node) and pass `address="auto"` (or the head's
address) to `ray_session`; `num_env_runners` then spreads sampling over the cluster's CPUs.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from generators.config_checks import (
    FRACTION,
    NON_NEGATIVE_INT,
    OPTIONAL_FOLDER,
    POSITIVE,
    POSITIVE_INT,
    check_fields,
    one_of,
)
from mano_gym.envs.episodes import DYNAMICS
from mano_gym.envs.spaces import make_action_space, make_observation_space

VECTORIZE = ("vector_entry_point", "sync")


@dataclass(frozen=True)
class RLlibConfig:
    """RLlib PPO's settings that Mano sets (the rest are RLlib's defaults)."""

    total_timesteps: int = 100_000
    seed: int = 0
    num_env_runners: int = 0  # 0: sample in the driver's process
    num_envs_per_env_runner: int = 64
    vectorize: str = "vector_entry_point"
    train_batch_size: int = 2048
    minibatch_size: int = 256
    num_epochs: int = 4
    learning_rate: float = 3e-4
    gamma: float = 0.99
    lambda_: float = 0.95
    cohort: str = "train"
    dynamics: str = "world_model"
    assets: str | None = None

    def __post_init__(self) -> None:
        sizes = ("total_timesteps", "num_envs_per_env_runner", "train_batch_size")
        rules = dict.fromkeys((*sizes, "minibatch_size", "num_epochs"), POSITIVE_INT)
        rules |= {"seed": NON_NEGATIVE_INT, "num_env_runners": NON_NEGATIVE_INT}
        rules |= {"learning_rate": POSITIVE, "gamma": FRACTION, "lambda_": FRACTION}
        rules |= {"vectorize": one_of(*VECTORIZE), "dynamics": one_of(*DYNAMICS)}
        rules["assets"] = OPTIONAL_FOLDER
        check_fields(self, rules)


@contextlib.contextmanager
def ray_session(address: str | None = None, num_cpus: int | None = None) -> Iterator[None]:
    """Ray for the block: a local instance (`num_cpus` of this machine) unless `address`
    names a running cluster (`"auto"` finds one started with `ray start`)."""
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(
            address=address,
            num_cpus=num_cpus if address is None else None,
            include_dashboard=False,
            log_to_driver=False,
        )
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def ppo_config(config: RLlibConfig) -> Any:
    """The RLlib `PPOConfig` of `config`."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.env_to_module import FlattenObservations

    env_config = {"cohort": config.cohort, "dynamics": config.dynamics}
    if config.assets is not None:
        env_config["assets"] = config.assets
    return (
        PPOConfig()
        .environment("ManoPatient-v0", env_config=env_config)
        .env_runners(
            num_env_runners=config.num_env_runners,
            num_envs_per_env_runner=config.num_envs_per_env_runner,
            gym_env_vectorize_mode=config.vectorize,
            env_to_module_connector=lambda env, spaces, device: FlattenObservations(),
        )
        .training(
            train_batch_size_per_learner=config.train_batch_size,
            minibatch_size=config.minibatch_size,
            num_epochs=config.num_epochs,
            lr=config.learning_rate,
            gamma=config.gamma,
            lambda_=config.lambda_,
        )
        .debugging(seed=config.seed)
    )


def train_rllib(config: RLlibConfig, run_dir: str | Path | None = None) -> tuple[Any, dict]:
    """Train RLlib PPO until `config.total_timesteps` patient-weeks are sampled (inside a
    `ray_session`); returns the algorithm and a summary. With `run_dir`, saves RLlib's
    checkpoint there (`checkpoint/`) and `summary.json`."""
    algo = ppo_config(config).build_algo()
    started, steps, returns = time.perf_counter(), 0, []
    while steps < config.total_timesteps:
        result = algo.train()
        runners = result["env_runners"]
        steps = int(result["num_env_steps_sampled_lifetime"])
        if "episode_return_mean" in runners:
            returns.append((steps, float(runners["episode_return_mean"])))
    seconds = time.perf_counter() - started
    summary = {
        "agent": "rllib-ppo",
        "steps": steps,
        "seconds": seconds,
        "steps_per_second": steps / seconds,
        "episodic_returns": returns,
        "config": asdict(config),
    }
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        algo.save_to_path(str((run_dir / "checkpoint").resolve()))
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    return algo, summary


class RLlibPolicy:
    """A trained RLlib module as a batched policy (`mano_gym.envs.rollouts.Policy`): the
    deterministic action (the most probable treatment, the Gaussian's mean intensity mapped
    onto [0.1, 1.0] as RLlib maps it), from observations flattened as RLlib's connector does."""

    def __init__(self, module: Any) -> None:
        from ray.rllib.utils.spaces.space_utils import get_base_struct_from_space

        self.module = module
        # the spaces' structure, which is all flattening and unsquashing read (any horizon)
        self._obs_struct = get_base_struct_from_space(make_observation_space(12))
        self._action_struct = get_base_struct_from_space(make_action_space("dict"))

    def reset(self, n: int) -> None:
        """Nothing to reset: the policy has no memory."""

    def act(
        self, obs: dict[str, np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        from ray.rllib.core.columns import Columns
        from ray.rllib.utils.numpy import flatten_inputs_to_1d_tensor
        from ray.rllib.utils.spaces.space_utils import unsquash_action

        flat = flatten_inputs_to_1d_tensor(obs, spaces_struct=self._obs_struct, batch_axis=True)
        with torch.no_grad():
            out = self.module.forward_inference({Columns.OBS: torch.as_tensor(flat).float()})
            dist = self.module.get_inference_action_dist_cls().from_logits(
                out[Columns.ACTION_DIST_INPUTS]
            )
            action = {k: v.numpy() for k, v in dist.to_deterministic().sample().items()}
        action = unsquash_action(action, self._action_struct)
        return action["treatment"].astype(np.int64), action["intensity"][:, 0].astype(np.float64)


def load_rllib_policy(run_dir: str | Path) -> RLlibPolicy:
    """The policy of an RLlib run folder written by `train_rllib`. Its checkpoint is RLlib's,
    pickled: load only a run you wrote yourself (`agents.catalog` asks for `trusted`)."""
    from ray.rllib.core.rl_module import RLModule

    module = Path(run_dir) / "checkpoint" / "learner_group" / "learner" / "rl_module"
    return RLlibPolicy(RLModule.from_checkpoint(str((module / "default_policy").resolve())))
