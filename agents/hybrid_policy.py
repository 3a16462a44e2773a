"""The dual-head actor-critic for the hybrid action: a treatment and its intensity.

```
observation (static, signals, risk, exposure, week) -> flat (63) -> torso: 2 x (Linear, tanh)
  -> critic: Linear -> value
  -> treatment head: Linear -> 5 logits -> Categorical
  -> intensity head: Linear -> 5 x (alpha, beta) -> Beta of the chosen treatment only
```

The intensity is `0.1 + 0.9 * u` with `u ~ Beta(alpha_k, beta_k)` for the chosen treatment k:
bounded by construction, so no action is clipped and the log-probability is exact:

    log pi(k, i | s) = log Categorical(k) + log Beta(u | alpha_k, beta_k) - log 0.9

Only the chosen treatment's (alpha, beta) enters it, so the other treatments' intensity
parameters get no gradient from an action that did not use them. The entropy bonus covers both
heads: the categorical entropy plus the expected Beta entropy under the treatment probabilities.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Beta, Categorical

from generators.signals import N_SIGNALS, WINDOW_DAYS
from mano_gym.cohorts.cohort import STATIC_FEATURES
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.episodes import DEFAULT_MAX_WEEKS

OBS_DIM = len(STATIC_FEATURES) + WINDOW_DAYS * N_SIGNALS + 3 + N_TREATMENTS + 1
_SPAN = INTENSITY_HIGH - INTENSITY_LOW
_EDGE = 1e-4  # Beta samples are kept this far inside (0, 1), where the log-density is finite


def flatten_observation(
    obs: dict[str, torch.Tensor], max_weeks: int = DEFAULT_MAX_WEEKS
) -> torch.Tensor:
    """`(n, OBS_DIM)` float tensor of a batched observation (every part already in [0, 1]
    except `week`, divided here by `max_weeks`)."""
    n = obs["static"].shape[0]
    return torch.cat(
        [
            obs["static"],
            obs["signals"].reshape(n, -1),
            obs["risk"],
            obs["exposure"],
            obs["week"] / max_weeks,
        ],
        dim=1,
    ).float()


def layer_init(layer: nn.Linear, std: float = math.sqrt(2), bias: float = 0.0) -> nn.Linear:
    """Orthogonal weights and a constant bias (as in CleanRL and the PPO implementation
    details)."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias)
    return layer


class HybridActorCritic(nn.Module):
    """Shared torso, a value head, a categorical treatment head and a per-treatment Beta
    intensity head; see the module docstring."""

    def __init__(self, hidden: int = 64) -> None:
        super().__init__()
        self.config = {"hidden": hidden}
        self.torso = nn.Sequential(
            layer_init(nn.Linear(OBS_DIM, hidden)),
            nn.Tanh(),
            layer_init(nn.Linear(hidden, hidden)),
            nn.Tanh(),
        )
        self.critic = layer_init(nn.Linear(hidden, 1), std=1.0)
        self.treatment = layer_init(nn.Linear(hidden, N_TREATMENTS), std=0.01)
        self.intensity = layer_init(nn.Linear(hidden, 2 * N_TREATMENTS), std=0.01)

    def value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(self.torso(x)).squeeze(-1)

    def distributions(self, x: torch.Tensor) -> tuple[torch.Tensor, Categorical, Beta]:
        """Hidden features, the treatment distribution, and the intensity Betas of all five
        treatments (batch shape `(n, 5)`)."""
        h = self.torso(x)
        concentration = nn.functional.softplus(self.intensity(h)).view(-1, N_TREATMENTS, 2) + 1.0
        return (
            h,
            Categorical(logits=self.treatment(h)),
            Beta(concentration[..., 0], concentration[..., 1]),
        )

    def act(
        self,
        x: torch.Tensor,
        treatment: torch.Tensor | None = None,
        u: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """`(treatment, u, log_prob, entropy, value)`: sampled (from torch's global generator,
        seeded by the trainer) when `treatment` and `u` are None, else the log-probability of
        the given ones."""
        h, categorical, betas = self.distributions(x)
        if treatment is None:
            treatment = categorical.sample()
        chosen = Beta(
            _pick(betas.concentration1, treatment), _pick(betas.concentration0, treatment)
        )
        if u is None:
            u = chosen.sample()
        u = u.clamp(_EDGE, 1.0 - _EDGE)
        log_prob = categorical.log_prob(treatment) + chosen.log_prob(u) - math.log(_SPAN)
        entropy = categorical.entropy() + (categorical.probs * betas.entropy()).sum(-1)
        return treatment, u, log_prob, entropy, self.critic(h).squeeze(-1)

    def greedy(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The deterministic action: the most probable treatment at its Beta's mean intensity."""
        _, categorical, betas = self.distributions(x)
        treatment = categorical.probs.argmax(-1)
        return treatment, to_intensity(_pick(betas.mean, treatment))


def to_intensity(u: torch.Tensor) -> torch.Tensor:
    """The intensity in [0.1, 1.0] of a Beta sample `u` in [0, 1]."""
    return INTENSITY_LOW + _SPAN * u


def _pick(values: torch.Tensor, treatment: torch.Tensor) -> torch.Tensor:
    return values.gather(-1, treatment[:, None]).squeeze(-1)
