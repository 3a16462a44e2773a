"""`ManoPatientVectorEnv`, the natively batched `ManoPatient-v0`: registration, spaces, the
NumPy and tensor paths, both autoreset modes, seeding, action checking, and the key property
that N patients stepped together are N single patients stepped apart."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, WINDOW_DAYS
from mano_gym.assets import load_cohort
from mano_gym.dynamics.treatments import N_TREATMENTS
from mano_gym.envs.episodes import RandomDraws, RewardWeights, make_episodes
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.vector import ManoPatientVectorEnv, step_info

N = 6
CBT = 2
REWARD_TERMS = ("risk_drop", "intensity_cost", "safety_penalty", "dropout_penalty", "cure_bonus")


def batch_action(treatment, intensity) -> dict:
    treatment = np.asarray(treatment, np.int64)
    intensity = np.broadcast_to(np.asarray(intensity, np.float32), treatment.shape)
    return {"treatment": treatment, "intensity": intensity[:, None].copy()}


def random_actions(rng: np.random.Generator, n: int) -> dict:
    return batch_action(rng.integers(N_TREATMENTS, size=n), rng.uniform(0.1, 1.0, n))


@pytest.fixture(scope="module")
def venv() -> ManoPatientVectorEnv:
    return ManoPatientVectorEnv(N)


@pytest.fixture(scope="module")
def train():
    return load_cohort("train")


# ------------------------------------------------------------------ registration, spaces
def test_make_vec_returns_the_native_batched_env_with_next_step_autoreset():
    envs = gym.make_vec("ManoPatient-v0", num_envs=3)
    assert isinstance(envs.unwrapped, ManoPatientVectorEnv) and envs.num_envs == 3
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert envs.single_observation_space == ManoPatientEnv().observation_space
    obs, info = envs.reset(seed=0)
    assert envs.observation_space.contains(obs)
    assert info["patient"].shape == (3,)
    envs.close()
    same = gym.make_vec("ManoPatient-v0", num_envs=2, autoreset_mode="SameStep")
    assert same.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    assert ManoPatientVectorEnv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP  # a copy


@pytest.mark.parametrize("mode", ["same_step", "NEXT_STEP", 1])
def test_an_unknown_autoreset_mode_names_the_modes(mode):
    with pytest.raises(ValueError, match="unknown autoreset_mode .*NEXT_STEP.*SAME_STEP.*DISABLED"):
        ManoPatientVectorEnv(2, autoreset_mode=mode)


def test_disabled_autoreset_waits_for_a_reset_mask_and_restarts_only_those_rows():
    # a seed under which no patient leaves care in the first week
    venv = ManoPatientVectorEnv(3, max_weeks=2, autoreset_mode=AutoresetMode.DISABLED)
    obs, _ = venv.reset(seed=1)
    actions = batch_action([CBT] * 3, 0.5)
    for _ in range(2):
        obs, reward, terminated, truncated, info = venv.step(actions)
    assert (terminated | truncated).all()
    with pytest.raises(RuntimeError, match=r"rows \[0, 1, 2\] have ended.*reset_mask"):
        venv.step(actions)
    before = venv.episodes.patient.copy()
    mask = np.array([True, False, True])
    obs, info = venv.reset(options={"reset_mask": mask})
    np.testing.assert_array_equal(info["_risk_score"], mask)
    np.testing.assert_array_equal(obs["week"][:, 0], [0, 2, 0])  # row 1 still shows its end
    assert venv.episodes.patient[1] == before[1] and (info["treatment"][mask] == -1).all()
    with pytest.raises(RuntimeError, match=r"rows \[1\] have ended"):
        venv.step(actions)
    for bad in (np.array([1, 0, 1]), np.zeros(3, bool), mask[:2]):
        with pytest.raises(ValueError, match="reset_mask"):
            venv.reset(options={"reset_mask": bad})


def test_seeding_sets_np_random_and_its_seed():
    venv = ManoPatientVectorEnv(2)
    assert venv.np_random_seed == -1  # drawn from the OS: unknown, as Gymnasium says it
    venv.reset(seed=123)
    assert venv.np_random_seed == 123
    again = ManoPatientVectorEnv(2)
    again.reset(seed=123)
    assert venv.np_random.integers(10**9) == again.np_random.integers(10**9)
    assert venv.np_random.bit_generator.state == again.np_random.bit_generator.state


@pytest.mark.parametrize("num_envs", ["4", True, 2.7, 0])
def test_num_envs_must_be_a_positive_integer(num_envs):
    with pytest.raises(ValueError, match="num_envs must be a positive integer|n must be >= 1"):
        ManoPatientVectorEnv(num_envs)


def test_stepping_before_any_reset_and_unknown_reset_options_are_refused():
    fresh = ManoPatientVectorEnv(2)
    with pytest.raises(RuntimeError, match="call reset"):
        fresh.step(batch_action([1, 1], 0.5))
    with pytest.raises(ValueError, match=r"unknown reset options \['patient'\]"):
        fresh.reset(options={"patient": 3})


def test_batched_observations_lie_in_the_observation_space(venv):
    venv.action_space.seed(0)
    obs, info = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    assert all(value.dtype == np.float32 and len(value) == N for value in obs.values())
    assert not obs["week"].any()
    for _ in range(15):
        obs, reward, terminated, truncated, info = venv.step(venv.action_space.sample())
        assert venv.observation_space.contains(obs)
        assert reward.shape == terminated.shape == truncated.shape == (N,)
        # float64 rewards, as SyncVectorEnv stacks them
        assert reward.dtype == np.float64 and terminated.dtype == truncated.dtype == bool
        np.testing.assert_allclose(
            reward,
            info["risk_drop"]
            - info["intensity_cost"]
            - info["safety_penalty"]
            - info["dropout_penalty"]
            + info["cure_bonus"],
            atol=1e-5,
        )
        for key in (*REWARD_TERMS, "cost", "risk_score", "sleep_loss", "heart_rate_rise"):
            assert info[key].shape == (N,), key
        assert info["signals"].shape == (N, WINDOW_DAYS, N_SIGNALS)


def test_reset_with_patients_starts_those_patients(venv, train):
    patients = venv.episodes.enrolled[[5, 1, 4, 1, 2, 3]]
    obs, info = venv.reset(seed=0, options={"patients": patients})
    np.testing.assert_array_equal(info["patient"], patients)
    np.testing.assert_array_equal(obs["static"], train.static[patients])
    with pytest.raises(ValueError, match="cohort indices"):
        venv.reset(options={"patients": patients[:-1]})
    with pytest.raises(ValueError, match="cohort indices"):
        venv.reset(options={"patients": patients.astype(float)})


def test_step_tensor_takes_and_returns_tensors(venv):
    obs = venv.reset_tensor(seed=1)
    assert all(isinstance(value, torch.Tensor) for value in obs.values())
    treatment = torch.tensor([0, 1, 2, 3, 4, 2])
    obs, reward, terminated, truncated, info = venv.step_tensor(treatment, torch.full((N,), 0.5))
    assert all(isinstance(value, torch.Tensor) for value in obs.values())
    assert isinstance(reward, torch.Tensor) and reward.shape == (N,)
    assert terminated.dtype == truncated.dtype == torch.bool
    for key in (*REWARD_TERMS, "risk_score", "cost", "signals", "patient", "treatment", "week"):
        assert isinstance(info[key], torch.Tensor), key
    assert "final_obs" not in info  # NEXT_STEP: the ended week's observation is `obs` itself
    # (N, 1) intensities are accepted too, as the NumPy path's batched Box gives them.
    venv.step_tensor(treatment, torch.full((N, 1), 0.5))


def test_same_step_tensor_path_reports_final_observations_and_infos_as_tensors():
    venv = ManoPatientVectorEnv(4, max_weeks=1, autoreset_mode=AutoresetMode.SAME_STEP)
    venv.reset_tensor(seed=1)
    obs, _, _, truncated, info = venv.step_tensor(torch.full((4,), CBT), torch.full((4,), 0.5))
    assert truncated.all() and info["_final_obs"].all() and info["_final_info"].all()
    assert all(isinstance(value, torch.Tensor) for value in info["final_obs"].values())
    assert (info["final_obs"]["week"] == 1).all() and (obs["week"] == 0).all()
    assert (info["final_info"]["treatment"] == CBT).all() and (info["treatment"] == -1).all()
    assert (step_info(info)["treatment"] == CBT).all()


# --------------------------------------------------------------------------- autoreset
def test_same_step_autoreset_returns_the_next_patient_and_the_final_observation(train):
    max_weeks = 3
    venv = ManoPatientVectorEnv(
        8, max_weeks=max_weeks, cure_threshold=0.5, autoreset_mode=AutoresetMode.SAME_STEP
    )
    rng = np.random.default_rng(2)
    obs, info = venv.reset(seed=2)
    weeks, patients = np.zeros(8, int), info["patient"].copy()
    ended = {"terminated": 0, "truncated": 0}
    for _ in range(12):
        actions = random_actions(rng, 8)
        obs, reward, terminated, truncated, info = venv.step(actions)
        weeks += 1
        done = terminated | truncated
        if not done.any():
            assert "final_obs" not in info and "final_info" not in info
            continue
        np.testing.assert_array_equal(info["_final_obs"], done)
        np.testing.assert_array_equal(info["_final_info"], done)
        assert all(info["final_obs"][row] is None for row in np.flatnonzero(~done))
        final = {key: np.stack([o[key] for o in info["final_obs"][done]]) for key in obs}
        step = step_info(info)
        # The final observation is the ended week's: its week, its risk and its exposure.
        np.testing.assert_array_equal(final["week"][:, 0], weeks[done])
        np.testing.assert_allclose(
            final["risk"][:, 1] * 0.5 + final["risk"][:, 2], step["risk_score"][done], atol=1e-6
        )
        np.testing.assert_allclose(
            final["signals"],
            (step["signals"][done] - SIGNAL_LOW) / (SIGNAL_HIGH - SIGNAL_LOW),
            atol=1e-6,
        )
        np.testing.assert_array_equal(step["patient"], patients)  # who was treated this week
        np.testing.assert_array_equal(final["static"], train.static[patients[done]])
        # Cured rows are below the threshold and no row outlives max_weeks.
        assert np.all(step["risk_score"][terminated & ~step["dropout"]] < 0.5)
        assert np.all(weeks[truncated] == max_weeks) and np.all(weeks <= max_weeks)
        # The returned observation and info of an ended row are the next patient's first.
        assert np.all(obs["week"][done, 0] == 0) and not obs["exposure"][done].any()
        assert np.all(info["treatment"][done] == -1) and np.all(info["week"][done] == 0)
        np.testing.assert_array_equal(obs["week"][~done, 0], weeks[~done])
        patients = venv.episodes.patient.copy()
        np.testing.assert_array_equal(info["patient"], patients)
        np.testing.assert_array_equal(obs["static"], train.static[patients])
        assert set(patients[done]) <= set(venv.episodes.enrolled)
        weeks[done] = 0
        ended["terminated"] += terminated.sum()
        ended["truncated"] += truncated.sum()
    assert ended["terminated"] > 0 and ended["truncated"] > 0, ended


def test_next_step_autoreset_ends_with_the_last_week_and_restarts_on_the_next_step(train):
    max_weeks = 3
    venv = ManoPatientVectorEnv(8, max_weeks=max_weeks, cure_threshold=0.5)
    rng = np.random.default_rng(2)
    obs, info = venv.reset(seed=2)
    weeks, pending = np.zeros(8, int), np.zeros(8, bool)
    ended = 0
    for _ in range(14):
        obs, reward, terminated, truncated, info = venv.step(random_actions(rng, 8))
        done = terminated | truncated
        assert "final_obs" not in info
        # rows that ended last step start again: week 0, no reward, not done, the reset info
        assert not done[pending].any() and np.all(reward[pending] == 0.0)
        assert np.all(obs["week"][pending, 0] == 0) and np.all(info["treatment"][pending] == -1)
        weeks = np.where(pending, 0, weeks + 1)
        np.testing.assert_array_equal(obs["week"][:, 0], weeks)  # an ended row shows its end
        np.testing.assert_array_equal(info["week"], weeks)
        assert np.all(weeks[truncated] == max_weeks)
        np.testing.assert_array_equal(obs["static"], train.static[info["patient"]])
        pending = done
        ended += done.sum()
    assert ended > 8


def test_same_seed_gives_the_same_batch_trajectory():
    def trajectory(seed):
        venv = ManoPatientVectorEnv(4)
        rng = np.random.default_rng(0)
        out = [venv.reset(seed=seed)]
        for _ in range(14):  # past the 12 weeks, so autoresets draw patients too
            out.append(venv.step(random_actions(rng, 4)))
        return out

    first, again, other = trajectory(5), trajectory(5), trajectory(6)
    for a, b in zip(first, again, strict=True):
        for x, y in zip(a, b, strict=True):
            if isinstance(x, dict):
                assert set(x) == set(y)
                for key in x:
                    if isinstance(x[key], dict):
                        for k in x[key]:
                            np.testing.assert_array_equal(x[key][k], y[key][k])
                    else:
                        np.testing.assert_array_equal(x[key], y[key])
            else:
                np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[1][0]["signals"], other[1][0]["signals"])


# ------------------------------------------------------------------- malformed actions
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            {"treatment": np.zeros(N - 1, int), "intensity": np.ones((N, 1))},
            r"must have shape \(6,\)",
        ),
        ({"treatment": np.zeros(N, int), "intensity": np.ones((N, 2))}, r"must have shape \(6,\)"),
        (
            {"treatment": np.zeros((N, 1), int), "intensity": np.ones((N, 1))},
            r"must have shape \(6,\)",
        ),
        ({"treatment": np.full(N, 5), "intensity": np.ones((N, 1))}, "treatment out of range"),
        ({"treatment": np.full(N, -1), "intensity": np.ones((N, 1))}, "treatment out of range"),
        ({"treatment": np.ones(N), "intensity": np.ones((N, 1))}, "integer index"),
        ({"treatment": np.ones(N, int), "intensity": np.zeros((N, 1))}, "intensity outside"),
        ({"treatment": np.ones(N, int), "intensity": np.full((N, 1), 1.5)}, "intensity outside"),
        ({"treatment": np.ones(N, int), "intensity": np.full((N, 1), np.nan)}, "finite"),
        ({"treatment": np.ones(N, int)}, "action keys must be 'treatment'"),
        ((np.ones(N, int), np.ones((N, 1))), "must be a dict"),
    ],
)
def test_malformed_batch_actions_raise_a_value_error(venv, bad, message):
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        venv.step(bad)
    obs = venv.step(batch_action(np.ones(N), 0.5))[0]
    assert np.all(obs["week"] == 1)  # the refused actions stepped nothing


@pytest.mark.parametrize(
    ("treatment", "intensity", "message"),
    [
        (torch.ones(N), torch.full((N,), 0.5), "must be an integer index"),
        (torch.ones(N, dtype=torch.bool), torch.full((N,), 0.5), "must be an integer index"),
        (torch.ones(N - 1, dtype=torch.long), torch.full((N,), 0.5), r"must have shape \(6,\)"),
        (torch.ones(N, dtype=torch.long), torch.full((N, 2), 0.5), r"must have shape \(6,\)"),
        (torch.ones(N, dtype=torch.long), torch.full((2, N // 2), 0.5), r"must have shape \(6,\)"),
        (torch.ones(N, dtype=torch.long), torch.full((1, N), 0.5), r"must have shape \(6,\)"),
        (torch.tensor([0, 1, 2, 3, 4, 5]), torch.full((N,), 0.5), r"rows \[5\]"),
        (torch.ones(N, dtype=torch.long), torch.tensor([0.5] * 5 + [1.01]), r"rows \[5\]"),
        (torch.ones(N, dtype=torch.long), torch.tensor([0.05] + [0.5] * 5), r"rows \[0\]"),
        (torch.ones(N, dtype=torch.long), torch.tensor([0.5, float("nan")] * 3), r"rows \[1, 3"),
    ],
)
def test_malformed_tensor_actions_raise_a_value_error(venv, treatment, intensity, message):
    venv.reset_tensor(seed=0)
    with pytest.raises(ValueError, match=message):
        venv.step_tensor(treatment, intensity)


def test_tuple_form_batch_actions(train):
    venv = ManoPatientVectorEnv(3, action_space="tuple")
    venv.reset(seed=0)
    venv.action_space.seed(0)
    obs, *_ = venv.step(venv.action_space.sample())
    assert venv.observation_space.contains(obs)
    with pytest.raises(ValueError, match="pair"):
        venv.step(batch_action(np.ones(3), 0.5))
    with pytest.raises(ValueError, match="does not render"):
        ManoPatientVectorEnv(2, render_mode="ansi")


# ------------------------------------------------------------------- long random run
def test_a_random_batched_run_stays_finite_and_inside_its_bounds():
    venv = ManoPatientVectorEnv(100)
    venv.action_space.seed(3)
    obs, _ = venv.reset(seed=3)
    ends = 0
    for _ in range(100):
        obs, reward, terminated, truncated, info = venv.step(venv.action_space.sample())
        assert np.isfinite(reward).all()
        assert all(np.isfinite(value).all() for value in obs.values())
        assert venv.observation_space.contains(obs)
        signals = info["signals"]
        assert np.all((signals >= SIGNAL_LOW) & (signals <= SIGNAL_HIGH))
        ends += int((terminated | truncated).sum())
    assert ends >= 100 * (100 // venv.episodes.max_weeks)  # every patient ends by the horizon


# -------------------------------------------- batched episodes = single episodes, row by row
def compare(batch: dict, singles: list[dict], atol: float = 1e-5) -> None:
    """Every output tensor of the batch equals the singles' stacked row by row."""
    assert all(set(single) == set(batch) for single in singles)
    for key, value in batch.items():
        rows = torch.cat([single[key] for single in singles])
        if value.dtype.is_floating_point:
            torch.testing.assert_close(value, rows, atol=atol, rtol=1e-5, msg=key)
        else:
            assert torch.equal(value, rows), key


