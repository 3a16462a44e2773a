"""File safety shared by every artifact writer and reader: SHA-256, atomic writes and
checked reading of torch checkpoints."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def atomic_write(path: str | Path, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside `path`; on success it replaces `path` in one step, so a
    reader (or a run killed mid-write) never sees a half-written file. Temporary files that
    writers of `path` killed mid-write left behind are removed first."""
    path = Path(path)
    _remove_orphans(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.tmp-{os.getpid()}-")
    try:
        with os.fdopen(fd, mode) as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes the file owner-only; artifacts are for every user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _remove_orphans(path: Path) -> None:
    """Delete the temporary files of `path` whose writing process no longer runs."""
    for orphan in path.parent.glob(f".{path.name}.tmp-*-*"):
        pid = orphan.name[len(f".{path.name}.tmp-") :].split("-")[0]
        if pid.isdigit() and not process_running(int(pid)):
            orphan.unlink(missing_ok=True)


def process_running(pid: int) -> bool:
    """Whether process `pid` runs on this machine. Where that cannot be asked safely (Windows,
    where signalling a process ends it), every process counts as running, so nothing of a
    live writer is ever removed. Writers on other machines sharing a folder are not seen."""
    if os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it runs
        return True
    return True


def read_torch_checkpoint(
    path: str | Path, fmt: str, what: str, keys: tuple[str, ...], map_location: Any = "cpu"
) -> dict:
    """The payload dict of a checkpoint written with `"format": fmt`, read with
    `torch.load(weights_only=True)`. A missing file raises `FileNotFoundError`; an unreadable
    file, another format or a payload lacking one of `keys` raises `ValueError` naming the
    file (`what` says what it should have been, e.g. "TimeGAN model")."""
    import torch  # here, so that hashing and atomic writes stay light to import

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch.load raises many types for a corrupt file
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(
            f"{path}: not a readable {what} file ({type(error).__name__}: {reason})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != fmt:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"{path}: not a {fmt!r} {what} file (found {found!r})")
    missing = [key for key in keys if key not in payload]
    if missing:
        raise ValueError(f"{path}: {what} file lacks {', '.join(missing)}")
    return payload
