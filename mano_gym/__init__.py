"""Mano: a Gymnasium environment for adaptive mental-health treatment research.

Importing `mano_gym` registers `ManoPatient-v0` (single patient: `mano_gym.envs.patient`) with its
natively batched vector environment (`mano_gym.envs.vector`); both load lazily, so importing
the package stays light.
"""

from gymnasium.envs.registration import register, registry

__version__ = "0.1.0"

if "ManoPatient-v0" not in registry:
    register(
        id="ManoPatient-v0",
        entry_point="mano_gym.envs.patient:ManoPatientEnv",
        vector_entry_point="mano_gym.envs.vector:ManoPatientVectorEnv",
    )