def test_batched_episodes_equal_single_episodes_row_by_row():
    n, weights = 8, RewardWeights(cure_threshold=0.3)
    batch = make_episodes(n, "train", "world_model", 12, weights, "cpu", None)
    singles = [make_episodes(1, "train", "world_model", 12, weights, "cpu", None) for _ in range(n)]
    rng = np.random.default_rng(4)
    generator = torch.Generator().manual_seed(4)
    patients = rng.choice(batch.enrolled, n, replace=False)
    batch.start(np.arange(n), patients)
    for single, patient in zip(singles, patients, strict=True):
        single.start(np.zeros(1, int), np.array([patient]))
    for week in range(10):
        if week == 4:  # restart some rows mid-way, as autoreset does
            rows, fresh = np.array([1, 5]), rng.choice(batch.enrolled, 2)
            batch.start(rows, fresh)
            for row, patient in zip(rows, fresh, strict=True):
                singles[row].start(np.zeros(1, int), np.array([patient]))
        compare(batch.observation(), [single.observation() for single in singles])
        treatment = torch.as_tensor(rng.integers(N_TREATMENTS, size=n))
        intensity = torch.as_tensor(rng.uniform(0.1, 1.0, n), dtype=torch.float32)
        noise = torch.randn((n, WINDOW_DAYS, N_SIGNALS), generator=generator)
        uniform = torch.rand(n, generator=generator)
        out = batch.step(treatment, intensity, GivenNoise(noise, uniform, rng))
        single_outs = [
            single.step(
                treatment[i : i + 1],
                intensity[i : i + 1],
                GivenNoise(noise[i : i + 1], uniform[i : i + 1], rng),
            )
            for i, single in enumerate(singles)
        ]
        compare(out, single_outs)
    compare(batch.observation(), [single.observation() for single in singles])


