"""Dual-head hybrid PPO on the natively batched `ManoPatient-v0`, read top to bottom like
CleanRL's `ppo_continuous_action.py`.

Each iteration collects `num_steps` weeks from `num_envs` patients through the environment's
tensor path (no NumPy round trip), computes GAE, then optimises the clipped surrogate over
shuffled minibatches. The policy is `HybridActorCritic` (a categorical treatment head and a
per-treatment Beta intensity head). The loop in `train` has four marked phases: collect (into
one `Rollout` record), GAE (`generalised_advantages`), update (`ppo_update`), log.

Truncation: an episode's end at week 12 is part of the task (the week is observed), so hybrid
PPO ends the return there, as at a cure. The SB3 baselines keep SB3's own rule and bootstrap a
truncated episode from its last observation's value (`TimeLimit.truncated`); both are right
for an observed week, and they differ only in the value target of the last week.

    mano train --agent hybrid-ppo --timesteps 200000 --logdir runs/

Checkpoints (`checkpoint.pt`, every `save_every` iterations and at the end) are written
atomically; `resume=True` continues from one with its weights, optimiser, step count, every
random stream and the episodes in flight, to the weights an unbroken run ends with.
TensorBoard scalars follow CleanRL's names (`charts/episodic_return`, `losses/approx_kl`,
`charts/SPS`, ...).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from gymnasium.vector import AutoresetMode
from torch import nn
from tqdm.auto import tqdm

from agents.hybrid_policy import OBS_DIM, HybridActorCritic, flatten_observation, to_intensity
from generators.config_checks import (
    DEVICE,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPTIONAL_FOLDER,
    POSITIVE,
    POSITIVE_INT,
    check_fields,
    one_of,
)
from generators.files import atomic_write, read_torch_checkpoint
from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.envs.episodes import DYNAMICS
from mano_gym.envs.vector import ManoPatientVectorEnv, step_info

FORMAT = "mano-hybrid-ppo-1"
# what a policy file holds (the shipped one); a checkpoint also holds `_RESUME_KEYS`
POLICY_KEYS = ("config", "state_dict", "optimizer", "global_step", "iteration")
POLICY_KEYS += ("torch_rng", "numpy_rng")
_RESUME_KEYS = ("env", "next_obs", "next_done", "episode_sums", "cuda_rng")  # for an exact resume


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
            | {"anneal_lr": one_of(True, False), "dynamics": one_of(*DYNAMICS)}
            | {"assets": OPTIONAL_FOLDER},
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
    payload = read_torch_checkpoint(path, FORMAT, "hybrid PPO checkpoint", POLICY_KEYS)
    try:
        network = HybridActorCritic(**payload["config"]["network"]).to(device)
        network.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise ValueError(f"{path}: malformed hybrid PPO checkpoint ({error})") from None
    return HybridPPOPolicy(network)


@dataclass
class Rollout:
    """One rollout's transitions, `(num_steps, num_envs, ...)` tensors on the device: what the
    policy saw and did, and what it got."""

    obs: torch.Tensor  # (T, N, OBS_DIM) flat observation
    treatment: torch.Tensor  # (T, N) long
    u: torch.Tensor  # (T, N) the Beta sample behind the intensity
    logprob: torch.Tensor  # (T, N) log-probability of the action when it was taken
    value: torch.Tensor  # (T, N) critic's value of obs
    reward: torch.Tensor  # (T, N)
    done: torch.Tensor  # (T, N) 1.0 where obs is the first of a new episode

    @classmethod
    def empty(cls, steps: int, envs: int, device: torch.device) -> Rollout:
        def zeros(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
            return torch.zeros(steps, envs, *shape, dtype=dtype, device=device)

        return cls(zeros(OBS_DIM), zeros(dtype=torch.long), *(zeros() for _ in range(5)))

    def flat(self) -> Rollout:
        """The same transitions as one batch of `num_steps * num_envs`."""
        return Rollout(**{f.name: getattr(self, f.name).flatten(0, 1) for f in fields(self)})


class EpisodeStats:
    """What TensorBoard shows of the rollouts: running sums of each env's episode, those of
    the episodes that ended during this rollout, and this rollout's treatments and intensity."""

    def __init__(self, n: int, device: torch.device) -> None:
        self.running = {key: torch.zeros(n, device=device) for key in _RUNNING}
        self.device = device
        self.start_rollout()

    def start_rollout(self) -> None:
        self.ended: dict[str, list[torch.Tensor]] = {}
        self.treatments = torch.zeros(len(TREATMENTS), device=self.device)
        self.intensity = torch.zeros((), device=self.device)

    def add(
        self,
        treatment: torch.Tensor,
        intensity: torch.Tensor,
        reward: torch.Tensor,
        terminated: torch.Tensor,
        truncated: torch.Tensor,
        info: dict[str, torch.Tensor],
        risk_weight: float,
    ) -> None:
        """One step of every env."""
        self.treatments += torch.bincount(treatment, minlength=len(TREATMENTS))
        self.intensity += intensity.sum()
        info = step_info(info)
        for key, value in zip(_RUNNING, (reward, info["risk_drop"], info["cost"]), strict=True):
            self.running[key] += value
        done = terminated | truncated
        if done.any():
            ended = {key: self.running[key][done] for key in _RUNNING}
            ended["risk_reduction"] = ended.pop("risk_drop") / risk_weight
            left = info["dropout"][done]
            ended["cured"] = (terminated[done] & ~left).float()
            ended["dropout"] = left.float()
            for key, value in ended.items():
                self.ended.setdefault(key, []).append(value)
            for key in _RUNNING:
                self.running[key] = torch.where(done, 0.0, self.running[key])

    def episode_means(self) -> dict[str, float]:
        """Mean return, cure and drop-out rates, risk reduction and safety cost of the ended
        episodes."""
        return {key: torch.cat(values).mean().item() for key, values in self.ended.items()}


