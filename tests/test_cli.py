import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from generators.signals import SIGNAL_NAMES
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


def test_generate_profiles_and_rhythms(tmp_path):
    profiles, rhythms = tmp_path / "profiles.csv", tmp_path / "rhythms.npz"
    assert (
        main(
            [
                "generate",
                "profiles",
                "--n",
                "12",
                "--seed",
                "1",
                "--out",
                str(profiles),
                "--condition",
                "gender=female",
            ]
        )
        == 0
    )
    table = pd.read_csv(profiles)
    assert len(table) == 12 and (table["gender"] == "female").all()
    assert main(["generate", "rhythms", "--n", "9", "--seed", "1", "--out", str(rhythms)]) == 0
    saved = np.load(rhythms)
    assert saved["signals"].shape == (9, 7, 5)
    assert tuple(saved["signal_names"]) == SIGNAL_NAMES


def test_generate_refuses_an_unverified_pickle(tmp_path, capsys):
    model = tmp_path / "model.pt"
    model.write_bytes(b"not a model")
    assert (
        main(
            [
                "generate",
                "profiles",
                "--n",
                "2",
                "--out",
                str(tmp_path / "p.csv"),
                "--model",
                str(model),
            ]
        )
        == 2
    )
    assert "--trusted" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_evaluate_generators_json_uses_the_documented_names(capsys):
    assert main(["evaluate", "generators", "--data", str(DATA), "--samples", "300", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    documented = {
        "profiles.column_shapes",
        "profiles.column_pair_trends",
        "profiles.baseline_independent.column_pair_trends",
        "rhythms.distribution_score",
        "rhythms.discriminative_score",
        "rhythms.baseline_ar1.discriminative_score",
        "rhythms.predictive_score_ratio",
        "privacy.profiles.exact_copies",
        "privacy.profiles.dcr_overfitting_protection",
        "privacy.rhythms.exact_copies",
        "privacy.rhythms.dcr_overfitting_protection",
        "privacy.profiles.mia_auc",
        "privacy.rhythms.mia_auc",
    }
    assert documented <= set(metrics)
    assert all(isinstance(value, (int, float)) for value in metrics.values())
