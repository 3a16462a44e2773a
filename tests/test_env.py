"""`ManoPatient-v0`, the single-patient environment: its spaces, the reset/step contract, seeding,
action checking, rendering, Gymnasium's own checker, the reference dynamics, cohorts and
artifacts, and a long random run that must stay finite and inside its bounds."""

from __future__ import annotations

import shutil
import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from generators.signals import N_SIGNALS, SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, WINDOW_DAYS
from mano_gym.assets import FILES, MANIFEST, SHIPPED, WORLD_MODEL, load_cohort, verified_artifact
from mano_gym.cohorts.cohort import STATIC_FEATURES, Cohort
from mano_gym.dynamics.reference import DASS_MAX
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS, TREATMENTS
from mano_gym.envs.patient import ManoPatientEnv

OBS_KEYS = {"static", "signals", "risk", "exposure", "week"}
REWARD_TERMS = ("risk_drop", "intensity_cost", "safety_penalty", "dropout_penalty", "cure_bonus")
INFO_KEYS = {
    "risk_score",
    *REWARD_TERMS,
    "cost",
    "sleep_loss",
    "heart_rate_rise",
    "dropout",
    "signals",
    "treatment",
    "intensity",
    "patient",
    "week",
}
REFERENCE_INFO_KEYS = {"dass", "true_risk", "adverse_event", "deterioration"}
CBT = TREATMENTS.index("cbt")
APP = TREATMENTS.index("wellness_app")
# Every info value has one type and shape, at reset too: NumPy numbers, Python bools, arrays.
FLOAT, INT, BOOL = (np.float64, ()), (np.int64, ()), (bool, ())
STEP_INFO_TYPES = {
    **dict.fromkeys(("risk_score", *REWARD_TERMS, "cost", "intensity"), FLOAT),
    **dict.fromkeys(("sleep_loss", "heart_rate_rise", "dropout"), BOOL),
    **dict.fromkeys(("treatment", "patient", "week"), INT),
    "signals": (np.dtype(np.float32), (WINDOW_DAYS, N_SIGNALS)),
}
REFERENCE_INFO_TYPES = {
    "dass": (np.dtype(np.float32), (3,)),
    "true_risk": INT,
    "adverse_event": BOOL,
    "deterioration": BOOL,
}


def info_types(info: dict) -> dict:
    return {
        key: (value.dtype.type if isinstance(value, np.ndarray) else type(value), np.shape(value))
        for key, value in info.items()
    }


def action(treatment: int, intensity: float) -> dict:
    return {"treatment": treatment, "intensity": np.array([intensity], np.float32)}


def assert_in_space(space: spaces.Dict, obs: dict) -> None:
    """`obs` in `space`, with a message naming the key that is not."""
    assert set(obs) == set(space.spaces)
    for key, value in obs.items():
        assert value.dtype == np.float32, key
        assert space[key].contains(value), (key, value)
    assert space.contains(obs)


def run_episode(env: gym.Env, actions: list[dict], seed: int, options: dict | None = None):
    """Reset with `seed` and play `actions` until they run out or the episode ends."""
    obs, info = env.reset(seed=seed, options=options)
    trace = [(obs, info)]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        trace.append((obs, reward, terminated, truncated, info))
        if terminated or truncated:
            break
    return trace


def assert_same(a, b) -> None:
    """Exact equality of nested tuples, dicts, arrays and scalars."""
    if isinstance(a, dict):
        assert set(a) == set(b)
        for key in a:
            assert_same(a[key], b[key])
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    else:
        assert type(a) is type(b) and a == b, (a, b)


@pytest.fixture(scope="module")
def env() -> ManoPatientEnv:
    return ManoPatientEnv()


@pytest.fixture(scope="module")
def train():
    return load_cohort("train")


