"""What the loaders keep of the real data: rows read, kept and dropped, and 7-day windows.

    python -m benchmarks.data [--data ../shared/data]

Writes `benchmarks/results/data.json` (the full `generators.data.describe` summary) and
`benchmarks/results/data.md` (the tables the README quotes).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from benchmarks.publish import write_results
from generators.data.describe import describe


def markdown(summary: dict) -> str:
    """The README's data tables, from a `describe` summary of a folder with both datasets."""
    lines = [
        "| dataset | rows read | rows kept | rows dropped, by reason |",
        "|---|---:|---:|---|",
    ]
    for name, key in (("OSMI survey", "osmi"), ("PMData wellness reports", "pmdata")):
        report = summary[key]["report"]
        why = "; ".join(f"{reason}: {n}" for reason, n in report["dropped"].items())
        lines.append(f"| {name} | {report['rows_read']:,} | {report['rows_kept']:,} | {why} |")
    participants = summary["pmdata"]["participants"]
    lines += [
        "",
        f"7-day windows of complete days per participant ({summary['pmdata']['windows']} in all):",
        "",
        "| " + " | ".join(participants) + " |",
        "|" + "---:|" * len(participants),
        "| " + " | ".join(str(row["windows"]) for row in participants.values()) + " |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    summary = describe(args.data)
    write_results("data", summary, markdown(summary))


if __name__ == "__main__":
    main()
