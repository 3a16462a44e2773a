"""Running a behaviour policy over every enrolled patient of a cohort, once each."""

import numpy as np

from mano_gym.cohorts.behaviour import FixedPolicy, Untreated
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.rollouts import RiskScorePolicy, run_policy


def test_every_enrolled_patient_is_treated_once_until_cure_or_twelve_weeks():
    outcomes = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="reference", seed=0)
    enrolled = ManoPatientEnv(cohort="eval").episodes.enrolled
    np.testing.assert_array_equal(outcomes.patients, enrolled)
    assert outcomes.weeks.min() >= 1 and outcomes.weeks.max() == 12
    np.testing.assert_array_equal(outcomes.cured, outcomes.cured & (outcomes.weeks <= 12))
    assert np.all(outcomes.weeks[~outcomes.cured] == 12)  # not cured: truncated at week 12


def test_same_seed_same_outcomes_and_treatment_changes_them():
    a = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="world_model", seed=4)
    b = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="world_model", seed=4)
    np.testing.assert_array_equal(a.returns, b.returns)
    c = run_policy(
        RiskScorePolicy(FixedPolicy("cbt", 1.0)), cohort="eval", dynamics="world_model", seed=4
    )
    assert c.cured.mean() > a.cured.mean()  # full-dose CBT cures more than no treatment
