"""Checks of the reference simulator against the published facts it is parameterised from.

Each check runs a small virtual trial on a cohort and compares one number with a target range.
Trials enrol the patients whose first-week depression is moderate or worse (DASS-42 >= 14),
as depression trials do, and give every arm the same random numbers, so arms differ only by
treatment. Arms are at full intensity unless a row says otherwise.

| check                                   | target                 | source                       |
|-----------------------------------------|------------------------|------------------------------|
| untreated remission by week 12 / 26     | 0.23 / 0.32, +-0.05    | Whiteford et al. 2013        |
| week-8 SMD vs control                   | cited value +-50%      | per treatment, `CITED_SMD`   |
| week-8 variance, active / control arm   | 0.95 - 1.10            | Ploederl and Hengartner 2019 |
| medication week-1 / week-8 effect       | 0 - 0.30               | Cipriani 2018; Taylor 2006   |
| effect rises with intensity             | every step >= 0        | Emax dose-response           |
| adverse events, medication 1.0 / 0.3    | > 1                    | Furukawa et al. 2019         |
| medication SMD, mild-moderate / v. severe | <= 0.25 / 0.3 - 0.6  | Fournier 2010; Furukawa 2018 |
| week-12 remission on medication,        | 0.5 - 0.85             | Fava et al. 2008 (STAR*D)    |
| anxious / not anxious                   |                        |                              |
| response by week 6 without 20% early    | <= 0.30                | Szegedi 2009; de Vries 2019  |
| improvement by week 2 (medication)      |                        |                              |
| drop-out by week 12, per arm            | `DROPOUT`              | per arm, `DROPOUT`           |
| 12-month relapse of week-12 remitters   | `RELAPSE`              | Geddes 2003; Hollon 2005     |
| STAR*D-like levels of 12 weeks          | 0.37 / 0.31 / 0.14 /   | Rush et al. 2006             |
|                                         | 0.13, +-0.06, declining|                              |
| personalised assignment by week 12:     | 0.1 - 0.3 SD /         | DeRubeis et al. 2014; Cohen  |
| static oracle minus the best arm        | 4 - 12 points          | and DeRubeis 2018 (PAI)      |
| same seed, same trajectories            | identical              | reproducibility              |

Remission is depression back below moderate (DASS-42 < 14), response a fall of at least half
of the first-week depression. Relapse trials follow the patients whose depression is in the
normal range (< 10) after the 12-week course, as relapse-prevention trials enrol remitted
patients; relapse is depression at moderate or worse for two weeks in a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mano_gym.cohorts.cohort import Cohort
from mano_gym.dynamics.reference import Patients, ReferenceSimulator, Week
from mano_gym.dynamics.treatments import INTENSITY_LOW, TREATMENTS
from predictor.labels import DASS_CUTS, MODERATE

_DEPRESSION = 0
ENROLMENT_DEPRESSION = float(DASS_CUTS[_DEPRESSION, MODERATE - 1])  # 14: moderate or worse
# Published standardised effect of each active treatment vs control on depression.
CITED_SMD: dict[str, tuple[float, str]] = {
    "wellness_app": (0.28, "Linardon et al. 2019 (g = 0.28, app vs control)"),
    "cbt": (0.60, "Cuijpers et al. 2013, 2023 (g = 0.53-0.79 vs control)"),
    "exercise": (0.60, "Noetel et al. 2024 (walking or jogging g = 0.62)"),
    "medication": (0.30, "Cipriani et al. 2018 (SMD about 0.3 vs placebo)"),
}
UNTREATED_REMISSION = {12: 0.23, 26: 0.32}  # Whiteford et al. 2013, within 3 and 6 months
REMISSION_TOLERANCE = 0.05
SMD_TOLERANCE = 0.5  # relative
ONSET_RATIO_MAX = 0.30
INTENSITIES = (0.1, 0.25, 0.5, 0.75, 1.0)
VARIANCE_RATIO = (0.95, 1.10)  # Ploederl and Hengartner 2019
_ANXIETY = 1
# (group, first-week DASS-42 depression range, target range of medication's week-8 SMD)
SEVERITY_GROUPS = (
    ("mild_to_moderate", (ENROLMENT_DEPRESSION, 21.0), (-np.inf, 0.25)),
    ("very_severe", (28.0, np.inf), (0.3, 0.6)),
)
ANXIOUS_ANXIETY = 15.0  # first-week DASS-42 anxiety "severe": anxious depression
ANXIOUS_RATIO = (0.5, 0.85)  # Fava et al. 2008: 22.2% / 33.6% = 0.66
EARLY_RESPONSE_MAX = 0.30
# Drop-out by week 12: (low, high, source) per arm.
DROPOUT: dict[str, tuple[float, float, str]] = {
    "control": (0.05, 0.25, "judgement: waiting-list and placebo arms lose fewer patients"),
    "wellness_app": (0.26, 0.48, "Torous et al. 2020: 26%, 48% adjusted for bias"),
    "cbt": (0.15, 0.25, "Swift and Greenberg 2012: 19.7% leave psychotherapy"),
    "exercise": (0.13, 0.23, "Stubbs et al. 2016: 18.1% leave exercise trials"),
    "medication": (0.15, 0.30, "judgement from Cipriani et al. 2018; Furukawa et al. 2019"),
}
RELAPSE_WEEKS = 52
RELAPSE_ENROLMENT = float(DASS_CUTS[_DEPRESSION, 0])  # 10: depression in the normal range
# (arm, (12-week course, continued after it), (low, high, source))
RELAPSE_ARMS = (
    ("medication_stopped", ("medication", False), (0.35, 0.45, "Geddes et al. 2003: 41%")),
    ("medication_continued", ("medication", True), (0.18, 0.24, "Geddes et al. 2003: 18%")),
    ("cbt_stopped", ("cbt", False), (0.25, 0.35, "Hollon et al. 2005: CBT's effect lasts")),
)
# STAR*D's levels as Mano's treatments (judgement: a switch of drug is medication again, after
# the weeks off it restart its onset and side effects), and their remission (Rush et al. 2006).
STARD_LEVELS = ("medication", "cbt", "exercise", "medication")
STARD_REMISSION = (0.368, 0.306, 0.137, 0.130)
STARD_TOLERANCE = 0.06
STARD_RISE_MAX = 0.02
# The static oracle (each patient's treatment of largest intake effect, responsiveness
# included: SPEC section 14) over the best single arm: SD of the control arm, remission.
PERSONALISED_SMD = (0.1, 0.3)
PERSONALISED_REMISSION = (0.04, 0.12)
PERSONALISED_SOURCE = (
    "DeRubeis et al. 2014; Cohen and DeRubeis 2018: personalised assignment gains modestly, "
    "within the variance-ratio bound"
)


@dataclass(frozen=True)
class Check:
    name: str
    value: float
    low: float
    high: float
    source: str

    @property
    def passed(self) -> bool:
        return self.low <= self.value <= self.high

    @property
    def target(self) -> str:
        """The target range in words: `[a, b]`, `>= a` or `<= b`."""
        if self.low == self.high:
            return f"= {self.low:g}"
        if np.isinf(self.high):
            return f">= {self.low:g}"
        if np.isinf(self.low):
            return f"<= {self.high:g}"
        return f"[{self.low:.3g}, {self.high:.3g}]"


def validate_reference(
    cohort: Cohort, simulator: ReferenceSimulator | None = None, seed: int = 0
) -> list[Check]:
    """Every check of the module table on the enrolled patients of `cohort`."""
    simulator = simulator or ReferenceSimulator()
    enrolled = cohort.patients.first_scores[:, _DEPRESSION] >= ENROLMENT_DEPRESSION
    if enrolled.sum() < 100:
        raise ValueError(
            f"only {enrolled.sum()} patients with moderate or worse depression; "
            "validation needs at least 100 (use a larger cohort)"
        )
    patients = cohort.patients.subset(np.flatnonzero(enrolled))
    trials = _Trials(simulator, patients, seed)
    control = trials.fixed("control", INTENSITY_LOW, max(UNTREATED_REMISSION))
    checks = [
        Check(
            f"untreated_remission.week_{week}",
            float(_remitted(control[week - 1]).mean()),
            target - REMISSION_TOLERANCE,
            target + REMISSION_TOLERANCE,
            f"Whiteford et al. 2013: {target:.0%} remit untreated within {week // 4} months",
        )
        for week, target in UNTREATED_REMISSION.items()
    ]
    checks += _effect_checks(trials, control)
    checks += _moderator_checks(trials, control)
    checks += _dropout_checks(trials)
    checks += _relapse_checks(trials)
    checks += _stard_checks(trials)
    checks += _personalisation_checks(trials, control)
    again = _Trials(simulator, patients, seed).fixed("control", INTENSITY_LOW, len(control))
    same = all(
        np.array_equal(a.signals, b.signals)
        and np.array_equal(a.scores, b.scores)
        and np.array_equal(a.safety, b.safety)
        and np.array_equal(a.dropout, b.dropout)
        for a, b in zip(control, again, strict=True)
    )
    checks.append(Check("same_seed_same_trajectories", float(same), 1.0, 1.0, "seeded"))
    return checks


class _Trials:
    """Virtual trials of one set of patients, every trial from the same seed."""

    def __init__(self, simulator: ReferenceSimulator, patients: Patients, seed: int) -> None:
        self.simulator, self.patients, self.seed = simulator, patients, seed
        self.first = patients.first_scores[:, _DEPRESSION]
        self._fixed: dict[tuple[str, float, int], list[Week]] = {}

    def run(self, policy: Callable[[int, list[Week]], tuple], weeks: int) -> list[Week]:
        """Weeks 1..`weeks` of every patient; `policy(t, weeks so far)` gives week t's
        `(treatment, intensity)` arrays."""
        rng = np.random.default_rng(self.seed)
        state = self.simulator.first_state(self.patients)
        out: list[Week] = []
        for t in range(weeks):
            state, week = self.simulator.step(self.patients, state, *policy(t, out), rng)
            out.append(week)
        return out

    def fixed(self, treatment: str, intensity: float, weeks: int) -> list[Week]:
        """Weeks 1..`weeks` on one treatment and intensity; every trial draws from the same
        seed, so a trial asked for again (several checks read the same arm) is run once."""
        key = (treatment, intensity, weeks)
        if key not in self._fixed:
            n = len(self.patients)
            action = np.full(n, TREATMENTS.index(treatment)), np.full(n, intensity)
            self._fixed[key] = self.run(lambda t, past: action, weeks)
        return self._fixed[key]


def _depression(week: Week) -> np.ndarray:
    return week.scores[:, _DEPRESSION]


def _remitted(week: Week) -> np.ndarray:
    return _depression(week) < ENROLMENT_DEPRESSION


def _dropped(weeks: list[Week]) -> np.ndarray:
    """Whether each patient left care in any of `weeks`."""
    return np.any([w.dropout for w in weeks], axis=0)


def _last_seen(weeks: list[Week]) -> np.ndarray:
    """Each patient's depression in the last week seen of `weeks`: the drop-out week for those
    who leave (intention to treat), else the last."""
    dropout = np.stack([w.dropout for w in weeks])
    last = np.where(dropout.any(0), dropout.argmax(0), len(weeks) - 1)
    return np.stack([_depression(w) for w in weeks])[last, np.arange(dropout.shape[1])]


def _dose_ratio(name: str, high: float, low: float) -> Check:
    """A rate under medication at full intensity over the same at 0.3: it rises with dose."""
    return Check(
        f"{name}.medication_high_vs_low",
        float(high / max(low, 1e-12)),
        1.0,
        np.inf,
        "Furukawa et al. 2019: dropouts for adverse effects rise with dose",
    )


def _smd(control: np.ndarray, treated: np.ndarray) -> float:
    pooled = np.sqrt((control.var(ddof=1) + treated.var(ddof=1)) / 2)
    return float((control.mean() - treated.mean()) / pooled)


def _effect_checks(trials: _Trials, control: list[Week]) -> list[Check]:
    """Effect size, variance ratio and dose-response of every active arm at week 8; onset and
    adverse events of medication."""
    checks = []
    week8 = _depression(control[7])
    for name, (cited, source) in CITED_SMD.items():
        treated = trials.fixed(name, 1.0, 8)
        checks.append(
            Check(
                f"smd_week_8.{name}",
                _smd(week8, _depression(treated[7])),
                cited * (1 - SMD_TOLERANCE),
                cited * (1 + SMD_TOLERANCE),
                source,
            )
        )
        checks.append(
            Check(
                f"variance_ratio_week_8.{name}",
                float(_depression(treated[7]).var() / week8.var()),
                *VARIANCE_RATIO,
                "Ploederl and Hengartner 2019: active and control arms vary alike",
            )
        )
        effects = [
            week8.mean() - _depression(trials.fixed(name, i, 8)[7]).mean() for i in INTENSITIES
        ]
        checks.append(
            Check(
                f"intensity_min_step.{name}",
                float(np.diff(effects).min()),
                0.0,
                np.inf,
                "Emax dose-response: a higher intensity never helps less",
            )
        )
    medication = trials.fixed("medication", 1.0, 8)
    week1 = _depression(control[0]).mean() - _depression(medication[0]).mean()
    checks.append(
        Check(
            "medication_onset_ratio",
            float(week1 / (week8.mean() - _depression(medication[7]).mean())),
            0.0,
            ONSET_RATIO_MAX,
            "Cipriani et al. 2018 (effects build over 2-8 weeks); Taylor et al. 2006",
        )
    )
    high, low = (
        np.mean([w.safety[:, 0].mean() for w in trials.fixed("medication", i, 8)])
        for i in (1.0, 0.3)
    )
    checks.append(_dose_ratio("adverse_event_ratio", high, low))
    return checks


def _moderator_checks(trials: _Trials, control: list[Week]) -> list[Check]:
    """Severity moderation of medication's effect, anxious depression, early improvement."""
    medication = trials.fixed("medication", 1.0, 12)
    checks = []
    for group, (low, high), target in SEVERITY_GROUPS:
        rows = (trials.first >= low) & (trials.first < high)
        checks.append(
            Check(
                f"severity_moderation.medication_smd_week_8.{group}",
                _smd(_depression(control[7])[rows], _depression(medication[7])[rows]),
                *target,
                "Fournier et al. 2010 (d 0.11 mild to moderate, 0.47 very severe); "
                "Furukawa et al. 2018 (less moderation)",
            )
        )
    anxious = trials.patients.first_scores[:, _ANXIETY] >= ANXIOUS_ANXIETY
    remitted = _remitted(medication[11])
    checks.append(
        Check(
            "anxious_remission_ratio.medication_week_12",
            float(remitted[anxious].mean() / remitted[~anxious].mean()),
            *ANXIOUS_RATIO,
            "Fava et al. 2008: remission 22% vs 33% with and without anxious depression",
        )
    )
    change = 1.0 - np.stack([_depression(w) for w in medication]) / trials.first
    improved, responded = change[1] >= 0.2, change[5] >= 0.5  # weeks 2 and 6
    checks.append(
        Check(
            "early_improvement.response_week_6_without_week_2_improvement",
            float(responded[~improved].mean()),
            0.0,
            EARLY_RESPONSE_MAX,
            "Szegedi et al. 2009; de Vries et al. 2019: no early improvement, rarely response",
        )
    )
    return checks


