"""Time the RFM model summary: cjkit against lifetimes, polars and DuckDB doing the same aggregation.

An order log is generated in memory with numpy (fixed seed): by default 10 million orders of
1 million customers over three years, in time order, with text customer ids (pandas' ``str``
dtype, as ``cjkit.load_client`` gives), naive times to the second, amounts, and 3% returns.
Each engine computes lifetimes' summary per customer with daily periods (frequency = days
with a purchase - 1, recency, T, mean spend of the repeat days), returns left out:

* ``cjkit``: :func:`cjkit.rfm.summary_data` (validation, the report of returns and
  zero-value orders, output sorted by customer);
* ``polars``: truncate to the day, ``group_by(customer, day).sum()``, then per customer
  min / max / count / sum and the first day's sum (multi-threaded, eager);
* ``duckdb``: the same two GROUP BYs in SQL on the pandas frame (scanned in place);
* ``lifetimes`` 0.11.3: ``summary_data_from_transaction_data``, run in ``.venv-peers`` in a
  subprocess that draws the same orders from the same seed. It is slow, so by default it runs
  on a sample (``--lifetimes-orders``, 1 million orders of 100,000 customers) and cjkit is
  timed on that same sample for the ratio.

Extra memory of the cjkit call: the peak of ``tracemalloc`` (numpy and pandas allocations)
during one call, above what was allocated before it.

Prints seconds and ratios and checks once that cjkit, polars and DuckDB agree. Not a test.

    .venv/bin/python benchmarks/bench_rfm.py
    .venv/bin/python benchmarks/bench_rfm.py --orders 1e6 --customers 1e5 --lifetimes-orders 1e6
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
PEERS = REPO / ".venv-peers" / "bin" / "python"
DAY = 86_400


def generate(n_orders: int, n_customers: int, seed: int = 2026) -> dict[str, np.ndarray]:
    """Plain numpy columns (so the lifetimes worker, on numpy 1.26, draws the same orders)."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n_orders)
    seconds = np.sort(rng.integers(0, 3 * 365 * DAY, n_orders))
    amount = np.round(rng.gamma(2.0, 50.0, n_orders), 2)
    is_return = rng.random(n_orders) < 0.03
    amount[is_return] *= -1
    width = len(str(n_customers))
    ids = np.char.add("C", np.char.zfill(cust.astype(str), width)).astype(object)
    times = np.datetime64("2023-01-01T00:00:00", "ns") + seconds.astype("timedelta64[s]")
    return {"customer_id": ids, "ordered_at": times, "amount": amount, "is_return": is_return}


def lifetimes_worker(n_orders: int, n_customers: int) -> None:
    """Run in .venv-peers: time lifetimes on the generated purchases, print JSON."""
    import time

    from lifetimes.utils import summary_data_from_transaction_data

    cols = generate(n_orders, n_customers)
    frame = pd.DataFrame(cols)
    buys = frame[~frame["is_return"]]
    started = time.perf_counter()
    out = summary_data_from_transaction_data(buys, "customer_id", "ordered_at", "amount", freq="D")
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "customers": len(out), "frequency_sum": float(out["frequency"].sum()),
                      "monetary_sum": float(out["monetary_value"].sum())}))


