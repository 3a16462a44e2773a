import dataclasses
from functools import partial

import numpy as np
import pandas as pd
import pytest

from generators.baselines import AR1, block_bootstrap, fit_ar1, independent_columns
from generators.data import split_windows
from generators.evaluation import (
    autocorrelation_error,
    discriminative_score,
    distribution_score,
    lag1_autocorrelation,
)
from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, to_support


@pytest.fixture(scope="module")
def split(windows):
    return split_windows(windows, ("p05", "p10"))


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    x = np.arange(1000)
    return pd.DataFrame(
        {
            "x": x,
            "twice_x": 2.0 * x,
            "group": pd.Categorical(np.where(x % 3 == 0, "a", "b")),
        }
    )


def test_independent_columns_keep_marginals_and_dtypes(table):
    sample = independent_columns(table, 3000, seed=0)
    assert sample.shape == (3000, 3)
    assert (sample.dtypes == table.dtypes).all()
    assert set(sample["x"]) <= set(table["x"])
    assert sample["x"].mean() == pytest.approx(table["x"].mean(), rel=0.05)
    assert (sample["group"] == "a").mean() == pytest.approx(1 / 3, abs=0.03)


def test_independent_columns_break_correlation(table):
    assert table["x"].corr(table["twice_x"]) == 1.0
    sample = independent_columns(table, 3000, seed=0)
    assert abs(sample["x"].corr(sample["twice_x"])) < 0.1


def test_independent_columns_are_seeded(table):
    pd.testing.assert_frame_equal(
        independent_columns(table, 50, seed=4), independent_columns(table, 50, seed=4)
    )
    assert not independent_columns(table, 50, seed=4).equals(independent_columns(table, 50, 5))


def test_block_bootstrap_shape_support_and_seed(split):
    weeks = block_bootstrap(split.train, 200, seed=0)
    assert weeks.shape == (200, 7, 5) and weeks.dtype == np.float32
    assert np.array_equal(weeks, to_support(weeks))
    assert np.array_equal(weeks, block_bootstrap(split.train, 200, seed=0))
    assert not np.array_equal(weeks, block_bootstrap(split.train, 200, seed=1))


def test_block_bootstrap_weeks_come_from_one_person_in_real_runs(split):
    train = split.train
    days_of = {
        p: {tuple(day) for day in train.signals[train.participant == p].reshape(-1, 5)}
        for p in np.unique(train.participant)
    }
    real_runs = {tuple(w[i : i + 3].ravel()) for w in train.signals for i in range(5)}
    for week in block_bootstrap(train, 100, seed=0, block=3):
        days = {tuple(day) for day in week}
        assert any(days <= own for own in days_of.values())
        assert tuple(week[0:3].ravel()) in real_runs and tuple(week[3:6].ravel()) in real_runs


def test_block_bootstrap_rejects_a_block_longer_than_the_week(split):
    with pytest.raises(ValueError, match="block"):
        block_bootstrap(split.train, 10, seed=0, block=8)


def test_ar1_is_frozen_seeded_and_on_support(split):
    model = fit_ar1(split.train.signals)
    assert isinstance(model, AR1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.phi = np.zeros(5)
    sample = model.sample(300, seed=0)
    assert sample.shape == (300, 7, 5)
    assert np.array_equal(sample, to_support(sample))
    assert (sample >= SIGNAL_LOW).all() and (sample <= SIGNAL_HIGH).all()
    assert np.array_equal(sample, model.sample(300, seed=0))


def test_fit_ar1_recovers_known_coefficients():
    phi = np.array([-0.5, 0.0, 0.3, 0.6, 0.9])
    truth = AR1(mean=np.full(5, 50.0), std=np.full(5, 5.0), phi=phi)
    rng = np.random.default_rng(0)
    values = np.empty((20000, 7, 5))  # continuous (no rounding) to test the fit alone
    values[:, 0] = rng.normal(50.0, 5.0, size=(20000, 5))
    for t in range(1, 7):
        noise = rng.normal(0.0, 5.0 * np.sqrt(1 - phi**2), size=(20000, 5))
        values[:, t] = 50.0 + phi * (values[:, t - 1] - 50.0) + noise
    fitted = fit_ar1(values)
    assert fitted.phi == pytest.approx(truth.phi, abs=0.05)
    assert fitted.mean == pytest.approx(truth.mean, abs=0.3)
    assert fitted.std == pytest.approx(truth.std, rel=0.05)


def test_ar1_keeps_persistence_but_not_people(split):
    train = split.train.signals
    ar1 = fit_ar1(train).sample(500, seed=0)
    bootstrap = block_bootstrap(split.train, 500, seed=0)
    # persistence is what the AR(1) is fitted to ...
    assert autocorrelation_error(train, ar1) < 0.05
    assert lag1_autocorrelation(ar1)[2] > 0.1  # resting HR persists, as in the data
    # ... but with one mean for everybody its weeks are easy to tell from real ones
    assert distribution_score(train, ar1) < distribution_score(train, bootstrap)
    score = partial(discriminative_score, repeats=1)  # the gap is far wider than the noise
    assert score(train, ar1) > score(train, bootstrap) + 0.2
