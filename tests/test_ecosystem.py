"""`ManoPatient-v0` with RL libraries nobody here wrote, as they are: Gymnasium's own vector envs
and vector wrappers, TorchRL, Tianshou and Minari (Stable-Baselines3: `test_sb3_baselines.py`,
`test_wrappers.py`; RLlib and Ray Tune: `test_rllib.py`). The README's compatibility table lists
what these tests show."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from mano_gym.dynamics.treatments import N_TREATMENTS
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.vector import ManoPatientVectorEnv

MODES = [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED]


def actions(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    treatment = rng.integers(N_TREATMENTS, size=n)
    return {"treatment": treatment, "intensity": rng.uniform(0.1, 1.0, (n, 1)).astype(np.float32)}


def assert_same(native, synced, where: str = "") -> None:
    """Equal values of equal types, through tuples, dicts and object arrays, as Gymnasium
    nests them."""
    if isinstance(synced, tuple):
        assert isinstance(native, tuple) and len(native) == len(synced), where
        for k, (a, b) in enumerate(zip(native, synced, strict=True)):
            assert_same(a, b, f"{where}[{k}]")
    elif isinstance(synced, dict):
        assert set(native) == set(synced), (where, set(native) ^ set(synced))
        for key in synced:
            assert_same(native[key], synced[key], f"{where}.{key}")
    elif isinstance(synced, np.ndarray) and synced.dtype == object:
        assert native.dtype == object and native.shape == synced.shape, where
        for k, (a, b) in enumerate(zip(native, synced, strict=True)):
            assert (a is None) == (b is None), f"{where}[{k}]"
            if b is not None:
                assert_same(a, b, f"{where}[{k}]")
    else:
        assert type(native) is type(synced), (where, type(native), type(synced))
        if isinstance(synced, np.ndarray):
            assert native.dtype == synced.dtype and native.shape == synced.shape, where
        np.testing.assert_array_equal(native, synced, err_msg=where)


# ---------------------------------------------------------- Gymnasium's vectorisation
@pytest.mark.parametrize("mode", MODES)
def test_native_vector_env_steps_exactly_as_sync_vector_env_of_single_envs(mode):
    # One row under reference dynamics: both draw everything from one generator seeded alike,
    # so every number must agree, across autoresets (3-week episodes, and cures at 0.5).
    kwargs = {"dynamics": "reference", "max_weeks": 3, "cure_threshold": 0.5}
    native = ManoPatientVectorEnv(1, autoreset_mode=mode, **kwargs)
    synced = SyncVectorEnv([lambda: ManoPatientEnv(**kwargs)], autoreset_mode=mode)
    assert_same(native.reset(seed=5), synced.reset(seed=5), "reset")
    rng, ends = np.random.default_rng(5), 0
    for step in range(25):
        batch = actions(rng, 1)
        got, expected = native.step(batch), synced.step(batch)
        assert_same(got, expected, f"step {step}")
        ended = expected[2] | expected[3]
        ends += int(ended[0])
        if mode == AutoresetMode.DISABLED and ended.any():  # the caller restarts ended rows
            reset = {"reset_mask": ended.copy()}
            assert_same(native.reset(options=reset), synced.reset(options=dict(reset)), "reset")
    assert ends >= 5


@pytest.mark.parametrize("mode", MODES)
def test_native_vector_env_infos_have_sync_vector_env_keys_masks_and_dtypes(mode):
    kwargs = {"max_weeks": 2}
    native = ManoPatientVectorEnv(3, autoreset_mode=mode, **kwargs)
    synced = SyncVectorEnv([lambda: ManoPatientEnv(**kwargs)] * 3, autoreset_mode=mode)

    def layout(info: dict) -> dict:
        return {
            key: layout(value) if isinstance(value, dict) else (value.dtype, value.shape)
            for key, value in info.items()
        }

    assert layout(native.reset(seed=1)[1]) == layout(synced.reset(seed=1)[1])
    batch = actions(np.random.default_rng(1), 3)
    for _ in range(4):  # through the end of every episode and the restart after it
        got, expected = native.step(batch), synced.step(batch)
        assert layout(got[4]) == layout(expected[4])
        assert got[1].dtype == expected[1].dtype
        ended = expected[2] | expected[3]
        if mode == AutoresetMode.DISABLED and ended.any():
            reset = {"reset_mask": ended.copy()}
            assert layout(native.reset(options=reset)[1]) == layout(
                synced.reset(options=dict(reset))[1]
            )


def test_async_vector_env_and_tianshou_step_1000_times_under_the_default_start_method():
    # An env built in the parent first (AsyncVectorEnv builds one itself to read the spaces),
    # then forked workers: they must not deadlock in torch.
    script = textwrap.dedent(
        """
        import multiprocessing
        import gymnasium as gym
        import numpy as np
        import mano_gym
        from tianshou.env import SubprocVectorEnv

        assert multiprocessing.get_start_method() == "fork"
        gym.make("ManoPatient-v0").reset(seed=0)
        action = {"treatment": 2, "intensity": np.array([0.5], np.float32)}
        envs = gym.vector.AsyncVectorEnv([lambda: gym.make("ManoPatient-v0")] * 2)
        envs.reset(seed=0)
        batch = {"treatment": np.array([2, 3]), "intensity": np.full((2, 1), 0.5, np.float32)}
        for _ in range(1000):
            envs.step(batch)
        envs.close()
        envs = SubprocVectorEnv([lambda: gym.make("ManoPatient-v0")] * 2)
        envs.reset(seed=0)
        for _ in range(1000):
            _, _, terminated, truncated, _ = envs.step([action, action])
            ended = np.flatnonzero(terminated | truncated)
            if len(ended):
                envs.reset(ended)
        envs.close()
        print("stepped")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and "stepped" in done.stdout, done.stderr[-2000:]


