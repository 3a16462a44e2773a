"""The pipelines that train, evaluate and write asset sets (`mano train ...`): the generators,
the risk predictors, the cohorts and world model, and the reference simulator's validation.

Builds read their inputs from one asset set and write a new one, staged (`manifest`); they are
never imported by what `gymnasium.make` runs (`mano_gym.envs`, `mano_gym.dynamics`).
"""
