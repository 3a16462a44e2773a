"""Asset sets: builds write a staged set to --out (never into the installed package without
--ship), environments and loaders take any set, and a set that mixes builds is flagged."""

import json
import os
import shutil
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest

import mano_gym  # noqa: F401  (registers ManoPatient-v0)
from generators.files import file_sha256
from mano_gym.assets import (
    FILES,
    MANIFEST,
    SHIPPED,
    SHIPPED_PROFILES_SHA256,
    StaleArtifactWarning,
    load_profile_generator,
    read_manifest,
    verified_artifact,
)
from mano_gym.build.manifest import DEFAULT_OUT, output_folder, record_artifact, staged_assets
from mano_gym.cli import main


@pytest.fixture
def copy_of_shipped(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    for entry in read_manifest()["artifacts"].values():
        shutil.copyfile(SHIPPED / entry["file"], folder / entry["file"])
    shutil.copyfile(SHIPPED / MANIFEST, folder / MANIFEST)
    return folder


def _contents(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_every_shipped_artifact_verifies_and_was_built_on_the_set_beside_it():
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleArtifactWarning)
        for name in read_manifest()["artifacts"]:
            verified_artifact(name)
    assert set(read_manifest()["artifacts"]) == set(FILES)


def test_builds_write_to_a_work_folder_and_the_shipped_set_only_with_ship(tmp_path):
    assert output_folder() == DEFAULT_OUT
    assert output_folder(tmp_path / "mine") == tmp_path / "mine"
    assert output_folder(ship=True) == SHIPPED
    for inside in (SHIPPED, SHIPPED / "more", SHIPPED.parent / "envs"):
        with pytest.raises(ValueError, match="inside the installed package.*--ship"):
            output_folder(inside)
    with pytest.raises(ValueError, match="--ship writes the shipped set"):
        output_folder(tmp_path, ship=True)


@pytest.mark.parametrize("topic", ["generators", "predictor", "world-model"])
def test_train_commands_refuse_the_package_before_any_work(topic, capsys):
    before = _contents(SHIPPED)
    assert main(["train", topic, "--out", str(SHIPPED)]) == 2
    assert "pass --ship" in capsys.readouterr().err
    assert _contents(SHIPPED) == before


def test_agent_training_refuses_to_publish_into_the_package_before_training(tmp_path, capsys):
    args = ["train", "--agent", "hybrid-ppo", "--logdir", str(tmp_path), "--out", str(SHIPPED)]
    assert main(args) == 2
    assert "pass --ship" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # no run was started


def test_a_staged_build_replaces_out_only_when_it_succeeds(tmp_path, copy_of_shipped):
    out = tmp_path / "out"
    with staged_assets(out, copy_of_shipped) as staging:
        (staging / "extra.pt").write_bytes(b"new")
        record_artifact("extra", "extra.pt", {"seed": 1}, staging)
    built = _contents(out)
    assert built["extra.pt"] == b"new"
    assert set(read_manifest(out)["artifacts"]) == set(read_manifest()["artifacts"]) | {"extra"}
    for name in FILES:
        verified_artifact(name, out)

    with pytest.raises(RuntimeError, match="training failed"), staged_assets(out, out) as staging:
        (staging / "extra.pt").write_bytes(b"half-written")
        record_artifact("extra", "extra.pt", {"seed": 2}, staging)
        raise RuntimeError("training failed")
    assert _contents(out) == built
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_staging_folder_left_by_a_killed_build_is_removed_by_the_next(tmp_path, copy_of_shipped):
    out = tmp_path / "out"
    build = subprocess.Popen([sys.executable, "-c", "pass"])  # a build that has ended
    build.wait()
    leftover = tmp_path / f".out.staging-{build.pid}-x"
    leftover.mkdir()
    (leftover / "world_model.pt").write_bytes(b"half")
    with staged_assets(out, copy_of_shipped):
        pass
    assert not leftover.exists()


def test_an_env_runs_on_a_given_asset_set(copy_of_shipped):
    shipped, copied = gym.make("ManoPatient-v0"), gym.make("ManoPatient-v0", assets=copy_of_shipped)
    for env in (shipped, copied):
        env.action_space.seed(0)
    first, second = shipped.reset(seed=3)[0], copied.reset(seed=3)[0]
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    action = shipped.action_space.sample()
    np.testing.assert_array_equal(
        shipped.step(action)[0]["signals"], copied.step(action)[0]["signals"]
    )


def test_loading_warns_when_an_artifact_was_built_on_other_inputs(copy_of_shipped):
    manifest = json.loads((copy_of_shipped / MANIFEST).read_text())
    manifest["artifacts"]["world_model"]["inputs"]["cohort_train"] = "0" * 64
    (copy_of_shipped / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(
        StaleArtifactWarning, match=r"world_model.pt was built from cohort_train 000000000000"
    ):
        gym.make("ManoPatient-v0", assets=copy_of_shipped)


def test_a_manifest_entry_must_name_a_plain_file_with_its_hash(copy_of_shipped):
    manifest = json.loads((copy_of_shipped / MANIFEST).read_text())
    manifest["artifacts"]["world_model"]["file"] = "../../etc/hostname"
    (copy_of_shipped / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="'world_model' needs a plain file name"):
        verified_artifact("world_model", copy_of_shipped)
    manifest["artifacts"]["world_model"]["file"] = FILES["world_model"]
    del manifest["artifacts"]["world_model"]["sha256"]
    (copy_of_shipped / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="'world_model' has no valid 'sha256'"):
        verified_artifact("world_model", copy_of_shipped)
    assert file_sha256(copy_of_shipped / FILES["world_model"])  # the file itself was untouched


class _Payload:
    """Unpickling this creates a file: the stand-in for code a crafted artifact would run."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_the_shipped_profile_generator_is_vouched_for_by_a_hash_kept_in_code():
    entry = read_manifest()["artifacts"]["profiles"]
    assert SHIPPED_PROFILES_SHA256 == entry["sha256"] == file_sha256(SHIPPED / entry["file"])


def test_a_crafted_profile_generator_with_a_matching_manifest_runs_nothing(
    copy_of_shipped, tmp_path
):
    import torch

    marker = tmp_path / "payload-ran"
    torch.save(
        {"format": "mano-ctgan-1", "model": _Payload(marker)}, copy_of_shipped / FILES["profiles"]
    )
    manifest = json.loads((copy_of_shipped / MANIFEST).read_text())
    manifest["artifacts"]["profiles"]["sha256"] = file_sha256(copy_of_shipped / FILES["profiles"])
    (copy_of_shipped / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="refusing to unpickle it"):
        load_profile_generator(assets=copy_of_shipped)
    assert not marker.exists()


def test_a_copy_of_the_shipped_profile_generator_needs_no_trust(copy_of_shipped):
    table = load_profile_generator(assets=copy_of_shipped).sample(5, seed=0)
    assert len(table) == 5


def test_publishing_never_overwrites_a_file_the_manifest_names(
    tmp_path, copy_of_shipped, monkeypatch
):
    import mano_gym.build.manifest as manifest_module

    out = tmp_path / "out"
    with staged_assets(out, copy_of_shipped):
        pass
    before = _contents(out)
    moves = []

    def killed_after_the_first_move(source, target):
        moves.append(target)
        os.rename(source, target)
        raise KeyboardInterrupt  # a kill in the middle of publishing

    monkeypatch.setattr(manifest_module.os, "replace", killed_after_the_first_move)
    with pytest.raises(KeyboardInterrupt), staged_assets(out, out) as staging:
        (staging / FILES["world_model"]).write_bytes(b"new weights")
        record_artifact("world_model", FILES["world_model"], {}, staging)
        (staging / FILES["cohort_eval"]).write_bytes(b"new patients")
        record_artifact("cohort_eval", FILES["cohort_eval"], {}, staging)
    monkeypatch.undo()
    assert len(moves) == 1 and moves[0].name != FILES["world_model"]  # moved in beside, by hash
    for name in FILES:  # the old set, whole
        path, _ = verified_artifact(name, out)
        assert path.read_bytes() == before[path.name]

    with staged_assets(out, out) as staging:  # the next build publishes and tidies up
        (staging / FILES["world_model"]).write_bytes(b"new weights")
        record_artifact("world_model", FILES["world_model"], {}, staging)
    entry = read_manifest(out)["artifacts"]["world_model"]
    assert (out / entry["file"]).read_bytes() == b"new weights"
    named = {e["file"] for e in read_manifest(out)["artifacts"].values()} | {MANIFEST}
    assert {p.name for p in out.iterdir()} == named


def test_the_staging_folder_of_a_build_still_running_is_kept(tmp_path, copy_of_shipped):
    out = tmp_path / "out"
    running = tmp_path / f".out.staging-{os.getpid()}-other"  # a build of this very process
    running.mkdir()
    with staged_assets(out, copy_of_shipped):
        pass
    assert running.is_dir()
