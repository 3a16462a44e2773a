"""What `gymnasium.make("ManoPatient-v0")` runs: the single (`patient`) and natively batched
(`vector`) environments over one `episodes` core, their `spaces` and action reader, their
`infos`, rendering and policy `rollouts`.

The rule of the rooms: nothing under `mano_gym.envs` or `mano_gym.dynamics` imports
`mano_gym.build`, sklearn, sdmetrics, ctgan, scipy.stats or the data loaders
(`generators.data`, `generators.evaluation`); `tests/test_layout.py` holds them to it.
"""
