"""The kill matrix: every build command killed at several points, and what its --out holds after.

    python -m benchmarks.kill_matrix [--data ../shared/data]

Each build (tiny settings) first runs unbroken into a copy of the shipped set to time it; then,
on a fresh copy each time, it is killed with SIGKILL at 10%, 40%, 70% and 95% of that time.
After every kill the --out folder must hold a whole asset set: every artifact verifies against
its hash, and the set is either the old one (byte for byte) or the complete new one. (A new set
can be stale in part, as it should say: a rebuilt world model leaves the policy beside it
trained on the old one, and loading that policy warns.)

Writes `benchmarks/results/kill_matrix.{json,md}`.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks.publish import write_results
from mano_gym.assets import (
    MANIFEST,
    SHIPPED,
    StaleArtifactWarning,
    read_manifest,
    verified_artifact,
)

FRACTIONS = (0.1, 0.4, 0.7, 0.95)
BUILDS = {  # name: mano arguments (the data folder and --out are added)
    "train generators": [
        "train", "generators", "--epochs", "2", "--set", "profiles.batch_size=100",
        "--set", "rhythms.hidden_dim=8", "--set", "rhythms.embedding_iterations=20",
        "--set", "rhythms.supervised_iterations=20", "--set", "rhythms.joint_iterations=8",
        "--set", "rhythms.average_last=0", "--set", "evaluation_samples=50",
        "--set", "discriminator_repeats=1",
    ],
    "train predictor": [
        "train", "predictor", "--set", "cohort.train_patients=300",
        "--set", "cohort.eval_patients=100", "--set", "cohort.weeks=3",
        "--set", "predictor.epochs=2",
    ],
    "train world-model": [
        "train", "world-model", "--set", "cohort.train_patients=300",
        "--set", "cohort.eval_patients=200", "--set", "cohort.weeks=3", "--set", "replicas=1",
        "--set", "world_model.hidden=8", "--epochs", "1",
    ],
    "train --agent hybrid-ppo (publishing its policy)": [
        "train", "--agent", "hybrid-ppo", "--timesteps", "768", "--set", "num_envs=64",
        "--set", "num_minibatches=4",
    ],
}  # fmt: skip


def _fresh_set(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True)
    for entry in read_manifest()["artifacts"].values():
        shutil.copyfile(SHIPPED / entry["file"], folder / entry["file"])
    shutil.copyfile(SHIPPED / MANIFEST, folder / MANIFEST)
    return _contents(folder)


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _whole(folder: Path) -> bool:
    """Every artifact of `folder`'s manifest is there and verifies against its hash."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StaleArtifactWarning)
            for name in read_manifest(folder)["artifacts"]:
                verified_artifact(name, folder)
    except (ValueError, FileNotFoundError):
        return False
    return True


def _command(args: list[str], data: Path, out: Path, logdir: Path) -> list[str]:
    extra = ["--out", str(out)]
    if args[:2] == ["train", "--agent"]:
        extra += ["--logdir", str(logdir)]
    elif args[1] in ("generators", "predictor"):
        extra += ["--data", str(data)]
    if args[1] == "generators":
        extra += ["--checkpoint", str(logdir / "timegan.ckpt")]
    return [sys.executable, "-m", "mano_gym.cli", *args, *extra]


def kill_matrix(data: Path) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        for b, (name, args) in enumerate(BUILDS.items()):
            out, logdir = root / f"{b}-unbroken" / "out", root / f"{b}-unbroken" / "runs"
            _fresh_set(out)
            start = time.perf_counter()
            subprocess.run(_command(args, data, out, logdir), check=True, capture_output=True)
            seconds = time.perf_counter() - start
            rows = []
            for k, fraction in enumerate(FRACTIONS):
                out, logdir = root / f"{b}-{k}" / "out", root / f"{b}-{k}" / "runs"
                old = _fresh_set(out)
                build = subprocess.Popen(
                    _command(args, data, out, logdir),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(fraction * seconds)
                build.send_signal(signal.SIGKILL)
                build.wait()
                after = _contents(out)
                holds = "old" if after == old else ("new" if _whole(out) else "BROKEN")
                rows.append(
                    {
                        "at": fraction,
                        "killed": build.returncode == -signal.SIGKILL,
                        "whole": _whole(out),
                        "holds": holds,
                    }
                )
            results[name] = {"seconds": seconds, "kills": rows}
    return results


def markdown(m: dict) -> str:
    lines = [
        f"{m['machine']}. Each build killed (SIGKILL) at the share of its unbroken time shown;"
        " what --out holds after: `old` (the set it had, byte for byte), `new` (the complete"
        " new set), or `BROKEN` (a set that does not verify).",
        "",
        "| build | unbroken | " + " | ".join(f"kill at {f:.0%}" for f in FRACTIONS) + " |",
        "|---|---:|" + "---|" * len(FRACTIONS),
    ]
    for name, result in m["builds"].items():
        cells = [
            f"{row['holds']}{'' if row['killed'] else ' (had finished)'}" for row in result["kills"]
        ]
        lines.append(f"| `mano {name}` | {result['seconds']:.0f} s | " + " | ".join(cells) + " |")
    whole = sum(row["whole"] for r in m["builds"].values() for row in r["kills"])
    total = sum(len(r["kills"]) for r in m["builds"].values())
    lines += ["", f"Whole asset sets after {whole} of {total} kills."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    args = parser.parse_args(argv)
    metrics = {
        "machine": f"{platform.machine()} CPU, {os.cpu_count()} cores",
        "builds": kill_matrix(args.data.resolve()),
    }
    write_results("kill_matrix", metrics, markdown(metrics))


if __name__ == "__main__":
    main()
