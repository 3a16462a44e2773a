"""The reference patient simulator: the published facts it is validated against, on a cohort
from the shipped generators, and its contracts (seeding, supports, input checks)."""

import numpy as np
import pandas as pd
import pytest
import torch

from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, SIGNALS
from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.build.reference_validation import (
    CITED_SMD,
    ENROLMENT_DEPRESSION,
    checks_to_metrics,
    validate_reference,
)
from mano_gym.cohorts.sampling import make_cohort
from mano_gym.dynamics.reference import (
    DASS_MAX,
    SAFETY_FLAGS,
    ReferenceParameters,
    ReferenceSimulator,
)
from mano_gym.dynamics.treatments import N_TREATMENTS, TREATMENTS
from predictor.labels import dass_risk_labels

N = 4000
CONTROL, APP, CBT, EXERCISE, MEDICATION = range(N_TREATMENTS)
ADVERSE_EVENT = SAFETY_FLAGS.index("adverse_event")
SLEEP_QUALITY = SIGNAL_NAMES.index("sleep_quality")
RESTING_HR = SIGNAL_NAMES.index("resting_hr")


@pytest.fixture(scope="module")
def cohort():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield make_cohort(N, 0, load_profile_generator(), load_rhythm_generator())
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def simulator() -> ReferenceSimulator:
    return ReferenceSimulator()


@pytest.fixture(scope="module")
def enrolled(cohort):
    """The trial population: first-week depression moderate or worse."""
    depression = cohort.patients.first_scores[:, 0]
    return cohort.patients.subset(np.flatnonzero(depression >= ENROLMENT_DEPRESSION))


def run(simulator, patients, treatment, intensity, weeks, seed):
    """Weeks 1..`weeks` of every patient on one fixed treatment and intensity."""
    rng = np.random.default_rng(seed)
    state = simulator.first_state(patients)
    n = len(patients)
    out = []
    for _ in range(weeks):
        state, week = simulator.step(
            patients, state, np.full(n, treatment), np.full(n, intensity), rng
        )
        out.append(week)
    return out


def week8_depression(simulator, patients, treatment, intensity=1.0, seed=0):
    return run(simulator, patients, treatment, intensity, 8, seed)[7].scores[:, 0]


def action(n, treatment=CONTROL, intensity=0.5):
    return np.full(n, treatment), np.full(n, intensity)


# ------------------------------------------------------------------- validation properties
def test_every_validation_check_passes_on_the_benchmark_cohort():
    # the benchmark's cohort (20,000 patients, seed 0): several checks sit near their bounds,
    # so a smaller cohort could fail one by sampling noise alone
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cohort = make_cohort(20_000, 0, load_profile_generator(), load_rhythm_generator())
        checks = validate_reference(cohort)
    finally:
        torch.set_num_threads(threads)
    failed = [(c.name, c.value, c.low, c.high) for c in checks if not c.passed]
    assert not failed
    names = {c.name for c in checks}
    assert {f"smd_week_8.{name}" for name in CITED_SMD} <= names
    assert {"medication_onset_ratio", "same_seed_same_trajectories"} <= names
    families = ("stard_remission", "relapse_12_months", "dropout_week_12", "severity_moderation")
    families += ("personalised_assignment",)
    assert all(any(name.startswith(f) for name in names) for f in families)
    metrics = checks_to_metrics(checks)
    assert metrics["passed"] == 1.0
    assert set(metrics) == names | {"passed"}


def test_validation_refuses_a_cohort_with_too_few_enrolled_patients(cohort):
    small = make_cohort(50, 3, load_profile_generator(), load_rhythm_generator())
    with pytest.raises(ValueError, match="at least 100"):
        validate_reference(small)


def test_untreated_twelve_week_remission_matches_whiteford(simulator, enrolled):
    assert len(enrolled) >= 500
    week12 = run(simulator, enrolled, CONTROL, 0.1, 12, seed=0)[11].scores[:, 0]
    remission = float((week12 < ENROLMENT_DEPRESSION).mean())
    assert 0.18 <= remission <= 0.28


