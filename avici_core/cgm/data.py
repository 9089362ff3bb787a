"""Generate and store one CGM dataset (train, test and simulated-intervention splits) as ``.npz``.

File layout (no pickle), for each split P in {train, test, simint}:
  P_x [n, s, s] uint8 images, P_a [n, d] attributes, P_u [n, d] attribute noise, P_v [n, k]
  image noise; plus g [d, d] int8 and meta (JSON: dataset, seed, size, attribute specs).
The domain object is rebuilt from (dataset, seed, size), so the file plus the code re-render
every image exactly.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

from avici_core.cgm.scm import Domain, Sample, domain_rng, make_domain
from avici_core.io import write_npz

SPLITS = ("train", "test", "simint")


@dataclasses.dataclass(frozen=True)
class CGMData:
    domain: Domain
    seed: int
    splits: dict[str, Sample]

    def __getitem__(self, split: str) -> Sample:
        if split not in self.splits:
            raise ValueError(f"unknown split {split!r}; the file has {sorted(self.splits)}")
        return self.splits[split]


def generate(
    dataset: str, seed: int, *, size: int = 32, n_train: int, n_test: int, n_simint: int
) -> CGMData:
    """Sample every split from its own stream of the (dataset, seed) generator."""
    for k, n in {"n_train": n_train, "n_test": n_test, "n_simint": n_simint}.items():
        if n < 1:
            raise ValueError(f"{k} must be positive, got {n}")
    dom = make_domain(dataset, seed=seed, size=size)
    splits = {
        "train": dom.sample(domain_rng(dataset, seed, "train"), n_train),
        "test": dom.sample(domain_rng(dataset, seed, "test"), n_test),
        "simint": dom.independent_sample(domain_rng(dataset, seed, "simint"), n_simint),
    }
    return CGMData(dom, seed, splits)


def save(path: str | os.PathLike, data: CGMData) -> None:
    """Atomic write (temp file + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dom = data.domain
    meta = {
        "dataset": dom.name,
        "seed": data.seed,
        "size": dom.size,
        "attributes": [dataclasses.asdict(a) for a in dom.attributes],
    }
    arrays = {"g": dom.graph.astype(np.int8), "meta": np.asarray(json.dumps(meta))}
    for name, s in data.splits.items():
        arrays.update({f"{name}_x": s.x, f"{name}_a": s.a, f"{name}_u": s.u, f"{name}_v": s.v})
    write_npz(path, arrays, compress=True)


def load(path: str | os.PathLike) -> CGMData:
    with np.load(path, allow_pickle=False) as f:
        if "meta" not in f.files or "train_x" not in f.files:
            raise ValueError(
                f"{path}: not a cgm dataset file (run `python -m avici_core cgm data`)"
            )
        meta = json.loads(str(f["meta"]))
        splits = {
            p: Sample(f[f"{p}_x"], f[f"{p}_a"], f[f"{p}_u"], f[f"{p}_v"])
            for p in SPLITS
            if f"{p}_x" in f.files
        }
        g = f["g"]
    dom = make_domain(meta["dataset"], seed=meta["seed"], size=meta["size"])
    if not np.array_equal(dom.graph, g):
        raise ValueError(f"{path}: stored graph differs from the code's; regenerate the file")
    return CGMData(dom, int(meta["seed"]), splits)
