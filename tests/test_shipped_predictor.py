"""Floors of the risk predictors shipped in mano_gym/assets, on the held-out cohort they were
evaluated on when trained (the same cohort config, read from the manifest)."""

import json

import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from mano_gym.assets import LATENT, PREDICTORS, RULE, load_risk_predictor, verified_artifact
from mano_gym.build.predictor import evaluate_shipped_predictors
from mano_gym.cli import main
from mano_gym.cohorts.cohort import STATIC_FEATURES
from predictor.baselines import BASELINES
from tests.conftest import DATA

SPEC_NAMES = (
    "lstm.rule.accuracy",
    "lstm.rule.f1_high",
    "lstm.latent.accuracy",
    "lstm.latent.macro_f1",
    "lstm.latent.recall_high",
    "lstm.latent.ece",
    "gbm.latent.macro_f1",
    "logreg.latent.macro_f1",
)


@pytest.fixture(scope="module")
def metrics():
    torch.set_num_threads(1)
    with threadpool_limits(1):
        return evaluate_shipped_predictors(DATA)


def test_rule_labels_meet_the_seed_figures(metrics):
    assert metrics["lstm.rule.accuracy"] >= 0.96
    assert metrics["lstm.rule.f1_high"] >= 0.98


def test_latent_probabilities_are_calibrated(metrics):
    assert metrics["lstm.latent.ece"] <= 0.05


def test_latent_predictor_beats_the_logistic_baseline_and_a_majority_guess(metrics):
    assert metrics["lstm.latent.macro_f1"] > metrics["logreg.latent.macro_f1"]
    majority = max(np.sum(metrics["lstm.latent.confusion"], axis=1)) / metrics["lstm.latent.n"]
    assert metrics["lstm.latent.accuracy"] > majority


def test_latent_macro_f1_within_a_point_of_gradient_boosting(metrics):
    assert metrics["lstm.latent.macro_f1"] >= metrics["gbm.latent.macro_f1"] - 0.01


def test_latent_recall_of_high_risk(metrics):
    assert metrics["lstm.latent.recall_high"] >= 0.90


def test_decision_rule_costs_at_most_a_point_of_macro_f1(metrics):
    assert metrics["lstm.latent.macro_f1"] >= metrics["lstm_argmax.latent.macro_f1"] - 0.01


def test_metrics_reproduce_the_manifest(metrics):
    # The shipped models' metrics reproduce exactly. The baselines are refitted here, and
    # lbfgs stops where the machine's BLAS takes it: on another CPU, a few predictions move.
    for name in PREDICTORS.values():
        _, entry = verified_artifact(name)
        for key, value in entry["metrics"].items():
            refitted = key.split(".")[0] in BASELINES
            assert metrics[key] == pytest.approx(value, abs=2e-3 if refitted else 1e-6), key


def test_shipped_predictors_take_the_cohort_encoding():
    for kind in (LATENT, RULE):
        model = load_risk_predictor(kind=kind)
        assert model.static_dim == len(STATIC_FEATURES)
        assert tuple(model.static_names) == STATIC_FEATURES


@pytest.mark.slow  # the full predictor evaluation (about a minute)
def test_evaluate_predictor_json_uses_the_documented_names(capsys, metrics):
    assert main(["evaluate", "predictor", "--data", str(DATA), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    for name in SPEC_NAMES:
        assert printed[name] == pytest.approx(metrics[name], abs=1e-9)
