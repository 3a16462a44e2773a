"""Heterogeneity and sequential care in the reference simulator, each mechanism in isolation:
moderators of response, shared responsiveness, earlier courses, drop-out, relapse after
stopping, CBT's lasting skills."""

import numpy as np
import pytest
import torch

from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.cohorts.behaviour import MeasurementBasedCare
from mano_gym.cohorts.sampling import make_cohort
from mano_gym.dynamics.reference import ReferenceParameters, ReferenceSimulator
from mano_gym.dynamics.treatments import N_TREATMENTS

CONTROL, APP, CBT, EXERCISE, MEDICATION = range(N_TREATMENTS)
DEPRESSION, ANXIETY = 0, 1


@pytest.fixture(scope="module")
def cohort():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield make_cohort(4000, 3, load_profile_generator(), load_rhythm_generator())
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def simulator() -> ReferenceSimulator:
    return ReferenceSimulator()


def course(simulator, patients, schedule, seed=0):
    """The weeks of `patients` under `schedule`: a list of (treatment, intensity, weeks)."""
    rng = np.random.default_rng(seed)
    state, weeks = simulator.first_state(patients), []
    n = len(patients)
    for treatment, intensity, length in schedule:
        for _ in range(length):
            state, week = simulator.step(
                patients, state, np.full(n, treatment), np.full(n, intensity), rng
            )
            weeks.append(week)
    return state, weeks


def test_moderators_point_the_way_the_literature_says(simulator):
    first = np.array([[15.0, 5.0, 10.0], [35.0, 5.0, 10.0], [25.0, 18.0, 10.0]])
    rhythms = np.full((3, 7, 5), 3.0)
    rhythms[:, :, 0] = [[8.0], [8.0], [5.0]]  # the third sleeps five hours a night
    moderation = simulator.moderation(first, rhythms)
    assert moderation[1, MEDICATION] > moderation[0, MEDICATION]  # severity: Fournier 2010
    ratio = moderation[1] / moderation[0]
    assert ratio[MEDICATION] > ratio[CBT] > 1.0  # psychotherapy moderated less
    anxious = simulator.moderation(first[[2]], rhythms[[0]])  # anxious, sleeping well
    calm = simulator.moderation(first[[2]] * [1, 0, 1], rhythms[[0]])
    assert anxious[0, MEDICATION] < calm[0, MEDICATION]  # Fava et al. 2008
    assert moderation[2, CBT] > anxious[0, CBT]  # poor sleep raises CBT's benefit (Trauer)
    assert moderation[2, MEDICATION] == pytest.approx(anxious[0, MEDICATION])


def test_responsiveness_shares_a_part_across_treatments(cohort):
    params = ReferenceParameters()
    log = np.log(cohort.patients.responsiveness[:, 1:])
    correlation = np.corrcoef(log.T)[np.triu_indices(4, 1)]
    assert correlation == pytest.approx(params.responsiveness_shared, abs=0.05)
    assert np.exp(log).mean(0) == pytest.approx(np.ones(4), rel=0.25)  # mean 1


def test_treatment_before_lowers_medication_more_than_cbt(simulator, cohort):
    patients = cohort.patients.subset(np.arange(500))
    naive = patients.subset(np.arange(500))
    naive.treated_before = np.zeros(500)
    treated = patients.subset(np.arange(500))
    treated.treated_before = np.ones(500)
    effect = {}
    for name, group in (("naive", naive), ("treated", treated)):
        for k in (CBT, MEDICATION):
            _, weeks = course(simulator, group, [(k, 1.0, 8)])
            effect[name, k] = weeks[-1].effect.mean()
    assert (
        effect["treated", MEDICATION] / effect["naive", MEDICATION]
        < (effect["treated", CBT] / effect["naive", CBT])
        < 1.0
    )


def test_intake_effect_is_the_first_course_effect_and_ranks_treatments(simulator, cohort):
    patients = cohort.patients.subset(np.arange(800))
    effect = simulator.intake_effect(patients)
    seen = simulator.intake_effect(patients, responsiveness=False)
    np.testing.assert_allclose(effect, seen * patients.responsiveness)
    assert (seen[:, CONTROL] == 0).all() and (seen[:, CONTROL + 1 :] > 0).all()
    # on the treatment it ranks first, a patient improves more by week 8 than on the one it
    # ranks last (the same random numbers for both)
    order = effect[:, 1:].argsort(1) + 1
    improvement = {}
    for name, choice in (("first", order[:, -1]), ("last", order[:, 0])):
        rng, state = np.random.default_rng(0), simulator.first_state(patients)
        for _ in range(8):
            state, week = simulator.step(patients, state, choice, np.ones(800), rng)
        improvement[name] = (patients.first_scores[:, DEPRESSION] - week.scores[:, 0]).mean()
    assert improvement["first"] > improvement["last"] + 1.0


