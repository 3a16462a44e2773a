"""Dual-head hybrid PPO on the natively batched `ManoPatient-v0`, read top to bottom like
CleanRL's `ppo_continuous_action.py`.

Each iteration collects `num_steps` weeks from `num_envs` patients through the environment's
tensor path (no NumPy round trip), computes GAE, then optimises the clipped surrogate over
shuffled minibatches. The policy is `HybridActorCritic` (a categorical treatment head and a
per-treatment Beta intensity head). An episode's end at week 12 is part of the task (the week
is observed), so truncation is treated as the end of the return like a cure.

    mano train --agent hybrid-ppo --timesteps 200000 --logdir runs/

Checkpoints (`checkpoint.pt`, every `save_every` iterations and at the end) are written
atomically; `resume=True` continues from one with its weights, optimiser, step count and
random state. TensorBoard scalars follow CleanRL's names (`charts/episodic_return`,
`losses/approx_kl`, `charts/SPS`, ...).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from agents.hybrid_policy import OBS_DIM, HybridActorCritic, flatten_observation, to_intensity
from generators.config_checks import (
    DEVICE,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    POSITIVE,
    POSITIVE_INT,
    check_fields,
    one_of,
)
from generators.files import atomic_write, read_torch_checkpoint
from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.envs.episodes import DYNAMICS
from mano_gym.envs.vector import ManoPatientVectorEnv

FORMAT = "mano-hybrid-ppo-1"
_KEYS = ("config", "state_dict", "optimizer", "global_step", "iteration", "torch_rng", "numpy_rng")


@dataclass
class HybridPPOConfig:
    total_timesteps: int = 1_000_000  # patient-weeks of experience
    num_envs: int = 1024  # patients stepped together
    num_steps: int = 12  # weeks per env per rollout
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 8
    update_epochs: int = 4
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64
    seed: int = 0
    device: str = "cpu"
    cohort: str = "train"
    dynamics: str = "world_model"
    assets: str | None = None  # an asset set built by `mano train ... --out` (None: shipped)
    save_every: int = 10  # iterations between checkpoints

    def __post_init__(self) -> None:
        counts = ("total_timesteps", "num_envs", "num_steps", "num_minibatches", "update_epochs")
        check_fields(
            self,
            {name: POSITIVE_INT for name in (*counts, "hidden", "save_every")}
            | {"learning_rate": POSITIVE, "gamma": FRACTION, "gae_lambda": FRACTION}
            | {"clip_coef": POSITIVE, "ent_coef": NON_NEGATIVE, "vf_coef": NON_NEGATIVE}
            | {"max_grad_norm": POSITIVE, "seed": NON_NEGATIVE_INT, "device": DEVICE}
            | {"anneal_lr": one_of(True, False), "dynamics": one_of(*DYNAMICS)},
        )
        if self.total_timesteps < self.batch_size:
            raise ValueError(
                f"HybridPPOConfig.total_timesteps ({self.total_timesteps}) must be at least one "
                f"rollout, num_envs * num_steps = {self.batch_size}"
            )
        if (self.num_envs * self.num_steps) % self.num_minibatches:
            raise ValueError("num_envs * num_steps must divide into num_minibatches")

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def iterations(self) -> int:
        return max(1, self.total_timesteps // self.batch_size)


class HybridPPOPolicy:
    """A trained `HybridActorCritic` as a policy over batched NumPy observations (the
    `mano_gym.envs.rollouts.Policy` protocol): greedy by default, sampled if
    `deterministic=False`."""

    def __init__(self, network: HybridActorCritic, deterministic: bool = True) -> None:
        self.network, self.deterministic = network.eval(), deterministic
        self.device = next(network.parameters()).device

    def reset(self, n: int) -> None:
        """Nothing to remember between weeks: the observation holds the history it uses."""

    def act(
        self, obs: dict[str, np.ndarray], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        x = flatten_observation({k: torch.as_tensor(v, device=self.device) for k, v in obs.items()})
        with torch.no_grad():
            if self.deterministic:
                treatment, intensity = self.network.greedy(x)
            else:  # torch's samplers take no generator: seed a forked global one from `rng`
                devices = [self.device] if self.device.type == "cuda" else []
                with torch.random.fork_rng(devices=devices):
                    torch.manual_seed(int(rng.integers(2**62)))
                    treatment, u, *_ = self.network.act(x)
                intensity = to_intensity(u)
        return treatment.cpu().numpy(), intensity.cpu().numpy().astype(np.float64)


def save_checkpoint(path: Path, payload: dict) -> None:
    with atomic_write(path, "wb") as file:
        torch.save({"format": FORMAT, **payload}, file)


def load_policy(path: str | Path, device: str = "cpu") -> HybridPPOPolicy:
    """The policy of a hybrid-PPO checkpoint, checked and read with `weights_only=True`."""
    payload = read_torch_checkpoint(path, FORMAT, "hybrid PPO checkpoint", _KEYS)
    try:
        network = HybridActorCritic(**payload["config"]["network"]).to(device)
        network.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise ValueError(f"{path}: malformed hybrid PPO checkpoint ({error})") from None
    return HybridPPOPolicy(network)


def train(
    config: HybridPPOConfig,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
) -> tuple[HybridActorCritic, dict]:
    """Train a hybrid PPO agent; returns the network and a summary (steps, seconds, SPS, the
    last episodic returns). With `run_dir`, writes TensorBoard scalars and `checkpoint.pt`."""
    run_dir = Path(run_dir) if run_dir is not None else None
    device = torch.device(config.device)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    envs = ManoPatientVectorEnv(
        config.num_envs,
        cohort=config.cohort,
        dynamics=config.dynamics,
        device=config.device,
        assets=config.assets,
    )
    agent = HybridActorCritic(config.hidden).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=config.learning_rate, eps=1e-5)
    start_iteration, global_step = 1, 0
    checkpoint = run_dir / "checkpoint.pt" if run_dir is not None else None
    if resume:
        if checkpoint is None or not checkpoint.is_file():
            raise FileNotFoundError(f"nothing to resume: no checkpoint in {run_dir}")
        saved = read_torch_checkpoint(checkpoint, FORMAT, "hybrid PPO checkpoint", _KEYS)
        agent.load_state_dict(saved["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])
        start_iteration, global_step = saved["iteration"] + 1, saved["global_step"]
        torch.set_rng_state(saved["torch_rng"])
        rng.bit_generator.state = saved["numpy_rng"]
    writer = None
    if run_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run_dir))

    # Rollout storage: (num_steps, num_envs, ...) on the device.
    shape = (config.num_steps, config.num_envs)
    obs_buf = torch.zeros(*shape, OBS_DIM, device=device)
    treatment_buf = torch.zeros(shape, dtype=torch.long, device=device)
    u_buf, logprob_buf, reward_buf, done_buf, value_buf = (
        torch.zeros(shape, device=device) for _ in range(5)
    )
    next_obs = flatten_observation(envs.reset_tensor(seed=int(rng.integers(2**31))))
    next_done = torch.zeros(config.num_envs, device=device)
    returns_so_far = torch.zeros(config.num_envs, device=device)
    risk_drop_so_far = torch.zeros(config.num_envs, device=device)
    cost_so_far = torch.zeros(config.num_envs, device=device)
    finished: list[float] = []
    started = time.perf_counter()
    steps_at_start = global_step
    bar = tqdm(
        range(start_iteration, config.iterations + 1), desc="hybrid PPO", disable=not progress
    )
    for iteration in bar:
        if config.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / config.iterations
            optimizer.param_groups[0]["lr"] = frac * config.learning_rate

        # --- collect a rollout
        ended = {"return": [], "cured": [], "risk_reduction": [], "cost": []}
        counts = torch.zeros(len(TREATMENTS), device=device)
        intensity_sum = torch.zeros((), device=device)
        for step in range(config.num_steps):
            global_step += config.num_envs
            obs_buf[step], done_buf[step] = next_obs, next_done
            with torch.no_grad():
                treatment, u, logprob, _, value = agent.act(next_obs)
            treatment_buf[step], u_buf[step], logprob_buf[step], value_buf[step] = (
                treatment,
                u,
                logprob,
                value,
            )
            obs, reward, terminated, truncated, info = envs.step_tensor(treatment, to_intensity(u))
            reward_buf[step] = reward
            done = terminated | truncated
            next_obs, next_done = flatten_observation(obs), done.float()
            returns_so_far += reward
            risk_drop_so_far += info["risk_drop"]
            cost_so_far += info["cost"]
            counts += torch.bincount(treatment, minlength=len(TREATMENTS))
            intensity_sum += to_intensity(u).sum()
            if done.any():
                ended["return"].append(returns_so_far[done])
                ended["cured"].append(terminated[done].float())
                ended["risk_reduction"].append(
                    risk_drop_so_far[done] / envs.episodes.reward.risk_weight
                )
                ended["cost"].append(cost_so_far[done])
                returns_so_far = torch.where(done, 0.0, returns_so_far)
                risk_drop_so_far = torch.where(done, 0.0, risk_drop_so_far)
                cost_so_far = torch.where(done, 0.0, cost_so_far)

        # --- generalised advantage estimation (an ended episode bootstraps nothing)
        with torch.no_grad():
            next_value = agent.value(next_obs)
            advantages = torch.zeros_like(reward_buf)
            last_gae = torch.zeros(config.num_envs, device=device)
            for t in reversed(range(config.num_steps)):
                nonterminal = 1.0 - (next_done if t == config.num_steps - 1 else done_buf[t + 1])
                following = next_value if t == config.num_steps - 1 else value_buf[t + 1]
                delta = reward_buf[t] + config.gamma * following * nonterminal - value_buf[t]
                last_gae = delta + config.gamma * config.gae_lambda * nonterminal * last_gae
                advantages[t] = last_gae
            returns = advantages + value_buf

        # --- optimise the clipped surrogate over minibatches
        b_obs = obs_buf.reshape(config.batch_size, -1)
        b_treatment, b_u = treatment_buf.reshape(-1), u_buf.reshape(-1)
        b_logprob, b_adv = logprob_buf.reshape(-1), advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        minibatch = config.batch_size // config.num_minibatches
        clipfracs = []
        for epoch in range(config.update_epochs):
            order = torch.randperm(config.batch_size, device=device)
            for first in range(0, config.batch_size, minibatch):
                mb = order[first : first + minibatch]
                _, _, new_logprob, entropy, new_value = agent.act(
                    b_obs[mb], b_treatment[mb], b_u[mb]
                )
                log_ratio = new_logprob - b_logprob[mb]
                ratio = log_ratio.exp()
                if (
                    epoch == 0
                    and first == 0
                    and not torch.allclose(ratio, torch.ones_like(ratio), atol=1e-4)
                ):
                    # before any update the policy is the one that collected: a ratio off 1
                    # means the log-probability is not computed as during the rollout
                    raise RuntimeError("PPO ratio differs from 1 on the first minibatch")
                with torch.no_grad():
                    approx_kl = ((ratio - 1) - log_ratio).mean()
                    clipfracs.append(((ratio - 1.0).abs() > config.clip_coef).float().mean().item())
                adv = b_adv[mb]
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss = torch.max(
                    -adv * ratio, -adv * ratio.clamp(1 - config.clip_coef, 1 + config.clip_coef)
                ).mean()
                value_loss = 0.5 * ((new_value - b_returns[mb]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = policy_loss - config.ent_coef * entropy_loss + config.vf_coef * value_loss
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm)
                optimizer.step()

        # --- log and checkpoint
        sps = (global_step - steps_at_start) / (time.perf_counter() - started)
        if ended["return"]:
            episode_returns = torch.cat(ended["return"])
            finished = episode_returns.tolist()[-256:]
            bar.set_postfix(ret=f"{episode_returns.mean().item():.2f}", sps=f"{sps:,.0f}")
        if writer is not None:
            scalars = {
                "charts/learning_rate": optimizer.param_groups[0]["lr"],
                "charts/SPS": sps,
                "charts/mean_intensity": (intensity_sum / counts.sum()).item(),
                "losses/value_loss": value_loss.item(),
                "losses/policy_loss": policy_loss.item(),
                "losses/entropy": entropy_loss.item(),
                "losses/approx_kl": approx_kl.item(),
                "losses/clipfrac": float(np.mean(clipfracs)),
            }
            if ended["return"]:
                scalars["charts/episodic_return"] = episode_returns.mean().item()
                scalars["charts/cure_rate"] = torch.cat(ended["cured"]).mean().item()
                scalars["charts/risk_reduction"] = torch.cat(ended["risk_reduction"]).mean().item()
                scalars["charts/safety_cost"] = torch.cat(ended["cost"]).mean().item()
            for k, name in enumerate(TREATMENTS):
                scalars[f"charts/treatment_mix/{name}"] = (counts[k] / counts.sum()).item()
            for tag, value in scalars.items():
                writer.add_scalar(tag, value, global_step)
        if checkpoint is not None and (
            iteration % config.save_every == 0 or iteration == config.iterations
        ):
            save_checkpoint(
                checkpoint,
                {
                    "config": asdict(config) | {"network": agent.config},
                    "state_dict": agent.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "global_step": global_step,
                    "iteration": iteration,
                    "torch_rng": torch.get_rng_state(),
                    "numpy_rng": rng.bit_generator.state,
                },
            )
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - started
    summary = {
        "global_step": global_step,
        "seconds": seconds,
        "sps": (global_step - steps_at_start) / seconds if seconds > 0 else 0.0,
        "last_returns": float(np.mean(finished)) if finished else float("nan"),
    }
    return agent, summary