# --------------------------------------------------------------------------------- spaces
def test_observations_lie_in_the_observation_space_for_reset_and_twelve_steps(env):
    env.action_space.seed(1)
    obs, _ = env.reset(seed=1, options={"patient": int(env.episodes.enrolled[0])})
    assert_in_space(env.observation_space, obs)
    assert obs["static"].shape == (len(STATIC_FEATURES),)
    assert obs["signals"].shape == (WINDOW_DAYS, N_SIGNALS)
    assert obs["week"][0] == 0.0 and not obs["exposure"].any()
    week = 0
    for _ in range(12):
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        week += 1
        assert_in_space(env.observation_space, obs)
        assert obs["week"][0] == week == info["week"]
        if terminated or truncated:
            assert terminated or week == env.max_weeks
            obs, _ = env.reset()
            assert_in_space(env.observation_space, obs)
            week = 0


def test_action_space_is_a_dict_of_a_treatment_and_an_intensity(env):
    space = env.action_space
    assert isinstance(space, spaces.Dict) and set(space.spaces) == {"treatment", "intensity"}
    assert space["treatment"] == spaces.Discrete(N_TREATMENTS)
    intensity = space["intensity"]
    assert intensity.shape == (1,) and intensity.dtype == np.float32
    assert intensity.low[0] == np.float32(INTENSITY_LOW)
    assert intensity.high[0] == np.float32(INTENSITY_HIGH)
    for space_ in env.observation_space.spaces.values():
        assert space_.dtype == np.float32


def test_tuple_action_space_takes_tuple_actions():
    env = ManoPatientEnv(action_space="tuple")
    assert isinstance(env.action_space, spaces.Tuple)
    assert env.action_space[0] == spaces.Discrete(N_TREATMENTS)
    env.reset(seed=0)
    obs, reward, *_, info = env.step((CBT, np.array([0.5], np.float32)))
    assert info["treatment"] == CBT and info["intensity"] == pytest.approx(0.5)
    assert np.isfinite(reward) and env.observation_space.contains(obs)
    env.action_space.seed(0)
    env.step(env.action_space.sample())
    with pytest.raises(ValueError, match=r"\(treatment, intensity\) pair"):
        env.step(action(CBT, 0.5))  # the dict form is refused by the tuple env


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"action_space": "box"}, "action_space 'box'"),
        ({"dynamics": "simulator"}, "dynamics 'simulator'"),
        ({"render_mode": "human"}, "render_mode 'human'"),
        ({"cohort": "test"}, "cohort must be 'train', 'eval'"),
        ({"max_weeks": 2.5}, "max_weeks must be an integer, got 2.5"),
        ({"max_weeks": True}, "max_weeks must be an integer, got True"),
        ({"max_weeks": 0}, "max_weeks must be >= 1"),
        ({"risk_weight": -1.0}, "reward weights must be finite and >= 0"),
        ({"intensity_cost": (0.0, 0.1, -0.4, 0.2, 0.3)}, "reward weights must be finite and >= 0"),
    ],
)
def test_unknown_options_raise_a_value_error_naming_the_option(kwargs, named):
    with pytest.raises(ValueError, match=named):
        ManoPatientEnv(**kwargs)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"patients": [3]}, r"unknown reset options \['patients'\]; known: patient"),
        ({"patient": True}, "must be a cohort index"),
        ({"patient": 2.0}, "must be a cohort index"),
        ({"patient": -1}, "outside the cohort"),
    ],
)
def test_a_refused_reset_changes_nothing(env, options, message):
    enrolled = env.episodes.enrolled  # the most severe patient, untreated: not cured in 2 weeks
    patient = int(enrolled[np.argmax(env.episodes.all_proba[enrolled, 2].numpy())])
    env.reset(seed=0, options={"patient": patient})
    before = env.step(action(0, 0.1))[4]
    with pytest.raises(ValueError, match=message):
        env.reset(seed=1, options=options)
    after = env.step(action(0, 0.1))[4]  # the episode goes on, with the same patient
    assert after["patient"] == before["patient"] == patient
    assert after["week"] == before["week"] + 1


def test_a_numpy_integer_patient_starts_that_patient(env):
    assert env.reset(seed=0, options={"patient": np.int32(5)})[1]["patient"] == 5
    assert env.step(action(1, 0.2))[4]["patient"] == 5


