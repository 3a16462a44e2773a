"""`RiskPredictor`: a trained `HybridLSTM` with its calibration, ready to score weeks.

Probabilities are `softmax(logits / temperature + class_bias)`, with the temperature and the
per-class bias fitted after training on the validation split (identity by default). The risk
score that drives the environment's reward is `P(medium) * 0.5 + P(high)`, in [0, 1]. The
class `predict` calls comes from the decision rule of `predictor.decision`:
`argmax(log p + decision_bias)` (plain argmax by default).

Public API::

    model = train_predictor(static, signals, labels)           # predictor.training
    proba = model.predict_proba(static, signals)               # (n, 3) NumPy, float32
    proba = model.predict_proba_tensor(static_t, signals_t)    # tensors on model.device
    fast = model.numpy_twin()        # the same on CPU tensors, through NumPy (one patient)
    label = model.predict(static, signals)                     # (n,) by the decision rule
    score = model.risk_score(static, signals)                  # (n,)
    model.save("predictor.pt"); model = RiskPredictor.load("predictor.pt")
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from generators.files import atomic_write, read_torch_checkpoint
from generators.signals import N_SIGNALS, WINDOW_DAYS
from predictor.decision import decide
from predictor.labels import RISK_CLASSES, check_signals
from predictor.network import N_CLASSES, HybridLSTM, NumpyHybridLSTM
from predictor.numpy_layers import array, softmax

FORMAT = "mano-predictor-2"
MEDIUM_WEIGHT = 0.5  # the weight of P(medium) in the risk score
_CHUNK = 8192  # rows per forward pass in `predict_proba`, bounds memory for large n
_KEYS = ("state_dict", "config", "calibration", "static_dim", "static_names", "history")


def risk_score_from_proba(proba: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """`P(medium) * 0.5 + P(high)` over the last axis (size 3), for NumPy arrays or tensors."""
    if proba.shape[-1] != N_CLASSES:
        raise ValueError(
            f"proba must have {N_CLASSES} classes ({', '.join(RISK_CLASSES)}) on the last "
            f"axis, got shape {tuple(proba.shape)}"
        )
    return proba[..., 1] * MEDIUM_WEIGHT + proba[..., 2]


def check_inputs(
    static: np.ndarray, signals: np.ndarray, static_dim: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`static` (n, S) and `signals` (n, 7, 5) as float32, with the same n; `static_dim`, when
    given, is the width S must have. A `ValueError` names what is wrong."""
    signals = check_signals(signals)
    static = np.asarray(static, dtype=np.float32)
    if static.ndim != 2:
        raise ValueError(f"static must have shape (n, static_dim), got shape {static.shape}")
    if static_dim is not None and static.shape[1] != static_dim:
        raise ValueError(
            f"static has {static.shape[1]} features per row, the model expects {static_dim}"
        )
    if static.shape[1] < 1:
        raise ValueError(f"static needs at least one feature per row, got shape {static.shape}")
    if len(static) != len(signals):
        raise ValueError(
            f"static has {len(static)} rows but signals has {len(signals)}: one row per week"
        )
    if not np.isfinite(static).all():
        columns = sorted(set(np.argwhere(~np.isfinite(static))[:, 1].tolist()))
        raise ValueError(f"static contains NaN or infinite values (columns {columns[:10]})")
    return static, signals


