"""Atomic writes: a reader never sees a half-written file, and what a killed writer left behind
is cleaned by the next write of the same file."""

import subprocess
import sys

import pytest

from generators.files import atomic_write


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "model.pt"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as file:
        file.write(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_the_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path):
    target = tmp_path / "model.pt"
    # a writer that dies (os._exit: no cleanup runs) in the middle of its write
    script = (
        "import os, sys; from generators.files import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n    f.write(b'half'); f.flush(); os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(target)], check=False)
    orphans = list(tmp_path.glob(".model.pt.tmp-*"))
    assert len(orphans) == 1 and not target.exists()
    unrelated = tmp_path / ".model.pt.b.tmp-1-x"  # another file's name that starts alike
    unrelated.write_bytes(b"")
    with atomic_write(target) as file:
        file.write(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [unrelated.name, "model.pt"]