# ------------------------------------------------------------------ reset / step contract
def test_reset_and_step_return_the_documented_types_and_info(env, train):
    obs, info = env.reset(seed=2)
    assert isinstance(obs, dict) and set(obs) == OBS_KEYS
    # reset reports the keys a step does: nothing given, nothing earned yet
    assert set(info) == INFO_KEYS
    patient = info["patient"]
    assert patient in set(env.episodes.enrolled.tolist())
    assert info["risk_score"] >= env.episodes.reward.cure_threshold
    assert info["treatment"] == -1 and info["week"] == 0 and info["intensity"] == 0.0
    assert all(info[key] == 0.0 for key in (*REWARD_TERMS, "cost"))
    assert info["sleep_loss"] is False and info["heart_rate_rise"] is False
    np.testing.assert_array_equal(info["signals"], train.first_signals[patient])
    assert info_types(info) == STEP_INFO_TYPES
    obs, reward, terminated, truncated, info = env.step(action(CBT, 0.7))
    assert isinstance(obs, dict) and set(obs) == OBS_KEYS
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    assert set(info) == INFO_KEYS
    assert info_types(info) == STEP_INFO_TYPES
    assert info["cost"] == info["sleep_loss"] + info["heart_rate_rise"]
    assert info["treatment"] == CBT and info["intensity"] == pytest.approx(0.7)
    assert info["patient"] == patient and info["week"] == 1
    assert info["signals"].shape == (WINDOW_DAYS, N_SIGNALS)
    # Real units: the observation is the same week scaled into 0-1.
    np.testing.assert_allclose(
        obs["signals"], (info["signals"] - SIGNAL_LOW) / (SIGNAL_HIGH - SIGNAL_LOW), atol=1e-6
    )
    # The observed risk is the predictor's and the risk score is P(medium) / 2 + P(high).
    assert obs["risk"].sum() == pytest.approx(1.0, abs=1e-5)
    assert info["risk_score"] == pytest.approx(obs["risk"][1] * 0.5 + obs["risk"][2], abs=1e-6)
    # Exposure trace: 0.3 of this week's intensity for the treatment given, none elsewhere.
    np.testing.assert_allclose(obs["exposure"], np.eye(N_TREATMENTS)[CBT] * 0.3 * 0.7, atol=1e-6)
    # Safety flags: the week's mean against the patient's first (pre-treatment) week.
    first = load_cohort("train").first_signals[patient].mean(axis=0)
    change = info["signals"].mean(axis=0) - first
    assert info["sleep_loss"] == bool(change[0] <= -0.75 + 1e-5)
    assert info["heart_rate_rise"] == bool(change[2] >= 4.0 - 1e-5)


def test_reward_is_risk_drop_minus_costs_plus_cure_bonus():
    env = ManoPatientEnv(cure_threshold=0.5)
    env.action_space.seed(3)
    seen = {term: 0 for term in REWARD_TERMS}
    _, info = env.reset(seed=3)
    last_score = info["risk_score"]
    for _ in range(300):
        a = env.action_space.sample()
        _, reward, terminated, truncated, info = env.step(a)
        expected = (
            info["risk_drop"]
            - info["intensity_cost"]
            - info["safety_penalty"]
            - info["dropout_penalty"]
            + info["cure_bonus"]
        )
        assert reward == pytest.approx(expected, abs=1e-5)
        assert info["risk_drop"] == pytest.approx(
            10.0 * (last_score - info["risk_score"]), abs=1e-4
        )
        cost = (0.0, 0.1, 0.4, 0.2, 0.3)[int(a["treatment"])] * float(a["intensity"][0])
        assert info["intensity_cost"] == pytest.approx(cost, abs=1e-6)
        assert info["safety_penalty"] == info["cost"]
        assert info["cure_bonus"] == (2.0 if terminated and not info["dropout"] else 0.0)
        first = env.unwrapped.episodes.all_first_score[info["patient"]].item()
        taken_back = 10.0 * max(first - info["risk_score"], 0.0)
        assert info["dropout_penalty"] == pytest.approx(
            (1.0 + taken_back) if info["dropout"] else 0.0, abs=1e-5
        )
        assert terminated or not info["dropout"]
        for term in REWARD_TERMS:
            seen[term] += info[term] != 0.0
        last_score = info["risk_score"]
        if terminated or truncated:
            _, info = env.reset()
            last_score = info["risk_score"]
    assert all(seen.values()), seen  # every term was exercised


