"""Writing asset sets: where a build may write, staging, and manifest entries.

A build reads its inputs from one asset set (`--assets`, default the shipped one) and writes a
whole new set to `--out` (default `runs/assets`): `staged_assets` starts a staging folder as a
copy of the input set, the build writes its artifacts and manifest entries into it, and only
when all of that succeeded is it published into `--out`. Publishing never overwrites a file the
manifest of `--out` names: a changed artifact whose file name is taken moves in under a name
with its hash (`world_model.3f2a9c1b4d5e.pt`), then the manifest is replaced in one step, then
the files only the old manifest named are removed. So a failure, or a kill at any moment,
leaves `--out` a whole set, the old one or the new. Writing into the installed package (the
shipped set) needs `ship=True` (`--ship`), checked before any work starts.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from generators.files import atomic_write, file_sha256, process_running
from mano_gym import __version__
from mano_gym.assets import MANIFEST, SHIPPED, asset_folder, read_manifest

DEFAULT_OUT = Path("runs/assets")
_HASHED = re.compile(r"[A-Za-z0-9_]+\.[0-9a-f]{12}\.[a-z]+")  # an artifact moved in by its hash
_PACKAGE = Path(__file__).resolve().parents[1]
_STAGING = ".staging-"


def output_folder(out: str | Path | None = None, ship: bool = False) -> Path:
    """The asset set a build writes: `out` (default `runs/assets`), or the shipped set with
    `ship`. A `ValueError` for a folder inside the installed package without `ship`, or for
    `ship` together with another `out`."""
    if ship:
        if out is not None and Path(out).resolve() != SHIPPED.resolve():
            raise ValueError(f"--ship writes the shipped set {SHIPPED}; drop --out {out}")
        return SHIPPED
    folder = DEFAULT_OUT if out is None else Path(out)
    if folder.resolve().is_relative_to(_PACKAGE):
        raise ValueError(
            f"--out {folder} is inside the installed package ({_PACKAGE}); pass --ship to "
            f"overwrite the shipped set, or choose a work folder such as {DEFAULT_OUT}"
        )
    return folder


@contextmanager
def staged_assets(out: str | Path, base: str | Path | None = None) -> Iterator[Path]:
    """A staging folder holding a copy of asset set `base` (None: the shipped set); when the
    block ends without an error, it is published into `out` (see the module docstring), else
    `out` is left untouched. Staging folders of builds killed earlier are removed."""
    out, base = Path(out), asset_folder(base)
    out.mkdir(parents=True, exist_ok=True)
    prefix = f".{out.name}{_STAGING}"
    for stale in out.parent.glob(f"{prefix}*-*"):  # of builds that no longer run
        pid = stale.name[len(prefix) :].split("-")[0]
        if pid.isdigit() and not process_running(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f"{prefix}{os.getpid()}-"))
    try:
        manifest = read_manifest(base)
        for entry in manifest["artifacts"].values():
            shutil.copyfile(base / entry["file"], staging / entry["file"])
        _write_manifest(staging, manifest)
        yield staging
        _publish(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: Path, out: Path) -> None:
    """Move the set in `staging` into `out`, `out` a whole set at every moment (see above)."""
    if not (staging / MANIFEST).is_file():
        raise RuntimeError(f"the staging folder {staging} is gone: nothing published")
    new = read_manifest(staging)
    old = {entry["file"] for entry in read_manifest(out)["artifacts"].values()}
    for leftover in out.iterdir():  # files of a publish killed before its manifest was written
        if _HASHED.fullmatch(leftover.name) and leftover.name not in old:
            leftover.unlink()
    for entry in new["artifacts"].values():
        target = out / entry["file"]
        if target.is_file() and file_sha256(target) == entry["sha256"]:
            continue  # these bytes are there already
        if target.exists():
            name = Path(entry["file"])
            target = out / f"{name.stem.split('.')[0]}.{entry['sha256'][:12]}{name.suffix}"
        os.replace(staging / entry["file"], target)
        entry["file"] = target.name
    _write_manifest(out, new)
    for name in old - {entry["file"] for entry in new["artifacts"].values()}:
        (out / name).unlink(missing_ok=True)


def _write_manifest(assets: Path, manifest: dict) -> None:
    with atomic_write(assets / MANIFEST, "w") as handle:
        json.dump(manifest, handle, indent=2, sort_keys=True)
        handle.write("\n")


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


def machine() -> str:
    """The machine an artifact was built on, as manifests record it."""
    return f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}"


def data_hashes(files: list[Path], root: Path) -> dict[str, str]:
    """`{path relative to root: SHA-256}` of the data files an artifact was trained on."""
    return {str(Path(f).relative_to(root)): file_sha256(f) for f in files}


def input_hashes(names: tuple[str, ...], assets: str | Path | None = None) -> dict[str, str]:
    """`{name: SHA-256}` of the artifacts `names` of `assets`, as a manifest's `inputs`."""
    entries = read_manifest(assets)["artifacts"]
    missing = [name for name in names if name not in entries]
    if missing:
        raise ValueError(f"{asset_folder(assets)} lacks the input artifacts {missing}")
    return {name: entries[name]["sha256"] for name in names}


def published(out: str | Path, names) -> dict[str, dict]:
    """The manifest entries of artifacts `names` as published in asset set `out`."""
    entries = read_manifest(out)["artifacts"]
    return {name: entries[name] for name in names}


def record_artifact(name: str, file: str | Path, entry: dict, assets: str | Path) -> dict:
    """Add or replace artifact `name` (already written to `assets/file`) in the manifest of
    `assets`, atomically; returns the stored entry."""
    assets = Path(assets)
    manifest = read_manifest(assets)
    stored = {"file": Path(file).name, "sha256": file_sha256(assets / Path(file).name)} | entry
    manifest["artifacts"][name] = stored
    _write_manifest(assets, manifest)
    return stored
