"""Behaviour policies: valid actions, input checks, stepped care's ladder and the noisy
policy's mixing."""

import numpy as np
import pytest

from mano_gym.cohorts.behaviour import (
    STEPPED_CARE_LADDER,
    FixedPolicy,
    NoisyPolicy,
    RandomPolicy,
    SteppedCare,
    Untreated,
    random_actions,
)
from mano_gym.cohorts.weeks import behaviour_mix
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS, TREATMENTS

N = 2000
APP, CBT, MEDICATION = (TREATMENTS.index(name) for name, _ in STEPPED_CARE_LADDER)
LADDER = [(TREATMENTS.index(name), intensity) for name, intensity in STEPPED_CARE_LADDER]


def all_policies():
    return [
        Untreated(),
        RandomPolicy(),
        FixedPolicy("cbt", 0.7),
        SteppedCare(),
        NoisyPolicy(SteppedCare(), 0.3),
        *(policy for _, policy in behaviour_mix()),
    ]


def assert_valid_actions(treatment, intensity, n):
    assert treatment.shape == intensity.shape == (n,)
    assert np.issubdtype(treatment.dtype, np.integer)
    assert treatment.min() >= 0 and treatment.max() < N_TREATMENTS
    assert intensity.dtype == np.float64
    assert intensity.min() >= INTENSITY_LOW and intensity.max() <= INTENSITY_HIGH


def play(policy, risks, seed=0):
    """The actions of `policy` over a sequence of weekly risk arrays."""
    rng = np.random.default_rng(seed)
    policy.reset(len(risks[0]))
    return [policy.act(np.asarray(risk), rng) for risk in risks]


def steps(policy, risks):
    """The ladder step (0 app, 1 cbt, 2 medication) stepped care prescribes each week."""
    out = []
    for treatment, intensity in play(policy, risks):
        actions = zip(treatment.tolist(), intensity.tolist(), strict=True)
        assert set(actions) <= set(LADDER)
        out.append([[t for t, _ in LADDER].index(k) for k in treatment])
    return np.array(out).T  # (patients, weeks)


@pytest.mark.parametrize("policy", all_policies(), ids=lambda p: type(p).__name__)
def test_every_policy_gives_valid_actions_of_the_right_shape(policy):
    rng = np.random.default_rng(0)
    risks = rng.integers(0, 3, (12, N))
    for treatment, intensity in play(policy, risks):
        assert_valid_actions(treatment, intensity, N)


def test_random_actions_cover_every_treatment_and_the_intensity_range():
    treatment, intensity = random_actions(N, np.random.default_rng(0))
    assert_valid_actions(treatment, intensity, N)
    assert set(np.unique(treatment)) == set(range(N_TREATMENTS))
    assert intensity.min() < 0.2 and intensity.max() > 0.9


def test_untreated_and_fixed_policies_prescribe_one_action():
    risk = np.array([0, 1, 2, 2])
    rng = np.random.default_rng(0)
    treatment, intensity = Untreated().act(risk, rng)
    np.testing.assert_array_equal(treatment, 0)
    np.testing.assert_array_equal(intensity, INTENSITY_LOW)
    treatment, intensity = FixedPolicy("medication", 0.4).act(risk, rng)
    np.testing.assert_array_equal(treatment, TREATMENTS.index("medication"))
    np.testing.assert_array_equal(intensity, 0.4)


def test_fixed_policy_rejects_an_unknown_treatment():
    with pytest.raises(ValueError, match="unknown treatment 'yoga'.*medication"):
        FixedPolicy("yoga", 0.5)


@pytest.mark.parametrize("intensity", [0.05, 1.5, np.nan])
def test_fixed_policy_rejects_an_intensity_out_of_range(intensity):
    with pytest.raises(ValueError, match=r"outside \[0.1, 1.0\]"):
        FixedPolicy("cbt", intensity)


def test_stepped_care_starts_on_the_app():
    treatment, intensity = play(SteppedCare(), [np.array([2, 1, 0])])[0]
    np.testing.assert_array_equal(treatment, APP)
    np.testing.assert_array_equal(intensity, LADDER[0][1])