class RiskPredictor:
    """A `HybridLSTM` with its calibration and input description; see the module docstring."""

    def __init__(
        self,
        network: HybridLSTM,
        temperature: float = 1.0,
        class_bias: Sequence[float] = (0.0, 0.0, 0.0),
        static_names: Sequence[str] | None = None,
        history: dict | None = None,
        decision_bias: Sequence[float] = (0.0, 0.0, 0.0),
    ) -> None:
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if len(class_bias) != N_CLASSES:
            raise ValueError(f"class_bias needs {N_CLASSES} values, got {len(class_bias)}")
        if len(decision_bias) != N_CLASSES or not np.isfinite(decision_bias).all():
            raise ValueError(f"decision_bias needs {N_CLASSES} finite values, got {decision_bias}")
        if static_names is not None and len(static_names) != network.static_dim:
            raise ValueError(
                f"static_names has {len(static_names)} names for {network.static_dim} features"
            )
        self.network = network.eval()
        self.network.requires_grad_(False)
        self.temperature = float(temperature)
        self.class_bias = torch.tensor([float(b) for b in class_bias], device=self.device)
        self.decision_bias = np.array([float(b) for b in decision_bias])
        self.static_names = tuple(static_names) if static_names is not None else None
        self.history = history if history is not None else {}

    @property
    def static_dim(self) -> int:
        return self.network.static_dim

    @property
    def config(self) -> dict:
        """The network's sizes, as `HybridLSTM` takes them."""
        return dict(self.network.config)

    @property
    def device(self) -> torch.device:
        return self.network.signal_mean.device

    def to(self, device: str | torch.device) -> RiskPredictor:
        """Move the network and calibration to `device`; returns self."""
        self.network.to(device)
        self.class_bias = self.class_bias.to(device)
        return self

    # ---------------------------------------------------------------- prediction

    def predict_proba_tensor(self, static: torch.Tensor, signals: torch.Tensor) -> torch.Tensor:
        """Calibrated probabilities `(n, 3)` for tensors already on `self.device`, without a
        NumPy round trip (for batched environments). Shapes are checked; values are not, since
        that would force a device sync each call: `predict_proba` checks them."""
        if static.ndim != 2 or static.shape[1] != self.static_dim:
            raise ValueError(
                f"static must have shape (n, {self.static_dim}), got {tuple(static.shape)}"
            )
        expected = (static.shape[0], WINDOW_DAYS, N_SIGNALS)
        if tuple(signals.shape) != expected:
            raise ValueError(
                f"signals must have shape {expected} to match static, got {tuple(signals.shape)}"
            )
        if static.device != self.device or signals.device != self.device:
            raise ValueError(
                f"inputs are on {static.device} and {signals.device}, the model on {self.device}"
            )
        if self.network.training:
            self.network.eval()
        with torch.no_grad():
            logits = self.network(static.float(), signals.float())
            return torch.softmax(logits / self.temperature + self.class_bias, dim=1)

    def numpy_twin(self) -> NumpyRiskPredictor:
        """A copy that computes `predict_proba_tensor` through NumPy (see `NumpyRiskPredictor`)."""
        return NumpyRiskPredictor(self)

    def predict_proba(self, static: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """Calibrated probabilities `(n, 3)` float32 (columns in `RISK_CLASSES` order) for
        static `(n, static_dim)` and signals `(n, 7, 5)` in real units."""
        static, signals = check_inputs(static, signals, self.static_dim)
        if len(static) == 0:
            return np.zeros((0, N_CLASSES), dtype=np.float32)
        chunks = [
            self.predict_proba_tensor(
                torch.from_numpy(static[i : i + _CHUNK]).to(self.device),
                torch.from_numpy(signals[i : i + _CHUNK]).to(self.device),
            ).cpu()
            for i in range(0, len(static), _CHUNK)
        ]
        return torch.cat(chunks).numpy()

    def predict(self, static: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """Class `(n,)` int64 (0 = low, 1 = medium, 2 = high) by the decision rule,
        `argmax(log p + decision_bias)`."""
        return decide(self.predict_proba(static, signals), self.decision_bias)

    def risk_score(self, static: np.ndarray, signals: np.ndarray) -> np.ndarray:
        """`P(medium) * 0.5 + P(high)` per week, `(n,)` float32 in [0, 1]."""
        return risk_score_from_proba(self.predict_proba(static, signals))

    # ---------------------------------------------------------------- persistence

    def save(self, path: str | Path) -> None:
        """Write the model to one file, atomically (a temp file in the same folder, renamed),
        as plain tensors, numbers, strings and lists that `torch.load(weights_only=True)` reads."""
        payload = {
            "format": FORMAT,
            "classes": list(RISK_CLASSES),
            "state_dict": {k: v.cpu() for k, v in self.network.state_dict().items()},
            "config": self.config,
            "calibration": {
                "temperature": self.temperature,
                "class_bias": self.class_bias.cpu().tolist(),
                "decision_bias": self.decision_bias.tolist(),
            },
            "static_dim": self.static_dim,
            "static_names": list(self.static_names) if self.static_names is not None else None,
            "history": self.history,
        }
        with atomic_write(Path(path), "wb") as file:
            torch.save(payload, file)

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device = "cpu") -> RiskPredictor:
        """Read a model written by `save`, onto `device`.

        A missing file raises `FileNotFoundError`; an unreadable or truncated file, another
        format or a malformed payload raises `ValueError` naming the file and the problem.
        """
        payload = read_torch_checkpoint(path, FORMAT, "risk predictor", _KEYS)
        try:
            network = HybridLSTM(int(payload["static_dim"]), **payload["config"])
            network.load_state_dict(payload["state_dict"])
            calibration = payload["calibration"]
            model = cls(
                network,
                temperature=float(calibration["temperature"]),
                class_bias=[float(b) for b in calibration["class_bias"]],
                decision_bias=[float(b) for b in calibration["decision_bias"]],
                static_names=payload["static_names"],
                history=payload["history"],
            )
        except (AttributeError, KeyError, TypeError, ValueError, RuntimeError) as error:
            raise ValueError(f"{path}: malformed risk predictor file ({error})") from None
        return model.to(device)


class NumpyRiskPredictor:
    """`RiskPredictor.predict_proba_tensor` for float32 CPU tensors, computed through NumPy
    twins of the network (`predictor.network.NumpyHybridLSTM`): the same probabilities within
    float32 rounding, several times faster for one patient, where torch's per-operation
    overhead is most of the work. Inputs are not checked (the caller's are)."""

    def __init__(self, predictor: RiskPredictor) -> None:
        self.network = NumpyHybridLSTM(predictor.network)
        self.temperature = np.float32(predictor.temperature)
        self.class_bias = array(predictor.class_bias)

    def predict_proba_tensor(self, static: torch.Tensor, signals: torch.Tensor) -> torch.Tensor:
        logits = self.network(static.numpy(), signals.numpy())
        return torch.from_numpy(softmax(logits / self.temperature + self.class_bias))
