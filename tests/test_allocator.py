"""The kept heap (``avici_core.allocator``): a freed block is reused without new page faults."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

import avici_core.__main__ as cli

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

# Touch a 256 MiB block, free it, take and touch one of the same size again; print the page
# faults of the second round. Run in a fresh process: the settings last for a process's life.
# In a worker thread the block comes from a thread arena, as XLA's do (its workers allocate).
_SCRIPT = """
import ctypes, resource, sys, threading
from avici_core.allocator import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory() and keep_freed_memory()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 256 * 2**20
def rounds():
    block = libc.malloc(size); ctypes.memset(block, 1, size); libc.free(block)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(size); ctypes.memset(block, 2, size)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
if sys.argv[2] == "worker":
    worker = threading.Thread(target=rounds); worker.start(); worker.join()
else:
    rounds()
"""


def _second_round_faults(mode: str, thread: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, mode, thread],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GLIBC_TUNABLES": ""},  # glibc's defaults, whatever the caller set
    )
    return int(out.stdout.split()[-1])


@pytest.mark.parametrize("thread", ["main", "worker"])
def test_a_freed_block_is_reused_without_page_faults(thread):
    pages = 256 * 2**20 // os.sysconf("SC_PAGE_SIZE")
    # unmapped on free, faulted in again
    assert _second_round_faults("default", thread) > pages // 2
    assert _second_round_faults("kept", thread) < pages // 100


def test_the_cli_keeps_freed_memory_before_running_a_command(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory", lambda: calls.append(True))
    assert cli.main(["domains"]) == 0
    assert calls == [True]
