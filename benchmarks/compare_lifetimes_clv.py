"""Reference numbers from lifetimes 0.11.3 for the CLV tests (run with the peers venv).

    .venv-peers/bin/python benchmarks/compare_lifetimes_clv.py

Fits lifetimes' BetaGeoFitter and GammaGammaFitter on two datasets and writes what they
give to ``tests/fixtures/clv_lifetimes_reference.json``, with the data they were given as
small CSVs next to it, so ``tests/test_clv.py`` (in the project venv, without lifetimes)
checks that cjkit's estimates and predictions agree to at least 3 significant figures:

* **cdnow**: the CDNOW summary shipped inside lifetimes (2,357 customers, weeks), the data of
  Fader, Hardie and Lee (2005); the Gamma-Gamma fit uses its summary with mean spend; the
  Pareto/NBD (ParetoNBDFitter) is fitted on it too;
* **synthetic**: a seeded BG/NBD / Gamma-Gamma population (1,000 customers over two years)
  as a transaction log (``clv_synthetic_orders.csv``), summarised by lifetimes'
  ``summary_data_from_transaction_data`` in days and in weeks.

lifetimes' ``log_likelihood`` is not exposed and it fits on rescaled time; the log-likelihood
recorded here is its own negative log-likelihood function evaluated at its estimates on the
unscaled data, times the number of customers. Its CLV is ``customer_lifetime_value(...,
time=12, discount_rate=0.01, freq=...)``: recorded with the right ``freq`` and, for the weekly
summary, with the default ``freq="D"`` as in lifetimes' quickstart (a 360-week horizon).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

try:
    import lifetimes
    from lifetimes import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data
except ImportError:  # pragma: no cover - only in the peers venv
    sys.exit("lifetimes is not installed here: run with .venv-peers/bin/python")

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
DATASETS = Path(lifetimes.__file__).parent / "datasets"
#: customers whose predictions are recorded (the first rows of each summary)
N_PREDICT = 25
SEED = 20240607
OBSERVATION_END = "2025-12-31"


def synthetic_orders(n: int = 1000, *, seed: int = SEED) -> pd.DataFrame:
    """A BG/NBD population (r 0.9, alpha 60 days, a 1, b 4) spending Gamma-Gamma amounts (p 2, q 3, v 150)."""
    rng = np.random.default_rng(seed)
    start, days = pd.Timestamp("2024-01-01"), 731.0
    rows = []
    lam = rng.gamma(0.9, 1 / 60.0, n)
    drop = rng.beta(1.0, 4.0, n)
    nu = rng.gamma(3.0, 1 / 150.0, n)
    first = rng.uniform(0, 365.0, n)
    for i in range(n):
        t = first[i]
        while t < days:
            rows.append((f"S{i + 1:05d}", start + pd.Timedelta(seconds=round(t * 86400)),
                         round(float(rng.gamma(2.0, 1 / nu[i])), 2)))
            if rng.random() < drop[i] and t > first[i]:  # drop out after a repeat purchase
                break
            t += rng.exponential(1 / lam[i])
    return pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])


def _loglik_bgnbd(model: BetaGeoFitter, summary: pd.DataFrame) -> float:
    p = model.params_[["r", "alpha", "a", "b"]].to_numpy()
    nll = BetaGeoFitter._negative_log_likelihood(np.log(p), summary["frequency"].to_numpy(),
                                                 summary["recency"].to_numpy(), summary["T"].to_numpy(),
                                                 np.ones(len(summary)), 0.0)
    return float(-nll * len(summary))


def _loglik_gg(model: GammaGammaFitter, repeat: pd.DataFrame) -> float:
    p = model.params_[["p", "q", "v"]].to_numpy()
    nll = GammaGammaFitter._negative_log_likelihood(np.log(p), repeat["frequency"].to_numpy(dtype=float),
                                                    repeat["monetary_value"].to_numpy(dtype=float),
                                                    np.ones(len(repeat)), 0.0)
    return float(-nll * len(repeat))


def _pareto(summary: pd.DataFrame, *, t: float) -> dict:
    """Pareto/NBD: lifetimes fits with Nelder-Mead at tol 1e-4, so its estimates carry fewer
    digits; its predictions are recorded at its own estimates (the test evaluates the kit's
    formulas there)."""
    pn = ParetoNBDFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    head = summary.head(N_PREDICT)
    p = pn.params_[["r", "alpha", "s", "beta"]].to_numpy()
    ll = ParetoNBDFitter._conditional_log_likelihood(p, summary["frequency"].to_numpy(), summary["recency"].to_numpy(),
                                                     summary["T"].to_numpy())
    return {"params": pn.params_.to_dict(), "loglik": float(np.sum(ll)), "predict_t": t,
            "conditional_expected_purchases": pn.conditional_expected_number_of_purchases_up_to_time(
                t, head["frequency"], head["recency"], head["T"]).tolist(),
            "probability_alive": pn.conditional_probability_alive(head["frequency"], head["recency"],
                                                                  head["T"]).tolist(),
            "expected_purchases_population": float(pn.expected_number_of_purchases_up_to_time(t))}


def _fits(summary: pd.DataFrame, *, t: float, freq: str, with_spend: bool = True) -> dict:
    bg = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    head = summary.head(N_PREDICT)
    out = {
        "bgnbd": {"params": bg.params_.to_dict(), "se": bg.standard_errors_.to_dict(),
                  "loglik": _loglik_bgnbd(bg, summary)},
        "predict_t": t,
        "conditional_expected_purchases": bg.conditional_expected_number_of_purchases_up_to_time(
            t, head["frequency"], head["recency"], head["T"]).tolist(),
        "probability_alive": bg.conditional_probability_alive(head["frequency"], head["recency"], head["T"]).tolist(),
        "expected_purchases_population": float(bg.expected_number_of_purchases_up_to_time(t)),
    }
    if with_spend:
        repeat = summary[summary["frequency"] > 0]
        gg = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
        out["gamma_gamma"] = {"params": gg.params_.to_dict(), "se": gg.standard_errors_.to_dict(),
                              "loglik": _loglik_gg(gg, repeat),
                              "corr": float(repeat[["frequency", "monetary_value"]].corr().iloc[0, 1])}
        out["expected_average_profit"] = gg.conditional_expected_average_profit(
            head["frequency"], head["monetary_value"]).tolist()
        clv = {}
        for name, f in (("right_freq", freq), ("days_default", "D")):
            clv[name] = gg.customer_lifetime_value(bg, head["frequency"], head["recency"], head["T"],
                                                   head["monetary_value"], time=12, discount_rate=0.01,
                                                   freq=f).tolist()
        out["clv_12_months"] = clv
    return out


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    ref: dict = {"lifetimes": lifetimes.__version__, "n_predict": N_PREDICT, "clv": {"time": 12,
                 "discount_rate": 0.01}}

    cdnow = pd.read_csv(DATASETS / "cdnow_customers_summary_with_transactions.csv").rename(
        columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    cdnow = cdnow[["ID", "frequency", "recency", "T", "monetary_value"]]
    cdnow.to_csv(FIXTURES / "clv_cdnow_summary.csv", index=False)
    ref["cdnow"] = {"unit": "weeks", "freq": "W", **_fits(cdnow, t=39.0, freq="W"),
                    "pareto_nbd": _pareto(cdnow, t=39.0)}

    orders = synthetic_orders()
    orders.to_csv(FIXTURES / "clv_synthetic_orders.csv", index=False)
    ref["synthetic"] = {"observation_end": OBSERVATION_END, "seed": SEED, "orders": len(orders)}
    for freq, t in (("D", 180.0), ("W", 26.0)):
        summary = summary_data_from_transaction_data(orders, "customer_id", "ordered_at", monetary_value_col="amount",
                                                     observation_period_end=OBSERVATION_END, freq=freq)
        summary = summary.reset_index()
        summary.to_csv(FIXTURES / f"clv_synthetic_summary_{freq}.csv", index=False)
        ref["synthetic"][freq] = {"unit": {"D": "days", "W": "weeks"}[freq], **_fits(summary, t=t, freq=freq)}

    path = FIXTURES / "clv_lifetimes_reference.json"
    path.write_text(json.dumps(ref, indent=1) + "\n")
    print(f"wrote {path}")
    for name, part in (("cdnow", ref["cdnow"]), ("synthetic D", ref["synthetic"]["D"]),
                       ("synthetic W", ref["synthetic"]["W"])):
        p = part["bgnbd"]["params"]
        print(f"{name:12s} r {p['r']:.4g} alpha {p['alpha']:.4g} a {p['a']:.4g} b {p['b']:.4g} "
              f"loglik {part['bgnbd']['loglik']:.2f}")


if __name__ == "__main__":
    main()
