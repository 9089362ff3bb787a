"""Procedural image SCMs whose exogenous noise is stored, so true counterfactuals can be re-rendered.

A domain is an SCM over d attributes (some may be hidden from the image) plus a renderer. Every
attribute j has one exogenous variable u_j: uniform(0, 1) for discrete draws (inverse CDF) and
standard normal for location-scale ones; the image has k further uniform noise terms v (rotation,
font style, jitter). Given (u, v), ``propagate(u, do)`` recomputes the attributes in topological
order with the intervened ones clamped, and ``render(a, v)`` draws them: the exact
counterfactual of Pearl's third rung, with abduction done by the data generator itself.

Shape letters: n samples, d attributes, k image-noise terms, s image side.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import numpy as np
from scipy import special, stats

from avici_core.cgm import render
from avici_core.seeds import seed_stream

DoMap = dict[int, np.ndarray]  # attribute index -> [n] intervened values


@dataclasses.dataclass(frozen=True)
class Attribute:
    """One node of the attribute SCM.

    ``card`` > 0 marks a categorical node with values 0..card-1; otherwise the node is continuous
    on the open interval (low, high) (``high`` may be inf). ``noise`` names the law of its u_j.
    Hidden nodes (``observed=False``) are not drawn and not shown to image models.
    """

    name: str
    card: int = 0
    low: float = 0.0
    high: float = 1.0
    noise: str = "normal"
    observed: bool = True

    @property
    def categorical(self) -> bool:
        return self.card > 0


@dataclasses.dataclass(frozen=True)
class Sample:
    """Images with everything needed to re-render them."""

    x: np.ndarray  # [n, s, s] uint8
    a: np.ndarray  # [n, d] attribute values
    u: np.ndarray  # [n, d] attribute noise
    v: np.ndarray  # [n, k] image-only noise


def topological_order(g: np.ndarray) -> list[int]:
    """Kahn order of a DAG given as [d, d] adjacency; raises on cycles."""
    g = np.asarray(g) != 0
    indeg = g.sum(0).astype(int)
    ready = [j for j in range(g.shape[0]) if indeg[j] == 0]
    order = []
    while ready:
        j = ready.pop(0)
        order.append(j)
        for c in np.flatnonzero(g[j]):
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(int(c))
    if len(order) != g.shape[0]:
        raise ValueError("graph has a cycle; the SCM needs a DAG")
    return order


def categorical_icdf(probs: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draw: the category whose CDF interval holds u. probs [n, K], u [n] -> [n]."""
    cdf = np.cumsum(probs, -1)
    return np.minimum((cdf < np.asarray(u)[:, None]).sum(-1), probs.shape[-1] - 1).astype(float)


def domain_rng(name: str, seed: int, stream: str = "") -> np.random.Generator:
    """Stable per-(domain, seed, stream) generator; never Python's salted ``hash``."""
    return seed_stream(name, int(seed), stream)


