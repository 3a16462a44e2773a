"""Checks of the reference simulator against the published facts it is parameterised from.

Each check runs a small virtual trial on a cohort and compares one number with a target range.
Trials enrol the patients whose first-week depression is moderate or worse (DASS-42 >= 14),
as depression trials do, and give every arm the same random numbers, so arms differ only by
treatment.

| check                                 | target              | source                      |
|---------------------------------------|---------------------|-----------------------------|
| untreated remission by week 12 / 26   | 0.23 / 0.32, +-0.05 | Whiteford et al. 2013       |
| week-8 SMD vs control, full intensity | cited value +-50%   | per treatment, `CITED_SMD`  |
| medication week-1 / week-8 effect     | 0 - 0.30            | Cipriani 2018; Taylor 2006  |
| effect rises with intensity           | every step >= 0     | Emax dose-response          |
| adverse events, medication 1.0 / 0.3  | > 1                 | Furukawa et al. 2019        |
| same seed, same trajectories          | identical           | reproducibility             |

Remission is depression back below moderate (DASS-42 < 14).
"""

from __future__ import annotations

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


def _trial(
    simulator: ReferenceSimulator,
    patients: Patients,
    treatment: int,
    intensity: float,
    weeks: int,
    seed: int,
) -> list[Week]:
    """Weeks 1..`weeks` of every patient on one fixed treatment."""
    rng = np.random.default_rng(seed)
    state = simulator.first_state(patients)
    n = len(patients)
    action = np.full(n, treatment), np.full(n, intensity)
    out = []
    for _ in range(weeks):
        state, week = simulator.step(patients, state, *action, rng)
        out.append(week)
    return out


def _depression(week: Week) -> np.ndarray:
    return week.scores[:, _DEPRESSION]


def _smd(control: np.ndarray, treated: np.ndarray) -> float:
    pooled = np.sqrt((control.var(ddof=1) + treated.var(ddof=1)) / 2)
    return float((control.mean() - treated.mean()) / pooled)


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
    horizon = max(UNTREATED_REMISSION)
    control = _trial(simulator, patients, 0, INTENSITY_LOW, horizon, seed)
    checks = [
        Check(
            f"untreated_remission.week_{week}",
            float((_depression(control[week - 1]) < ENROLMENT_DEPRESSION).mean()),
            target - REMISSION_TOLERANCE,
            target + REMISSION_TOLERANCE,
            f"Whiteford et al. 2013: {target:.0%} remit untreated within {week // 4} months",
        )
        for week, target in UNTREATED_REMISSION.items()
    ]
    week8 = _depression(control[7])
    for name, (cited, source) in CITED_SMD.items():
        k = TREATMENTS.index(name)
        treated = _trial(simulator, patients, k, 1.0, 8, seed)
        checks.append(
            Check(
                f"smd_week_8.{name}",
                _smd(week8, _depression(treated[7])),
                cited * (1 - SMD_TOLERANCE),
                cited * (1 + SMD_TOLERANCE),
                source,
            )
        )
        effects = [
            week8.mean() - _depression(_trial(simulator, patients, k, i, 8, seed)[7]).mean()
            for i in INTENSITIES
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
        if name == "medication":
            week1 = _depression(control[0]).mean() - _depression(treated[0]).mean()
            checks.append(
                Check(
                    "medication_onset_ratio",
                    float(week1 / (week8.mean() - _depression(treated[7]).mean())),
                    0.0,
                    ONSET_RATIO_MAX,
                    "Cipriani et al. 2018 (effects build over 2-8 weeks); Taylor et al. 2006",
                )
            )
            low = _trial(simulator, patients, k, 0.3, 8, seed)
            rate_high = np.mean([w.safety[:, 0].mean() for w in treated])
            rate_low = np.mean([w.safety[:, 0].mean() for w in low])
            checks.append(
                Check(
                    "adverse_event_ratio.medication_high_vs_low",
                    float(rate_high / max(rate_low, 1e-12)),
                    1.0,
                    np.inf,
                    "Furukawa et al. 2019: dropouts for adverse effects rise with dose",
                )
            )
    again = _trial(simulator, patients, 0, INTENSITY_LOW, horizon, seed)
    same = all(
        np.array_equal(a.signals, b.signals)
        and np.array_equal(a.scores, b.scores)
        and np.array_equal(a.safety, b.safety)
        for a, b in zip(control, again, strict=True)
    )
    checks.append(Check("same_seed_same_trajectories", float(same), 1.0, 1.0, "seeded"))
    return checks


def checks_to_metrics(checks: list[Check]) -> dict[str, float]:
    """`{check name: value}` plus `passed` (the share of checks passed), for `--json`."""
    metrics = {c.name: round(c.value, 4) for c in checks}
    metrics["passed"] = float(np.mean([c.passed for c in checks]))
    return metrics
