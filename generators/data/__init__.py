"""Loaders that turn the real datasets into clean tables, each with a report of what it dropped."""

from generators.data.osmi import load_osmi
from generators.data.pmdata import Windows, load_pmdata, make_windows, signal_summary
from generators.data.report import CleaningReport, DataSchemaError

__all__ = [
    "CleaningReport",
    "DataSchemaError",
    "Windows",
    "load_osmi",
    "load_pmdata",
    "make_windows",
    "signal_summary",
]
