"""Running a behaviour policy over every enrolled patient of a cohort, once each."""

import numpy as np

from mano_gym.cohorts.behaviour import FixedPolicy, Untreated
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.rollouts import RiskScorePolicy, run_policy


def test_every_enrolled_patient_is_treated_once_until_cure_dropout_or_the_horizon():
    outcomes = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="reference", seed=0)
    env = ManoPatientEnv(cohort="eval")
    np.testing.assert_array_equal(outcomes.patients, env.episodes.enrolled)
    assert outcomes.weeks.min() >= 1 and outcomes.weeks.max() == env.max_weeks
    assert not (outcomes.cured & outcomes.dropout).any()
    assert outcomes.cured.any() and outcomes.dropout.any()
    assert (outcomes.cured[outcomes.weeks == 1] == 0).all()  # a cure takes two weeks in a row
    truncated = ~outcomes.cured & ~outcomes.dropout
    assert np.all(outcomes.weeks[truncated] == env.max_weeks)
    assert not (outcomes.true_cured & outcomes.dropout).any()  # a drop-out is not a remission


def test_same_seed_same_outcomes_and_treatment_changes_them():
    a = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="world_model", seed=4)
    b = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="world_model", seed=4)
    np.testing.assert_array_equal(a.returns, b.returns)
    c = run_policy(
        RiskScorePolicy(FixedPolicy("cbt", 1.0)), cohort="eval", dynamics="world_model", seed=4
    )
    assert c.cured.mean() > a.cured.mean()  # full-dose CBT cures more than no treatment


def test_outcomes_subset_keeps_the_rows_of_every_field():
    outcomes = run_policy(RiskScorePolicy(Untreated()), cohort="eval", dynamics="reference", seed=0)
    rows = outcomes.dropout
    part = outcomes.subset(rows)
    assert len(part.patients) == rows.sum() > 0
    np.testing.assert_array_equal(part.patients, outcomes.patients[rows])
    np.testing.assert_array_equal(part.end_depression, outcomes.end_depression[rows])
    assert part.dropout.all() and not part.true_cured.any()
    on_model = run_policy(RiskScorePolicy(Untreated()), cohort="eval", seed=0).subset([0, 1])
    assert on_model.end_depression is None and len(on_model.returns) == 2