class GivenNoise(RandomDraws):
    """Random draws whose world-model noise and drop-out draws are the ones given."""

    def __init__(self, noise: torch.Tensor, uniform: torch.Tensor, rng: np.random.Generator):
        super().__init__(rng)
        self.noise, self.given_uniform = noise, uniform

    def normal(self, shape: tuple[int, ...], device: torch.device) -> torch.Tensor:
        assert tuple(self.noise.shape) == shape
        return self.noise

    def uniform(self, n: int, device: torch.device) -> torch.Tensor:
        assert tuple(self.given_uniform.shape) == (n,)
        return self.given_uniform


class Recording:
    """A NumPy generator that keeps every draw it makes."""

    def __init__(self, seed: int) -> None:
        self.rng, self.draws = np.random.default_rng(seed), []

    def __getattr__(self, name):
        method = getattr(self.rng, name)

        def draw(*args, **kwargs):
            value = method(*args, **kwargs)
            self.draws.append((name, value))
            return value

        return draw


class Replay:
    """Gives a batch the draws its rows' single episodes made, stacked row by row: the k-th
    call returns the k-th draws of every single generator, concatenated along the first axis."""

    def __init__(self, singles: list[Recording]) -> None:
        self.singles, self.calls = singles, 0

    def __getattr__(self, name):
        def draw(*args, size=None, **kwargs):
            size = args[-1] if size is None else size
            parts = [single.draws[self.calls] for single in self.singles]
            assert all(kind == name for kind, _ in parts), (name, parts)
            self.calls += 1
            value = np.concatenate([np.atleast_1d(part) for _, part in parts])
            assert value.shape == tuple(np.atleast_1d(size)), (name, value.shape, size)
            return value

        return draw


