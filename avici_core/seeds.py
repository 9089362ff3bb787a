"""Ground floor: the one way randomness is derived from names and numbers.

Every generator of the library comes from :func:`seed_stream`: a numpy ``SeedSequence`` over the
given parts, where a string enters as the first 8 bytes of its sha256 (stable across processes and
machines, unlike Python's salted ``hash``) and an integer as itself. Distinct parts give
independent streams, e.g. ``seed_stream(STREAMS["test"], "lin-gauss", 7)`` for a dataset and
``seed_stream(method, seed)`` for a metric's coins.
"""

from __future__ import annotations

import hashlib

import numpy as np


def entropy(part: int | str) -> int:
    """A part of a seed as a non-negative integer (strings through sha256)."""
    if isinstance(part, str):
        return int.from_bytes(hashlib.sha256(part.encode()).digest()[:8], "little")
    value = int(part)
    if value < 0:
        raise ValueError(f"seed parts must be >= 0, got {part}")
    return value


def seed_stream(*parts: int | str) -> np.random.Generator:
    """The generator of ``parts`` (one or more names and non-negative integers)."""
    if not parts:
        raise ValueError("seed_stream needs at least one part")
    return np.random.default_rng(np.random.SeedSequence([entropy(p) for p in parts]))