_RUNNING = ("return", "risk_drop", "cost")


def generalised_advantages(
    rollout: Rollout, next_value: torch.Tensor, next_done: torch.Tensor, gamma: float, lam: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """GAE advantages and returns `(T, N)`; an ended episode (cured or at its last week: the
    week is observed, so the horizon is part of the task) bootstraps nothing."""
    steps = len(rollout.reward)
    advantages = torch.zeros_like(rollout.reward)
    last_gae = torch.zeros_like(next_value)
    for t in reversed(range(steps)):
        nonterminal = 1.0 - (next_done if t == steps - 1 else rollout.done[t + 1])
        following = next_value if t == steps - 1 else rollout.value[t + 1]
        delta = rollout.reward[t] + gamma * following * nonterminal - rollout.value[t]
        last_gae = delta + gamma * lam * nonterminal * last_gae
        advantages[t] = last_gae
    return advantages, advantages + rollout.value


def ppo_update(
    agent: HybridActorCritic,
    optimizer: torch.optim.Optimizer,
    batch: Rollout,
    advantages: torch.Tensor,
    returns: torch.Tensor,
    config: HybridPPOConfig,
) -> dict[str, float]:
    """`update_epochs` passes of the clipped surrogate over shuffled minibatches of `batch`
    (flat); returns the last minibatch's losses, its approx-KL and the mean clip fraction."""
    minibatch = config.batch_size // config.num_minibatches
    clipfracs = []
    for epoch in range(config.update_epochs):
        order = torch.randperm(config.batch_size, device=advantages.device)
        for first in range(0, config.batch_size, minibatch):
            mb = order[first : first + minibatch]
            _, _, new_logprob, entropy, new_value = agent.act(
                batch.obs[mb], batch.treatment[mb], batch.u[mb]
            )
            log_ratio = new_logprob - batch.logprob[mb]
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
            adv = advantages[mb]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            clipped = ratio.clamp(1 - config.clip_coef, 1 + config.clip_coef)
            policy_loss = torch.max(-adv * ratio, -adv * clipped).mean()
            value_loss = 0.5 * ((new_value - returns[mb]) ** 2).mean()
            entropy_loss = entropy.mean()
            loss = policy_loss - config.ent_coef * entropy_loss + config.vf_coef * value_loss
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), config.max_grad_norm)
            optimizer.step()
    return {
        "losses/value_loss": value_loss.item(),
        "losses/policy_loss": policy_loss.item(),
        "losses/entropy": entropy_loss.item(),
        "losses/approx_kl": approx_kl.item(),
        "losses/clipfrac": float(np.mean(clipfracs)),
    }


