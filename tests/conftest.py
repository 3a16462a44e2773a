"""Fixtures on the real datasets in ../shared/data; without them the tests fail, never skip."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import torch

from generators.data import load_osmi, load_pmdata, make_windows

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OSMI_CSV = DATA / "osmi-2014" / "survey.csv"
PMDATA = DATA / "pmdata"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not (OSMI_CSV.is_file() and PMDATA.is_dir()):
        raise pytest.UsageError(f"the real datasets are expected in {DATA} (see its README)")


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """One torch thread for the whole suite: its batches are small, where intra-op threads only
    contend (and on a busy 2-core machine slow single steps down many times over)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def osmi() -> tuple[pd.DataFrame, object]:
    return load_osmi(OSMI_CSV)


@pytest.fixture(scope="session")
def pmdata() -> tuple[dict[str, pd.DataFrame], object]:
    return load_pmdata(PMDATA)


@pytest.fixture(scope="session")
def windows(pmdata):
    return make_windows(pmdata[0])


@pytest.fixture
def participant_copy(tmp_path: Path):
    """A writable copy of one real participant folder inside a fresh PMData folder."""

    def copy(name: str = "p01") -> Path:
        target = tmp_path / "pmdata" / name
        shutil.copytree(PMDATA / name, target)
        for file in target.iterdir():
            file.chmod(0o644)
        return target

    return copy
