"""Synthetic people, not weeks: a person-level model of weekly rhythms.

The weeks of one person resemble each other more than the weeks of two people (the share of
variance between people, the intra-class correlation of weekly means, runs from about 0.25 for
stress to over 0.9 for resting heart rate in PMData), and a person's week follows on from the
last. `PersonModel` holds that structure in each week's *level*, its mean of every signal:

| part              | model                                                              |
|-------------------|--------------------------------------------------------------------|
| person            | level drawn from a multivariate normal fitted over the training    |
|                   | participants' mean levels (their covariance less the share of the  |
|                   | within-person variation that a person's few weeks leave in it)     |
| week              | person level + deviation; deviations follow an AR(1) per signal,   |
|                   | `d_t = phi * d_(t-1) + sqrt(1 - phi^2) * e_t`, `e_t` normal with   |
|                   | the pooled within-person covariance of weekly levels               |
| days of a week    | the TimeGAN week nearest the week's level out of a larger pool,    |
|                   | shifted onto it (`PersonRhythms`)                                  |

Weekly levels come from non-overlapping weeks (windows 7 days apart); `phi` from consecutive
ones. A person's level is kept inside the range the training weeks' levels span (a dozen
people say little about the tails), a week's level on each signal's support.

    people = PersonModel.fit(windows)                    # `generators.data.Windows`
    levels = people.sample_levels(n_people=100, weeks=12, seed=0)   # (100, 12, 5)
    weeks = PersonRhythms(people, timegan).sample(100, 12, seed=0)  # (100, 12, 7, 5)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generators.data import Windows
from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, WINDOW_DAYS, to_support
from generators.timegan import TimeGAN

MIN_PEOPLE = 3  # a prior over people needs a few of them
AR_BOUND = 0.95  # |phi| at most this: a week always carries some news
_MATCH_CHUNK = 1024  # weeks matched to the pool at once
EIGEN_FLOOR = 1e-3  # smallest eigenvalue of the between-person covariance, relative to largest


def weekly_windows(windows: Windows) -> Windows:
    """Non-overlapping weeks of `windows`: per participant, in time order, each window that
    starts at least `WINDOW_DAYS` days after the last one kept."""
    keep = np.zeros(len(windows), bool)
    for participant in np.unique(windows.participant):
        own = np.flatnonzero(windows.participant == participant)
        own = own[np.argsort(windows.start[own], kind="stable")]
        next_start = None
        for index in own:
            if next_start is None or windows.start[index] >= next_start:
                keep[index] = True
                next_start = windows.start[index] + np.timedelta64(WINDOW_DAYS, "D")
    return windows.subset(keep)


def _person_means(levels: np.ndarray, people: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each person's mean level (k, 5), and each row's person as an index into them (n,)."""
    names, group = np.unique(people, return_inverse=True)
    return np.stack([levels[group == g].mean(0) for g in range(len(names))]), group


def intraclass_correlation(levels: np.ndarray, people: np.ndarray) -> np.ndarray:
    """(5,) share of the variance of weekly levels (n, 5) that lies between `people` (n,):
    the one-way random-effects ICC(1), for groups of unequal size."""
    levels = np.asarray(levels, np.float64)
    means, group = _person_means(levels, np.asarray(people))
    k, total = len(means), len(levels)
    if k < 2 or total <= k:
        raise ValueError(f"need at least 2 people and more weeks than people, got {k} and {total}")
    sizes = np.bincount(group)
    between = (sizes[:, None] * (means - levels.mean(0)) ** 2).sum(0) / (k - 1)
    within = ((levels - means[group]) ** 2).sum(0) / (total - k)
    n0 = (total - (sizes**2).sum() / total) / (k - 1)
    spread = np.maximum((between - within) / n0, 0.0)
    return spread / (spread + within)


def week_to_week_correlation(
    levels: np.ndarray, people: np.ndarray, consecutive: np.ndarray
) -> np.ndarray:
    """(5,) correlation of a person's weekly level with their next one, both taken from that
    person's mean. `levels` (n, 5) in each person's time order; `consecutive[i]` says that row
    i + 1 is the week after row i of the same person (length n - 1)."""
    levels = np.asarray(levels, np.float64)
    means, group = _person_means(levels, np.asarray(people))
    deviations = levels - means[group]
    pairs = np.flatnonzero(np.asarray(consecutive, bool))
    if len(pairs) < 3:
        raise ValueError(f"need at least 3 pairs of consecutive weeks, got {len(pairs)}")
    now, after = deviations[pairs], deviations[pairs + 1]
    return np.array([np.corrcoef(now[:, j], after[:, j])[0, 1] for j in range(N_SIGNALS)])


def consecutive_weeks(weeks: Windows) -> np.ndarray:
    """For `weekly_windows` output (each person's weeks in time order): whether row i + 1 is
    the week right after row i, of the same person."""
    same = weeks.participant[1:] == weeks.participant[:-1]
    return same & (weeks.start[1:] - weeks.start[:-1] == np.timedelta64(WINDOW_DAYS, "D"))


