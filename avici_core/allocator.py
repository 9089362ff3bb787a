"""Keep freed heap memory in the process, so XLA's CPU buffers are not faulted in afresh each call.

XLA on CPU allocates an executable's temporaries and outputs with ``malloc`` on every call. glibc
serves blocks above its mmap threshold (at most 32 MiB) with a fresh ``mmap`` and unmaps them on
``free``, so every call touches tens to hundreds of MiB of new pages and pays one page fault per
4 KiB. On this project's CPU that made a ``[20000, 128] @ [128, 512]`` product run at 87 GFLOP/s
instead of 210, and the paper-size forward at n = 1000, d = 20 about 1.2x slower
(``benchmarks/bench_model.py`` measures both ways in one run). With the heap serving every
block and never trimmed, freed memory is reused and stays mapped.

XLA allocates from its worker threads, and glibc gives other threads arenas of their own,
each at most 64 MiB: a larger block (a training step's 545 MiB of temporaries) does not fit,
and glibc then maps it afresh whatever the mmap limit says. One arena for every thread makes
those blocks come from the kept heap too (the small model's train step: 140,000 page faults
per step before, none after).

The cost is that the process keeps its peak heap until it exits, which suits the one-command
processes of the CLI (every rule is one). Library users opt in by calling
:func:`keep_freed_memory` first thing; nothing here runs on import.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform

# mallopt parameters (glibc's malloc.h)
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_M_ARENA_MAX = -8

_TOP_PAD_BYTES = 64 * 2**20  # grow the heap in 64 MiB steps: fewer brk calls
_TRIM_ABOVE_BYTES = 2**31 - 1  # mallopt takes a C int: return only a free top above 2 GiB


@functools.cache
def keep_freed_memory() -> bool:
    """Serve every allocation from the heap and keep what is freed (glibc only).

    Returns whether the settings took effect: False on other C libraries (macOS, musl), where
    the call changes nothing. Idempotent.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    settings = (
        (_M_MMAP_MAX, 0),
        (_M_ARENA_MAX, 1),  # threads share the kept heap (see the module docstring)
        (_M_TRIM_THRESHOLD, _TRIM_ABOVE_BYTES),
        (_M_TOP_PAD, _TOP_PAD_BYTES),
    )
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(libc.mallopt(param, value) == 1 for param, value in settings)
