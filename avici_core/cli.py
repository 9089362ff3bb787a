"""What every ``python -m avici_core`` command shares: its argument parser and plain help text."""

from __future__ import annotations

import argparse
import re


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the description's line breaks and appends each option's default (when it has one)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or default in (None, False, argparse.SUPPRESS)
            or (isinstance(default, (list, tuple)) and not default)
            or not action.option_strings
        ):
            return text
        return f"{text} (default: %(default)s)"


def plain(text: str | None) -> str:
    """Docstring markup as a terminal shows it: ````code```` -> code, :func:`f` -> f."""
    text = re.sub(r":\w+:`~?([^`]+)`", r"\1", text or "")
    return text.replace("``", "").strip()


def command_parser(command: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of ``python -m avici_core COMMAND``, described by its module docstring."""
    return argparse.ArgumentParser(
        prog=f"python -m avici_core {command}",
        description=plain(doc),
        formatter_class=HelpFormatter,
    )
