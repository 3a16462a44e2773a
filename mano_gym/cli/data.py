"""`mano data ...`: look at a real-data folder through Mano's loaders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from generators.data.describe import describe
from generators.signals import SIGNALS


def register(topics: dict[str, argparse._SubParsersAction]) -> None:
    inspect = topics["data"].add_parser(
        "inspect",
        help="print the cleaning report and per-signal summary of a data folder",
        description="PATH is a data folder holding osmi-2014/survey.csv and/or pmdata/, "
        "an OSMI survey CSV, or a PMData folder of participants (p01, p02, ...).",
    )
    inspect.add_argument("path", type=Path, metavar="PATH")
    inspect.add_argument("--json", action="store_true", help="print one JSON object instead")
    inspect.set_defaults(run=run_inspect)


def run_inspect(args: argparse.Namespace) -> int:
    summary = describe(args.path)
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    console = Console()
    if "osmi" in summary:
        osmi = summary["osmi"]
        _print_report(console, "OSMI survey", osmi["report"])
        console.print(f"{len(osmi['columns'])} columns: {', '.join(osmi['columns'])}")
        console.print(f"gender: {osmi['gender']}")
    if "pmdata" in summary:
        pmdata = summary["pmdata"]
        _print_report(console, "PMData wellness reports", pmdata["report"])
        _print_participants(console, pmdata["participants"])
        _print_signals(console, pmdata["signals"])
    return 0


def _print_report(console: Console, title: str, report: dict) -> None:
    table = Table(title=f"{title}: {report['source']}", title_justify="left")
    table.add_column("step")
    table.add_column("count", justify="right")
    table.add_row("rows read", str(report["rows_read"]))
    for reason, n in report["dropped"].items():
        table.add_row(f"dropped: {reason}", str(n))
    table.add_row("rows kept", str(report["rows_kept"]), style="bold")
    for reason, n in report["changed"].items():
        table.add_row(f"changed: {reason}", str(n))
    console.print(table)
    for note in report["notes"]:
        console.print(f"note: {note}")
    if report["columns_dropped"]:
        console.print(f"columns not used: {', '.join(report['columns_dropped'])}")


def _print_participants(console: Console, participants: dict[str, dict[str, int]]) -> None:
    table = Table(title="PMData participants", title_justify="left")
    for column in ("participant", "days", "complete days", "7-day windows"):
        table.add_column(column, justify="right")
    for name, row in participants.items():
        table.add_row(name, str(row["days"]), str(row["complete_days"]), str(row["windows"]))
    totals = [
        sum(row[key] for row in participants.values())
        for key in ("days", "complete_days", "windows")
    ]
    table.add_row("total", *map(str, totals), style="bold")
    console.print(table)


def _print_signals(console: Console, signals: dict[str, dict[str, float]]) -> None:
    table = Table(title="PMData daily signals (real units)", title_justify="left")
    for column in ("signal", "unit", "count", "mean", "std", "min", "max"):
        table.add_column(column, justify="right")
    for spec in SIGNALS:
        row = signals[spec.name]
        table.add_row(
            spec.name,
            spec.unit,
            f"{row['count']:.0f}",
            *(f"{row[key]:.2f}" for key in ("mean", "std", "min", "max")),
        )
    console.print(table)