def test_batched_reference_episodes_equal_single_episodes_given_the_same_draws():
    # The reference simulator draws its randomness for the whole batch at once (one array per
    # kind of draw), so N rows of one generator never see the draws N single episodes of their
    # own generators would. Exact agreement therefore needs the same draws: each single episode
    # records its draws, and the batch replays them stacked row by row. That pins the claim
    # that matters (the batched dynamics treat each row as its own patient) without pretending
    # one generator could give both the same numbers.
    n, weights = 6, RewardWeights(cure_threshold=0.3)
    batch = make_episodes(n, "train", "reference", 12, weights, "cpu", None)
    singles = [make_episodes(1, "train", "reference", 12, weights, "cpu", None) for _ in range(n)]
    recordings = [Recording(seed) for seed in range(n)]
    replay = Replay(recordings)
    rng = np.random.default_rng(5)
    patients = rng.choice(batch.enrolled, n, replace=False)
    batch.start(np.arange(n), patients)
    for single, patient in zip(singles, patients, strict=True):
        single.start(np.zeros(1, int), np.array([patient]))
    for week in range(8):
        if week == 3:
            batch.start(np.array([2]), np.array([patients[0]]))
            singles[2].start(np.zeros(1, int), np.array([patients[0]]))
        treatment = torch.as_tensor(rng.integers(N_TREATMENTS, size=n))
        intensity = torch.as_tensor(rng.uniform(0.1, 1.0, n), dtype=torch.float32)
        single_outs = [
            single.step(treatment[i : i + 1], intensity[i : i + 1], RandomDraws(recordings[i]))
            for i, single in enumerate(singles)
        ]
        out = batch.step(treatment, intensity, RandomDraws(replay))
        compare(out, single_outs)
        compare(batch.observation(), [single.observation() for single in singles])
    assert replay.calls == len(recordings[0].draws) > 0


