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
|               | treatment (0-1, with onset kinetics); adherence (0-1); weeks on medication |
| patient       | set point (trait severity) and first-week scores from a population prior   |
|               | conditioned on the profile; responsiveness to each treatment (log-normal)  |
| weekly change | d' = d + drift * (set point - d) - effect * d + life event + noise         |
| effect        | 1 - prod_k (1 - emax_k * responsiveness_k * exposure_k)                    |
| exposure      | relaxes at the treatment's onset rate toward adherence * dose(intensity),  |
|               | dose = Emax curve in intensity, 1 at full intensity                        |
| adherence     | relaxes toward 1 - burden(treatment, intensity, side effects)              |
| side effects  | medication: early sleep disruption and faster heart rate, fading with      |
|               | tolerance over the first weeks                                             |
| emission      | baseline rhythm (a TimeGAN week) + severity shifts + treatment effects on  |
|               | sleep and heart rate + day-to-day noise, put on each signal's support      |
| safety flags  | `adverse_event` (side effects, exercise strain), `deterioration`           |
|               | (depression up by a reliable-change margin in a week)                      |
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


def _per_treatment(**values: float) -> tuple[float, ...]:
    """A per-treatment tuple in `TREATMENTS` order; treatments not named get 0."""
    unknown = set(values) - set(TREATMENTS)
    if unknown:
        raise ValueError(f"unknown treatments {sorted(unknown)}; known: {', '.join(TREATMENTS)}")
    return tuple(float(values.get(name, 0.0)) for name in TREATMENTS)


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
    noise_scale: float = 0.5  # weekly noise SD = noise_scale * sqrt(score + noise_offset)
    noise_offset: float = 4.0
    life_event_rate: float = 0.01  # severe life events per patient-week
    life_event_mean: tuple[float, float, float] = (7.0, 5.0, 9.0)  # mean jump (exponential)
    # Treatments.
    emax: tuple[float, ...] = _per_treatment(  # weekly share of the score removed at full exposure
        wellness_app=0.0227, cbt=0.0616, exercise=0.0575, medication=0.0378
    )
    onset_rate: tuple[float, ...] = _per_treatment(
        wellness_app=0.7, cbt=0.35, exercise=0.6, medication=0.25
    )
    ed50: tuple[float, ...] = _per_treatment(
        wellness_app=0.3, cbt=0.4, exercise=0.4, medication=0.3
    )
    responsiveness_sd: float = 0.6  # log-normal SD of individual responsiveness (mean 1)
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
        for name in ("emax", "onset_rate", "ed50", "burden"):
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
    responsiveness: np.ndarray  # (n, 5) multiplier of each treatment's effect (control: 0)
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
    week: int = 0

    def copy(self) -> PatientState:
        return PatientState(
            self.scores.copy(),
            self.exposure.copy(),
            self.adherence.copy(),
            self.medication_weeks.copy(),
            self.week,
        )


@dataclass
class Week:
    """One simulated week: what a clinician would see, and what only the simulator knows."""

    signals: np.ndarray  # (n, 7, 5) daily signals, real units, on each signal's support
    scores: np.ndarray  # (n, 3) latent DASS scores this week
    risk: np.ndarray  # (n,) risk class from the DASS bands (0 low, 1 medium, 2 high)
    safety: np.ndarray  # (n, 2) bool, `SAFETY_FLAGS`
    side_effects: np.ndarray  # (n,) medication side-effect level, 0-1
    effect: np.ndarray  # (n,) fraction of the current score removed by treatment this week

    @classmethod
    def untreated(cls, signals: np.ndarray, scores: np.ndarray) -> Week:
        """A week without treatment (a first observed week)."""
        n = len(scores)
        safety = np.zeros((n, len(SAFETY_FLAGS)), bool)
        return cls(
            signals, scores.copy(), dass_risk_labels(scores), safety, np.zeros(n), np.zeros(n)
        )


class ReferenceSimulator:
    """Vectorised reference patients: `draw_patients`, `first_week`, then `step` each week."""

    def __init__(self, params: ReferenceParameters | None = None) -> None:
        self.params = params or ReferenceParameters()
        p = self.params
        self._emax = np.array(p.emax)
        self._onset = np.array(p.onset_rate)
        self._ed50 = np.array(p.ed50)
        self._burden = np.array(p.burden)
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
        responsiveness = rng.lognormal(
            -(p.responsiveness_sd**2) / 2, p.responsiveness_sd, (n, N_TREATMENTS)
        )
        responsiveness[:, 0] = 0.0  # control has no treatment effect
        return Patients(set_point, first, responsiveness, rhythms)

    def first_state(self, patients: Patients) -> PatientState:
        n = len(patients)
        return PatientState(
            scores=patients.first_scores.copy(),
            exposure=np.zeros((n, N_TREATMENTS)),
            adherence=np.ones(n),
            medication_weeks=np.zeros(n),
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

        # Latent scores: drift to the set point, treatment effect, life events, noise.
        effect = 1.0 - np.prod(1.0 - self._emax * patients.responsiveness * exposure, axis=1)
        d = state.scores
        events = rng.random(n) < p.life_event_rate
        jumps = events[:, None] * rng.exponential(p.life_event_mean, (n, 3))
        noise = p.noise_scale * np.sqrt(d + p.noise_offset) * rng.standard_normal((n, 3))
        scores = d + p.drift * (patients.set_point - d) - effect[:, None] * d + jumps + noise
        scores = np.clip(scores, 0.0, DASS_MAX)

        nxt = PatientState(scores, exposure, adherence, medication_weeks, state.week + 1)
        signals = self.emit(patients, nxt, side, rng)
        strain = np.where(treatment == _EXERCISE, intensity, 0.0)
        adverse = rng.random(n) < (
            p.adverse_event_per_side_effect * side + p.adverse_event_exercise * strain
        )
        deterioration = scores[:, _DEP] - d[:, _DEP] >= p.deterioration_margin
        safety = np.stack([adverse, deterioration], axis=1)
        week = Week(signals, scores.copy(), dass_risk_labels(scores), safety, side, effect)
        return nxt, week

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
        shift += state.exposure[:, [TREATMENTS.index("cbt")]] * np.array(p.cbt_shift)
        shift[:, SIGNAL_NAMES.index("resting_hr")] += (
            p.medication_hr_shift * state.exposure[:, _MEDICATION]
        )
        noise = rng.standard_normal((n, WINDOW_DAYS, N_SIGNALS)) * np.array(p.daily_noise_sd)
        return to_support(patients.rhythm + shift[:, None, :] + noise)
