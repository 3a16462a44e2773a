import numpy as np
import pytest
import torch

from generators.data import split_windows
from generators.evaluation import (
    autocorrelation_error,
    daily_marginal_ks,
    discriminative_score,
    distribution_score,
    evaluate_rhythms,
    lag1_autocorrelation,
    predictive_score,
)


@pytest.fixture(scope="module")
def split(windows):
    return split_windows(windows, ("p05", "p10"))


def shuffle_days(signals: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([week[rng.permutation(len(week))] for week in signals])


def test_identical_windows_score_perfectly(split):
    real = split.train.signals
    assert distribution_score(real, real) == 1.0
    assert daily_marginal_ks(real, real) == 0.0
    assert autocorrelation_error(real, real) == 0.0


def test_shuffled_days_keep_window_means_but_lose_persistence(split):
    real = split.train.signals
    shuffled = shuffle_days(real)
    assert distribution_score(real, shuffled) == 1.0  # a week's mean ignores the day order
    # a random day order pulls the pooled estimate towards -1/days; resting HR persists most
    resting_hr = 2
    assert lag1_autocorrelation(real)[resting_hr] > 0.2
    assert lag1_autocorrelation(shuffled)[resting_hr] < 0
    assert autocorrelation_error(real, shuffled) > 0.05


def test_disjoint_data_scores_worst():
    low = np.ones((50, 7, 5), dtype=np.float32)
    assert distribution_score(low, low + 1) == 0.0
    assert daily_marginal_ks(low, low + 1) == 1.0


def test_constant_windows_have_zero_autocorrelation():
    assert lag1_autocorrelation(np.full((4, 7, 5), 3.0)).tolist() == [0.0] * 5


def disjoint_fortnights(windows) -> tuple[np.ndarray, np.ndarray]:
    """Real weeks from even and from odd fortnights, sharing no day (a window that would cross
    into the next fortnight is left out)."""
    day = (windows.start - windows.start.min()).astype(int)
    inside = day % 14 <= 7
    even = day // 14 % 2 == 0
    return windows.signals[inside & even], windows.signals[inside & ~even]


@pytest.mark.slow  # ten classifier fits
def test_discriminative_score_detects_shuffled_days(windows):
    # Shuffled copies of the *other* half: a shuffled copy of a window the classifier also sees
    # unshuffled would share its days with it and blur what is being tested. Only resting HR
    # persists from day to day, so the effect is small next to the seed-to-seed spread and is
    # averaged over several shuffles and seeds.
    first, second = disjoint_fortnights(windows)
    real_vs_real = discriminative_score(first, second, repeats=3)
    real_vs_shuffled = np.mean(
        [discriminative_score(first, shuffle_days(second, s), seed=s, repeats=1) for s in range(5)]
    )
    assert real_vs_shuffled > real_vs_real + 0.02


def test_discriminative_score_spots_weeks_mixing_people(split):
    # each day drawn from any participant: resting HR jumps between people's levels
    real = split.train.signals
    days = real.reshape(-1, 5)
    mixed = days[np.random.default_rng(0).integers(len(days), size=(300, 7))]
    assert discriminative_score(real, mixed, repeats=1) > 0.3


def test_discriminative_score_is_seeded_and_leaves_torch_state_alone(split):
    real, other = split.train.signals[:60], split.holdout_time.signals[:60]
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    first = discriminative_score(real, other, seed=3, iterations=20, repeats=2)
    assert discriminative_score(real, other, seed=3, iterations=20, repeats=2) == first
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_discriminative_score_is_the_mean_over_consecutive_seeds(split):
    real, other = split.train.signals[:60], split.holdout_time.signals[:60]
    single = [discriminative_score(real, other, seed=s, iterations=20, repeats=1) for s in (4, 5)]
    assert len(set(single)) == 2  # the classifiers differ, so the mean is not one of them
    mean = discriminative_score(real, other, seed=4, iterations=20, repeats=2)
    assert mean == pytest.approx(np.mean(single))


def test_discriminative_score_needs_one_classifier_at_least(split):
    with pytest.raises(ValueError, match="repeats"):
        discriminative_score(split.train.signals, split.holdout_time.signals, repeats=0)


def test_predictive_score_of_real_against_itself_is_one(split):
    train, people = split.train.signals, split.holdout_people.signals
    scores = predictive_score(train, train, people)
    assert scores["ratio"] == 1.0  # same data, same seed, same network
    assert 0 < scores["tstr_mae"] < 0.5  # in min-max units


def test_predictive_score_penalises_weeks_mixing_people(split):
    train, people = split.train.signals, split.holdout_people.signals
    days = train.reshape(-1, 5)
    mixed = days[np.random.default_rng(0).integers(len(days), size=(300, 7))]
    assert predictive_score(train, mixed, people)["ratio"] > 1.1


def test_evaluate_rhythms_reports_every_metric(split):
    metrics = evaluate_rhythms(
        split.train.signals,
        split.holdout_time.signals,
        split.holdout_people.signals,
        discriminator_repeats=1,
    )
    assert set(metrics) == {
        "distribution_score",
        "daily_marginal_ks",
        "autocorrelation_error",
        "discriminative_score",
        "predictive_tstr_mae",
        "predictive_trtr_mae",
        "predictive_score_ratio",
        "holdout_people.distribution_score",
        "holdout_people.discriminative_score",
    }
    assert all(np.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones((10, 7)), "expected shape"),
        (np.ones((10, 7, 4)), "expected shape"),
        (np.full((10, 7, 5), np.nan), "NaN"),
        (np.ones((0, 7, 5)), "no windows"),
    ],
)
def test_malformed_windows_raise(bad, message):
    good = np.ones((10, 7, 5))
    for metric in (distribution_score, daily_marginal_ks, autocorrelation_error):
        with pytest.raises(ValueError, match=message):
            metric(good, bad)
    with pytest.raises(ValueError, match=message):
        discriminative_score(bad, good)
    with pytest.raises(ValueError, match=message):
        predictive_score(good, bad, good)


def test_discriminative_score_needs_several_runs_of_real_days(split):
    one_run = split.train.signals[split.train.participant == "p06"][:20]  # consecutive weeks
    with pytest.raises(ValueError, match="runs"):
        discriminative_score(one_run, split.holdout_time.signals)


def test_window_lengths_must_match():
    with pytest.raises(ValueError, match="days"):
        daily_marginal_ks(np.ones((10, 7, 5)), np.ones((10, 6, 5)))