def test_an_earlier_course_lowers_the_next_treatments_effect(simulator, cohort):
    patients = cohort.patients.subset(np.arange(800))
    _, fresh = course(simulator, patients, [(CONTROL, 0.1, 12), (MEDICATION, 1.0, 8)])
    _, after = course(simulator, patients, [(EXERCISE, 1.0, 12), (MEDICATION, 1.0, 8)])
    # medication's own share of the effect, once exercise has faded (8 weeks after it)
    assert after[-1].effect.mean() < 0.8 * fresh[-1].effect.mean()


def test_switching_restarts_onset_and_side_effects(simulator, cohort):
    patients = cohort.patients.subset(np.arange(300))
    state, weeks = course(simulator, patients, [(MEDICATION, 1.0, 8), (CBT, 1.0, 6)])
    assert state.medication_weeks.max() == 0.0
    assert state.exposure[:, MEDICATION].max() < 0.25  # faded at its onset rate
    state, again = course(
        simulator, patients, [(MEDICATION, 1.0, 8), (CBT, 1.0, 6), (MEDICATION, 1.0, 1)]
    )
    np.testing.assert_allclose(again[-1].side_effects, 1.0)  # as in a first week


def test_dropout_is_drawn_from_a_hazard_that_rises_with_burden_and_severity(simulator):
    depression = np.array([14.0, 35.0])
    none, full = np.zeros(2), np.ones(2)
    exercise = simulator.dropout_hazard(np.full(2, EXERCISE), depression, none, full)
    assert exercise[1] > exercise[0]  # severity (Stubbs et al. 2016)
    medication = np.full(2, MEDICATION)
    side = simulator.dropout_hazard(medication, depression[[0, 0]], np.array([0.0, 1.0]), full)
    assert side[1] > side[0]  # side effects (Furukawa et al. 2019)
    adherence = simulator.dropout_hazard(medication, depression[[0, 0]], none, np.array([1, 0.4]))
    assert adherence[1] > adherence[0]  # burden
    app = simulator.dropout_hazard(np.array([APP]), depression[:1], none[:1], full[:1])
    assert app[0] > simulator.dropout_hazard(np.array([CBT]), depression[:1], none[:1], full[:1])


def test_weekly_dropouts_follow_the_reported_hazard(simulator, cohort):
    _, weeks = course(simulator, cohort.patients, [(APP, 1.0, 6)])
    hazard = np.mean([w.dropout_hazard.mean() for w in weeks])
    rate = np.mean([w.dropout.mean() for w in weeks])
    assert rate == pytest.approx(hazard, rel=0.1)
    assert 0.0 < hazard < 1.0


def test_relapse_after_stopping_medication_and_not_after_continuing_it(simulator, cohort):
    patients = cohort.patients.subset(np.flatnonzero(cohort.patients.first_scores[:, 0] >= 14))
    _, stopped = course(simulator, patients, [(MEDICATION, 1.0, 12), (CONTROL, 0.1, 30)])
    _, continued = course(simulator, patients, [(MEDICATION, 1.0, 42)])
    _, cbt = course(simulator, patients, [(CBT, 1.0, 12), (CONTROL, 0.1, 30)])
    depression = {
        name: weeks[-1].scores[:, DEPRESSION].mean()
        for name, weeks in (("stopped", stopped), ("continued", continued), ("cbt", cbt))
    }
    assert depression["continued"] < depression["stopped"]
    # CBT's skills stay: some effect a half year after the last session, none for medication
    assert cbt[-1].effect.mean() > 0.0
    assert stopped[-1].effect.mean() == pytest.approx(0.0, abs=1e-3)


def test_measurement_based_care_climbs_its_ladder_only_without_improvement():
    policy = MeasurementBasedCare(patience=2, target=0.2)
    policy.reset(2)
    rng = np.random.default_rng(0)
    steps = []
    for risk in ([1.0, 1.0], [1.0, 0.9], [1.0, 0.7], [1.0, 0.7], [1.0, 0.6]):
        steps.append(policy.act(np.array(risk), rng))
    treatments = np.array([t for t, _ in steps])
    intensities = np.array([i for _, i in steps])
    assert treatments[:, 1].tolist() == [CBT] * 5  # improving: stays on the first step
    assert intensities[:, 1].tolist() == [0.6] * 5
    assert intensities[2, 0] == 1.0 and treatments[2, 0] == CBT  # no fall in 2 weeks: step up
    assert treatments[4, 0] == MEDICATION  # 2 more weeks: switch


def test_measurement_based_care_refuses_a_bad_ladder():
    with pytest.raises(ValueError, match="unknown treatment"):
        MeasurementBasedCare((("surgery", 1.0),))
    with pytest.raises(ValueError, match="patience"):
        MeasurementBasedCare(patience=0)
