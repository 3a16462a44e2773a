"""The dual-head hybrid PPO: exact log-probabilities, bounded intensities, learning, and
checkpoints that save, load and resume."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from agents.hybrid_policy import OBS_DIM, HybridActorCritic, flatten_observation, to_intensity
from agents.hybrid_ppo import FORMAT, HybridPPOConfig, HybridPPOPolicy, load_policy, train
from mano_gym.dynamics.treatments import INTENSITY_HIGH, INTENSITY_LOW, N_TREATMENTS
from mano_gym.envs.rollouts import run_policy
from mano_gym.envs.vector import ManoPatientVectorEnv

SMALL = dict(num_envs=64, num_steps=12, num_minibatches=4, update_epochs=2)


@pytest.fixture(scope="module")
def observations() -> torch.Tensor:
    env = ManoPatientVectorEnv(32)
    return flatten_observation(env.reset_tensor(seed=0))


def test_observation_is_flattened_into_the_unit_interval(observations):
    assert observations.shape == (32, OBS_DIM)
    assert observations.min() >= 0.0 and observations.max() <= 1.0


def test_log_probability_matches_a_hand_computation(observations):
    torch.manual_seed(0)
    network = HybridActorCritic(hidden=16)
    with torch.no_grad():  # give the heads some spread, away from the near-zero init
        network.treatment.weight.normal_(0, 1.0)
        network.intensity.weight.normal_(0, 1.0)
        treatment, u, log_prob, entropy, _ = network.act(observations)
        h = network.torso(observations)
        logits = network.treatment(h).numpy()
        concentration = torch.nn.functional.softplus(network.intensity(h)).numpy() + 1.0
    for row in range(len(observations)):
        k = int(treatment[row])
        log_p_treatment = logits[row, k] - np.log(np.exp(logits[row]).sum())
        alpha, beta = concentration[row, 2 * k], concentration[row, 2 * k + 1]
        density = stats.beta.logpdf(float(u[row]), alpha, beta)
        expected = log_p_treatment + density - math.log(INTENSITY_HIGH - INTENSITY_LOW)
        assert float(log_prob[row]) == pytest.approx(expected, abs=1e-4)
    assert torch.isfinite(entropy).all()


def test_other_treatments_intensity_parameters_get_no_gradient(observations):
    network = HybridActorCritic(hidden=16)
    treatment = torch.full((len(observations),), 2)
    u = torch.full((len(observations),), 0.3)
    _, _, log_prob, _, _ = network.act(observations, treatment, u)
    log_prob.sum().backward()
    grad = network.intensity.weight.grad.view(N_TREATMENTS, 2, -1)
    assert grad[2].abs().sum() > 0
    assert grad[[0, 1, 3, 4]].abs().sum() == 0


def test_sampled_intensities_stay_in_bounds_and_entropy_is_finite(observations):
    torch.manual_seed(1)
    network = HybridActorCritic(hidden=16)
    with torch.no_grad():
        network.intensity.weight.normal_(0, 5.0)  # extreme Betas, mass at the edges
        for _ in range(20):
            _, u, log_prob, entropy, _ = network.act(observations)
            intensity = to_intensity(u)
            assert intensity.min() >= INTENSITY_LOW and intensity.max() <= INTENSITY_HIGH
            assert torch.isfinite(log_prob).all() and torch.isfinite(entropy).all()


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="divide"):
        HybridPPOConfig(num_envs=10, num_steps=3, num_minibatches=4)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    config = HybridPPOConfig(total_timesteps=60_000, save_every=1, seed=3, **SMALL)
    network, summary = train(config, run, progress=False)
    return network, summary, run, config


def test_short_training_beats_random_treatment(trained):
    from agents.heuristics import make_heuristic

    network, summary, _, _ = trained
    assert summary["global_step"] == 60_000 // (64 * 12) * 64 * 12
    learned = run_policy(HybridPPOPolicy(network), "eval", "world_model", seed=0)
    random = run_policy(make_heuristic("random"), "eval", "world_model", seed=0)
    assert learned.returns.mean() > random.returns.mean() + 0.5


def test_checkpoint_loads_to_the_same_actions_and_resumes(trained, observations):
    network, summary, run, config = trained
    loaded = load_policy(run / "checkpoint.pt")
    with torch.no_grad():
        for a, b in zip(
            network.greedy(observations), loaded.network.greedy(observations), strict=True
        ):
            torch.testing.assert_close(a, b)
    longer = HybridPPOConfig(**{**config.__dict__, "total_timesteps": 90_000})
    _, resumed = train(longer, run, resume=True, progress=False)
    assert resumed["global_step"] == 90_000 // (64 * 12) * 64 * 12
    assert (
        torch.load(run / "checkpoint.pt", weights_only=True)["global_step"]
        == resumed["global_step"]
    )


def test_resume_without_a_checkpoint_and_a_corrupt_checkpoint_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(HybridPPOConfig(total_timesteps=768, **SMALL), tmp_path, resume=True, progress=False)
    bad = tmp_path / "bad.pt"
    torch.save({"format": "other"}, bad)
    with pytest.raises(ValueError, match=FORMAT):
        load_policy(bad)


def test_sampled_actions_follow_the_callers_generator_and_leave_torch_alone(trained):
    network = trained[0]
    policy = HybridPPOPolicy(network, deterministic=False)
    env = ManoPatientVectorEnv(16)
    obs, _ = env.reset(seed=0)
    torch.manual_seed(5)
    expected_next = torch.rand(1)
    torch.manual_seed(5)
    first = policy.act(obs, np.random.default_rng(7))
    assert torch.equal(torch.rand(1), expected_next)  # the global generator did not move
    again = policy.act(obs, np.random.default_rng(7))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.all((first[1] >= INTENSITY_LOW) & (first[1] <= INTENSITY_HIGH))


def test_resume_after_a_kill_ends_with_the_weights_of_an_unbroken_run(
    observations, tmp_path, monkeypatch
):
    import agents.hybrid_ppo as module

    # The models are loaded (and cached) by the `observations` fixture before both runs, as in
    # any process that has made an environment: building them draws from torch's generator.
    config = HybridPPOConfig(total_timesteps=5 * 32 * 12, **SMALL | {"num_envs": 32}, save_every=1)
    unbroken, _ = train(config, tmp_path / "unbroken", progress=False)

    save, saves = module.save_checkpoint, []

    def killed_after_the_second(path, payload):
        save(path, payload)
        saves.append(payload["iteration"])
        if len(saves) == 2:
            raise KeyboardInterrupt  # as a kill between iterations would stop the run

    monkeypatch.setattr(module, "save_checkpoint", killed_after_the_second)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "killed", progress=False)
    monkeypatch.setattr(module, "save_checkpoint", save)
    resumed, summary = train(config, tmp_path / "killed", resume=True, progress=False)
    assert saves == [1, 2] and summary["global_step"] == 5 * 32 * 12
    for a, b in zip(unbroken.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_run_folder_holding_a_run_is_not_overwritten_by_accident(trained, tmp_path):
    _, _, run, config = trained
    before = (run / "checkpoint.pt").read_bytes()
    with pytest.raises(ValueError, match="already holds a hybrid PPO run: pass --resume"):
        train(config, run, progress=False)
    assert (run / "checkpoint.pt").read_bytes() == before
