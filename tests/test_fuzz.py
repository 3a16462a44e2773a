"""A fuzz corpus at the environment's boundaries: a valid input works, an invalid one raises a
`ValueError` (or `TypeError`) naming what it is about, and a refused input changes nothing.

Fast by default (`HYPOTHESIS_PROFILE` unset: few examples); `HYPOTHESIS_PROFILE=nightly pytest
tests/test_fuzz.py` runs many more.
"""

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.patient import ManoPatientEnv
from mano_gym.envs.vector import ManoPatientVectorEnv

settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "nightly", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
N = 3
LOW32, HIGH32 = np.float32(INTENSITY_LOW), np.float32(INTENSITY_HIGH)

# Values of every kind a caller might pass, valid or not.
NUMBERS = st.one_of(
    st.integers(-3, N_TREATMENTS + 2),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.sampled_from([0.1, 1.0, 0.09999999, 1.0000001, 0.5, 0]),
    st.booleans(),
)
SCALARS = st.one_of(
    NUMBERS,
    st.none(),
    st.text(max_size=3),
    st.complex_numbers(max_magnitude=2),
    st.builds(np.int32, st.integers(-2, 7)),
    st.builds(np.float16, st.floats(0, 1.25, width=16)),
)
DTYPES = st.sampled_from(
    [np.int64, np.int32, np.uint8, np.float64, np.float32, np.float16, np.bool_, np.complex64]
)


def arrays(shapes: list[tuple[int, ...]]) -> st.SearchStrategy:
    def build(values, dtype, shape):
        size = int(np.prod(shape))
        with np.errstate(invalid="ignore"):  # NaN cast to an integer dtype: some integer
            return np.resize(np.asarray(values, np.float64), size).reshape(shape).astype(dtype)

    return st.builds(
        build,
        st.lists(st.one_of(st.floats(-1, 6), st.just(float("nan"))), min_size=1, max_size=4),
        DTYPES,
        st.sampled_from(shapes),
    )


def _is_integer(values: np.ndarray) -> bool:
    return values.dtype.kind in "iu"


def _valid_intensity(values: np.ndarray) -> bool:
    if values.dtype.kind not in "fiu":
        return False
    with np.errstate(over="ignore"):  # a huge value becomes inf: out of bounds
        value = values.astype(np.float32)
    return bool(np.all(np.isfinite(value)) and np.all((value >= LOW32) & (value <= HIGH32)))


def _expected_single(treatment, intensity) -> bool:
    """What the documented contract says of one action: a treatment integer 0..4 (not bool) of
    one element, an intensity of shape () or (1,) whose float32 value lies in the bounds."""
    t, i = np.asarray(treatment), np.asarray(intensity)
    if not _is_integer(t) or t.size != 1 or t.ndim > 1:
        return False
    if i.shape not in ((), (1,)) or not _valid_intensity(i):
        return False
    return 0 <= int(t.reshape(-1)[0]) < N_TREATMENTS


@pytest.fixture(scope="module")
def env() -> ManoPatientEnv:
    return ManoPatientEnv()


@pytest.fixture(scope="module")
def venv() -> ManoPatientVectorEnv:
    return ManoPatientVectorEnv(N)


def _snapshot(episodes) -> tuple:
    s = episodes.state
    return s.week.clone(), s.last.clone(), s.patient.clone(), s.exposure.clone()


def _same(a: tuple, b: tuple) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


VALID_TREATMENTS = st.one_of(
    st.integers(0, N_TREATMENTS - 1), st.builds(np.int64, st.integers(0, N_TREATMENTS - 1))
)
VALID_INTENSITIES = st.builds(
    lambda x: np.array([x], np.float32), st.floats(float(LOW32), float(HIGH32), width=32)
)


