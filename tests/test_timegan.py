"""TimeGAN: shapes, support, seeding, persistence and input checks, on a tiny model."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from generators.signals import SIGNAL_HIGH, SIGNAL_LOW, SIGNALS
from generators.timegan import TimeGAN, TimeGANConfig, _Trainer

TINY = TimeGANConfig(
    hidden_dim=8,
    num_layers=2,
    batch_size=16,
    embedding_iterations=5,
    supervised_iterations=5,
    joint_iterations=5,
    log_every=2,
)


@pytest.fixture(scope="module")
def real(windows) -> np.ndarray:
    return windows.signals[:64]


@pytest.fixture(scope="module")
def model(real) -> TimeGAN:
    return TimeGAN(TINY).fit(real, progress=False)


def test_samples_have_window_shape(model, real):
    samples = model.sample(10, seed=0)
    assert samples.shape == (10, real.shape[1], 5)
    assert samples.dtype == np.float32
    assert model.sample(0, seed=0).shape == (0, real.shape[1], 5)


def test_samples_on_each_signals_support(model):
    samples = model.sample(200, seed=1)
    assert (samples >= SIGNAL_LOW).all() and (samples <= SIGNAL_HIGH).all()
    for j, spec in enumerate(SIGNALS):
        if spec.integer:
            np.testing.assert_array_equal(samples[..., j], np.round(samples[..., j]))


def test_same_seed_same_samples(model):
    np.testing.assert_array_equal(model.sample(20, seed=3), model.sample(20, seed=3))


def test_different_seed_different_samples(model):
    assert not np.array_equal(model.sample(20, seed=3), model.sample(20, seed=4))


def test_sampling_leaves_global_rng_alone(model):
    state = torch.get_rng_state()
    model.sample(5, seed=0)
    assert torch.equal(state, torch.get_rng_state())


def test_same_config_same_model(model, real):
    state = torch.get_rng_state()
    again = TimeGAN(TINY).fit(real, progress=False)
    assert torch.equal(state, torch.get_rng_state())  # fit seeds its own generators only
    np.testing.assert_array_equal(model.sample(20, seed=0), again.sample(20, seed=0))


def test_save_load_round_trip_same_samples(model, tmp_path: Path):
    path = tmp_path / "timegan.pt"
    model.save(path)
    loaded = TimeGAN.load(path)
    assert loaded.config == model.config and loaded.days == model.days
    np.testing.assert_array_equal(loaded.sample(30, seed=5), model.sample(30, seed=5))
    assert [p.name for p in tmp_path.iterdir()] == ["timegan.pt"]  # no temp file left


def test_missing_file_raises_file_not_found(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="absent.pt"):
        TimeGAN.load(tmp_path / "absent.pt")


def test_truncated_file_raises_value_error_naming_it(model, tmp_path: Path):
    path = tmp_path / "truncated.pt"
    model.save(path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="truncated.pt"):
        TimeGAN.load(path)


def test_garbage_file_raises_value_error_naming_it(tmp_path: Path):
    path = tmp_path / "garbage.pt"
    path.write_text("not a model")
    with pytest.raises(ValueError, match="garbage.pt"):
        TimeGAN.load(path)


def test_other_format_raises_value_error_naming_it(tmp_path: Path):
    path = tmp_path / "other.pt"
    torch.save({"format": "ctgan", "weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match=r"other\.pt.*mano-timegan-1"):
        TimeGAN.load(path)
    torch.save(torch.zeros(3), path)
    with pytest.raises(ValueError, match="other.pt"):
        TimeGAN.load(path)


def test_missing_keys_raise_value_error_naming_them(model, tmp_path: Path):
    path = tmp_path / "partial.pt"
    model.save(path)
    payload = torch.load(path, weights_only=True)
    del payload["scaler_max"]
    del payload["state_dicts"]["recovery"]
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"partial\.pt.*scaler_max"):
        TimeGAN.load(path)
    payload["scaler_max"] = payload["scaler_min"]
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"partial\.pt.*recovery"):
        TimeGAN.load(path)


def test_weights_of_another_architecture_raise_value_error(model, tmp_path: Path):
    path = tmp_path / "resized.pt"
    model.save(path)
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden_dim"] = 12
    torch.save(payload, path)
    with pytest.raises(ValueError, match=r"resized\.pt.*malformed"):
        TimeGAN.load(path)


@pytest.mark.parametrize(
    "field",
    [
        {"hidden_dim": 0},
        {"num_layers": 1},
        {"joint_iterations": 0},
        {"cell": "rnn"},
        {"average_last": -1},
        {"average_every": 0},
    ],
)
def test_invalid_config_raises_value_error(field):
    with pytest.raises(ValueError, match=next(iter(field))):
        TimeGANConfig(**field)


def test_weights_are_averaged_over_the_last_joint_iterations(real, monkeypatch):
    """average_last=2, average_every=2 over 5 joint iterations: the mean of the weights after
    iterations 3 and 5."""
    seen = []
    joint_step = _Trainer._joint_step

    def recording_step(self, opt):
        losses = joint_step(self, opt)
        seen.append({k: v.clone() for k, v in self.nets.state_dict().items()})
        return losses

    monkeypatch.setattr(_Trainer, "_joint_step", recording_step)
    model = TimeGAN(replace(TINY, average_last=2, average_every=2)).fit(real, progress=False)
    for key, value in model._nets.state_dict().items():
        torch.testing.assert_close(value, (seen[2][key] + seen[4][key]) / 2)


AVERAGED = replace(TINY, average_last=4, average_every=2)  # joint iterations 1, 3 and 5


def _killed_at_joint_iteration(monkeypatch, n: int) -> None:
    """Make the n-th joint iteration raise, as if the process were killed there."""
    joint_step, calls = _Trainer._joint_step, []

    def step(self, opt):
        calls.append(None)
        if len(calls) == n:
            raise KeyboardInterrupt
        return joint_step(self, opt)

    monkeypatch.setattr(_Trainer, "_joint_step", step)


def test_training_resumed_after_a_kill_ends_with_the_same_weights(real, tmp_path, monkeypatch):
    checkpoint = tmp_path / "timegan.ckpt"
    _killed_at_joint_iteration(monkeypatch, 4)  # after the checkpoint at iteration 2
    with pytest.raises(KeyboardInterrupt):
        TimeGAN(AVERAGED).fit(real, progress=False, checkpoint=checkpoint, checkpoint_every=2)
    monkeypatch.undo()
    saved = torch.load(checkpoint, weights_only=True)
    assert (saved["phase"], saved["iteration"], saved["averaged"]) == (2, 2, 1)

    resumed = TimeGAN(AVERAGED).fit(
        real, progress=False, checkpoint=checkpoint, resume=True, checkpoint_every=2
    )
    uninterrupted = TimeGAN(AVERAGED).fit(real, progress=False)
    for key, value in uninterrupted._nets.state_dict().items():
        torch.testing.assert_close(resumed._nets.state_dict()[key], value, rtol=0, atol=0)


@pytest.fixture(scope="module")
def finished_checkpoint(real, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("timegan") / "timegan.ckpt"
    TimeGAN(TINY).fit(real, progress=False, checkpoint=path)
    return path


def test_resuming_a_finished_run_trains_nothing_more(real, model, finished_checkpoint):
    resumed = TimeGAN(TINY).fit(real, progress=False, checkpoint=finished_checkpoint, resume=True)
    np.testing.assert_array_equal(resumed.sample(20, seed=0), model.sample(20, seed=0))


def test_resume_refuses_a_checkpoint_of_another_config(real, finished_checkpoint):
    with pytest.raises(ValueError, match="hidden_dim"):
        TimeGAN(replace(TINY, hidden_dim=4)).fit(
            real, progress=False, checkpoint=finished_checkpoint, resume=True
        )


def test_resume_refuses_a_checkpoint_of_other_windows(real, finished_checkpoint):
    with pytest.raises(ValueError, match="other windows"):
        TimeGAN(TINY).fit(real[1:], progress=False, checkpoint=finished_checkpoint, resume=True)


def test_resume_refuses_a_model_file(real, model, tmp_path: Path):
    model.save(tmp_path / "model.pt")
    with pytest.raises(ValueError, match="model.pt.*checkpoint"):
        TimeGAN(TINY).fit(real, progress=False, checkpoint=tmp_path / "model.pt", resume=True)


def test_resume_needs_a_checkpoint(real, tmp_path: Path):
    with pytest.raises(ValueError, match="checkpoint"):
        TimeGAN(TINY).fit(real, progress=False, resume=True)
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        TimeGAN(TINY).fit(real, progress=False, checkpoint=tmp_path / "missing.ckpt", resume=True)


@pytest.mark.parametrize(
    ("shape", "match"), [((10, 7), "shape"), ((10, 7, 4), "shape"), ((10, 1, 5), "2 days")]
)
def test_wrong_shape_raises_value_error(shape, match):
    with pytest.raises(ValueError, match=match):
        TimeGAN(TINY).fit(np.ones(shape, dtype=np.float32), progress=False)


def test_nan_input_raises_value_error_naming_signal(real):
    bad = real.copy()
    bad[3, 2, 4] = np.nan
    with pytest.raises(ValueError, match="NaN.*mood"):
        TimeGAN(TINY).fit(bad, progress=False)


def test_sample_before_fit_raises():
    with pytest.raises(RuntimeError, match="fit"):
        TimeGAN(TINY).sample(3, seed=0)


def test_logdir_gets_tensorboard_scalars(real, tmp_path: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    TimeGAN(TINY).fit(real, logdir=tmp_path, progress=False)
    assert list(tmp_path.glob("events.out.tfevents.*"))
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {
        "losses/embedding",
        "losses/supervised",
        "losses/generator",
        "losses/discriminator",
        "losses/moments",
        "losses/embedding_joint",
    }
