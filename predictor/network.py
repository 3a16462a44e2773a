"""The hybrid dual-branch network: static profile and 7-day signals -> 3 risk logits.

```
static (n, S) --standardise--> Linear-ReLU-Linear-ReLU ----------------------+
                                                                             concat -> Linear-ReLU
signals (n, 7, 5) --standardise--> stacked LSTM -> last hidden state --------+   -> dropout
                                                                                 -> Linear(3) logits
```

Both input transforms live inside the module as buffers (saved with the weights, moved with
`.to(device)`), so callers pass signals in real units and static features as they come. The
standardisations (identity until set) are fitted on the training split by `train_predictor`:
per signal, not per physiological range, because the few beats per minute or the hour of
sleep that tell severity apart are a tiny share of those ranges.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from generators.signals import N_SIGNALS
from predictor.numpy_layers import LSTM, Dense, array

N_CLASSES = 3


class HybridLSTM(nn.Module):
    """Static branch (two dense layers) and temporal branch (stacked LSTM), fused into
    3-class logits in `RISK_CLASSES` order. The small defaults keep CPU inference of a few
    thousand weeks in milliseconds."""

    def __init__(
        self,
        static_dim: int,
        static_hidden: int = 32,
        lstm_hidden: int = 32,
        lstm_layers: int = 2,
        fused_hidden: int = 32,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if static_dim < 1:
            raise ValueError(f"static_dim must be >= 1, got {static_dim}")
        self.static_dim = static_dim
        self.config = {
            "static_hidden": static_hidden,
            "lstm_hidden": lstm_hidden,
            "lstm_layers": lstm_layers,
            "fused_hidden": fused_hidden,
            "dropout": dropout,
        }
        self.static_branch = nn.Sequential(
            nn.Linear(static_dim, static_hidden),
            nn.ReLU(),
            nn.Linear(static_hidden, static_hidden),
            nn.ReLU(),
        )
        self.temporal_branch = nn.LSTM(
            N_SIGNALS, lstm_hidden, num_layers=lstm_layers, batch_first=True
        )
        self.head = nn.Sequential(
            nn.Linear(static_hidden + lstm_hidden, fused_hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(fused_hidden, N_CLASSES),
        )
        self.register_buffer("signal_mean", torch.zeros(N_SIGNALS))
        self.register_buffer("signal_std", torch.ones(N_SIGNALS))
        self.register_buffer("static_mean", torch.zeros(static_dim))
        self.register_buffer("static_std", torch.ones(static_dim))

    def set_input_scaling(self, static: np.ndarray, signals: np.ndarray) -> None:
        """Standardise static features (n, S) and each signal of (n, 7, 5) with the mean and
        std of these training inputs; a constant column keeps std 1 (no division by zero)."""
        for values, mean, std in (
            (static, self.static_mean, self.static_std),
            (signals.reshape(-1, N_SIGNALS), self.signal_mean, self.signal_std),
        ):
            spread = values.std(axis=0)
            mean.copy_(torch.from_numpy(values.mean(axis=0).astype(np.float32)))
            std.copy_(torch.from_numpy(np.where(spread > 1e-6, spread, 1.0).astype(np.float32)))

    def forward(self, static: torch.Tensor, signals: torch.Tensor) -> torch.Tensor:
        """Logits `(n, 3)` from static `(n, S)` and signals `(n, 7, 5)` in real units."""
        static_features = self.static_branch((static - self.static_mean) / self.static_std)
        _, (hidden, _) = self.temporal_branch((signals - self.signal_mean) / self.signal_std)
        return self.head(torch.cat([static_features, hidden[-1]], dim=1))


class NumpyHybridLSTM:
    """`HybridLSTM.forward` on NumPy float32 arrays, through twins of its layers
    (`predictor.numpy_layers`): the same logits within float32 rounding, several times faster
    for one patient on the CPU. A copy: later changes to the network's weights do not reach it."""

    def __init__(self, network: HybridLSTM) -> None:
        self.static_branch = Dense(network.static_branch)
        self.temporal_branch = LSTM(network.temporal_branch)
        self.head = Dense(network.head)
        self.static_mean, self.static_std = array(network.static_mean), array(network.static_std)
        self.signal_mean, self.signal_std = array(network.signal_mean), array(network.signal_std)

    def __call__(self, static: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """Logits `(n, 3)` from static `(n, S)` and signals `(n, 7, 5)` in real units."""
        static_features = self.static_branch((static - self.static_mean) / self.static_std)
        hidden = self.temporal_branch((signals - self.signal_mean) / self.signal_std)
        return self.head(np.concatenate([static_features, hidden], axis=1))
