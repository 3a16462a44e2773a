"""The world model: an attention Seq2Seq that predicts a patient's next week of daily signals.

Distilled from virtual clinical trials (`mano_gym.cohorts.trials`) of the reference simulator,
it maps (the patient's baseline rhythm, last week, profile, exposure trace, this week's action,
and a belief carried from week to week) to a Gaussian over each signal of each of the next 7
days:

```
[baseline | last week] (7 days x 10) --GRU encoder--> 7 day states ------------------+
                                                      \\-> last state                | keys,
exposure trace, treatment one-hot, intensity --+                                      | values
last week's belief + last state + treatment --GRU cell--> this week's belief          |
profile, treatment, belief --------------------------- MLP --> context                |
7 learned day queries + context ----------------------------------------> attention --+
[attended, query, baseline day, last week day] -- MLP --> mean (7 x 5), log-variance (7 x 5)
this week's belief, treatment now ------------------ MLP --> logit of leaving care this week
```

The mean is predicted as a change from the last week, in standardised units (each signal's
training mean and SD, stored as buffers with the weights). The baseline rhythm is the
patient's TimeGAN week (part of the synthetic patient, like the profile): it anchors a rollout,
so a model fed its own samples week after week does not let the patient's rhythm wander, and
it leaves the model to learn only what the week changes (severity, treatment, noise). The day
queries decode all 7 days in one pass, so one environment step is one forward pass.

The belief is the model's running summary of every week seen so far in the episode (zeros
before the first). One week is a noisy view of a patient's latent severity; a model that saw
only the last week would treat each noisy week as news and, fed its own samples, let severe
patients recover far too fast. The belief lets it keep what persists.

Public API::

    model = WorldModel(WorldModelNetwork(static_dim))        # or WorldModel.load(path)
    belief = model.initial_belief(n)
    week = WeekInputs(static, baseline, last, exposure, treatment, intensity)
    mean, var, hazard, belief = model.predict(week, belief)  # real units; drop-out hazard
    signals, hazard, belief = model.sample(week, belief, noise)  # on the signals' support
    fast = model.numpy_twin()                            # the same on CPU tensors, via NumPy
    model.save(path)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from generators.files import atomic_write, read_torch_checkpoint
from generators.signals import (
    N_SIGNALS,
    SIGNAL_HIGH,
    SIGNAL_LOW,
    SIGNALS,
    WINDOW_DAYS,
    to_support,
)
from mano_gym.dynamics.treatments import N_TREATMENTS
from predictor.numpy_layers import GRU, Dense, GRUCell, array, attention, sigmoid

FORMAT = "mano-world-model-2"
LOG_VAR_RANGE = (-9.0, 3.0)  # standardised units: SD from 0.01 to 4.5 training SDs
_KEYS = ("state_dict", "config", "static_dim", "history")


@dataclass(frozen=True)
class WeekInputs:
    """What the world model reads to predict one week of n patients (tensors on its device)."""

    static: torch.Tensor  # (n, S) encoded profile
    baseline: torch.Tensor  # (n, 7, 5) baseline rhythm, real units
    last: torch.Tensor  # (n, 7, 5) last week, real units
    exposure: torch.Tensor  # (n, 5) exposure trace before this week
    treatment: torch.Tensor  # (n,) long, this week's treatment
    intensity: torch.Tensor  # (n,) float, this week's intensity


class WorldModelNetwork(nn.Module):
    """The Seq2Seq network on standardised inputs; see the module docstring."""

    def __init__(self, static_dim: int, hidden: int = 48) -> None:
        super().__init__()
        if static_dim < 1 or hidden < 1:
            raise ValueError(f"static_dim and hidden must be >= 1, got {static_dim}, {hidden}")
        self.static_dim, self.config = static_dim, {"hidden": hidden}
        self.encoder = nn.GRU(2 * N_SIGNALS, hidden, batch_first=True)
        self.belief = nn.GRUCell(hidden + 2 * N_TREATMENTS + 1, hidden)
        self.context = nn.Sequential(
            nn.Linear(static_dim + 2 * N_TREATMENTS + 1 + hidden, hidden), nn.Tanh()
        )
        self.day_queries = nn.Parameter(torch.randn(WINDOW_DAYS, hidden) * 0.1)
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.decoder = nn.Sequential(
            nn.Linear(2 * hidden + 2 * N_SIGNALS, hidden),
            nn.Tanh(),
            nn.Linear(hidden, 2 * N_SIGNALS),
        )
        self.dropout = nn.Sequential(
            nn.Linear(hidden + 2 * N_TREATMENTS + 1, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )
        self.register_buffer("signal_mean", torch.zeros(N_SIGNALS))
        self.register_buffer("signal_std", torch.ones(N_SIGNALS))
        self.register_buffer("static_mean", torch.zeros(static_dim))
        self.register_buffer("static_std", torch.ones(static_dim))

    def set_input_scaling(self, static: torch.Tensor, signals: torch.Tensor) -> None:
        """Standardise with the mean and SD of training inputs: static (n, S), signals
        (..., 5); a constant column keeps SD 1."""
        for values, mean, std in (
            (static, self.static_mean, self.static_std),
            (signals.reshape(-1, N_SIGNALS), self.signal_mean, self.signal_std),
        ):
            spread = values.float().std(dim=0)
            mean.copy_(values.float().mean(dim=0))
            std.copy_(torch.where(spread > 1e-6, spread, torch.ones_like(spread)))

    def forward(
        self, week: WeekInputs, belief: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean and log-variance `(n, 7, 5)` of the next week, standardised, the logit `(n,)`
        of leaving care in it, and the updated belief `(n, hidden)`, from this week's inputs
        and the belief before it."""
        baseline = (week.baseline - self.signal_mean) / self.signal_std
        last = (week.last - self.signal_mean) / self.signal_std
        states, final = self.encoder(torch.cat([baseline, last], dim=2))
        action = F.one_hot(week.treatment, N_TREATMENTS).to(states.dtype)
        treatment_now = torch.cat([week.exposure, action, week.intensity[:, None]], dim=1)
        belief = self.belief(torch.cat([final[0], treatment_now], dim=1), belief)
        condition = torch.cat(
            [(week.static - self.static_mean) / self.static_std, treatment_now, belief], dim=1
        )
        queries = self.day_queries + self.context(condition)[:, None, :]
        attended = F.scaled_dot_product_attention(
            self.query(queries), self.key(states), self.value(states)
        )
        out = self.decoder(torch.cat([attended, queries, baseline, last], dim=2))
        mean, log_var = out.split(N_SIGNALS, dim=2)
        dropout = self.dropout(torch.cat([belief, treatment_now], dim=1))[:, 0]
        return last + mean, log_var.clamp(*LOG_VAR_RANGE), dropout, belief