def orders_frame(cols: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame(cols)
    frame["customer_id"] = frame["customer_id"].astype("str")
    frame["is_return"] = frame["is_return"].astype("boolean")
    return frame


def polars_summary(frame):
    import polars as pl

    end = frame.select(pl.col("ordered_at").filter(~pl.col("is_return")).max().dt.truncate("1d")).item()
    days = (frame.filter(~pl.col("is_return"))
            .group_by(["customer_id", pl.col("ordered_at").dt.truncate("1d").alias("day")])
            .agg(pl.col("amount").sum()))
    out = days.group_by("customer_id").agg(
        first=pl.col("day").min(), last=pl.col("day").max(), n=pl.len(), total=pl.col("amount").sum(),
        first_amount=pl.col("amount").sort_by("day").first())
    return out.select(
        "customer_id", frequency=(pl.col("n") - 1).cast(pl.Float64),
        recency=(pl.col("last") - pl.col("first")).dt.total_days().cast(pl.Float64),
        T=(pl.lit(end) - pl.col("first")).dt.total_days().cast(pl.Float64),
        monetary_value=pl.when(pl.col("n") > 1).then((pl.col("total") - pl.col("first_amount")) / (pl.col("n") - 1))
        .otherwise(0.0))


DUCKDB_SQL = """
WITH buys AS (SELECT customer_id, date_trunc('day', ordered_at) AS day, amount FROM orders WHERE NOT is_return),
days AS (SELECT customer_id, day, sum(amount) AS amount FROM buys GROUP BY ALL),
per AS (SELECT customer_id, min(day) AS first, max(day) AS last, count(*) AS n, sum(amount) AS total,
               arg_min(amount, day) AS first_amount FROM days GROUP BY ALL)
SELECT customer_id, (n - 1)::DOUBLE AS frequency, date_diff('day', first, last)::DOUBLE AS recency,
       date_diff('day', first, (SELECT max(day) FROM buys))::DOUBLE AS "T",
       CASE WHEN n > 1 THEN (total - first_amount) / (n - 1) ELSE 0 END AS monetary_value
FROM per
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=float, default=10e6)
    parser.add_argument("--customers", type=float, default=1e6)
    parser.add_argument("--lifetimes-orders", type=float, default=1e6,
                        help="orders for the lifetimes run (customers scale with it); 0 to skip lifetimes")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--lifetimes-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.lifetimes_worker:
        lifetimes_worker(int(args.orders), int(args.customers))
        return

    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import duckdb
    import polars as pl
    from timing import timed

    from cjkit.rfm import summary_data

    n, c = int(args.orders), int(args.customers)
    orders = orders_frame(generate(n, c))
    print(f"{len(orders):,} orders, {orders['customer_id'].nunique():,} customers, "
          f"{int(orders['is_return'].sum()):,} returns")
    pl_orders = pl.from_pandas(orders.assign(customer_id=orders["customer_id"].astype(object),
                                             is_return=orders["is_return"].astype(bool)))
    con = duckdb.connect()
    con.register("orders", orders)

    runs = {"cjkit summary_data": lambda: summary_data(orders),
            "polars": lambda: polars_summary(pl_orders),
            "duckdb": lambda: con.execute(DUCKDB_SQL).df()}
    ours = summary_data(orders)
    other = {"polars": polars_summary(pl_orders).to_pandas(), "duckdb": con.execute(DUCKDB_SQL).df()}
    for name, frame in other.items():
        frame = frame.set_index("customer_id").sort_index()
        same = (frame.index.astype(str) == ours.index.astype(str)).all() and all(
            np.allclose(frame[col].to_numpy(float), ours[col].to_numpy(float), rtol=1e-9)
            for col in ("frequency", "recency", "T", "monetary_value"))
        print(f"cjkit and {name} agree: {'yes' if same else 'NO'}")

    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    summary_data(orders)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()

    results = {name: timed(fn, args.repeat) for name, fn in runs.items()}
    mine = results["cjkit summary_data"]
    print(f"{'':28} {'seconds':>8} {'cjkit / peer':>13}")
    for name, seconds in results.items():
        print(f"{name:28} {seconds:8.2f} {mine / seconds:13.2f}")
    print(f"cjkit extra memory (tracemalloc peak): {peak / 1e9:.2f} GB")

    if args.lifetimes_orders and PEERS.exists():
        ln = int(args.lifetimes_orders)
        lc = max(1, int(round(ln * c / n)))
        run = subprocess.run([str(PEERS), __file__, "--lifetimes-worker", "--orders", str(ln), "--customers", str(lc)],
                             capture_output=True, text=True, check=True)
        peer = json.loads(run.stdout.strip().splitlines()[-1])
        sample = orders_frame(generate(ln, lc))
        same_sample = summary_data(sample)
        small = timed(lambda: summary_data(sample), args.repeat)
        agree = (len(same_sample) == peer["customers"]
                 and abs(same_sample["frequency"].sum() - peer["frequency_sum"]) < 1e-6
                 and abs(same_sample["monetary_value"].sum() - peer["monetary_sum"]) < 1e-6 * peer["monetary_sum"])
        print(f"lifetimes on {ln:,} orders of {lc:,} customers: {peer['seconds']:.2f} s; cjkit on the same "
              f"orders {small:.2f} s: cjkit {peer['seconds'] / small:.1f}x faster (sums agree: "
              f"{'yes' if agree else 'NO'})")


if __name__ == "__main__":
    main()
