"""Mano: a Gymnasium environment for adaptive mental-health treatment research.

Importing `mano_gym` registers `ManoPatient-v0` (single patient: `mano_gym.envs.patient`) with
its natively batched vector environment (`mano_gym.envs.vector`); both load lazily, so
importing the package stays light.

| room        | holds                                                         | run by       |
|-------------|---------------------------------------------------------------|--------------|
| `envs/`     | the environments, their episodes, spaces, rendering, rollouts | `gym.make`   |
| `dynamics/` | treatments, the reference simulator, the world model          | `gym.make`   |
| `cohorts/`  | cohort files, new cohorts, behaviour policies, trials, weeks  | both         |
| `assets/`   | the shipped asset set and the one registry of its files       | both         |
| `build/`    | the pipelines that train, evaluate and write asset sets       | `mano train` |
| `cli/`      | the `mano` command                                            | `mano`       |
| `wrappers`  | flat action encodings for libraries without hybrid actions    | users        |

Nothing under `envs/` or `dynamics/` imports `build/` (`tests/test_layout.py`).
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

if "ManoPatient-v0" not in registry:
    register(
        id="ManoPatient-v0",
        entry_point="mano_gym.envs.patient:ManoPatientEnv",
        vector_entry_point="mano_gym.envs.vector:ManoPatientVectorEnv",
    )