@dataclass(frozen=True)
class PersonModel:
    """The person and week parts of the table above (arrays over the 5 signals)."""

    mean: np.ndarray  # (5,) population mean of person levels
    between: np.ndarray  # (5, 5) covariance of person levels
    within: np.ndarray  # (5, 5) covariance of a person's weekly levels around their own
    phi: np.ndarray  # (5,) week-to-week autocorrelation of the deviations
    low: np.ndarray  # (5,) lowest weekly level of the training weeks: the person levels' floor
    high: np.ndarray  # (5,) highest: their ceiling

    @classmethod
    def fit(cls, windows: Windows) -> PersonModel:
        """Fit on every non-overlapping week of `windows` (training participants only)."""
        weeks = weekly_windows(windows)
        levels = weeks.signals.mean(1).astype(np.float64)
        means, group = _person_means(levels, weeks.participant)
        if len(means) < MIN_PEOPLE:
            raise ValueError(f"need weeks of at least {MIN_PEOPLE} people, got {len(means)}")
        deviations = levels - means[group]
        sizes = np.bincount(group)
        repeated = sizes[group] > 1  # one week alone says nothing within a person
        dof = repeated.sum() - len(np.unique(group[repeated]))
        if dof < N_SIGNALS:
            raise ValueError("too few repeated weeks of the same people to fit their variation")
        within = deviations[repeated].T @ deviations[repeated] / dof
        phi = np.clip(
            week_to_week_correlation(levels, weeks.participant, consecutive_weeks(weeks)),
            -AR_BOUND,
            AR_BOUND,
        )
        # person means carry within-person noise too: take out its share (one-way ANOVA's
        # method of moments, for groups of unequal size), then keep the matrix a covariance
        between = np.cov(means, rowvar=False) - within * np.mean(1.0 / sizes)
        values, vectors = np.linalg.eigh(between)
        between = (vectors * np.maximum(values, EIGEN_FLOOR * values.max())) @ vectors.T
        return cls(means.mean(0), between, within, phi, levels.min(0), levels.max(0))

    def sample_people(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, 5) person levels."""
        return rng.multivariate_normal(self.mean, self.between, size=n, method="cholesky")

    def sample_levels(self, n_people: int, weeks: int, seed: int) -> np.ndarray:
        """(n_people, weeks, 5) weekly levels of `n_people` new people, `weeks` each."""
        if n_people < 0 or weeks < 1:
            raise ValueError(f"need n_people >= 0 and weeks >= 1, got {n_people} and {weeks}")
        rng = np.random.default_rng(seed)
        # a person beyond everyone seen is taken at the edge of the training weeks' levels
        people = np.clip(self.sample_people(n_people, rng), self.low, self.high)
        innovations = rng.multivariate_normal(
            np.zeros(N_SIGNALS), self.within, size=(n_people, weeks), method="cholesky"
        )
        deviation = innovations[:, 0]  # the first week from the stationary distribution
        out = np.empty((n_people, weeks, N_SIGNALS))
        for week in range(weeks):
            if week:
                deviation = self.phi * deviation + np.sqrt(1 - self.phi**2) * innovations[:, week]
            out[:, week] = people + deviation
        return np.clip(out, SIGNAL_LOW, SIGNAL_HIGH)


class PersonRhythms:
    """Weeks of synthetic people: levels from a `PersonModel`, days from a TimeGAN. Each week
    takes the TimeGAN week nearest its level out of a pool `pool_factor` times as large (in
    units of the spread of training levels), shifted onto the level: the person model decides
    where a week lies, TimeGAN how its days move."""

    def __init__(self, people: PersonModel, timegan: TimeGAN, pool_factor: int = 10) -> None:
        if pool_factor < 1:
            raise ValueError(f"pool_factor must be >= 1, got {pool_factor}")
        self.people, self.timegan, self.pool_factor = people, timegan, pool_factor

    def sample(self, n_people: int, weeks: int, seed: int) -> np.ndarray:
        """(n_people, weeks, 7, 5) daily signals in real units, on each signal's support."""
        levels = self.people.sample_levels(n_people, weeks, seed).reshape(-1, N_SIGNALS)
        pool = self.timegan.sample(max(len(levels) * self.pool_factor, 1), seed)
        pool_levels = pool.mean(1, dtype=np.float64)
        scale = self.people.high - self.people.low
        nearest = np.empty(len(levels), np.int64)
        for start in range(0, len(levels), _MATCH_CHUNK):  # bounds the distance matrix
            chunk = levels[start : start + _MATCH_CHUNK, None, :]
            distance = (((chunk - pool_levels[None]) / scale) ** 2).sum(-1)
            nearest[start : start + _MATCH_CHUNK] = distance.argmin(1)
        shift = levels - pool_levels[nearest]
        days = to_support(pool[nearest] + shift[:, None, :])
        return days.reshape(n_people, weeks, *days.shape[1:])
