"""A build killed at any point leaves its --out a whole asset set: the one it had before."""

import shutil
import signal
import subprocess
import sys
import time
import warnings

import pytest

from mano_gym.assets import (
    MANIFEST,
    SHIPPED,
    StaleArtifactWarning,
    read_manifest,
    verified_artifact,
)
from tests.conftest import DATA

TINY_PREDICTOR = [
    "--set", "cohort.train_patients=300",
    "--set", "cohort.eval_patients=100",
    "--set", "cohort.weeks=3",
    "--set", "predictor.epochs=2",
]  # fmt: skip


@pytest.mark.parametrize("after_seconds", [1.0, 2.5, 4.0])
def test_a_killed_predictor_build_leaves_the_old_set_whole(tmp_path, after_seconds):
    out = tmp_path / "out"
    out.mkdir()
    for entry in read_manifest()["artifacts"].values():
        shutil.copyfile(SHIPPED / entry["file"], out / entry["file"])
    shutil.copyfile(SHIPPED / MANIFEST, out / MANIFEST)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = ["train", "predictor", "--data", str(DATA), "--out", str(out), *TINY_PREDICTOR]
    build = subprocess.Popen(
        [sys.executable, "-m", "mano_gym.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(after_seconds)
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert build.returncode == -signal.SIGKILL  # killed mid-build, not finished
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleArtifactWarning)
        for name in read_manifest(out)["artifacts"]:
            verified_artifact(name, out)