def test_reward_weights_are_applied():
    weights = {"risk_weight": 3.0, "intensity_cost": (0, 1, 1, 1, 1), "safety_penalty": 0.5}
    env = ManoPatientEnv(**weights, cure_bonus=7.0, cure_threshold=0.5)
    _, info = env.reset(seed=4)
    last, cured = info["risk_score"], 0
    for _ in range(200):
        _, reward, terminated, truncated, info = env.step(action(CBT, 0.4))
        assert info["risk_drop"] == pytest.approx(3.0 * (last - info["risk_score"]), abs=1e-4)
        assert info["intensity_cost"] == pytest.approx(0.4)
        assert info["safety_penalty"] == 0.5 * info["cost"]
        cure = terminated and not info["dropout"]
        assert info["cure_bonus"] == 7.0 * cure
        cured += cure
        last = info["risk_score"]
        if terminated or truncated:
            last = env.reset()[1]["risk_score"]
    assert cured > 0


@pytest.mark.parametrize("max_weeks", [24, 3, 52])
def test_episode_is_truncated_after_max_weeks_unless_the_patient_leaves_care(max_weeks):
    # A cure threshold no predicted risk reaches, so an episode ends by truncation or drop-out.
    env = ManoPatientEnv(max_weeks=max_weeks, cure_threshold=1e-9)
    assert env.observation_space["week"].high[0] == max_weeks
    truncations = 0
    for seed in range(6):
        trace = run_episode(env, [action(0, 0.1)] * (max_weeks + 5), seed=seed)
        flags = [(step[2], step[3]) for step in trace[1:]]
        weeks = len(trace) - 1
        assert flags[:-1] == [(False, False)] * (weeks - 1)
        if trace[-1][4]["dropout"]:
            assert flags[-1] == (True, False) and weeks <= max_weeks
        else:
            assert flags[-1] == (False, True) and weeks == max_weeks
            truncations += 1
        assert trace[-1][4]["week"] == trace[-1][0]["week"][0] == weeks
        assert all(step[4]["cure_bonus"] == 0.0 for step in trace[1:])
    assert truncations > 0


def test_a_horizon_beyond_a_year_is_refused():
    with pytest.raises(ValueError, match="max_weeks must be at most 52"):
        ManoPatientEnv(max_weeks=53)


@pytest.mark.parametrize("cure_weeks", [1, 2, 3])
def test_a_cure_needs_the_risk_under_its_threshold_for_cure_weeks_in_a_row(cure_weeks):
    env = ManoPatientEnv(cure_threshold=0.6, cure_weeks=cure_weeks)
    env.action_space.seed(7)
    cures = 0
    for seed in range(20):
        trace = run_episode(env, [action(CBT, 1.0)] * 30, seed=seed)
        scores = [trace[0][1]["risk_score"]] + [step[4]["risk_score"] for step in trace[1:]]
        for week, step in enumerate(trace[1:], start=1):
            under = [s < 0.6 for s in scores[max(0, week - cure_weeks + 1) : week + 1]]
            cured = step[2] and not step[4]["dropout"]
            assert cured == (len(under) == cure_weeks and all(under) and week >= cure_weeks)
            cures += cured
    assert cures > 0


def test_cure_weeks_must_be_a_positive_integer():
    with pytest.raises(ValueError, match="cure_weeks must be >= 1"):
        ManoPatientEnv(cure_weeks=0)
    with pytest.raises(ValueError, match="cure_weeks must be an integer"):
        ManoPatientEnv(cure_weeks=1.5)


