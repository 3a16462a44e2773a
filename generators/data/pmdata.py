"""PMData daily logs -> one daily frame of the five signals per participant, and 7-day windows.

A participant is a sub-folder (`p01`, `p02`, ...) holding:

| file                      | used for                                    | required |
|---------------------------|---------------------------------------------|----------|
| `wellness.csv`            | sleep_hours, sleep_quality, stress, mood    | yes      |
| `resting_heart_rate.json` | resting_hr (Fitbit daily value; 0 = none)   | no       |
| `sleep_score.csv`         | resting_hr where the JSON has no reading    | no       |

Cleaning, each step counted in the returned `CleaningReport`:

- A record's day is the calendar date of its timestamp as written (UTC, as PMData stores it;
  late-evening reports then stay on the day they describe).
- A day reported twice keeps the later report (a re-submission corrects the first one); a day
  with two sleep scores keeps the later one.
- PMSys stores an unanswered item as 0, off every 1-5 scale: it becomes missing. Any other value
  outside a signal's range (`generators.signals`) also becomes missing.
- PMSys `stress` has 5 = very relaxed; Mano's `stress` is `6 - value` (higher = more stressed).
- Each participant's frame has one row per calendar day from their first to their last record;
  days without data stay as missing values, never filled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from generators.data.csvfile import read_csv
from generators.data.report import CleaningReport, DataSchemaError
from generators.signals import SIGNAL_NAMES, SIGNALS, WINDOW_DAYS

WELLNESS_COLUMNS: dict[str, str] = {  # PMSys column -> Mano signal
    "sleep_duration_h": "sleep_hours",
    "sleep_quality": "sleep_quality",
    "stress": "stress",
    "mood": "mood",
}
PARTICIPANT_PATTERN = re.compile(r"p\d+")


@dataclass(frozen=True)
class Windows:
    """Runs of consecutive complete days: `signals[i]` is participant `participant[i]`'s
    week starting on `start[i]`, shape `(N, days, len(SIGNAL_NAMES))`, in real units."""

    signals: np.ndarray
    participant: np.ndarray
    start: np.ndarray

    def __len__(self) -> int:
        return len(self.signals)

    def select(self, participants: list[str] | tuple[str, ...]) -> Windows:
        """The windows of the given participants only (for splits by participant)."""
        return self.subset(np.isin(self.participant, list(participants)))

    def subset(self, mask: np.ndarray) -> Windows:
        """The windows where the boolean `mask` is true."""
        return Windows(self.signals[mask], self.participant[mask], self.start[mask])


def find_participants(folder: str | Path) -> list[Path]:
    """The participant sub-folders of a PMData folder, in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"PMData folder not found: {folder}")
    found = sorted(
        p for p in folder.iterdir() if p.is_dir() and PARTICIPANT_PATTERN.fullmatch(p.name)
    )
    if not found:
        raise DataSchemaError(folder, "no participant folders (p01, p02, ...) found")
    return found


def load_pmdata(folder: str | Path) -> tuple[dict[str, pd.DataFrame], CleaningReport]:
    """Load every participant of a PMData folder; the files are only read.

    Returns `{participant: daily frame}` (index: calendar days; columns: `SIGNAL_NAMES`,
    float64 in real units, NaN where missing) and one cleaning report over all participants
    (rows are wellness reports).
    """
    report = CleaningReport(source=str(folder))
    daily = {p.name: _load_participant(p, report) for p in find_participants(folder)}
    report.rows_kept = report.rows_read - sum(report.dropped.values())
    return daily, report


def _load_participant(folder: Path, report: CleaningReport) -> pd.DataFrame:
    wellness = _read_wellness(folder / "wellness.csv", report)
    heart_rate = _read_resting_hr(folder, report)
    days = wellness.index.union(heart_rate.index)
    calendar = pd.date_range(days.min(), days.max(), freq="D") if len(days) else days
    frame = pd.concat([wellness, heart_rate], axis=1).reindex(calendar)
    frame.index.name = "date"
    return frame[list(SIGNAL_NAMES)].astype(np.float64)


