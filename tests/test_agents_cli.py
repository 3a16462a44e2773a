"""`mano train --agent`, `mano evaluate agent` and `mano demo` end to end."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from agents.catalog import load_agent
from agents.evaluation import evaluate_policy
from mano_gym.assets import verified_artifact
from mano_gym.cli import main

SPEC_KEYS = {
    "mean_return",
    "cure_rate",
    "mean_weeks",
    "mean_intensity",
    "safety_events",
    "episodes",
}


@pytest.mark.parametrize(
    ("agent", "extra"),
    [
        ("hybrid-ppo", ["--set", "num_envs=32", "--set", "num_minibatches=4"]),
        ("sb3-ppo", ["--set", "n_envs=1"]),
        ("sb3-a2c", ["--set", "n_envs=1", "--encoding", "box"]),
        ("sb3-sac", ["--set", "n_envs=1"]),
    ],
)
def test_every_agent_trains_a_few_hundred_steps_and_evaluates(agent, extra, tmp_path, capsys):
    args = ["train", "--agent", agent, "--timesteps", "384", "--logdir", str(tmp_path), *extra]
    assert main(args) == 0
    run = tmp_path / f"{agent}-seed0"
    assert any(run.iterdir())
    capsys.readouterr()
    assert main(["evaluate", "agent", "--agent", str(run), "--episodes", "40", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= SPEC_KEYS and metrics["episodes"] == 40


def test_train_without_topic_or_agent_is_a_clear_error(capsys):
    assert main(["train"]) == 2
    assert "needs a topic" in capsys.readouterr().err


def test_evaluate_reports_the_true_cure_rate_under_reference_dynamics(capsys):
    args = ["evaluate", "agent", "--agent", "fixed-cbt", "--dynamics", "reference", "--json"]
    assert main(args) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert 0.0 <= metrics["true_cure_rate"] <= 1.0
    assert metrics["treatment_mix.cbt"] == 1.0 and metrics["mean_intensity"] == pytest.approx(0.5)


def test_unknown_agent_is_named(capsys):
    assert main(["evaluate", "agent", "--agent", "magic", "--json"]) == 2
    assert "unknown agent 'magic'" in capsys.readouterr().err


@pytest.mark.parametrize("dynamics", ["world_model", "reference"])
def test_shipped_policy_beats_stepped_care_on_held_out_patients(dynamics):
    verified_artifact("policy")  # hash-checked before use
    shipped = evaluate_policy(load_agent("default"), "eval", dynamics, seed=2)
    stepped = evaluate_policy(load_agent("stepped-care"), "eval", dynamics, seed=2)
    assert shipped["mean_return"] > stepped["mean_return"]
    if dynamics == "reference":  # the patients really got better, not only the predictor
        assert shipped["true_cure_rate"] > stepped["true_cure_rate"]


def test_demo_prints_the_weeks_and_saves_a_figure(tmp_path, capsys):
    out = tmp_path / "demo.png"
    assert main(["demo", "--seed", "3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "week" in text and "Outcome:" in text
    assert out.stat().st_size > 1000


@pytest.mark.slow  # two training processes; test_hybrid_ppo resumes after a kill in-process
def test_hybrid_ppo_killed_mid_run_resumes_to_the_unbroken_runs_weights(tmp_path):
    def command(logdir, *extra):
        small = ["--set", "num_envs=32", "--set", "num_minibatches=4", "--set", "save_every=1"]
        args = ["train", "--agent", "hybrid-ppo", "--timesteps", "3840", "--logdir", str(logdir)]
        return [sys.executable, "-m", "mano_gym.cli", *args, *small, *extra]

    def weights(logdir):
        saved = torch.load(logdir / "hybrid-ppo-seed0" / "checkpoint.pt", weights_only=True)
        return saved["iteration"], saved["state_dict"]

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    subprocess.run(command(tmp_path / "unbroken"), check=True, capture_output=True, env=env)
    killed = subprocess.Popen(
        command(tmp_path / "killed"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    checkpoint = tmp_path / "killed" / "hybrid-ppo-seed0" / "checkpoint.pt"
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)  # mid-run: right after its first checkpoint
    killed.wait()
    iteration, _ = weights(tmp_path / "killed")
    assert killed.returncode == -signal.SIGKILL and iteration < 10
    subprocess.run(
        command(tmp_path / "killed", "--resume"), check=True, capture_output=True, env=env
    )
    (done, resumed), (_, unbroken) = weights(tmp_path / "killed"), weights(tmp_path / "unbroken")
    assert done == 10
    for name, value in unbroken.items():
        assert torch.equal(value, resumed[name]), name
