"""`mano evaluate reference`, `mano generate cohort` and `mano train predictor` end to end."""

import json

import numpy as np

from generators.files import file_sha256
from mano_gym.assets import PREDICTORS, read_manifest
from mano_gym.cli import main
from mano_gym.cohorts.cohort import STATIC_FEATURES, Cohort
from predictor.model import RiskPredictor
from tests.conftest import DATA


def test_evaluate_reference_prints_every_check_and_exits_1_on_a_failure(capsys):
    # 4,000 patients: too few for every check to pass (sampling noise near tight bounds; the
    # 20,000-patient benchmark cohort passes all, tests/test_reference.py), so the exit code
    # says which it was
    code = main(["evaluate", "reference", "--patients", "4000", "--json"])
    metrics = json.loads(capsys.readouterr().out)
    assert code == (0 if metrics["passed"] == 1.0 else 1)
    assert metrics["passed"] >= 0.9
    assert 0.18 <= metrics["untreated_remission.week_12"] <= 0.28


def test_generate_cohort_writes_a_loadable_cohort(tmp_path):
    out = tmp_path / "cohort.npz"
    assert main(["generate", "cohort", "--n", "40", "--seed", "3", "--out", str(out)]) == 0
    cohort = Cohort.load(out)
    assert len(cohort) == 40 and cohort.static.shape == (40, len(STATIC_FEATURES))
    again = tmp_path / "again.npz"
    assert main(["generate", "cohort", "--n", "40", "--seed", "3", "--out", str(again)]) == 0
    np.testing.assert_array_equal(Cohort.load(again).first_signals, cohort.first_signals)


def test_train_predictor_writes_both_models_and_their_manifest_entries(tmp_path, capsys):
    small = [
        "--set", "cohort.train_patients=300",
        "--set", "cohort.eval_patients=100",
        "--set", "cohort.weeks=3",
        "--set", "predictor.epochs=2",
    ]  # fmt: skip
    args = ["train", "predictor", "--data", str(DATA), "--out", str(tmp_path), *small]
    assert main(args) == 0
    entries = read_manifest(tmp_path)["artifacts"]
    for kind, name in PREDICTORS.items():
        entry = entries[name]
        assert entry["sha256"] == file_sha256(tmp_path / entry["file"])
        assert entry["cohort"]["train_patients"] == 300
        assert entry["hyperparameters"]["epochs"] == 2
        assert set(entry["inputs"]) == {"profiles", "rhythms"}
        assert f"lstm.{kind}.accuracy" in entry["metrics"]
        RiskPredictor.load(tmp_path / entry["file"])


def test_train_predictor_rejects_an_unknown_setting(tmp_path, capsys):
    args = ["train", "predictor", "--out", str(tmp_path), "--set", "cohort.nope=1"]
    assert main(args) == 2
    assert "cohort.nope" in capsys.readouterr().err
