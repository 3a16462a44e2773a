"""The Stable-Baselines3 baselines train on the real environment through the flat-action
wrappers, log and checkpoint their runs, resume them, and act as batched policies; the batched
decoders are the wrappers' own mapping."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from agents.catalog import load_agent
from agents.sb3_baselines import (
    CHECKPOINT,
    ENCODINGS,
    SB3_ALGORITHMS,
    ManoMetricsCallback,
    SB3Config,
    SB3Policy,
    build_model,
    load_sb3_policy,
    make_sb3_env,
    train_sb3,
)
from generators.files import file_sha256
from mano_gym.dynamics.treatments import (
    INTENSITY_HIGH,
    INTENSITY_LOW,
    N_TREATMENTS,
    TREATMENTS,
    check_actions,
)
from mano_gym.envs.episodes import DEFAULT_MAX_WEEKS, RewardWeights
from mano_gym.envs.rollouts import enrolled, run_policy
from mano_gym.envs.vector import ManoPatientVectorEnv
from mano_gym.wrappers import (
    BoxActionWrapper,
    MultiDiscreteActionWrapper,
    decode_box,
    decode_multidiscrete,
)

AGENTS = [
    ("sb3-ppo", "multidiscrete"),
    ("sb3-ppo", "box"),
    ("sb3-a2c", "multidiscrete"),
    ("sb3-a2c", "box"),
    ("sb3-sac", "box"),
]
# Tiny settings for tests only (a real run uses SB3's defaults): PPO collects 2 x 32 steps a
# rollout; SAC starts learning after 50 steps with a small buffer.
TINY = {
    "sb3-ppo": {"n_steps": 32, "batch_size": 32, "n_epochs": 2},
    "sb3-a2c": {},
    "sb3-sac": {"learning_starts": 50, "buffer_size": 2_000, "batch_size": 32},
}
CHARTS = {
    "charts/episodic_return",
    "charts/cure_rate",
    "charts/risk_reduction",
    "charts/safety_cost",
    "charts/mean_intensity",
    *(f"charts/treatment_mix/{name}" for name in TREATMENTS),
}


def _config(algorithm: str, encoding: str, total: int = 256, **kwargs) -> SB3Config:
    return SB3Config(
        algorithm=algorithm,
        encoding=encoding,
        total_timesteps=total,
        n_envs=2,
        save_every=64,
        hyperparameters=dict(TINY[algorithm]),
        **kwargs,
    )


def _scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar SB3 logged under `run_dir`, by tag: [(step, value)]."""
    (log_dir,) = [path for path in run_dir.iterdir() if path.is_dir()]  # one TensorBoard run
    events = EventAccumulator(str(log_dir))
    events.Reload()
    return {
        tag: [(event.step, event.value) for event in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
    }


@pytest.fixture(scope="module")
def observations() -> dict[str, np.ndarray]:
    obs, _ = ManoPatientVectorEnv(64, cohort="eval").reset(seed=0)
    return obs


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory) -> Path:
    """A tiny trained PPO run (multidiscrete), to copy and tamper with."""
    run_dir = tmp_path_factory.mktemp("ppo") / "run"
    train_sb3(_config("sb3-ppo", "multidiscrete", 128), run_dir, progress=False)
    return run_dir


def _check_valid(treatment: np.ndarray, intensity: np.ndarray, n: int) -> None:
    assert treatment.shape == intensity.shape == (n,)
    check_actions(treatment, intensity, n)  # raises on anything out of the action space


