"""DP-SGD with the participant as the privacy unit, through Opacus.

Opacus clips per-sample gradients; here a sample is a participant, with all of their windows.
Each update Poisson-samples participants (each with probability `sample_rate`), takes each
sampled participant's gradient of the loss on their windows (at most `windows_per_participant`,
drawn at random) as one per-sample gradient, and hands them to Opacus's `DPOptimizer`, which
clips each to `max_grad_norm`, adds Gaussian noise of standard deviation `noise_multiplier *
max_grad_norm`, divides by the expected number of participants and steps the optimiser it
wraps. A participant's whole contribution to an update is bounded, whatever their number of
windows, so the guarantee is about people, not weeks. Opacus's RDP accountant composes the
`steps` subsampled Gaussian mechanisms into (epsilon, delta); the noise multiplier is the
smallest that meets the budget over the planned number of updates.

What is private is the trained model; losses computed on real windows are not, so a private
run logs none. The random streams are seeded for reproducibility: the guarantee assumes the
seed is as secret as the data.

Public API::

    sigma = noise_multiplier(epsilon, delta, sample_rate, steps)   # ValueError if impossible
    dp = ParticipantDPSGD(data, participants, sample_rate, max_grad_norm, sigma, 64, rng, noise)
    optimizer = dp.wrap(torch.optim.Adam(params))
    dp.update(optimizer, lambda windows: loss(windows))             # one private update
    spent = privacy_spent(sigma, sample_rate, steps, delta)         # epsilon
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

ACCOUNTANT = "rdp"  # Opacus's Renyi-DP accountant


def noise_multiplier(epsilon: float, delta: float, sample_rate: float, steps: int) -> float:
    """The smallest Gaussian noise multiplier for which `steps` updates, each sampling
    participants with probability `sample_rate`, spend at most (`epsilon`, `delta`); a
    `ValueError` names the budget when none does."""
    from opacus.accountants.utils import get_noise_multiplier

    if not (epsilon > 0 and 0 < delta < 1 and 0 < sample_rate <= 1 and steps >= 1):
        raise ValueError(
            f"a privacy budget needs epsilon > 0, 0 < delta < 1, 0 < sample rate <= 1 and at "
            f"least one update, got epsilon={epsilon}, delta={delta}, "
            f"sample_rate={sample_rate}, steps={steps}"
        )
    try:
        return float(
            get_noise_multiplier(
                target_epsilon=epsilon,
                target_delta=delta,
                sample_rate=sample_rate,
                steps=steps,
                accountant=ACCOUNTANT,
            )
        )
    except ValueError as error:
        raise ValueError(
            f"no noise reaches epsilon={epsilon} at delta={delta} over {steps} updates at "
            f"sample rate {sample_rate} ({error}): raise epsilon or train for fewer updates"
        ) from None


def privacy_spent(noise: float, sample_rate: float, steps: int, delta: float) -> float:
    """The epsilon that `steps` updates at this noise multiplier and sample rate spend at
    `delta`, by Opacus's RDP accountant."""
    from opacus.accountants import RDPAccountant

    accountant = RDPAccountant()
    accountant.history = [(noise, sample_rate, steps)]
    return float(accountant.get_epsilon(delta=delta))


class ParticipantDPSGD:
    """Private updates over `data` (windows, first axis) owned by `participants` (one label
    per window); see the module docstring. `rng` (CPU) draws the participants and windows,
    `noise` (on the data's device) the Gaussian noise."""

    def __init__(
        self,
        data: torch.Tensor,
        participants: np.ndarray,
        sample_rate: float,
        max_grad_norm: float,
        noise_multiplier: float,
        windows_per_participant: int,
        rng: torch.Generator,
        noise: torch.Generator,
    ) -> None:
        participants = np.asarray(participants)
        if participants.shape != (len(data),):
            raise ValueError(
                f"need one participant per window: {len(data)} windows, participants of shape "
                f"{participants.shape}"
            )
        self.data = data
        self.groups = [
            torch.from_numpy(np.flatnonzero(participants == p)) for p in np.unique(participants)
        ]
        self.sample_rate, self.max_grad_norm = sample_rate, max_grad_norm
        self.noise_multiplier = noise_multiplier
        self.windows_per_participant = windows_per_participant
        self.rng, self.noise = rng, noise

    def wrap(self, optimizer: torch.optim.Optimizer):
        """`optimizer` as an Opacus `DPOptimizer` that clips, noises and averages over the
        expected number of participants per update."""
        from opacus.optimizers import DPOptimizer

        # DPOptimizer prepares only the parameters that require gradients when it is built;
        # which of them an update trains is set per update (`requires_grad`)
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                parameter.requires_grad_(True)
        return DPOptimizer(
            optimizer,
            noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.max_grad_norm,
            expected_batch_size=self.sample_rate * len(self.groups),
            loss_reduction="mean",
            generator=self.noise,
        )

    def update(self, optimizer, loss_of: Callable[[torch.Tensor], torch.Tensor]) -> None:
        """One private step of `optimizer` (from `wrap`) on `loss_of(windows)`: a scalar loss of
        one participant's windows, through the parameters being trained (`requires_grad`)."""
        params = [p for group in optimizer.param_groups for p in group["params"] if p.requires_grad]
        chosen = torch.rand(len(self.groups), generator=self.rng) < self.sample_rate
        grads = []
        for k in chosen.nonzero().flatten().tolist():
            rows = self.groups[k]
            if len(rows) > self.windows_per_participant:
                pick = torch.randperm(len(rows), generator=self.rng)
                rows = rows[pick[: self.windows_per_participant]]
            loss = loss_of(self.data[rows.to(self.data.device)])
            found = torch.autograd.grad(loss, params, allow_unused=True)
            grads.append(
                [
                    torch.zeros_like(p) if g is None else g
                    for g, p in zip(found, params, strict=True)
                ]
            )
        for i, p in enumerate(params):
            p.grad_sample = (
                torch.stack([g[i] for g in grads]) if grads else p.new_zeros((0, *p.shape))
            )
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