@given(
    treatment=st.one_of(VALID_TREATMENTS, SCALARS, arrays([(), (1,), (2,), (1, 1)])),
    intensity=st.one_of(VALID_INTENSITIES, SCALARS, arrays([(), (1,), (2,), (1, 1)])),
    form=st.sampled_from(["dict", "dict", "tuple", "list", "extra-key"]),
)
def test_single_env_actions_work_or_are_refused_naming_the_problem(env, treatment, intensity, form):
    env.reset(seed=0, options={"patient": int(env.episodes.enrolled[0])})
    action = {
        "dict": {"treatment": treatment, "intensity": intensity},
        "tuple": (treatment, intensity),
        "list": [treatment, intensity],
        "extra-key": {"treatment": treatment, "intensity": intensity, "dose": 1},
    }[form]
    valid = form == "dict" and _expected_single(treatment, intensity)
    event(f"valid: {valid}")
    before = _snapshot(env.episodes)
    if valid:
        obs, reward, *_ = env.step(action)
        assert np.isfinite(reward) and env.observation_space.contains(obs)
        return
    with pytest.raises((ValueError, TypeError), match="action|treatment|intensity"):
        env.step(action)
    assert _same(before, _snapshot(env.episodes))


TENSOR_DTYPES = st.sampled_from(
    [torch.int64, torch.int32, torch.uint8, torch.bool, torch.float32, torch.float16,
     torch.bfloat16, torch.float64, torch.complex64]
)  # fmt: skip


@given(
    treatment=st.one_of(
        st.tuples(st.just(torch.int64), st.just((N,)), st.integers(0, N_TREATMENTS - 1)),
        st.tuples(TENSOR_DTYPES, st.sampled_from([(N,), (N, 1), (N - 1,)]), st.integers(-1, 6)),
    ),
    intensity=st.one_of(
        st.tuples(
            st.sampled_from([torch.float32, torch.bfloat16]),
            st.sampled_from([(N,), (N, 1)]),
            st.floats(float(LOW32), float(HIGH32), width=32),
        ),
        st.tuples(
            TENSOR_DTYPES,
            st.sampled_from([(N,), (N, 1), (N, 2), (1, N)]),
            st.sampled_from([0.1, 1.0, 0.5, 0.0999, 1.001, float("nan"), float("inf")]),
        ),
    ),
)
def test_vector_tensor_actions_work_or_are_refused_naming_the_problem(venv, treatment, intensity):
    venv.reset(seed=0)
    t = torch.full(treatment[1], treatment[2]).to(treatment[0])
    i = torch.full(intensity[1], intensity[2], dtype=torch.float64).to(intensity[0])
    kind_t = (
        "b" if t.dtype == torch.bool else ("f" if t.is_floating_point() or t.is_complex() else "i")
    )
    i32 = i.real.float() if i.is_complex() else i.float()
    valid = (
        kind_t == "i"
        and tuple(t.shape) == (N,)
        and bool(((t >= 0) & (t < N_TREATMENTS)).all())
        and i.dtype not in (torch.bool, torch.complex64)
        and tuple(i.shape) in ((N,), (N, 1))
        and bool((i32.isfinite() & (i32 >= float(LOW32)) & (i32 <= float(HIGH32))).all())
    )
    event(f"valid: {valid}")
    before = _snapshot(venv.episodes)
    if valid:
        obs, reward, *_ = venv.step_tensor(t, i)
        assert torch.isfinite(reward).all()
        return
    with pytest.raises((ValueError, TypeError), match="treatment|intensity"):
        venv.step_tensor(t, i)
    assert _same(before, _snapshot(venv.episodes))


@given(
    options=st.one_of(
        st.none(),
        st.dictionaries(
            st.sampled_from(["patient", "patients", "seed", "Patient"]),
            st.one_of(SCALARS, st.integers(-5, 5000)),
            max_size=2,
        ),
    )
)
def test_reset_options_work_or_are_refused_without_touching_the_episode(env, options):
    env.reset(seed=0, options={"patient": int(env.episodes.enrolled[1])})
    before = _snapshot(env.episodes)
    patient = (options or {}).get("patient")
    valid = not set(options or {}) - {"patient"} and (
        patient is None
        or (
            isinstance(patient, (int, np.integer))
            and not isinstance(patient, bool)
            and 0 <= patient < len(env.episodes.cohort)
        )
    )
    event(f"valid: {valid}")
    if valid:
        obs, info = env.reset(seed=1, options=options)
        assert env.observation_space.contains(obs)
        assert patient is None or info["patient"] == patient
        return
    with pytest.raises(ValueError, match="reset options|options\\['patient'\\]"):
        env.reset(seed=1, options=options)
    assert _same(before, _snapshot(env.episodes))