def test_gymnasium_vector_wrappers_take_the_native_env():
    envs = gym.wrappers.vector.RecordEpisodeStatistics(
        gym.wrappers.vector.FlattenObservation(gym.make_vec("ManoPatient-v0", num_envs=4))
    )
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, 60)
    batch = actions(np.random.default_rng(0), 4)
    lengths = []
    for _ in range(13):
        _, _, terminated, truncated, info = envs.step(batch)
        if "episode" in info:
            lengths += info["episode"]["l"][info["_episode"]].tolist()
    assert lengths and all(1 <= length <= 12 for length in lengths)


# ------------------------------------------------------------------------------ TorchRL
def test_torchrl_checks_the_env_specs_and_reads_infos():
    from torchrl.envs import GymWrapper
    from torchrl.envs.gym_like import default_info_dict_reader
    from torchrl.envs.utils import check_env_specs

    env = GymWrapper(gym.make("ManoPatient-v0"))
    check_env_specs(env, seed=0)
    env.set_info_dict_reader(default_info_dict_reader(["risk_score", "treatment", "cost"]))
    rollout = env.rollout(12)
    assert rollout["next", "risk_score"].shape == (len(rollout),)
    treatment = rollout["next", "treatment"]
    assert ((treatment >= 0) & (treatment < N_TREATMENTS)).all()


