from pathlib import Path

import pytest

from agents.hybrid_ppo import HybridPPOConfig
from generators.profiles import ProfileGeneratorConfig
from mano_gym.build.generators import GeneratorTrainingConfig
from mano_gym.build.predictor import PredictorTrainingConfig
from mano_gym.build.world_model import WorldModelTrainingConfig
from mano_gym.cli.overrides import apply_overrides


def test_overrides_convert_to_the_field_type():
    config = apply_overrides(
        GeneratorTrainingConfig(),
        [
            "profiles.epochs=5",
            "rhythms.learning_rate=0.01",
            "profiles.generator_dim=64,64",
            "split.holdout_participants=p01,p02",
        ],
    )
    assert config.profiles.epochs == 5
    assert config.rhythms.learning_rate == 0.01
    assert config.profiles.generator_dim == (64, 64)
    assert config.split.holdout_participants == ("p01", "p02")


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("profiles.epoch=5", "unknown setting 'profiles.epoch'"),
        ("ctgan.epochs=5", "unknown setting 'ctgan'"),
        ("profiles.epochs=many", "bad value 'many'"),
        ("profiles.epochs", "expects section.field=value"),
    ],
)
def test_bad_overrides_name_the_problem(assignment, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(GeneratorTrainingConfig(), [assignment])


def test_overrides_build_a_new_config_and_leave_the_given_one_alone():
    given = GeneratorTrainingConfig()
    changed = apply_overrides(given, ["profiles.epochs=5", "evaluation_samples=10"])
    assert given.profiles.epochs == ProfileGeneratorConfig().epochs
    assert changed.profiles.epochs == 5 and changed.evaluation_samples == 10


@pytest.mark.parametrize(
    ("config", "assignment", "message"),
    [
        (
            WorldModelTrainingConfig(),
            "world_model.epochs=0",
            r"WorldModelConfig.epochs must be an integer >= 1, got 0",
        ),
        (WorldModelTrainingConfig(), "replicas=-2", r"replicas must be an integer >= 1"),
        (WorldModelTrainingConfig(), "world_model.device=gpu", r"device must be a torch device"),
        (GeneratorTrainingConfig(), "rhythms.cell=rnn", r"cell must be 'gru' or 'lstm'"),
        (GeneratorTrainingConfig(), "profiles.batch_size=51", r"multiple of 2 \* pac"),
        (
            GeneratorTrainingConfig(),
            "profiles.learning_rate=-1",
            r"learning_rate must be a finite number > 0",
        ),
        (
            GeneratorTrainingConfig(),
            "split.time_holdout=1.5",
            r"time_holdout must be a number in \(0, 1\)",
        ),
        (
            PredictorTrainingConfig(),
            "cohort.weeks=0",
            r"CohortConfig.weeks must be an integer >= 1",
        ),
        (PredictorTrainingConfig(), "predictor.decision=best", r"decision must be one of"),
        (PredictorTrainingConfig(), "predictor.seed=-1", r"seed must be an integer >= 0"),
        (HybridPPOConfig(), "gamma=1.5", r"gamma must be a number in \[0, 1\]"),
        (HybridPPOConfig(), "total_timesteps=10", r"at least one rollout"),
        (HybridPPOConfig(), "world_model=x", r"unknown setting 'world_model'; HybridPPOConfig has"),
        (WorldModelTrainingConfig(), "world_model=3", r"world_model is a section"),
    ],
)
def test_every_checked_setting_is_refused_through_an_override_naming_it(
    config, assignment, message
):
    with pytest.raises(ValueError, match=message):
        apply_overrides(config, [assignment])


def test_checks_see_all_changes_of_one_config_together():
    # num_envs alone would make the default timesteps too few for one rollout; both together fit
    config = apply_overrides(HybridPPOConfig(), ["total_timesteps=384", "num_envs=32"])
    assert config.iterations == 1


def test_a_text_setting_keeps_a_value_that_reads_as_a_number():
    assert apply_overrides(HybridPPOConfig(), ["assets=2024"]).assets == "2024"
    assert apply_overrides(HybridPPOConfig(), ["assets=none"]).assets is None
    with pytest.raises(ValueError, match="assets must be None or a folder as a str"):
        HybridPPOConfig(assets=Path("runs/assets"))