@settings(max_examples=25)
@given(
    max_weeks=st.one_of(st.integers(-1, 30), st.floats(0, 30), st.booleans(), st.text(max_size=2)),
    weight=st.one_of(st.floats(-2, 20), st.just(float("nan")), st.integers(-1, 5)),
)
def test_constructor_arguments_work_or_are_refused_naming_them(max_weeks, weight):
    valid_weeks = isinstance(max_weeks, int) and not isinstance(max_weeks, bool) and max_weeks >= 1
    valid_weight = np.isfinite(weight) and weight >= 0
    if valid_weeks and valid_weight:
        env = ManoPatientEnv(max_weeks=max_weeks, safety_penalty=weight)
        assert env.observation_space["week"].high[0] == max_weeks
        return
    with pytest.raises((ValueError, TypeError), match="max_weeks|reward weights"):
        ManoPatientEnv(max_weeks=max_weeks, safety_penalty=weight)


COHORT_ARRAYS = {  # name: (low, high) of its values
    "static": (0.0, 1.0),
    "set_point": (0.0, 42.0),
    "first_scores": (0.0, 42.0),
    "responsiveness": (0.0, np.inf),
    "moderation": (0.0, np.inf),
    "treated_before": (0.0, 1.0),
    "rhythm": (1.0, 120.0),
    "first_signals": (1.0, 120.0),
}


@pytest.fixture(scope="module")
def cohort_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "cohort.npz"
    ManoPatientEnv(cohort="eval").episodes.cohort.save(path)
    return path


@given(
    name=st.sampled_from(sorted(COHORT_ARRAYS)),
    change=st.sampled_from(["nan", "inf", "below", "above", "shape", "dtype", "drop", "none"]),
    row=st.integers(0, 20),
)
def test_cohort_files_load_or_are_refused_naming_the_file_and_array(
    cohort_file, tmp_path_factory, name, change, row
):
    from mano_gym.cohorts.cohort import Cohort

    with np.load(cohort_file) as data:
        arrays = {key: data[key] for key in data.files}
    values = arrays[name].astype(np.float64)
    low, high = COHORT_ARRAYS[name]
    flat = values.reshape(len(values), -1)
    if change == "above" and not np.isfinite(high):
        change, high = "none", 1e6 - 1  # no upper bound: a large value is valid
    if change in ("nan", "inf", "below", "above") or high == 1e6 - 1:
        flat[row, 0] = {"nan": np.nan, "inf": np.inf, "below": low - 1}.get(change, high + 1)
    arrays[name] = {"shape": values[:-1], "dtype": values.astype(str)}.get(
        change, flat.reshape(values.shape)
    )
    if change == "drop":
        del arrays[name]
    bad = tmp_path_factory.mktemp("bad") / "cohort.npz"
    np.savez(bad, **arrays)
    if change == "none":
        assert len(Cohort.load(bad)) == len(values)
        return
    problem = {
        "drop": "missing arrays",
        "shape": "has shape",
        "dtype": f"{name} must hold real numbers",
        "nan": f"{name} holds NaN or infinite",
        "inf": f"{name} holds NaN or infinite",
    }.get(change, f"{name} holds values outside its range")
    with pytest.raises(ValueError, match=f"{bad}.*{problem}|{bad}: profiles must be"):
        Cohort.load(bad)


@given(
    key=st.sampled_from(
        ["world_model.epochs", "world_model.learning_rate", "world_model.device", "replicas",
         "cohort.weeks", "cohort.train_seed", "world_model.teacher_final", "world_model.nope",
         "nope.epochs", "cohort"]
    ),
    value=st.one_of(
        st.integers(-3, 100).map(str),
        st.floats(-1, 3).map(str),
        st.sampled_from(["cpu", "x", "", "nan"]),
    ),
)  # fmt: skip
def test_overrides_are_applied_or_refused_naming_the_setting(key, value):
    from mano_gym.build.world_model import WorldModelTrainingConfig
    from mano_gym.cli.overrides import apply_overrides

    config = WorldModelTrainingConfig()
    try:
        changed = apply_overrides(config, [f"{key}={value}"])
    except ValueError as error:
        assert key.split(".")[-1] in str(error) or key.split(".")[0] in str(error)
        assert config == WorldModelTrainingConfig()  # the given config is left alone
        return
    section, _, name = key.rpartition(".")
    target = getattr(changed, section) if section else changed
    assert str(getattr(target, name)) == value or float(getattr(target, name)) == float(value)
