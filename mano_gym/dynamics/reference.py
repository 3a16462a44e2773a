"""The reference patient simulator: the literature-parameterised "physics" of a patient's week.

No public dataset records how a person's week changes under a dose of CBT or medication, so
Mano's ground truth is this documented model. Every parameter is a field of
`ReferenceParameters`, listed with its source in `docs/reference-simulator.md`. The world
model is distilled from it and the risk labels come from its latent state.

One step is one week, vectorised over patients (NumPy), every random draw from the caller's
`numpy.random.Generator`.

| part          | model                                                                      |
|---------------|----------------------------------------------------------------------------|
| latent state  | DASS depression, anxiety, stress (DASS-42 scale, 0-42); exposure to each   |
|               | treatment (0-1, with onset kinetics); adherence (0-1); weeks on medication;|
|               | each treatment's peak exposure this episode; the set point                 |
| patient       | set point (trait severity) and first-week scores from a population prior   |
|               | conditioned on the profile; responsiveness to each treatment (log-normal,  |
|               | a part shared across treatments); moderation of each treatment's effect by |
|               | what a clinician sees (baseline severity, anxiety, sleep, earlier care)    |
| weekly change | d' = d + drift * (set point - d) - effect * d + life event + noise         |
| effect        | 1 - prod_k (1 - emax_k * responsiveness_k * moderation_k * earlier_k *     |
|               | exposure_k), CBT's exposure never below `cbt_durability` x its peak (its   |
|               | skills), earlier_k lowered by every other treatment taken this episode     |
| set point     | follows lower scores down while on treatment (recovery consolidates)       |
| exposure      | relaxes at the treatment's onset rate toward adherence * dose(intensity),  |
|               | dose = Emax curve in intensity, 1 at full intensity                        |
| adherence     | relaxes toward 1 - burden(treatment, intensity, side effects)              |
| side effects  | medication: early sleep disruption and faster heart rate, fading with      |
|               | tolerance over the first weeks                                             |
| emission      | baseline rhythm (a TimeGAN week) + severity shifts + treatment effects on  |
|               | sleep and heart rate + day-to-day noise, put on each signal's support      |
| safety flags  | `adverse_event` (side effects, exercise strain), `deterioration`           |
|               | (depression up by a reliable-change margin in a week)                      |
| drop-out      | weekly hazard per treatment, rising with severity, medication side effects |
|               | and lost adherence (burden); the week reports it and a draw from it        |

Switching restarts a treatment's onset (its exposure builds from where it has faded to) and
medication's side effects (tolerance is lost once it stops). Stopping medication lets its
benefit fade with its exposure, so scores drift back toward the set point (relapse); CBT's
skills stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from generators.signals import N_SIGNALS, SIGNAL_NAMES, WINDOW_DAYS, to_support
from mano_gym.dynamics.treatments import INTENSITY_HIGH, N_TREATMENTS, TREATMENTS, check_actions
from predictor.labels import dass_risk_labels

if TYPE_CHECKING:
    import pandas as pd

DASS_MAX = 42.0  # DASS-42 scale: 14 items x 0-3 per subscale (DASS-21 scores doubled)
SAFETY_FLAGS: tuple[str, ...] = ("adverse_event", "deterioration")
_DEP, _ANX, _STRESS = range(3)
_MEDICATION = TREATMENTS.index("medication")
_EXERCISE = TREATMENTS.index("exercise")
_CBT = TREATMENTS.index("cbt")


def _per_treatment(default: float = 0.0, **values: float) -> tuple[float, ...]:
    """A per-treatment tuple in `TREATMENTS` order; treatments not named get `default`."""
    unknown = set(values) - set(TREATMENTS)
    if unknown:
        raise ValueError(f"unknown treatments {sorted(unknown)}; known: {', '.join(TREATMENTS)}")
    return tuple(float(values.get(name, default)) for name in TREATMENTS)


@dataclass(frozen=True)
class ReferenceParameters:
    """Every number of the reference simulator (sources in `docs/reference-simulator.md`).
    Per-subscale tuples are in `DASS_SUBSCALES` order, per-treatment tuples in `TREATMENTS`
    order, per-signal tuples in `SIGNAL_NAMES` order."""

    # Population prior of current DASS scores (non-clinical norms), as correlated gamma marginals.
    prior_mean: tuple[float, float, float] = (5.55, 3.56, 9.27)
    prior_sd: tuple[float, float, float] = (7.48, 5.39, 8.04)
    prior_correlation: tuple[float, float, float] = (0.66, 0.71, 0.74)  # D-A, D-S, A-S
    # Profile answers that scale a patient's prior scores (multiplicative, all subscales).
    family_history_factor: float = 1.3
    treatment_history_factor: float = 1.5
    work_interference_factor: dict[str, float] = field(
        default_factory=lambda: {
            "Never": 1.0,
            "Rarely": 1.2,
            "Sometimes": 1.5,
            "Often": 2.0,
            "Not applicable": 0.8,
        }
    )
    female_factor: float = 1.15
    # Set point = current score x exp(-excursion): how far this week sits above the trait level.
    excursion_sd: float = 0.65
    # Weekly dynamics.
    drift: float = 0.06  # fraction of the gap to the set point closed per week
    noise_scale: float = 0.43  # weekly noise SD = noise_scale * sqrt(score + noise_offset)
    noise_offset: float = 4.0
    life_event_rate: float = 0.01  # severe life events per patient-week
    life_event_mean: tuple[float, float, float] = (7.0, 5.0, 9.0)  # mean jump (exponential)
    # Treatments.
    emax: tuple[float, ...] = _per_treatment(  # weekly share of the score removed at full exposure
        wellness_app=0.0227, cbt=0.0616, exercise=0.0575, medication=0.048
    )
    onset_rate: tuple[float, ...] = _per_treatment(
        wellness_app=0.7, cbt=0.35, exercise=0.6, medication=0.25
    )
    ed50: tuple[float, ...] = _per_treatment(
        wellness_app=0.3, cbt=0.4, exercise=0.4, medication=0.3
    )
    responsiveness_sd: float = 1.5  # log-normal SD of individual responsiveness (mean 1)
    responsiveness_shared: float = 0.8  # correlation of log responsiveness across treatments
    effect_cap: float = 0.5  # most of a score one treatment removes in a week
    # Moderators: multipliers of a treatment's effect from what a clinician sees at intake.
    # Severity: 1 + slope * (first-week depression - severity_centre) / severity_band, >= floor.
    severity_slope: tuple[float, ...] = _per_treatment(cbt=0.15, exercise=0.1, medication=0.45)
    severity_centre: float = 21.0  # DASS-42 depression: the "severe" cut
    severity_band: float = 7.0  # DASS-42 points per severity band
    severity_floor: float = 0.4
    anxious_threshold: float = 15.0  # first-week DASS-42 anxiety at "severe": anxious depression
    anxious_factor: tuple[float, ...] = _per_treatment(1.0, cbt=0.85, medication=0.65)
    poor_sleep_hours: float = 6.0  # a baseline week sleeping less on average: poor sleep
    poor_sleep_factor: tuple[float, ...] = _per_treatment(1.0, cbt=1.4)
    treated_before_factor: tuple[float, ...] = _per_treatment(1.0, cbt=0.9, medication=0.7)
    earlier_course_factor: tuple[float, ...] = _per_treatment(  # per other course taken
        1.0, wellness_app=0.4, cbt=0.4, exercise=0.25, medication=0.3
    )
    cbt_durability: float = 0.3  # share of CBT's peak exposure its skills keep after it stops
    consolidation_rate: float = 0.085  # share of the gap to lower scores the set point closes
    consolidation_exposure: float = 0.1  # weekly, at a total exposure of at least this
    burden: tuple[float, ...] = _per_treatment(
        wellness_app=0.10, cbt=0.15, exercise=0.20, medication=0.10
    )
    adherence_rate: float = 0.5  # fraction of the gap to the adherence target closed per week
    adherence_floor: float = 0.2
    side_effect_burden: float = 0.3  # adherence lost per unit of medication side effect
    tolerance_weeks: float = 3.0  # medication side effects fade as exp(-weeks on it / this)
    # Safety flags.
    adverse_event_per_side_effect: float = 0.25  # weekly probability at full side effects
    adverse_event_exercise: float = 0.01  # weekly probability at full exercise intensity
    deterioration_margin: float = 6.0  # depression rise in one week flagged as deterioration
    # Drop-out: weekly hazard = base * (1 + severity * (depression - severity_centre) /
    # severity_band, >= 0) + side_effect * side effects + adherence * (1 - adherence).
    dropout_base: tuple[float, ...] = _per_treatment(
        control=0.012, wellness_app=0.045, cbt=0.016, exercise=0.013, medication=0.006
    )
    dropout_severity: tuple[float, ...] = _per_treatment(exercise=0.3)
    dropout_side_effect: float = 0.015
    dropout_adherence: float = 0.02
    # Emission: signal shift per unit of (score - population mean) / 42, per subscale driver.
    severity_shift: dict[str, tuple[float, float, float]] = field(
        default_factory=lambda: {
            "sleep_hours": (-2.0, 0.0, 0.0),
            "sleep_quality": (-1.0, -1.0, -0.5),
            "resting_hr": (0.0, 10.0, 0.0),
            "stress": (0.0, 2.0, 3.0),
            "mood": (-4.5, 0.0, 0.0),
        }
    )
    side_effect_shift: tuple[float, ...] = (-0.6, -0.6, 5.0, 0.0, 0.0)  # at full side effects
    exercise_shift: tuple[float, ...] = (0.0, 0.2, -3.0, 0.0, 0.0)  # at full exposure
    cbt_shift: tuple[float, ...] = (0.2, 0.4, 0.0, 0.0, 0.0)  # at full exposure (CBT-I module)
    medication_hr_shift: float = 2.0  # bpm at full exposure, beyond the early side effects
    daily_noise_sd: tuple[float, ...] = (0.3, 0.3, 1.0, 0.3, 0.3)

    def __post_init__(self) -> None:
        factors = ("anxious_factor", "poor_sleep_factor", "treated_before_factor")
        factors += ("earlier_course_factor", "dropout_base", "dropout_severity")
        for name in ("emax", "onset_rate", "ed50", "burden", "severity_slope", *factors):
            if len(getattr(self, name)) != N_TREATMENTS:
                raise ValueError(f"{name} needs one value per treatment ({N_TREATMENTS})")
        for name in ("side_effect_shift", "exercise_shift", "cbt_shift", "daily_noise_sd"):
            if len(getattr(self, name)) != N_SIGNALS:
                raise ValueError(f"{name} needs one value per signal ({N_SIGNALS})")
        for name in ("prior_mean", "prior_sd", "prior_correlation", "life_event_mean"):
            if len(getattr(self, name)) != 3:
                raise ValueError(f"{name} needs three values (one per subscale or pair)")
        if not all(0.0 <= e < 1.0 for e in self.emax):
            raise ValueError("emax must lie in [0, 1): a share of the score removed per week")
        if set(self.severity_shift) != set(SIGNAL_NAMES):
            raise ValueError(f"severity_shift needs exactly the signals {SIGNAL_NAMES}")
        if not all(0.0 < r <= 1.0 for r in self.onset_rate[1:]):
            raise ValueError("onset_rate of an active treatment must lie in (0, 1]")
        fractions = ("responsiveness_shared", "effect_cap", "severity_floor", "cbt_durability")
        fractions += ("consolidation_rate",)
        for name in fractions:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if any(v < 0 for name in factors for v in getattr(self, name)):
            raise ValueError(f"{', '.join(factors)} must be >= 0")
        if self.consolidation_exposure < 0:
            raise ValueError("consolidation_exposure must be >= 0")

    def with_changes(self, **changes) -> ReferenceParameters:
        """A copy with some fields replaced (for sensitivity studies)."""
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown reference parameters {sorted(unknown)}")
        return replace(self, **changes)


@dataclass
class Patients:
    """What is fixed about each patient (arrays over n patients)."""

    set_point: np.ndarray  # (n, 3) trait DASS scores
    first_scores: np.ndarray  # (n, 3) DASS scores in the first observed week
    responsiveness: np.ndarray  # (n, 5) unobserved multiplier of each treatment's effect
    moderation: np.ndarray  # (n, 5) multiplier of each treatment's effect from intake
    treated_before: np.ndarray  # (n,) 1 if treated before this episode (profile), else 0
    rhythm: np.ndarray  # (n, 7, 5) baseline week of signals, real units

    def __len__(self) -> int:
        return len(self.set_point)

    def subset(self, index: np.ndarray) -> Patients:
        return Patients(*(getattr(self, f.name)[index] for f in fields(self)))


@dataclass
class PatientState:
    """What changes week by week (arrays over n patients)."""

    scores: np.ndarray  # (n, 3) latent DASS scores
    exposure: np.ndarray  # (n, 5) effective exposure to each treatment, 0-1
    adherence: np.ndarray  # (n,) share of the prescribed dose taken, 0-1
    medication_weeks: np.ndarray  # (n,) consecutive weeks on medication so far
    peak: np.ndarray  # (n, 5) highest exposure to each treatment so far this episode
    set_point: np.ndarray  # (n, 3) trait scores, lowered by consolidated recovery
    week: int = 0

    ARRAYS = ("scores", "exposure", "adherence", "medication_weeks", "peak", "set_point")

    def copy(self) -> PatientState:
        return PatientState(*(getattr(self, name).copy() for name in self.ARRAYS), self.week)


@dataclass
class Week:
    """One simulated week: what a clinician would see, and what only the simulator knows."""

    signals: np.ndarray  # (n, 7, 5) daily signals, real units, on each signal's support
    scores: np.ndarray  # (n, 3) latent DASS scores this week
    risk: np.ndarray  # (n,) risk class from the DASS bands (0 low, 1 medium, 2 high)
    safety: np.ndarray  # (n, 2) bool, `SAFETY_FLAGS`
    side_effects: np.ndarray  # (n,) medication side-effect level, 0-1
    effect: np.ndarray  # (n,) fraction of the current score removed by treatment this week
    dropout_hazard: np.ndarray  # (n,) probability of leaving care this week
    dropout: np.ndarray  # (n,) bool, left care this week (drawn from the hazard)

    @classmethod
    def untreated(cls, signals: np.ndarray, scores: np.ndarray) -> Week:
        """A week without treatment (a first observed week)."""
        n = len(scores)
        safety = np.zeros((n, len(SAFETY_FLAGS)), bool)
        zeros = np.zeros(n)
        risk = dass_risk_labels(scores)
        return cls(signals, scores.copy(), risk, safety, zeros, zeros, zeros, zeros > 0)


class ReferenceSimulator:
    """Vectorised reference patients: `draw_patients`, `first_week`, then `step` each week."""

    def __init__(self, params: ReferenceParameters | None = None) -> None:
        self.params = params or ReferenceParameters()
        p = self.params
        self._emax = np.array(p.emax)
        self._onset = np.array(p.onset_rate)
        self._ed50 = np.array(p.ed50)
        self._burden = np.array(p.burden)
        self._dropout_base = np.array(p.dropout_base)
        self._treated_before = np.array(p.treated_before_factor)
        self._earlier_course = np.array(p.earlier_course_factor)
        self._dropout_severity = np.array(p.dropout_severity)
        self._severity_shift = np.array([p.severity_shift[name] for name in SIGNAL_NAMES])
        self._population_mean = np.array(p.prior_mean)

    # ----------------------------------------------------------------- patients and first week
    def prior_factor(self, profiles: pd.DataFrame) -> np.ndarray:
        """(n,) multiplier of a patient's prior DASS scores from their profile answers."""
        p = self.params
        missing = {"family_history", "treatment", "work_interfere", "gender"} - set(profiles)
        if missing:
            raise ValueError(f"profiles lack the columns {sorted(missing)}")
        unknown = set(profiles["work_interfere"]) - set(p.work_interference_factor)
        if unknown:
            raise ValueError(f"unknown work_interfere answers {sorted(unknown)}")
        factor = np.where(profiles["family_history"] == "Yes", p.family_history_factor, 1.0)
        factor = factor * np.where(profiles["treatment"] == "Yes", p.treatment_history_factor, 1.0)
        factor = factor * profiles["work_interfere"].map(p.work_interference_factor).to_numpy()
        return factor * np.where(profiles["gender"] == "female", p.female_factor, 1.0)

    def draw_patients(
        self, profiles: pd.DataFrame, rhythms: np.ndarray, rng: np.random.Generator
    ) -> Patients:
        """Patients with these profiles and baseline rhythms: first-week scores from the
        profile-conditioned prior, trait set points below them, individual responsiveness."""
        from scipy import stats  # drawing new patients is a build step: the envs never import it

        p = self.params
        rhythms = np.asarray(rhythms, dtype=np.float64)
        if rhythms.shape[1:] != (WINDOW_DAYS, N_SIGNALS) or len(rhythms) != len(profiles):
            raise ValueError(
                f"rhythms must be ({len(profiles)}, {WINDOW_DAYS}, {N_SIGNALS}), "
                f"got {rhythms.shape}"
            )
        n = len(profiles)
        # Gaussian copula -> gamma marginals with the population's means and SDs.
        r_da, r_ds, r_as = p.prior_correlation
        corr = np.array([[1, r_da, r_ds], [r_da, 1, r_as], [r_ds, r_as, 1]])
        z = rng.standard_normal((n, 3)) @ np.linalg.cholesky(corr).T
        mean, sd = np.array(p.prior_mean), np.array(p.prior_sd)
        shape, scale = (mean / sd) ** 2, sd**2 / mean
        scores = stats.gamma.ppf(stats.norm.cdf(z), a=shape, scale=scale)
        first = np.clip(scores * self.prior_factor(profiles)[:, None], 0.0, DASS_MAX)
        excursion = np.abs(rng.normal(0.0, p.excursion_sd, (n, 1)))
        set_point = first * np.exp(-excursion)
        # log responsiveness = s * (sqrt(r) * shared + sqrt(1 - r) * own) - s^2 / 2: mean 1,
        # correlation r between any two treatments
        s, r = p.responsiveness_sd, p.responsiveness_shared
        z = np.sqrt(r) * rng.standard_normal((n, 1))
        z = z + np.sqrt(1 - r) * rng.standard_normal((n, N_TREATMENTS))
        responsiveness = np.exp(s * z - s**2 / 2)
        responsiveness[:, 0] = 0.0  # control has no treatment effect
        moderation = self.moderation(first, rhythms)
        treated_before = (profiles["treatment"] == "Yes").to_numpy(np.float64)
        return Patients(set_point, first, responsiveness, moderation, treated_before, rhythms)

    def moderation(self, first_scores: np.ndarray, rhythms: np.ndarray) -> np.ndarray:
        """(n, 5) multiplier of each treatment's effect from what a clinician sees at intake:
        first-week depression (severity) and anxiety (anxious depression), and the baseline
        week's sleep. (Earlier treatment moderates too, course by course: see `step`.)"""
        p = self.params
        band = (first_scores[:, [_DEP]] - p.severity_centre) / p.severity_band
        factor = np.maximum(1.0 + np.array(p.severity_slope) * band, p.severity_floor)
        anxious = first_scores[:, [_ANX]] >= p.anxious_threshold
        factor = factor * np.where(anxious, p.anxious_factor, 1.0)
        sleep = rhythms[:, :, SIGNAL_NAMES.index("sleep_hours")].mean(axis=1, keepdims=True)
        return factor * np.where(sleep < p.poor_sleep_hours, p.poor_sleep_factor, 1.0)

    def intake_effect(self, patients: Patients, responsiveness: bool = True) -> np.ndarray:
        """(n, 5) each treatment's weekly effect coefficient at full exposure before any
        course of this episode: emax x responsiveness x moderation x the treated-before factor
        (what an oracle ranks treatments by; `responsiveness=False` leaves out the unobserved
        part, keeping what a clinician sees at intake)."""
        if responsiveness:
            effect = self._emax * patients.responsiveness * patients.moderation
        else:
            effect = self._emax * patients.moderation
        return effect * self.treated_before(patients)

    def treated_before(self, patients: Patients) -> np.ndarray:
        """(n, 5) the effect multiplier of treatment before this episode (the profile's
        answer)."""
        return np.where(patients.treated_before[:, None] > 0, self._treated_before, 1.0)

    def first_state(self, patients: Patients) -> PatientState:
        n = len(patients)
        return PatientState(
            scores=patients.first_scores.copy(),
            exposure=np.zeros((n, N_TREATMENTS)),
            adherence=np.ones(n),
            medication_weeks=np.zeros(n),
            peak=np.zeros((n, N_TREATMENTS)),
            set_point=patients.set_point.copy(),
        )

    def first_week(self, patients: Patients, rng: np.random.Generator) -> Week:
        """The untreated first observed week of each patient."""
        state = self.first_state(patients)
        signals = self.emit(patients, state, np.zeros(len(patients)), rng)
        return Week.untreated(signals, state.scores)

    # ----------------------------------------------------------------------------- one week
    def dose(self, intensity: np.ndarray) -> np.ndarray:
        """(n, 5) Emax dose of every treatment at `intensity` (n,), 1 at full intensity."""
        i = np.asarray(intensity, dtype=np.float64)[:, None]
        return i * (self._ed50 + INTENSITY_HIGH) / (self._ed50 + i)

    def step(
        self,
        patients: Patients,
        state: PatientState,
        treatment: np.ndarray,
        intensity: np.ndarray,
        rng: np.random.Generator,
    ) -> tuple[PatientState, Week]:
        """Give each patient `treatment` (n,) ints at `intensity` (n,) for one week; returns the
        next state and the week it produces. `state` is not modified."""
        p = self.params
        n = len(patients)
        treatment, intensity = check_actions(treatment, intensity, n)
        chosen = np.zeros((n, N_TREATMENTS))
        chosen[np.arange(n), treatment] = 1.0
        chosen[:, 0] = 0.0  # control prescribes nothing
        on_medication = treatment == _MEDICATION

        # Side effects: linear in intensity (no plateau, unlike the benefit), strongest at the
        # start of a medication course and fading with tolerance.
        side = np.where(
            on_medication, intensity * np.exp(-state.medication_weeks / p.tolerance_weeks), 0.0
        )
        medication_weeks = np.where(on_medication, state.medication_weeks + 1, 0.0)

        # Exposure relaxes toward the dose actually taken; adherence toward 1 - burden.
        taken = chosen * self.dose(intensity) * state.adherence[:, None]
        exposure = state.exposure + self._onset * (taken - state.exposure)
        burden = (chosen * self._burden).sum(1) * intensity + p.side_effect_burden * side
        target = np.clip(1.0 - burden, p.adherence_floor, 1.0)
        adherence = state.adherence + p.adherence_rate * (target - state.adherence)

        # CBT's skills outlast it: its exposure never falls below a share of its peak.
        peak = np.maximum(state.peak, exposure)
        active = exposure.copy()
        active[:, _CBT] = np.maximum(exposure[:, _CBT], p.cbt_durability * peak[:, _CBT])

        # Treatment before the episode, and every other treatment tried in it (as much as it
        # was taken: a full course counts 1), lower the response.
        others = peak.sum(1, keepdims=True) - peak
        earlier = self._earlier_course**others * self.treated_before(patients)

        # Latent scores: drift to the set point, treatment effect, life events, noise.
        # (`intake_effect` x earlier courses, multiplied in the order the shipped artifacts
        # were built with, so their trials reproduce bit for bit.)
        each = self._emax * patients.responsiveness * patients.moderation * earlier * active
        effect = 1.0 - np.prod(1.0 - np.minimum(each, p.effect_cap), axis=1)
        d = state.scores
        events = rng.random(n) < p.life_event_rate
        jumps = events[:, None] * rng.exponential(p.life_event_mean, (n, 3))
        noise = p.noise_scale * np.sqrt(d + p.noise_offset) * rng.standard_normal((n, 3))
        scores = d + p.drift * (state.set_point - d) - effect[:, None] * d + jumps + noise
        scores = np.clip(scores, 0.0, DASS_MAX)
        # Recovery under treatment consolidates: the set point follows the scores down.
        treated = exposure.sum(1, keepdims=True) >= p.consolidation_exposure
        lower = np.minimum(scores, state.set_point)
        set_point = state.set_point + treated * p.consolidation_rate * (lower - state.set_point)

        nxt = PatientState(
            scores, exposure, adherence, medication_weeks, peak, set_point, state.week + 1
        )
        signals = self.emit(patients, nxt, side, rng)
        strain = np.where(treatment == _EXERCISE, intensity, 0.0)
        adverse = rng.random(n) < (
            p.adverse_event_per_side_effect * side + p.adverse_event_exercise * strain
        )
        deterioration = scores[:, _DEP] - d[:, _DEP] >= p.deterioration_margin
        safety = np.stack([adverse, deterioration], axis=1)
        hazard = self.dropout_hazard(treatment, scores[:, _DEP], side, adherence)
        dropout = rng.random(n) < hazard
        risk = dass_risk_labels(scores)
        week = Week(signals, scores.copy(), risk, safety, side, effect, hazard, dropout)
        return nxt, week

    def dropout_hazard(
        self,
        treatment: np.ndarray,
        depression: np.ndarray,
        side_effects: np.ndarray,
        adherence: np.ndarray,
    ) -> np.ndarray:
        """(n,) probability of leaving care this week on `treatment`, at this week's
        depression, medication side effects and adherence."""
        p = self.params
        band = (depression - p.severity_centre) / p.severity_band
        severity = np.maximum(1.0 + self._dropout_severity[treatment] * band, 0.0)
        hazard = self._dropout_base[treatment] * severity + p.dropout_side_effect * side_effects
        return np.clip(hazard + p.dropout_adherence * (1.0 - adherence), 0.0, 1.0)

    def emit(
        self,
        patients: Patients,
        state: PatientState,
        side_effects: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """(n, 7, 5) daily signals of this week in real units, on each signal's support."""
        p = self.params
        n = len(patients)
        severity = (state.scores - self._population_mean) / DASS_MAX
        shift = severity @ self._severity_shift.T
        shift += side_effects[:, None] * np.array(p.side_effect_shift)
        shift += state.exposure[:, [_EXERCISE]] * np.array(p.exercise_shift)
        shift += state.exposure[:, [_CBT]] * np.array(p.cbt_shift)
        shift[:, SIGNAL_NAMES.index("resting_hr")] += (
            p.medication_hr_shift * state.exposure[:, _MEDICATION]
        )
        noise = rng.standard_normal((n, WINDOW_DAYS, N_SIGNALS)) * np.array(p.daily_noise_sd)
        return to_support(patients.rhythm + shift[:, None, :] + noise)
