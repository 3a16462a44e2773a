"""Training of the risk predictor, top to bottom in one function (`train_predictor`).

1. split: stratified train / validation split of the weeks, by patient when patient ids are
   given (`validation_split`);
2. fit: weighted cross-entropy (weights from the training split's class frequencies), Adam,
   minibatches in a seeded order, early stopping on the validation loss with the best weights
   restored;
3. calibrate: a temperature and a per-class logit bias fitted on the validation split by
   minimising the unweighted negative log-likelihood, so that the probabilities (and the risk
   score) follow the true class frequencies again after the class weighting;
4. decide: the decision rule's class biases (`predictor.decision`) fitted on the validation
   split's calibrated probabilities: the best macro-F1 with recall (High) >= `high_recall`.

TensorBoard scalars under `logdir`, one point per epoch: `losses/train`, `losses/validation`
(both class-weighted), `metrics/validation_macro_f1`, `metrics/validation_accuracy`.

On a CPU this small network is bound by per-step overhead: `torch.set_num_threads(1)` around
training is usually fastest on a shared machine. Nothing global is set here.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold, train_test_split
from torch.nn import functional as F
from tqdm.auto import tqdm

from generators.config_checks import (
    DEVICE,
    FRACTION,
    NON_NEGATIVE,
    NON_NEGATIVE_INT,
    OPEN_FRACTION,
    POSITIVE,
    Rule,
    check_fields,
)
from predictor.decision import fit_decision_bias
from predictor.labels import RISK_CLASSES, check_labels
from predictor.model import RiskPredictor, check_inputs
from predictor.network import N_CLASSES, HybridLSTM

CLASS_WEIGHTINGS = ("balanced", "sqrt", "none")
CALIBRATIONS = ("temperature_bias", "temperature", "none")
DECISIONS = ("high_recall", "argmax")


@dataclass
class PredictorConfig:
    """Hyperparameters of `train_predictor`; every random choice follows `seed`."""

    seed: int = 0  # weight init, validation split, batch order, dropout
    epochs: int = 150  # upper bound; early stopping usually ends sooner
    batch_size: int = 256  # weeks per Adam step
    learning_rate: float = 2e-3  # Adam
    weight_decay: float = 1e-4  # Adam's L2 penalty
    patience: int = 15  # epochs without a lower validation loss before stopping
    validation_fraction: float = 0.2  # share of weeks held out for early stopping + calibration
    # Cross-entropy class weights: "balanced" = n / (3 * count) per class (inverse frequency),
    # "sqrt" = its square root (a milder push towards rare classes), "none" = all 1.
    class_weighting: str = "balanced"
    # Post-hoc calibration on the validation split: "temperature_bias" (a temperature and a
    # per-class logit bias), "temperature" (temperature only) or "none".
    calibration: str = "temperature_bias"
    # Decision rule of `predict`: "high_recall" (class biases with the best validation macro-F1
    # among those reaching recall (High) >= high_recall) or "argmax" (the most probable class).
    decision: str = "high_recall"
    # A point above the 0.90 a screen should reach on new patients: the validation estimate
    # of recall (High) has a standard error of about 0.005 on the default cohort.
    high_recall: float = 0.91
    static_hidden: int = 32  # width of the static branch's two dense layers
    lstm_hidden: int = 64  # hidden units of each LSTM layer
    lstm_layers: int = 2  # stacked LSTM layers
    fused_hidden: int = 64  # width of the dense layer after the two branches meet
    dropout: float = 0.1  # before the output layer
    device: str = "cpu"  # torch device for training, e.g. "cuda"; the model stays there

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if field.type == "int" and field.name != "seed" and value < 1:
                raise ValueError(f"PredictorConfig.{field.name} must be >= 1, got {value}")
        if self.class_weighting not in CLASS_WEIGHTINGS:
            raise ValueError(
                f"PredictorConfig.class_weighting must be one of {', '.join(CLASS_WEIGHTINGS)}, "
                f"got {self.class_weighting!r}"
            )
        if self.calibration not in CALIBRATIONS:
            raise ValueError(
                f"PredictorConfig.calibration must be one of {', '.join(CALIBRATIONS)}, "
                f"got {self.calibration!r}"
            )
        if self.decision not in DECISIONS:
            raise ValueError(
                f"PredictorConfig.decision must be one of {', '.join(DECISIONS)}, "
                f"got {self.decision!r}"
            )
        check_fields(
            self,
            {
                "seed": NON_NEGATIVE_INT,
                "learning_rate": POSITIVE,
                "weight_decay": NON_NEGATIVE,
                "validation_fraction": OPEN_FRACTION,
                "dropout": Rule(lambda v: FRACTION.check(v) and v < 1, "a number in [0, 1)"),
                "device": DEVICE,
            },
        )
        if not 0.0 <= self.high_recall <= 1.0:
            raise ValueError(
                f"PredictorConfig.high_recall must be in [0, 1], got {self.high_recall}"
            )
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError(
                f"PredictorConfig.validation_fraction must be in (0, 1), "
                f"got {self.validation_fraction}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"PredictorConfig.dropout must be in [0, 1), got {self.dropout}")
        if not self.learning_rate > 0 or not self.weight_decay >= 0:
            raise ValueError(
                "PredictorConfig.learning_rate must be > 0 and weight_decay >= 0, got "
                f"{self.learning_rate} and {self.weight_decay}"
            )


def class_weights(labels: np.ndarray, weighting: str) -> np.ndarray:
    """Cross-entropy weight per class from `labels`' class frequencies (see `PredictorConfig`)."""
    counts = np.bincount(labels, minlength=N_CLASSES).astype(np.float64)
    balanced = len(labels) / (N_CLASSES * counts)
    return {"balanced": balanced, "sqrt": np.sqrt(balanced), "none": np.ones(N_CLASSES)}[weighting]


