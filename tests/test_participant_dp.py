"""Differential privacy with the participant as the unit: the DP-SGD mechanism (each person's
gradient clipped, Gaussian noise, the expected number of people), the budget and its
accountant, and the private TimeGAN on a tiny config."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from generators.participant_dp import ParticipantDPSGD, noise_multiplier, privacy_spent
from generators.signals import SIGNAL_HIGH, SIGNAL_LOW
from generators.timegan import TimeGAN, TimeGANConfig, _Trainer
from mano_gym.assets import load_rhythm_generator
from mano_gym.cli.options import positive_float
from tests.test_timegan import _killed_at_joint_iteration

TINY = TimeGANConfig(
    hidden_dim=8,
    batch_size=16,
    embedding_iterations=4,
    supervised_iterations=3,
    joint_iterations=4,
    average_last=2,
    average_every=2,
    dp_epsilon=3.0,
)


@pytest.fixture(scope="module")
def real(windows):
    """Windows of four real participants, and whose each is."""
    keep = np.isin(windows.participant, ["p01", "p02", "p03", "p04"])
    return windows.signals[keep][::4], windows.participant[keep][::4]


@pytest.fixture(scope="module")
def private(real) -> TimeGAN:
    signals, people = real
    return TimeGAN(TINY).fit(signals, progress=False, participants=people)


def _mechanism(data, people, rate, noise, clip=1.0) -> tuple[torch.nn.Linear, ParticipantDPSGD]:
    layer = torch.nn.Linear(2, 1, bias=False)
    torch.nn.init.zeros_(layer.weight)
    dp = ParticipantDPSGD(
        data, people, rate, clip, noise, 100, torch.Generator().manual_seed(0),
        torch.Generator().manual_seed(1),
    )  # fmt: skip
    return layer, dp


def test_each_participants_gradient_is_clipped_and_the_update_averages_over_people():
    # loss = -sum(w . x) over a person's windows: the gradient is -sum(x), whatever w is
    data = torch.tensor([[3.0, 4.0], [3.0, 4.0], [0.3, 0.4], [0.0, 0.1]])
    people = np.array(["a", "a", "b", "c"])  # a: norm 10, clipped to 1; b: 0.5; c: 0.1
    layer, dp = _mechanism(data, people, rate=1.0, noise=0.0)
    optimizer = dp.wrap(torch.optim.SGD(layer.parameters(), lr=1.0))
    dp.update(optimizer, lambda x: -(layer(x)).sum())
    expected = (torch.tensor([0.6, 0.8]) + torch.tensor([0.3, 0.4]) + torch.tensor([0.0, 0.1])) / 3
    torch.testing.assert_close(layer.weight[0], expected)


def test_the_noise_has_the_multiplier_times_the_clip_over_the_expected_people():
    data = torch.zeros(40, 2)
    people = np.repeat(np.arange(4), 10)
    layer, dp = _mechanism(data, people, rate=1.0, noise=2.0, clip=0.5)
    optimizer = dp.wrap(torch.optim.SGD(layer.parameters(), lr=1.0))
    steps = []
    for _ in range(400):  # zero gradients: every update is noise alone
        before = layer.weight.detach().clone()
        dp.update(optimizer, lambda x: (layer(x)).sum())
        steps.append(layer.weight.detach() - before)
    spread = torch.cat(steps).std().item()
    assert spread == pytest.approx(2.0 * 0.5 / 4, rel=0.1)


def test_an_update_without_any_sampled_person_adds_noise_only():
    data = torch.ones(3, 2)
    layer, dp = _mechanism(data, np.array(["a", "b", "c"]), rate=1e-9, noise=1.0)
    optimizer = dp.wrap(torch.optim.SGD(layer.parameters(), lr=1.0))
    dp.update(optimizer, lambda x: -(layer(x)).sum())
    assert torch.isfinite(layer.weight).all() and layer.weight.abs().sum() > 0


def test_the_noise_meets_the_budget_and_the_accountant_agrees():
    sigma = noise_multiplier(3.0, 1e-5, 0.3, 500)
    spent = privacy_spent(sigma, 0.3, 500, 1e-5)
    assert spent <= 3.0 and spent == pytest.approx(3.0, abs=0.05)
    assert noise_multiplier(1.0, 1e-5, 0.3, 500) > sigma > noise_multiplier(10.0, 1e-5, 0.3, 500)


@pytest.mark.parametrize(
    "epsilon, delta, rate, steps, message",
    [
        (1e-7, 1e-5, 0.3, 500, "no noise reaches epsilon=1e-07"),
        (0.0, 1e-5, 0.3, 500, "epsilon > 0"),
        (1.0, 1.0, 0.3, 500, "0 < delta < 1"),
        (1.0, 1e-5, 0.0, 500, "sample rate"),
    ],
)
def test_an_impossible_budget_is_refused_with_a_clear_error(epsilon, delta, rate, steps, message):
    with pytest.raises(ValueError, match=message):
        noise_multiplier(epsilon, delta, rate, steps)


def test_private_timegan_records_its_guarantee_and_keeps_it_through_save_and_load(
    private, real, tmp_path: Path
):
    privacy = private.privacy
    assert privacy["unit"] == "participant" and privacy["participants"] == 4
    assert privacy["epsilon"] <= TINY.dp_epsilon and privacy["delta"] == TINY.dp_delta
    assert privacy["updates"] == TINY.private_updates() == 4 + 3 + 4 * 5
    assert privacy["noise_multiplier"] == noise_multiplier(3.0, TINY.dp_delta, 0.3, 27)
    assert "rdp" in privacy["accountant"]
    private.save(tmp_path / "dp.pt")
    loaded = TimeGAN.load(tmp_path / "dp.pt")
    assert loaded.privacy == privacy
    np.testing.assert_array_equal(loaded.sample(5, seed=1), private.sample(5, seed=1))


def test_private_timegan_scales_by_published_ranges_not_the_data(private):
    np.testing.assert_array_equal(private.scaler_min.numpy(), SIGNAL_LOW)
    np.testing.assert_array_equal(private.scaler_max.numpy(), SIGNAL_HIGH)


def test_same_seed_same_private_model(private, real):
    signals, people = real
    again = TimeGAN(TINY).fit(signals, progress=False, participants=people)
    np.testing.assert_array_equal(again.sample(20, seed=0), private.sample(20, seed=0))


def test_a_model_trained_without_privacy_says_so():
    assert load_rhythm_generator().privacy is None  # a file from before privacy was recorded


def test_every_update_of_a_private_run_goes_through_the_mechanism(real, monkeypatch):
    signals, people = real
    calls = []
    update = ParticipantDPSGD.update

    def counted(self, optimizer, loss_of):
        calls.append(None)
        return update(self, optimizer, loss_of)

    monkeypatch.setattr(ParticipantDPSGD, "update", counted)
    plain_updates = []
    monkeypatch.setattr(_Trainer, "_update", staticmethod(lambda *a: plain_updates.append(a)))
    TimeGAN(TINY).fit(signals, progress=False, participants=people)
    assert len(calls) == TINY.private_updates() and plain_updates == []


def test_a_private_run_needs_the_participants_and_logs_no_losses(real, tmp_path: Path):
    signals, people = real
    with pytest.raises(ValueError, match="participant of every window"):
        TimeGAN(TINY).fit(signals, progress=False)
    TimeGAN(TINY).fit(signals, progress=False, participants=people, logdir=tmp_path)
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert events.Tags()["scalars"] == []


def test_a_private_run_resumes_after_a_kill_to_the_same_model(real, tmp_path, monkeypatch):
    signals, people = real
    checkpoint = tmp_path / "dp.ckpt"
    _killed_at_joint_iteration(monkeypatch, 3)  # after the checkpoint at iteration 2
    with pytest.raises(KeyboardInterrupt):
        TimeGAN(TINY).fit(
            signals, progress=False, participants=people, checkpoint=checkpoint,
            checkpoint_every=2,
        )  # fmt: skip
    monkeypatch.undo()
    resumed = TimeGAN(TINY).fit(
        signals, progress=False, participants=people, checkpoint=checkpoint, resume=True,
        checkpoint_every=2,
    )  # fmt: skip
    uninterrupted = TimeGAN(TINY).fit(signals, progress=False, participants=people)
    for key, value in uninterrupted._nets.state_dict().items():
        torch.testing.assert_close(resumed._nets.state_dict()[key], value, rtol=0, atol=0)


@pytest.mark.parametrize(
    "field, value",
    [("dp_epsilon", 0.0), ("dp_epsilon", float("nan")), ("dp_delta", 0.0), ("dp_delta", 1.0),
     ("dp_sample_rate", 0.0), ("dp_sample_rate", 1.5), ("dp_max_grad_norm", 0.0)],
)  # fmt: skip
def test_bad_privacy_settings_name_the_setting(field, value):
    with pytest.raises(ValueError, match=f"TimeGANConfig.{field}"):
        replace(TINY, **{field: value})


@pytest.mark.parametrize("text", ["0", "-1", "nan", "inf", "ten"])
def test_the_command_lines_epsilon_must_be_a_positive_number(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        positive_float(text)
