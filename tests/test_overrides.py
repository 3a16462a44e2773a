import pytest

from mano_gym.cli.overrides import apply_overrides
from mano_gym.generator_artifacts import GeneratorTrainingConfig


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
        ("ctgan.epochs=5", "unknown config section 'ctgan'"),
        ("profiles.epochs=many", "bad value 'many'"),
        ("profiles.epochs", "expects section.field=value"),
    ],
)
def test_bad_overrides_name_the_problem(assignment, message):
    with pytest.raises(ValueError, match=message):
        apply_overrides(GeneratorTrainingConfig(), [assignment])
