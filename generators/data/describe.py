"""One summary of a data folder: what each loader kept and dropped, and the signals' statistics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from generators.data.osmi import load_osmi
from generators.data.pmdata import PARTICIPANT_PATTERN, load_pmdata, make_windows, signal_summary

OSMI_FILE = Path("osmi-2014") / "survey.csv"
PMDATA_FOLDER = Path("pmdata")
STATISTICS = ("count", "mean", "std", "min", "max")


def find_sources(path: str | Path) -> tuple[Path | None, Path | None]:
    """(OSMI survey, PMData folder) at `path`: a data folder holding `osmi-2014/survey.csv`
    and/or `pmdata/`, a survey CSV, or a PMData folder of participants."""
    path = Path(path)
    if path.is_file():
        return path, None
    if not path.is_dir():
        raise FileNotFoundError(f"no such file or folder: {path}")
    if any(PARTICIPANT_PATTERN.fullmatch(p.name) for p in path.iterdir() if p.is_dir()):
        return None, path
    osmi, pmdata = path / OSMI_FILE, path / PMDATA_FOLDER
    found = (osmi if osmi.is_file() else None, pmdata if pmdata.is_dir() else None)
    if found == (None, None):
        raise FileNotFoundError(
            f"{path} holds neither {OSMI_FILE} nor {PMDATA_FOLDER}/ nor participant folders"
        )
    return found


def describe(path: str | Path) -> dict:
    """Load what `path` holds (see `find_sources`) and summarise it as plain JSON-able data."""
    osmi_path, pmdata_path = find_sources(path)
    result: dict = {}
    if osmi_path is not None:
        profiles, report = load_osmi(osmi_path)
        result["osmi"] = {
            "report": report.to_dict(),
            "columns": list(profiles.columns),
            "gender": {k: int(v) for k, v in profiles["gender"].value_counts().items()},
            "age": _statistics(profiles["age"].agg(list(STATISTICS))),
        }
    if pmdata_path is not None:
        daily, report = load_pmdata(pmdata_path)
        windows = make_windows(daily)
        result["pmdata"] = {
            "report": report.to_dict(),
            "participants": {
                name: {
                    "days": len(frame),
                    "complete_days": int(frame.notna().all(axis=1).sum()),
                    "windows": int((windows.participant == name).sum()),
                }
                for name, frame in daily.items()
            },
            "windows": len(windows),
            "signals": {name: _statistics(row) for name, row in signal_summary(daily).iterrows()},
        }
    return result


def _statistics(row: pd.Series) -> dict[str, float]:
    return {key: float(row[key]) for key in STATISTICS}
