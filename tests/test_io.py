"""The one atomic writer: permissions from the umask, no torn or orphaned files."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest

from avici_core.io import atomic_path, write_npz, write_text


def test_files_get_the_umask_permissions_not_mkstemp_0600(tmp_path):
    old = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
        write_npz(tmp_path / "b.npz", {"x": np.arange(3)})
    finally:
        os.umask(old)
    for name in ("a.txt", "b.npz"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "a.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_orphans_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    orphan = tmp_path / ".a.txt.k1ll3d.tmp"  # what a SIGKILLed writer leaves
    orphan.write_text("half")
    (tmp_path / ".other.txt.x.tmp").write_text("another file's")
    write_text(tmp_path / "a.txt", "new")
    assert not orphan.exists() and (tmp_path / ".other.txt.x.tmp").exists()


def test_equal_arrays_give_identical_bytes(tmp_path):
    write_npz(tmp_path / "a.npz", {"x": np.arange(5.0), "y": np.eye(2)})
    write_npz(tmp_path / "b.npz", {"y": np.eye(2), "x": np.arange(5.0)})
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
