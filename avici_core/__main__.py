"""``python -m avici_core <command>``: the small CLI that every workflow rule calls.

Each command lives next to the code it drives; this table only names where. Modules are imported
lazily so that ``generate`` never pays for importing JAX.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging
import os
import signal
import sys
import threading

from avici_core.allocator import keep_freed_memory

COMMANDS: dict[str, tuple[str, str]] = {
    "generate": ("avici_core.data.cli", "Simulate one dataset of a registered domain."),
    "domains": ("avici_core.data.cli_domains", "List the registered domains."),
    "train": ("avici_core.model.cli_train", "Train an AVICI model (resumes from checkpoints)."),
    "export-model": (
        "avici_core.model.export",
        "A finished training run -> a shippable model folder with its model card.",
    ),
    "infer": (
        "avici_core.baselines.cli_infer",
        "Edge probabilities of an AVICI model on one dataset (run-method's route).",
    ),
    "run-method": ("avici_core.baselines.cli", "Run one registered method on one dataset."),
    "score": ("avici_core.metrics.cli", "Score predictions against their true graphs."),
    "aggregate": ("avici_core.report.cli_aggregate", "Concatenate metric rows into one long CSV."),
    "tables": ("avici_core.report.cli_tables", "Paper-style tables from the long metrics CSV."),
    "figures": ("avici_core.report.cli_figures", "Figures from the long metrics CSV."),
    "plan": (
        "avici_core.report.cli_plan",
        "Jobs per rule and estimated CPU/GPU hours of a config.",
    ),
    "discover": ("avici_core.model.cli_discover", "Run the shipped model on a CSV table."),
    "cgm": ("avici_core.cgm.cli", "Causal generative models of images (the image track)."),
}


def _usage() -> str:
    width = max(map(len, COMMANDS))
    rows = "\n".join(f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items())
    return (
        "usage: python -m avici_core [--version] [-v] <command> [options]\n\n"
        f"commands:\n{rows}\n\n"
        "python -m avici_core <command> --help describes a command; -v also shows the log lines\n"
        "of the libraries underneath (JAX, numexpr, ...).\n"
    )


def _version() -> str:
    try:
        return importlib.metadata.version("avici-core")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _configure_logging(verbose: bool) -> None:
    """Our own progress at INFO; other libraries only from WARNING unless ``-v`` (quiet default)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("avici_core").setLevel(logging.INFO)


# seconds a SIGTERM'd process may take to unwind before it is ended by the default action
TERMINATE_GRACE_S = 30.0


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (Snakemake, SLURM) unwinds like an exception, so temporary files are removed.

    Python swallows an exception raised while the main thread runs a finaliser or a garbage-
    collection callback (seen: JAX's ``_xla_gc_callback``, after which a training run went on
    stepping), so the default action is restored first and a daemon timer sends the signal again
    after ``TERMINATE_GRACE_S``: a process that did not unwind by then ends for certain.
    """
    signal.signal(signum, signal.SIG_DFL)
    timer = threading.Timer(TERMINATE_GRACE_S, os.kill, (os.getpid(), signum))
    timer.daemon = True
    timer.start()
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = bool({"-v", "--verbose"} & set(argv[:1]))
    if verbose:
        argv = argv[1:]
    if argv[:1] == ["--version"]:
        sys.stdout.write(f"avici-core {_version()}\n")
        return 0
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(_usage())
        return 0
    if not argv:
        sys.stderr.write(_usage())
        return 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        sys.stderr.write(f"unknown command {name!r}\n\n{_usage()}")
        return 2
    _configure_logging(verbose)
    signal.signal(signal.SIGTERM, _terminate)
    keep_freed_memory()  # before any array exists: XLA's CPU buffers stay mapped between calls
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