@pytest.mark.parametrize("dynamics", ["world_model", "reference"])
def test_a_dropout_ends_the_episode_with_its_penalty(dynamics):
    env = ManoPatientEnv(dynamics=dynamics, cure_threshold=1e-9, dropout_penalty=3.0)
    dropouts = 0
    for seed in range(40):
        trace = run_episode(env, [action(APP, 1.0)] * 30, seed=seed)
        last = trace[-1]
        if last[4]["dropout"]:
            dropouts += 1
            assert last[2] and not last[3] and last[4]["dropout_penalty"] >= 3.0
            # the improvement credited is taken back: the episode's risk terms sum to <= 0
            risk = sum(step[4]["risk_drop"] for step in trace[1:]) - last[4]["dropout_penalty"]
            assert risk <= -3.0 + 1e-4
        assert not any(step[4]["dropout"] for step in trace[1:-1])
    assert 5 < dropouts < 40  # the app loses many, not all (Torous et al. 2020)


def test_episode_terminates_with_the_cure_bonus_when_risk_falls_below_the_threshold():
    env = ManoPatientEnv(cure_threshold=0.9)
    enrolled = env.episodes.enrolled
    assert len(enrolled) > 0
    cures = 0
    env.action_space.seed(5)
    for seed in range(30):
        _, info = env.reset(seed=seed)
        assert info["risk_score"] >= 0.9  # enrolled patients start at or above the threshold
        while True:
            _, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert not (terminated and truncated)
            if terminated and not info["dropout"]:
                assert info["risk_score"] < 0.9 and info["cure_bonus"] == 2.0
                cures += 1
            else:
                assert info["cure_bonus"] == 0.0
            if terminated or truncated:
                assert not truncated or info["week"] == env.max_weeks
                break
    assert cures > 0


# --------------------------------------------------------------------------------- seeding
def test_same_seed_and_actions_reproduce_observations_rewards_and_infos():
    actions = [action(t % N_TREATMENTS, 0.1 + 0.07 * t) for t in range(12)]
    first = run_episode(ManoPatientEnv(), actions, seed=11)
    again = run_episode(ManoPatientEnv(), actions, seed=11)
    assert_same(first, again)
    env = ManoPatientEnv()
    run_episode(env, actions, seed=99)  # the same env, reseeded, forgets what came before
    assert_same(run_episode(env, actions, seed=11), first)


def test_different_seeds_give_different_episodes(env):
    actions = [action(CBT, 0.5)] * 3
    patient = int(env.episodes.enrolled[0])
    a = run_episode(env, actions, seed=1, options={"patient": patient})
    b = run_episode(env, actions, seed=2, options={"patient": patient})
    # Same patient, other noise: the first observation agrees, the treated weeks do not.
    assert_same(a[0], b[0])
    assert not np.array_equal(a[1][4]["signals"], b[1][4]["signals"])
    patients = {env.reset(seed=seed)[1]["patient"] for seed in range(10)}
    assert len(patients) > 5


def test_reset_with_a_patient_option_starts_that_cohort_patient(env, train):
    for patient in (0, 17, len(train) - 1, int(env.episodes.enrolled[3])):
        obs, info = env.reset(seed=0, options={"patient": patient})
        assert info["patient"] == patient
        np.testing.assert_array_equal(obs["static"], train.static[patient])
        np.testing.assert_allclose(
            obs["signals"],
            (train.first_signals[patient] - SIGNAL_LOW) / (SIGNAL_HIGH - SIGNAL_LOW),
            atol=1e-6,
        )
        assert obs["week"][0] == 0.0
        assert env.step(action(1, 0.2))[4]["patient"] == patient
    with pytest.raises(ValueError, match="outside the cohort"):
        env.reset(options={"patient": len(train)})
    with pytest.raises(ValueError, match="outside the cohort"):
        env.reset(options={"patient": -1})
    with pytest.raises(ValueError, match="cohort index"):
        env.reset(options={"patient": 1.5})