def _dropout_checks(trials: _Trials) -> list[Check]:
    """Drop-out by week 12 in every arm, and its rise with medication dose."""
    checks = [
        Check(
            f"dropout_week_12.{name}",
            float(_dropped(trials.fixed(name, 1.0, 12)).mean()),
            low,
            high,
            source,
        )
        for name, (low, high, source) in DROPOUT.items()
    ]
    high, low = (_dropped(trials.fixed("medication", i, 12)).mean() for i in (1.0, 0.3))
    checks.append(_dose_ratio("dropout_ratio", high, low))
    return checks


def _relapse_checks(trials: _Trials) -> list[Check]:
    """Relapse within a year of the patients in remission after 12 weeks of medication
    (stopped or continued) or of CBT (stopped)."""
    n = len(trials.patients)
    control = np.zeros(n, np.int64), np.full(n, INTENSITY_LOW)
    checks = []
    for arm, (course, continued), (low, high, source) in RELAPSE_ARMS:
        given = np.full(n, TREATMENTS.index(course)), np.ones(n)
        after = given if continued else control
        weeks = trials.run(
            lambda t, past, given=given, after=after: given if t < 12 else after,
            12 + RELAPSE_WEEKS,
        )
        remitted = _depression(weeks[11]) < RELAPSE_ENROLMENT
        moderate = np.stack([~_remitted(w) for w in weeks[12:]])
        relapsed = np.any(moderate[1:] & moderate[:-1], axis=0)
        checks.append(
            Check(f"relapse_12_months.{arm}", float(relapsed[remitted].mean()), low, high, source)
        )
    return checks