def test_single_env_and_one_env_vector_agree_given_the_same_patient_and_noise(monkeypatch):
    env, venv = ManoPatientEnv(), ManoPatientVectorEnv(1)
    patient = int(env.episodes.enrolled[10])
    noises = []
    single_step, vector_step = env.episodes.step, venv.episodes.step

    def record(treatment, intensity, draws):
        noises.append(
            (
                draws.normal((1, WINDOW_DAYS, N_SIGNALS), treatment.device),
                draws.uniform(1, treatment.device),
            )
        )
        return single_step(treatment, intensity, GivenNoise(*noises[-1], draws.rng))

    def replay(treatment, intensity, draws):
        replayed.append(noises[len(replayed)])
        return vector_step(treatment, intensity, GivenNoise(*replayed[-1], draws.rng))

    replayed: list[torch.Tensor] = []
    monkeypatch.setattr(env.episodes, "step", record)
    monkeypatch.setattr(venv.episodes, "step", replay)
    obs, _ = env.reset(seed=0, options={"patient": patient})
    vobs, _ = venv.reset(seed=0, options={"patients": np.array([patient])})
    for key in obs:
        np.testing.assert_array_equal(vobs[key][0], obs[key])
    rng = np.random.default_rng(7)
    for _ in range(12):
        t, i = int(rng.integers(N_TREATMENTS)), float(rng.uniform(0.1, 1.0))
        obs, reward, terminated, truncated, info = env.step(
            {"treatment": t, "intensity": np.array([i], np.float32)}
        )
        vobs, vreward, vterminated, vtruncated, vinfo = venv.step(batch_action([t], i))
        assert vreward[0] == pytest.approx(reward, abs=1e-6)
        assert (vterminated[0], vtruncated[0]) == (terminated, truncated)
        for key in (*REWARD_TERMS, "risk_score", "cost", "sleep_loss", "heart_rate_rise"):
            assert vinfo[key][0] == pytest.approx(info[key], abs=1e-6), key
        np.testing.assert_array_equal(vinfo["signals"][0], info["signals"])
        for key in obs:
            np.testing.assert_array_equal(vobs[key][0], obs[key])
        if terminated or truncated:
            break
    assert len(noises) == len(replayed) > 0