def test_returned_observations_and_infos_are_not_changed_by_later_calls(env):
    env.reset(seed=6)
    env.step(action(CBT, 1.0))
    obs, _, _, _, info = env.step(action(4, 1.0))
    kept_obs = {key: value.copy() for key, value in obs.items()}
    kept_signals = info["signals"].copy()
    first, _ = env.reset(seed=7)  # a new patient right after the last step
    kept_first = {key: value.copy() for key, value in first.items()}
    env.step(action(1, 0.3))
    env.reset(seed=8)
    assert_same(obs, kept_obs)
    np.testing.assert_array_equal(info["signals"], kept_signals)
    assert_same(first, kept_first)


# ------------------------------------------------------------------------ malformed actions
@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"treat": 1, "intensity": np.array([0.5])}, "action keys must be 'treatment'"),
        ({"treatment": 1, "intensity": np.array([0.5]), "dose": 1}, "action keys must be"),
        ({"treatment": 1, "intensity": np.array([np.nan])}, "intensity must be finite"),
        ({"treatment": 1, "intensity": np.array([0.5, 0.5])}, r"intensity must have shape \(1,\)"),
        ({"treatment": 5, "intensity": np.array([0.5])}, "treatment out of range"),
        ({"treatment": -1, "intensity": np.array([0.5])}, "treatment out of range"),
        ({"treatment": 1, "intensity": np.array([0.0])}, r"intensity outside \[0.1, 1.0\]"),
        ({"treatment": 1, "intensity": np.array([1.5])}, r"intensity outside \[0.1, 1.0\]"),
        ({"treatment": 1.0, "intensity": np.array([0.5])}, "treatment must be an integer"),
        ({"treatment": [1, 2], "intensity": np.array([0.5])}, "treatment must be one integer"),
        ({"treatment": 1, "intensity": "high"}, "intensity must be a number"),
        ((1, np.array([0.5])), "action must be a dict"),
        (3, "action must be a dict"),
    ],
)
def test_malformed_actions_raise_a_value_error_naming_the_problem(env, bad, message):
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(bad)
    # Nothing was stepped: the episode is still in its first week.
    assert env.step(action(1, 0.5))[4]["week"] == 1


# -------------------------------------------------------------------------------- rendering
def test_ansi_render_is_a_text_table_of_the_treatments_taken():
    env = ManoPatientEnv(render_mode="ansi", cure_threshold=1e-9)
    env.reset(seed=0)
    taken = ["cbt", "medication", "exercise"]
    for name in taken:
        env.step(action(TREATMENTS.index(name), 0.6))
    table = env.render()
    assert isinstance(table, str)
    lines = table.strip().splitlines()
    assert len(lines) == 2 + 1 + len(taken)  # header, rule, week 0, one line per week
    assert lines[0].split()[:3] == ["week", "treatment", "intensity"]
    for week, name in enumerate(taken, start=1):
        assert lines[2 + week].split()[:3] == [str(week), name, "0.60"]
    assert "wellness_app" not in table


def test_rgb_array_render_is_a_uint8_image():
    env = ManoPatientEnv(render_mode="rgb_array")
    env.reset(seed=0)
    env.step(action(CBT, 0.5))
    image = env.render()
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 3 and min(image.shape[:2]) > 50
    assert image.min() < 128 < image.max()  # something is drawn on the background


def test_no_render_mode_renders_nothing(env):
    env.reset(seed=0)
    assert env.render() is None


# -------------------------------------------------------------------- Gymnasium's checker
def test_gymnasium_env_checker_passes_without_warnings():
    env = gym.make("ManoPatient-v0").unwrapped
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env)
    # One warning is accepted: the checker recommends a symmetric, normalised Box for the
    # intensity; Mano's is [0.1, 1.0] on purpose (the fraction of a full-dose course, with no
    # zero dose: that is `control`), and flat-action wrappers rescale it for RL libraries.
    # Anything else (reset or step not deterministic under a seed, data reused, spaces,
    # rendering through the spec in both modes) fails the test.
    accepted = "For Box action spaces, we recommend using a symmetric and normalized space"
    messages = [str(w.message) for w in caught]
    assert [m for m in messages if accepted not in m] == []
    assert len(messages) <= 1