def test_stepped_care_escalates_after_two_weeks_of_non_falling_risk():
    flat = [2, 2, 2, 2, 2, 2, 2, 2]
    rising = [0, 1, 1, 2, 2, 2, 2, 2]
    stepped = steps(SteppedCare(), np.array([flat, rising]).T)
    # week 0 sets the baseline; every second week without a fall climbs one step
    np.testing.assert_array_equal(stepped[0], [0, 0, 1, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(stepped[1], [0, 0, 1, 1, 2, 2, 2, 2])


def test_stepped_care_goes_app_cbt_medication():
    treatments = [t for t, _ in play(SteppedCare(), np.full((5, 1), 2))]
    assert [int(t[0]) for t in treatments] == [APP, APP, CBT, CBT, MEDICATION]


def test_stepped_care_holds_while_risk_keeps_falling_every_other_week():
    zigzag = [2.0, 1.5, 1.5, 1.0, 1.0, 1.0]  # no two stalled weeks in a row until the end
    stepped = steps(SteppedCare(), np.array([zigzag]).T)
    np.testing.assert_array_equal(stepped[0], [0, 0, 0, 0, 0, 1])


def test_stepped_care_steps_down_after_two_weeks_of_falling_risk():
    # five flat weeks reach medication, then risk falls two weeks in a row
    risk = [2.0, 2.0, 2.0, 2.0, 2.0, 1.5, 1.0, 1.0, 1.0]
    stepped = steps(SteppedCare(), np.array([risk]).T)
    np.testing.assert_array_equal(stepped[0], [0, 0, 1, 1, 2, 2, 1, 1, 2])


def test_stepped_care_never_leaves_the_ladder():
    rng = np.random.default_rng(3)
    walks = np.cumsum(rng.normal(0, 1, (40, N)), axis=0)  # risk scores, any direction
    stepped = steps(SteppedCare(), walks)
    assert stepped.min() == 0 and stepped.max() == len(LADDER) - 1
    assert np.all(np.abs(np.diff(stepped, axis=1)) <= 1)  # one step at a time


def test_stepped_care_reset_starts_patients_afresh():
    policy = SteppedCare()
    play(policy, np.full((6, 3), 2))
    treatment, _ = play(policy, [np.full(4, 2)])[0]
    np.testing.assert_array_equal(treatment, APP)
    assert treatment.shape == (4,)


def test_noisy_policy_with_epsilon_zero_equals_its_base():
    risks = np.random.default_rng(1).integers(0, 3, (10, N))
    noisy = play(NoisyPolicy(SteppedCare(), 0.0), risks, seed=5)
    base = play(SteppedCare(), risks, seed=5)
    for (t, i), (bt, bi) in zip(noisy, base, strict=True):
        np.testing.assert_array_equal(t, bt)
        np.testing.assert_array_equal(i, bi)


def test_noisy_policy_with_epsilon_one_is_random_and_seeded():
    risks = np.zeros((3, N), np.int64)
    actions = play(NoisyPolicy(FixedPolicy("cbt", 0.6), 1.0), risks, seed=7)
    again = play(NoisyPolicy(FixedPolicy("cbt", 0.6), 1.0), risks, seed=7)
    other = play(NoisyPolicy(FixedPolicy("cbt", 0.6), 1.0), risks, seed=8)
    for (t, i), (at, ai), (ot, _) in zip(actions, again, other, strict=True):
        np.testing.assert_array_equal(t, at)
        np.testing.assert_array_equal(i, ai)
        assert not np.array_equal(t, ot)
        shares = np.bincount(t, minlength=N_TREATMENTS) / N
        np.testing.assert_allclose(shares, 1 / N_TREATMENTS, atol=0.04)
        assert not np.any(i == 0.6)
    assert not np.array_equal(actions[0][0], actions[1][0])  # a new draw every week


def test_noisy_policy_replaces_about_epsilon_of_the_actions():
    risks = np.zeros((4, N), np.int64)
    for treatment, intensity in play(NoisyPolicy(FixedPolicy("cbt", 0.6), 0.3), risks):
        replaced = intensity != 0.6
        assert 0.25 < replaced.mean() < 0.35
        assert set(np.unique(treatment[~replaced])) == {CBT}


@pytest.mark.parametrize("epsilon", [-0.1, 1.1, np.nan])
def test_noisy_policy_rejects_epsilon_outside_zero_one(epsilon):
    with pytest.raises(ValueError, match=r"outside \[0, 1\]"):
        NoisyPolicy(SteppedCare(), epsilon)
