"""Parameter and noise distributions named in the domain registry.

Each is a small frozen dataclass called as ``dist(rng, shape) -> np.ndarray`` with an explicit
``np.random.Generator``, so every draw is reproducible from the dataset's seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be > 0, got {value}")


@dataclasses.dataclass(frozen=True)
class Gaussian:
    scale: float = 1.0

    def __post_init__(self):
        _positive("scale", self.scale)

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return rng.normal(0.0, self.scale, size=shape)


@dataclasses.dataclass(frozen=True)
class Laplace:
    scale: float = 1.0

    def __post_init__(self):
        _positive("scale", self.scale)

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return rng.laplace(0.0, self.scale, size=shape)


@dataclasses.dataclass(frozen=True)
class Cauchy:
    scale: float = 1.0

    def __post_init__(self):
        _positive("scale", self.scale)

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return self.scale * rng.standard_cauchy(size=shape)


@dataclasses.dataclass(frozen=True)
class Uniform:
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"Uniform needs low <= high, got low={self.low}, high={self.high}")

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=shape)


@dataclasses.dataclass(frozen=True)
class SignedUniform:
    """``±U(low, high)`` with a fair sign: weights bounded away from zero."""

    low: float = 1.0
    high: float = 3.0

    def __post_init__(self):
        if not 0 <= self.low <= self.high:
            raise ValueError(f"SignedUniform needs 0 <= low <= high, got {self.low}, {self.high}")

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        sign = rng.choice(np.array([-1.0, 1.0]), size=shape)
        return sign * rng.uniform(self.low, self.high, size=shape)


@dataclasses.dataclass(frozen=True)
class RandInt:
    low: int = 0
    high: int = 1  # inclusive

    def __post_init__(self):
        if not self.low <= self.high:
            raise ValueError(f"RandInt needs low <= high, got low={self.low}, high={self.high}")

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return rng.integers(self.low, self.high, size=shape, endpoint=True)


@dataclasses.dataclass(frozen=True)
class Beta:
    a: float = 1.0
    b: float = 1.0

    def __post_init__(self):
        _positive("a", self.a)
        _positive("b", self.b)

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return rng.beta(self.a, self.b, size=shape)


@dataclasses.dataclass(frozen=True)
class Constant:
    value: float = 0.0

    def __call__(self, rng: np.random.Generator, shape) -> np.ndarray:
        return np.full(shape, float(self.value))


def as_distribution(value: Any) -> Any:
    """A plain number where a distribution is expected means that constant (``bias: 0.0``)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Constant(float(value))
    return value
