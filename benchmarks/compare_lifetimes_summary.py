"""Reference summaries from lifetimes for tests/test_rfm_summary.py (run in .venv-peers).

Draws a seeded synthetic order log (several orders on one day or in one hour, orders after
the as-of day, returns and zero-value orders), writes it to
``tests/fixtures/rfm_orders.csv`` and, for each case below, writes what lifetimes 0.11.3's
``summary_data_from_transaction_data`` returns on its purchases to
``tests/fixtures/rfm_lifetimes_<case>.csv``. The test then runs ``cjkit.rfm.summary_data`` on
the same file in the project venv and compares.

Usage::

    .venv-peers/bin/python benchmarks/compare_lifetimes_summary.py
"""
from __future__ import annotations

import pathlib
import sys

import numpy as np
import pandas as pd

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "tests" / "fixtures"
#: case name -> (observation_period_end, freq, freq_multiplier)
CASES = {
    "D": (None, "D", 1),
    "D_asof": ("2024-06-12", "D", 1),        # a Wednesday; later orders are left out
    "W_asof": ("2024-06-12", "W", 1),        # orders later in that week still count
    "W_mult4": ("2024-06-12", "W", 4),       # weeks / 4
    "h_mult24": ("2024-06-12", "h", 24),     # hours / 24: days to the hour
}


def synthetic_orders(seed: int = 9, customers: int = 300) -> pd.DataFrame:
    """A small order log with the awkward cases the summary must get right."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01")
    rows = []
    for i in range(customers):
        n = 1 + rng.geometric(0.35) - 1 if rng.random() < 0.55 else 1 + rng.poisson(4)
        first = rng.uniform(0, 150)
        times = np.sort(first + np.concatenate(([0.0], rng.exponential(20, n - 1).cumsum())))
        if rng.random() < 0.15 and n > 1:      # a second order a few hours after the first
            times[1] = times[0] + rng.uniform(0.01, 0.2)
        for t in times:
            rows.append((f"K{i:04d}", start + pd.Timedelta(days=float(t)),
                         float(np.round(rng.gamma(2.0, 40.0), 2)) if rng.random() > 0.04 else 0.0))
    frame = pd.DataFrame(rows, columns=["customer_id", "ordered_at", "amount"])
    frame["ordered_at"] = frame["ordered_at"].dt.floor("s")
    frame["is_return"] = False
    ret = frame.sample(frac=0.05, random_state=seed)
    ret = ret.assign(ordered_at=ret["ordered_at"] + pd.Timedelta(days=3), amount=-ret["amount"], is_return=True)
    frame = pd.concat([frame, ret[ret["amount"] < 0]], ignore_index=True).sort_values("ordered_at")
    frame.insert(1, "order_id", [f"O{i:05d}" for i in range(len(frame))])
    return frame.reset_index(drop=True)


def main() -> int:
    import lifetimes
    from lifetimes.utils import summary_data_from_transaction_data

    orders = synthetic_orders()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    orders.to_csv(FIXTURES / "rfm_orders.csv", index=False)
    purchases = orders[~orders["is_return"]]
    for case, (end, freq, mult) in CASES.items():
        out = summary_data_from_transaction_data(purchases, "customer_id", "ordered_at", "amount",
                                                 observation_period_end=end, freq=freq, freq_multiplier=mult)
        out.to_csv(FIXTURES / f"rfm_lifetimes_{case}.csv", float_format="%.17g")
        print(f"{case}: {len(out)} customers, lifetimes {lifetimes.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
