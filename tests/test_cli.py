import json
import os
import subprocess
import sys
from pathlib import Path

from mano_gym.cli import main
from tests.conftest import DATA, PMDATA


def test_mano_command_inspects_the_real_data():
    mano = Path(sys.executable).parent / "mano"  # the installed console script
    out = subprocess.run(
        [str(mano), "data", "inspect", str(DATA)],
        capture_output=True,
        text=True,
        env=os.environ | {"COLUMNS": "120"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    for text in ("rows read", "1259", "1233", "1445", "1430", "557", "resting_hr"):
        assert text in out.stdout


def test_inspect_json(capsys):
    assert main(["data", "inspect", str(PMDATA), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary) == {"pmdata"}
    assert summary["pmdata"]["windows"] == sum(
        p["windows"] for p in summary["pmdata"]["participants"].values()
    )
    assert set(summary["pmdata"]["signals"]["mood"]) == {"count", "mean", "std", "min", "max"}


def test_inspect_bad_path_is_a_clear_error(tmp_path, capsys):
    assert main(["data", "inspect", str(tmp_path)]) == 2
    assert "holds neither" in capsys.readouterr().err
