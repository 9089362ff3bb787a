"""The one way files are written: atomically, durably, byte-reproducibly, with the caller's umask.

Every result file goes through :func:`atomic_path`: the content is written to a temporary file
in the target's folder, flushed to disk (``fsync``), given the permissions a plain ``open``
would give (``0o666 & ~umask``; ``mkstemp`` alone makes 0600, unreadable to a group on a
shared cluster) and renamed over the target, and the folder is synced so the rename survives a
crash. Readers never see half a file. A writer that fails removes its temporary file; one that
was killed outright (SIGKILL) leaves it behind, and the next write of the same target removes it.

``np.savez`` stamps each zip member with the current time, so two runs of the same job produce
different bytes; :func:`write_npz` gives members a fixed timestamp, so equal arrays give
byte-identical files.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # no /proc: read it by setting it (and put it back at once)
    os.umask(mask)
    return mask


def _fsync(path: str | os.PathLike, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a directory; the data itself is synced
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path``'s content to; it becomes ``path`` on success.

    For libraries that write by file name (``DataFrame.to_csv``, ``Figure.savefig``: pass the
    format explicitly, the temporary name ends in ``.tmp``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for orphan in path.parent.glob(f".{path.name}.*.tmp"):  # left by a killed writer
        orphan.unlink(missing_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(path.parent, directory=True)


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(binary_file)``, atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        write(f)


def write_text(path: str | os.PathLike, text: str) -> None:
    atomic_write(path, lambda f: f.write(text.encode()))


def write_npz(
    path: str | os.PathLike, arrays: Mapping[str, np.ndarray], *, compress: bool = True
) -> None:
    """Arrays as an ``.npz`` without pickle, byte-identical for equal arrays."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED

    def write(raw: BinaryIO) -> None:
        with zipfile.ZipFile(raw, "w", compression=method) as zf:
            for name in sorted(arrays):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_EPOCH)
                info.compress_type = method
                with zf.open(info, "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)

    atomic_write(path, write)
