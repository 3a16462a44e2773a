"""The decision rule: class biases on log-probabilities, fitted for recall (High)."""

import numpy as np
import pytest

from predictor.decision import decide, fit_decision_bias
from predictor.metrics import classification_metrics


def test_zero_bias_is_argmax_and_a_bias_moves_the_call():
    proba = np.array([[0.5, 0.2, 0.3], [0.1, 0.6, 0.3], [0.0, 0.4, 0.6]])
    np.testing.assert_array_equal(decide(proba, [0, 0, 0]), proba.argmax(axis=1))
    # log 0.3 + 0.6 > log 0.5: the first week is called High
    np.testing.assert_array_equal(decide(proba, [0.0, 0.0, 0.6]), [2, 1, 2])
    # a class with probability 0 never wins, whatever its bias
    assert decide(np.array([[0.0, 0.0, 1.0]]), [3.0, 0.0, 0.0])[0] == 2


@pytest.fixture(scope="module")
def noisy_weeks():
    """Probabilities that under-call High: High weeks give High only 0.4 on average."""
    rng = np.random.default_rng(0)
    labels = rng.choice(3, size=3000, p=[0.6, 0.15, 0.25])
    means = np.array([[0.7, 0.2, 0.1], [0.35, 0.4, 0.25], [0.15, 0.45, 0.4]])
    proba = rng.dirichlet(np.ones(3), size=len(labels)) * 0.5 + means[labels] * 0.5
    return proba, labels


def test_fitted_bias_reaches_the_recall_target_at_the_best_macro_f1(noisy_weeks):
    proba, labels = noisy_weeks
    argmax = classification_metrics(labels, proba)
    assert argmax["recall_high"] < 0.9
    bias, figures = fit_decision_bias(proba, labels, high_recall=0.9)
    decided = classification_metrics(labels, proba, decide(proba, bias))
    assert bias[0] == 0.0 and bias[2] > 0
    assert decided["recall_high"] >= 0.9
    assert figures["recall_high"] == pytest.approx(decided["recall_high"])
    assert figures["macro_f1"] == pytest.approx(decided["macro_f1"])
    # no other bias near it reaches the target with a better macro-F1
    for step in ([0, 0.1, 0], [0, -0.1, 0], [0, 0, -0.1]):
        other = classification_metrics(labels, proba, decide(proba, np.add(bias, step)))
        assert other["recall_high"] < 0.9 or other["macro_f1"] <= decided["macro_f1"] + 1e-12
    # without a target the rule only tunes macro-F1, so it is at least argmax's
    _, free = fit_decision_bias(proba, labels, high_recall=0.0)
    assert free["macro_f1"] >= argmax["macro_f1"]


def test_fit_is_deterministic_and_rejects_what_it_cannot_meet(noisy_weeks):
    proba, labels = noisy_weeks
    assert fit_decision_bias(proba, labels, 0.9) == fit_decision_bias(proba, labels, 0.9)
    never = proba.copy()
    never[labels == 2] = [0.5, 0.5, 0.0]
    with pytest.raises(ValueError, match=r"reaches recall \(High\) >= 1.0"):
        fit_decision_bias(never, labels, 1.0)
    with pytest.raises(ValueError, match=r"high_recall must be in \[0, 1\]"):
        fit_decision_bias(proba, labels, 1.5)
    with pytest.raises(ValueError, match="3000 rows, expected 10"):
        fit_decision_bias(proba[:10], labels, 0.9)
