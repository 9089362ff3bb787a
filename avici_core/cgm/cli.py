"""``python -m avici_core cgm <step> ...``: every step of the image track, one file in, one out.

Steps: data, oracle, train, graph, eval, table, figure, bridge-figure. Each random step takes
``--seed``; generators derive from (dataset, seed, step) so reruns are identical.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

import jax
import numpy as np

from avici_core.cgm import bridge, ckpt, evaluate, mechanisms, oracle, report, vae
from avici_core.cgm import data as cgm_data
from avici_core.cgm.scm import domain_rng
from avici_core.cli import command_parser
from avici_core.config import schema_default
from avici_core.io import write_npz, write_text

log = logging.getLogger(__name__)


def _key(dataset: str, seed: int, step: str) -> jax.Array:
    return jax.random.PRNGKey(int(domain_rng(dataset, seed, step).integers(2**31)))


def cmd_data(a: argparse.Namespace) -> None:
    d = cgm_data.generate(
        a.dataset, a.seed, size=a.size, n_train=a.n_train, n_test=a.n_test, n_simint=a.n_simint
    )
    cgm_data.save(a.out, d)


def cmd_oracle(a: argparse.Namespace) -> None:
    d = cgm_data.load(a.data)
    name, sim = d.domain.name, d["simint"]
    step = f"oracle_{a.which}"
    spec = oracle.OracleSpec(d.domain.attributes, a.width)
    orc = oracle.train(
        _key(name, a.seed, step),
        domain_rng(name, a.seed, step),
        spec,
        sim.x,
        sim.a,
        steps=a.steps,
        batch=a.batch,
        lr=a.lr,
    )
    ckpt.save_params(a.out, orc.params, {"width": a.width, "which": a.which})


def load_oracle(path: str, d: cgm_data.CGMData) -> oracle.Oracle:
    params, meta = ckpt.load_params(path)
    return oracle.Oracle(oracle.OracleSpec(d.domain.attributes, int(meta["width"])), params)


def fit_parents(d: cgm_data.CGMData, g: np.ndarray, seed: int, steps: int) -> mechanisms.FittedSCM:
    name = d.domain.name
    return mechanisms.fit(
        _key(name, seed, "mechanisms"), d.domain.attributes, g, d["train"].a, steps=steps
    )


def counterfactual_bank(
    rng: np.random.Generator, d: cgm_data.CGMData, fitted: mechanisms.FittedSCM
) -> np.ndarray:
    """One random single-attribute do per training row, propagated by the parent SCM: a* [n, d]."""
    a = d["train"].a
    obs = [j for j, at in enumerate(d.domain.attributes) if at.observed]
    which = rng.choice(obs, a.shape[0])
    do = {j: np.where(which == j, rng.permutation(a[:, j]), np.nan) for j in obs}
    return fitted.counterfactual(rng, a, do)


def cmd_train(a: argparse.Namespace) -> None:
    d = cgm_data.load(a.data)
    cfg = vae.VAEConfig.from_dict(json.loads(a.config))
    name, tr, attrs = d.domain.name, d["train"], d.domain.attributes
    pa = evaluate.features(attrs, tr.a)
    model, bound = vae.train(
        _key(name, a.seed, "vae"), domain_rng(name, a.seed, "vae"), cfg, tr.x, pa
    )
    if cfg.cf_steps > 0:
        if not a.oracle_a:
            raise ValueError("counterfactual training (cf_steps > 0) needs --oracle-a")
        rng = domain_rng(name, a.seed, "cf")
        a_star = counterfactual_bank(rng, d, fit_parents(d, d.domain.graph, a.seed, a.mech_steps))
        model = vae.train_counterfactual(
            _key(name, a.seed, "cf"),
            rng,
            model,
            load_oracle(a.oracle_a, d),
            tr.x,
            pa,
            evaluate.features(attrs, a_star),
            a_star,
            bound=bound,
        )
    ckpt.save_params(
        a.out,
        model.params,
        {"config": dataclasses.asdict(cfg), "size": model.size, "neg_elbo": bound},
    )


def load_model(path: str) -> vae.ImageModel:
    params, meta = ckpt.load_params(path)
    return vae.ImageModel(vae.VAEConfig.from_dict(meta["config"]), int(meta["size"]), params)


def cmd_graph(a: argparse.Namespace) -> None:
    d = cgm_data.load(a.data)
    g, info = bridge.infer_graph(
        d,
        a.source,
        seed=a.seed,
        n_rows=a.n_rows,
        hparams=json.loads(a.hparams),
        timeout_s=a.timeout,
    )
    info |= {"source": a.label or a.source, "shd": bridge.shd(d.domain.graph, g)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    np.savez(a.out, g=g.astype(np.int8), meta=np.asarray(json.dumps(info)))


def cmd_eval(a: argparse.Namespace) -> None:
    d = cgm_data.load(a.data)
    name, attrs = d.domain.name, d.domain.attributes
    with np.load(a.graph, allow_pickle=False) as f:
        g, ginfo = f["g"], json.loads(str(f["meta"]))
    fitted = fit_parents(d, g, a.seed, a.mech_steps)
    sample_key = _key(name, a.seed, "sample")
    sampler = None
    if a.kind == "renderer":
        f = evaluate.renderer_map(d.domain, d["test"])
    elif a.kind == "identity":
        f = evaluate.identity_map()
    elif a.kind in ("model", "prior_z"):
        if not a.checkpoint:
            raise ValueError(f"--kind {a.kind} needs --checkpoint")
        model = load_model(a.checkpoint)
        f = (
            evaluate.model_map(model, attrs)
            if a.kind == "model"
            else evaluate.prior_map(model, attrs, sample_key)
        )
        sampler = model if a.kind == "model" else None
    else:
        raise ValueError(f"unknown --kind {a.kind!r}")
    metrics, examples = evaluate.evaluate(
        domain_rng(name, a.seed, "eval"),
        d,
        fitted,
        f,
        load_oracle(a.oracle_b, d),
        n_eval=a.n_eval,
        sampler=sampler,
        sample_key=sample_key,
        true_parents=a.true_parents,
    )
    metrics["shd"] = float(ginfo["shd"])
    graph = "oracle" if a.true_parents else ginfo["source"]
    rec = {
        "dataset": name,
        "model": a.name,
        "graph": graph,
        "seed": a.seed,
        "graph_status": ginfo["status"],
        "metrics": metrics,
    }
    write_text(a.out, json.dumps(rec, indent=1, sort_keys=True, allow_nan=True))
    if a.examples:
        write_npz(a.examples, examples)


def cmd_table(a: argparse.Namespace) -> None:
    report.write_tables(report.long_frame(a.inputs), a.columns, a.out_prefix)


def cmd_figure(a: argparse.Namespace) -> None:
    exs = {}
    for p in a.examples:
        with np.load(p, allow_pickle=False) as f:
            exs[Path(p).stem] = {k: f[k] for k in f.files}
    report.example_grid(exs, a.out)


def cmd_bridge_figure(a: argparse.Namespace) -> None:
    report.bridge_figure(report.long_frame(a.inputs), a.out)


def parser() -> argparse.ArgumentParser:
    p = command_parser("cgm", __doc__)
    sub = p.add_subparsers(dest="step", required=True)
    s = sub.add_parser("data", help="generate one dataset")
    s.add_argument("--dataset", required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--size", type=int, default=schema_default("cgm", "data", "size"))
    s.add_argument("--n-train", type=int, default=schema_default("cgm", "data", "n_train"))
    s.add_argument("--n-test", type=int, default=schema_default("cgm", "data", "n_test"))
    s.add_argument("--n-simint", type=int, default=schema_default("cgm", "data", "n_simint"))
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_data)
    s = sub.add_parser("oracle", help="train oracle A or B on simulated-intervention images")
    s.add_argument("--data", required=True)
    s.add_argument("--which", choices=("A", "B"), required=True)
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--width", type=int, required=True, help="oracles.<A|B>.width")
    s.add_argument("--steps", type=int, required=True, help="oracles.<A|B>.steps")
    s.add_argument("--batch", type=int, default=128)
    s.add_argument("--lr", type=float, default=1e-3)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_oracle)
    s = sub.add_parser("train", help="train one image model (JSON config of vae.VAEConfig)")
    s.add_argument("--data", required=True)
    s.add_argument("--config", required=True, help='e.g. \'{"beta": 4, "steps": 1500}\'')
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--oracle-a", default="")
    s.add_argument("--mech-steps", type=int, default=schema_default("cgm", "eval", "mech_steps"))
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_train)
    s = sub.add_parser("graph", help="attribute DAG from a source (true/empty/reversed/method)")
    s.add_argument("--data", required=True)
    s.add_argument("--source", required=True, help="true, empty, reversed or a method impl")
    s.add_argument("--label", default="", help="graph id in the tables (default: the source)")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--n-rows", type=int, default=schema_default("cgm", "bridge", "n_rows"))
    s.add_argument("--hparams", default="{}")
    s.add_argument(
        "--timeout",
        type=float,
        default=schema_default("cgm", "graphs", "timeout_s"),
    )
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_graph)
    s = sub.add_parser("eval", help="all queries and metrics of one table row")
    s.add_argument("--data", required=True)
    s.add_argument("--graph", required=True)
    s.add_argument("--oracle-b", required=True)
    s.add_argument("--kind", choices=("model", "prior_z", "renderer", "identity"), required=True)
    s.add_argument("--checkpoint", default="")
    s.add_argument("--name", required=True, help="row label in the table")
    s.add_argument("--seed", type=int, required=True)
    s.add_argument("--n-eval", type=int, default=schema_default("cgm", "eval", "n_eval"))
    s.add_argument("--mech-steps", type=int, default=schema_default("cgm", "eval", "mech_steps"))
    s.add_argument("--out", required=True)
    s.add_argument("--examples", default="")
    s.add_argument(
        "--true-parents",
        action="store_true",
        help="give the map the true counterfactual attributes (renderer oracle row)",
    )
    s.set_defaults(fn=cmd_eval)
    s = sub.add_parser("table", help="md/tex/csv table from metric JSON files")
    s.add_argument("--inputs", nargs="+", required=True)
    s.add_argument("--columns", nargs="+", default=list(report.DEFAULT_COLUMNS))
    s.add_argument("--out-prefix", required=True)
    s.set_defaults(fn=cmd_table)
    s = sub.add_parser("figure", help="factual / model / true counterfactual grid")
    s.add_argument("--examples", nargs="+", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_figure)
    s = sub.add_parser("bridge-figure", help="GT-CF error against SHD per graph source")
    s.add_argument("--inputs", nargs="+", required=True)
    s.add_argument("--out", required=True)
    s.set_defaults(fn=cmd_bridge_figure)
    return p


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    args.fn(args)
    return 0
