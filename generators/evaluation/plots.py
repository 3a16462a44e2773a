"""Figures of real against synthetic data: marginals, correlations and a PCA of whole weeks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from generators.evaluation.rhythms import minmax_scaler
from generators.signals import SIGNALS

REAL, SYNTHETIC = "#1f77b4", "#d62728"


def plot_rhythms(real: np.ndarray, synthetic: np.ndarray, path: str | Path) -> None:
    """One PNG: each signal's daily values (histograms), the 5 x 5 correlation matrix of the
    daily values for real and synthetic weeks, and the first two principal components of
    whole weeks (fitted on the real ones)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.decomposition import PCA

    figure, axes = plt.subplots(2, 5, figsize=(18, 7), constrained_layout=True)
    for k, (ax, spec) in enumerate(zip(axes[0], SIGNALS, strict=True)):
        values = [real[..., k].ravel(), synthetic[..., k].ravel()]
        bins = 30
        if spec.integer:  # one bar per whole value that occurs
            used = np.concatenate(values)
            bins = np.arange(used.min() - 0.5, used.max() + 1)
        ax.hist(
            values, bins=bins, density=True, color=[REAL, SYNTHETIC], label=["real", "synthetic"]
        )
        ax.set_title(f"{spec.name} ({spec.unit})")
    axes[0, 0].legend()
    for ax, data, title in ((axes[1, 0], real, "real"), (axes[1, 1], synthetic, "synthetic")):
        image = ax.imshow(
            np.corrcoef(data.reshape(-1, data.shape[-1]).T), vmin=-1, vmax=1, cmap="RdBu_r"
        )
        ax.set_xticks(range(len(SIGNALS)), [s.name for s in SIGNALS], rotation=45, ha="right")
        ax.set_yticks(range(len(SIGNALS)), [s.name for s in SIGNALS])
        ax.set_title(f"daily correlations, {title}")
    figure.colorbar(image, ax=axes[1, 1], shrink=0.8)
    low, span = minmax_scaler(real)
    pca = PCA(n_components=2).fit(((real - low) / span).reshape(len(real), -1))
    ax = axes[1, 2]
    for data, color, label in ((real, REAL, "real"), (synthetic, SYNTHETIC, "synthetic")):
        points = pca.transform(((data - low) / span).reshape(len(data), -1))
        ax.scatter(*points.T, s=6, alpha=0.5, color=color, label=label)
    ax.set_title("PCA of whole weeks (fitted on real)")
    ax.legend()
    for ax in axes[1, 3:]:
        ax.axis("off")
    figure.savefig(path, dpi=80)
    plt.close(figure)


def plot_profiles(
    real: pd.DataFrame, synthetic: pd.DataFrame, path: str | Path, columns: int = 8
) -> None:
    """One PNG: the age distribution and the category shares of the first `columns`
    categorical columns, real against synthetic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categorical = [c for c in real.columns if not pd.api.types.is_numeric_dtype(real[c])]
    numeric = [c for c in real.columns if pd.api.types.is_numeric_dtype(real[c])]
    shown = numeric + categorical[:columns]
    rows = -(-len(shown) // 3)
    figure, axes = plt.subplots(rows, 3, figsize=(15, 3.2 * rows), constrained_layout=True)
    for ax, column in zip(axes.ravel(), shown, strict=False):
        if column in numeric:
            ax.hist(
                [real[column], synthetic[column]],
                bins=20,
                density=True,
                color=[REAL, SYNTHETIC],
                label=["real", "synthetic"],
            )
            ax.legend()
        else:
            shares = pd.DataFrame(
                {
                    "real": real[column].value_counts(normalize=True),
                    "synthetic": synthetic[column].value_counts(normalize=True),
                }
            ).fillna(0)
            shares.plot.barh(ax=ax, color=[REAL, SYNTHETIC], legend=False)
        ax.set_title(column)
    for ax in axes.ravel()[len(shown) :]:
        ax.axis("off")
    figure.savefig(path, dpi=70)
    plt.close(figure)
