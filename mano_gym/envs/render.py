"""Rendering one patient's episode: a text table (`ansi`) or a figure (`rgb_array`).

Both take the environment's week records: one dict per week (week 0 is the first observed
week) with `week`, `treatment` (name, None in week 0), `intensity`, `signals` (7 x 5, real
units), `risk_score` and `reward`.
"""

from __future__ import annotations

import numpy as np

from generators.signals import SIGNALS
from mano_gym.dynamics.treatments import TREATMENTS


def render_ansi(records: list[dict]) -> str:
    """One row per week: treatment, intensity, the week's mean signals, risk score, reward."""
    header = [
        "week",
        "treatment",
        "intensity",
        *(s.short for s in SIGNALS),
        "risk",
        "reward",
    ]
    rows = []
    for r in records:
        means = r["signals"].mean(axis=0)
        rows.append(
            [
                str(r["week"]),
                r["treatment"] or "-",
                f"{r['intensity']:.2f}" if r["treatment"] else "-",
                *(f"{m:.1f}" for m in means),
                f"{r['risk_score']:.3f}",
                f"{r['reward']:+.2f}" if r["treatment"] else "-",
            ]
        )
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines = [
        "  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
        for row in (header, *rows)
    ]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]]) + "\n"


def render_rgb(records: list[dict]) -> np.ndarray:
    """An RGB image `(H, W, 3)` uint8: the latest week's daily signals, and the risk score with
    the treatment of every week so far."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    latest = records[-1]
    fig = Figure(figsize=(8, 3), dpi=80)  # no pyplot: leaves the user's backend alone
    canvas = FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    days = np.arange(1, latest["signals"].shape[0] + 1)
    for i, signal in enumerate(SIGNALS):
        span = signal.high - signal.low
        axes[0].plot(
            days,
            (latest["signals"][:, i] - signal.low) / span,
            marker="o",
            label=signal.short,
        )
    axes[0].set(title=f"week {latest['week']}: signals (scaled)", xlabel="day", ylim=(-0.05, 1.05))
    axes[0].legend(fontsize=6, loc="upper right")
    weeks = [r["week"] for r in records]
    axes[1].plot(weeks, [r["risk_score"] for r in records], color="grey", zorder=1)
    colours = matplotlib.colormaps["tab10"]
    for k, name in enumerate(TREATMENTS):
        given = [r for r in records[1:] if r["treatment"] == name]
        if given:
            axes[1].scatter(
                [r["week"] for r in given],
                [r["risk_score"] for r in given],
                s=[20 + 60 * r["intensity"] for r in given],  # size: intensity
                color=colours(k),
                label=name,
                zorder=2,
            )
    axes[1].scatter([records[0]["week"]], [records[0]["risk_score"]], color="black", zorder=2)
    if len(records) > 1:
        axes[1].legend(fontsize=6, loc="upper right")
    axes[1].set(title="risk score; treatment (size: intensity)", xlabel="week", ylim=(-0.05, 1.05))
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()