# ------------------------------------------------------------------- reference dynamics
def test_reference_dynamics_report_the_latent_state():
    env = ManoPatientEnv(dynamics="reference")
    env.action_space.seed(8)
    risks = set()
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        assert set(info) == INFO_KEYS | REFERENCE_INFO_KEYS
        first = env.episodes.cohort.patients.first_scores[info["patient"]]
        np.testing.assert_array_equal(info["dass"], first.astype(np.float32))
        assert info["adverse_event"] is False and info["deterioration"] is False
        for _ in range(12):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            assert set(info) == INFO_KEYS | REFERENCE_INFO_KEYS
            assert info["dass"].shape == (3,)
            assert np.all((info["dass"] >= 0.0) & (info["dass"] <= DASS_MAX))
            assert info["true_risk"] in {0, 1, 2}
            assert info_types(info) == STEP_INFO_TYPES | REFERENCE_INFO_TYPES
            assert env.observation_space.contains(obs) and np.isfinite(reward)
            risks.add(info["true_risk"])
            if terminated or truncated:
                break
    assert len(risks) > 1


def test_reference_dynamics_are_reproducible_under_a_seed():
    actions = [action(t % N_TREATMENTS, 1.0 - 0.05 * t) for t in range(12)]
    first = run_episode(ManoPatientEnv(dynamics="reference"), actions, seed=21)
    again = run_episode(ManoPatientEnv(dynamics="reference"), actions, seed=21)
    assert_same(first, again)
    other = run_episode(
        ManoPatientEnv(dynamics="reference"),
        actions,
        seed=22,
        options={"patient": first[0][1]["patient"]},
    )
    assert not np.array_equal(first[1][4]["dass"], other[1][4]["dass"])


# ---------------------------------------------------------------------- cohorts, artifacts
def test_eval_cohort_holds_held_out_patients(train):
    env = ManoPatientEnv(cohort="eval")
    held_out = load_cohort("eval")
    assert env.episodes.cohort is held_out
    # No patient is shared: no first observed week of the eval cohort is one of train's.
    seen = {week.tobytes() for week in train.first_signals}
    assert not any(week.tobytes() in seen for week in held_out.first_signals)
    assert not np.array_equal(held_out.static[:50], train.static[:50])
    for seed in range(5):
        obs, info = env.reset(seed=seed)
        np.testing.assert_array_equal(obs["static"], held_out.static[info["patient"]])
    assert info["patient"] < len(held_out)


def subset(cohort: Cohort, index: np.ndarray) -> Cohort:
    return Cohort(
        cohort.profile_table[index],
        cohort.profile_columns,
        cohort.static[index],
        cohort.patients.subset(index),
        cohort.first_signals[index],
        cohort.seed,
    )


def test_a_user_cohort_file_is_used(tmp_path):
    held_out = load_cohort("eval")
    index = ManoPatientEnv(cohort="eval").episodes.enrolled[:6]
    path = tmp_path / "mine.npz"
    subset(held_out, index).save(path)
    env = ManoPatientEnv(cohort=path)
    assert len(env.episodes.cohort) == 6
    np.testing.assert_array_equal(env.episodes.enrolled, np.arange(6))
    for k in range(6):
        obs, info = env.reset(seed=k, options={"patient": k})
        np.testing.assert_array_equal(obs["static"], held_out.static[index[k]])
        assert env.step(action(CBT, 0.5))[4]["patient"] == k
    assert ManoPatientEnv(cohort=str(path)).episodes.enrolled.tolist() == list(range(6))


def test_a_corrupt_cohort_file_is_refused(tmp_path):
    garbage = tmp_path / "broken.npz"
    garbage.write_bytes(b"PK\x03\x04 not really a zip archive" * 10)
    with pytest.raises(ValueError, match="not a readable cohort file"):
        ManoPatientEnv(cohort=garbage)
    other = tmp_path / "other.npz"
    np.savez(other, static=np.zeros((2, len(STATIC_FEATURES))))
    with pytest.raises(ValueError, match="not a cohort file, missing arrays"):
        ManoPatientEnv(cohort=other)
    with pytest.raises(ValueError, match="cohort .npz file"):
        ManoPatientEnv(cohort=tmp_path / "cohort.csv")


