"""The reference simulator against the published facts it is parameterised from.

    python -m benchmarks.reference [--patients 20000] [--seed 0]

Writes `benchmarks/results/reference.json` (`mano evaluate reference --json` names) and
`benchmarks/results/reference.md` (the table the README quotes).
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks.publish import write_results
from mano_gym.assets import load_profile_generator, load_rhythm_generator
from mano_gym.build.reference_validation import (
    ENROLMENT_DEPRESSION,
    Check,
    checks_to_metrics,
    validate_reference,
)
from mano_gym.cohorts.cohort import TRAIN_COHORT_SEED
from mano_gym.cohorts.sampling import make_cohort


def markdown(checks: list[Check], patients: int, enrolled: int) -> str:
    lines = [
        f"Cohort of {patients:,} synthetic patients; the {enrolled:,} with moderate or worse"
        " depression (DASS-42 >= 14) are enrolled in every virtual trial.",
        "",
        "| check | value | target | | source |",
        "|---|---:|---|---|---|",
        *(
            f"| `{c.name}` | {c.value:.3f} | {c.target} | {'pass' if c.passed else 'FAIL'}"
            f" | {c.source} |"
            for c in checks
        ),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=TRAIN_COHORT_SEED)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    torch.set_num_threads(1)
    cohort = make_cohort(
        args.patients, args.seed, load_profile_generator(), load_rhythm_generator()
    )
    checks = validate_reference(cohort, seed=args.seed)
    enrolled = int((cohort.patients.first_scores[:, 0] >= ENROLMENT_DEPRESSION).sum())
    write_results("reference", checks_to_metrics(checks), markdown(checks, args.patients, enrolled))
    print(f"evaluated in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