def train(
    config: HybridPPOConfig,
    run_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    overwrite: bool = False,
) -> tuple[HybridActorCritic, dict]:
    """Train a hybrid PPO agent; returns the network and a summary (steps, seconds, SPS, the
    last episodic returns). With `run_dir`, writes TensorBoard scalars and `checkpoint.pt`.

    A checkpoint holds the episodes in flight and every random stream with the weights and
    optimiser, so `resume=True` after a kill ends with the weights an unbroken run would have
    (a larger `total_timesteps` extends a run). A `run_dir` that already holds a checkpoint
    is refused unless `resume` or `overwrite` says what to do with it."""
    run_dir = Path(run_dir) if run_dir is not None else None
    device = torch.device(config.device)
    rng = np.random.default_rng(config.seed)
    # SAME_STEP: the observation after an episode's last week is the next patient's first,
    # which is what the rollout stores next; the ended episode's values are in final_info.
    envs = ManoPatientVectorEnv(
        config.num_envs,
        cohort=config.cohort,
        dynamics=config.dynamics,
        device=config.device,
        assets=config.assets,
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    # seeded after the environment is built: building its models the first time in a process
    # draws from torch's global generator, which would make a first run differ from the rest
    torch.manual_seed(config.seed)
    agent = HybridActorCritic(config.hidden).to(device)
    optimizer = torch.optim.Adam(agent.parameters(), lr=config.learning_rate, eps=1e-5)
    start_iteration, global_step = 1, 0
    checkpoint = run_dir / "checkpoint.pt" if run_dir is not None else None
    if checkpoint is not None and checkpoint.is_file() and not (resume or overwrite):
        raise ValueError(
            f"{run_dir} already holds a hybrid PPO run: pass --resume to continue it or "
            "--overwrite to start it again"
        )
    saved = None
    if resume:
        if checkpoint is None or not checkpoint.is_file():
            raise FileNotFoundError(f"nothing to resume: no checkpoint in {run_dir}")
        saved = read_torch_checkpoint(
            checkpoint, FORMAT, "hybrid PPO checkpoint", (*POLICY_KEYS, *_RESUME_KEYS)
        )
        agent.load_state_dict(saved["state_dict"])
        optimizer.load_state_dict(saved["optimizer"])
        start_iteration, global_step = saved["iteration"] + 1, saved["global_step"]
        torch.set_rng_state(saved["torch_rng"])
        if device.type == "cuda":  # sampling and minibatch order draw from the device's stream
            torch.cuda.set_rng_state(saved["cuda_rng"], device)
        rng.bit_generator.state = saved["numpy_rng"]
    writer = None
    if run_dir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run_dir))

    rollout = Rollout.empty(config.num_steps, config.num_envs, device)
    stats = EpisodeStats(config.num_envs, device)
    if saved is None:
        next_obs = flatten_observation(envs.reset_tensor(seed=int(rng.integers(2**31))))
        next_done = torch.zeros(config.num_envs, device=device)
    else:  # the episodes in flight when the checkpoint was written
        envs.set_state(saved["env"])
        next_obs, next_done = saved["next_obs"].to(device), saved["next_done"].to(device)
        stats.running = {key: value.to(device) for key, value in saved["episode_sums"].items()}
    finished: list[float] = []
    started, steps_at_start = time.perf_counter(), global_step
    bar = tqdm(
        range(start_iteration, config.iterations + 1), desc="hybrid PPO", disable=not progress
    )
    for iteration in bar:
        if config.anneal_lr:
            frac = 1.0 - (iteration - 1.0) / config.iterations
            optimizer.param_groups[0]["lr"] = frac * config.learning_rate
        stats.start_rollout()

        # --- 1. collect a rollout through the tensor path
        for step in range(config.num_steps):
            global_step += config.num_envs
            rollout.obs[step], rollout.done[step] = next_obs, next_done
            with torch.no_grad():
                treatment, u, logprob, _, value = agent.act(next_obs)
            rollout.treatment[step], rollout.u[step] = treatment, u
            rollout.logprob[step], rollout.value[step] = logprob, value
            intensity = to_intensity(u)
            obs, reward, terminated, truncated, info = envs.step_tensor(treatment, intensity)
            rollout.reward[step] = reward
            next_obs, next_done = flatten_observation(obs), (terminated | truncated).float()
            risk_weight = envs.episodes.reward.risk_weight
            stats.add(treatment, intensity, reward, terminated, truncated, info, risk_weight)

        # --- 2. generalised advantage estimation
        with torch.no_grad():
            advantages, returns = generalised_advantages(
                rollout, agent.value(next_obs), next_done, config.gamma, config.gae_lambda
            )

        # --- 3. optimise the clipped surrogate over minibatches
        losses = ppo_update(
            agent, optimizer, rollout.flat(), advantages.flatten(), returns.flatten(), config
        )

        # --- 4. log and checkpoint
        sps = (global_step - steps_at_start) / (time.perf_counter() - started)
        episodes = stats.episode_means() if stats.ended else {}
        if episodes:
            finished = torch.cat(stats.ended["return"]).tolist()[-256:]
            bar.set_postfix(ret=f"{episodes['return']:.2f}", sps=f"{sps:,.0f}")
        if writer is not None:
            scalars = losses | {
                "charts/learning_rate": optimizer.param_groups[0]["lr"],
                "charts/SPS": sps,
                "charts/mean_intensity": (stats.intensity / stats.treatments.sum()).item(),
            }
            scalars |= {f"charts/{_TAGS[key]}": value for key, value in episodes.items()}
            for k, name in enumerate(TREATMENTS):
                share = stats.treatments[k] / stats.treatments.sum()
                scalars[f"charts/treatment_mix/{name}"] = share.item()
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
                    "cuda_rng": (
                        torch.cuda.get_rng_state(device)
                        if device.type == "cuda"
                        else torch.empty(0, dtype=torch.uint8)
                    ),
                    "numpy_rng": rng.bit_generator.state,
                    "env": envs.get_state(),
                    "next_obs": next_obs,
                    "next_done": next_done,
                    "episode_sums": stats.running,
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


# TensorBoard names of the episode means (CleanRL's where it has one)
_TAGS = {
    "return": "episodic_return",
    "cured": "cure_rate",
    "dropout": "dropout_rate",
    "risk_reduction": "risk_reduction",
    "cost": "safety_cost",
}