@pytest.mark.parametrize(("algorithm", "encoding"), AGENTS)
def test_each_agent_trains_logs_checkpoints_and_reloads(
    tmp_path, observations, algorithm, encoding
):
    run_dir = tmp_path / "run"
    model, summary = train_sb3(_config(algorithm, encoding), run_dir, progress=False)
    assert isinstance(model, SB3_ALGORITHMS[algorithm])
    assert model.num_timesteps == summary["global_step"] >= 256
    assert summary["global_step"] < 256 + 2 * 32  # no more than one rollout past the total
    assert summary["sps"] > 0 and np.isfinite(summary["last_returns"])

    saved = json.loads((run_dir / "checkpoint.json").read_text())
    assert (saved["algorithm"], saved["encoding"]) == (algorithm, encoding)
    assert saved["config"]["total_timesteps"] == 256
    assert (run_dir / CHECKPOINT).stat().st_size > 0
    assert not [p for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporary left

    scalars = _scalars(run_dir)
    assert set(scalars) >= CHARTS, CHARTS - set(scalars)
    assert any(tag.startswith("train/") for tag in scalars)  # SB3 did update the networks
    for tag in ("charts/cure_rate", "charts/mean_intensity"):
        values = [value for _, value in scalars[tag]]
        assert all(0.0 <= value <= 1.0 for value in values), (tag, values)
    assert all(low >= INTENSITY_LOW - 1e-6 for _, low in scalars["charts/mean_intensity"])
    mix = np.array(
        [[value for _, value in scalars[f"charts/treatment_mix/{t}"]] for t in TREATMENTS]
    )
    np.testing.assert_allclose(mix.sum(axis=0), 1.0, atol=1e-5)
    if algorithm != "sb3-a2c":  # A2C's own logs come every 100 updates: not in 256 steps
        assert "rollout/ep_rew_mean" in scalars

    trained = SB3Policy(model, encoding)
    loaded = load_sb3_policy(run_dir)
    assert isinstance(loaded.model, SB3_ALGORITHMS[algorithm]) and loaded.encoding == encoding
    rng = np.random.default_rng(0)
    treatment, intensity = loaded.act(observations, rng)
    _check_valid(treatment, intensity, 64)
    expected = trained.act(observations, rng)
    np.testing.assert_array_equal(treatment, expected[0])
    np.testing.assert_array_equal(intensity, expected[1])
    if encoding == "multidiscrete":  # on the wrapper's grid of 10 levels
        grid = np.linspace(INTENSITY_LOW, INTENSITY_HIGH, 10)
        assert np.isin(intensity, grid).all()


CBT = TREATMENTS.index("cbt")


class _Observer(BaseCallback):
    """Recomputes, per PPO rollout, what `ManoMetricsCallback` logs, from the infos alone:
    a cure is an episode that ends under the cure threshold without a drop-out or a
    truncation."""

    def _on_training_start(self) -> None:
        self.cost = np.zeros(self.training_env.num_envs)
        self.rollouts: dict[int, dict[str, float]] = {}
        self._reset()

    def _reset(self) -> None:
        self.cured, self.costs, self.treatments, self.doses = [], [], [], []

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        self.treatments += [info["treatment"] for info in infos]
        self.doses += [info["intensity"] for info in infos]
        self.cost += [info["cost"] for info in infos]
        for i in np.flatnonzero(self.locals["dones"]):
            info = infos[i]
            under = info["risk_score"] < RewardWeights().cure_threshold
            ended_early = not info.get("TimeLimit.truncated", False) and not info["dropout"]
            self.cured.append(under and ended_early)
            self.costs.append(self.cost[i])
            self.cost[i] = 0.0
        return True

    def _on_rollout_end(self) -> None:
        self.rollouts[self.model.num_timesteps] = {
            "charts/cure_rate": float(np.mean(self.cured)),
            "charts/safety_cost": float(np.mean(self.costs)),
            "charts/mean_intensity": float(np.mean(self.doses)),
            "charts/treatment_mix/cbt": self.treatments.count(CBT) / len(self.treatments),
        }
        self._reset()


def test_logged_charts_are_what_happened_in_each_rollout(tmp_path):
    config = _config("sb3-ppo", "box")
    env = make_sb3_env(config.encoding, config.n_envs, config.seed)
    model = build_model(config, env, str(tmp_path))
    observer = _Observer()
    model.learn(256, callback=[ManoMetricsCallback(), observer])
    env.close()
    logged = _scalars(tmp_path)
    assert sorted(observer.rollouts) == [64, 128, 192, 256]  # PPO logs once a rollout
    assert any(0 < r["charts/cure_rate"] < 1 for r in observer.rollouts.values())
    for tag in observer.rollouts[64]:
        expected = [observer.rollouts[step][tag] for step in (64, 128, 192, 256)]
        assert [step for step, _ in logged[tag]] == [64, 128, 192, 256], tag
        np.testing.assert_allclose([value for _, value in logged[tag]], expected, atol=1e-6)


def test_resume_continues_from_the_checkpoint_to_the_total(tmp_path, observations):
    run_dir = tmp_path / "run"
    first, _ = train_sb3(_config("sb3-ppo", "multidiscrete", 128), run_dir, progress=False)
    assert first.num_timesteps == 128
    before = SB3Policy(first, "multidiscrete").act(observations, np.random.default_rng(0))

    # nothing left to do: the model is the checkpoint's, unchanged
    same, summary = train_sb3(
        _config("sb3-ppo", "multidiscrete", 128), run_dir, resume=True, progress=False
    )
    assert same.num_timesteps == summary["global_step"] == 128
    after = SB3Policy(same, "multidiscrete").act(observations, np.random.default_rng(0))
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])

    resumed, summary = train_sb3(
        _config("sb3-ppo", "multidiscrete", 256), run_dir, resume=True, progress=False
    )
    assert resumed.num_timesteps == summary["global_step"] == 256
    assert summary["sps"] > 0
    assert load_sb3_policy(run_dir).model.num_timesteps == 256
    # one TensorBoard run, continued where it stopped
    steps = [step for step, _ in _scalars(run_dir)["charts/treatment_mix/control"]]
    assert steps == sorted(steps) and steps[-1] == 256 and 128 in steps


