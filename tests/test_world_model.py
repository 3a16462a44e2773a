"""The attention Seq2Seq world model: shapes, belief, sampling on the signals' support, seeded
training, the checkpoint file, and the floors of the shipped model on held-out patients."""

import numpy as np
import pytest
import torch

from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, SIGNAL_NAMES, SIGNALS
from mano_gym.assets import load_cohort, load_world_model, verified_artifact
from mano_gym.build.world_model_fidelity import one_week_fidelity, rollout_drift
from mano_gym.build.world_model_training import WorldModelConfig, train_world_model
from mano_gym.cohorts.cohort import enrolled_patients
from mano_gym.cohorts.trials import make_trials, trial_week
from mano_gym.dynamics.treatments import TREATMENTS
from mano_gym.dynamics.world_model import LOG_VAR_RANGE, WorldModel, WorldModelNetwork

TINY = WorldModelConfig(hidden=8, epochs=3, batch_size=32, seed=5, teacher_final=1.0)


@pytest.fixture(scope="module")
def trials():
    cohort = load_cohort("eval")
    return make_trials(cohort, 4, seed=0, patients=np.arange(96))


@pytest.fixture(scope="module")
def tiny(trials) -> WorldModel:
    return train_world_model(trials, TINY, progress=False)


def inputs(trials, t: int = 0, model: WorldModel | None = None) -> tuple:
    """Week `t` of the trials as the world model reads it, with the first belief."""
    x = trials.tensors("cpu")
    belief = model.initial_belief(len(trials)) if model is not None else torch.zeros(len(trials), 8)
    return trial_week(x, t, x["signals"][:, t]), belief


def test_network_gives_a_mean_and_bounded_log_variance_per_signal_per_day(trials):
    network = WorldModelNetwork(trials.static.shape[1], hidden=8)
    mean, log_var, dropout, new_belief = network(*inputs(trials))
    assert mean.shape == log_var.shape == (len(trials), 7, 5)
    assert dropout.shape == (len(trials),)
    assert new_belief.shape == (len(trials), 8)
    assert log_var.min() >= LOG_VAR_RANGE[0] and log_var.max() <= LOG_VAR_RANGE[1]


def test_samples_lie_on_each_signals_support(trials, tiny):
    noise = torch.randn(len(trials), 7, 5, generator=torch.Generator().manual_seed(0)) * 5
    week, hazard, _ = tiny.sample(*inputs(trials, model=tiny), noise)
    assert torch.all((hazard > 0) & (hazard < 1))
    values = week.numpy()
    assert np.all(values >= SIGNAL_LOW) and np.all(values <= SIGNAL_HIGH)
    for i, signal in enumerate(SIGNALS):
        if signal.integer:
            np.testing.assert_array_equal(values[..., i], np.round(values[..., i]))


def test_variance_is_positive_and_the_belief_carries_the_past(trials, tiny):
    week, first = inputs(trials, model=tiny)
    mean, var, _, belief = tiny.predict(week, first)
    assert torch.all(var > 0)
    again, _, _, _ = tiny.predict(week, belief)  # same week, another belief
    assert not torch.allclose(mean, again)


def test_training_is_seeded_and_learns(trials, tiny):
    again = train_world_model(trials, TINY, progress=False)
    for (name, a), b in zip(
        tiny.network.state_dict().items(), again.network.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
    nll = tiny.history["train_nll"]
    assert nll[-1] < nll[0]
    other = train_world_model(
        trials, WorldModelConfig(**{**TINY.__dict__, "seed": 6}), progress=False
    )
    assert not torch.equal(other.network.day_queries, tiny.network.day_queries)


def test_training_rejects_bad_settings():
    with pytest.raises(ValueError, match="teacher_final"):
        WorldModelConfig(teacher_final=1.5)
    with pytest.raises(ValueError, match="epochs"):
        WorldModelConfig(epochs=0)
    for fraction in (0.0, 1.5):
        with pytest.raises(ValueError, match="final_lr_fraction"):
            WorldModelConfig(final_lr_fraction=fraction)


def test_learning_rate_falls_to_its_final_fraction_and_a_constant_rate_trains_otherwise(trials):
    seen: list[float] = []
    original = torch.optim.Adam.step

    def step(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)

    config = WorldModelConfig(**{**TINY.__dict__, "final_lr_fraction": 0.1})
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch.optim.Adam, "step", step)
        train_world_model(trials, config, progress=False)
        falling = seen.copy()
        seen.clear()
        train_world_model(
            trials, WorldModelConfig(**{**TINY.__dict__, "final_lr_fraction": 1.0}), progress=False
        )
    assert falling[0] == pytest.approx(config.learning_rate)
    assert config.learning_rate * 0.1 < falling[-1] < config.learning_rate
    assert all(a >= b for a, b in zip(falling, falling[1:], strict=False))
    assert seen == [pytest.approx(config.learning_rate)] * len(seen)