@pytest.mark.parametrize("name", list(CITED_SMD))
def test_week_8_smd_within_half_of_cited_value(simulator, enrolled, name):
    control = week8_depression(simulator, enrolled, CONTROL)
    treated = week8_depression(simulator, enrolled, TREATMENTS.index(name))
    pooled = np.sqrt((control.var(ddof=1) + treated.var(ddof=1)) / 2)
    smd = (control.mean() - treated.mean()) / pooled
    cited = CITED_SMD[name][0]
    assert 0.5 * cited <= smd <= 1.5 * cited


def test_medication_week_1_effect_is_under_30_percent_of_week_8(simulator, enrolled):
    control = run(simulator, enrolled, CONTROL, 1.0, 8, seed=0)
    treated = run(simulator, enrolled, MEDICATION, 1.0, 8, seed=0)
    effect = [control[w].scores[:, 0].mean() - treated[w].scores[:, 0].mean() for w in (0, 7)]
    assert effect[1] > 0
    assert effect[0] < 0.3 * effect[1]


@pytest.mark.parametrize("treatment", [APP, CBT, EXERCISE, MEDICATION])
def test_effect_rises_with_intensity(simulator, enrolled, treatment):
    means = [
        week8_depression(simulator, enrolled, treatment, intensity).mean()
        for intensity in (0.1, 0.25, 0.5, 0.75, 1.0)
    ]
    assert np.all(np.diff(means) < 0)  # more intensity, lower depression at week 8


def test_medication_adverse_events_rise_with_dose_and_never_occur_on_control(simulator, enrolled):
    def rate(treatment, intensity):
        weeks = run(simulator, enrolled, treatment, intensity, 8, seed=0)
        return np.mean([w.safety[:, ADVERSE_EVENT].mean() for w in weeks])

    full, low, control = rate(MEDICATION, 1.0), rate(MEDICATION, 0.3), rate(CONTROL, 1.0)
    assert full > low > control
    assert control == 0.0


def test_same_seed_same_trajectories(simulator, enrolled):
    first = run(simulator, enrolled, MEDICATION, 0.7, 6, seed=11)
    again = run(simulator, enrolled, MEDICATION, 0.7, 6, seed=11)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.signals, b.signals)
        np.testing.assert_array_equal(a.scores, b.scores)
        np.testing.assert_array_equal(a.safety, b.safety)


def test_different_seed_different_trajectories(simulator, enrolled):
    a = run(simulator, enrolled, MEDICATION, 0.7, 3, seed=11)[-1]
    b = run(simulator, enrolled, MEDICATION, 0.7, 3, seed=12)[-1]
    assert not np.array_equal(a.signals, b.signals)
    assert not np.array_equal(a.scores, b.scores)
    assert not np.array_equal(a.safety, b.safety)


# ------------------------------------------------------------------------------ one step
def test_step_does_not_modify_the_input_state(simulator, cohort):
    patients = cohort.patients
    rng = np.random.default_rng(0)
    state, _ = simulator.step(patients, simulator.first_state(patients), *action(N, CBT), rng)
    before = state.copy()
    nxt, _ = simulator.step(patients, state, *action(N, MEDICATION, 1.0), rng)
    for name in ("scores", "exposure", "adherence", "medication_weeks"):
        np.testing.assert_array_equal(getattr(state, name), getattr(before, name))
    assert state.week == before.week == 1
    assert nxt.week == 2
    assert not np.array_equal(nxt.scores, state.scores)


def test_signals_on_each_signals_support_and_scores_within_dass_range(simulator, cohort):
    patients = cohort.patients
    rng = np.random.default_rng(1)
    state = simulator.first_state(patients)
    signals = [cohort.first_signals, simulator.first_week(patients, rng).signals]
    for _ in range(10):
        treatment = rng.integers(0, N_TREATMENTS, N)
        state, week = simulator.step(patients, state, treatment, rng.uniform(0.1, 1.0, N), rng)
        signals.append(week.signals)
        assert week.signals.shape == (N, 7, len(SIGNALS))
        assert week.scores.min() >= 0.0 and week.scores.max() <= DASS_MAX
        np.testing.assert_array_equal(week.risk, dass_risk_labels(week.scores))
    data = np.stack(signals)
    assert (data >= SIGNAL_LOW).all() and (data <= SIGNAL_HIGH).all()
    for j, spec in enumerate(SIGNALS):
        if spec.integer:
            np.testing.assert_array_equal(data[..., j], np.round(data[..., j]))
        else:
            assert not np.array_equal(data[..., j], np.round(data[..., j]))


