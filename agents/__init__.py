"""Agents for ManoPatient-v0: the dual-head hybrid PPO, Stable-Baselines3 baselines, heuristics."""
