"""Quality and privacy floors of the generators shipped in mano_gym/assets, on the real data
they were trained on (the same split, read from the manifest)."""

import numpy as np
import pandas as pd
import pytest

from generators.baselines import fit_ar1, independent_columns
from generators.evaluation.profiles import profile_quality
from generators.evaluation.report import evaluate_profiles, evaluate_windows, real_reference
from generators.evaluation.rhythms import discriminative_score
from generators.signals import SIGNAL_HIGH, SIGNAL_LOW
from generators.splits import data_files
from mano_gym.assets import (
    RHYTHMS,
    load_profile_generator,
    load_rhythm_generator,
    verified_artifact,
)
from mano_gym.build.generators import (
    PROFILES,
    shipped_split,
)
from mano_gym.build.manifest import data_hashes
from tests.conftest import DATA

N = 1000


@pytest.fixture(scope="module")
def split():
    return shipped_split(DATA)


@pytest.fixture(scope="module")
def profiles():
    return load_profile_generator().sample(N, seed=0)


@pytest.fixture(scope="module")
def rhythms():
    return load_rhythm_generator().sample(N, seed=0)


@pytest.fixture(scope="module")
def profile_metrics(profiles, split):
    return evaluate_profiles(profiles, split)


@pytest.fixture(scope="module")
def rhythm_metrics(rhythms, split):
    return evaluate_windows(rhythms, split) | real_reference(split)


def test_manifest_records_the_data_each_artifact_was_trained_on():
    for name in (PROFILES, RHYTHMS):
        _, entry = verified_artifact(name)
        assert entry["data"] == data_hashes(data_files(DATA), DATA)
        assert {"seed", "hyperparameters", "metrics", "training_seconds"} <= set(entry)


def test_same_seed_same_samples():
    pd.testing.assert_frame_equal(
        load_profile_generator().sample(20, seed=5), load_profile_generator().sample(20, seed=5)
    )
    np.testing.assert_array_equal(
        load_rhythm_generator().sample(20, seed=5), load_rhythm_generator().sample(20, seed=5)
    )


def test_profile_fidelity_floors(profile_metrics, split):
    independent = independent_columns(split.profiles_train, N, seed=0)
    baseline = profile_quality(split.profiles_train, independent)
    assert profile_metrics["profiles.column_shapes"] >= 0.92
    assert profile_metrics["profiles.column_pair_trends"] >= 0.80
    assert profile_metrics["profiles.column_pair_trends"] > baseline["column_pair_trends"]


def test_profile_privacy_floors(profile_metrics):
    assert profile_metrics["privacy.profiles.exact_copies"] == 0
    assert profile_metrics["privacy.profiles.dcr_overfitting_protection"] >= 0.9
    assert profile_metrics["privacy.profiles.mia_auc"] <= 0.6


def test_rhythms_on_support(rhythms):
    assert rhythms.shape == (N, 7, 5)
    assert (rhythms >= SIGNAL_LOW).all() and (rhythms <= SIGNAL_HIGH).all()


def test_rhythms_beat_the_ar1_baseline_and_teach_as_well_as_real_windows(rhythm_metrics, split):
    ar1 = fit_ar1(split.windows.train.signals).sample(N, seed=0)
    assert rhythm_metrics["rhythms.discriminative_score"] < discriminative_score(
        split.windows.train.signals, ar1
    )
    assert rhythm_metrics["rhythms.predictive_score_ratio"] <= 1.15


def test_rhythm_fidelity_floors(rhythm_metrics):
    assert rhythm_metrics["rhythms.distribution_score"] >= 0.90
    assert rhythm_metrics["rhythms.discriminative_score"] <= 0.20


def test_rhythms_describe_unseen_people_as_well_as_real_windows_do(rhythm_metrics):
    real = "rhythms.real_train.holdout_people"
    assert (
        rhythm_metrics["rhythms.holdout_people.distribution_score"]
        >= rhythm_metrics[f"{real}.distribution_score"] - 0.02
    )


def test_rhythms_are_as_hard_to_tell_from_unseen_people_as_real_windows(rhythm_metrics):
    real = "rhythms.real_train.holdout_people"
    assert (
        rhythm_metrics["rhythms.holdout_people.discriminative_score"]
        <= rhythm_metrics[f"{real}.discriminative_score"] + 0.02
    )


def test_rhythm_privacy_floors(rhythm_metrics):
    # SDMetrics' DCROverfittingProtection rescales each column by the range of the table it
    # measures against, which misjudges small window holdouts; the share is the check here.
    assert rhythm_metrics["privacy.rhythms.exact_copies"] == 0
    assert rhythm_metrics["privacy.rhythms.dcr_share"] <= 0.55
    assert rhythm_metrics["privacy.rhythms.mia_auc"] <= 0.6
