"""Peak resident memory of the calling process itself, for the benchmarks' per-process figures.

``getrusage(RUSAGE_SELF).ru_maxrss`` is wrong for this: Linux carries the parent's high-water
mark into a forked and exec'd child, so every child of a big parent reports the parent's peak.
``VmHWM`` in ``/proc/self/status`` belongs to the process's own address space.
"""

from pathlib import Path


def peak_rss_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20  # kB -> GiB
    raise OSError("/proc/self/status has no VmHWM line (not Linux?)")
