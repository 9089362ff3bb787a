"""``python -m avici_core plan --configfile config/paper/neurips2022.yaml``: what a config would run.

Runs ``snakemake -n`` in a subprocess (the library never imports Snakemake), reads every planned
job's rule, wildcards, threads and GPUs from the dry-run listing, and prices each job with the
per-job wall times of ``config/costs.yaml``: jobs per rule, CPU hours and GPU hours.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avici_core.cli import command_parser

log = logging.getLogger(__name__)

DEFAULT_COSTS = "config/costs.yaml"
MAX_CORES = "4096"  # high enough that Snakemake never scales a job's threads down in the listing
_RULE = re.compile(r"^(?:local)?rule (\S+):$")
_FIELD = re.compile(r"^\s+(input|wildcards|threads|resources): (.*)$")


@dataclass
class Job:
    """One planned job: its rule, wildcards, the CPUs/GPUs it holds, its time limit (minutes) and
    how many datasets it reads (an AVICI group reads every seed's)."""

    rule: str
    wildcards: dict[str, str] = field(default_factory=dict)
    threads: int = 1
    gpu: int = 0
    runtime_min: int = 0
    n_datasets: int = 0


def _pairs(text: str) -> dict[str, str]:
    """``a=1, b=x`` -> {"a": "1", "b": "x"} (values never contain ", " in this workflow)."""
    return dict(item.split("=", 1) for item in text.split(", ") if "=" in item)


def parse_dry_run(text: str) -> list[Job]:
    """Every job block (``rule X:`` and its indented fields) of a ``snakemake -n`` listing."""
    jobs: list[Job] = []
    for line in text.splitlines():
        rule = _RULE.match(line.strip()) if not line.startswith(" ") else None
        if rule:
            jobs.append(Job(rule.group(1)))
            continue
        fld = _FIELD.match(line)
        if not (fld and jobs):
            continue
        key, value = fld.groups()
        if key == "input":
            jobs[-1].n_datasets = sum(f.startswith("results/data/") for f in value.split(", "))
        elif key == "wildcards":
            jobs[-1].wildcards = _pairs(value)
        elif key == "threads":
            jobs[-1].threads = int(value)
        else:
            resources = _pairs(value)
            jobs[-1].gpu = int(resources.get("gpu", 0))
            jobs[-1].runtime_min = int(resources.get("runtime", 0))
    return jobs


def load_costs(path: str | Path) -> dict[str, Any]:
    """The cost table; a clear error when the file or its two required parts are missing."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"cost table {path} not found; pass --costs or create it")
    costs = yaml.safe_load(path.read_text()) or {}
    for key in ("rules", "run_method"):
        if not isinstance(costs.get(key), dict):
            raise ValueError(f"{path}: missing mapping '{key}' (see config/costs.yaml)")
    return costs


def _candidates(method: str) -> list[str]:
    """Lookup order of a method id: itself, the grid base id, then ever shorter '-' prefixes."""
    base = method.split("__", 1)[0]
    out = [method, base]
    while "-" in base:
        base = base.rsplit("-", 1)[0]
        out.append(base)
    return out


def method_seconds(costs: dict[str, Any], method: str, domain: str) -> float:
    """Seconds of one run_method job: the method's entry times every matching domain factor."""
    table = costs["run_method"]
    per_method = table.get("methods", {})
    seconds = next(
        (per_method[c] for c in _candidates(method) if c in per_method), table.get("default", 60)
    )
    for key, factor in table.get("domain_factors", {}).items():
        if key in domain:
            seconds *= factor
    return float(seconds)


def job_seconds(costs: dict[str, Any], job: Job) -> float:
    """Estimated wall seconds of one job."""
    if job.rule == "run_method":
        return method_seconds(costs, job.wildcards["method"], job.wildcards["domain"])
    if job.rule == "run_method_group":
        # the first dataset as one run (start-up, imports, an AVICI model's load and compile),
        # each further one at the method's warm share of it
        method = job.wildcards["method"]
        first = method_seconds(costs, method, job.wildcards["domain"])
        shares = costs.get("run_method_group", {}).get("warm_fraction", {})
        warm = next(
            (shares[c] for c in _candidates(method) if c in shares), shares.get("default", 1.0)
        )
        return first * (1 + warm * max(job.n_datasets - 1, 0))
    if job.rule == "train_model":
        # a model's own entry, else the share of its time limit (config/models.yaml) it uses
        models = costs.get("train_model", {})
        if job.wildcards["model"] in models:
            return float(models[job.wildcards["model"]])
        return models.get("runtime_fraction", 1.0) * job.runtime_min * 60
    return float(costs["rules"].get(job.rule, costs.get("default_s", 60)))


def summarize(jobs: list[Job], costs: dict[str, Any]) -> dict[str, dict[str, float]]:
    """rule -> {jobs, cpu_h, gpu_h}; a GPU job's CPUs are its GPUs x CPUs per GPU."""
    out: dict[str, dict[str, float]] = {}
    for job in jobs:
        row = out.setdefault(job.rule, {"jobs": 0, "cpu_h": 0.0, "gpu_h": 0.0})
        hours = job_seconds(costs, job) / 3600
        row["jobs"] += 1
        row["cpu_h"] += hours * job.threads
        row["gpu_h"] += hours * job.gpu
    return out


def format_plan(summary: dict[str, dict[str, float]]) -> str:
    """A fixed-width table with a total line."""
    lines = [f"{'rule':<20} {'jobs':>8} {'CPU h':>12} {'GPU h':>10}"]
    total = {"jobs": 0, "cpu_h": 0.0, "gpu_h": 0.0}
    for rule, row in summary.items():
        lines.append(f"{rule:<20} {row['jobs']:>8d} {row['cpu_h']:>12.1f} {row['gpu_h']:>10.1f}")
        for key in total:
            total[key] += row[key]
    lines.append(
        f"{'total':<20} {total['jobs']:>8d} {total['cpu_h']:>12.1f} {total['gpu_h']:>10.1f}"
    )
    return "\n".join(lines)


def dry_run(configfiles: list[str], workdir: str, extra: list[str]) -> str:
    """The job listing of ``snakemake -n`` (no files are written)."""
    cmd = [sys.executable, "-m", "snakemake", "-n", "--cores", MAX_CORES, *extra]
    if configfiles:
        cmd += ["--configfile", *configfiles]
    result = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True)
    if result.returncode != 0:
        raise ValueError(f"snakemake dry run failed ({' '.join(cmd)}):\n{result.stderr[-4000:]}")
    return result.stdout


def main(argv: list[str]) -> int:
    parser = command_parser("plan", __doc__)
    parser.add_argument(
        "--configfile", nargs="*", default=[], help="overlays of config/config.yaml"
    )
    parser.add_argument("--costs", default=DEFAULT_COSTS, help="per-job seconds (YAML)")
    parser.add_argument("--directory", default=".", help="workflow root (where the Snakefile is)")
    parser.add_argument(
        "--snakemake-args", default="", help="extra arguments for snakemake, one string"
    )
    args = parser.parse_args(argv)
    costs = load_costs(Path(args.directory) / args.costs)
    listing = dry_run(args.configfile, args.directory, args.snakemake_args.split())
    jobs = parse_dry_run(listing)
    log.info("priced %d planned jobs with %s", len(jobs), args.costs)
    sys.stdout.write(format_plan(summarize(jobs, costs)) + "\n")
    return 0
