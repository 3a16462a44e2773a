"""The `info` of `ManoPatient-v0`, built in one place for the single and the vector env.

Reset and every step report the same keys, each of a fixed dtype and shape: NumPy numbers
(`np.float64`, `np.int64`, which carry their dtype), Python `bool` flags (which Gymnasium's
vector envs stack as `bool`; they would make an object array of `np.bool_`) and NumPy arrays,
so that libraries which stack infos (Gymnasium's vector envs, Minari's `DataCollector`,
TorchRL's info readers) can. At reset the reward terms and the cost are 0, no flag is raised, and
`treatment` is -1 (none given yet).

| key                               | dtype, shape   | what                                      |
|-----------------------------------|----------------|-------------------------------------------|
| `risk_score`                      | float64        | the predictor's risk score of this week   |
| `risk_drop`, `intensity_cost`,    | float64        | the reward's terms                        |
| `safety_penalty`,                 |                |                                           |
| `dropout_penalty`, `cure_bonus`   |                |                                           |
| `cost`                            | float64        | safety flags raised (constrained RL)      |
| `sleep_loss`, `heart_rate_rise`   | bool           | the safety flags                          |
| `dropout`                         | bool           | the patient left care this week (ends the |
|                                   |                | episode as `terminated`)                  |
| `signals`                         | float32 (7, 5) | this week's daily signals, real units     |
| `treatment`                       | int64          | index into `TREATMENTS` (-1 at reset)     |
| `intensity`                       | float64        | this week's intensity (0 at reset)        |
| `patient`, `week`                 | int64          | cohort index, weeks of treatment so far   |
| reference dynamics only:          |                |                                           |
| `dass`                            | float32 (3,)   | latent depression, anxiety, stress (0-42) |
| `true_risk`                       | int64          | 0 low, 1 medium, 2 high (DASS bands)      |
| `adverse_event`, `deterioration`  | bool           | the simulator's own flags                 |

`signals` is also an observation key, scaled there: a library that merges infos into the
observation (TorchRL's info readers) should read the info keys it needs by name.

Treatment names, for people, are in `TREATMENTS`, the rendering and `ManoPatientEnv.history`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from mano_gym.dynamics.reference import SAFETY_FLAGS as REFERENCE_FLAGS
from mano_gym.envs.episodes import REWARD_TERMS, SAFETY_FLAGS

INFO_DTYPES: dict[str, type] = {
    "risk_score": np.float64,
    **dict.fromkeys(REWARD_TERMS, np.float64),
    "cost": np.float64,
    **dict.fromkeys(SAFETY_FLAGS, np.bool_),
    "dropout": np.bool_,
    "signals": np.float32,
    "treatment": np.int64,
    "intensity": np.float64,
    "patient": np.int64,
    "week": np.int64,
}
REFERENCE_INFO_DTYPES: dict[str, type] = {
    "dass": np.float32,
    "true_risk": np.int64,
    **dict.fromkeys(REFERENCE_FLAGS, np.bool_),
}


def info_dtypes(dynamics: str) -> dict[str, type]:
    """Every info key of an environment with `dynamics` and its NumPy dtype."""
    return INFO_DTYPES | (REFERENCE_INFO_DTYPES if dynamics == "reference" else {})


def info_arrays(out: dict[str, torch.Tensor], dynamics: str) -> dict[str, np.ndarray]:
    """The info of every row, one array per key over the rows, from what `Episodes.step` (or
    `start`) returned: the arrays Gymnasium's `SyncVectorEnv` would stack from single envs."""
    flags = out["safety_flags"].cpu().numpy()
    arrays = {}
    for key, dtype in info_dtypes(dynamics).items():
        value = flags[:, SAFETY_FLAGS.index(key)] if key in SAFETY_FLAGS else out[key].cpu().numpy()
        arrays[key] = value.astype(dtype, copy=False)
    return arrays


def row_info(arrays: dict[str, np.ndarray], row: int = 0) -> dict[str, Any]:
    """One row of `info_arrays` as a single env's info: NumPy numbers (`np.float64`,
    `np.int64`), Python `bool` flags, and arrays where a key holds more than one number."""
    info: dict[str, Any] = {}
    for key, value in arrays.items():
        one = value[row]
        info[key] = one.copy() if value.ndim > 1 else one.item() if value.dtype == bool else one
    return info
