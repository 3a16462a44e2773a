"""`mano generate trials`, `mano train world-model` and `mano evaluate world-model` end to end;
the shipped world model's floors through the command users run."""

import json

import numpy as np

from generators.files import file_sha256
from generators.signals import SIGNAL_NAMES
from mano_gym.assets import load_cohort, read_manifest
from mano_gym.cli import main
from mano_gym.cohorts.trials import Trials
from mano_gym.dynamics.world_model import WorldModel


def test_generate_trials_writes_loadable_trajectories(tmp_path):
    out = tmp_path / "trials.npz"
    args = ["generate", "trials", "--cohort", "eval", "--weeks", "2", "--out", str(out)]
    assert main(args) == 0
    trials = Trials.load(out)
    assert len(trials) == len(load_cohort("eval")) and trials.weeks == 2


def test_generate_trials_names_a_bad_cohort(tmp_path, capsys):
    assert main(["generate", "trials", "--cohort", "nope", "--out", str(tmp_path / "t.npz")]) == 2
    assert "cohort must be 'train', 'eval' or a cohort .npz" in capsys.readouterr().err


def test_train_world_model_writes_cohorts_model_and_manifest(tmp_path, capsys):
    small = [
        "--set", "cohort.train_patients=200",
        "--set", "cohort.eval_patients=120",
        "--set", "cohort.weeks=3",
        "--set", "replicas=1",
        "--set", "world_model.hidden=8",
        "--epochs", "1",
    ]  # fmt: skip
    assert main(["train", "world-model", "--out", str(tmp_path), *small]) == 0
    capsys.readouterr()
    entries = read_manifest(tmp_path)["artifacts"]
    for name in ("cohort_train", "cohort_eval", "world_model"):
        assert entries[name]["sha256"] == file_sha256(tmp_path / entries[name]["file"])
    entry = entries["world_model"]
    assert entry["hyperparameters"]["hidden"] == 8 and entry["hyperparameters"]["epochs"] == 1
    assert entry["inputs"]["cohort_train"] == entries["cohort_train"]["sha256"]
    assert {f"mae_ratio.{name}" for name in SIGNAL_NAMES} <= set(entry["metrics"])
    assert "policy_rank_spearman" in entry["metrics"]
    assert WorldModel.load(tmp_path / entries["world_model"]["file"]).network.config["hidden"] == 8


def test_evaluate_world_model_meets_the_floors_with_spec_names(capsys):
    assert main(["evaluate", "world-model", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    for name in SIGNAL_NAMES:
        assert metrics[f"mae_ratio.{name}"] <= 1.25, name
    assert metrics["policy_rank_spearman"] >= 0.9
    assert all(np.isfinite(v) for v in metrics.values())
