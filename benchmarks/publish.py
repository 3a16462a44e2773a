"""Where every benchmark writes: `results/NAME.json` (its metrics) and `results/NAME.md` (the
table the README quotes), the table also printed."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def write_results(name: str, metrics: dict, table: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(table)
    print(table, end="")