@pytest.mark.parametrize(
    ("algorithm", "encoding"), [("sb3-ppo", "multidiscrete"), ("sb3-a2c", "box")]
)
def test_resume_after_a_kill_ends_with_the_weights_of_an_unbroken_run(
    algorithm, encoding, tmp_path, monkeypatch
):
    import agents.sb3_baselines as module

    config = _config(algorithm, encoding, 384)
    unbroken, _ = train_sb3(config, tmp_path / "unbroken", progress=False)
    save, saves = module.save_checkpoint, []

    def killed_after_the_second(model, config, path):
        save(model, config, path)
        saves.append(model.num_timesteps)
        if len(saves) == 2:
            raise KeyboardInterrupt  # as a kill between two rollouts would stop the run

    monkeypatch.setattr(module, "save_checkpoint", killed_after_the_second)
    with pytest.raises(KeyboardInterrupt):
        train_sb3(config, tmp_path / "killed", progress=False)
    monkeypatch.setattr(module, "save_checkpoint", save)
    resumed, _ = train_sb3(config, tmp_path / "killed", resume=True, progress=False)
    assert 0 < saves[-1] < 384 and resumed.num_timesteps == unbroken.num_timesteps
    expected = unbroken.policy.state_dict()
    for name, value in resumed.policy.state_dict().items():
        assert torch.equal(value, expected[name]), name


def test_resumed_sac_refills_its_replay_buffer_before_training(tmp_path):
    run_dir = tmp_path / "run"
    train_sb3(_config("sb3-sac", "box", 100), run_dir, progress=False)
    resumed, _ = train_sb3(_config("sb3-sac", "box", 160), run_dir, resume=True, progress=False)
    assert resumed.num_timesteps == 160
    assert resumed.learning_starts == 100 + 50
    assert resumed.replay_buffer.size() * 2 == 60  # only what was collected after resuming


def test_resume_needs_a_checkpoint_of_the_same_agent(tmp_path, ppo_run):
    with pytest.raises(FileNotFoundError, match="nothing to resume: no checkpoint.zip"):
        train_sb3(_config("sb3-ppo", "multidiscrete"), tmp_path / "empty", resume=True)
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train_sb3(_config("sb3-ppo", "multidiscrete"), None, resume=True)
    with pytest.raises(ValueError, match="holds sb3-ppo on the multidiscrete encoding"):
        train_sb3(_config("sb3-ppo", "box"), ppo_run, resume=True, progress=False)


def test_training_through_subprocess_environments(tmp_path):
    config = _config("sb3-ppo", "box", 64, vec="subproc")
    model, summary = train_sb3(config, None, progress=False)
    assert summary["global_step"] == 64 and model.num_timesteps == 64
    assert not (tmp_path / "run").exists()


