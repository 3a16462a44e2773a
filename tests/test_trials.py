"""Virtual clinical trials: the trajectories the world model is distilled from."""

import numpy as np
import pytest

from mano_gym.assets import load_cohort
from mano_gym.cohorts.trials import TRIAL_INTENSITIES, Trials, make_trials, trial_policies
from mano_gym.dynamics.treatments import TREATMENTS, next_exposure

WEEKS = 6


@pytest.fixture(scope="module")
def cohort():
    return load_cohort("eval")


@pytest.fixture(scope="module")
def trials(cohort) -> Trials:
    return make_trials(cohort, WEEKS, seed=3, replicas=2, redraw=True)


def test_every_patient_is_followed_once_per_replica(cohort, trials):
    assert len(trials) == 2 * len(cohort)
    np.testing.assert_array_equal(np.bincount(trials.patient), np.full(len(cohort), 2))
    assert trials.signals.shape == (len(trials), WEEKS + 1, 7, 5)
    assert trials.redrawn.shape == (len(trials), WEEKS, 7, 5)


def test_week_zero_is_the_cohorts_first_week_and_baseline_its_rhythm(cohort, trials):
    np.testing.assert_array_equal(trials.signals[:, 0], cohort.first_signals[trials.patient])
    np.testing.assert_array_equal(trials.static, cohort.static[trials.patient])
    np.testing.assert_allclose(trials.baseline, cohort.patients.rhythm[trials.patient])


def test_exposure_is_the_trace_of_the_actions_taken(trials):
    trace = np.zeros((len(trials), len(TREATMENTS)))
    for t in range(WEEKS):
        np.testing.assert_allclose(trials.exposure[:, t], trace, atol=1e-6)
        trace = next_exposure(trace, trials.treatment[:, t], trials.intensity[:, t])
    np.testing.assert_allclose(trials.exposure[:, WEEKS], trace, atol=1e-6)


def test_redrawn_weeks_differ_from_the_kept_ones_only_by_noise(trials):
    gap = np.abs(trials.redrawn - trials.signals[:, 1:]).mean(axis=(0, 1, 2))
    spread = np.abs(trials.signals[:, 1:] - trials.signals[::-1, 1:]).mean(axis=(0, 1, 2))
    assert np.all(gap > 0)
    assert np.all(gap < 0.5 * spread)  # far closer than another patient's week


def test_policies_cover_random_fixed_stepped_care_and_noisy_mixtures(trials):
    names = [name for name, _, _ in trial_policies()]
    assert "random" in names and "stepped-care" in names
    for treatment in TREATMENTS:
        for intensity in TRIAL_INTENSITIES:
            assert f"fixed-{treatment}-{intensity}" in names
    assert any(name.startswith("noisy-") for name in names)
    assert np.isclose(sum(share for _, share, _ in trial_policies()), 1.0)
    used = {trials.policy_names[k] for k in np.unique(trials.policy)}
    assert {"random", "stepped-care"} <= used


def test_same_seed_same_trials_and_another_seed_differs(cohort, trials):
    again = make_trials(cohort, WEEKS, seed=3, replicas=2, redraw=True)
    np.testing.assert_array_equal(again.signals, trials.signals)
    np.testing.assert_array_equal(again.treatment, trials.treatment)
    other = make_trials(cohort, WEEKS, seed=4, replicas=2)
    assert not np.array_equal(other.signals, trials.signals)


def test_save_load_round_trip(trials, tmp_path):
    path = tmp_path / "trials.npz"
    trials.save(path)
    loaded = Trials.load(path)
    for name in ("static", "baseline", "signals", "exposure", "treatment", "intensity", "redrawn"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(trials, name))
    assert loaded.policy_names == trials.policy_names


def test_load_rejects_a_corrupt_or_foreign_file(trials, tmp_path):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="not a readable trials file"):
        Trials.load(garbage)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, signals=trials.signals)
    with pytest.raises(ValueError, match="not a trials file, missing arrays"):
        Trials.load(foreign)


def test_bad_arguments_are_refused(cohort):
    with pytest.raises(ValueError, match="weeks and replicas"):
        make_trials(cohort, 0, seed=0)