def test_scores_are_clipped_to_the_dass_scale_under_extreme_life_events(cohort):
    simulator = ReferenceSimulator(
        ReferenceParameters().with_changes(life_event_rate=1.0, life_event_mean=(30, 30, 30))
    )
    weeks = run(simulator, cohort.patients, CONTROL, 0.1, 4, seed=0)
    scores = np.stack([w.scores for w in weeks])
    assert scores.max() == DASS_MAX
    assert scores.min() >= 0.0
    np.testing.assert_array_equal(weeks[-1].risk, dass_risk_labels(weeks[-1].scores))


@pytest.mark.parametrize(
    ("treatment", "intensity", "message"),
    [
        (N_TREATMENTS, 0.5, "out of range"),
        (-1, 0.5, "out of range"),
        (1.0, 0.5, "must be an integer index"),
        (CBT, 0.05, r"outside \[0.1, 1.0\]"),
        (CBT, 1.5, r"outside \[0.1, 1.0\]"),
        (CBT, np.nan, "finite"),
    ],
)
def test_malformed_action_raises_a_helpful_error(simulator, cohort, treatment, intensity, message):
    patients = cohort.patients
    state = simulator.first_state(patients)
    treatments, intensities = action(N, treatment, intensity)
    with pytest.raises(ValueError, match=message):
        simulator.step(patients, state, treatments, intensities, np.random.default_rng(0))


@pytest.mark.parametrize("shape", [(N - 1,), (N, 1), ()])
def test_action_of_wrong_shape_raises(simulator, cohort, shape):
    patients = cohort.patients
    state = simulator.first_state(patients)
    with pytest.raises(ValueError, match=rf"must have shape \({N},\)"):
        simulator.step(
            patients,
            state,
            np.full(shape, CBT),
            np.full(shape, 0.5),
            np.random.default_rng(0),
        )


def test_dose_is_one_at_full_intensity_and_rises_with_intensity(simulator):
    dose = simulator.dose(np.array([0.1, 0.25, 0.5, 0.75, 1.0]))
    np.testing.assert_allclose(dose[-1, 1:], 1.0)
    assert np.all(np.diff(dose[:, 1:], axis=0) > 0)


# -------------------------------------------------------------------------- parameters
def test_parameters_with_a_wrong_length_tuple_raise():
    with pytest.raises(ValueError, match="emax needs one value per treatment"):
        ReferenceParameters(emax=(0.0, 0.1))
    with pytest.raises(ValueError, match="cbt_shift needs one value per signal"):
        ReferenceParameters(cbt_shift=(0.2, 0.4))


def test_with_changes_rejects_an_unknown_field_and_applies_known_ones():
    with pytest.raises(ValueError, match="unknown reference parameters.*'dirft'"):
        ReferenceParameters().with_changes(dirft=0.1)
    changed = ReferenceParameters().with_changes(drift=0.1)
    assert changed.drift == 0.1
    assert ReferenceParameters().drift != 0.1
    assert ReferenceSimulator(changed).params.drift == 0.1


# ------------------------------------------------------------------ patients and profiles
def test_draw_patients_rejects_rhythms_of_the_wrong_shape(simulator, cohort):
    profiles = cohort.profiles.iloc[:10]
    rng = np.random.default_rng(0)
    for shape in [(10, 6, 5), (10, 7, 4), (9, 7, 5), (10, 35)]:
        with pytest.raises(ValueError, match=r"rhythms must be \(10, 7, 5\)"):
            simulator.draw_patients(profiles, np.zeros(shape), rng)


