"""Cohort retention and churn for a loss window (time to loss and hazards: :mod:`cjkit.survival`).

The Retention stage is about noticing who drifts away. The win-back tactic of seed 000
names the rule that decides it, the **loss window**: a buyer who has gone that long without
an order has passed it, and counts towards the churn rate (seed 002: customers who stop
buying). This module and :mod:`cjkit.survival` measure it four ways from the canonical tables:

* **cohort retention** -- customers grouped by the calendar month of their first purchase
  (returns excluded), and the share of each cohort that ordered again 1, 2, 3... months
  later. Months a cohort has not fully lived through yet are missing, never zero;
* **churn for a loss window** as of a day -- customers at the start of the last window
  (first purchase at least a window before the as-of day) are *lost* when no order
  followed within the window after their latest one; buyers whose first purchase falls in
  that last window are *new*: not yet decided, left out of the rate and counted apart;
* **time to loss** and **the unsubscribe hazard**: in :mod:`cjkit.survival`.

The heavy parts are named reductions, DataFrame in and small DataFrame out, so that an
engine such as DuckDB can replace them: :func:`active_months` (orders -> one row per
customer and month with an order) and :func:`customer_status` (orders -> one row per buyer).
Everything after them is small and stays in pandas.

Times: a day given as ``as_of`` is included (the data counts up to the end of it).
Calendar months and days are those of ``timezone`` when one is given (the client's, e.g.
``data.config.timezone``), else those of the timestamps themselves (UTC after loading).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import Estimate, add_proportion

__all__ = ["active_months", "cohort_retention", "retention_matrix", "retention_by_month", "recent_cohorts",
           "customer_status", "churn_rate", "churn_table", "churn_by_window", "STATUSES", "MONTH_DAYS"]

#: customer status as of a day: first purchase within the last window, bought in it, did not
STATUSES = ("new", "retained", "lost")
#: days in a month when a daily rate becomes a monthly hazard
MONTH_DAYS = 30
_DAY = pd.Timedelta(days=1)
_STATUS_DTYPE = pd.CategoricalDtype(list(STATUSES), ordered=True)


# --- shared helpers ----------------------------------------------------------------------------

def _require(frame: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"the {table} table must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{table} table has no column {missing[0]!r} (columns: {', '.join(map(str, frame.columns))});"
                       f" map your column onto {missing[0]!r} in the client file, or rename it")
    for col in columns:
        if col.endswith(("_at", "timestamp")) and not pd.api.types.is_datetime64_any_dtype(frame[col]):
            example = frame[col].dropna().iloc[0] if frame[col].notna().any() else None
            raise TypeError(f"{table} table, column {col!r}: {len(frame):,} rows hold {frame[col].dtype} values "
                            f"(e.g. {example!r}), not timestamps; load the client with cjkit.load_client or "
                            f"convert the column with pandas.to_datetime")


def _local(times: pd.Series, timezone: str | None) -> pd.Series:
    """Timestamps in the client's time zone (naive timestamps are left as they are)."""
    if timezone and times.dt.tz is not None:
        return times.dt.tz_convert(timezone)
    return times


def _cutoff(as_of: Any, times: pd.Series) -> pd.Timestamp:
    """The moment the data is cut: the end of the ``as_of`` day (default: of the latest time).

    ``times`` are already in the local time zone; the result has the same time zone.
    """
    tz = times.dt.tz
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        if times.notna().sum() == 0:
            raise ValueError("no purchase to take the as-of day from: pass as_of='YYYY-MM-DD'")
        day = times.max()
    else:
        try:
            day = pd.Timestamp(as_of)
        except (TypeError, ValueError):
            raise ValueError(f"as_of {as_of!r} is not a date; write YYYY-MM-DD") from None
        if day.tzinfo is None and tz is not None:
            day = day.tz_localize(tz)
        elif day.tzinfo is not None:
            day = day.tz_convert(tz) if tz is not None else day.tz_convert("UTC").tz_localize(None)
    day = day.normalize()
    return day + pd.DateOffset(days=1)