# ----------------------------------------------------------------------------- Tianshou
def test_tianshou_dqn_trains_a_short_epoch_through_the_discrete_form_and_flat_observations():
    import torch
    from tianshou.algorithm import DQN
    from tianshou.algorithm.modelfree.dqn import DiscreteQLearningPolicy
    from tianshou.algorithm.optim import AdamOptimizerFactory
    from tianshou.data import Collector, VectorReplayBuffer
    from tianshou.env import DummyVectorEnv
    from tianshou.trainer import OffPolicyTrainerParams
    from tianshou.utils.net.common import Net

    from mano_gym.wrappers import DiscreteActionWrapper

    def make() -> gym.Env:
        return gym.wrappers.FlattenObservation(DiscreteActionWrapper(gym.make("ManoPatient-v0")))

    env = make()
    torch.manual_seed(0)
    net = Net(state_shape=env.observation_space.shape, action_shape=env.action_space.n,
              hidden_sizes=[64])  # fmt: skip
    policy = DiscreteQLearningPolicy(model=net, action_space=env.action_space, eps_training=0.2)
    algorithm = DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3), target_update_freq=50)
    training = Collector(algorithm, DummyVectorEnv([make] * 2), VectorReplayBuffer(2000, 2),
                         exploration_noise=True)  # fmt: skip
    testing = Collector(algorithm, DummyVectorEnv([make] * 2))
    training.reset()
    testing.reset()
    stats = algorithm.run_training(
        OffPolicyTrainerParams(
            training_collector=training, test_collector=testing, max_epochs=1,
            epoch_num_steps=100, collection_step_num_env_steps=20, test_step_num_episodes=2,
            batch_size=32, update_step_num_gradient_steps_per_sample=0.1, show_progress=False,
            verbose=False,
        )
    )  # fmt: skip
    assert stats.train_step >= 100 and stats.update_step > 0 and stats.train_episode > 0
    assert np.isfinite(stats.best_reward)


# ------------------------------------------------------------------------------- Minari
def test_minari_records_every_episode_with_infos_and_recovers_the_env(tmp_path, monkeypatch):
    import minari

    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    env = minari.DataCollector(gym.make("ManoPatient-v0", max_weeks=4), record_infos=True)
    env.action_space.seed(0)
    steps = 0
    for episode in range(6):
        env.reset(seed=episode)
        while True:
            steps += 1
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                break
    dataset = env.create_dataset(
        dataset_id="mano/test/random-v0",
        algorithm_name="random",
        author="Mano tests",
        author_email="tests@example.org",
        description="six random episodes",
    )
    assert dataset.total_episodes == 6 and dataset.total_steps == steps
    loaded = minari.load_dataset("mano/test/random-v0")
    episode = next(loaded.iterate_episodes())
    assert len(episode.infos["risk_score"]) == len(episode.rewards) + 1  # reset info too
    assert episode.infos["treatment"][0] == -1
    assert isinstance(loaded.recover_environment().unwrapped, ManoPatientEnv)


# ------------------------------------------------------------ mano generate offline-dataset
def test_offline_dataset_logs_every_episode_with_the_behaviour_probabilities(tmp_path):
    import minari

    from agents.offline_dataset import OfflineDatasetConfig, write_offline_dataset
    from mano_gym.cli import main

    out = tmp_path / "datasets"
    argv = ["generate", "offline-dataset", "--policy", "fixed-cbt", "--episodes", "6"]
    assert main([*argv, "--epsilon", "0.5", "--dynamics", "reference", "--out", str(out)]) == 0
    config = OfflineDatasetConfig("fixed-cbt", 6, epsilon=0.5, dynamics="reference")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINARI_DATASETS_PATH", str(out))
        dataset = minari.load_dataset(config.name)
        assert dataset.total_episodes == 6
        explored = 0
        for episode in dataset.iterate_episodes():
            info, given = episode.infos, episode.actions["treatment"]
            assert np.isnan(info["behaviour_probability"][0]) and info["treatment"][0] == -1
            assert (info["base_treatment"][1:] == 2).all()  # CBT, the policy's own choice
            expected = np.where(given == 2, 0.5 + 0.5 / N_TREATMENTS, 0.5 / N_TREATMENTS)
            np.testing.assert_allclose(info["behaviour_probability"][1:], expected)
            assert (given[~info["explored"][1:]] == 2).all()
            assert info["dass"].shape == (len(given) + 1, 3)  # the latent scores, reset too
            explored += int(info["explored"].sum())
        assert explored > 0
        assert isinstance(dataset.recover_environment().unwrapped, ManoPatientEnv)
    with pytest.raises(ValueError, match="already holds a dataset"):
        write_offline_dataset(config, out)
    with pytest.raises(ValueError, match="epsilon must be a number in"):
        OfflineDatasetConfig(epsilon=1.5)
    with pytest.raises(ValueError, match="episodes must be an integer >= 1"):
        OfflineDatasetConfig(episodes=0)