def test_save_load_round_trip_gives_the_same_predictions(trials, tiny, tmp_path):
    path = tmp_path / "world_model.pt"
    tiny.save(path)
    loaded = WorldModel.load(path)
    for a, b in zip(
        tiny.predict(*inputs(trials, model=tiny)),
        loaded.predict(*inputs(trials, model=loaded)),
        strict=True,
    ):
        torch.testing.assert_close(a, b)


def test_load_refuses_a_corrupt_or_foreign_file(tmp_path):
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"\x00" * 64)
    with pytest.raises(ValueError, match="not a readable world model file"):
        WorldModel.load(garbage)
    foreign = tmp_path / "foreign.pt"
    torch.save({"format": "something-else"}, foreign)
    with pytest.raises(ValueError, match="not a 'mano-world-model-2' world model file"):
        WorldModel.load(foreign)
    with pytest.raises(FileNotFoundError):
        WorldModel.load(tmp_path / "missing.pt")


# ------------------------------------------------------------------ the shipped world model
@pytest.fixture(scope="module")
def held_out_trials():
    """Trials of 300 enrolled held-out patients, with a second draw of every week."""
    cohort = load_cohort("eval")
    return make_trials(cohort, 12, seed=11, redraw=True, patients=enrolled_patients(cohort)[:300])


@pytest.fixture(scope="module")
def held_out_fidelity(held_out_trials):
    return one_week_fidelity(load_world_model(), held_out_trials)


def test_shipped_world_model_is_within_the_noise_floor_on_held_out_patients(held_out_fidelity):
    metrics = held_out_fidelity
    for name in SIGNAL_NAMES:
        assert metrics[f"mae_ratio.{name}"] <= 1.25, name
        assert 0.75 <= metrics[f"coverage_90.{name}"] <= 0.99, name


def test_shipped_world_model_drop_out_is_calibrated_by_treatment_and_week(held_out_fidelity):
    metrics = held_out_fidelity
    groups = [f".{name}" for name in TREATMENTS] + [".weeks_1_4", ".weeks_5_12"]
    assert "dropout_hazard_mean.weeks_13_24" not in metrics  # the trials are 12 weeks long
    for group in groups:
        model = metrics[f"dropout_hazard_mean{group}"]
        assert model == pytest.approx(metrics[f"dropout_hazard_mean_reference{group}"], rel=0.15)
    # the app loses patients fastest, under both dynamics
    app = metrics["dropout_hazard_mean.wellness_app"]
    assert app == max(metrics[f"dropout_hazard_mean.{name}"] for name in TREATMENTS)


def test_shipped_world_model_does_not_drift_over_twelve_weeks(held_out_trials):
    metrics = rollout_drift(load_world_model(), held_out_trials)
    for name in SIGNAL_NAMES:
        # the trials are 12 weeks long: the 12-week drift is the whole horizon's
        assert metrics[f"rollout_drift_12w_sd.{name}"] == metrics[f"rollout_drift_sd.{name}"]
        assert abs(metrics[f"rollout_drift_sd.{name}"]) <= 0.25, name


def test_drift_reports_twelve_weeks_only_for_trials_that_long(trials, tiny):
    metrics = rollout_drift(tiny, trials)  # 4 weeks
    assert {key.split(".")[0] for key in metrics} == {"rollout_drift", "rollout_drift_sd"}


def test_shipped_world_model_manifest_records_its_floors():
    entry = verified_artifact("world_model")[1]
    metrics = entry["metrics"]
    # the ranking covers adaptive policies (stepped care, measurement-based care)
    assert sum(key.startswith("policy_return.reference.") for key in metrics) >= 12
    assert metrics["policy_rank_spearman"] >= 0.9
    hazard, reference = metrics["dropout_hazard_mean"], metrics["dropout_hazard_mean_reference"]
    assert hazard == pytest.approx(reference, rel=0.2)
    assert set(entry["inputs"]) >= {"profiles", "rhythms", "cohort_train"}
