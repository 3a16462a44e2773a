"""The flat action wrappers translate to and from the hybrid action, reject malformed actions,
and let Stable-Baselines3 train on `ManoPatient-v0`."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3 import PPO
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.vector import ManoPatientVectorEnv
from mano_gym.wrappers import (
    BoxActionWrapper,
    DiscreteActionWrapper,
    MultiDiscreteActionWrapper,
    VectorBoxAction,
    VectorDiscreteAction,
    VectorMultiDiscreteAction,
    decode_box,
    decode_discrete,
    decode_multidiscrete,
)

INTENSITIES = np.array([INTENSITY_LOW, 0.137, 0.25, 0.5, 0.55, 0.83, INTENSITY_HIGH])


def _make(**kwargs) -> gym.Env:
    return gym.make("ManoPatient-v0", **kwargs)


def _unpack(action, form: str = "dict") -> tuple[int, np.ndarray]:
    if form == "dict":
        assert set(action) == {"treatment", "intensity"}
        return int(action["treatment"]), action["intensity"]
    assert isinstance(action, tuple) and len(action) == 2
    return int(action[0]), action[1]


def test_box_wrapper_round_trips_every_treatment_and_intensity():
    env = BoxActionWrapper(_make())
    assert env.action_space == gym.spaces.Box(-1.0, 1.0, (N_TREATMENTS + 1,), np.float32)
    for treatment in range(N_TREATMENTS):
        for intensity in INTENSITIES:
            given = {"treatment": treatment, "intensity": np.array([intensity], np.float32)}
            flat = env.reverse_action(given)
            assert flat in env.action_space
            assert flat[treatment] == 1.0 and np.sum(flat[:N_TREATMENTS] == -1.0) == 4
            back = env.action(flat)
            assert back in env.env.action_space
            assert _unpack(back)[0] == treatment
            assert _unpack(back)[1].dtype == np.float32
            np.testing.assert_allclose(_unpack(back)[1], [intensity], atol=1e-6)


def test_box_wrapper_decodes_scores_by_argmax_and_intensity_linearly():
    env = BoxActionWrapper(_make())
    treatment, intensity = _unpack(env.action(np.array([0.2, -0.5, 0.9, 0.1, 0.0, 0.0])))
    assert treatment == 2
    np.testing.assert_allclose(intensity, [0.55], atol=1e-6)
    treatment, intensity = _unpack(env.action([-1, -1, -1, -1, 0.3, -1.0]))
    assert treatment == 4 and intensity[0] == np.float32(INTENSITY_LOW)
    treatment, intensity = _unpack(env.action([0.7, 0.7, 0.7, 0.7, 0.7, 1.0]))
    assert treatment == 0 and intensity[0] == np.float32(INTENSITY_HIGH)  # a tie: the lowest
    np.testing.assert_allclose(_unpack(env.action(np.full(6, 0.5)))[1], [0.775], atol=1e-6)


def test_box_wrapper_rejects_out_of_range_and_nan():
    env = BoxActionWrapper(_make())
    env.reset(seed=0)
    cases = {
        "shape": [np.zeros(5), np.zeros((1, 6)), 0.0],
        "finite": [[0, 0, np.nan, 0, 0, 0], [0, 0, 0, 0, 0, np.inf]],
        r"outside \[-1, 1\]": [[0, 0, 0, 0, 0, 1.01], [-1.5, 0, 0, 0, 0, 0]],
        "numbers": [np.array(["a"] * 6), np.ones(6, bool)],
    }
    for problem, actions in cases.items():
        for action in actions:
            with pytest.raises(ValueError, match=problem):
                env.action(action)
            with pytest.raises(ValueError, match=problem):
                env.step(action)
    with pytest.raises(ValueError, match="intensity"):
        env.reverse_action({"treatment": 1, "intensity": np.array([1.5], np.float32)})
    with pytest.raises(ValueError, match="treatment"):
        env.reverse_action({"treatment": 5, "intensity": np.array([0.5], np.float32)})


def test_multidiscrete_wrapper_round_trips_bins():
    env = MultiDiscreteActionWrapper(_make())
    assert env.action_space == gym.spaces.MultiDiscrete([N_TREATMENTS, 10])
    assert env.intensity_step == pytest.approx(0.1)
    for treatment in range(N_TREATMENTS):
        for level in range(10):
            back = env.action(np.array([treatment, level]))
            assert back in env.env.action_space
            assert _unpack(back)[0] == treatment
            np.testing.assert_allclose(_unpack(back)[1], [0.1 + 0.1 * level], atol=1e-6)
            flat = env.reverse_action(back)
            assert flat in env.action_space
            np.testing.assert_array_equal(flat, [treatment, level])
    # off-grid intensities go to the nearest bin
    for intensity, level in [(0.44, 3), (0.46, 4), (0.1, 0), (1.0, 9), (0.96, 9)]:
        given = {"treatment": 2, "intensity": np.array([intensity], np.float32)}
        np.testing.assert_array_equal(env.reverse_action(given), [2, level])

    coarse = MultiDiscreteActionWrapper(_make(), intensity_bins=2)
    assert coarse.intensity_step == pytest.approx(0.9)
    assert _unpack(coarse.action([1, 0]))[1][0] == np.float32(INTENSITY_LOW)
    assert _unpack(coarse.action([1, 1]))[1][0] == np.float32(INTENSITY_HIGH)
    for bins in (1, 0, -3, 2.5, True, "10"):
        with pytest.raises(ValueError, match="intensity_bins"):
            MultiDiscreteActionWrapper(_make(), intensity_bins=bins)


def test_multidiscrete_wrapper_rejects_malformed_actions():
    env = MultiDiscreteActionWrapper(_make(), intensity_bins=5)
    cases = {
        "shape": [[1], [1, 2, 3], np.zeros((2, 1), np.int64)],
        "integers": [[1.0, 2.0], np.array([1, np.nan])],
        "treatment out of range": [[5, 0], [-1, 0]],
        "intensity bin out of range": [[0, 5], [0, -1]],
    }
    for problem, actions in cases.items():
        for action in actions:
            with pytest.raises(ValueError, match=problem):
                env.action(action)


def test_discrete_wrapper_is_treatment_times_bins_and_round_trips():
    env = DiscreteActionWrapper(_make(), intensity_bins=4)
    assert env.action_space == gym.spaces.Discrete(N_TREATMENTS * 4)
    levels = np.linspace(INTENSITY_LOW, INTENSITY_HIGH, 4)
    for index in range(N_TREATMENTS * 4):
        treatment, intensity = _unpack(env.action(np.int64(index)))
        assert treatment == index // 4
        np.testing.assert_allclose(intensity, [levels[index % 4]], atol=1e-6)
        assert env.reverse_action(env.action(index)) == index
    for bad, problem in [
        (20, "out of range"),
        (-1, "out of range"),
        (2.5, "integers"),
        (np.array([1, 2]), "shape"),
    ]:
        with pytest.raises(ValueError, match=problem):
            env.action(bad)


def test_wrapped_step_gives_the_decoded_treatment_and_intensity():
    for env, flat, treatment, intensity in [
        (BoxActionWrapper(_make()), [-1, -1, -1, 0.5, -1, 0.0], 3, 0.55),
        (MultiDiscreteActionWrapper(_make()), [4, 7], 4, 0.8),
        (DiscreteActionWrapper(_make()), 2 * 10 + 3, 2, 0.4),
    ]:
        env.reset(seed=1)
        _, _, _, _, info = env.step(np.array(flat))
        assert info["treatment"] == treatment
        assert info["intensity"] == pytest.approx(intensity, abs=1e-6)


def test_wrappers_work_with_tuple_action_form():
    for wrapper, flat in [
        (BoxActionWrapper, [1, -1, -1, -1, -1, 1]),
        (MultiDiscreteActionWrapper, [0, 9]),
    ]:
        env = wrapper(_make(action_space="tuple"))
        assert isinstance(env.env.action_space, gym.spaces.Tuple)
        back = env.action(np.array(flat))
        assert back in env.env.action_space
        assert _unpack(back, "tuple")[0] == 0
        np.testing.assert_allclose(_unpack(back, "tuple")[1], [INTENSITY_HIGH], atol=1e-6)
        np.testing.assert_array_equal(env.reverse_action(back), flat)
        env.reset(seed=0)
        _, _, _, _, info = env.step(np.array(flat))
        assert info["treatment"] == 0 and info["intensity"] == pytest.approx(1.0)
        with pytest.raises(ValueError, match="pair"):  # the env's form, not the other one
            env.reverse_action({"treatment": 0, "intensity": np.array([1.0], np.float32)})


def test_wrappers_reject_an_env_without_the_hybrid_action_space():
    cartpole = gym.make("CartPole-v1")
    for wrapper in (BoxActionWrapper, MultiDiscreteActionWrapper, DiscreteActionWrapper):
        with pytest.raises(ValueError, match="hybrid action space"):
            wrapper(cartpole)
        with pytest.raises(ValueError, match="hybrid action space"):
            wrapper(wrapper(_make()))  # already flat


# Warnings that say nothing about the wrappers: SB3's about the (7, 5) `signals` observation,
# which `MultiInputPolicy` flattens (the env's observation, not the action wrappers' concern);
# gymnasium's that it was given a wrapped env, which is what is being checked here.
UNSUBSTANTIVE = (
    "Your observation signals has an unconventional shape",
    "is different from the unwrapped version",
)


def _substantive(caught: list[warnings.WarningMessage]) -> list[str]:
    messages = [str(w.message) for w in caught]
    return [m for m in messages if not any(known in m for known in UNSUBSTANTIVE)]


WRAPPERS = [BoxActionWrapper, MultiDiscreteActionWrapper, DiscreteActionWrapper]


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_wrappers_pass_sb3_check_env(wrapper):
    env = wrapper(_make())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(env, warn=True)
    assert _substantive(caught) == []
    # the raw env is what SB3 cannot take, and the filter above does not hide its warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(_make(), warn=True)
    assert any("action space is not based off a numpy array" in m for m in _substantive(caught))


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_wrappers_pass_gymnasium_check_env(wrapper):
    env = wrapper(_make())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gym_check_env(env, skip_render_check=True)
    assert _substantive(caught) == []
    # the wrapper is part of the spec, so the wrapped env can be remade from it
    remade = gym.make(env.spec)
    assert isinstance(remade, wrapper) and remade.action_space == env.action_space


class _CountSteps(gym.Wrapper):
    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.steps, self.treatments = 0, set()

    def step(self, action):
        out = self.env.step(action)
        self.steps += 1
        self.treatments.add(out[4]["treatment"])
        return out


def test_sb3_ppo_learns_2000_steps_through_a_wrapper():
    env = _CountSteps(BoxActionWrapper(_make()))
    model = PPO("MultiInputPolicy", env, n_steps=256, batch_size=64, seed=0, device="cpu")
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(2_000)
    assert env.steps == model.num_timesteps == 2_048  # whole rollouts of 256
    assert len(env.treatments) > 1  # the Gaussian's argmax explores treatments
    assert any(
        not torch.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True)
    )


# ------------------------------------------------------------------------- vector wrappers
VECTOR_WRAPPERS = [
    (VectorBoxAction, decode_box),
    (VectorMultiDiscreteAction, decode_multidiscrete),
    (VectorDiscreteAction, decode_discrete),
]


@pytest.mark.parametrize(("wrapper", "decode"), VECTOR_WRAPPERS)
@pytest.mark.parametrize("form", ["dict", "tuple"])
def test_vector_wrappers_give_the_native_env_the_decoded_batch(wrapper, decode, form):
    envs = wrapper(ManoPatientVectorEnv(4, action_space=form))
    envs.action_space.seed(3)
    envs.reset(seed=3)
    for _ in range(3):
        flat = envs.action_space.sample()
        hybrid = envs.actions(flat)
        assert hybrid in envs.env.action_space
        treatment, intensity = decode(flat)
        given = (hybrid["treatment"], hybrid["intensity"]) if form == "dict" else hybrid
        np.testing.assert_array_equal(given[0], treatment)
        np.testing.assert_allclose(given[1][:, 0], intensity, atol=1e-6)
        _, _, _, _, info = envs.step(flat)
        np.testing.assert_array_equal(info["treatment"], treatment)
    with pytest.raises(ValueError, match="expected 4 actions|shape"):
        envs.step(envs.action_space.sample()[:2])


def test_vector_wrappers_work_through_make_vec_and_with_flat_observations():
    native = gym.make_vec("ManoPatient-v0", num_envs=3)
    envs = gym.wrappers.vector.FlattenObservation(VectorDiscreteAction(native))
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (3, 60) and obs.dtype == np.float32
    obs, *_ = envs.step(np.array([0, 25, 49]))
    assert envs.observation_space.contains(obs)
    # the single-env wrappers go through make_vec's own vectorisation
    synced = gym.make_vec(
        "ManoPatient-v0",
        num_envs=2,
        vectorization_mode="sync",
        wrappers=[DiscreteActionWrapper, gym.wrappers.FlattenObservation],
    )
    obs, _ = synced.reset(seed=0)
    assert obs.shape == (2, 60)
    assert synced.action_space == gym.spaces.MultiDiscrete([50, 50])
    synced.step(np.array([3, 48]))