def test_a_corrupt_world_model_file_is_refused(tmp_path):
    garbage = tmp_path / "world_model.pt"
    garbage.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ValueError, match="not a readable world model file"):
        ManoPatientEnv(world_model=garbage)
    with pytest.raises(FileNotFoundError):
        ManoPatientEnv(world_model=tmp_path / "missing.pt")


def test_a_corrupted_shipped_artifact_is_refused(tmp_path):
    copy = tmp_path / "assets"
    copy.mkdir()
    shutil.copy(SHIPPED / MANIFEST, copy / MANIFEST)
    shutil.copy(SHIPPED / FILES[WORLD_MODEL], copy / FILES[WORLD_MODEL])
    path, entry = verified_artifact(WORLD_MODEL, assets=copy)  # the intact copy passes
    assert path == copy / FILES[WORLD_MODEL] and "sha256" in entry
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="SHA-256"):
        verified_artifact(WORLD_MODEL, assets=copy)


# ------------------------------------------------------------------------ long random run
def test_a_long_random_run_stays_finite_and_inside_its_bounds():
    env = ManoPatientEnv()
    env.action_space.seed(12)
    obs, _ = env.reset(seed=12)
    space, low, high = env.observation_space, SIGNAL_LOW, SIGNAL_HIGH
    episodes = lengths = steps = 0
    for _ in range(2500):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        steps += 1
        assert np.isfinite(reward)
        assert all(np.isfinite(v).all() for v in obs.values())
        assert space.contains(obs), obs
        assert np.all((info["signals"] >= low) & (info["signals"] <= high)), info["signals"]
        assert np.isfinite([info[t] for t in (*REWARD_TERMS, "risk_score", "cost")]).all()
        if terminated or truncated:
            episodes, lengths = episodes + 1, lengths + info["week"]
            obs, _ = env.reset()
    assert episodes > 50 and lengths <= steps
    # Sanity on the signals' names: the bounds checked are the physiological ones.
    assert SIGNAL_NAMES[2] == "resting_hr" and (low[2], high[2]) == (30.0, 120.0)


def test_stepping_an_ended_or_unstarted_episode_is_refused():
    env = ManoPatientEnv(max_weeks=2)
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(action(CBT, 0.5))
    env.reset(seed=0, options={"patient": int(env.episodes.enrolled[0])})
    env.step(action(CBT, 0.5))
    _, _, terminated, truncated, _ = env.step(action(CBT, 0.5))
    assert terminated or truncated
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(action(CBT, 0.5))


def test_safety_flags_follow_full_dose_medication_not_the_baseline():
    """Treatment-emergent flags: rare untreated, frequent in the first weeks of full-dose
    medication, under both dynamics."""
    medication = TREATMENTS.index("medication")
    for dynamics in ("world_model", "reference"):
        rates = {}
        for treatment, intensity in ((0, INTENSITY_LOW), (medication, INTENSITY_HIGH)):
            env = gym.make_vec(
                "ManoPatient-v0", num_envs=200, dynamics=dynamics, cure_threshold=1e-6
            )
            env.reset(seed=1)
            costs = []
            for _ in range(3):
                _, _, _, _, info = env.step(
                    {
                        "treatment": np.full(200, treatment),
                        "intensity": np.full((200, 1), intensity, np.float32),
                    }
                )
                costs.append(info["cost"])
            rates[treatment] = np.mean(costs)
        assert rates[0] < 0.05, dynamics
        assert rates[medication] > 0.2, dynamics


def test_torch_tensor_actions_step_like_numpy_ones():
    first, second = ManoPatientEnv(), ManoPatientEnv()
    for env in (first, second):
        env.reset(seed=2)
    numpy_step = first.step({"treatment": 3, "intensity": np.array([0.6], np.float32)})
    torch_step = second.step({"treatment": torch.tensor(3), "intensity": torch.tensor([0.6])})
    assert numpy_step[1] == torch_step[1]
    np.testing.assert_array_equal(numpy_step[0]["signals"], torch_step[0]["signals"])
