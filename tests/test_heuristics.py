"""The clinical heuristics act on batched observations within the action space, under the names
`mano evaluate agent --agent` takes."""

from __future__ import annotations

import numpy as np
import pytest

from agents.heuristics import HEURISTIC_NAMES, make_heuristic
from mano_gym.dynamics.treatments import (
    INTENSITY_HIGH,
    INTENSITY_LOW,
    N_TREATMENTS,
    TREATMENTS,
    check_actions,
    treatment_index,
)
from mano_gym.envs.rollouts import enrolled, run_policy
from mano_gym.envs.vector import ManoPatientVectorEnv

N = 64


@pytest.fixture(scope="module")
def env() -> ManoPatientVectorEnv:
    return ManoPatientVectorEnv(N)


def test_heuristic_names_are_the_documented_ones():
    assert HEURISTIC_NAMES == (
        "control",
        "random",
        "fixed-wellness_app",
        "fixed-cbt",
        "fixed-exercise",
        "fixed-medication",
        "stepped-care",
        "measurement-based-care",
    )


@pytest.mark.parametrize("name", HEURISTIC_NAMES)
def test_every_heuristic_acts_within_the_action_space_on_real_observations(env, name):
    policy = make_heuristic(name)
    obs, _ = env.reset(seed=0)
    policy.reset(N)
    rng = np.random.default_rng(0)
    for _ in range(4):  # a few weeks, so that stateful ones use their state
        treatment, intensity = policy.act(obs, rng)
        assert treatment.shape == (N,) and intensity.shape == (N,)
        assert np.issubdtype(treatment.dtype, np.integer)
        assert ((treatment >= 0) & (treatment < N_TREATMENTS)).all()
        assert ((intensity >= INTENSITY_LOW) & (intensity <= INTENSITY_HIGH)).all()
        check_actions(treatment, intensity, N)
        obs, *_ = env.step({"treatment": treatment, "intensity": intensity[:, None]})


def test_control_gives_no_treatment(env):
    obs, _ = env.reset(seed=1)
    treatment, _ = make_heuristic("control").act(obs, np.random.default_rng(0))
    np.testing.assert_array_equal(treatment, np.zeros(N))


def test_random_draws_every_treatment_from_the_rng(env):
    obs, _ = env.reset(seed=2)
    policy = make_heuristic("random")
    treatment, intensity = policy.act(obs, np.random.default_rng(3))
    assert set(treatment.tolist()) == set(range(N_TREATMENTS))
    assert intensity.std() > 0.1  # spread over the range, not one value
    again = policy.act(obs, np.random.default_rng(3))
    np.testing.assert_array_equal(again[0], treatment)
    np.testing.assert_array_equal(again[1], intensity)
    other = policy.act(obs, np.random.default_rng(4))
    assert not np.array_equal(other[0], treatment)


@pytest.mark.parametrize("name", TREATMENTS[1:])
def test_fixed_gives_its_treatment_at_the_given_intensity(env, name):
    obs, _ = env.reset(seed=3)
    for dose in (INTENSITY_LOW, 0.8, INTENSITY_HIGH):
        treatment, intensity = make_heuristic(f"fixed-{name}", dose).act(
            obs, np.random.default_rng(0)
        )
        np.testing.assert_array_equal(treatment, np.full(N, treatment_index(name)))
        np.testing.assert_array_equal(intensity, np.full(N, dose))
    _, intensity = make_heuristic(f"fixed-{name}").act(obs, np.random.default_rng(0))
    np.testing.assert_array_equal(intensity, np.full(N, 0.5))  # the default


def _observations(scores: list[float]) -> dict[str, np.ndarray]:
    """A batch of observations whose risk scores `P(medium) * 0.5 + P(high)` are `scores`
    (P(high) = 0, so P(medium) = 2 * score), everything else zero."""
    n = len(scores)
    medium = 2.0 * np.asarray(scores)
    risk = np.stack([1.0 - medium, medium, np.zeros(n)], axis=1).astype(np.float32)
    return {
        "static": np.zeros((n, 16), np.float32),
        "signals": np.zeros((n, 7, 5), np.float32),
        "risk": risk,
        "exposure": np.zeros((n, N_TREATMENTS), np.float32),
        "week": np.zeros((n, 1), np.float32),
    }


