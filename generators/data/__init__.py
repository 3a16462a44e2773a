"""Loaders that turn the real datasets into clean tables, each with a report of what it dropped."""

from generators.data.osmi import load_osmi
from generators.data.pmdata import (
    Windows,
    WindowSplit,
    load_pmdata,
    make_windows,
    signal_summary,
    split_windows,
)
from generators.data.report import CleaningReport, DataSchemaError

__all__ = [
    "CleaningReport",
    "DataSchemaError",
    "WindowSplit",
    "Windows",
    "load_osmi",
    "load_pmdata",
    "make_windows",
    "signal_summary",
    "split_windows",
]
