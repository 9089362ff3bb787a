"""The command line as a user meets it: usage, version, plain help with defaults, quiet logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from unittest import mock

import numpy as np
import pytest

from avici_core.__main__ import COMMANDS, _terminate, main

ENV = {**os.environ, "JAX_PLATFORMS": "cpu"}


def test_no_arguments_prints_usage_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: python -m avici_core" in capsys.readouterr().err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("avici-core ")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_is_plain_text_with_defaults(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # no wrapping inside the default
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and ":func:" not in text
    if command == "discover":
        assert "(default: avici-small-v10)" in text


def test_library_log_noise_is_hidden_unless_verbose(tmp_path):
    def stderr(*args: str) -> str:
        cmd = [sys.executable, "-m", "avici_core", *args]
        out = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stderr

    table = tmp_path / "t.csv"
    x = np.random.default_rng(0).normal(size=(50, 3))
    np.savetxt(table, x, delimiter=",", header="a,b,c", comments="")
    quiet = stderr("discover", str(table), "--out", str(tmp_path / "o"))
    assert "NumExpr" not in quiet and "libtpu" not in quiet and "xla_bridge" not in quiet
    assert "avici_core.model.cli_discover INFO" in quiet  # our own progress stays
    loud = stderr("-v", "discover", str(table), "--out", str(tmp_path / "o"))
    assert len(loud.splitlines()) > len(quiet.splitlines())  # the libraries' INFO lines too


def test_sigterm_unwinds_and_arms_a_second_signal():
    """The handler raises SystemExit, restores the default action and arms the re-signal."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as raised, mock.patch("threading.Timer") as timer:
            _terminate(signal.SIGTERM, None)
        assert raised.value.code == 128 + signal.SIGTERM
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
        timer.return_value.start.assert_called_once()  # the re-signal is armed
    finally:
        signal.signal(signal.SIGTERM, previous)


SWALLOWED_SIGTERM = """
import os, signal, sys, time
import avici_core.__main__ as cli
cli.TERMINATE_GRACE_S = 1.0
signal.signal(signal.SIGTERM, cli._terminate)

class Finaliser:  # the handler runs inside __del__, where Python ignores the SystemExit
    def __del__(self):
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(10_000):
            pass

Finaliser()
print("swallowed", flush=True)
time.sleep(60)  # a run that went on after its SIGTERM
sys.exit(3)
"""


def test_a_swallowed_sigterm_still_ends_the_process_after_the_grace_period():
    """A SIGTERM whose exception Python swallowed (inside a finaliser, as in JAX's garbage-
    collection callback) still ends the process, by the default action, after the grace."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED_SIGTERM], capture_output=True, text=True, timeout=30
    )
    assert "swallowed" in done.stdout and "SystemExit" in done.stderr  # the handler did run
    assert done.returncode == -signal.SIGTERM
    assert time.monotonic() - start < 20
