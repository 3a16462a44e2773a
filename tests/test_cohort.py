"""Cohorts of synthetic patients: profile encoding, seeding, disjoint train and eval cohorts,
the `.npz` file, and the labelled weeks the risk predictor learns from."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from generators.profile_schema import GENDERS
from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.cohorts.cohort import (
    EVAL_COHORT_SEED,
    STATIC_FEATURES,
    TRAIN_COHORT_SEED,
    Cohort,
)
from mano_gym.cohorts.sampling import encode_profiles, make_cohort
from mano_gym.cohorts.weeks import simulate_weeks
from mano_gym.dynamics.treatments import N_TREATMENTS
from predictor.labels import RISK_CLASSES, dass_risk_labels

N = 4000
WEEKS = 8
ARRAYS = ("set_point", "first_scores", "responsiveness", "moderation", "treated_before", "rhythm")


@pytest.fixture(scope="module")
def generators():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield load_profile_generator(), load_rhythm_generator()
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cohort(generators) -> Cohort:
    return make_cohort(N, TRAIN_COHORT_SEED, *generators)


@pytest.fixture(scope="module")
def eval_cohort(generators) -> Cohort:
    return make_cohort(N, EVAL_COHORT_SEED, *generators)


@pytest.fixture(scope="module")
def weeks(cohort):
    return simulate_weeks(cohort, WEEKS, seed=0)


@pytest.fixture(scope="module")
def small(generators) -> Cohort:
    return make_cohort(40, 7, *generators)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_same_cohort(a: Cohort, b: Cohort) -> None:
    pd.testing.assert_frame_equal(a.profiles, b.profiles)
    np.testing.assert_array_equal(a.static, b.static)
    np.testing.assert_array_equal(a.first_signals, b.first_signals)
    for name in ARRAYS:
        np.testing.assert_array_equal(getattr(a.patients, name), getattr(b.patients, name))
    assert a.seed == b.seed


def rewrite(source: Path, target: Path, **changes) -> None:
    """A copy of a saved cohort file with some arrays replaced (text kept as plain strings)."""
    with np.load(source, allow_pickle=True) as data:
        arrays = {name: data[name] for name in data.files}
    for name, value in arrays.items():
        if value.dtype == object:
            arrays[name] = value.astype(str)
    arrays.update(changes)
    np.savez(target, **arrays)


# ---------------------------------------------------------------------------- encoding
def test_encoding_has_one_bounded_column_per_static_feature(cohort):
    static = encode_profiles(cohort.profiles)
    assert static.shape == (N, len(STATIC_FEATURES))
    assert static.dtype == np.float32
    assert static.min() >= 0.0 and static.max() <= 1.0
    np.testing.assert_array_equal(static, cohort.static)


def test_encoding_gender_is_one_hot(cohort):
    columns = [STATIC_FEATURES.index(f"gender_{g}") for g in GENDERS]
    gender = cohort.static[:, columns]
    np.testing.assert_array_equal(gender.sum(axis=1), 1.0)
    assert set(np.unique(gender)) == {0.0, 1.0}
    female = (cohort.profiles["gender"] == "female").to_numpy()
    np.testing.assert_array_equal(cohort.static[:, STATIC_FEATURES.index("gender_female")], female)


def test_encoding_follows_the_documented_table(cohort):
    profiles = cohort.profiles.iloc[:3].copy()
    profiles["age"] = [18, 75, 90]
    profiles["work_interfere"] = ["Never", "Often", "Not applicable"]
    profiles["no_employees"] = ["1-5", "More than 1000", "26-100"]
    static = encode_profiles(profiles)

    def column(name):
        return static[:, STATIC_FEATURES.index(name)]

    np.testing.assert_allclose(column("age"), [0.0, 1.0, 1.0])  # 90 is clipped to 75
    np.testing.assert_allclose(column("work_interference"), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(column("work_interference_na"), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(column("company_size"), [0.0, 1.0, 0.4])


def test_encoding_rejects_an_unknown_answer_naming_the_column(cohort):
    profiles = cohort.profiles.iloc[:5].copy()
    profiles.loc[profiles.index[2], "benefits"] = "Perhaps"
    with pytest.raises(ValueError, match="unknown benefits answers.*Perhaps"):
        encode_profiles(profiles)
    with pytest.raises(ValueError, match="unknown gender answers.*robot"):
        encode_profiles(cohort.profiles.iloc[:5].assign(gender="robot"))


def test_encoding_rejects_missing_columns_and_non_numeric_age(cohort):
    profiles = cohort.profiles.iloc[:5]
    with pytest.raises(ValueError, match="lack the columns.*seek_help"):
        encode_profiles(profiles.drop(columns="seek_help"))
    with pytest.raises(ValueError, match="age must be numeric"):
        encode_profiles(profiles.assign(age="thirty"))


# ----------------------------------------------------------------------------- seeding
def test_same_seed_same_cohort(generators, cohort):
    assert_same_cohort(make_cohort(N, TRAIN_COHORT_SEED, *generators), cohort)


def test_different_seed_different_cohort(cohort, eval_cohort):
    assert not cohort.profiles.equals(eval_cohort.profiles)
    assert not np.array_equal(cohort.static, eval_cohort.static)
    assert not np.array_equal(cohort.first_signals, eval_cohort.first_signals)
    for name in ARRAYS:
        assert not np.array_equal(
            getattr(cohort.patients, name), getattr(eval_cohort.patients, name)
        )


def test_train_and_eval_cohorts_share_no_patient(cohort, eval_cohort):
    def rows(c):
        table = np.concatenate([c.first_signals.reshape(len(c), -1), c.patients.set_point], axis=1)
        return {row.tobytes() for row in table.astype(np.float64)}

    train, evaluation = rows(cohort), rows(eval_cohort)
    assert len(train) == len(evaluation) == N
    assert not train & evaluation


def test_cohort_has_the_first_week_of_each_patient(cohort):
    assert len(cohort) == N and cohort.seed == TRAIN_COHORT_SEED
    assert cohort.first_signals.shape == (N, 7, 5)
    assert cohort.patients.set_point.shape == cohort.patients.first_scores.shape == (N, 3)
    assert len(cohort.profiles) == N
    np.testing.assert_array_equal(cohort.profiles.index, np.arange(N))


@pytest.mark.parametrize("n", [0, -3])
def test_make_cohort_needs_at_least_one_patient(generators, n):
    with pytest.raises(ValueError, match="at least one patient"):
        make_cohort(n, 0, *generators)


# ------------------------------------------------------------------------------- files
def test_save_load_round_trip_keeps_every_array_and_the_profiles(small, tmp_path):
    path = tmp_path / "cohort.npz"
    small.save(path)
    loaded = Cohort.load(path)
    assert_same_cohort(loaded, small)
    assert loaded.static.dtype == small.static.dtype
    assert loaded.first_signals.dtype == small.first_signals.dtype


def test_load_does_not_modify_the_file(small, tmp_path):
    path = tmp_path / "cohort.npz"
    small.save(path)
    before = sha256(path)
    Cohort.load(path)
    assert sha256(path) == before


def test_load_rejects_a_corrupt_file(small, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a cohort at all")
    with pytest.raises(ValueError, match="not a readable cohort file"):
        Cohort.load(garbage)
    with pytest.raises(ValueError, match="not a readable cohort file"):
        Cohort.load(tmp_path / "missing.npz")


def test_load_rejects_a_truncated_cohort_file(small, tmp_path):
    path = tmp_path / "cohort.npz"
    small.save(path)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a readable cohort file"):
        Cohort.load(truncated)


def test_load_rejects_a_plain_npy_file(tmp_path):
    path = tmp_path / "cohort.npy"
    np.save(path, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="not a readable cohort file"):
        Cohort.load(path)


def test_load_rejects_an_npz_that_is_not_a_cohort(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(ValueError, match="not a cohort file, missing arrays"):
        Cohort.load(path)


@pytest.mark.parametrize(
    ("name", "shape"),
    [("set_point", (40, 2)), ("static", (40, 3)), ("rhythm", (40, 6, 5)), ("first_signals", (40,))],
)
def test_load_rejects_arrays_of_the_wrong_shape(small, tmp_path, name, shape):
    path, bad = tmp_path / "cohort.npz", tmp_path / "bad.npz"
    small.save(path)
    rewrite(path, bad, **{name: np.zeros(shape)})
    with pytest.raises(ValueError, match=f"{name} has shape"):
        Cohort.load(bad)


def test_load_rejects_profiles_that_do_not_match_the_patients(small, tmp_path):
    path, bad = tmp_path / "cohort.npz", tmp_path / "bad.npz"
    small.save(path)
    rewrite(path, bad, profiles=small.profiles.astype(str).to_numpy(dtype=str)[:10])
    with pytest.raises(ValueError, match="profiles"):
        Cohort.load(bad)


def test_load_rejects_non_finite_values(small, tmp_path):
    path, bad = tmp_path / "cohort.npz", tmp_path / "bad.npz"
    small.save(path)
    set_point = small.patients.set_point.copy()
    set_point[3, 1] = np.nan
    rewrite(path, bad, set_point=set_point)
    with pytest.raises(ValueError, match="set_point holds NaN"):
        Cohort.load(bad)


# ----------------------------------------------------------------------- labelled weeks
def test_simulated_weeks_have_one_row_per_patient_week(weeks):
    m = (WEEKS + 1) * N
    assert len(weeks.risk) == m
    for name in ("static", "signals", "scores", "week", "treatment", "patient"):
        assert len(getattr(weeks, name)) == m
    np.testing.assert_array_equal(np.bincount(weeks.patient), WEEKS + 1)
    np.testing.assert_array_equal(np.bincount(weeks.week), N)
    assert weeks.signals.shape == (m, 7, 5) and weeks.signals.dtype == np.float32


def test_week_zero_rows_are_the_cohorts_first_week(cohort, weeks):
    first = weeks.week == 0
    patient = weeks.patient[first]
    np.testing.assert_array_equal(np.sort(patient), np.arange(N))
    np.testing.assert_array_equal(weeks.signals[first], cohort.first_signals[patient])
    np.testing.assert_array_equal(weeks.scores[first], cohort.patients.first_scores[patient])
    np.testing.assert_array_equal(weeks.treatment[first], -1)
    np.testing.assert_array_equal(weeks.static, cohort.static[weeks.patient])


def test_treated_weeks_include_every_treatment(weeks):
    treated = weeks.treatment[weeks.week > 0]
    assert set(np.unique(treated)) == set(range(N_TREATMENTS))


def test_labels_are_the_dass_risk_classes_and_all_occur(weeks):
    np.testing.assert_array_equal(weeks.risk, dass_risk_labels(weeks.scores))
    assert set(np.unique(weeks.risk)) == set(range(len(RISK_CLASSES)))


def test_same_seed_same_labelled_weeks(cohort, weeks):
    again = simulate_weeks(cohort, WEEKS, seed=0)
    for name in ("static", "signals", "scores", "risk", "week", "treatment", "patient"):
        np.testing.assert_array_equal(getattr(again, name), getattr(weeks, name))


def test_different_seed_different_labelled_weeks(cohort, weeks):
    other = simulate_weeks(cohort, WEEKS, seed=1)
    assert not np.array_equal(other.treatment, weeks.treatment)
    assert not np.array_equal(other.scores, weeks.scores)
