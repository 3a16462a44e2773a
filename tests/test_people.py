"""Synthetic people: the person-level model of weekly levels, the TimeGAN weeks that fill in
their days, the folds that validate them on people left out, and the between-person and
week-to-week statistics they are judged by."""

import numpy as np
import pytest

from generators.data import Windows
from generators.people import (
    PersonModel,
    PersonRhythms,
    consecutive_weeks,
    intraclass_correlation,
    week_to_week_correlation,
    weekly_windows,
)
from generators.people_folds import fit_generators, people_folds, score_held_out
from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, WINDOW_DAYS
from generators.timegan import TimeGAN, TimeGANConfig

TINY = TimeGANConfig(
    hidden_dim=8, batch_size=16, embedding_iterations=5, supervised_iterations=5, joint_iterations=5
)


@pytest.fixture(scope="module")
def people(windows) -> PersonModel:
    return PersonModel.fit(windows)


@pytest.fixture(scope="module")
def timegan(windows) -> TimeGAN:
    return TimeGAN(TINY).fit(windows.signals[:64], progress=False)


def test_weekly_windows_do_not_overlap(windows):
    weeks = weekly_windows(windows)
    assert 0 < len(weeks) < len(windows)
    for person in np.unique(weeks.participant):
        starts = np.sort(weeks.start[weeks.participant == person])
        assert (np.diff(starts) >= np.timedelta64(WINDOW_DAYS, "D")).all()


def test_icc_is_one_between_people_and_zero_within():
    people = np.repeat(np.arange(4), 5)
    constant_within = np.repeat(np.arange(4.0), 5)[:, None] * np.ones((1, 5))
    constant_within += np.random.default_rng(0).normal(0, 1e-9, constant_within.shape)
    np.testing.assert_allclose(intraclass_correlation(constant_within, people), 1.0, atol=1e-6)
    same_means = np.tile(np.array([-1.0, 1.0, -1.0, 1.0, 0.0]), 4)[:, None] * np.ones((1, 5))
    np.testing.assert_allclose(intraclass_correlation(same_means, people), 0.0)


def test_icc_of_real_weeks_lies_between_zero_and_one(windows):
    weeks = weekly_windows(windows)
    icc = intraclass_correlation(weeks.signals.mean(1), weeks.participant)
    assert icc.shape == (5,) and ((icc >= 0) & (icc <= 1)).all()
    assert icc[2] > 0.5  # resting heart rate is a person's own, week after week


def test_week_to_week_correlation_sees_a_trend_within_people():
    people = np.repeat(np.arange(3), 6)
    trend = np.tile(np.arange(6.0), 3)[:, None] * np.ones((1, 5))
    consecutive = people[1:] == people[:-1]
    assert (week_to_week_correlation(trend, people, consecutive) > 0.5).all()


def test_consecutive_weeks_are_seven_days_apart(windows):
    weeks = weekly_windows(windows)
    pairs = np.flatnonzero(consecutive_weeks(weeks))
    assert len(pairs) > 0
    gap = weeks.start[pairs + 1] - weeks.start[pairs]
    assert (gap == np.timedelta64(WINDOW_DAYS, "D")).all()
    assert (weeks.participant[pairs + 1] == weeks.participant[pairs]).all()


def test_person_model_needs_several_people(windows):
    one = windows.select(["p01"])
    with pytest.raises(ValueError, match="at least 3 people"):
        PersonModel.fit(one)


def test_same_seed_same_people_and_weeks(people):
    np.testing.assert_array_equal(people.sample_levels(5, 4, seed=1), people.sample_levels(5, 4, 1))
    assert not np.array_equal(people.sample_levels(5, 4, seed=1), people.sample_levels(5, 4, 2))


def test_weeks_of_a_person_differ_and_stay_nearer_than_another_persons(people):
    levels = people.sample_levels(400, 8, seed=0)
    assert (levels >= SIGNAL_LOW).all() and (levels <= SIGNAL_HIGH).all()
    heart_rate = levels[:, :, 2]
    assert (heart_rate.std(1) > 0).all()  # a person's weeks are not one week repeated
    within = heart_rate.std(1).mean()
    between = heart_rate.mean(1).std()
    assert within < between  # resting heart rate: mostly between people, as in PMData


def test_synthetic_icc_follows_the_fitted_model(people):
    levels = people.sample_levels(300, 10, seed=3)
    who = np.repeat(np.arange(300), 10)
    icc = intraclass_correlation(levels.reshape(-1, 5), who)
    between, within = np.diag(people.between), np.diag(people.within)
    expected = between / (between + within)
    np.testing.assert_allclose(icc, expected, atol=0.15)


def test_person_rhythms_give_weeks_on_support(people, timegan):
    weeks = PersonRhythms(people, timegan).sample(3, 4, seed=0)
    assert weeks.shape == (3, 4, timegan.days, 5)
    assert (weeks >= SIGNAL_LOW).all() and (weeks <= SIGNAL_HIGH).all()
    np.testing.assert_array_equal(weeks, PersonRhythms(people, timegan).sample(3, 4, seed=0))
    assert not np.array_equal(weeks, PersonRhythms(people, timegan).sample(3, 4, seed=1))


def test_person_rhythms_weeks_lie_on_their_levels(people, timegan):
    weeks = PersonRhythms(people, timegan).sample(20, 5, seed=4)
    levels = people.sample_levels(20, 5, seed=4)
    gap = np.abs(weeks.mean(2) - levels)
    # only the rounding of whole-number signals and the edges of each support move a week off
    assert np.median(gap[..., 2]) < 0.01  # resting heart rate is not rounded
    assert (np.median(gap, axis=(0, 1)) <= 0.5).all()


def test_person_rhythms_refuse_an_empty_pool(people, timegan):
    with pytest.raises(ValueError, match="pool_factor"):
        PersonRhythms(people, timegan, pool_factor=0)


def test_windows_type_is_what_the_model_reads(windows):
    assert isinstance(weekly_windows(windows), Windows)


def test_people_folds_hold_out_everyone_once():
    names = [f"p{i:02d}" for i in range(1, 11)]
    folds = people_folds(names, k=4, seed=0)
    held = [name for fold in folds for name in fold]
    assert sorted(held) == names and len(folds) == 4
    assert people_folds(names, k=4, seed=0) == folds
    with pytest.raises(ValueError, match="k must lie in"):
        people_folds(names, k=11)


def test_fold_runner_scores_both_generators_on_a_tiny_model(windows):
    fold = ("p06",)
    train = windows.subset(~np.isin(windows.participant, fold))
    fit = fit_generators(TINY, weeks_per_person=4)
    rows = score_held_out(train, windows.select(list(fold)), [0], fit, 40, 1)
    assert sorted(row["model"] for row in rows) == ["person-level", "weeks-only"]
    for row in rows:
        assert row["seed"] == 0
        for key in ("distribution_score", "real.distribution_score"):
            assert 0.0 <= row[key] <= 1.0
        for key in ("discriminative_score", "real.discriminative_score"):
            assert 0.0 <= row[key] <= 0.5


def test_fold_runner_refuses_a_held_out_person_in_training(windows):
    with pytest.raises(ValueError, match="held-out person is among the training people"):
        score_held_out(windows, windows.select(["p01"]), [0], fit_generators(TINY))
