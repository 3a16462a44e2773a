"""Synthetic patients and their histories: cohorts (`cohort`: the file format episodes start
from; `sampling`: new cohorts from the generators), the behaviour policies of virtual trials
(`behaviour`), the trials the world model is distilled from (`trials`) and the labelled weeks
the risk predictor learns from (`weeks`)."""
