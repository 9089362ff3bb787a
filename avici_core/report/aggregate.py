"""The long-form metrics table every report is computed from.

One row per (domain, setting, method, seed, metric), columns ``METRIC_COLUMNS``. A failed or
timed-out run keeps its rows (``status`` says why, ``value`` is NaN), and a metric that does not
apply to a method's output (ECE of a hard graph) has status ``n/a``, so that tables can count
failures instead of silently dropping them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pandas as pd

from avici_core.io import atomic_path

METRIC_COLUMNS = ("domain", "setting", "method", "seed", "metric", "value", "status")
STATUSES = ("ok", "n/a", "failed", "timeout")  # n/a: the metric does not apply to this output
KEY_COLUMNS = ("domain", "setting", "method", "seed", "metric")


def check_metrics_frame(df: pd.DataFrame, *, source: str = "metrics") -> pd.DataFrame:
    """Return ``df`` with typed columns, or raise ValueError saying which column or value is bad."""
    missing = [c for c in METRIC_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{source}: missing column(s) {missing}; expected {list(METRIC_COLUMNS)}")
    out = df.copy()
    for col in ("domain", "setting", "method", "metric", "status"):
        out[col] = out[col].astype(str)
    out["seed"] = pd.to_numeric(out["seed"], errors="raise").astype(int)
    out["value"] = pd.to_numeric(out["value"], errors="coerce")
    bad_status = sorted(set(out["status"]) - set(STATUSES))
    if bad_status:
        raise ValueError(f"{source}: unknown status value(s) {bad_status}; use one of {STATUSES}")
    bad_setting = sorted(set(out["setting"]) - {"obs", "int"})
    if bad_setting:
        raise ValueError(f"{source}: unknown setting(s) {bad_setting}; use 'obs' or 'int'")
    dup = out.duplicated(list(KEY_COLUMNS))
    if dup.any():
        first = out.loc[dup, list(KEY_COLUMNS)].iloc[0].to_dict()
        raise ValueError(f"{source}: {int(dup.sum())} duplicate row(s), first {first}")
    return out


def read_metrics_csv(path: str | os.PathLike) -> pd.DataFrame:
    """Read a metrics CSV; only ``value`` may be missing (status ``n/a`` is a word, not NaN)."""
    df = pd.read_csv(path, keep_default_na=False, na_values={"value": ["", "nan", "NaN"]})
    return check_metrics_frame(df, source=str(path))


def aggregate_metric_files(paths: Sequence[str | os.PathLike]) -> pd.DataFrame:
    """Concatenate per-prediction metric CSVs into one sorted long-form frame."""
    if not paths:
        raise ValueError("no metric files given; the selection in config/config.yaml is empty")
    frames = [read_metrics_csv(p) for p in paths]
    df = pd.concat(frames, ignore_index=True)
    df = check_metrics_frame(df, source="concatenated metrics")
    extra = [c for c in df.columns if c not in METRIC_COLUMNS]
    return df[list(METRIC_COLUMNS) + extra].sort_values(list(KEY_COLUMNS), ignore_index=True)


def write_csv_atomic(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write via a temp file and rename so a killed job never leaves a truncated CSV."""
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
