"""What a loader did to its input: the cleaning report, and the error for a malformed file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class DataSchemaError(ValueError):
    """A data file or folder does not have the expected layout, columns or types."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass
class CleaningReport:
    """Rows read and kept, rows dropped by reason, values changed by reason, columns not used,
    and notes on anything else a reader of the data should know.

    `rows_read - rows_kept == sum(dropped.values())` always holds.
    """

    source: str
    rows_read: int = 0
    rows_kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    columns_dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def drop(self, reason: str, rows: int) -> None:
        """Record `rows` rows removed for `reason` (a zero count is not recorded)."""
        if rows:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(rows)

    def change(self, reason: str, values: int) -> None:
        """Record `values` values rewritten for `reason` (a zero count is not recorded)."""
        if values:
            self.changed[reason] = self.changed.get(reason, 0) + int(values)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(self.dropped),
            "changed": dict(self.changed),
            "columns_dropped": list(self.columns_dropped),
            "notes": list(self.notes),
        }
