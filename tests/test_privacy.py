import numpy as np
import pandas as pd
import pytest

from generators.data import split_windows
from generators.evaluation import (
    dcr_share,
    distance_to_closest_record,
    exact_copies,
    membership_inference_auc,
    window_privacy,
)


@pytest.fixture(scope="module")
def split(windows):
    return split_windows(windows, ("p05", "p10"))


def gaussian(n: int, seed: int, columns: int = 35) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, columns))


def test_distance_to_closest_record_is_euclidean():
    reference = np.array([[0.0, 0.0], [10.0, 0.0]])
    query = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 1.0]])
    assert distance_to_closest_record(query, reference).tolist() == [0.0, 5.0, 1.0]


def test_copies_of_training_rows_are_caught():
    train, holdout = gaussian(400, 0), gaussian(400, 1)
    assert exact_copies(train, train) == 400
    assert dcr_share(train, train, holdout) == 1.0
    assert membership_inference_auc(train, train, holdout) == 1.0


def test_fresh_draws_from_the_same_distribution_leak_nothing():
    train, holdout, synthetic = gaussian(500, 0), gaussian(500, 1), gaussian(1000, 2)
    assert exact_copies(synthetic, train) == 0
    assert dcr_share(synthetic, train, holdout) == pytest.approx(0.5, abs=0.07)
    assert membership_inference_auc(synthetic, train, holdout) == pytest.approx(0.5, abs=0.07)


def test_dcr_share_is_fair_to_a_small_holdout():
    # five times more training rows would put most fresh rows nearer train without balancing
    train, holdout, synthetic = gaussian(1000, 0, 5), gaussian(200, 1, 5), gaussian(1000, 2, 5)
    assert dcr_share(synthetic, train, holdout) == pytest.approx(0.5, abs=0.07)
    assert dcr_share(synthetic, train, holdout, seed=1) != dcr_share(synthetic, train, holdout)


def test_exact_copies_compares_whole_table_rows():
    train = pd.DataFrame(
        {"age": [30, 41, 25], "country": ["NO", "US", None], "treated": [True, False, True]}
    )
    synthetic = pd.DataFrame(
        {
            "treated": [False, True, True, False],
            "age": [41, 25, 25, 30],
            "country": ["US", None, "NO", "US"],
        }
    )
    assert exact_copies(synthetic, train) == 2  # the US row and the row with a missing country


def test_window_privacy_of_copied_windows(split):
    holdout = split.holdout_time.signals
    train = split.train.signals[: len(holdout)]  # equal sizes: nothing is subsampled
    assert window_privacy(train, train, holdout) == {
        "exact_copies": len(train),
        "dcr_share": 1.0,
        "dcr_overfitting_protection": 0.0,
        "mia_auc": 1.0,
    }


def test_copies_of_a_larger_training_set_are_caught_by_copies_and_attack(split):
    # dcr_share compares with an equal-size subsample of train, which holds only some of the
    # copied windows' originals: it rises above 0.5 but the other two metrics see every copy
    train, holdout = split.train.signals, split.holdout_time.signals
    scores = window_privacy(train, train, holdout)
    assert scores["exact_copies"] == len(train)
    assert scores["mia_auc"] == 1.0
    assert scores["dcr_share"] > 0.5


def test_window_privacy_of_people_never_seen(split):
    # weeks of other people copy no training week; the attack cannot single out members
    scores = window_privacy(
        split.holdout_people.signals, split.train.signals, split.holdout_time.signals
    )
    assert scores["exact_copies"] == 0
    assert scores["dcr_share"] < 0.75
    assert scores["mia_auc"] < 0.75


def test_malformed_inputs_raise():
    with pytest.raises(ValueError, match="2-D"):
        distance_to_closest_record(np.ones(5), np.ones((5, 2)))
    with pytest.raises(ValueError, match="columns"):
        distance_to_closest_record(np.ones((5, 3)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="NaN"):
        dcr_share(np.full((5, 2), np.nan), np.ones((5, 2)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="expected shape"):
        window_privacy(np.ones((5, 35)), np.ones((5, 7, 5)), np.ones((5, 7, 5)))
