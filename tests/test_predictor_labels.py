"""Risk labels: DASS band boundaries, the any-subscale rule, seed-style week rules, bad input."""

import numpy as np
import pytest

from predictor.labels import (
    HIGH,
    LOW,
    MEDIUM,
    SEVERITY_BANDS,
    check_labels,
    dass_risk_labels,
    rule_labels,
    severity_bands,
)

CALM = {"sleep_hours": 8.0, "sleep_quality": 4.0, "resting_hr": 60.0, "stress": 2.0, "mood": 4.0}


def week(**values: float) -> np.ndarray:
    """One (7, 5) week, every day the calm default except the given signals."""
    day = {**CALM, **values}
    return np.tile(np.array(list(day.values()), dtype=np.float32), (7, 1))


def band_names(scores: list[list[float]]) -> list[list[str]]:
    return [[SEVERITY_BANDS[b] for b in row] for row in severity_bands(np.array(scores))]


@pytest.mark.parametrize(
    "column, cuts",
    [
        (0, (10, 14, 21, 28)),  # depression
        (1, (8, 10, 15, 20)),  # anxiety
        (2, (15, 19, 26, 34)),  # stress
    ],
)
def test_bands_start_at_their_lower_cut(column, cuts):
    scores = np.zeros((9, 3))
    scores[:, column] = [0.0] + [value for cut in cuts for value in (cut - 0.1, cut)]
    expected = [0, 0, 1, 1, 2, 2, 3, 3, 4]
    np.testing.assert_array_equal(severity_bands(scores)[:, column], expected)
    np.testing.assert_array_equal(np.delete(severity_bands(scores), column, axis=1), 0)


def test_depression_13_9_is_mild_and_14_is_moderate():
    assert band_names([[13.9, 0, 0], [14.0, 0, 0], [42.0, 0, 0]]) == [
        ["mild", "normal", "normal"],
        ["moderate", "normal", "normal"],
        ["extremely_severe", "normal", "normal"],
    ]


def test_risk_follows_the_worst_subscale():
    scores = np.array(
        [
            [0.0, 0.0, 0.0],  # all normal
            [13.0, 9.0, 18.0],  # all mild
            [0.0, 10.0, 0.0],  # anxiety moderate
            [0.0, 0.0, 25.9],  # stress moderate, just below severe
            [0.0, 0.0, 26.0],  # stress severe
            [14.0, 15.0, 0.0],  # one moderate, one severe
            [30.0, 0.0, 0.0],  # depression extremely severe
        ]
    )
    np.testing.assert_array_equal(
        dass_risk_labels(scores), [LOW, LOW, MEDIUM, MEDIUM, HIGH, HIGH, HIGH]
    )
    assert dass_risk_labels(scores).dtype == np.int64


def test_bad_scores_raise():
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        severity_bands(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN.*anxiety"):
        dass_risk_labels(np.array([[0.0, np.nan, 0.0]]))


def test_rule_labels_on_hand_made_weeks():
    mostly_three = week(mood=3.0)
    mostly_three[0, 4] = 4.0  # weekly mood 22 / 7 > 3
    weeks = [
        (week(), LOW),
        (week(mood=2.0), HIGH),
        (week(mood=3.0), MEDIUM),
        (mostly_three, LOW),
        (week(stress=4.0), HIGH),
        (week(stress=3.0), MEDIUM),
        (week(sleep_hours=4.0, sleep_quality=2.0), HIGH),  # short and poor sleep
        (week(sleep_hours=4.0, sleep_quality=3.0), MEDIUM),  # short sleep alone
        (week(sleep_hours=5.0, sleep_quality=1.0), MEDIUM),  # not below 5 h
        (week(sleep_hours=6.0), LOW),
        (week(resting_hr=110.0), LOW),  # resting heart rate plays no part
    ]
    signals = np.stack([w for w, _ in weeks])
    np.testing.assert_array_equal(rule_labels(signals), [label for _, label in weeks])


def test_rule_labels_use_the_weekly_mean():
    bad_day = week()
    bad_day[3, 4] = 1.0  # one day of mood 1 in a week of 4s: mean 3.57
    assert rule_labels(bad_day[None])[0] == LOW


@pytest.mark.parametrize(
    "shape, message",
    [
        ((2, 7, 4), "5 signals on the last axis, got 4"),
        ((2, 6, 5), "7 days"),
        ((7, 5), r"shape \(n, 7, 5\)"),
    ],
)
def test_malformed_signals_raise(shape, message):
    with pytest.raises(ValueError, match=message):
        rule_labels(np.full(shape, 3.0, dtype=np.float32))


def test_nan_signals_name_the_signal():
    signals = week()[None].copy()
    signals[0, 2, 4] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite.*mood"):
        rule_labels(signals)


def test_scaled_signals_are_refused():
    with pytest.raises(ValueError, match="sleep_hours.*outside.*real units"):
        rule_labels(np.full((1, 7, 5), 0.5, dtype=np.float32))


def test_labels_must_be_integer_classes():
    np.testing.assert_array_equal(check_labels(np.array([0, 2, 1], dtype=np.int32)), [0, 2, 1])
    with pytest.raises(ValueError, match="integers"):
        check_labels(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"0, 1 or 2.*\[3\]"):
        check_labels(np.array([0, 3]))
    with pytest.raises(ValueError, match="3 rows, expected 2"):
        check_labels(np.array([0, 1, 2]), n=2)
