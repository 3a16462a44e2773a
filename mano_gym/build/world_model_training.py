"""Training the world model on virtual trials: Gaussian NLL over whole trajectories, with
teacher forcing annealed week by week (the belief is carried through each trajectory, and
gradients flow through it across weeks).

Each batch of trajectories is rolled forward week by week. The input "last week" of week t+1 is
the true week t with probability `teacher`, else the model's own sample of it (detached, on
the signals' support), as it will be inside the environment. `teacher` falls linearly from 1 to
`teacher_final` over the first `anneal_fraction` of the epochs (scheduled sampling), so the
model first learns one-step dynamics and then learns to stay on track when fed its own weeks.
The kept weights are those with the lowest free-running NLL (no teacher at all) on held-out
patients.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from generators.config_checks import (
    DEVICE,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPEN_FRACTION,
    POSITIVE,
    POSITIVE_INT,
    Rule,
    check_fields,
)
from mano_gym.cohorts.trials import Trials, trial_week
from mano_gym.dynamics.world_model import SignalSupport, WorldModel, WorldModelNetwork


@dataclass
class WorldModelConfig:
    hidden: int = 48  # width of the GRU, the attention and the MLPs
    epochs: int = 60
    batch_size: int = 256  # trajectories per step
    learning_rate: float = 2e-3
    # the rate falls along a cosine towards this share of `learning_rate` over the epochs, so the
    # snapshots model selection chooses among are settled rather than noisy (1: constant)
    final_lr_fraction: float = 0.05
    teacher_final: float = 0.0  # teacher-forcing probability at the end of the annealing
    anneal_fraction: float = 0.5  # share of the epochs over which teacher forcing falls
    validation_fraction: float = 0.1  # share of patients held out for model selection
    grad_clip: float = 1.0
    dropout_weight: float = 1.0  # weight of the drop-out hazard's cross-entropy in the loss
    seed: int = 0
    device: str = "cpu"

    def __post_init__(self) -> None:
        check_fields(
            self,
            {
                "hidden": POSITIVE_INT,
                "epochs": POSITIVE_INT,
                "batch_size": POSITIVE_INT,
                "learning_rate": POSITIVE,
                "final_lr_fraction": Rule(lambda v: 0 < v <= 1, "in (0, 1]"),
                "teacher_final": FRACTION,
                "anneal_fraction": Rule(lambda v: OPEN_FRACTION.check(v) or v == 1, "in (0, 1]"),
                "validation_fraction": OPEN_FRACTION,
                "grad_clip": POSITIVE,
                "dropout_weight": NON_NEGATIVE,
                "seed": NON_NEGATIVE_INT,
                "device": DEVICE,
            },
        )


def rollout_nll(
    network: WorldModelNetwork,
    batch: dict[str, torch.Tensor],
    teacher: float,
    support: SignalSupport,
    generator: torch.Generator,
    dropout_weight: float,
) -> torch.Tensor:
    """Mean Gaussian NLL (standardised units) of every week of these trajectories, plus
    `dropout_weight` x the cross-entropy of the predicted drop-out hazard against the
    simulator's; each week's input is the true last week with probability `teacher`, else the
    model's own sample."""
    signals = batch["signals"]
    last = signals[:, 0]
    belief = signals.new_zeros(len(signals), network.config["hidden"])
    mean_sd = network.signal_mean, network.signal_std
    total = signals.new_zeros(())
    for t in range(signals.shape[1] - 1):
        mean, log_var, dropout, belief = network(trial_week(batch, t, last), belief)
        target = (signals[:, t + 1] - mean_sd[0]) / mean_sd[1]
        total = total + F.gaussian_nll_loss(mean, target, log_var.exp(), full=True)
        hazard = batch["dropout_hazard"][:, t]
        total = total + dropout_weight * F.binary_cross_entropy_with_logits(dropout, hazard)
        if teacher < 1.0:
            with torch.no_grad():
                noise = torch.randn(mean.shape, generator=generator, device=mean.device)
                own = support((mean + (0.5 * log_var).exp() * noise) * mean_sd[1] + mean_sd[0])
                keep = torch.rand(len(own), generator=generator, device=own.device) < teacher
                last = torch.where(keep[:, None, None], signals[:, t + 1], own)
        else:
            last = signals[:, t + 1]
    return total / (signals.shape[1] - 1)


def train_world_model(
    trials: Trials,
    config: WorldModelConfig | None = None,
    logdir: str | Path | None = None,
    progress: bool = True,
) -> WorldModel:
    """A world model fitted to `trials`; the same trials and config give the same weights on
    the same machine."""
    config = config or WorldModelConfig()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    people = np.unique(trials.patient)
    held_out = rng.choice(people, max(1, int(len(people) * config.validation_fraction)), False)
    is_val = np.isin(trials.patient, held_out)
    train = trials.subset(np.flatnonzero(~is_val)).tensors(config.device)
    val = trials.subset(np.flatnonzero(is_val)).tensors(config.device)

    network = WorldModelNetwork(trials.static.shape[1], config.hidden).to(config.device)
    network.set_input_scaling(train["static"], train["signals"])
    optimiser = torch.optim.Adam(network.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimiser,
        config.epochs,
        eta_min=config.learning_rate * config.final_lr_fraction,
    )
    support = SignalSupport(config.device)
    generator = torch.Generator(config.device).manual_seed(config.seed)
    writer = None
    if logdir is not None:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(logdir))
    n = len(train["static"])
    anneal_epochs = max(1, round(config.epochs * config.anneal_fraction))
    best, best_state, curve = float("inf"), None, []
    bar = tqdm(range(config.epochs), desc="world model", disable=not progress)
    for epoch in bar:
        teacher = 1.0 - (1.0 - config.teacher_final) * min(1.0, epoch / anneal_epochs)
        network.train()
        order = torch.randperm(n, generator=generator, device=config.device)
        losses = []
        for start in range(0, n, config.batch_size):
            rows = order[start : start + config.batch_size]
            loss = rollout_nll(
                network,
                {k: v[rows] for k, v in train.items()},
                teacher,
                support,
                generator,
                config.dropout_weight,
            )
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), config.grad_clip)
            optimiser.step()
            losses.append(loss.item())
        schedule.step()
        network.eval()
        with torch.no_grad():
            check = torch.Generator(config.device).manual_seed(config.seed + 1)
            val_nll = rollout_nll(network, val, 0.0, support, check, config.dropout_weight)
            val_nll = val_nll.item()
        curve.append((float(np.mean(losses)), val_nll, teacher))
        if val_nll < best:
            best, best_state = val_nll, copy.deepcopy(network.state_dict())
        bar.set_postfix(train=f"{curve[-1][0]:.3f}", val=f"{val_nll:.3f}", teacher=f"{teacher:.2f}")
        if writer is not None:
            writer.add_scalar("losses/train_nll", curve[-1][0], epoch)
            writer.add_scalar("losses/val_free_running_nll", val_nll, epoch)
            writer.add_scalar("charts/teacher_forcing", teacher, epoch)
    if writer is not None:
        writer.close()
    network.load_state_dict(best_state)
    history = {
        "best_val_free_running_nll": best,
        "train_patients": int(len(people) - len(held_out)),
        "validation_patients": int(len(held_out)),
        "train_nll": [c[0] for c in curve],
        "val_free_running_nll": [c[1] for c in curve],
        "config": asdict(config),
    }
    return WorldModel(network, history)
