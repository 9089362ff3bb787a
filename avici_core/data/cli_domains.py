"""``python -m avici_core domains``: list the registered domains."""

from __future__ import annotations

import sys

from avici_core.cli import command_parser
from avici_core.data.registry import load_registry


def main(argv: list[str]) -> int:
    parser = command_parser("domains", __doc__)
    parser.add_argument(
        "--registry", default=None, help="registry file (default config/domains.yaml)"
    )
    args = parser.parse_args(argv)
    try:
        registry = load_registry(args.registry)
    except ValueError as err:
        parser.exit(2, f"error: {err}\n")
    width = max(map(len, registry))
    for spec in registry.values():
        sys.stdout.write(
            f"{spec.id:<{width}}  d={spec.n_vars:<4} obs={spec.n_obs:<5} int={spec.n_int:<5} "
            f"combinations={spec.n_combinations:<6} {spec.description}\n"
        )
    return 0
