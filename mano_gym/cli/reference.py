"""`mano evaluate reference` (the simulator against its sources), `mano generate cohort`."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.table import Table

from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.build.reference_validation import checks_to_metrics, validate_reference
from mano_gym.cli.options import (
    add_threads_option,
    limit_threads,
    output_file,
    positive_int,
    seed,
)
from mano_gym.cohorts.cohort import TRAIN_COHORT_SEED
from mano_gym.cohorts.sampling import make_cohort

VALIDATION_PATIENTS = 20000


def register(topics: dict[str, argparse._SubParsersAction]) -> None:
    evaluate = topics["evaluate"].add_parser(
        "reference", help="check the reference simulator against the facts it is built from"
    )
    evaluate.add_argument(
        "--patients",
        type=positive_int,
        default=VALIDATION_PATIENTS,
        help="cohort size (all enrolled "
        "patients with moderate or worse depression take part in each trial)",
    )
    evaluate.add_argument("--seed", type=seed, default=TRAIN_COHORT_SEED)
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    add_threads_option(evaluate)
    evaluate.set_defaults(run=run_evaluate)

    cohort = topics["generate"].add_parser(
        "cohort", help="sample synthetic patients (profile, rhythm, prior severity) to .npz"
    )
    cohort.add_argument("--n", type=positive_int, required=True, help="how many patients")
    cohort.add_argument("--seed", type=seed, default=0)
    cohort.add_argument("--out", type=output_file, required=True, help=".npz file to write")
    add_threads_option(cohort)
    cohort.set_defaults(run=run_generate_cohort)


def run_evaluate(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        cohort = make_cohort(
            args.patients, args.seed, load_profile_generator(), load_rhythm_generator()
        )
        checks = validate_reference(cohort, seed=args.seed)
    status = 0 if all(c.passed for c in checks) else 1
    if args.json:
        print(json.dumps(checks_to_metrics(checks), indent=2))
        return status
    table = Table(title="reference simulator validation", title_justify="left")
    for column in ("check", "value", "target", "", "source"):
        table.add_column(column)
    for check in checks:
        table.add_row(
            check.name,
            f"{check.value:.3f}",
            check.target,
            "pass" if check.passed else "FAIL",
            check.source,
        )
    Console().print(table)
    return status


def run_generate_cohort(args: argparse.Namespace) -> int:
    with limit_threads(args.threads):
        cohort = make_cohort(args.n, args.seed, load_profile_generator(), load_rhythm_generator())
    cohort.save(args.out)
    print(f"wrote {len(cohort)} patients to {args.out}")
    return 0
