import json

import pytest

from mano_gym.assets import read_manifest, verified_artifact
from mano_gym.build.manifest import record_artifact


def test_recorded_artifact_verifies_and_tampering_is_caught(tmp_path):
    (tmp_path / "model.pt").write_bytes(b"weights")
    entry = record_artifact("model", tmp_path / "model.pt", {"seed": 3}, assets=tmp_path)
    assert entry["seed"] == 3 and len(entry["sha256"]) == 64
    path, stored = verified_artifact("model", assets=tmp_path)
    assert path == tmp_path / "model.pt" and stored == entry
    (tmp_path / "model.pt").write_bytes(b"weights, changed")
    with pytest.raises(ValueError, match="does not match the manifest"):
        verified_artifact("model", assets=tmp_path)


def test_unknown_artifact_lists_the_known_ones(tmp_path):
    (tmp_path / "a.pt").write_bytes(b"a")
    record_artifact("a", tmp_path / "a.pt", {}, assets=tmp_path)
    with pytest.raises(ValueError, match=r"no artifact 'b' .*artifacts: a"):
        verified_artifact("b", assets=tmp_path)


def test_missing_file_and_corrupt_manifest(tmp_path):
    (tmp_path / "a.pt").write_bytes(b"a")
    record_artifact("a", tmp_path / "a.pt", {}, assets=tmp_path)
    (tmp_path / "a.pt").unlink()
    with pytest.raises(FileNotFoundError, match="artifact 'a' missing"):
        verified_artifact("a", assets=tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_manifest(tmp_path)


def test_recording_keeps_other_entries(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.pt").write_bytes(name.encode())
        record_artifact(name, tmp_path / f"{name}.pt", {}, assets=tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest["artifacts"]) == {"a", "b"}