def test_stepped_care_escalates_when_risk_does_not_fall_and_steps_down_when_it_does():
    # rows: flat risk, steadily falling risk, rising risk, flat then falling from week 3
    weeks = [
        [0.40, 0.40, 0.30, 0.45],
        [0.40, 0.38, 0.32, 0.45],
        [0.40, 0.36, 0.34, 0.45],
        [0.40, 0.34, 0.36, 0.40],
        [0.40, 0.32, 0.38, 0.35],
        [0.40, 0.30, 0.40, 0.30],
        [0.40, 0.28, 0.42, 0.25],
    ]
    policy = make_heuristic("stepped-care")
    policy.reset(4)
    rng = np.random.default_rng(0)
    given = [policy.act(_observations(scores), rng) for scores in weeks]
    names = np.array([[TREATMENTS[t] for t in treatment] for treatment, _ in given]).T
    app, cbt, med = "wellness_app", "cbt", "medication"
    assert names[0].tolist() == [app, app, cbt, cbt, med, med, med]
    assert names[1].tolist() == [app] * 7  # improving: never escalated
    assert names[2].tolist() == names[0].tolist()  # rising: as flat
    # flat until week 3 (escalated to CBT at week 2), then two falls step back down
    assert names[3].tolist() == [app, app, cbt, cbt, app, app, app]
    intensity = np.array([dose for _, dose in given]).T
    assert intensity[0].tolist() == [0.5, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6]
    # reset forgets: a new patient starts on the lowest step again
    policy.reset(4)
    treatment, _ = policy.act(_observations([0.4] * 4), rng)
    assert [TREATMENTS[t] for t in treatment] == [app] * 4


def test_stepped_care_in_the_environment_starts_on_the_app_and_escalates_some_patients():
    patients = enrolled("eval")[:32]
    outcomes = run_policy(make_heuristic("stepped-care"), "eval", seed=0, patients=patients)
    weeks_on = dict(zip(TREATMENTS, outcomes.treatment_weeks.T, strict=True))
    assert (weeks_on["wellness_app"] >= 1).all()  # everyone's first week
    assert weeks_on["control"].sum() == weeks_on["exercise"].sum() == 0  # not on the ladder
    assert weeks_on["cbt"].sum() > 0  # the world model leaves some patients' risk stalled


@pytest.mark.parametrize("name", ["fixed-control", "fixed-surgery", "Stepped-Care", "", "cbt"])
def test_unknown_names_are_rejected_with_the_known_ones(name):
    with pytest.raises(ValueError, match="known heuristics: control, random, fixed-wellness_app"):
        make_heuristic(name)


@pytest.mark.parametrize("intensity", [0.05, 1.5, -0.5, float("nan"), True, "0.5", None])
def test_intensity_outside_the_range_is_rejected(intensity):
    for name in ("fixed-cbt", "control"):
        with pytest.raises(ValueError, match="intensity"):
            make_heuristic(name, intensity)


def test_measurement_based_care_switches_the_patients_whose_risk_does_not_fall():
    patients = enrolled("eval")[:200]
    env = ManoPatientVectorEnv(len(patients), cohort="eval", dynamics="reference")
    obs, _ = env.reset(seed=3, options={"patients": patients})
    policy = make_heuristic("measurement-based-care")
    policy.reset(len(patients))
    rng = np.random.default_rng(0)
    given = []
    for _ in range(12):
        treatment, intensity = policy.act(obs, rng)
        given.append((treatment, intensity))
        obs, *_ = env.step({"treatment": treatment, "intensity": intensity[:, None]})
    first, last = given[0], given[-1]
    assert (first[0] == treatment_index("cbt")).all() and (first[1] == 0.6).all()
    moved = (last[0] != first[0]) | (last[1] != first[1])
    assert 0 < moved.sum() < len(patients)  # some climbed the ladder, some improved on step 1
