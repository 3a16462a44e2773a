"""Agents by name: what `mano evaluate agent --agent` and the benchmarks accept.

| name                  | agent                                                          |
|-----------------------|----------------------------------------------------------------|
| `default`             | the shipped hybrid PPO policy (`mano_gym/assets`, hash-checked) |
| `control`, `random`,  | the clinical heuristics (`agents.heuristics`); fixed ones at   |
| `fixed-<treatment>`,  | `intensity` (0.5 unless given)                                  |
| `stepped-care`        |                                                                |
| a path                | a hybrid PPO checkpoint (`.pt`) or a Stable-Baselines3 run      |
|                       | (`checkpoint.zip` with its `checkpoint.json`), or a run folder  |
|                       | (an RLlib run of `agents.rllib` with `trusted` only: RLlib      |
|                       | checkpoints are pickles)                                        |
"""

from __future__ import annotations

from pathlib import Path

from agents.heuristics import HEURISTIC_NAMES, make_heuristic
from agents.hybrid_ppo import load_policy
from mano_gym.assets import POLICY, verified_artifact
from mano_gym.envs.rollouts import Policy

HYBRID_CHECKPOINT = "checkpoint.pt"  # what a hybrid PPO run directory holds
RLLIB_CHECKPOINT = "checkpoint/rllib_checkpoint.json"  # what an RLlib run directory holds


def load_agent(
    name: str,
    intensity: float = 0.5,
    device: str = "cpu",
    assets: str | Path | None = None,
    trusted: bool = False,
) -> Policy:
    """The agent called `name` (see the table; `default` is the policy of asset set
    `assets`, the shipped one unless given); a `ValueError` lists the names otherwise. An SB3
    run is loaded without unpickling anything of it unless `trusted` (see `load_sb3_policy`);
    hybrid PPO checkpoints hold weights only and are always read with `weights_only=True`."""
    if name == "default":
        return load_policy(verified_artifact(POLICY, assets)[0], device)
    if name in HEURISTIC_NAMES:
        return make_heuristic(name, intensity)
    path = Path(name)
    if path.is_dir() and (path / RLLIB_CHECKPOINT).is_file():
        if not trusted:
            raise ValueError(
                f"{path} is an RLlib run, whose checkpoint is pickled: it is loaded only with "
                "--trusted (a run you wrote yourself)"
            )
        from agents.rllib import load_rllib_policy  # Ray only when asked

        return load_rllib_policy(path)
    if path.is_dir() and (path / HYBRID_CHECKPOINT).is_file():
        path = path / HYBRID_CHECKPOINT  # a hybrid PPO run directory
    if path.suffix == ".pt" and path.is_file():
        return load_policy(path, device)
    if path.suffix == ".zip" or path.is_dir():
        from agents.sb3_baselines import load_sb3_policy  # Stable-Baselines3 only when asked

        return load_sb3_policy(path, device, trusted)
    raise ValueError(
        f"unknown agent {name!r}: give default, one of {', '.join(HEURISTIC_NAMES)}, or the "
        "path of a checkpoint (.pt, or an SB3 checkpoint.zip or its folder)"
    )