def test_drawn_patients_are_within_the_dass_scale_and_control_has_no_effect(cohort):
    patients = cohort.patients
    assert patients.first_scores.min() >= 0.0 and patients.first_scores.max() <= DASS_MAX
    assert np.all(patients.set_point <= patients.first_scores)
    np.testing.assert_array_equal(patients.responsiveness[:, CONTROL], 0.0)
    assert np.all(patients.responsiveness[:, 1:] > 0)


def profile(family_history, treatment, work_interfere, gender="male"):
    return {
        "family_history": family_history,
        "treatment": treatment,
        "work_interfere": work_interfere,
        "gender": gender,
    }


def test_history_and_work_interference_raise_the_prior_factor(simulator):
    profiles = pd.DataFrame(
        [profile("Yes", "Yes", "Often"), profile("No", "No", "Never"), profile("No", "No", "Often")]
    )
    burdened, unburdened, interfered = simulator.prior_factor(profiles)
    assert burdened > interfered > unburdened
    assert unburdened == 1.0


def test_prior_factor_needs_every_column_and_known_answers(simulator):
    profiles = pd.DataFrame([profile("Yes", "Yes", "Often")])
    with pytest.raises(ValueError, match="lack the columns.*'work_interfere'"):
        simulator.prior_factor(profiles.drop(columns="work_interfere"))
    with pytest.raises(ValueError, match="unknown work_interfere answers.*'Always'"):
        simulator.prior_factor(profiles.assign(work_interfere="Always"))


def test_burdened_profiles_start_with_higher_depression(simulator, cohort):
    factor = simulator.prior_factor(cohort.profiles)
    depression = cohort.patients.first_scores[:, 0]
    assert depression[factor >= 2.0].mean() > depression[factor <= 1.0].mean()


# --------------------------------------------------------------- side effects and emission
def test_medication_side_effects_fade_on_a_continued_course(simulator, cohort):
    weeks = run(simulator, cohort.patients, MEDICATION, 1.0, 6, seed=0)
    side = np.stack([w.side_effects for w in weeks])
    np.testing.assert_allclose(side[0], 1.0)
    assert np.all(np.diff(side, axis=0) < 0)
    assert side[0].mean() > side[3].mean()


def test_side_effects_are_zero_off_medication(simulator, cohort):
    for treatment in (CONTROL, APP, CBT, EXERCISE):
        for week in run(simulator, cohort.patients, treatment, 1.0, 3, seed=0):
            np.testing.assert_array_equal(week.side_effects, 0.0)


def test_restarting_medication_brings_back_full_side_effects(simulator, cohort):
    patients = cohort.patients
    rng = np.random.default_rng(0)
    state = simulator.first_state(patients)
    sides = []
    for treatment in (MEDICATION, MEDICATION, MEDICATION, CBT, MEDICATION):
        state, week = simulator.step(patients, state, *action(N, treatment, 1.0), rng)
        sides.append(week.side_effects)
    assert sides[2].max() < 1.0
    np.testing.assert_array_equal(sides[3], 0.0)
    np.testing.assert_allclose(sides[4], 1.0)


def test_cbt_exposure_raises_emitted_sleep_quality(simulator, cohort):
    """Same patients, scores and random numbers: only CBT exposure differs."""
    patients = cohort.patients
    state = simulator.first_state(patients)
    on_cbt = state.copy()
    on_cbt.exposure[:, CBT] = 1.0
    control = simulator.emit(patients, state, np.zeros(N), np.random.default_rng(5))
    treated = simulator.emit(patients, on_cbt, np.zeros(N), np.random.default_rng(5))
    gain = (treated - control)[..., SLEEP_QUALITY].mean()
    assert 0.3 < gain <= 0.4


def test_medication_side_effects_raise_emitted_resting_heart_rate(simulator, cohort):
    patients = cohort.patients
    state = simulator.first_state(patients)
    calm = simulator.emit(patients, state, np.zeros(N), np.random.default_rng(5))
    side = simulator.emit(patients, state, np.ones(N), np.random.default_rng(5))
    rise = (side - calm)[..., RESTING_HR]
    assert rise.min() >= 0.0
    assert 4.9 < rise.mean() <= 5.0
