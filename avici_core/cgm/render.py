"""Procedural image renderers: sprites by inside-tests, digits and scene marks as thick strokes.

Everything is vectorised over a batch of n images of size s x s and is a pure function of its
arguments, so re-rendering with the same exogenous noise gives bit-identical images (the basis of
the ground-truth counterfactuals in ``scm.py``). Coordinates are image units in [0, 1], x to the
right and y downwards; pixel centres sit at (i + 0.5) / s.

Shape letters: n images, s side in pixels, m segments per image.
"""

from __future__ import annotations

import itertools

import numpy as np

SHAPES = ("square", "ellipse", "heart")
CHUNK = 1024  # images per vectorised block; bounds the [chunk, s, s, m] distance tensor


def pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates ``(px, py)``, each [s, s], float32."""
    if size < 8:
        raise ValueError(f"image size must be at least 8 pixels, got {size}")
    c = (np.arange(size, dtype=np.float32) + 0.5) / size
    py, px = np.meshgrid(c, c, indexing="ij")
    return px, py


def _inside(shape_id: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside-test in the sprite's own frame (half-size 1, v pointing up)."""
    if shape_id == 0:
        return np.maximum(np.abs(u), np.abs(v)) <= 0.8
    if shape_id == 1:
        return u**2 + (v / 0.55) ** 2 <= 1.0
    hu, hv = 1.1 * u, 1.1 * v + 0.15  # classic implicit heart curve, centred on the sprite
    return (hu**2 + hv**2 - 1.0) ** 3 - hu**2 * hv**3 <= 0.0


def sprite_masks(
    shape: np.ndarray,
    cx: np.ndarray,
    cy: np.ndarray,
    half: np.ndarray,
    theta: np.ndarray,
    size: int,
    *,
    aspect: np.ndarray | None = None,
) -> np.ndarray:
    """Binary sprite masks [n, s, s] (float32 0/1).

    Args:
      shape: [n] int in {0, 1, 2} (square, ellipse, heart).
      cx, cy: [n] centre in image units.
      half: [n] half-size in image units.
      theta: [n] rotation in radians.
      size: side s in pixels.
      aspect: [n] horizontal stretch of the sprite frame (1 = none).
    """
    shape = np.asarray(shape).astype(np.int64)
    n = shape.shape[0]
    if np.any((shape < 0) | (shape >= len(SHAPES))):
        raise ValueError(f"shape ids must be in 0..{len(SHAPES) - 1}")
    aspect = np.ones(n, np.float32) if aspect is None else np.asarray(aspect, np.float32)
    px, py = pixel_grid(size)
    out = np.zeros((n, size, size), np.float32)
    for lo in range(0, n, CHUNK):
        sl = slice(lo, lo + CHUNK)
        dx = px[None] - np.asarray(cx, np.float32)[sl, None, None]  # [c, s, s]
        dy = np.asarray(cy, np.float32)[sl, None, None] - py[None]  # up is positive
        c = np.cos(theta[sl]).astype(np.float32)[:, None, None]
        si = np.sin(theta[sl]).astype(np.float32)[:, None, None]
        h = np.asarray(half, np.float32)[sl, None, None]
        u = (c * dx + si * dy) / (h * aspect[sl, None, None])
        v = (-si * dx + c * dy) / h
        block = np.zeros_like(u)
        for k in range(len(SHAPES)):
            pick = shape[sl] == k
            if pick.any():
                block[pick] = _inside(k, u[pick], v[pick])
        out[sl] = block
    return out


def segment_distance(segments: np.ndarray, size: int) -> np.ndarray:
    """Distance in pixels from every pixel centre to the nearest segment.

    Args:
      segments: [n, m, 2, 2] endpoints (x, y) in image units; repeated segments are harmless.
      size: side s in pixels.

    Returns:
      [n, s, s] float32 distances.
    """
    segments = np.asarray(segments, np.float32)
    if segments.ndim != 4 or segments.shape[2:] != (2, 2):
        raise ValueError(f"segments must have shape [n, m, 2, 2], got {segments.shape}")
    px, py = pixel_grid(size)
    p = np.stack([px.ravel(), py.ravel()], -1)  # [s*s, 2]
    n = segments.shape[0]
    out = np.empty((n, size * size), np.float32)
    chunk = max(1, CHUNK // 4)
    for lo in range(0, n, chunk):
        seg = segments[lo : lo + chunk]  # [c, m, 2, 2]
        a, b = seg[:, None, :, 0], seg[:, None, :, 1]  # [c, 1, m, 2]
        ab = b - a
        ap = p[None, :, None, :] - a  # [c, s*s, m, 2]
        t = np.clip((ap * ab).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-12), 0.0, 1.0)
        d2 = ((ap - t[..., None] * ab) ** 2).sum(-1)  # [c, s*s, m]
        out[lo : lo + chunk] = np.sqrt(d2.min(-1))
    return out.reshape(n, size, size) * size


