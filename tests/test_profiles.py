import pandas as pd
import pytest

from generators.profiles import ProfileGenerator, ProfileGeneratorConfig

COLUMNS = ["age", "gender", "country", "family_history", "treatment", "work_interfere"]


@pytest.fixture(scope="module")
def small_generator(osmi):
    profiles = osmi[0][COLUMNS].iloc[:300].reset_index(drop=True)
    config = ProfileGeneratorConfig(
        epochs=2,
        batch_size=20,
        pac=2,
        embedding_dim=16,
        generator_dim=(32,),
        discriminator_dim=(32,),
        seed=3,
    )
    return ProfileGenerator(config).fit(profiles, progress=False), profiles


def test_samples_have_the_training_columns_and_ranges(small_generator):
    generator, profiles = small_generator
    table = generator.sample(50, seed=0)
    assert list(table.columns) == COLUMNS and len(table) == 50
    assert table["age"].dtype == "int64"
    assert table["age"].between(profiles["age"].min(), profiles["age"].max()).all()
    for column in COLUMNS[1:]:
        assert set(table[column]) <= set(profiles[column])


def test_same_seed_same_profiles(small_generator):
    generator, _ = small_generator
    pd.testing.assert_frame_equal(generator.sample(40, seed=7), generator.sample(40, seed=7))
    assert not generator.sample(40, seed=7).equals(generator.sample(40, seed=8))


def test_conditional_sampling(small_generator):
    generator, _ = small_generator
    table = generator.sample(30, seed=1, condition_column="gender", condition_value="female")
    assert (table["gender"] == "female").all()
    with pytest.raises(ValueError, match="no category 'robot'"):
        generator.sample(5, seed=1, condition_column="gender", condition_value="robot")
    with pytest.raises(ValueError, match="cannot condition on 'age'"):
        generator.sample(5, seed=1, condition_column="age", condition_value="30")


def test_save_load_round_trip_checks_the_hash(small_generator, tmp_path):
    generator, _ = small_generator
    path = tmp_path / "profiles.pt"
    digest = generator.save(path)
    loaded = ProfileGenerator.load(path, sha256=digest)
    pd.testing.assert_frame_equal(loaded.sample(20, seed=2), generator.sample(20, seed=2))
    with pytest.raises(ValueError, match="does not match"):
        ProfileGenerator.load(path, sha256="0" * 64)
    with pytest.raises(ValueError, match="is a pickle"):
        ProfileGenerator.load(path)


def test_corrupt_file_is_a_clear_error(small_generator, tmp_path):
    generator, _ = small_generator
    path = tmp_path / "profiles.pt"
    generator.save(path)
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="not a readable profile generator"):
        ProfileGenerator.load(path, trusted=True)


def test_bad_config_and_untrained_use():
    with pytest.raises(ValueError, match="multiple of 2 \\* pac"):
        ProfileGenerator(ProfileGeneratorConfig(batch_size=30, pac=10))
    with pytest.raises(RuntimeError, match="not trained"):
        ProfileGenerator().sample(3, seed=0)