class Domain(abc.ABC):
    """An attribute SCM with a renderer. Subclasses define attributes, graph, mechanism, render."""

    name: str
    attributes: tuple[Attribute, ...]
    graph: np.ndarray  # [d, d] int8
    n_image_noise: int
    fg_threshold: float  # grey level (0..255) separating figure from ground, for IoU

    def __init__(self, size: int = 32) -> None:
        if size not in (32, 64):
            raise ValueError(f"image size must be 32 or 64, got {size}")
        self.size = size

    @property
    def d(self) -> int:
        return len(self.attributes)

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.attributes]

    def parents(self, j: int) -> list[int]:
        return [int(i) for i in np.flatnonzero(self.graph[:, j])]

    def sample_noise(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Draw (u [n, d], v [n, k])."""
        u = np.empty((n, self.d))
        for j, at in enumerate(self.attributes):
            u[:, j] = rng.random(n) if at.noise == "uniform" else rng.standard_normal(n)
        return u, rng.random((n, self.n_image_noise))

    @abc.abstractmethod
    def mechanism(self, j: int, a: np.ndarray, u_j: np.ndarray) -> np.ndarray:
        """Value of attribute j [n] from the current attributes a [n, d] and its noise u_j [n]."""

    @abc.abstractmethod
    def draw(self, a: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Grey image in 0..255, [n, s, s] float, from attributes and image noise."""

    def propagate(self, u: np.ndarray, do: DoMap | None = None) -> np.ndarray:
        """Attributes [n, d] from noise, ``do`` nodes clamped (per row; NaN = not intervened)."""
        do = do or {}
        for j in do:
            if not 0 <= j < self.d:
                raise ValueError(f"intervened attribute index {j} is out of range 0..{self.d - 1}")
        a = np.zeros(u.shape)
        for j in topological_order(self.graph):
            a[:, j] = self.mechanism(j, a, u[:, j])
            if j in do:  # NaN entries leave that row's node to its mechanism
                a[:, j] = np.where(np.isnan(do[j]), a[:, j], do[j])
        return a

    def render(self, a: np.ndarray, v: np.ndarray) -> np.ndarray:
        """uint8 images [n, s, s]; deterministic in (a, v)."""
        img = self.draw(np.asarray(a, float), np.asarray(v, float))
        return np.clip(np.rint(img), 0, 255).astype(np.uint8)

    def sample(self, rng: np.random.Generator, n: int, do: DoMap | None = None) -> Sample:
        u, v = self.sample_noise(rng, n)
        a = self.propagate(u, do)
        return Sample(self.render(a, v), a, u, v)

    def counterfactual(self, sample: Sample, do: DoMap) -> Sample:
        """The true counterfactual: same exogenous noise, intervened attributes, re-rendered."""
        a = self.propagate(sample.u, do)
        return Sample(self.render(a, sample.v), a, sample.u, sample.v)

    def independent_sample(self, rng: np.random.Generator, n: int) -> Sample:
        """'Simulated interventions': every attribute set to a shuffled marginal draw.

        Oracles trained on these cannot read a parent off its correlated child.
        """
        ref = self.sample(rng, n)
        do = {j: rng.permutation(ref.a[:, j]) for j in range(self.d)}
        return self.sample(rng, n, do)


def _squash(s: np.ndarray, at: Attribute) -> np.ndarray:
    return at.low + (at.high - at.low) * special.expit(s)


class SpritesSCM(Domain):
    """shape -> scale -> posY, posX a root, rotation as image-only noise (causal-gen style)."""

    name = "sprites_scm"
    attributes = (
        Attribute("shape", card=3, noise="uniform"),
        Attribute("scale", low=0.5, high=1.0),
        Attribute("posX", low=0.05, high=0.95),
        Attribute("posY", low=0.0, high=1.0),
    )
    graph = np.array([[0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], np.int8)
    n_image_noise = 1
    fg_threshold = 127.5

    def mechanism(self, j, a, u_j):
        if j == 0:
            return np.minimum(np.floor(3 * u_j), 2)
        if j == 1:
            return 0.5 + 0.5 * special.expit(a[:, 0] - 1.0 + 0.6 * u_j)
        if j == 2:
            return 0.05 + 0.9 * stats.norm.cdf(u_j)
        return special.expit(4.0 * (a[:, 1] - 0.75) + 0.5 * u_j)

    def draw(self, a, v):
        cx, cy = 0.2 + 0.6 * a[:, 2], 0.2 + 0.6 * a[:, 3]
        m = render.sprite_masks(a[:, 0], cx, cy, 0.22 * a[:, 1], 2 * np.pi * v[:, 0], self.size)
        return 255.0 * m


class DSpritesGrid(Domain):
    """The dSprites latent grid: independent uniform factors on 3 x 6 x 40 x 32 x 32 values."""

    name = "dsprites_grid"
    GRID: ClassVar[dict[int, np.ndarray]] = {
        1: np.linspace(0.5, 1.0, 6),
        2: np.linspace(0, 2 * np.pi, 40, endpoint=False),
    }
    GRID.update({3: np.linspace(0.0, 1.0, 32), 4: np.linspace(0.0, 1.0, 32)})
    attributes = (
        Attribute("shape", card=3, noise="uniform"),
        Attribute("scale", low=0.45, high=1.05, noise="uniform"),
        Attribute("orientation", low=-0.1, high=2 * np.pi, noise="uniform"),
        Attribute("posX", low=-0.05, high=1.05, noise="uniform"),
        Attribute("posY", low=-0.05, high=1.05, noise="uniform"),
    )
    graph = np.zeros((5, 5), np.int8)
    n_image_noise = 0
    fg_threshold = 127.5

    def mechanism(self, j, a, u_j):
        if j == 0:
            return np.minimum(np.floor(3 * u_j), 2)
        grid = self.GRID[j]
        return grid[np.minimum((u_j * len(grid)).astype(int), len(grid) - 1)]

    def draw(self, a, v):
        cx, cy = 0.2 + 0.6 * a[:, 3], 0.2 + 0.6 * a[:, 4]
        return 255.0 * render.sprite_masks(a[:, 0], cx, cy, 0.22 * a[:, 1], a[:, 2], self.size)


class DigitsSCM(Domain):
    """Morpho-MNIST: t = 0.5 + Gamma(10, rate 5), i = 64 + 191 sigmoid(2(t - 2.5) + 0.5 eps), digit."""

    name = "digits_scm"
    attributes = (
        Attribute("digit", card=10, noise="uniform"),
        Attribute("thickness", low=0.5, high=np.inf),
        Attribute("intensity", low=64.0, high=255.0),
    )
    graph = np.array([[0, 0, 0], [0, 0, 1], [0, 0, 0]], np.int8)
    n_image_noise = 5
    fg_threshold = 32.0

    def mechanism(self, j, a, u_j):
        if j == 0:
            return np.minimum(np.floor(10 * u_j), 9)
        if j == 1:
            return 0.5 + stats.gamma.ppf(stats.norm.cdf(u_j), a=10.0, scale=1 / 5.0)
        return 64.0 + 191.0 * special.expit(2.0 * (a[:, 1] - 2.5) + 0.5 * u_j)

    def draw(self, a, v):
        style = np.stack(
            [
                stats.norm.ppf(v[:, 0]) * 0.15,  # slant
                stats.norm.ppf(v[:, 1]) * 0.08,  # rotation
                0.6 + 0.12 * v[:, 2],  # scale
                stats.norm.ppf(v[:, 3]) * 0.02,  # shift x
                stats.norm.ppf(v[:, 4]) * 0.02,  # shift y
            ],
            -1,
        )
        return render.digit_images(a[:, 0], a[:, 1], a[:, 2], style, self.size)


class SceneSCM(Domain):
    """Two game characters with discrete CPTs; 'strength' is hidden from the image.

    actor_type -> strength -> {attack, action}; actor_type -> attack -> action -> reaction;
    reactor_type -> defence -> reaction. Drawn as actor (left) and reactor (right) sprites: type is
    the shape, attack the actor's size, defence a shield, action a mark between them (strike: a
    line, spell: an orb), reaction the reactor's height (dodge up, block level, flee down).
    """

    name = "scene_scm"
    attributes = (
        Attribute("actor_type", card=3, noise="uniform"),
        Attribute("reactor_type", card=3, noise="uniform"),
        Attribute("strength", card=2, noise="uniform", observed=False),
        Attribute("attack", card=2, noise="uniform"),
        Attribute("defence", card=2, noise="uniform"),
        Attribute("action", card=3, noise="uniform"),
        Attribute("reaction", card=3, noise="uniform"),
    )
    graph = np.zeros((7, 7), np.int8)
    for _i, _j in [(0, 2), (0, 3), (2, 3), (1, 4), (2, 5), (3, 5), (4, 6), (5, 6)]:
        graph[_i, _j] = 1
    # CPT of node j: axes = its parents in increasing index order, then its own value.
    CPTS: ClassVar[dict[int, np.ndarray]] = {
        0: np.array([0.4, 0.35, 0.25]),
        1: np.array([0.3, 0.3, 0.4]),
        2: np.array([[0.3, 0.7], [0.6, 0.4], [0.5, 0.5]]),
        3: np.array([[[0.7, 0.3], [0.2, 0.8]], [[0.6, 0.4], [0.3, 0.7]], [[0.5, 0.5], [0.1, 0.9]]]),
        4: np.array([[0.3, 0.7], [0.7, 0.3], [0.5, 0.5]]),
        5: np.array([[[0.6, 0.2, 0.2], [0.2, 0.5, 0.3]], [[0.3, 0.3, 0.4], [0.1, 0.6, 0.3]]]),
        6: np.array(
            [
                [[0.5, 0.2, 0.3], [0.4, 0.1, 0.5], [0.3, 0.1, 0.6]],
                [[0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.4, 0.4, 0.2]],
            ]
        ),
    }
    n_image_noise = 6
    fg_threshold = 127.5

    def mechanism(self, j, a, u_j):
        idx = tuple(a[:, p].astype(int) for p in self.parents(j))
        return categorical_icdf(self.CPTS[j][idx], u_j)

    def draw(self, a, v):
        n, s = a.shape[0], self.size
        jit = (v - 0.5) * 0.06  # [n, 6] small position jitter
        ax, ay = 0.27 + jit[:, 0], 0.6 + jit[:, 1]
        rx = 0.74 + jit[:, 2]
        ry = 0.6 + jit[:, 3] + np.array([-0.2, 0.0, 0.2])[a[:, 6].astype(int)]
        rot_a, rot_r = (v[:, 4] - 0.5) * 0.6, (v[:, 5] - 0.5) * 0.6
        actor = render.sprite_masks(a[:, 0], ax, ay, np.where(a[:, 3] > 0, 0.15, 0.1), rot_a, s)
        reactor = render.sprite_masks(a[:, 1], rx, ry, np.full(n, 0.12), rot_r, s)
        seg = np.zeros((n, 2, 2, 2))
        seg[:, 0] = np.stack(
            [np.stack([rx - 0.18, ry - 0.12], -1), np.stack([rx - 0.18, ry + 0.12], -1)], 1
        )
        seg[:, 1] = np.stack(
            [np.stack([ax + 0.14, ay - 0.3], -1), np.stack([rx - 0.24, ay - 0.3], -1)], 1
        )
        seg[a[:, 4] == 0, 0] = -10.0  # no shield: move the segment far off the image
        seg[a[:, 5] != 1, 1] = -10.0  # the strike line only for action 'strike'
        marks = render.stroke_image(seg, np.full(n, 1.5 * s / 32), s)
        orb = render.sprite_masks(
            np.ones(n, int), np.full(n, 0.5), np.full(n, 0.15), np.full(n, 0.07), np.zeros(n), s
        )
        orb *= (a[:, 5] == 2)[:, None, None]
        return 255.0 * np.maximum.reduce([actor, reactor, marks, orb])


class SpritesRandDAG(Domain):
    """A random ER DAG over 5-7 sprite attributes: the bridge between discovery and generation.

    Continuous node: v = low + (high - low) sigmoid(b + sum_k w_k g_k(pa_k) + sigma u), with g
    linear or tanh of the parent rescaled to (-1, 1), or a per-category effect for 'shape'.
    A 'shape' node with parents draws from softmax(sum_k W_k g_k(pa_k)) by inverse CDF.
    """

    name = "sprites_randdag"
    POOL = (
        Attribute("shape", card=3, noise="uniform"),
        Attribute("scale", low=0.5, high=1.0),
        Attribute("posX", low=0.05, high=0.95),
        Attribute("posY", low=0.05, high=0.95),
        Attribute("brightness", low=0.35, high=1.0),
        Attribute("aspect", low=0.6, high=1.5),
        Attribute("background", low=0.0, high=0.3),
    )
    n_image_noise = 1
    fg_threshold = (
        0.0  # set per instance: halfway between the darkest sprite and the brightest ground
    )

    def __init__(self, size: int = 32, *, seed: int = 0) -> None:
        super().__init__(size)
        rng = domain_rng(self.name, seed, "graph")
        d = int(rng.integers(5, 8))
        self.attributes = self.POOL[:d]
        order = rng.permutation(d)
        p = min(0.9, 2.0 / (d - 1))
        g = np.zeros((d, d), np.int8)
        for a_pos in range(d):
            for b_pos in range(a_pos + 1, d):
                if rng.random() < p:
                    g[order[a_pos], order[b_pos]] = 1
        self.graph = g
        self.bias = rng.normal(0.0, 0.3, d)
        self.sigma = rng.uniform(0.3, 0.6, d)
        self.tanh = rng.random((d, d)) < 0.5  # per edge: tanh or linear parent effect
        sign = rng.choice([-1.0, 1.0], (d, d, 3))
        self.weight = sign * rng.uniform(1.0, 2.5, (d, d, 3))  # [parent, child, category-or-0]
        self.fg_threshold = 255.0 * (0.35 + 0.3) / 2

    def _effect(self, k: int, j: int, a: np.ndarray) -> np.ndarray:
        """Contribution of parent k to child j: [n] (continuous child) or [n, 3] (shape child)."""
        at = self.attributes[k]
        if at.categorical:
            w = self.weight[k, j] - self.weight[k, j].mean()
            onehot = np.eye(3)[a[:, k].astype(int)]  # [n, 3]
            return onehot @ w if not self.attributes[j].categorical else onehot * w
        z = 2 * (a[:, k] - at.low) / (at.high - at.low) - 1
        z = np.tanh(2.0 * z) if self.tanh[k, j] else z
        return (
            z * self.weight[k, j, 0]
            if not self.attributes[j].categorical
            else (z[:, None] * self.weight[k, j])
        )

    def mechanism(self, j, a, u_j):
        at = self.attributes[j]
        if at.categorical:
            logits = np.zeros((a.shape[0], 3)) + sum(
                (self._effect(k, j, a) for k in self.parents(j)), np.zeros(3)
            )
            return categorical_icdf(special.softmax(logits, -1), u_j)
        s = self.bias[j] + self.sigma[j] * u_j
        for k in self.parents(j):
            s = s + self._effect(k, j, a)
        return _squash(s, at)

    def _column(self, a: np.ndarray, name: str, default: float) -> np.ndarray:
        names = self.names
        return a[:, names.index(name)] if name in names else np.full(a.shape[0], default)

    def draw(self, a, v):
        cx = 0.2 + 0.6 * a[:, 2]
        cy = 0.2 + 0.6 * a[:, 3]
        m = render.sprite_masks(
            a[:, 0],
            cx,
            cy,
            0.22 * a[:, 1],
            2 * np.pi * v[:, 0],
            self.size,
            aspect=self._column(a, "aspect", 1.0),
        )
        bg = self._column(a, "background", 0.0)[:, None, None]
        return 255.0 * (bg + (a[:, 4][:, None, None] - bg) * m)


DOMAINS: dict[str, type[Domain]] = {
    c.name: c for c in (SpritesSCM, DSpritesGrid, DigitsSCM, SceneSCM, SpritesRandDAG)
}


def make_domain(name: str, *, seed: int = 0, size: int = 32) -> Domain:
    """Build a registered domain; only ``sprites_randdag`` draws its graph from ``seed``."""
    if name not in DOMAINS:
        raise ValueError(f"unknown cgm dataset {name!r}; choose one of {sorted(DOMAINS)}")
    if name == SpritesRandDAG.name:
        return SpritesRandDAG(size, seed=seed)
    return DOMAINS[name](size)