def test_environments_are_seeded_and_wrapped_per_encoding():
    for encoding, space in [
        ("multidiscrete", gym.spaces.MultiDiscrete([N_TREATMENTS, 10])),
        ("box", gym.spaces.Box(-1.0, 1.0, (N_TREATMENTS + 1,), np.float32)),
    ]:
        first, second = (make_sb3_env(encoding, 3, seed=7) for _ in range(2))
        assert first.action_space == space and first.num_envs == 3
        a, b = first.reset(), second.reset()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
        assert not np.array_equal(a["static"][0], a["static"][1])  # env i seeded 7 + i
        first.close()
        second.close()
    with pytest.raises(ValueError, match="unknown encoding"):
        make_sb3_env("tuple", 1, 0)
    with pytest.raises(ValueError, match="unknown vec"):
        make_sb3_env("box", 1, 0, vec="threads")


def test_default_config_is_sb3_defaults_with_the_dict_observation_policy():
    assert SB3Config().encoding == "multidiscrete"
    assert SB3Config(algorithm="sb3-a2c").encoding == "multidiscrete"
    assert SB3Config(algorithm="sb3-sac").encoding == "box"
    assert SB3Config().hyperparameters == {} and SB3Config().n_envs == 8
    env = make_sb3_env("multidiscrete", 1, 0)
    ppo = build_model(SB3Config(), env)
    assert (ppo.n_steps, ppo.batch_size, ppo.n_epochs, ppo.learning_rate) == (2048, 64, 10, 3e-4)
    assert (ppo.gamma, ppo.gae_lambda, ppo.ent_coef) == (0.99, 0.95, 0.0)
    assert type(ppo.policy).__name__ == "MultiInputActorCriticPolicy"
    a2c = build_model(SB3Config(algorithm="sb3-a2c"), env)
    assert (a2c.n_steps, a2c.learning_rate) == (5, 7e-4)
    env.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"algorithm": "sb3-sac", "encoding": "multidiscrete"}, "sb3-sac needs a continuous"),
        ({"algorithm": "sb3-dqn"}, "unknown SB3 algorithm 'sb3-dqn'; choose one of sb3-ppo"),
        ({"encoding": "tuple"}, "unknown encoding 'tuple'"),
        ({"vec": "threads"}, "unknown vec 'threads'"),
        ({"n_envs": 0}, r"SB3Config.n_envs must be an integer >= 1, got 0"),
        ({"total_timesteps": 2.5}, r"SB3Config.total_timesteps must be an integer >= 1"),
        ({"hyperparameters": {"n_step": 64}}, r"does not take hyperparameters \['n_step'\]"),
        ({"hyperparameters": {"seed": 1}}, r"does not take hyperparameters \['seed'\]"),
        ({"algorithm": "sb3-a2c", "hyperparameters": {"buffer_size": 10}}, "buffer_size"),
    ],
)
def test_config_rejects_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        SB3Config(**settings)


def test_a_setting_changed_after_construction_is_checked_before_training(tmp_path):
    config = SB3Config(algorithm="sb3-sac")
    config.encoding = "multidiscrete"  # as `mano train --encoding` does
    with pytest.raises(ValueError, match="sb3-sac needs a continuous"):
        train_sb3(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_loading_names_the_missing_or_garbled_file(tmp_path, ppo_run):
    with pytest.raises(
        ValueError, match=re.escape(f"not found: {tmp_path / 'nothing' / CHECKPOINT}")
    ):
        load_sb3_policy(tmp_path / "nothing")
    assert isinstance(load_sb3_policy(ppo_run / CHECKPOINT), SB3Policy)  # the zip itself

    run = tmp_path / "run"
    shutil.copytree(ppo_run, run)
    sidecar, checkpoint = run / "checkpoint.json", run / CHECKPOINT
    good = sidecar.read_text()
    for bad in ("{not json", "[]", json.dumps({**json.loads(good), "algorithm": "sb3-dqn"})):
        sidecar.write_text(bad)
        with pytest.raises(ValueError, match=re.escape(str(sidecar))):
            load_sb3_policy(run)
    sidecar.unlink()
    with pytest.raises(ValueError, match=re.escape(str(sidecar))):
        load_sb3_policy(run)

    sidecar.write_text(json.dumps({**json.loads(good), "algorithm": "sb3-sac", "encoding": "box"}))
    with pytest.raises(ValueError, match=re.escape(str(checkpoint))):  # a PPO zip is no SAC model
        load_sb3_policy(run)
    sidecar.write_text(json.dumps({**json.loads(good), "encoding": "box"}))
    with pytest.raises(ValueError, match="not the box encoding"):
        load_sb3_policy(run)

    sidecar.write_text(good)
    checkpoint.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match=re.escape(str(checkpoint))):
        load_sb3_policy(run)