def validation_split(
    labels: np.ndarray, fraction: float, seed: int, groups: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Training and validation row indices, stratified by label. With `groups`, whole groups
    (patients) go to one side: a patient's weeks are alike, so validation weeks of patients
    seen in training would flatter early stopping, calibration and the decision rule (a row
    split put recall (High) at 0.90 on validation and 0.875 on new patients). The grouped
    split is one fold of `StratifiedGroupKFold(round(1 / fraction))`."""
    rows = np.arange(len(labels))
    if groups is None:
        return tuple(train_test_split(rows, test_size=fraction, stratify=labels, random_state=seed))
    groups = np.asarray(groups)
    if groups.shape != labels.shape:
        raise ValueError(f"groups must have one entry per week {labels.shape}, got {groups.shape}")
    folds = round(1 / fraction)
    if folds < 2 or len(np.unique(groups)) < folds:
        raise ValueError(
            f"a grouped validation split of {fraction} needs at least {max(folds, 2)} groups "
            f"and a fraction <= 0.5, got {len(np.unique(groups))} groups"
        )
    splitter = StratifiedGroupKFold(folds, shuffle=True, random_state=seed)
    return next(splitter.split(rows, labels, groups))


def train_predictor(
    static: np.ndarray,
    signals: np.ndarray,
    labels: np.ndarray,
    config: PredictorConfig | None = None,
    logdir: str | Path | None = None,
    progress: bool = True,
    static_names: Sequence[str] | None = None,
    groups: np.ndarray | None = None,
) -> RiskPredictor:
    """Train a calibrated `RiskPredictor` on static `(n, S)`, signals `(n, 7, 5)` in real units
    and labels `(n,)` in {0, 1, 2}; `groups` (n,), the patient of each week, keeps a patient's
    weeks on one side of the validation split. The same config on the same machine gives the
    same weights; torch's global RNG is left as it was. `model.history` records the run."""
    cfg = config if config is not None else PredictorConfig()
    static, signals = check_inputs(static, signals)
    labels = check_labels(labels, len(static))
    if static_names is not None and len(static_names) != static.shape[1]:
        raise ValueError(
            f"static_names has {len(static_names)} names for {static.shape[1]} static features"
        )
    counts = np.bincount(labels, minlength=N_CLASSES)
    if (counts < 2).any():
        found = ", ".join(f"{c} {name}" for c, name in zip(counts, RISK_CLASSES, strict=True))
        raise ValueError(f"labels need at least 2 weeks of every class to train, found {found}")
    device = torch.device(cfg.device)
    started = time.perf_counter()

    # 1. split: stratified, so both parts keep the class frequencies
    train_idx, val_idx = validation_split(labels, cfg.validation_fraction, cfg.seed, groups)

    def tensors(idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            torch.from_numpy(static[idx]).to(device),
            torch.from_numpy(signals[idx]).to(device),
            torch.from_numpy(labels[idx]).to(device),
        )

    train_static, train_signals, train_labels = tensors(train_idx)
    val_static, val_signals, val_labels = tensors(val_idx)
    weights = class_weights(labels[train_idx], cfg.class_weighting)
    weight_t = torch.tensor(weights, dtype=torch.float32, device=device)

    # Weight init and dropout draw from torch's global RNG: fork it so the caller's is kept.
    # Init runs on the CPU so that CPU and CUDA models start identical.
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(cfg.seed)
        network = HybridLSTM(
            static.shape[1],
            static_hidden=cfg.static_hidden,
            lstm_hidden=cfg.lstm_hidden,
            lstm_layers=cfg.lstm_layers,
            fused_hidden=cfg.fused_hidden,
            dropout=cfg.dropout,
        )
        network.set_input_scaling(static[train_idx], signals[train_idx])
        network.to(device)
        optimizer = torch.optim.Adam(
            network.parameters(), lr=cfg.learning_rate, weight_decay=cfg.weight_decay
        )
        order_rng = torch.Generator().manual_seed(cfg.seed)  # batch order
        writer = None
        if logdir is not None:
            from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only if used

            writer = SummaryWriter(str(logdir))

        # 2. fit, with early stopping on the validation loss
        history = {"train_loss": [], "validation_loss": [], "validation_macro_f1": []}
        best_loss, best_epoch, best_state = math.inf, 0, None
        bar = tqdm(range(1, cfg.epochs + 1), desc="risk predictor", disable=not progress)
        try:
            for epoch in bar:
                network.train()
                total, seen = 0.0, 0
                for batch in torch.randperm(len(train_idx), generator=order_rng).split(
                    cfg.batch_size
                ):
                    batch = batch.to(device)
                    logits = network(train_static[batch], train_signals[batch])
                    loss = F.cross_entropy(logits, train_labels[batch], weight=weight_t)
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += loss.item() * len(batch)
                    seen += len(batch)
                train_loss = total / seen

                network.eval()
                with torch.no_grad():
                    val_logits = network(val_static, val_signals)
                    val_loss = F.cross_entropy(val_logits, val_labels, weight=weight_t).item()
                val_pred = val_logits.argmax(dim=1).cpu().numpy()
                val_true = labels[val_idx]
                macro_f1 = f1_score(val_true, val_pred, average="macro", zero_division=0)
                accuracy = accuracy_score(val_true, val_pred)
                history["train_loss"].append(train_loss)
                history["validation_loss"].append(val_loss)
                history["validation_macro_f1"].append(float(macro_f1))
                bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
                if writer is not None:
                    writer.add_scalar("losses/train", train_loss, epoch)
                    writer.add_scalar("losses/validation", val_loss, epoch)
                    writer.add_scalar("metrics/validation_macro_f1", macro_f1, epoch)
                    writer.add_scalar("metrics/validation_accuracy", accuracy, epoch)

                if val_loss < best_loss:
                    best_loss, best_epoch = val_loss, epoch
                    best_state = copy.deepcopy(network.state_dict())
                elif epoch - best_epoch >= cfg.patience:
                    break
        finally:
            if writer is not None:
                writer.close()
        network.load_state_dict(best_state)
        network.eval()

    # 3. calibrate on the validation split, unweighted: probabilities for the true frequencies
    with torch.no_grad():
        val_logits = network(val_static, val_signals)
    temperature, bias = _calibrate(val_logits, val_labels, cfg.calibration)
    with torch.no_grad():
        nll_before = F.cross_entropy(val_logits, val_labels).item()
        val_calibrated = val_logits / temperature + torch.tensor(bias, device=device)
        nll_after = F.cross_entropy(val_calibrated, val_labels).item()

    # 4. decide, on the same validation weeks
    decision_bias, decided = [0.0] * N_CLASSES, {}
    if cfg.decision == "high_recall":
        val_proba = torch.softmax(val_calibrated.double(), dim=1).cpu().numpy()
        decision_bias, decided = fit_decision_bias(val_proba, labels[val_idx], cfg.high_recall)

    history.update(
        best_epoch=best_epoch,
        epochs_run=len(history["validation_loss"]),
        class_weights=weights.tolist(),
        n_train=len(train_idx),
        n_validation=len(val_idx),
        validation_nll_uncalibrated=nll_before,
        validation_nll_calibrated=nll_after,
        validation_decided=decided,
        seconds=time.perf_counter() - started,
    )
    return RiskPredictor(
        network,
        temperature=temperature,
        class_bias=bias,
        static_names=static_names,
        history=history,
        decision_bias=decision_bias,
    )


def _calibrate(logits: torch.Tensor, labels: torch.Tensor, kind: str) -> tuple[float, list[float]]:
    """Temperature T and class bias b minimising the mean NLL of `softmax(logits / T + b)`.

    LBFGS over log T (so T stays positive) and b; deterministic, a few dozen steps."""
    if kind == "none":
        return 1.0, [0.0] * N_CLASSES
    logits, labels = logits.detach().cpu().double(), labels.cpu()
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(N_CLASSES, dtype=torch.float64, requires_grad=kind == "temperature_bias")
    params = [log_t, bias] if kind == "temperature_bias" else [log_t]
    optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp() + bias, labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    bias = bias.detach() - bias.detach().mean()  # softmax ignores a shared shift
    return float(log_t.exp().item()), bias.tolist()
