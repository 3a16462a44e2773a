"""Classification metrics and calibration error against hand computations."""

import numpy as np
import pytest

from predictor.metrics import classification_metrics, expected_calibration_error


def one_hot_ish(predicted: list[int]) -> np.ndarray:
    proba = np.full((len(predicted), 3), 0.1)
    proba[np.arange(len(predicted)), predicted] = 0.8
    return proba


def test_ece_by_hand():
    proba = np.array(
        [
            [0.9, 0.05, 0.05],  # conf 0.9, right
            [0.85, 0.1, 0.05],  # conf 0.85, wrong: shares the (0.8, 0.9] bin with the above
            [0.6, 0.3, 0.1],  # conf 0.6, wrong
            [0.2, 0.7, 0.1],  # conf 0.7, right
            [0.1, 0.1, 0.8],  # conf 0.8, right
        ]
    )
    labels = np.array([0, 1, 1, 1, 2])
    # bins of 0.1: (0.8, 0.9] -> |0.5 - 0.875| for 2 weeks; 0.6 -> 0.6; 0.7 -> 0.3; 0.8 -> 0.2
    expected = (2 * 0.375 + 0.6 + 0.3 + 0.2) / 5
    assert expected_calibration_error(labels, proba, bins=10) == pytest.approx(expected)


def test_ece_bins_are_right_closed():
    proba = np.array([[0.5, 0.25, 0.25], [0.9, 0.05, 0.05]])
    labels = np.array([0, 1])
    # 0.5 falls in (0, 0.5] (gap 0.5), 0.9 in (0.5, 1] (gap 0.9)
    assert expected_calibration_error(labels, proba, bins=2) == pytest.approx(0.7)


def test_ece_is_zero_when_confidence_matches_accuracy():
    proba = np.tile([0.5, 0.25, 0.25], (4, 1))
    assert expected_calibration_error(np.array([0, 0, 1, 2]), proba) == pytest.approx(0.0)


def test_metrics_by_hand():
    labels = np.array([0, 0, 1, 1, 2, 2, 2])
    result = classification_metrics(labels, one_hot_ish([0, 1, 1, 1, 2, 2, 0]))
    assert result["confusion"] == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert result["n"] == 7
    assert result["accuracy"] == pytest.approx(5 / 7)
    assert result["precision_low"] == pytest.approx(1 / 2)
    assert result["precision_medium"] == pytest.approx(2 / 3)
    assert result["precision_high"] == pytest.approx(1.0)
    assert result["recall_low"] == pytest.approx(1 / 2)
    assert result["recall_medium"] == pytest.approx(1.0)
    assert result["recall_high"] == pytest.approx(2 / 3)
    assert result["f1_low"] == pytest.approx(0.5)
    assert result["f1_medium"] == pytest.approx(0.8)
    assert result["f1_high"] == pytest.approx(0.8)
    assert result["macro_f1"] == pytest.approx(0.7)
    assert result["ece"] == pytest.approx(abs(5 / 7 - 0.8))


def test_given_decisions_replace_the_argmax_but_not_the_calibration_error():
    labels = np.array([0, 1, 2, 2])
    proba = one_hot_ish([0, 1, 1, 0])
    argmax = classification_metrics(labels, proba)
    decided = classification_metrics(labels, proba, predicted=np.array([0, 1, 2, 2]))
    assert argmax["recall_high"] == 0.0 and decided["recall_high"] == 1.0
    assert decided["confusion"] == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]
    assert decided["ece"] == argmax["ece"]
    with pytest.raises(ValueError, match="predicted must be integers"):
        classification_metrics(labels, proba, predicted=np.array([0.0, 1.0, 2.0, 2.0]))


def test_metrics_of_a_class_never_predicted_are_zero():
    result = classification_metrics(np.array([0, 1, 2]), one_hot_ish([0, 0, 0]))
    assert result["precision_high"] == 0.0
    assert result["recall_high"] == 0.0
    assert result["f1_high"] == 0.0
    assert result["confusion"] == [[1, 0, 0], [1, 0, 0], [1, 0, 0]]


def test_bad_proba_raises():
    labels = np.array([0, 1])
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        classification_metrics(labels, np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="summing to 1"):
        classification_metrics(labels, np.full((2, 3), 0.5))
    with pytest.raises(ValueError, match="2 rows, expected 3"):
        classification_metrics(labels, one_hot_ish([0, 1, 2]))
    with pytest.raises(ValueError, match="NaN"):
        expected_calibration_error(labels, np.array([[np.nan, 0.5, 0.5], [1.0, 0.0, 0.0]]))