def test_trained_agents_evaluate_like_any_other(ppo_run, observations):
    policy = load_agent(str(ppo_run))  # what `mano evaluate agent --agent RUN_DIR` does
    assert isinstance(policy, SB3Policy)
    outcomes = run_policy(policy, "eval", seed=0, patients=enrolled("eval")[:16])
    assert outcomes.returns.shape == (16,) and np.isfinite(outcomes.returns).all()
    assert ((outcomes.weeks >= 1) & (outcomes.weeks <= DEFAULT_MAX_WEEKS)).all()

    sampled = SB3Policy(policy.model, "multidiscrete", deterministic=False)
    a = sampled.act(observations, np.random.default_rng(5))
    b = sampled.act(observations, np.random.default_rng(5))
    c = sampled.act(observations, np.random.default_rng(6))
    _check_valid(*a, 64)
    np.testing.assert_array_equal(a[0], b[0])  # the rng decides the samples
    assert not (np.array_equal(a[0], c[0]) and np.array_equal(a[1], c[1]))


def _hybrid_grid() -> tuple[np.ndarray, np.ndarray]:
    intensities = np.array([INTENSITY_LOW, 0.137, 0.25, 0.5, 0.55, 0.83, 0.99, INTENSITY_HIGH])
    treatment, intensity = np.meshgrid(np.arange(N_TREATMENTS), intensities, indexing="ij")
    return treatment.ravel(), intensity.ravel()


def test_decode_box_round_trips_with_reverse_action_and_matches_the_wrapper():
    wrapper = BoxActionWrapper(gym.make("ManoPatient-v0"))
    treatments, intensities = _hybrid_grid()
    flat = np.stack(
        [
            wrapper.reverse_action({"treatment": t, "intensity": np.array([i], np.float32)})
            for t, i in zip(treatments, intensities, strict=True)
        ]
    )
    treatment, intensity = decode_box(flat)
    assert treatment.dtype == np.int64 and intensity.dtype == np.float64
    np.testing.assert_array_equal(treatment, treatments)
    np.testing.assert_allclose(intensity, intensities, atol=1e-6)

    samples = np.stack([wrapper.action_space.sample() for _ in range(200)])
    samples[:20] = np.sign(samples[:20])  # the box's corners, exactly -1 and 1
    treatment, intensity = decode_box(samples)
    for k, row in enumerate(samples):  # the wrapper's action() is the same mapping
        given = wrapper.action(row)
        assert given["treatment"] == treatment[k]
        assert given["intensity"][0] == np.float32(intensity[k])

    ends = np.array([[-1.0] * 6, [1.0] * 6, [-1, -1, -1, -1, 1, 1], [-1, -1, 1, -1, -1, -1]])
    treatment, intensity = decode_box(ends.astype(np.float32))
    assert treatment.tolist() == [0, 0, 4, 2]
    assert intensity.tolist() == [INTENSITY_LOW, INTENSITY_HIGH, INTENSITY_HIGH, INTENSITY_LOW]


def test_decode_multidiscrete_round_trips_with_reverse_action_and_matches_the_wrapper():
    for bins in (10, 4):
        wrapper = MultiDiscreteActionWrapper(gym.make("ManoPatient-v0"), intensity_bins=bins)
        treatments, intensities = _hybrid_grid()
        flat = np.stack(
            [
                wrapper.reverse_action({"treatment": t, "intensity": np.array([i], np.float32)})
                for t, i in zip(treatments, intensities, strict=True)
            ]
        )
        treatment, intensity = decode_multidiscrete(flat, bins)
        np.testing.assert_array_equal(treatment, treatments)
        # the nearest level: off-grid intensities move by at most half a step
        assert np.abs(intensity - intensities).max() <= wrapper.intensity_step / 2 + 1e-9
        on_grid = np.linspace(INTENSITY_LOW, INTENSITY_HIGH, bins)
        assert np.isin(intensity, on_grid).all()
        every = np.array([[t, k] for t in range(N_TREATMENTS) for k in range(bins)])
        treatment, intensity = decode_multidiscrete(every, bins)
        for row, t, i in zip(every, treatment, intensity, strict=True):
            given = wrapper.action(row)
            assert given["treatment"] == t and given["intensity"][0] == np.float32(i)
            np.testing.assert_array_equal(wrapper.reverse_action(given), row)