def _read_wellness(path: Path, report: CleaningReport) -> pd.DataFrame:
    table = _read_csv(path, ["effective_time_frame", *WELLNESS_COLUMNS], report)
    report.rows_read += len(table)
    table = table.assign(day=_days(table["effective_time_frame"], path, "effective_time_frame"))
    table = table.sort_values("effective_time_frame", kind="stable")
    duplicated = table["day"].duplicated(keep="last")
    report.drop("day reported twice (later report kept)", duplicated.sum())
    table = table[~duplicated].set_index("day")

    signals = pd.DataFrame(index=table.index)
    for column, name in WELLNESS_COLUMNS.items():
        values = _numeric(table[column], path, column, integer=True)
        zero = values == 0
        report.change(f"{column} 0 (unanswered) -> missing", zero.sum())
        values = values.mask(zero)
        if name == "stress":
            values = 6 - values
        signals[name] = _mask_out_of_range(values, name, report, f"{column}")
    return signals


def _read_resting_hr(folder: Path, report: CleaningReport) -> pd.DataFrame:
    fitbit = _read_resting_hr_json(folder / "resting_heart_rate.json", report)
    score_path = folder / "sleep_score.csv"
    fallback = pd.Series(dtype=np.float64)
    if score_path.is_file():
        scores = _read_csv(score_path, ["timestamp", "resting_heart_rate"], report)
        scores = scores.assign(day=_days(scores["timestamp"], score_path, "timestamp"))
        scores = scores.sort_values("timestamp", kind="stable").drop_duplicates("day", keep="last")
        fallback = _numeric(
            scores.set_index("day")["resting_heart_rate"],
            score_path,
            "resting_heart_rate",
            integer=False,
        )
        fallback = fallback.mask(fallback == 0)
    days = fitbit.index.union(fallback.index)
    fitbit, fallback = fitbit.reindex(days), fallback.reindex(days)
    report.change(
        "resting_hr from sleep_score.csv (no Fitbit daily value)",
        (fitbit.isna() & fallback.notna()).sum(),
    )
    merged = fitbit.fillna(fallback)
    return pd.DataFrame(
        {"resting_hr": _mask_out_of_range(merged, "resting_hr", report, "resting_hr")}
    )


