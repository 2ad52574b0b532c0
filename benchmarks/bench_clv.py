"""Time the CLV model fits: cjkit against lifetimes 0.11.3 on the same summaries.

Two summaries, each fitted by both libraries in one run (median of ``--repeat`` fits):

* ``cdnow``: the CDNOW summary of Fader, Hardie and Lee (2005), 2,357 customers in weeks
  (``tests/fixtures/clv_cdnow_summary.csv``);
* ``demo``: the demo client's summary (``cjkit.rfm.summary_data`` in days up to the end of
  the observation window, 7,391 buyers with generator 2.0).

Models: BG/NBD (``BGNBD`` / ``BetaGeoFitter``), Gamma-Gamma on repeat buyers
(``GammaGamma`` / ``GammaGammaFitter``) on both; Pareto/NBD (``ParetoNBD`` /
``ParetoNBDFitter``) on CDNOW only: the demo's buyers follow BG/NBD, the Pareto/NBD fit
drifts to a boundary there (beta ~ 1.4e5, no standard errors) and takes minutes, which times
a misfit, not the library.
cjkit's fit includes what lifetimes does not compute: standard errors from a numerical
Hessian and the convergence checks. lifetimes runs in ``.venv-peers`` (``make peers``) in a
subprocess on the same CSV; without it only cjkit's times are printed. The parameters of both
are printed side by side once, to show the two fits agree. Not a test: it asserts nothing.

    .venv/bin/python benchmarks/bench_clv.py [--repeat 5] [--markdown]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import timed  # noqa: E402

PEERS = REPO / ".venv-peers" / "bin" / "python"
MODELS = ("bgnbd", "gamma_gamma", "pareto_nbd")


def lifetimes_worker(path: str, repeat: int, models: list[str]) -> None:
    """Run in .venv-peers: fit the lifetimes models on the CSV, print JSON."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter

    s = pd.read_csv(path)
    rep = s[s["frequency"] > 0]
    fits = {"bgnbd": (lambda: BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"]), ["r", "alpha", "a", "b"]),
            "gamma_gamma": (lambda: GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"]), ["p", "q", "v"]),
            "pareto_nbd": (lambda: ParetoNBDFitter().fit(s["frequency"], s["recency"], s["T"]),
                           ["r", "alpha", "s", "beta"])}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (fit, params) in fits.items():
            if name not in models:
                continue
            model = fit()
            out[name] = {"seconds": timed(fit, repeat), "params": [float(model.params_[p]) for p in params]}
    print(json.dumps(out))


def cjkit_fits(s: pd.DataFrame, repeat: int, models: tuple[str, ...]) -> dict:
    from cjkit.clv import BGNBD, GammaGamma, ParetoNBD

    fits = {"bgnbd": lambda: BGNBD().fit(s), "gamma_gamma": lambda: GammaGamma().fit(s),
            "pareto_nbd": lambda: ParetoNBD().fit(s)}
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fit in fits.items():
            if name not in models:
                continue
            model = fit()  # the first call also imports statsmodels' numdiff: not timed
            out[name] = {"seconds": timed(fit, repeat), "params": model.params_.tolist()}
    return out


def summaries() -> dict[str, tuple[pd.DataFrame, tuple[str, ...]]]:
    import cjkit
    from cjkit.rfm import summary_data

    data = cjkit.load_client(REPO / "datasets" / "demo" / "client.yaml")
    truth = json.loads((REPO / "datasets" / "demo" / "ground_truth.json").read_text())
    demo = summary_data(data.orders, as_of=truth["windows"]["observation_end"], freq="D",
                        timezone=data.config.timezone)
    cdnow = pd.read_csv(REPO / "tests" / "fixtures" / "clv_cdnow_summary.csv")
    cols = ["frequency", "recency", "T", "monetary_value"]
    return {"cdnow (2,357, weeks)": (cdnow[cols], MODELS),
            f"demo ({len(demo):,}, days)": (demo[cols].reset_index(drop=True), ("bgnbd", "gamma_gamma"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--markdown", action="store_true", help="print the timings as a Markdown table")
    parser.add_argument("--lifetimes-worker", metavar="CSV", help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", default=list(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lifetimes_worker:
        lifetimes_worker(args.lifetimes_worker, args.repeat, args.models)
        return
    rows = []
    for name, (s, models) in summaries().items():
        ours = cjkit_fits(s, args.repeat, models)
        theirs = None
        if PEERS.exists():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "summary.csv"
                s.to_csv(path, index=False)
                run = subprocess.run([str(PEERS), __file__, "--lifetimes-worker", str(path), "--repeat",
                                      str(args.repeat), "--models", *models],
                                     capture_output=True, text=True, timeout=1800)
                theirs = json.loads(run.stdout) if run.returncode == 0 else None
                if theirs is None:
                    print(f"lifetimes failed on {name}: {run.stderr.strip().splitlines()[-1:]}")
        for model in models:
            ref = theirs[model] if theirs else None
            rows.append((name, model, ours[model]["seconds"], ref["seconds"] if ref else float("nan"),
                         ours[model]["params"], ref["params"] if ref else None))
    if args.markdown:
        print("\n| summary | model | cjkit s | lifetimes s | lifetimes / cjkit |\n| --- | --- | ---: | ---: | ---: |")
        for name, model, a, b, _, _ in rows:
            print(f"| {name} | {model} | {a:.3f} | {b:.3f} | {b / a:.2f} |")
    else:
        print(f"{'summary':22} {'model':12} {'cjkit s':>8} {'lifetimes s':>12} {'lifetimes/cjkit':>16}")
        for name, model, a, b, _, _ in rows:
            print(f"{name:22} {model:12} {a:8.3f} {b:12.3f} {b / a:16.2f}")
    print("\nparameters (cjkit | lifetimes):")
    for name, model, _, _, p, q in rows:
        fmt = lambda v: ", ".join(f"{x:.4g}" for x in v) if v else "-"  # noqa: E731
        print(f"  {name:22} {model:12} {fmt(p)} | {fmt(q)}")


if __name__ == "__main__":
    main()
