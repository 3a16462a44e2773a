"""Fidelity and utility of synthetic 7-day signal windows, measured against real windows.

Every function takes `(N, days, 5)` arrays in real units (last axis in `SIGNAL_NAMES` order) and
scales internally where it needs to, with per-signal min-max fitted on the real reference data.

| metric                  | what it compares                                  | best  |
|-------------------------|---------------------------------------------------|-------|
| `distribution_score`    | per-window means (the seed project's score)       | 1     |
| `daily_marginal_ks`     | each day's values, signal by signal               | 0     |
| `autocorrelation_error` | lag-1 autocorrelation within windows              | 0     |
| `discriminative_score`  | whole windows, through a post-hoc GRU classifier  | 0     |
| `predictive_score`      | one-step-ahead forecasting, synthetic vs real use | ratio 1 |

The two GRU scores follow TimeGAN (Yoon et al., NeurIPS 2019): a small network trained after
the fact, so they measure what a fresh model can tell or learn from the data, not what the
generator's own discriminator thinks.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np
import torch
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.stats import ks_2samp
from sklearn.model_selection import StratifiedGroupKFold
from torch import nn

from generators.signals import N_SIGNALS

# TimeGAN sizes its post-hoc GRUs at features // 2, which is 2 units here: too few to pick up
# day-to-day dynamics. 8 units stay small enough to train in seconds on a CPU.
DISCRIMINATOR_HIDDEN = 8
PREDICTOR_HIDDEN = 8
DISCRIMINATOR_FOLDS = 5  # every window is tested once, by a GRU trained on the other 80%
# Classifiers averaged per score. Against the 75 real weeks of the two held-out people, ten
# single classifiers gave one set of synthetic weeks 0.27-0.42 and the real training weeks
# 0.20-0.32: too wide for a comparison within 0.02. The mean of 10 is about 3x narrower.
DISCRIMINATOR_REPEATS = 10
LEARNING_RATE = 1e-2  # full-batch Adam, a few hundred steps


def check_windows(values: np.ndarray, name: str = "windows") -> np.ndarray:
    """`values` as a float32 `(N, days, N_SIGNALS)` array; `ValueError` on anything else."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 3 or values.shape[-1] != N_SIGNALS:
        raise ValueError(f"{name}: expected shape (N, days, {N_SIGNALS}), got {values.shape}")
    if len(values) == 0:
        raise ValueError(f"{name}: no windows")
    if not np.isfinite(values).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return values