def _read_resting_hr_json(path: Path, report: CleaningReport) -> pd.Series:
    if not path.is_file():
        report.notes.append(
            f"{path.parent.name}: no {path.name}, resting_hr from sleep_score.csv only"
        )
        return pd.Series(dtype=np.float64)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise DataSchemaError(path, f"not UTF-8 text (offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise DataSchemaError(path, f"not valid JSON ({error})") from None
    if not isinstance(entries, list):
        raise DataSchemaError(
            path, f"expected a JSON list of daily entries, got {type(entries).__name__}"
        )
    days, values = [], []
    for i, entry in enumerate(entries):
        try:
            day, value = entry["dateTime"], entry["value"]["value"]
        except (TypeError, KeyError):
            raise DataSchemaError(
                path, f"entry {i} lacks 'dateTime' or 'value' -> 'value': {entry!r:.80}"
            ) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DataSchemaError(path, f"entry {i} has non-numeric resting heart rate {value!r}")
        days.append(day)
        values.append(float(value))
    index = pd.DatetimeIndex(
        _parse_times(pd.Series(days, dtype=object), path, "dateTime")
    ).normalize()
    series = pd.Series(values, index=index, dtype=np.float64)
    series = series[~series.index.duplicated(keep="last")]
    report.change("resting_heart_rate.json value 0 -> missing", (series == 0).sum())
    return series.mask(series == 0)


def _read_csv(path: Path, columns: list[str], report: CleaningReport) -> pd.DataFrame:
    if not path.is_file():
        raise DataSchemaError(path.parent, f"missing file {path.name}")
    table = read_csv(path)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DataSchemaError(path, f"missing column(s) {', '.join(map(repr, missing))}")
    unused = [f"{path.name}:{c}" for c in table.columns if c not in columns]
    report.columns_dropped += [c for c in unused if c not in report.columns_dropped]
    return table[columns]


def _parse_times(values: pd.Series, path: Path, column: str) -> pd.Series:
    times = pd.to_datetime(values, errors="coerce", format="ISO8601", utc=False)
    if times.isna().any():
        bad = values[times.isna()].iloc[0]
        raise DataSchemaError(
            path, f"column {column!r} has a value that is not a date/time: {bad!r}"
        )
    return times


def _days(values: pd.Series, path: Path, column: str) -> pd.Series:
    """The calendar date of each timestamp as written, without converting its time zone."""
    times = _parse_times(values, path, column)
    if times.dt.tz is not None:
        times = times.dt.tz_localize(None)
    return times.dt.normalize()


def _numeric(values: pd.Series, path: Path, column: str, integer: bool) -> pd.Series:
    numbers = pd.to_numeric(values.str.strip().replace("", np.nan), errors="coerce")
    bad = numbers.isna() & values.str.strip().ne("")
    if not bad.any() and integer:
        bad = numbers.notna() & (numbers != numbers.round())
    if bad.any():
        kind = "whole-number" if integer else "numeric"
        raise DataSchemaError(
            path, f"column {column!r} has non-{kind} value {values[bad].iloc[0]!r}"
        )
    return numbers.astype(np.float64)


def _mask_out_of_range(
    values: pd.Series, name: str, report: CleaningReport, label: str
) -> pd.Series:
    spec = SIGNALS[SIGNAL_NAMES.index(name)]
    outside = values.notna() & ~values.between(spec.low, spec.high)
    report.change(
        f"{label} outside {spec.low:g}-{spec.high:g} {spec.unit} -> missing", outside.sum()
    )
    return values.mask(outside)


def make_windows(
    daily: dict[str, pd.DataFrame], days: int = WINDOW_DAYS, stride: int = 1
) -> Windows:
    """Every run of `days` consecutive complete days (all signals present), per participant.

    Windows start every `stride` days inside a complete run, so with `stride=1` they overlap.
    """
    if days < 1 or stride < 1:
        raise ValueError(f"days and stride must be >= 1, got days={days}, stride={stride}")
    signals, participants, starts = [], [], []
    for participant, frame in daily.items():
        values = frame[list(SIGNAL_NAMES)].to_numpy(np.float64)
        complete = ~np.isnan(values).any(axis=1)
        # run[i] = number of complete days ending at day i
        run = np.zeros(len(values), dtype=np.int64)
        for i, ok in enumerate(complete):
            run[i] = run[i - 1] + 1 if ok and i else int(ok)
        ends = [i for i in range(len(values)) if run[i] >= days and (run[i] - days) % stride == 0]
        for end in ends:
            signals.append(values[end - days + 1 : end + 1])
            participants.append(participant)
            starts.append(frame.index[end - days + 1])
    return Windows(
        signals=np.array(signals, dtype=np.float32).reshape(-1, days, len(SIGNAL_NAMES)),
        participant=np.array(participants, dtype=str),
        start=np.array(starts, dtype="datetime64[D]"),
    )


@dataclass(frozen=True)
class WindowSplit:
    """Training windows and two holdouts that share no day with them.

    `holdout_time`: the later weeks of the training participants (for privacy checks: is a
    window memorised?). `holdout_people`: every window of the held-out participants (does the
    generator describe people it never saw?).
    """

    train: Windows
    holdout_time: Windows
    holdout_people: Windows


def split_windows(
    windows: Windows, holdout_participants: tuple[str, ...], time_fraction: float = 0.2
) -> WindowSplit:
    """Split by participant, then hold out the last `time_fraction` of each training
    participant's windows in time; windows that would share a day across the cut are dropped."""
    if not 0 <= time_fraction < 1:
        raise ValueError(f"time_fraction must be in [0, 1), got {time_fraction}")
    unknown = set(holdout_participants) - set(windows.participant)
    if unknown:
        raise ValueError(f"holdout participants without windows: {', '.join(sorted(unknown))}")
    days = windows.signals.shape[1]
    train_mask = np.zeros(len(windows), dtype=bool)
    time_mask = np.zeros(len(windows), dtype=bool)
    for participant in np.unique(windows.participant):
        if participant in holdout_participants:
            continue
        own = np.flatnonzero(windows.participant == participant)
        starts = windows.start[own]
        if not time_fraction:
            train_mask[own] = True
            continue
        cut = np.sort(starts)[int(len(own) * (1 - time_fraction))]
        time_mask[own[starts >= cut]] = True
        train_mask[own[starts + np.timedelta64(days - 1, "D") < cut]] = True
    return WindowSplit(
        windows.subset(train_mask), windows.subset(time_mask), windows.select(holdout_participants)
    )


def signal_summary(daily: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Count, mean, std, min and max of each signal over all participants' days."""
    days = pd.concat(daily.values())[list(SIGNAL_NAMES)]
    return days.agg(["count", "mean", "std", "min", "max"]).T