def stroke_image(segments: np.ndarray, width_px: np.ndarray, size: int) -> np.ndarray:
    """Anti-aliased strokes of exactly ``width_px`` pixels, peak 1: [n, s, s] float32."""
    d = segment_distance(segments, size)
    w = np.asarray(width_px, np.float32)[:, None, None]
    return np.clip(w / 2.0 - d + 0.5, 0.0, 1.0)


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, k: int) -> list:
    """Points on an elliptic arc; angles in degrees, 0 = right, 90 = up (y grows downwards)."""
    a = np.deg2rad(np.linspace(a0, a1, k))
    return list(zip(cx + rx * np.cos(a), cy - ry * np.sin(a)))


# Our own stroke font: each digit is a list of polylines in a unit box (x right, y down).
DIGIT_STROKES: tuple[tuple[list, ...], ...] = (
    (_arc(0.5, 0.5, 0.3, 0.42, 0, 360, 17),),
    ([(0.32, 0.24), (0.54, 0.08), (0.54, 0.92)],),
    ([*_arc(0.5, 0.3, 0.3, 0.22, 160, -30, 8), (0.2, 0.92), (0.82, 0.92)],),
    (_arc(0.48, 0.29, 0.27, 0.21, 150, -90, 9) + _arc(0.48, 0.7, 0.31, 0.22, 90, -150, 9),),
    ([(0.66, 0.92), (0.66, 0.08), (0.16, 0.66), (0.86, 0.66)],),
    ([(0.8, 0.08), (0.3, 0.08), (0.25, 0.46), *_arc(0.5, 0.66, 0.3, 0.26, 130, -150, 10)],),
    (_arc(0.52, 0.3, 0.3, 0.24, 60, 180, 6) + _arc(0.5, 0.68, 0.3, 0.24, 180, -180, 14),),
    ([(0.16, 0.08), (0.84, 0.08), (0.4, 0.92)],),
    (_arc(0.5, 0.28, 0.24, 0.2, 270, -90, 13), _arc(0.5, 0.7, 0.3, 0.22, 90, -270, 15)),
    (_arc(0.5, 0.32, 0.3, 0.24, 0, 360, 14) + _arc(0.48, 0.7, 0.32, 0.26, 0, -120, 6),),
)


def _segments_of(polylines: tuple[list, ...]) -> np.ndarray:
    segs = [pq for line in polylines for pq in itertools.pairwise(line)]
    return np.asarray(segs, np.float32)  # [m, 2, 2]


def _digit_table() -> np.ndarray:
    """All digits' segments padded (by repeating the last one) to a common count: [10, m, 2, 2]."""
    segs = [_segments_of(p) for p in DIGIT_STROKES]
    m = max(len(s) for s in segs)
    return np.stack([np.concatenate([s, np.repeat(s[-1:], m - len(s), 0)]) for s in segs])


DIGIT_SEGMENTS = _digit_table()


def digit_images(
    digit: np.ndarray,
    thickness: np.ndarray,
    intensity: np.ndarray,
    style: np.ndarray,
    size: int,
) -> np.ndarray:
    """Morpho-MNIST-like digits: strokes of ``thickness`` px (at 28 px scale), peak ``intensity``.

    Args:
      digit: [n] int 0..9.
      thickness: [n] stroke width in pixels of a 28-pixel image (rescaled to ``size``).
      intensity: [n] peak grey level in 0..255.
      style: [n, 5] image-only noise (slant, rotation, scale, shift x, shift y), already in units.
      size: side s in pixels.

    Returns:
      [n, s, s] float32 grey levels in 0..255.
    """
    digit = np.asarray(digit).astype(np.int64)
    if np.any((digit < 0) | (digit > 9)):
        raise ValueError("digits must be in 0..9")
    slant, rot, scale, sx, sy = (np.asarray(style, np.float32)[:, k] for k in range(5))
    pts = DIGIT_SEGMENTS[digit] - 0.5  # [n, m, 2, 2], centred
    x, y = pts[..., 0], pts[..., 1]
    x = x - slant[:, None, None] * y  # shear: top leans right for positive slant
    c, s = np.cos(rot)[:, None, None], np.sin(rot)[:, None, None]
    x, y = c * x - s * y, s * x + c * y
    k = scale[:, None, None]
    segs = np.stack([0.5 + sx[:, None, None] + k * x, 0.5 + sy[:, None, None] + k * y], -1)
    width = np.asarray(thickness, np.float32) * size / 28.0
    return stroke_image(segs, width, size) * np.asarray(intensity, np.float32)[:, None, None]