def _purchases(orders: pd.DataFrame, timezone: str | None = None) -> pd.DataFrame:
    """Orders that are purchases (no returns: ``is_return`` true or a negative amount)."""
    _require(orders, ["customer_id", "ordered_at"], "orders")
    keep = pd.Series(True, index=orders.index)
    if "is_return" in orders.columns:
        keep &= ~orders["is_return"].fillna(False).astype(bool)
    if "amount" in orders.columns:
        keep &= ~(orders["amount"] < 0).fillna(False).astype(bool)
    out = pd.DataFrame({"customer_id": orders.loc[keep, "customer_id"],
                        "ordered_at": _local(orders.loc[keep, "ordered_at"], timezone)})
    return out.dropna(subset=["ordered_at"])


def _purchases_until(orders: pd.DataFrame, as_of: Any, timezone: str | None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """The purchases up to the end of the as-of day, and that cut-off (the start of every measure)."""
    buys = _purchases(orders, timezone)
    cutoff = _cutoff(as_of, buys["ordered_at"])
    return buys[buys["ordered_at"] < cutoff], cutoff


def _check_window(loss_window_days: float) -> None:
    if not loss_window_days > 0:
        raise ValueError(f"loss_window_days must be a positive number of days, got {loss_window_days!r}")


def _month_index(times: pd.Series) -> pd.Series:
    return times.dt.year * 12 + times.dt.month - 1


def _month_label(index: pd.Series | np.ndarray) -> np.ndarray:
    months, inverse = np.unique(np.asarray(index, dtype=np.int64), return_inverse=True)  # a label per month
    labels = np.array([f"{y:04d}-{m:02d}" for y, m in zip(months // 12, months % 12 + 1)], dtype=object)
    return labels[inverse.reshape(-1)] if len(months) else np.array([], dtype=object)


# --- cohort retention --------------------------------------------------------------------------

def active_months(orders: pd.DataFrame, *, as_of: Any = None, timezone: str | None = None) -> pd.DataFrame:
    """One row per customer and calendar month with a purchase: the cohort reduction.

    Parameters
    ----------
    orders : DataFrame
        Canonical orders: ``customer_id``, ``ordered_at``; ``is_return`` and ``amount``
        (negative = return) when present. Returns are left out.
    as_of : date-like, optional
        Last day counted (included); later orders are left out. Default: the day of the
        latest purchase.
    timezone : str, optional
        Time zone whose calendar months count (e.g. ``"Europe/Madrid"``).

    Returns
    -------
    DataFrame
        ``customer_id``, ``cohort`` (``"YYYY-MM"``, month of the first purchase),
        ``months_since_first`` (0 for the first month), ``orders`` (purchases in that month),
        sorted by customer and month. ``attrs["last_full_month"]`` is the last month that
        ended by the as-of day (``"YYYY-MM"``).

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-05", "2024-01-20", "2024-03-02", "2024-02-10"], utc=True)})
    >>> active_months(od)
      customer_id   cohort  months_since_first  orders
    0           a  2024-01                   0       2
    1           a  2024-01                   2       1
    2           b  2024-02                   0       1
    """
    buys, cutoff = _purchases_until(orders, as_of, timezone)
    month = _month_index(buys["ordered_at"])
    first = month.groupby(buys["customer_id"]).transform("min")
    counts = (pd.DataFrame({"customer_id": buys["customer_id"].to_numpy(), "first": first.to_numpy(),
                            "k": (month - first).to_numpy()})
              .groupby(["customer_id", "first", "k"], sort=True).size().reset_index(name="orders"))
    out = pd.DataFrame({"customer_id": counts["customer_id"].to_numpy(dtype=object),
                        "cohort": _month_label(counts["first"]),
                        "months_since_first": counts["k"].to_numpy(dtype=np.int64),
                        "orders": counts["orders"].to_numpy(dtype=np.int64)})
    out.attrs["last_full_month"] = str(_month_label([_month_index(pd.Series([cutoff])).iloc[0] - 1])[0])
    return out


def cohort_retention(orders: pd.DataFrame, *, as_of: Any = None, timezone: str | None = None,
                     level: float = 0.95) -> pd.DataFrame:
    """Monthly acquisition cohorts x months since the first purchase: active customers and share.

    A customer is *active* in a month when they made a purchase in it. Month 0 is the month
    of the first purchase (everyone in the cohort is active). Only months that ended by the
    as-of day are given: a cohort's later months are missing rows (blank in
    :func:`retention_matrix`), never zeros.

    Parameters
    ----------
    orders : DataFrame
        Canonical orders (see :func:`active_months`).
    as_of, timezone
        As in :func:`active_months`.
    level : float
        Confidence level of the Wilson intervals.

    Returns
    -------
    DataFrame
        ``cohort`` (``"YYYY-MM"``), ``months_since_first``, ``cohort_customers``, ``active``,
        ``retention`` (active / cohort customers) with ``retention_ci_low`` /
        ``retention_ci_high``, sorted by cohort and month.

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-05", "2024-02-20", "2024-01-10", "2024-02-03"], utc=True)})
    >>> cohort_retention(od, as_of="2024-02-29")[["cohort", "months_since_first", "active", "retention"]]
        cohort  months_since_first  active  retention
    0  2024-01                   0       2        1.0
    1  2024-01                   1       1        0.5
    2  2024-02                   0       1        1.0
    """
    months = active_months(orders, as_of=as_of, timezone=timezone)
    sizes = months.loc[months["months_since_first"] == 0].groupby("cohort").size()
    active = months.groupby(["cohort", "months_since_first"]).size()
    last = _month_index(pd.Series(pd.to_datetime([months.attrs["last_full_month"]]))).iloc[0]
    cohorts = sizes.index.to_numpy(dtype=object)
    start = _month_index(pd.Series(pd.to_datetime(cohorts))).to_numpy() if len(cohorts) else np.array([], int)
    span = np.clip(last - start + 1, 0, None)  # observed months per cohort
    grid = pd.DataFrame({"cohort": np.repeat(cohorts, span),
                         "months_since_first": np.concatenate([np.arange(s) for s in span]) if len(span)
                         else np.array([], dtype=np.int64)})
    grid["months_since_first"] = grid["months_since_first"].astype(np.int64)
    grid["cohort_customers"] = grid["cohort"].map(sizes).astype(np.int64)
    idx = pd.MultiIndex.from_frame(grid[["cohort", "months_since_first"]])
    grid["active"] = active.reindex(idx, fill_value=0).to_numpy(dtype=np.int64)
    out = add_proportion(grid, "retention", grid["active"], grid["cohort_customers"], level=level)
    out.attrs["last_full_month"] = months.attrs["last_full_month"]
    out.attrs["caption"] = (f"months that ended by {months.attrs['last_full_month']}; later months of a cohort "
                            "are not observed yet (blank, not zero)")
    return out


def retention_matrix(retention: pd.DataFrame, *, value: str = "retention") -> pd.DataFrame:
    """The cohort table of :func:`cohort_retention` as a cohort x month matrix (unobserved: NaN).

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "months_since_first": [0, 1, 0],
    ...                   "retention": [1.0, 0.5, 1.0]})
    >>> retention_matrix(t)
    months_since_first    0    1
    cohort
    2024-01             1.0  0.5
    2024-02             1.0  NaN
    """
    _require(retention, ["cohort", "months_since_first", value], "cohort retention")
    out = retention.pivot(index="cohort", columns="months_since_first", values=value).sort_index()
    if value in retention.attrs.get("units", {}):
        out.attrs["units"] = {c: retention.attrs["units"][value] for c in out.columns}
    return out


def retention_by_month(retention: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Retention by months since the first purchase, pooled over the cohorts observed that long.

    Each month adds up the active customers and the cohort sizes of the cohorts that have
    lived through it, so a late cohort does not pull later months down.

    Returns
    -------
    DataFrame
        ``months_since_first``, ``cohorts``, ``customers``, ``active``, ``retention`` with
        ``retention_ci_low`` / ``retention_ci_high`` (Wilson).

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "months_since_first": [0, 1, 0],
    ...                   "cohort_customers": [4, 4, 2], "active": [4, 1, 2]})
    >>> retention_by_month(t)[["months_since_first", "cohorts", "customers", "active", "retention"]]
       months_since_first  cohorts  customers  active  retention
    0                   0        2          6       6       1.00
    1                   1        1          4       1       0.25
    """
    _require(retention, ["cohort", "months_since_first", "cohort_customers", "active"], "cohort retention")
    out = (retention.groupby("months_since_first", sort=True)
           .agg(cohorts=("cohort", "nunique"), customers=("cohort_customers", "sum"), active=("active", "sum"))
           .reset_index())
    return add_proportion(out, "retention", out["active"], out["customers"], level=level)


def recent_cohorts(retention: pd.DataFrame, *, cohorts: int = 12, months: int = 12) -> pd.DataFrame:
    """The last ``cohorts`` cohorts and their first ``months`` months (a table small enough to record).

    Examples
    --------
    >>> t = pd.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"], "months_since_first": [0, 1, 0]})
    >>> recent_cohorts(t, cohorts=1)
        cohort  months_since_first
    0  2024-02                   0
    """
    _require(retention, ["cohort", "months_since_first"], "cohort retention")
    keep = sorted(retention["cohort"].unique())[-cohorts:] if cohorts > 0 else []
    out = retention[retention["cohort"].isin(keep) & (retention["months_since_first"] < months)]
    return out.reset_index(drop=True)


# --- churn for a loss window -------------------------------------------------------------------

def customer_status(orders: pd.DataFrame, *, loss_window_days: float = 90, as_of: Any = None,
                    timezone: str | None = None) -> pd.DataFrame:
    """Each buyer's status as of a day for a loss window: new, retained or lost.

    * **lost**: first purchase at least a window before the end of the as-of day, and no
      purchase in the last window (none followed within the window after their latest);
    * **retained**: first purchase at least a window before, and a purchase in the last window;
    * **new**: first purchase within the last window: not yet decided (whatever they do,
      they cannot have passed the loss window), left out of the churn rate.

    Returns
    -------
    DataFrame
        One row per buyer (sorted): ``customer_id``, ``cohort`` (``"YYYY-MM"``),
        ``first_purchase``, ``last_purchase``, ``purchases``, ``days_since_last`` (to the end
        of the as-of day), ``status`` (ordered categorical new < retained < lost).

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-01", "2024-03-25", "2024-01-10", "2024-03-20"], utc=True)})
    >>> customer_status(od, loss_window_days=30, as_of="2024-03-31")[["customer_id", "days_since_last", "status"]]
      customer_id  days_since_last    status
    0           a              7.0  retained
    1           b             82.0      lost
    2           c             12.0       new
    """
    _check_window(loss_window_days)
    buys, cutoff = _purchases_until(orders, as_of, timezone)
    g = buys.groupby("customer_id", sort=True)["ordered_at"]
    out = pd.DataFrame({"first_purchase": g.min(), "last_purchase": g.max(), "purchases": g.size().astype(np.int64)})
    out = out.rename_axis("customer_id").reset_index()
    out.insert(1, "cohort", _month_label(_month_index(out["first_purchase"])))
    out["days_since_last"] = (cutoff - out["last_purchase"]) / _DAY
    new = (cutoff - out["first_purchase"]) / _DAY < loss_window_days
    status = np.where(new, "new", np.where(out["days_since_last"] >= loss_window_days, "lost", "retained"))
    out["status"] = pd.Categorical(status, dtype=_STATUS_DTYPE)
    out.attrs.update(as_of=str((cutoff - _DAY).date()), loss_window_days=loss_window_days)
    return out


def _churn_counts(status: pd.DataFrame, by: str | None) -> pd.DataFrame:
    keys = status[by].fillna("(none)").astype(str) if by else pd.Series("all customers", index=status.index)
    counts = pd.crosstab(keys, status["status"], dropna=False).reindex(columns=list(STATUSES), fill_value=0)
    out = pd.DataFrame({by or "group": counts.index.to_numpy(dtype=object),
                        "buyers": counts.sum(axis=1).to_numpy(dtype=np.int64),
                        "new": counts["new"].to_numpy(dtype=np.int64),
                        "at_start": (counts["retained"] + counts["lost"]).to_numpy(dtype=np.int64),
                        "lost": counts["lost"].to_numpy(dtype=np.int64)})
    return out


def churn_table(orders: pd.DataFrame, *, loss_window_days: float = 90, as_of: Any = None, by: str | None = None,
                customers: pd.DataFrame | None = None, timezone: str | None = None,
                level: float = 0.95) -> pd.DataFrame:
    """Churn rate for a loss window, overall or by cohort or segment.

    churn rate = customers lost / customers at the start of the last window (see
    :func:`customer_status`); new buyers are counted in ``new``, not in the rate.

    Parameters
    ----------
    orders : DataFrame
        Canonical orders.
    loss_window_days : float
        The loss window, in days (the win-back tactic's; 90 by default).
    as_of, timezone
        As in :func:`active_months`.
    by : str, optional
        ``"cohort"`` (month of the first purchase) or a column of ``customers`` (e.g.
        ``"persona"``, ``"source_channel"``); buyers without a value go to ``"(none)"``.
    customers : DataFrame, optional
        Canonical customers, needed when ``by`` is one of their columns.

    Returns
    -------
    DataFrame
        ``<by>`` (or ``group``), ``buyers``, ``new``, ``at_start``, ``lost``, ``churn_rate``
        with ``churn_rate_ci_low`` / ``churn_rate_ci_high`` (Wilson).

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-01", "2024-03-25", "2024-01-10", "2024-03-20"], utc=True)})
    >>> churn_table(od, loss_window_days=30, as_of="2024-03-31")[["group", "buyers", "new", "at_start", "lost",
    ...                                                            "churn_rate"]]
               group  buyers  new  at_start  lost  churn_rate
    0  all customers       3    1         2     1         0.5
    """
    status = customer_status(orders, loss_window_days=loss_window_days, as_of=as_of, timezone=timezone)
    if by is not None and by != "cohort":
        if customers is None:
            raise ValueError(f"churn by {by!r} needs the customers table: pass customers=data.customers, "
                             "or by='cohort'")
        _require(customers, ["customer_id", by], "customers")
        segment = customers.drop_duplicates("customer_id").set_index("customer_id")[by]
        status = status.assign(**{by: status["customer_id"].map(segment)})
    out = _churn_counts(status, by)
    out = add_proportion(out, "churn_rate", out["lost"], out["at_start"], level=level)
    out.attrs.update(status.attrs)
    out.attrs["caption"] = (f"as of {status.attrs['as_of']}, loss window {loss_window_days:g} days; new = first "
                            "purchase within the last window (not yet decided, not in the rate)")
    return out


def churn_rate(orders: pd.DataFrame, *, loss_window_days: float = 90, as_of: Any = None,
               timezone: str | None = None, level: float = 0.95) -> Estimate:
    """The churn rate for a loss window as an :class:`~cjkit.estimate.Estimate` (Wilson interval).

    Customers lost / customers at the start of the last window (:func:`customer_status`).

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-01", "2024-03-25", "2024-01-10", "2024-03-20"], utc=True)})
    >>> print(churn_rate(od, loss_window_days=30, as_of="2024-03-31"))
    50.0% (95% CI 9.5-90.5%, n = 2)
    """
    row = churn_table(orders, loss_window_days=loss_window_days, as_of=as_of, timezone=timezone,
                      level=level).iloc[0]
    return Estimate.proportion(int(row["lost"]), int(row["at_start"]), level=level)


def churn_by_window(orders: pd.DataFrame, *, windows: Sequence[float] = (30, 60, 90, 180, 365), as_of: Any = None,
                    timezone: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """The churn rate for several loss windows, and how many repeat purchases each window waits for.

    A loss window that is too short declares lost many buyers who were only between two
    purchases. ``repeats_within`` is the share of repeat purchases that came at most that
    many days after the customer's previous purchase: the share of comebacks the window
    would have waited for.

    Returns
    -------
    DataFrame
        ``loss_window_days``, ``new``, ``at_start``, ``lost``, ``churn_rate`` (with its
        Wilson interval), ``repeat_purchases``, ``repeats_within`` (with its Wilson interval).

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-01", "2024-03-25", "2024-01-10", "2024-03-20"], utc=True)})
    >>> churn_by_window(od, windows=[30, 90], as_of="2024-03-31")[["loss_window_days", "at_start", "lost",
    ...                                                              "churn_rate", "repeats_within"]]
       loss_window_days  at_start  lost  churn_rate  repeats_within
    0                30         2     1         0.5             0.0
    1                90         1     0         0.0             1.0
    """
    rows = [churn_table(orders, loss_window_days=w, as_of=as_of, timezone=timezone, level=level).iloc[0]
            for w in windows]
    out = pd.DataFrame({"loss_window_days": list(windows),
                        **{c: [int(r[c]) for r in rows] for c in ("new", "at_start", "lost")}})
    out = add_proportion(out, "churn_rate", out["lost"], out["at_start"], level=level)
    buys, cutoff = _purchases_until(orders, as_of, timezone)
    buys = buys.sort_values(["customer_id", "ordered_at"], kind="stable")
    gaps = (buys["ordered_at"].diff() / _DAY)[buys["customer_id"].eq(buys["customer_id"].shift())].to_numpy()
    out["repeat_purchases"] = len(gaps)
    within = [(gaps <= w).sum() for w in windows]
    return add_proportion(out, "repeats_within", within, len(gaps), level=level)
