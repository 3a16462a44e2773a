import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generators.files import file_sha256
from generators.signals import SIGNAL_NAMES
from generators.splits import data_files
from generators.timegan import TimeGAN
from mano_gym.assets import PROFILES, RHYTHMS, read_manifest
from mano_gym.build.manifest import data_hashes
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


TINY_GENERATORS = [
    "--epochs", "1",
    "--set", "rhythms.hidden_dim=4",
    "--set", "rhythms.embedding_iterations=3",
    "--set", "rhythms.supervised_iterations=3",
    "--set", "rhythms.joint_iterations=4",
    "--set", "evaluation_samples=100",
    "--set", "discriminator_repeats=1",
]  # fmt: skip


@pytest.mark.slow  # trains both generators through the CLI; test_timegan resumes in-process
def test_train_generators_writes_both_models_and_resumes_timegan(tmp_path, capsys):
    assets, checkpoint = tmp_path / "assets", tmp_path / "run" / "timegan.ckpt"
    args = ["train", "generators", "--data", str(DATA), "--out", str(assets)]
    assert main([*args, "--checkpoint", str(checkpoint), *TINY_GENERATORS]) == 0
    entries = read_manifest(assets)["artifacts"]
    for name in (PROFILES, RHYTHMS):
        assert entries[name]["sha256"] == file_sha256(assets / entries[name]["file"])
        assert entries[name]["data"] == data_hashes(data_files(DATA), DATA)
    assert entries[RHYTHMS]["hyperparameters"]["joint_iterations"] == 4
    assert "rhythms.holdout_people.discriminative_score" in entries[RHYTHMS]["metrics"]

    def rhythms_file():
        return assets / read_manifest(assets)["artifacts"][RHYTHMS]["file"]

    first = TimeGAN.load(rhythms_file()).sample(10, seed=0)

    # from the checkpoint of the finished run: the same model again
    again = ["--checkpoint", str(checkpoint), "--resume", *TINY_GENERATORS]
    assert main([*args, *again]) == 0
    np.testing.assert_array_equal(TimeGAN.load(rhythms_file()).sample(10, seed=0), first)
    # another config cannot continue it
    assert main([*args, *again, "--set", "rhythms.hidden_dim=8"]) == 2
    assert "hidden_dim" in capsys.readouterr().err


@pytest.mark.slow  # trains both generators through the CLI
def test_train_generators_with_an_epsilon_records_the_guarantee_of_the_rhythms_only(
    tmp_path, capsys
):
    assets = tmp_path / "assets"
    args = ["train", "generators", "--data", str(DATA), "--out", str(assets), "--dp-epsilon", "3"]
    assert main([*args, "--checkpoint", str(tmp_path / "ckpt"), *TINY_GENERATORS]) == 0
    entries = read_manifest(assets)["artifacts"]
    privacy = entries[RHYTHMS]["privacy"]
    assert privacy["unit"] == "participant" and privacy["epsilon"] <= 3.0
    assert entries[RHYTHMS]["hyperparameters"]["dp_epsilon"] == 3.0
    assert TimeGAN.load(assets / entries[RHYTHMS]["file"]).privacy == privacy
    assert "privacy" not in entries[PROFILES]
    out = capsys.readouterr().out
    assert "not differentially private" in out and "-DP per participant" in out


@pytest.mark.slow  # the full generator evaluation (about a minute)
def test_evaluate_generators_json_uses_the_documented_names(capsys):
    fast = ["--samples", "300", "--discriminator-repeats", "1"]
    assert main(["evaluate", "generators", "--data", str(DATA), *fast, "--json"]) == 0
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["generate", "rhythms", "--n", "0", "--out", "{tmp}/r.npz"],
            "--n: must be an integer >= 1",
        ),
        (
            ["generate", "profiles", "--n", "-3", "--out", "{tmp}/p.csv"],
            "--n: must be an integer >= 1",
        ),
        (["generate", "rhythms", "--n", "5", "--out", "{tmp}/missing/r.npz"], "does not exist"),
        (["generate", "cohort", "--n", "5", "--out", "{tmp}"], "is a folder"),
        (["generate", "trials", "--weeks", "0", "--out", "{tmp}/t.npz"], "--weeks: must be an"),
        (["train", "world-model", "--epochs", "0"], "--epochs: must be an integer >= 1"),
        (["train", "predictor", "--seed", "-1"], "--seed: must be an integer >= 0"),
        (["train", "--agent", "hybrid-ppo", "--timesteps", "0"], "--timesteps: must be an"),
        (["evaluate", "agent", "--agent", "control", "--episodes", "0"], "--episodes: must be"),
        (["evaluate", "generators", "--samples", "many"], "expected an integer, got 'many'"),
        (["demo", "--threads", "0"], "--threads: must be an integer >= 1"),
    ],
)
def test_command_line_numbers_and_output_files_are_checked_before_any_work(
    args, message, tmp_path, capsys
):
    with pytest.raises(SystemExit) as ended:
        main([arg.replace("{tmp}", str(tmp_path)) for arg in args])
    assert ended.value.code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
