"""OSMI Mental Health in Tech survey (2014) -> a clean table of static patient profiles.

Cleaning, in order, each step counted in the returned `CleaningReport`:

1. Free-text and identifying columns are dropped: `Timestamp`, `state` (US state, empty
   outside the US) and `comments`.
2. `Age` must be numeric (else `DataSchemaError`); rows outside 18-75 are dropped.
3. `Gender` (free text) is normalised: known spellings of male and female (typos and
   "cis" forms included; trans women and trans men by the gender they state) map to `male` /
   `female`, every other answer to `other`. An empty answer drops the row.
4. Every other answer must be one of the survey's choices (else `DataSchemaError`, naming the
   column and the value). `work_interfere` is only asked of people with a condition, so its
   `NA` becomes `Not applicable`; an `NA` in any other answer drops the row.
5. `Country` keeps the `top_countries` most frequent countries; the rest become `other`.

Column names come out in snake case (`age`, `gender`, `country`, then the survey's own).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from generators.data.csvfile import read_csv
from generators.data.report import CleaningReport, DataSchemaError
from generators.profile_schema import (
    AGE_MAX,
    AGE_MIN,
    ANSWERS,
    NOT_APPLICABLE,
    OTHER_COUNTRY,
)

DROPPED_COLUMNS: tuple[str, ...] = ("Timestamp", "state", "comments")
REQUIRED_COLUMNS: tuple[str, ...] = ("Age", "Gender", "Country", *ANSWERS)

_MALE = frozenset(
    ["male", "m", "man", "cis male", "cis man", "male (cis)", "trans man"]
    + ["make", "mal", "maile", "mail", "malr", "msle"]  # typos seen in the survey
)
_FEMALE = frozenset(
    ["female", "f", "woman", "cis female", "female (cis)", "cis-female/femme"]
    + ["female (trans)", "trans-female", "trans woman"]
    + ["femake", "femail"]  # typos seen in the survey
)
_MISSING = frozenset(["", "NA"])


def normalise_gender(answer: str) -> str:
    """Map a free-text gender answer to `female`, `male` or `other`."""
    key = " ".join(answer.strip().lower().split())
    if key in _MALE:
        return "male"
    if key in _FEMALE:
        return "female"
    return "other"


def load_osmi(path: str | Path, top_countries: int = 7) -> tuple[pd.DataFrame, CleaningReport]:
    """Load and clean the OSMI 2014 survey CSV at `path`; the file is only read.

    Returns the profiles (one row per kept respondent, columns `PROFILE_COLUMNS`, `age` as
    int, every other column as str) and the cleaning report.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"OSMI survey not found: {path}")
    if top_countries < 1:
        raise ValueError(f"top_countries must be >= 1, got {top_countries}")
    raw = read_csv(path)
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise DataSchemaError(path, f"missing column(s) {', '.join(map(repr, missing))}")

    report = CleaningReport(source=str(path), rows_read=len(raw))
    report.columns_dropped = [c for c in raw.columns if c not in REQUIRED_COLUMNS]
    df = raw[list(REQUIRED_COLUMNS)].apply(lambda col: col.str.strip())

    age = pd.to_numeric(df["Age"], errors="coerce")
    bad = age.isna() & ~df["Age"].isin(_MISSING)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataSchemaError(
            path, f"column 'Age' has non-numeric value {df['Age'].iloc[row]!r} (data row {row + 1})"
        )
    for column, choices in ANSWERS.items():
        unknown = ~df[column].isin(choices) & ~df[column].isin(_MISSING)
        if unknown.any():
            raise DataSchemaError(
                path,
                f"column {column!r} has value {df[column][unknown].iloc[0]!r}, "
                f"expected one of {', '.join(map(repr, choices))}",
            )

    df = df.assign(Age=age)
    df = _keep(
        df,
        df["Age"].between(AGE_MIN, AGE_MAX) & (df["Age"] == df["Age"].round()),
        report,
        f"age missing or outside {AGE_MIN}-{AGE_MAX}",
    )
    df = _keep(df, ~df["Gender"].isin(_MISSING), report, "gender not given")
    not_asked = df["work_interfere"].isin(_MISSING)
    report.change(f"work_interfere NA -> {NOT_APPLICABLE!r}", not_asked.sum())
    df = df.assign(work_interfere=df["work_interfere"].mask(not_asked, NOT_APPLICABLE))
    for column in ANSWERS:
        df = _keep(df, ~df[column].isin(_MISSING), report, f"{column} missing")

    gender = df["Gender"].map(normalise_gender)
    report.change("gender free text -> female/male/other", (gender != df["Gender"]).sum())

    counts = df["Country"].value_counts()
    ranked = sorted(counts.index, key=lambda c: (-counts[c], c))
    country = df["Country"].where(df["Country"].isin(ranked[:top_countries]), OTHER_COUNTRY)
    report.change(
        f"country outside top {top_countries} -> {OTHER_COUNTRY!r}",
        (country == OTHER_COUNTRY).sum(),
    )

    profiles = pd.DataFrame(
        {"age": df["Age"].astype(np.int64), "gender": gender, "country": country}
        | {column: df[column] for column in ANSWERS}
    ).reset_index(drop=True)
    report.rows_kept = len(profiles)
    return profiles, report


def _keep(df: pd.DataFrame, keep: pd.Series, report: CleaningReport, reason: str) -> pd.DataFrame:
    report.drop(reason, int((~keep).sum()))
    return df[keep]
