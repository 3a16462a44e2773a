"""The science of a patient's week: the treatment vocabulary (`treatments`), the
literature-parameterised reference simulator (`reference`) and the world model distilled from
it (`world_model`). Imported by the environments, so kept light (see `mano_gym.envs`)."""