def _check_pair(real: np.ndarray, synthetic: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    real, synthetic = check_windows(real, "real"), check_windows(synthetic, "synthetic")
    if real.shape[1] != synthetic.shape[1]:
        raise ValueError(
            f"real windows have {real.shape[1]} days, synthetic ones {synthetic.shape[1]}"
        )
    return real, synthetic


def distribution_score(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean over signals of 1 - KS statistic between real and synthetic per-window means.

    The seed project's score: 1 = the per-window means are distributed identically, 0 = the
    two sets do not overlap. Higher is better. Blind to day-to-day dynamics.
    """
    real, synthetic = _check_pair(real, synthetic)
    # float64 sums of a week's float32 values are exact, so the means do not depend on day order
    means = (x.mean(axis=1, dtype=np.float64) for x in (real, synthetic))
    ks = ks_2samp(*means, axis=0).statistic
    return float(1.0 - np.mean(ks))


def daily_marginal_ks(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean over days and signals of the KS statistic between real and synthetic values.

    0 = every day's marginal matches, 1 = disjoint. Lower is better.
    """
    real, synthetic = _check_pair(real, synthetic)
    flat = (x.reshape(len(x), -1) for x in (real, synthetic))
    return float(np.mean(ks_2samp(*flat, axis=0).statistic))


def lag1_autocorrelation(windows: np.ndarray) -> np.ndarray:
    """Per-signal lag-1 autocorrelation, pooled over windows, of deviations from each window's
    own mean (so differences between people and weeks do not count as persistence).

    Constant windows add nothing to either sum; a signal constant in every window gets 0. With
    7-day windows the estimate is biased towards negative values (about -(1 + 3 phi) / 7 for an
    AR(1) with coefficient phi); compare estimates, do not read them as phi.
    """
    windows = check_windows(windows).astype(np.float64)
    if windows.shape[1] < 2:
        raise ValueError(f"need at least 2 days per window, got {windows.shape[1]}")
    deviations = windows - windows.mean(axis=1, keepdims=True)
    lagged = (deviations[:, 1:] * deviations[:, :-1]).sum(axis=(0, 1))
    variance = (deviations**2).sum(axis=(0, 1))
    return np.divide(lagged, variance, out=np.zeros_like(variance), where=variance > 0)


def autocorrelation_error(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Mean over signals of |lag-1 autocorrelation(real) - lag-1 autocorrelation(synthetic)|,
    see `lag1_autocorrelation`. 0 = same day-to-day persistence. Lower is better."""
    real, synthetic = _check_pair(real, synthetic)
    return float(np.mean(np.abs(lag1_autocorrelation(real) - lag1_autocorrelation(synthetic))))


class _GRUHead(nn.Module):
    """A one-layer GRU followed by a linear map, at the last step or at every step."""

    def __init__(self, inputs: int, hidden: int, outputs: int, every_step: bool) -> None:
        super().__init__()
        self.gru = nn.GRU(inputs, hidden, batch_first=True)
        self.head = nn.Linear(hidden, outputs)
        self.every_step = every_step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, last = self.gru(x)
        return self.head(states if self.every_step else last[-1])


def _positive(scale: np.ndarray) -> np.ndarray:
    # A signal constant in the reference gets scale 1 (values map to 0, not to NaN).
    return np.where(scale > 0, scale, 1.0).astype(np.float32)


def minmax_scaler(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-signal minimum and range of the reference windows, for min-max scaling
    (`(x - low) / span`; a signal constant in the reference gets span 1)."""
    low = reference.min(axis=(0, 1))
    return low, _positive(reference.max(axis=(0, 1)) - low)


def _fit(
    model: nn.Module,
    loss_fn: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    iterations: int,
) -> nn.Module:
    # Full-batch Adam: the sets are a few hundred windows, so minibatches would only add noise
    # and time.
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    for _ in range(iterations):
        optimiser.zero_grad()
        loss_fn(model(x), y).backward()
        optimiser.step()
    return model.eval()


@contextmanager
def _private_rng(device: torch.device) -> Iterator[None]:
    """Seed inside freely: the caller's torch RNG state is restored afterwards. On CPU the tiny
    GRUs also run on one thread, which is faster than several threads contending for them."""
    threads = torch.get_num_threads()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        if device.type == "cpu":
            torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(threads)


def _shared_day_groups(windows: np.ndarray) -> np.ndarray:
    """Label windows that share a day (identical row of signals), directly or through a chain of
    windows: overlapping windows of one person's run of days end up in one group."""
    n, days, _ = windows.shape
    _, day = np.unique(windows.reshape(n * days, -1), axis=0, return_inverse=True)
    window = np.repeat(np.arange(n), days)
    # the components of the bipartite graph window -- day are the groups
    size = n + day.max() + 1
    links = coo_array((np.ones(n * days), (window, n + day.ravel())), shape=(size, size))
    return connected_components(links, directed=False)[1][:n]


def discriminative_score(
    real: np.ndarray,
    synthetic: np.ndarray,
    seed: int = 0,
    device: str | torch.device = "cpu",
    iterations: int = 200,
    repeats: int = DISCRIMINATOR_REPEATS,
) -> float:
    """How well a fresh GRU classifier tells synthetic windows from real ones: |0.5 - accuracy|.

    TimeGAN's post-hoc discriminator, cross-validated: an equal number of real and synthetic
    windows (the larger set subsampled) is cut into `DISCRIMINATOR_FOLDS` stratified folds; a
    GRU (hidden size `DISCRIMINATOR_HIDDEN`, last day's state, `iterations` full-batch Adam
    steps) is trained on 80% and predicts the other 20%, fold by fold, and the accuracy is
    pooled over every window. 0 = indistinguishable, 0.5 = always told apart. Lower is better.

    Two departures from TimeGAN, both because of how few and how overlapping the real weeks
    are: real windows that share a day stay in the same fold (otherwise the classifier wins by
    recognising a training week shifted by a day), and the GRU reads each day's change from the
    day before beside the min-max scaled values (within a week the signals move little next to
    the differences between people; without the changes a small GRU cannot tell real weeks from
    the same weeks shuffled in time). Chance alone leaves about 0.4 / sqrt(2 n) for n windows a
    side (0.015 for 339).

    The score is the mean over `repeats` such classifiers (seeds `seed`, `seed + 1`, ...), each
    with its own subsample, folds and initial weights: one classifier's score swings by several
    times the chance level, see `DISCRIMINATOR_REPEATS`.
    """
    real, synthetic = _check_pair(real, synthetic)
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    size = min(len(real), len(synthetic))
    if size < DISCRIMINATOR_FOLDS:
        raise ValueError(f"need at least {DISCRIMINATOR_FOLDS} real and synthetic windows")
    device = torch.device(device)
    scores = [
        _discriminate(real, synthetic, size, seed + i, device, iterations) for i in range(repeats)
    ]
    return float(np.mean(scores))


def _discriminate(
    real: np.ndarray,
    synthetic: np.ndarray,
    size: int,
    seed: int,
    device: torch.device,
    iterations: int,
) -> float:
    """One cross-validated classifier of `discriminative_score`, on `size` windows a side."""
    rng = np.random.default_rng(seed)
    real_part = real[rng.choice(len(real), size, replace=False)]
    x = np.concatenate([real_part, synthetic[rng.choice(len(synthetic), size, replace=False)]])
    y = np.repeat(np.array([1.0, 0.0], dtype=np.float32), size)
    # stride-1 real windows overlap by up to 6 days; keep each chain of them in one fold
    runs = _shared_day_groups(real_part)
    if runs.max() + 1 < DISCRIMINATOR_FOLDS:
        raise ValueError(
            f"the real windows form only {runs.max() + 1} runs of overlapping days; "
            f"need {DISCRIMINATOR_FOLDS} to cross-validate"
        )
    groups = np.concatenate([runs, size + np.arange(size)])
    folds = StratifiedGroupKFold(DISCRIMINATOR_FOLDS, shuffle=True, random_state=seed)

    low, span = minmax_scaler(real)
    change = _positive(np.diff(real, axis=1).std(axis=(0, 1)))
    x = np.concatenate([(x - low) / span, np.diff(x, axis=1, prepend=x[:, :1]) / change], axis=2)
    x_t, y_t = torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)[:, None]
    correct = 0
    with _private_rng(device):
        torch.manual_seed(seed)
        for train, test in folds.split(x, y, groups):
            model = _GRUHead(2 * N_SIGNALS, DISCRIMINATOR_HIDDEN, 1, every_step=False).to(device)
            _fit(model, nn.BCEWithLogitsLoss(), x_t[train], y_t[train], iterations)
            with torch.no_grad():
                correct += ((model(x_t[test]) > 0) == (y_t[test] > 0.5)).sum().item()
    return abs(0.5 - correct / len(x))


def predictive_score(
    train_real: np.ndarray,
    synthetic: np.ndarray,
    test_real: np.ndarray,
    seed: int = 0,
    device: str | torch.device = "cpu",
    iterations: int = 300,
) -> dict[str, float]:
    """Train on synthetic, test on real (TSTR) against train on real, test on real (TRTR).

    TimeGAN's predictive score, one step ahead: a GRU (hidden size `PREDICTOR_HIDDEN`) reads days
    1..t and predicts all signals of day t+1, trained with an L1 loss once on `synthetic` and
    once on `train_real` (same seed), then scored by mean absolute error on `test_real`, in
    min-max units of `train_real`. Returns `tstr_mae`, `trtr_mae` (lower is better) and
    `ratio` = tstr / trtr: 1 = the synthetic windows teach as much as the real ones; above 1 =
    less.
    """
    train_real = check_windows(train_real, "train_real")
    synthetic = check_windows(synthetic, "synthetic")
    test_real = check_windows(test_real, "test_real")
    if len({x.shape[1] for x in (train_real, synthetic, test_real)}) != 1:
        raise ValueError("train_real, synthetic and test_real must have the same number of days")
    if train_real.shape[1] < 2:
        raise ValueError("need at least 2 days per window to predict one ahead")
    device = torch.device(device)
    low, span = minmax_scaler(train_real)
    test = torch.as_tensor((test_real - low) / span, device=device)
    errors = {}
    for name, source in (("tstr_mae", synthetic), ("trtr_mae", train_real)):
        x = torch.as_tensor((source - low) / span, device=device)
        with _private_rng(device):
            torch.manual_seed(seed)
            model = _GRUHead(N_SIGNALS, PREDICTOR_HIDDEN, N_SIGNALS, every_step=True).to(device)
            _fit(model, nn.L1Loss(), x[:, :-1], x[:, 1:], iterations)
            with torch.no_grad():
                errors[name] = (model(test[:, :-1]) - test[:, 1:]).abs().mean().item()
    errors["ratio"] = errors["tstr_mae"] / errors["trtr_mae"]
    return errors


def evaluate_rhythms(
    train: np.ndarray,
    synthetic: np.ndarray,
    holdout_people: np.ndarray,
    seed: int = 0,
    device: str | torch.device = "cpu",
    discriminator_repeats: int = DISCRIMINATOR_REPEATS,
) -> dict[str, float]:
    """Every rhythm metric of `synthetic` against the training windows, the predictive score
    tested on `holdout_people`, and the distribution and discriminative scores against
    `holdout_people` (keys prefixed `holdout_people.`): does it describe unseen people?
    `discriminator_repeats` is `discriminative_score`'s `repeats`."""
    discriminative = partial(
        discriminative_score, seed=seed, device=device, repeats=discriminator_repeats
    )
    predictive = predictive_score(train, synthetic, holdout_people, seed=seed, device=device)
    return {
        "distribution_score": distribution_score(train, synthetic),
        "daily_marginal_ks": daily_marginal_ks(train, synthetic),
        "autocorrelation_error": autocorrelation_error(train, synthetic),
        "discriminative_score": discriminative(train, synthetic),
        "predictive_tstr_mae": predictive["tstr_mae"],
        "predictive_trtr_mae": predictive["trtr_mae"],
        "predictive_score_ratio": predictive["ratio"],
        "holdout_people.distribution_score": distribution_score(holdout_people, synthetic),
        "holdout_people.discriminative_score": discriminative(holdout_people, synthetic),
    }
