"""The treatments an agent can prescribe: the one source of truth for their names and the
intensity bounds.

| index | name           | what it stands for                                  |
|-------|----------------|-----------------------------------------------------|
| 0     | `control`      | no active treatment (watchful waiting)              |
| 1     | `wellness_app` | a self-guided smartphone mental-health app          |
| 2     | `cbt`          | cognitive behavioural therapy                       |
| 3     | `exercise`     | a structured exercise programme                     |
| 4     | `medication`   | antidepressant medication                           |

An action pairs a treatment index with an intensity in [`INTENSITY_LOW`, `INTENSITY_HIGH`]
(the fraction of a full-dose course given this week).

What an observer knows of past treatment is the **exposure trace**: per treatment, the
prescribed intensity averaged with exponential forgetting, `e' = e + EXPOSURE_RATE * (a - e)`
with `a` this week's intensity for the treatment given and 0 for the others (`control` has none).
It is the environment's `exposure` observation and a world-model input. It is not the reference
simulator's latent exposure, which also depends on adherence and each treatment's onset.
"""

from __future__ import annotations

import numpy as np

TREATMENTS: tuple[str, ...] = ("control", "wellness_app", "cbt", "exercise", "medication")
N_TREATMENTS = len(TREATMENTS)
INTENSITY_LOW = 0.1
INTENSITY_HIGH = 1.0
EXPOSURE_RATE = 0.3  # judgement: a memory of about three weeks, as slow as medication's onset


_INDICES = np.arange(N_TREATMENTS)


def treatment_index(name: str) -> int:
    """The index of treatment `name`; a `ValueError` lists the known names otherwise."""
    try:
        return TREATMENTS.index(name)
    except ValueError:
        raise ValueError(
            f"unknown treatment {name!r}; known treatments: {', '.join(TREATMENTS)}"
        ) from None


def next_exposure(exposure, treatment, intensity):
    """The exposure trace `(n, 5)` after a week of `treatment` `(n,)` at `intensity` `(n,)`;
    works on NumPy arrays and on torch tensors alike (and returns the same kind)."""
    indices = _INDICES
    if not isinstance(treatment, np.ndarray):  # a torch tensor: compare on its own device
        import torch

        indices = torch.as_tensor(_INDICES, device=treatment.device)
    given = (treatment[:, None] == indices) & (indices > 0)
    return exposure + EXPOSURE_RATE * (given * intensity[:, None] - exposure)


def check_actions(
    treatment: np.ndarray, intensity: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of `n` actions as `(treatment int64, intensity float64)` arrays; a `ValueError`
    names what is wrong (shape, dtype, range, NaN). Nothing is clipped or rounded."""
    treatment, intensity = np.asarray(treatment), np.asarray(intensity)
    if treatment.shape != (n,) or intensity.shape != (n,):
        raise ValueError(
            f"treatment and intensity must have shape ({n},), got {treatment.shape} "
            f"and {intensity.shape}"
        )
    if not np.issubdtype(treatment.dtype, np.integer):
        raise ValueError(f"treatment must be an integer index, got dtype {treatment.dtype}")
    if intensity.dtype.kind not in "fiu":
        raise ValueError(f"intensity must be a number, got dtype {intensity.dtype}")
    bad = (treatment < 0) | (treatment >= N_TREATMENTS)
    if bad.any():
        raise ValueError(
            f"treatment out of range 0..{N_TREATMENTS - 1}: {treatment[bad][:5].tolist()} "
            f"(rows {np.flatnonzero(bad)[:5].tolist()})"
        )
    bad = ~np.isfinite(intensity)
    if bad.any():
        raise ValueError(
            f"intensity must be finite, got NaN or inf in rows {np.flatnonzero(bad)[:5].tolist()}"
        )
    bad = (intensity < INTENSITY_LOW - 1e-6) | (intensity > INTENSITY_HIGH + 1e-6)
    if bad.any():
        raise ValueError(
            f"intensity outside [{INTENSITY_LOW}, {INTENSITY_HIGH}]: "
            f"{intensity[bad][:5].tolist()} (rows {np.flatnonzero(bad)[:5].tolist()})"
        )
    return treatment.astype(np.int64), intensity.astype(np.float64)
