"""Scale-out on Ray: RLlib PPO on `ManoPatient-v0` (`agents.rllib`) and the Ray Tune sweep of
the agent benchmark (`benchmarks/agents.py --ray`), on a local Ray of 2 CPUs."""

from __future__ import annotations

import numpy as np
import pytest

from agents.catalog import load_agent
from agents.evaluation import evaluate_policy
from agents.rllib import RLlibConfig, RLlibPolicy, ppo_config, ray_session, train_rllib
from benchmarks.agents import sweep
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.episodes import DEFAULT_MAX_WEEKS


@pytest.fixture(scope="module")
def ray_local():
    with ray_session(num_cpus=2):
        yield


def test_rllib_ppo_trains_an_iteration_and_acts_in_bounds(ray_local, tmp_path):
    config = RLlibConfig(total_timesteps=256, num_envs_per_env_runner=8, train_batch_size=256,
                         minibatch_size=64, num_epochs=1)  # fmt: skip
    algo, summary = train_rllib(config, tmp_path / "run")
    try:
        assert summary["steps"] >= 256 and (tmp_path / "run" / "checkpoint").is_dir()
        policy = RLlibPolicy(algo.get_module())
        metrics = evaluate_policy(policy, "eval", "world_model", episodes=64, seed=0)
        assert np.isfinite(metrics["mean_return"])
        obs = {key: np.stack([value] * 4) for key, value in _first_obs().items()}
        treatment, intensity = policy.act(obs, np.random.default_rng(0))
        assert treatment.shape == intensity.shape == (4,)
        assert ((treatment >= 0) & (treatment < N_TREATMENTS)).all()
        assert ((intensity >= INTENSITY_LOW) & (intensity <= INTENSITY_HIGH)).all()
        # the run folder as an agent of the catalogue: pickled, so only when trusted
        with pytest.raises(ValueError, match="RLlib run.*--trusted"):
            load_agent(str(tmp_path / "run"))
        again = load_agent(str(tmp_path / "run"), trusted=True)
        for got, expected in zip(again.act(obs, None), (treatment, intensity), strict=True):
            np.testing.assert_array_equal(got, expected)
    finally:
        algo.stop()


def _first_obs() -> dict:
    import gymnasium as gym

    return gym.make("ManoPatient-v0").reset(seed=0)[0]


def test_rllib_sees_the_same_episodes_through_the_native_and_the_sync_vector_env(ray_local):
    # One env per runner under reference dynamics and one seed: RLlib's module, its action
    # samples and both environments draw alike, so episodes must agree step for step.
    episodes = {}
    for vectorize in ("vector_entry_point", "sync"):
        config = RLlibConfig(num_envs_per_env_runner=1, vectorize=vectorize,
                             dynamics="reference", seed=4)  # fmt: skip
        algo = ppo_config(config).build_algo()
        try:
            episodes[vectorize] = [
                e for e in algo.env_runner.sample(num_episodes=6, random_actions=False)
                if e.is_done
            ]  # fmt: skip
        finally:
            algo.stop()
    native, synced = episodes["vector_entry_point"], episodes["sync"]
    assert len(native) == len(synced) >= 6
    for a, b in zip(native, synced, strict=True):
        assert len(a) == len(b) and (a.is_terminated, a.is_truncated) == (
            b.is_terminated,
            b.is_truncated,
        )
        np.testing.assert_array_equal(a.get_observations(-1), b.get_observations(-1))
        np.testing.assert_array_equal(a.get_rewards(), b.get_rewards())
    assert {len(e) for e in native} <= set(range(1, DEFAULT_MAX_WEEKS + 1))


def test_a_two_trial_sweep_reports_each_setting_as_an_agent(ray_local, tmp_path):
    runs = sweep(["hybrid-ppo"], seeds=1, timesteps=3072, runs=tmp_path, heuristics=(),
                 settings=["learning_rate=0.001,0.0003"], address=None)  # fmt: skip
    assert set(runs) == {"hybrid-ppo[learning_rate=0.001]", "hybrid-ppo[learning_rate=0.0003]"}
    for results in runs.values():
        ((seconds, metrics),) = results
        assert seconds > 0 and set(metrics) == {"world_model", "reference"}
        assert np.isfinite(metrics["reference"]["mean_return"])
