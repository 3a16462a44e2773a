"""The shipped default artifacts in `mano_gym/assets/` and their manifest.

`assets/manifest.json` holds one entry per artifact: its file and SHA-256, the code version
that trained it, the SHA-256 of every data file it was trained on, its seed, its
hyperparameters, its training time and its own evaluation metrics. Every artifact is checked
against its SHA-256 before it is loaded; nothing is ever downloaded.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from generators.files import atomic_write, file_sha256
from mano_gym import __version__

ASSETS = Path(__file__).parent / "assets"
MANIFEST = "manifest.json"


def read_manifest(assets: Path = ASSETS) -> dict:
    """The manifest (`{"artifacts": {name: entry}}`); empty when none has been written."""
    path = Path(assets) / MANIFEST
    if not path.is_file():
        return {"artifacts": {}}
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(manifest.get("artifacts"), dict):
        raise ValueError(f"{path}: no 'artifacts' table")
    return manifest


def verified_artifact(name: str, assets: Path = ASSETS) -> tuple[Path, dict]:
    """The path of artifact `name` and its manifest entry, after checking the file's SHA-256."""
    assets = Path(assets)
    entries = read_manifest(assets)["artifacts"]
    if name not in entries:
        known = ", ".join(entries) or "none"
        raise ValueError(f"no artifact {name!r} in {assets / MANIFEST} (artifacts: {known})")
    entry = entries[name]
    path = assets / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"artifact {name!r} missing: {path}")
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise ValueError(
            f"{path}: SHA-256 {actual} does not match the manifest's {entry['sha256']}; "
            f"rebuild it (see {assets / MANIFEST}) or restore the file"
        )
    return path, entry


def code_version() -> str:
    """The package version, with the git commit when run from a checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return __version__
    return f"{__version__}+g{commit}"


def data_hashes(files: list[Path], root: Path) -> dict[str, str]:
    """`{path relative to root: SHA-256}` of the data files an artifact was trained on."""
    return {str(Path(f).relative_to(root)): file_sha256(f) for f in files}


def record_artifact(name: str, file: Path, entry: dict, assets: Path = ASSETS) -> dict:
    """Add or replace artifact `name` (already written to `assets/file`) in the manifest,
    atomically; returns the stored entry."""
    assets = Path(assets)
    manifest = read_manifest(assets)
    stored = {"file": Path(file).name, "sha256": file_sha256(assets / Path(file).name)} | entry
    manifest["artifacts"][name] = stored
    with atomic_write(assets / MANIFEST, "w") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")
    return stored