def _stard_checks(trials: _Trials) -> list[Check]:
    """STAR*D's protocol: levels of 12 weeks; a patient not in remission at the end of a level
    (and still in care) goes on to the next level's treatment. Remission is judged at the last
    week seen in a level (the drop-out week for those who leave)."""
    n = len(trials.patients)
    level_weeks = 12

    def policy(t: int, past: list[Week]) -> tuple[np.ndarray, np.ndarray]:
        level = np.zeros(n, np.int64)
        for end in range(level_weeks, t + 1, level_weeks):
            level += ~_remitted(past[end - 1]) & (level == end // level_weeks - 1)
        ladder = np.array([TREATMENTS.index(name) for name in STARD_LEVELS])
        return ladder[np.minimum(level, len(ladder) - 1)], np.ones(n)

    weeks = trials.run(policy, level_weeks * len(STARD_LEVELS))
    entering = np.ones(n, bool)
    rates = []
    for level in range(len(STARD_LEVELS)):
        level_weeks_seen = weeks[level * level_weeks : (level + 1) * level_weeks]
        # the last week seen (Rush et al. 2006 count remission at the last QIDS-SR rating of
        # a level)
        remitted = _last_seen(level_weeks_seen) < ENROLMENT_DEPRESSION
        rates.append(float(remitted[entering].mean()))
        entering = entering & ~_dropped(level_weeks_seen) & ~remitted
    checks = [
        Check(
            f"stard_remission.level_{level + 1}",
            rate,
            target - STARD_TOLERANCE,
            target + STARD_TOLERANCE,
            f"Rush et al. 2006: {target:.1%} remit at level {level + 1} "
            f"(here {STARD_LEVELS[level]})",
        )
        for level, (rate, target) in enumerate(zip(rates, STARD_REMISSION, strict=True))
    ]
    checks.append(
        Check(
            "stard_remission.largest_rise_between_levels",
            float(np.diff(rates).max()),
            -np.inf,
            STARD_RISE_MAX,
            "Rush et al. 2006: remission falls level by level",
        )
    )
    return checks


def _personalisation_checks(trials: _Trials, control: list[Week]) -> list[Check]:
    """What the static oracle, each patient on their treatment of largest intake effect
    (`ReferenceSimulator.intake_effect`), gains by week 12 over the best single arm, all at
    full intensity, at the last week seen."""
    weeks = 12
    arms = {name: _last_seen(trials.fixed(name, 1.0, weeks)) for name in TREATMENTS[1:]}
    best = arms[min(arms, key=lambda name: arms[name].mean())]
    choice = trials.simulator.intake_effect(trials.patients)[:, 1:].argmax(1) + 1
    action = choice, np.ones(len(choice))
    oracle = _last_seen(trials.run(lambda t, past: action, weeks))
    spread = _last_seen(control[:weeks]).std()
    remission = (oracle < ENROLMENT_DEPRESSION).mean() - (best < ENROLMENT_DEPRESSION).mean()
    return [
        Check(
            "personalised_assignment.static_oracle_smd_week_12",
            float((best.mean() - oracle.mean()) / spread),
            *PERSONALISED_SMD,
            PERSONALISED_SOURCE,
        ),
        Check(
            "personalised_assignment.static_oracle_remission_gain_week_12",
            float(remission),
            *PERSONALISED_REMISSION,
            PERSONALISED_SOURCE,
        ),
    ]


def checks_to_metrics(checks: list[Check]) -> dict[str, float]:
    """`{check name: value}` plus `passed` (the share of checks passed), for `--json`."""
    metrics = {c.name: round(c.value, 4) for c in checks}
    metrics["passed"] = float(np.mean([c.passed for c in checks]))
    return metrics