def test_single_env_and_one_env_vector_agree_under_reference_dynamics_with_the_same_seed():
    # Reference dynamics draw from the env's NumPy generator: the single env's `np_random`
    # and the vector env's `default_rng` come from the same seed the same way, and with one
    # row the batch draws what the single env draws, so the two agree exactly.
    env, venv = ManoPatientEnv(dynamics="reference"), ManoPatientVectorEnv(1, dynamics="reference")
    patient = int(env.episodes.enrolled[20])
    env.reset(seed=9, options={"patient": patient})
    venv.reset(seed=9, options={"patients": np.array([patient])})
    for week in range(12):
        t, i = week % N_TREATMENTS, 0.2 + 0.05 * week
        obs, reward, terminated, truncated, info = env.step(
            {"treatment": t, "intensity": np.array([i], np.float32)}
        )
        vobs, vreward, vterminated, vtruncated, vinfo = venv.step(batch_action([t], i))
        assert vreward[0] == pytest.approx(reward, abs=1e-6)
        assert (vterminated[0], vtruncated[0]) == (terminated, truncated)
        np.testing.assert_array_equal(vinfo["dass"][0], info["dass"])
        assert vinfo["true_risk"][0] == info["true_risk"]
        assert vinfo["adverse_event"][0] == info["adverse_event"]
        np.testing.assert_array_equal(vinfo["signals"][0], info["signals"])
        for key in obs:
            np.testing.assert_array_equal(vobs[key][0], obs[key])
        if terminated or truncated:
            break


def test_a_saved_state_continues_exactly_and_a_bad_one_changes_nothing():
    actions = [batch_action(np.array([1, 2, 4]), 0.5), batch_action(np.array([0, 3, 2]), 0.7)]
    first = ManoPatientVectorEnv(3)
    first.reset(seed=3)
    first.step(actions[0])
    saved = first.get_state()
    expected = first.step(actions[1])[1]
    second = ManoPatientVectorEnv(3)
    second.reset(seed=9)
    before = second.episodes.state.patient.clone()
    for bad, message in (
        ({**saved, "torch_generator": torch.zeros(3, dtype=torch.uint8)}, "torch_generator"),
        ({**saved, "numpy_rng": {"bit_generator": "nope"}}, "numpy_rng"),
        ({**saved, "episodes": {**saved["episodes"], "episode": {
            **saved["episodes"]["episode"], "patient": torch.tensor([-5, 0, 1])}}}, "outside"),
    ):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            second.set_state(bad)
        assert torch.equal(second.episodes.state.patient, before)
    second.set_state(saved)
    np.testing.assert_array_equal(second.step(actions[1])[1], expected)
