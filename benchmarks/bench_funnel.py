"""Time the funnel: cjkit's reduction against bare numpy, pandas and DuckDB computing the same numbers.

An event log is generated in memory with numpy (fixed seed): by default 10 million events of
1 million customers over the six stages of the six-stage model, in random row order, with
text customer ids, stage ids and UTC times, the types ``cjkit.load_client`` gives. Each
customer has a depth (the last stage they show) and events spread in time around their
stages, so some arrive out of the model's order. In one run, median of ``--repeat`` runs:

* ``cjkit``: ``funnel_table(stage_times(events, model), model)``, both definitions plus
  step conversions with Wilson intervals, drop-off and median days between stages;
  ``cjkit stage_times`` is the reduction alone;
* ``numpy``: factorize the ids, ``np.minimum.at`` per (customer, stage), then one masked
  pass per stage for the ordered funnel: the same numbers, nothing else;
* ``pandas``: ``groupby(stage).customer_id.nunique()``, then a merge per stage for the
  ordered funnel;
* ``duckdb``: ``count(DISTINCT customer_id) GROUP BY stage``, and a chain of one CTE per stage
  (join on the customer, keep events at or after the previous stage, ``min``), on the
  same DataFrame (DuckDB scans pandas in place); with the ``bench`` extra installed.

Prints seconds and cjkit's ratio to each bare reduction, and checks once that every engine
gives the same unordered and ordered counts. Not a test: it asserts nothing.

    .venv/bin/python benchmarks/bench_funnel.py                      # 10 million events
    .venv/bin/python benchmarks/bench_funnel.py --events 1e6 --customers 1e5
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cjkit import funnel  # noqa: E402
from cjkit.journey import get_model  # noqa: E402
from timing import timed  # noqa: E402

MODEL = get_model("six_stage")
STAGES = list(MODEL.stage_ids)
K = len(STAGES)
NEVER = np.iinfo(np.int64).max
DAY = 86_400 * 10**9  # nanoseconds


def generate(n_events: int, n_customers: int, *, seed: int = 2024) -> pd.DataFrame:
    """A random event log: customer_id (str), timestamp (UTC), stage (six-stage ids), shuffled rows."""
    rng = np.random.default_rng(seed)
    depth = np.minimum(rng.geometric(0.35, n_customers), K)  # last stage a customer shows: 1..6
    start = rng.integers(0, 700, n_customers) * DAY  # a customer's first day in a two-year window
    who = rng.integers(0, n_customers, n_events)
    stage = (rng.random(n_events) * depth[who]).astype(np.int64)  # any stage up to the depth
    jitter = rng.normal(0, 6, n_events) * DAY  # days: enough to put some events out of order
    times = start[who] + stage * 7 * DAY + jitter.astype(np.int64) + pd.Timestamp("2024-01-01").value
    ids = np.char.add("C", np.char.zfill(np.arange(n_customers).astype(str), 7))
    return pd.DataFrame({"customer_id": pd.array(ids[who], dtype="str"),
                         "timestamp": pd.to_datetime(times, utc=True),
                         "stage": pd.array(np.array(STAGES)[stage], dtype="str")})


# --- cjkit ------------------------------------------------------------------------------------

def cjkit_funnel(ev: pd.DataFrame) -> tuple[list[int], list[int]]:
    table = funnel.funnel_table(funnel.stage_times(ev, MODEL), MODEL)
    return table["customers"].tolist(), table["reached_in_order"].tolist()


# --- bare numpy -------------------------------------------------------------------------------

def _numpy_first(ev: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    codes, ids = pd.factorize(ev["customer_id"])
    stage_codes, names = pd.factorize(ev["stage"])
    stage = np.array([STAGES.index(s) for s in names], dtype=np.int64)[stage_codes]
    ts = ev["timestamp"].array.asi8
    first = np.full(len(ids) * K, NEVER)
    np.minimum.at(first, codes * K + stage, ts)
    return first.reshape(len(ids), K), codes, stage, ts


def numpy_unordered(ev: pd.DataFrame) -> list[int]:
    first = _numpy_first(ev)[0]
    return (first != NEVER).sum(axis=0).tolist()


def numpy_both(ev: pd.DataFrame) -> tuple[list[int], list[int]]:
    first, codes, stage, ts = _numpy_first(ev)
    at = first[:, 0].copy()
    ordered = [int((at != NEVER).sum())]
    for j in range(1, K):
        rows = np.flatnonzero(stage == j)
        c, t = codes[rows], ts[rows]
        ok = t >= at[c]
        nxt = np.full(len(at), NEVER)
        np.minimum.at(nxt, c[ok], t[ok])
        at = nxt
        ordered.append(int((at != NEVER).sum()))
    return (first != NEVER).sum(axis=0).tolist(), ordered


# --- bare pandas ------------------------------------------------------------------------------

def pandas_unordered(ev: pd.DataFrame) -> list[int]:
    reach = ev.groupby("stage")["customer_id"].nunique()
    return [int(reach.get(s, 0)) for s in STAGES]


def pandas_ordered(ev: pd.DataFrame) -> list[int]:
    at = ev[ev["stage"] == STAGES[0]].groupby("customer_id")["timestamp"].min().rename("previous")
    ordered = [len(at)]
    for s in STAGES[1:]:
        later = ev[ev["stage"] == s].merge(at, left_on="customer_id", right_index=True)
        at = later[later["timestamp"] >= later["previous"]].groupby("customer_id")["timestamp"].min()
        at = at.rename("previous")
        ordered.append(len(at))
    return ordered


def pandas_both(ev: pd.DataFrame) -> tuple[list[int], list[int]]:
    return pandas_unordered(ev), pandas_ordered(ev)


# --- bare duckdb ------------------------------------------------------------------------------

UNORDERED_SQL = "SELECT stage, count(DISTINCT customer_id) AS n FROM ev GROUP BY stage"


def _ordered_sql() -> str:
    ctes = [f"s0 AS (SELECT customer_id, min(timestamp) AS t FROM ev WHERE stage = '{STAGES[0]}' GROUP BY 1)"]
    for j, s in enumerate(STAGES[1:], start=1):
        ctes.append(f"s{j} AS (SELECT e.customer_id, min(e.timestamp) AS t FROM ev e JOIN s{j - 1} p "
                    f"ON e.customer_id = p.customer_id WHERE e.stage = '{s}' AND e.timestamp >= p.t GROUP BY 1)")
    counts = ", ".join(f"(SELECT count(*) FROM s{j})" for j in range(K))
    return "WITH " + ", ".join(ctes) + f" SELECT {counts}"


def duckdb_runs(ev: pd.DataFrame):
    import duckdb

    con = duckdb.connect()
    con.register("ev", ev)
    ordered_sql = _ordered_sql()

    def unordered() -> list[int]:
        found = dict(con.execute(UNORDERED_SQL).fetchall())
        return [int(found.get(s, 0)) for s in STAGES]

    def ordered() -> list[int]:
        return [int(v) for v in con.execute(ordered_sql).fetchone()]

    return unordered, ordered, lambda: (unordered(), ordered())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=float, default=10e6)
    parser.add_argument("--customers", type=float, default=1e6)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skip-pandas", action="store_true", help="leave out the (slow) pandas merge chain")
    args = parser.parse_args()
    ev = generate(int(args.events), int(args.customers))
    print(f"{len(ev):,} events, {ev['customer_id'].nunique():,} customers, {K} stages, rows in random order")

    runs = {"cjkit stage_times + funnel_table": lambda: cjkit_funnel(ev),
            "cjkit stage_times (the reduction)": lambda: funnel.stage_times(ev, MODEL),
            "numpy unordered": lambda: numpy_unordered(ev),
            "numpy unordered + ordered": lambda: numpy_both(ev)}
    if not args.skip_pandas:
        runs |= {"pandas unordered": lambda: pandas_unordered(ev), "pandas ordered": lambda: pandas_ordered(ev),
                 "pandas unordered + ordered": lambda: pandas_both(ev)}
    try:
        unordered, ordered, both = duckdb_runs(ev)
        runs |= {"duckdb unordered": unordered, "duckdb ordered": ordered, "duckdb unordered + ordered": both}
    except ImportError:
        print("  duckdb: skipped (install the bench extra: make bench)")

    # the same numbers from every engine, checked once
    answers = {"cjkit": cjkit_funnel(ev), "numpy": numpy_both(ev)}
    if not args.skip_pandas:
        answers["pandas"] = pandas_both(ev)
    if "duckdb unordered + ordered" in runs:
        answers["duckdb"] = runs["duckdb unordered + ordered"]()
    reach, in_order = answers["cjkit"]
    agree = all(a == answers["cjkit"] for a in answers.values())
    print(f"unordered reach : {reach}")
    print(f"ordered funnel  : {in_order}")
    print(f"engines agree   : {'yes' if agree else 'NO: ' + repr(answers)} ({', '.join(answers)})")

    results = {name: timed(fn, args.repeat) for name, fn in runs.items()}
    ours = results["cjkit stage_times + funnel_table"]
    print(f"{'':36} {'seconds':>8} {'cjkit x':>8}")
    for name, seconds in results.items():
        print(f"{name:36} {seconds:8.2f} {ours / seconds:8.2f}")


if __name__ == "__main__":
    main()