class SignalSupport:
    """`generators.signals.to_support` for tensors on one device: clip each signal to its range
    and round the whole-number ones."""

    def __init__(self, device: str | torch.device) -> None:
        self.low = torch.as_tensor(SIGNAL_LOW, device=device)
        self.high = torch.as_tensor(SIGNAL_HIGH, device=device)
        self.integer = torch.tensor([s.integer for s in SIGNALS], device=device)

    def __call__(self, signals: torch.Tensor) -> torch.Tensor:
        clipped = torch.minimum(torch.maximum(signals, self.low), self.high)
        return torch.where(self.integer, clipped.round(), clipped)


class WorldModel:
    """A trained `WorldModelNetwork` in real units: predicts, samples, saves and loads."""

    def __init__(self, network: WorldModelNetwork, history: dict | None = None) -> None:
        self.network = network.eval()
        self.network.requires_grad_(False)
        self.history = history if history is not None else {}
        self.to_support = SignalSupport(self.device)

    @property
    def device(self) -> torch.device:
        return self.network.signal_mean.device

    @property
    def static_dim(self) -> int:
        return self.network.static_dim

    def to(self, device: str | torch.device) -> WorldModel:
        self.network.to(device)
        self.to_support = SignalSupport(self.device)
        return self

    def initial_belief(self, n: int) -> torch.Tensor:
        """The belief before a patient's first week: zeros `(n, hidden)`."""
        return torch.zeros(n, self.network.config["hidden"], device=self.device)

    def predict(
        self, week: WeekInputs, belief: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mean and variance `(n, 7, 5)` of next week's signals in real units, the probability
        `(n,)` of leaving care this week, and the updated belief (tensors on `self.device`)."""
        with torch.no_grad():
            mean, log_var, dropout, belief = self.network(week, belief)
        std = self.network.signal_std
        mean, var = mean * std + self.network.signal_mean, log_var.exp() * std**2
        return mean, var, torch.sigmoid(dropout), belief

    def sample(
        self, week: WeekInputs, belief: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Next week `(n, 7, 5)` drawn with standard-normal `noise` `(n, 7, 5)` and put on each
        signal's support (clipped to its range, whole numbers where the signal is), the
        drop-out hazard `(n,)` and the updated belief."""
        mean, var, hazard, belief = self.predict(week, belief)
        return self.to_support(mean + var.sqrt() * noise), hazard, belief

    def numpy_twin(self) -> NumpyWorldModel:
        """A copy that computes `sample` through NumPy (see `NumpyWorldModel`)."""
        return NumpyWorldModel(self.network)

    def save(self, path: str | Path) -> None:
        """Write the model to one file atomically, readable with `weights_only=True`."""
        payload = {
            "format": FORMAT,
            "state_dict": {k: v.cpu() for k, v in self.network.state_dict().items()},
            "config": dict(self.network.config),
            "static_dim": self.static_dim,
            "history": self.history,
        }
        with atomic_write(Path(path), "wb") as file:
            torch.save(payload, file)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> WorldModel:
        """A model written by `save`, on `device`; a clear error for anything else."""
        payload = read_torch_checkpoint(path, FORMAT, "world model", _KEYS)
        try:
            network = WorldModelNetwork(int(payload["static_dim"]), **payload["config"])
            network.load_state_dict(payload["state_dict"])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{path}: malformed world model file ({error})") from None
        return cls(network, payload["history"]).to(device)


class NumpyWorldModel:
    """`WorldModel.sample` for float32 CPU tensors, computed through NumPy twins of the
    network's layers (`predictor.numpy_layers`): the same draws within float32 rounding (a
    whole-number signal within rounding of a half may round the other way), several times
    faster for one patient, where torch's per-operation overhead is most of the work. A copy:
    later changes to the network's weights do not reach it."""

    def __init__(self, network: WorldModelNetwork) -> None:
        self.encoder, self.belief = GRU(network.encoder), GRUCell(network.belief)
        self.context, self.decoder = Dense(network.context), Dense(network.decoder)
        self.query = Dense(network.query)
        self.key_value = Dense.side_by_side(network.key, network.value)  # of the same states
        self.dropout, self.day_queries = Dense(network.dropout), array(network.day_queries)
        self.signal_mean, self.signal_std = array(network.signal_mean), array(network.signal_std)
        self.static_mean, self.static_std = array(network.static_mean), array(network.static_std)
        self.one_hot = np.eye(N_TREATMENTS, dtype=np.float32)

    def forward(
        self, week: dict[str, np.ndarray], belief: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """`WorldModelNetwork.forward` on arrays: `week` holds `WeekInputs`' fields by name."""
        baseline = (week["baseline"] - self.signal_mean) / self.signal_std
        last = (week["last"] - self.signal_mean) / self.signal_std
        states, final = self.encoder(np.concatenate([baseline, last], axis=2))
        action = self.one_hot[week["treatment"]]
        treatment_now = np.concatenate(
            [week["exposure"], action, week["intensity"][:, None]], axis=1
        )
        belief = self.belief(np.concatenate([final, treatment_now], axis=1), belief)
        static = (week["static"] - self.static_mean) / self.static_std
        condition = np.concatenate([static, treatment_now, belief], axis=1)
        queries = self.day_queries + self.context(condition)[:, None, :]
        keys_values = self.key_value(states)
        hidden = states.shape[-1]
        attended = attention(
            self.query(queries), keys_values[..., :hidden], keys_values[..., hidden:]
        )
        out = self.decoder(np.concatenate([attended, queries, baseline, last], axis=2))
        mean, log_var = out[..., :N_SIGNALS], out[..., N_SIGNALS:]
        dropout = self.dropout(np.concatenate([belief, treatment_now], axis=1))[:, 0]
        log_var = np.minimum(np.maximum(log_var, LOG_VAR_RANGE[0]), LOG_VAR_RANGE[1])
        return last + mean, log_var, dropout, belief

    def sample(
        self, week: WeekInputs, belief: torch.Tensor, noise: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """What `WorldModel.sample` returns, for CPU tensors."""
        arrays = {name: getattr(week, name).numpy() for name in week.__dataclass_fields__}
        mean, log_var, dropout, belief = self.forward(arrays, belief.numpy())
        mean = mean * self.signal_std + self.signal_mean
        std = np.sqrt(np.exp(log_var) * self.signal_std**2)
        signals = to_support(mean + std * noise.numpy())
        hazard = sigmoid(dropout)
        return torch.from_numpy(signals), torch.from_numpy(hazard), torch.from_numpy(belief)