def test_batch_decoders_reject_malformed_batches_naming_the_rows():
    good = np.zeros((5, 6))
    for bad, message in [
        (np.zeros(6), r"shape \(n, 6\)"),
        (np.zeros((5, 5)), r"shape \(n, 6\)"),
        (np.ones((5, 6), bool), "numbers"),
    ]:
        with pytest.raises(ValueError, match=message):
            decode_box(bad)
    nan = good.copy()
    nan[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"finite.*\(rows \[3\]\)"):
        decode_box(nan)
    out = good.copy()
    out[[1, 4], 5] = [1.0001, -1.5]
    with pytest.raises(ValueError, match=r"outside \[-1, 1\].*\(rows \[1, 4\]\)"):
        decode_box(out)

    with pytest.raises(
        ValueError, match=r"treatment out of range 0..4: \[5, -1\] \(rows \[0, 2\]\)"
    ):
        decode_multidiscrete([[5, 0], [1, 1], [-1, 0]])
    with pytest.raises(ValueError, match=r"intensity bin out of range 0..3: \[4\] \(rows \[1\]\)"):
        decode_multidiscrete([[0, 0], [0, 4]], intensity_bins=4)
    with pytest.raises(ValueError, match="integers"):
        decode_multidiscrete(np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        decode_multidiscrete(np.array([0, 1]))
    with pytest.raises(ValueError, match="intensity_bins"):
        decode_multidiscrete([[0, 0]], intensity_bins=1)


def test_sb3_policy_rejects_a_model_of_the_other_encoding(ppo_run):
    model = load_sb3_policy(ppo_run).model
    with pytest.raises(ValueError, match="not the box encoding"):
        SB3Policy(model, "box")
    with pytest.raises(ValueError, match="unknown encoding"):
        SB3Policy(model, "tuple")
    assert set(ENCODINGS) == {"multidiscrete", "box"}


class _Payload:
    """Unpickling this creates a file: the stand-in for code a crafted checkpoint would run."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted(run: Path, key: str, marker: Path) -> None:
    """Put a payload into the pickled entry `key` of the run's checkpoint `data`."""
    import base64
    import zipfile

    import cloudpickle

    checkpoint = run / CHECKPOINT
    with zipfile.ZipFile(checkpoint) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(members["data"])
    payload = base64.b64encode(cloudpickle.dumps(_Payload(marker))).decode()
    data[key] = {":type:": "<class 'object'>", ":serialized:": payload}
    members["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(checkpoint, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    sidecar = run / "checkpoint.json"  # whoever crafts the zip can rewrite its description too
    described = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps(described | {"zip_sha256": file_sha256(checkpoint)}))


def test_a_zip_and_a_description_not_written_together_are_refused(tmp_path, ppo_run):
    run = tmp_path / "run"
    shutil.copytree(ppo_run, run)
    with (run / CHECKPOINT).open("ab") as archive:  # another save's zip beside this description
        archive.write(b"\0")
    with pytest.raises(ValueError, match="were not written together"):
        load_sb3_policy(run)


def test_a_crafted_sb3_checkpoint_runs_nothing_when_loaded_or_resumed(tmp_path, ppo_run):
    marker = tmp_path / "payload-ran"
    run = tmp_path / "run"
    shutil.copytree(ppo_run, run)
    _crafted(run, "policy_class", marker)  # an entry Mano rebuilds: loads, payload ignored
    policy = load_sb3_policy(run)
    assert isinstance(policy, SB3Policy) and not marker.exists()
    config = SB3Config(**json.loads((run / "checkpoint.json").read_text())["config"])
    train_sb3(
        replace(config, total_timesteps=config.total_timesteps + 64),
        run,
        resume=True,
        progress=False,
    )
    assert not marker.exists()

    _crafted(run, "surprise", marker)  # an entry nobody can rebuild: refused, not unpickled
    with pytest.raises(
        ValueError, match="pickled objects Mano cannot rebuild safely \\(surprise\\)"
    ):
        load_sb3_policy(run)
    with pytest.raises(ValueError, match="surprise"):
        load_agent(str(run))
    assert not marker.exists()
