"""KPIs of every journey stage, computed from the canonical tables as estimates with intervals.

The definitions are catalogue data (:func:`cjkit.catalog.kpis`, ``catalog/kpis.yaml``): a
KPI is a numerator and an optional denominator, each a *computation* over the canonical
tables written as a call (``count_sessions(has=add_to_cart, lacks=purchase)``,
``sum(orders.amount)``, ``first_orders()``...), a unit of analysis (``per``: day,
session, customer, customer-month, month or row) and an interval method. Event and
channel names enter through *roles* (``lead``, ``purchase``, ``email``...) whose defaults
are the demo client's names; a client passes its own with ``event_names=`` /
``channel_names=``.

The work is split in two, as everywhere in the kit:

* :func:`kpi_sums`, the reduction: tables in, a small table out, with per KPI and group
  (period and/or segment) the number of units and the sums over units of the numerator,
  the denominator, their squares and their product. This is the heavy part; an engine on
  DuckDB can replace it.
* everything after it in pandas: :func:`kpi_table` turns the sums into values with their
  intervals (Wilson for a share of counts, the delta method for a ratio of sums over units
  and for means, none for totals), :func:`kpi` returns one :class:`~cjkit.estimate.Estimate`,
  :func:`kpi_panel` groups every computable KPI by the stages of a journey model and
  :func:`kpis_unavailable` lists what a client's tables cannot support and why.

Groups (``by``): ``period`` (calendar month, in the client's time zone when given),
``channel`` (the row's own channel; rows without one, such as orders, take the customer's
first channel), ``first_channel`` (``customers.source_channel``, else the channel of the
customer's earliest event), ``persona``, ``cohort`` (month of the first order) and
``stage`` (the row's own stage: events and surveys). Rows whose group is unknown are kept
under ``"(none)"``.
"""
from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import Estimate, proportion_ci, ratio_ci

__all__ = ["kpi", "kpi_table", "kpi_sums", "kpi_panel", "kpis_unavailable", "available_segments", "estimate_of",
           "SEGMENTS", "BY", "LOSS_WINDOW_DAYS", "MARGIN"]

#: ways to split a KPI besides the period
SEGMENTS = ("channel", "first_channel", "persona", "cohort", "stage")
#: every value ``by`` accepts
BY = ("period", *SEGMENTS)
LOSS_WINDOW_DAYS = 90  # a buyer with no order for this many days is lost (catalogue: parameters)
MARGIN = 0.3           # gross margin for the simple CLTV
NONE = "(none)"        # label of rows whose period or segment is unknown
SUMS = ["n", "numerator", "denominator", "sum_yy", "sum_xx", "sum_xy"]
_TIME = {"customers": "signup_at", "events": "timestamp", "orders": "ordered_at", "surveys": "answered_at",
         "spend": "date"}
_ROWS = ["time", "customer_id", "session", "channel", "stage", "row", "value"]
# which groups the rows of each kind of computation can carry
_ALL = set(BY)
_SPLITS = {"spend": {"period", "channel", "first_channel"}, "events": _ALL, "sessions": _ALL - {"stage"},
           "customers": _ALL - {"stage"}, "orders": _ALL - {"stage"}, "surveys": _ALL}


# --- definitions -------------------------------------------------------------------------

@dataclass(frozen=True)
class _Call:
    """One computation of a numerator or denominator: ``name(*args, **kwargs)``, times ``sign``."""

    name: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, Any], ...]
    sign: int = 1

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.kwargs).get(key, default)


def _value(node: ast.AST, text: str) -> Any:
    """A keyword value: a role, ``table.column``, true/false, a number, or roles joined by | or &."""
    if isinstance(node, ast.Name):
        return {"true": True, "false": False}.get(node.id, node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
        kind = "any" if isinstance(node.op, ast.BitOr) else "all"
        parts = [_value(side, text) for side in (node.left, node.right)]
        roles: list[str] = []
        for part in parts:
            roles += list(part[1]) if isinstance(part, tuple) and part[0] == kind else [part]
        return (kind, tuple(roles))
    raise ValueError(f"KPI computation {text!r}: cannot read {ast.unparse(node)!r}")


@functools.cache
def _parse(text: str) -> tuple[_Call, ...]:
    """``"count_events(event=a) - count_events(event=b)"`` -> two calls, the second negative."""
    def terms(node: ast.AST, sign: int) -> list[_Call]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            return terms(node.left, sign) + terms(node.right, -sign if isinstance(node.op, ast.Sub) else sign)
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            raise ValueError(f"KPI computation {text!r}: expected calls such as count_events(event=lead)")
        args = tuple(_value(a, text) for a in node.args)
        return [_Call(node.func.id, args, tuple((k.arg, _value(k.value, text)) for k in node.keywords), sign)]

    return tuple(terms(ast.parse(text, mode="eval").body, 1))


@functools.cache
def _definitions() -> pd.DataFrame:
    from cjkit import catalog

    return catalog.kpis().query("computable").set_index("kpi_id")


@functools.cache
def _default_roles() -> dict[str, dict[str, tuple[str, ...]]]:
    from cjkit import catalog

    roles = catalog.kpi_roles()
    return {kind: dict(zip(part["role"], part["names"])) for kind, part in roles.groupby("kind")}


def _kpi_ids(kpis: str | Iterable[str] | None) -> list[str]:
    defs = _definitions()
    ids = list(defs.index) if kpis is None else [kpis] if isinstance(kpis, str) else list(kpis)
    unknown = [k for k in ids if k not in defs.index]
    if unknown:
        from cjkit import catalog

        stuck = catalog.kpis().set_index("kpi_id")
        if unknown[0] in stuck.index:
            raise ValueError(f"KPI {unknown[0]!r} cannot be computed from the canonical tables: it needs "
                             f"{stuck.loc[unknown[0], 'would_need']}")
        raise ValueError(f"unknown KPI {unknown[0]!r}; KPIs are {', '.join(defs.index)}")
    return ids


def _calls(kpi_id: str) -> list[tuple[str, tuple[_Call, ...]]]:
    """(side, calls) of a computable KPI; a combined KPI (cltv) has none of its own."""
    row = _definitions().loc[kpi_id]
    if row["ci"] == "combined":
        return []
    sides = [("y", _parse(row["numerator"]))]
    if isinstance(row["denominator"], str):
        sides.append(("x", _parse(row["denominator"])))
    return sides


_PARTS = {"cltv": ("arpu_active", "churn_rate")}  # combined KPIs and the KPIs they are built from


def _needs(call: _Call) -> set[str]:
    """Canonical ``table.column`` pairs a computation reads (``kpis.yaml`` lists them)."""
    name, out = call.name, set()
    if name == "sum":
        out |= {call.args[0]} | ({call.get("where")} if call.get("where") else set())
        out |= {"events.channel"} if call.get("channel") else set()
    elif name in ("count_events", "count_customers", "subscribers_at_start"):
        out |= {"events.event"} | ({"events.channel"} if call.get("channel") else set())
    elif name == "count_sessions":
        out |= {"events.session_id"} | ({"events.event"} if call.get("has") or call.get("lacks") else set())
    elif name in ("first_orders", "buyers", "count_orders", "buying_months", "active_buyers"):
        out |= {"orders.ordered_at"} | ({"events.event"} if call.get("has") else set())
        out |= {"orders.category"} if call.get("min_categories") else set()
        out |= {"orders.amount"} if call.get("revenue") else set()
    elif name in ("customers", "customer_months"):
        out |= {"customers.customer_id"} | ({call.get("where")} if call.get("where") else set())
        out |= {"orders.ordered_at"} if call.get("has_order") or name == "customer_months" else set()
    elif name == "answers":
        out |= {call.args[0]}
    else:
        raise ValueError(f"unknown KPI computation {name!r}")
    return out


def _roles(call: _Call) -> list[tuple[str, str]]:
    """(kind, role) pairs a computation refers to."""
    out = []
    for key, value in call.kwargs:
        if key in ("event", "has", "lacks"):
            out += [("event", r) for r in (value[1] if isinstance(value, tuple) else [value])]
        elif key == "channel":
            out.append(("channel", value))
    if call.name == "subscribers_at_start":
        out += [("event", "subscribe"), ("event", "unsubscribe")]
    return out


def _all_calls(kpi_id: str) -> list[_Call]:
    ids = _PARTS.get(kpi_id, (kpi_id,))
    return [c for k in ids for _, calls in _calls(k) for c in calls]


# --- the tables, prepared once per call -------------------------------------------------------

def _local(series: pd.Series, timezone: str | None) -> np.ndarray:
    """Timestamps as naive times of ``timezone`` (UTC when None), for calendar months."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = (series.dt.tz_convert(timezone) if timezone else series.dt.tz_convert("UTC")).dt.tz_localize(None)
    return pd.to_datetime(series).to_numpy(dtype="datetime64[ns]")


def _month_start(time: np.ndarray) -> np.ndarray:
    return np.asarray(time, dtype="datetime64[ns]").astype("datetime64[M]").astype("datetime64[ns]")


def _month_label(time: np.ndarray) -> np.ndarray:
    """``"2024-01"`` per time (NaN where the time is missing)."""
    months = np.asarray(time, dtype="datetime64[ns]").astype("datetime64[M]")
    out = np.datetime_as_string(months).astype(object)
    out[np.isnat(months)] = np.nan
    return out


class _Context:
    """The client's tables with role names and options; caches what several KPIs share.

    Customers are integer codes (``-1``: none) shared by every table, strings are numpy
    object arrays and times naive ``datetime64[ns]`` arrays, each made once.
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame | None], *, event_names: Mapping | None,
                 channel_names: Mapping | None, loss_window_days: int, timezone: str | None):
        self.tables = {name: t for name, t in tables.items() if t is not None}
        defaults = _default_roles()
        self.roles = {"event": {**defaults["event"], **{k: tuple(v) for k, v in (event_names or {}).items()}},
                      "channel": {**defaults["channel"], **{k: tuple(v) for k, v in (channel_names or {}).items()}}}
        for kind, given in (("event", event_names), ("channel", channel_names)):
            unknown = sorted(set(given or {}) - set(defaults[kind]))
            if unknown:
                raise ValueError(f"unknown {kind} role {unknown[0]!r}; {kind} roles are "
                                 f"{', '.join(defaults[kind])}")
        if int(loss_window_days) <= 0:
            raise ValueError(f"loss_window_days must be a positive number of days, got {loss_window_days}")
        self.loss = np.timedelta64(int(loss_window_days), "D")
        self.timezone = timezone
        self._cache: dict[Any, Any] = {}

    def _cached(self, key: Any, make: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def rows(self, call: _Call) -> pd.DataFrame:
        """The rows of one computation (cached: KPIs share denominators), times its sign."""
        key = _Call(call.name, call.args, call.kwargs)
        rows = self._cached(key, lambda: _COMPUTATIONS[call.name](self, key))
        return rows if call.sign == 1 else rows.assign(value=-rows["value"])

    def table(self, name: str, *columns: str) -> pd.DataFrame:
        if name not in self.tables:
            raise KeyError(f"this KPI needs the {name} table; the client has {', '.join(self.tables) or 'none'}")
        t = self.tables[name]
        for col in columns:
            if col not in t.columns or t[col].isna().all():
                raise KeyError(f"{name} table has no values in column {col!r}: add the column to the client's "
                               f"{name} file (or map it in the client YAML)")
        return t

    def has(self, name: str, column: str) -> bool:
        t = self.tables.get(name)
        return t is not None and column in t.columns and bool(t[column].notna().any())

    def time(self, name: str) -> np.ndarray:
        def make() -> np.ndarray:
            t = self.table(name)
            col = _TIME[name]
            return _local(t[col], self.timezone) if col in t else np.full(len(t), np.datetime64("NaT", "ns"))
        return self._cached(("time", name), make)

    def col(self, name: str, column: str) -> np.ndarray:
        """A text column as an object array (NaN where missing, or everywhere without the column)."""
        def make() -> np.ndarray:
            t = self.table(name)
            if column not in t.columns:
                return np.full(len(t), np.nan, dtype=object)
            return t[column].astype(object).where(t[column].notna(), np.nan).to_numpy(dtype=object)
        return self._cached(("col", name, column), make)

    @functools.cached_property
    def _ids(self) -> tuple[pd.Index, dict[str, np.ndarray]]:
        names = [n for n in ("customers", "events", "orders", "surveys") if n in self.tables]
        parts = [self.tables[n]["customer_id"] for n in names]
        if not parts:
            return pd.Index([]), {}
        codes, uniques = pd.factorize(pd.concat(parts, ignore_index=True))
        bounds = np.cumsum([0, *map(len, parts)])
        return pd.Index(uniques), {n: codes[a:b] for n, a, b in zip(names, bounds[:-1], bounds[1:])}

    def customer(self, name: str) -> np.ndarray:
        """Customer code of every row of ``name`` (-1: no customer id)."""
        return self._ids[1][name]

    @property
    def n_customers(self) -> int:
        return len(self._ids[0])

    def names(self, kind: str, role: Any) -> set[str]:
        if isinstance(role, tuple):
            return set().union(*(self.names(kind, r) for r in role[1]))
        return set(self.roles[kind][role])

    def event_mask(self, role: Any) -> np.ndarray:
        """Rows of events matching a role (``a & b`` matches either here; sessions check both)."""
        names = frozenset(self.names("event", role))

        def make() -> np.ndarray:
            codes, uniques = self._cached("event_codes", lambda: pd.factorize(self.table("events")["event"]))
            return np.isin(codes, np.flatnonzero(pd.Index(uniques).isin(names)))
        return self._cached(("mask", names), make).copy()

    def channel_mask(self, name: str, role: Any) -> np.ndarray:
        return pd.Index(self.col(name, "channel")).isin(self.names("channel", role))

    @functools.cached_property
    def orders(self) -> pd.DataFrame:
        """Orders without returns (``is_return``, else a negative amount), sorted by time."""
        o = self.table("orders")
        back = o["is_return"].fillna(False).astype(bool) if "is_return" in o else o["amount"] < 0
        out = pd.DataFrame({"customer_id": self.customer("orders"), "time": self.time("orders"),
                            "category": self.col("orders", "category"), "amount": o["amount"].to_numpy("float64"),
                            "row": np.arange(len(o))})[~back.to_numpy()]
        return out.sort_values("time", kind="stable").reset_index(drop=True)

    @functools.cached_property
    def first_order(self) -> pd.Series:
        """Time of each buyer's first order, indexed by customer code."""
        return self.orders.groupby("customer_id")["time"].min()

    @functools.cached_property
    def attributes(self) -> dict[str, np.ndarray]:
        """first_channel, persona, cohort per customer code, plus a NaN at the end (code -1)."""
        n = self.n_customers
        out = {k: np.full(n + 1, np.nan, dtype=object) for k in ("first_channel", "persona", "cohort")}
        if "events" in self.tables:
            order = np.argsort(self.time("events"), kind="stable")[::-1]  # the earliest event is written last
            out["first_channel"][self.customer("events")[order]] = self.col("events", "channel")[order]
        if "customers" in self.tables:
            code = self.customer("customers")
            for attr, column in (("first_channel", "source_channel"), ("persona", "persona")):
                values = self.col("customers", column)
                known = pd.notna(values)
                out[attr][code[known]] = values[known]
        if "orders" in self.tables:
            first = self.first_order
            out["cohort"][first.index.to_numpy()] = _month_label(first.to_numpy())
        return out

    def segment_available(self, segment: str) -> str | None:
        """Why ``segment`` cannot be used for this client, or None."""
        if segment in ("channel", "first_channel") and not (self.has("customers", "source_channel")
                                                            or "events" in self.tables or "spend" in self.tables):
            return f"{segment} needs customers.source_channel, the events table or the spend table"
        if segment == "stage" and not (self.has("events", "stage") or self.has("surveys", "stage")):
            return "stage needs the events or surveys table with a stage column"
        if segment == "persona" and not self.has("customers", "persona"):
            return "persona needs the customers table with a persona column"
        if segment == "cohort" and "orders" not in self.tables:
            return "cohort (month of the first order) needs the orders table"
        return None

    def months(self, name: str) -> np.ndarray:
        """Month starts (datetime64[ns]) from the first to the last month of ``name``'s times."""
        time = self.time(name)
        time = time[~np.isnat(time)]
        if not len(time):
            return np.array([], dtype="datetime64[ns]")
        lo, hi = time.min().astype("datetime64[M]"), time.max().astype("datetime64[M]")
        return np.arange(lo, hi + 1).astype("datetime64[ns]")

    @functools.cached_property
    def sessions(self) -> tuple[np.ndarray, pd.DataFrame]:
        """Session code of every event row (-1: none) and one row per session (first event's time, channel)."""
        ev = self.table("events", "session_id")
        ok = ev["session_id"].notna().to_numpy()
        sid, _ = pd.factorize(ev["session_id"])
        cust = self.customer("events")
        codes = np.full(len(ev), -1, dtype="int64")
        if ok.any():
            pair = cust[ok].astype("int64") * (int(sid.max()) + 1) + sid[ok]  # a session within its customer
            codes[ok] = pd.factorize(pair)[0]
        time = self.time("events")
        order = np.lexsort((time[ok], codes[ok]))
        rows = np.flatnonzero(ok)[order]
        first = rows[np.r_[True, np.diff(codes[rows]) != 0]] if len(rows) else rows
        sessions = pd.DataFrame({"session": codes[first], "time": time[first], "customer_id": cust[first],
                                 "channel": self.col("events", "channel")[first]})
        return codes, sessions


def _rows(time: Any, *, customer: Any = -1, session: Any = np.nan, channel: Any = np.nan, stage: Any = np.nan,
          row: Any = -1, value: Any = 1.0) -> pd.DataFrame:
    cols = {"time": time, "customer_id": customer, "session": session, "channel": channel, "stage": stage,
            "row": row, "value": value}
    n = len(time)
    def array(v: Any) -> np.ndarray:
        if hasattr(v, "__len__") and not isinstance(v, str):
            return np.asarray(v)
        return np.full(n, v, dtype="int64" if isinstance(v, int) else "float64" if isinstance(v, float) else object)
    return pd.DataFrame({k: array(v) for k, v in cols.items()}, columns=_ROWS)


# --- the named computations ---------------------------------------------------------------------

def _c_sum(ctx: _Context, call: _Call) -> pd.DataFrame:
    table, column = call.args[0].split(".")
    t = ctx.table(table, column)
    keep = t[column].notna().to_numpy()
    if call.get("where"):
        where_table, where_column = call.get("where").split(".")
        if where_table != table:
            raise ValueError(f"sum({table}.{column}, where=...) must name a column of the {table} table")
        keep = keep & ctx.table(table, where_column)[where_column].notna().to_numpy()
    if call.get("channel"):
        keep = keep & ctx.channel_mask(table, call.get("channel"))
    if table == "orders" and call.get("returns") is False:
        keep = keep & np.isin(np.arange(len(t)), ctx.orders["row"].to_numpy())
    with_customers = table in ("events", "orders", "surveys", "customers")
    return _rows(ctx.time(table)[keep], customer=ctx.customer(table)[keep] if with_customers else -1,
                 channel=ctx.col(table, "channel")[keep], stage=ctx.col(table, "stage")[keep],
                 row=np.flatnonzero(keep), value=t[column].to_numpy(dtype="float64", na_value=np.nan)[keep])


def _c_count_events(ctx: _Context, call: _Call) -> pd.DataFrame:
    keep = ctx.event_mask(call.get("event"))
    if call.get("channel"):
        keep = keep & ctx.channel_mask("events", call.get("channel"))
    return _rows(ctx.time("events")[keep], customer=ctx.customer("events")[keep],
                 channel=ctx.col("events", "channel")[keep], stage=ctx.col("events", "stage")[keep],
                 row=np.flatnonzero(keep))


def _c_count_sessions(ctx: _Context, call: _Call) -> pd.DataFrame:
    codes, sessions = ctx.sessions
    keep = np.ones(len(sessions), dtype=bool)
    for key, want in (("has", True), ("lacks", False)):
        role = call.get(key)
        if role is None:
            continue
        parts = role[1] if isinstance(role, tuple) and role[0] == "all" else [role]
        for part in parts:  # has=a & b: each role must occur; has=a | b: any name of either
            flag = np.zeros(len(sessions), dtype=bool)
            flag[codes[ctx.event_mask(part) & (codes >= 0)]] = True
            keep = keep & (flag if want else ~flag)
    s = sessions[keep]
    return _rows(s["time"].to_numpy(), customer=s["customer_id"].to_numpy(), session=s["session"].to_numpy(),
                 channel=s["channel"].to_numpy(), row=s["session"].to_numpy())


def _c_first_orders(ctx: _Context, call: _Call) -> pd.DataFrame:
    first = ctx.first_order
    return _rows(first.to_numpy(), customer=first.index.to_numpy())


def _has_role(ctx: _Context, role: Any) -> np.ndarray:
    return np.unique(ctx.customer("events")[ctx.event_mask(role)])


def _c_buyers(ctx: _Context, call: _Call) -> pd.DataFrame:
    o = ctx.orders
    per = o.groupby("customer_id").agg(time=("time", "min"), orders=("time", "size"),
                                       categories=("category", "nunique"))
    keep = (per["orders"] >= int(call.get("min_orders", 1))).to_numpy()
    if call.get("min_categories"):
        ctx.table("orders", "category")
        keep = keep & (per["categories"] >= int(call.get("min_categories"))).to_numpy()
    if call.get("has"):
        keep = keep & np.isin(per.index.to_numpy(), _has_role(ctx, call.get("has")))
    return _rows(per["time"].to_numpy()[keep], customer=per.index.to_numpy()[keep])


def _c_customers(ctx: _Context, call: _Call) -> pd.DataFrame:
    code = ctx.customer("customers")
    keep = ~pd.Series(code).duplicated().to_numpy()
    if call.get("where"):
        column = call.get("where").split(".")[1]
        keep = keep & ctx.table("customers", column)[column].notna().to_numpy()
    if call.get("has_order"):
        keep = keep & np.isin(code, ctx.first_order.index.to_numpy())
    return _rows(ctx.time("customers")[keep], customer=code[keep])


def _c_count_orders(ctx: _Context, call: _Call) -> pd.DataFrame:
    o = ctx.orders
    if call.get("repeat"):
        o = o[o.groupby("customer_id").cumcount().to_numpy() > 0]
    return _rows(o["time"].to_numpy(), customer=o["customer_id"].to_numpy(), row=o["row"].to_numpy())


def _c_buying_months(ctx: _Context, call: _Call) -> pd.DataFrame:
    o = ctx.orders.assign(month=lambda f: _month_start(f["time"].to_numpy())).drop_duplicates(["customer_id", "month"])
    if call.get("returning"):
        o = o[ctx.first_order.reindex(o["customer_id"]).to_numpy() < o["month"].to_numpy()]
    return _rows(o["month"].to_numpy(), customer=o["customer_id"].to_numpy())


def _spans(customers: np.ndarray, first: np.ndarray, stop: np.ndarray, months: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """(customer, month start) for every month index in [first, stop) of each customer."""
    counts = np.clip(stop - first, 0, None)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(customers, counts), months[np.repeat(first, counts) + offsets]


def _c_customer_months(ctx: _Context, call: _Call) -> pd.DataFrame:
    code = ctx.customer("customers")
    keep = ~pd.Series(code).duplicated().to_numpy()
    months = ctx.months("orders")
    signup = ctx.time("customers")[keep]
    first = np.where(np.isnat(signup), 0, np.searchsorted(months, _month_start(signup), side="left"))
    who, when = _spans(code[keep], first, np.full(len(first), len(months)), months)
    return _rows(when, customer=who)


def _c_active_buyers(ctx: _Context, call: _Call) -> pd.DataFrame:
    """Buyer-months active at the start (an order in the loss window before it); lapsed by the end or not.

    Only months that end within the data count: in a month cut short by the end of the data,
    a buyer would look lapsed for want of the orders after it.
    """
    months = ctx.months("orders")
    times = np.concatenate([ctx.time(name) for name in ("orders", "events") if name in ctx.tables])
    times = times[~np.isnat(times)]
    last_day = times.max().astype("datetime64[D]") if len(times) else np.datetime64("NaT", "D")
    months = months[(months.astype("datetime64[M]") + 1).astype("datetime64[D]") <= last_day + 1]
    buyers = ctx.first_order
    first = np.searchsorted(months, buyers.to_numpy(), side="right")  # months starting after the first order
    who, start = _spans(buyers.index.to_numpy(), first, np.full(len(buyers), len(months)), months)
    end = (start.astype("datetime64[M]") + 1).astype("datetime64[ns]")
    grid = pd.DataFrame({"customer_id": who, "start": start, "end": end, "row": np.arange(len(who))})
    right = ctx.orders[["customer_id", "time"]]
    last = {}
    for edge in ("start", "end"):  # the customer's last order strictly before each edge
        hit = pd.merge_asof(grid.sort_values(edge, kind="stable"), right, left_on=edge, right_on="time",
                            by="customer_id", allow_exact_matches=False)
        last[edge] = hit.sort_values("row")["time"].to_numpy(dtype="datetime64[ns]")
    last_start, last_end = last["start"], last["end"]
    active = last_start >= start - ctx.loss
    lapsed = last_end < end - ctx.loss
    keep = active if call.get("lapsed") is None else active & (lapsed == bool(call.get("lapsed")))
    value = 1.0
    if call.get("revenue"):  # the buyer's net revenue in the month (returns taken off)
        t = ctx.table("orders")
        spent = pd.DataFrame({"c": ctx.customer("orders"), "m": _month_start(ctx.time("orders")),
                              "a": t["amount"].to_numpy("float64")}).groupby(["c", "m"])["a"].sum()
        value = spent.reindex(pd.MultiIndex.from_arrays([who[keep], start[keep]])).fillna(0.0).to_numpy()
    return _rows(start[keep], customer=who[keep], value=value)


def _c_subscribers_at_start(ctx: _Context, call: _Call) -> pd.DataFrame:
    ev = pd.DataFrame({"customer_id": ctx.customer("events"), "time": ctx.time("events")})
    months = ctx.months("events")
    start = ev[ctx.event_mask("subscribe")].groupby("customer_id")["time"].min()
    out = ev[ctx.event_mask("unsubscribe")].join(start.rename("since"), on="customer_id")
    stop = out[out["time"] >= out["since"]].groupby("customer_id")["time"].min().reindex(start.index)
    first = np.searchsorted(months, start.to_numpy(), side="right")
    last = np.where(stop.isna(), len(months), np.searchsorted(months, stop.to_numpy(), side="right"))
    who, when = _spans(start.index.to_numpy(), first, last, months)
    if call.get("has"):
        hits = ev[ctx.event_mask(call.get("has"))]
        hit = pd.MultiIndex.from_arrays([hits["customer_id"], _month_start(hits["time"].to_numpy())])
        keep = pd.MultiIndex.from_arrays([who, when]).isin(hit)
        who, when = who[keep], when[keep]
    return _rows(when, customer=who)


def _c_answers(ctx: _Context, call: _Call) -> pd.DataFrame:
    column = call.args[0].split(".")[1]
    score = ctx.table("surveys", column)[column].to_numpy(dtype="float64", na_value=np.nan)
    keep = ~np.isnan(score)
    if call.get("min") is not None:
        keep = keep & (score >= call.get("min"))
    if call.get("max") is not None:
        keep = keep & (score <= call.get("max"))
    return _rows(ctx.time("surveys")[keep], customer=ctx.customer("surveys")[keep],
                 stage=ctx.col("surveys", "stage")[keep], row=np.flatnonzero(keep))


_COMPUTATIONS = {"sum": _c_sum, "count_events": _c_count_events, "count_customers": _c_count_events,
                 "count_sessions": _c_count_sessions, "first_orders": _c_first_orders, "buyers": _c_buyers,
                 "customers": _c_customers, "count_orders": _c_count_orders, "buying_months": _c_buying_months,
                 "customer_months": _c_customer_months, "active_buyers": _c_active_buyers,
                 "subscribers_at_start": _c_subscribers_at_start, "answers": _c_answers}
#: computations counting distinct units (a unit's rows are not added up but taken once)
_DISTINCT = {"count_customers"}
#: where the rows of each computation come from (which groups they can carry)
_SOURCE = {"count_events": "events", "count_customers": "events", "count_sessions": "sessions",
           "first_orders": "orders", "buyers": "orders", "count_orders": "orders", "buying_months": "customers",
           "customer_months": "customers", "active_buyers": "customers", "subscribers_at_start": "customers",
           "customers": "customers", "answers": "surveys"}


# --- the reduction ------------------------------------------------------------------------------

def _unpack(data: Any, currency: str | None, timezone: str | None) -> tuple[dict, Any, str, str | None]:
    """(tables, journey model or None, currency, time zone) of a ClientData or a mapping of tables."""
    if hasattr(data, "tables") and hasattr(data, "config"):
        return (dict(data.tables), data.model, currency or data.config.currency,
                timezone if timezone is not None else data.config.timezone)
    if isinstance(data, Mapping):
        return dict(data), None, currency or "currency", timezone
    raise TypeError(f"KPIs are computed from a client (cjkit.load_client) or a mapping of canonical tables such as "
                    f"{{'events': events, 'orders': orders}}, not from a {type(data).__name__}")


def _by(by: str | Sequence[str] | None) -> list[str]:
    keys = [] if by is None else [by] if isinstance(by, str) else list(by)
    bad = [b for b in keys if b not in BY]
    if bad:
        raise ValueError(f"cannot split KPIs by {bad[0]!r}; choose among {', '.join(BY)}")
    return keys


def _source(call: _Call) -> str:
    return call.args[0].split(".")[0] if call.name == "sum" else _SOURCE[call.name]


def _split_problem(ctx: _Context, kpi_id: str, segment: str) -> str | None:
    """Why ``kpi_id`` cannot be split by ``segment`` for this client, or None."""
    why = ctx.segment_available(segment)
    if why:
        return why
    for call in _all_calls(kpi_id):
        source = _source(call)
        table = "events" if source in ("events", "sessions") else source
        if segment not in _SPLITS.get(source, _ALL - {"stage"}) or (
                segment == "stage" and "stage" not in ctx.tables.get(table, pd.DataFrame()).columns):
            return f"{kpi_id} counts {source} rows, which carry no {segment}"
    return None


def _keys(ctx: _Context, rows: pd.DataFrame, by: list[str], per: str) -> pd.DataFrame:
    """``rows`` with a column per group in ``by`` and the unit columns ``_u0`` (``_u1``)."""
    code = rows["customer_id"].to_numpy()
    lookup = lambda name: ctx.attributes[name][code] if ctx.n_customers else np.full(len(rows), np.nan, object)  # noqa: E731
    channel = rows["channel"].to_numpy(dtype=object)
    for key in by:
        if key == "period":
            values = _month_label(rows["time"].to_numpy())
        elif key == "stage":
            values = rows["stage"].to_numpy(dtype=object)
        elif key == "channel":  # the row's own channel, else the customer's first
            values = np.where(pd.notna(channel), channel, lookup("first_channel"))
        elif key == "first_channel":  # rows without a customer (spend) keep their own channel
            values = np.where(code >= 0, lookup("first_channel"), channel)
        else:
            values = lookup(key)
        rows[key] = np.where(pd.notna(values), values, NONE).astype(str)
    fallback = -np.arange(1, len(rows) + 1)  # a unit left unknown is its own unit, never merged with others
    month = rows["time"].to_numpy(dtype="datetime64[ns]").astype("datetime64[M]").astype("int64")
    unit = {"row": [rows["row"].to_numpy()], "customer": [np.where(code >= 0, code, fallback)],
            "session": [rows["session"].to_numpy()], "day": [rows["time"].to_numpy().astype("datetime64[D]")],
            "month": [month], "customer_month": [np.where(code >= 0, code, fallback), month]}[per]
    for i, values in enumerate(unit):
        rows[f"_u{i}"] = values
    return rows


def kpi_sums(data: Any, kpis: str | Iterable[str] | None = None, *, by: str | Sequence[str] | None = None,
             event_names: Mapping[str, Sequence[str]] | None = None,
             channel_names: Mapping[str, Sequence[str]] | None = None,
             loss_window_days: int = LOSS_WINDOW_DAYS, timezone: str | None = None) -> pd.DataFrame:
    """The reduction behind every KPI: numerators and denominators by group, as sums over units.

    Parameters
    ----------
    data : ClientData or mapping of str to DataFrame
        A loaded client, or canonical tables by name (``customers``, ``events``, ``orders``,
        ``surveys``, ``spend``); missing tables may be left out.
    kpis : str or list of str, optional
        KPI ids of :func:`cjkit.catalog.kpis` (default: all computable ones). A combined KPI
        (``cltv``) brings the rows of the KPIs it is built from instead.
    by : str or list of str, optional
        Groups: any of :data:`BY`. None: one row per KPI.
    event_names, channel_names : mapping, optional
        Role -> names, replacing the defaults of :func:`cjkit.catalog.kpi_roles` for those roles.
    loss_window_days : int
        Days without an order after which a buyer counts as lost (churn and retention).
    timezone : str, optional
        Time zone of the calendar months (a client's own by default, else UTC).

    Returns
    -------
    DataFrame
        One row per KPI and group: the ``by`` columns, ``kpi``, ``n`` (units of analysis),
        ``numerator`` and ``denominator`` (sums over units; the denominator is NaN for a
        total), ``sum_yy``, ``sum_xx``, ``sum_xy`` (sums of squares and products over
        units, for the delta method). Small: the size of the groups, not of the tables.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "b"], "session_id": ["s1", "s1", "s2", "s3"],
    ...     "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:05", "2024-01-02 09:00", "2024-02-01 09:00"],
    ...                                 utc=True),
    ...     "channel": ["search", "search", "email", "email"],
    ...     "event": ["add_to_cart", "first_purchase", "add_to_cart", "add_to_cart"]})
    >>> kpi_sums({"events": ev}, "cart_abandonment", by="period")[["period", "n", "numerator", "denominator"]]
        period  n  numerator  denominator
    0  2024-01  2        1.0          2.0
    1  2024-02  1        1.0          1.0
    """
    tables, _, _, tz = _unpack(data, None, timezone)
    ctx = _Context(tables, event_names=event_names, channel_names=channel_names,
                   loss_window_days=loss_window_days, timezone=tz)
    return _reduce(ctx, _kpi_ids(kpis), _by(by))


def _reduce(ctx: _Context, ids: list[str], by: list[str]) -> pd.DataFrame:
    defs = _definitions()
    wanted = list(dict.fromkeys(p for k in ids for p in _PARTS.get(k, (k,))))
    out = []
    for kpi_id in wanted:
        for key in by:
            problem = _split_problem(ctx, kpi_id, key) if key != "period" else None
            if problem:
                raise ValueError(f"cannot split {kpi_id} by {key}: {problem}")
        units = []
        for side, calls in _calls(kpi_id):
            frames = [ctx.rows(call) for call in calls]
            rows = frames[0].copy() if len(frames) == 1 else pd.concat(frames, ignore_index=True)
            rows = _keys(ctx, rows, by, defs.loc[kpi_id, "per"])
            agg = "max" if any(c.name in _DISTINCT for c in calls) else "sum"
            ucols = [c for c in rows.columns if c.startswith("_u")]
            units.append(rows.groupby(by + ucols, sort=False)["value"].agg(agg).rename(side))
        frame = pd.concat(units, axis=1, sort=False).reset_index() if len(units) > 1 else units[0].reset_index()
        has_x = "x" in frame
        frame = frame.assign(y=frame["y"].fillna(0.0), x=frame["x"].fillna(0.0) if has_x else np.nan)
        frame = frame.assign(yy=frame["y"] ** 2, xx=frame["x"] ** 2, xy=frame["x"] * frame["y"])
        if by:
            stats = frame.groupby(by, sort=True).agg(n=("y", "size"), numerator=("y", "sum"), denominator=("x", "sum"),
                                                     sum_yy=("yy", "sum"), sum_xx=("xx", "sum"),
                                                     sum_xy=("xy", "sum")).reset_index()
        else:
            stats = pd.DataFrame([{"n": len(frame), "numerator": frame["y"].sum(), "denominator": frame["x"].sum(),
                                   "sum_yy": frame["yy"].sum(), "sum_xx": frame["xx"].sum(),
                                   "sum_xy": frame["xy"].sum()}])
        if not has_x:
            stats[["denominator", "sum_xx", "sum_xy"]] = np.nan
        out.append(stats.assign(kpi=kpi_id))
    columns = [*by, "kpi", *SUMS]
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)
    return result[columns].astype({"n": "int64", **{c: "float64" for c in SUMS[1:]}})


# --- from sums to estimates (small, pandas) ---------------------------------------------------------

def _estimates(sums: pd.DataFrame, by: list[str], ids: list[str], *, level: float, margin: float,
               currency: str) -> pd.DataFrame:
    defs = _definitions()
    ci = sums["kpi"].map(defs["ci"]).to_numpy()
    k, d, n = (sums[c].to_numpy("float64") for c in ("numerator", "denominator", "n"))
    value, low, high = ratio_ci(n, k, d, *(sums[c].to_numpy("float64") for c in ("sum_yy", "sum_xx", "sum_xy")),
                                level=level)
    wilson = ci == "wilson"
    if wilson.any():
        lo, hi = proportion_ci(np.clip(k[wilson], 0, d[wilson]), d[wilson], level=level)
        low[wilson], high[wilson] = lo, hi
    total = ci == "none"
    value[total], low[total], high[total] = k[total], np.nan, np.nan
    out = sums[[*by, "kpi"]].assign(value=value, ci_low=low, ci_high=high,
                                    n=np.where(wilson, d, n).astype("int64"), numerator=k, denominator=d,
                                    method=np.select([wilson, total, ci == "normal"], ["wilson", "", "normal"], "delta"))
    for kpi_id, (a_id, c_id) in _PARTS.items():
        if kpi_id in ids:
            out = pd.concat([out, _combined(out, by, kpi_id, a_id, c_id, level=level, margin=margin)],
                            ignore_index=True)
    order = {k: i for i, k in enumerate(ids)}
    out = out[out["kpi"].isin(ids)].assign(_order=lambda f: f["kpi"].map(order)).sort_values(["_order", *by],
                                                                                                kind="stable")
    out = out.assign(name=out["kpi"].map(defs["name"]),
                     unit=out["kpi"].map(defs["unit"]).str.replace("{currency}", currency, regex=False))
    return out[[*by, "kpi", "name", "value", "ci_low", "ci_high", "n", "numerator", "denominator", "unit",
                "method"]].reset_index(drop=True)


def _combined(est: pd.DataFrame, by: list[str], kpi_id: str, a_id: str, c_id: str, *, level: float,
              margin: float) -> pd.DataFrame:
    """CLTV = ARPU x margin / churn, with the delta method on the relative errors of both."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    a = est[est["kpi"] == a_id].set_index(by) if by else est[est["kpi"] == a_id]
    c = est[est["kpi"] == c_id].set_index(by) if by else est[est["kpi"] == c_id]
    if not by:
        a, c = a.reset_index(drop=True), c.reset_index(drop=True)
    a, c = a.align(c, join="inner", axis=0)
    arpu, churn = a["value"].to_numpy("float64"), c["value"].to_numpy("float64")
    se_a = (a["ci_high"] - a["ci_low"]).to_numpy("float64") / (2 * z)
    with np.errstate(invalid="ignore", divide="ignore"):
        se_c = np.sqrt(churn * (1 - churn) / c["n"].to_numpy("float64"))
        value = np.where(churn > 0, arpu * margin / np.where(churn > 0, churn, 1), np.nan)
        se = np.abs(value) * np.sqrt((se_a / arpu) ** 2 + (se_c / churn) ** 2)
    out = pd.DataFrame({"kpi": kpi_id, "value": value, "ci_low": value - z * se, "ci_high": value + z * se,
                        "n": a["n"].to_numpy(), "numerator": arpu * margin, "denominator": churn, "method": "delta"},
                       index=a.index)
    return out.reset_index() if by else out.reset_index(drop=True)


# --- what a client can compute ---------------------------------------------------------------------

def _problems(ctx: _Context, kpi_id: str) -> list[str]:
    """What the client lacks for ``kpi_id``: tables, columns, or events of a role."""
    out: list[str] = []
    needs = sorted(set(_definitions().loc[kpi_id, "needs"]))
    for need in needs:
        table, column = need.split(".")
        t = ctx.tables.get(table)
        if t is None:
            out.append(f"the {table} table")
        elif column not in t.columns or t[column].isna().all():
            out.append(f"{table}.{column}")
    out = list(dict.fromkeys(out))
    events = ctx.tables.get("events")
    if events is not None:
        for kind, role in dict.fromkeys(r for c in _all_calls(kpi_id) for r in _roles(c)):
            column = "event" if kind == "event" else "channel"
            names = ctx.roles[kind][role]
            if not events[column].isin(names).any():
                out.append(f"events with {column} {' or '.join(names)} ({kind} role {role})")
    return out


def _what_to_do(missing: list[str]) -> str:
    steps = []
    for item in missing:
        if item.startswith("the "):
            steps.append(f"add {item} to the client")
        elif item.startswith("events with"):
            kind, role = item.rsplit("(", 1)[1].rstrip(")").split(" role ")
            steps.append(f"pass {kind}_names={{{role!r}: [...]}} with the client's own names")
        else:
            table, column = item.split(".")
            steps.append(f"fill column {column} of the {table} table")
    return "; ".join(dict.fromkeys(steps))


def available_segments(data: Any) -> list[str]:
    """The groups of :data:`SEGMENTS` this client's tables can provide.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"], "order_id": ["o1"], "amount": [10.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-05"], utc=True)})
    >>> available_segments({"orders": orders})
    ['cohort']
    """
    tables, _, _, _ = _unpack(data, None, None)
    ctx = _Context(tables, event_names=None, channel_names=None, loss_window_days=LOSS_WINDOW_DAYS, timezone=None)
    return [s for s in SEGMENTS if ctx.segment_available(s) is None]


def _context(data: Any, *, event_names: Mapping | None, channel_names: Mapping | None, loss_window_days: int,
             currency: str | None, timezone: str | None) -> tuple[_Context, Any, str]:
    tables, model, currency, tz = _unpack(data, currency, timezone)
    ctx = _Context(tables, event_names=event_names, channel_names=channel_names,
                   loss_window_days=loss_window_days, timezone=tz)
    return ctx, model, currency


def kpi_table(data: Any, kpis: str | Iterable[str] | None = None, *, by: str | Sequence[str] | None = None,
              missing: str = "raise", level: float = 0.95, margin: float = MARGIN,
              loss_window_days: int = LOSS_WINDOW_DAYS, event_names: Mapping[str, Sequence[str]] | None = None,
              channel_names: Mapping[str, Sequence[str]] | None = None, currency: str | None = None,
              timezone: str | None = None) -> pd.DataFrame:
    """KPIs as values with their confidence intervals, overall, by period and/or by segment.

    Parameters
    ----------
    data : ClientData or mapping of str to DataFrame
        A loaded client or canonical tables by name.
    kpis : str or list of str, optional
        KPI ids of :func:`cjkit.catalog.kpis`; default every computable KPI.
    by : str or list of str, optional
        ``"period"`` (calendar month), a segment of :data:`SEGMENTS`, or several of them.
    missing : {"raise", "skip"}
        What to do with a KPI the client's tables cannot support (or cannot split by
        ``by``): raise an error naming what is missing, or leave it out and name it in
        ``attrs["caption"]`` (and ``attrs["skipped"]``: kpi -> reason).
    level : float
        Confidence level of the intervals.
    margin : float
        Gross margin for the simple CLTV (ARPU x margin / churn).
    loss_window_days : int
        Days without an order after which a buyer counts as lost.
    event_names, channel_names : mapping, optional
        Role -> the client's names (defaults: :func:`cjkit.catalog.kpi_roles`).
    currency, timezone : str, optional
        Written into money units and used for calendar months; a client's own by default.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``kpi``, ``name``, ``value``, ``ci_low``, ``ci_high`` (NaN
        for totals and with fewer than two units), ``n`` (units of analysis; trials for a
        share), ``numerator``, ``denominator``, ``unit`` (``"share"`` for proportions) and
        ``method`` (``wilson``, ``delta``, ``normal`` or empty).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["o1", "o2", "o3"],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20"], utc=True),
    ...     "amount": [30.0, 10.0, 20.0]})
    >>> t = kpi_table({"orders": orders}, ["average_ticket", "repeat_purchase_rate"], currency="EUR")
    >>> t[["kpi", "value", "n", "numerator", "denominator", "unit"]]
                        kpi  value  n  numerator  denominator           unit
    0        average_ticket   20.0  2       60.0          3.0  EUR per order
    1  repeat_purchase_rate    0.5  2        1.0          2.0          share
    >>> t.loc[1, ["ci_low", "ci_high"]].astype(float).round(4).tolist()  # Wilson, 1 of 2
    [0.0945, 0.9055]
    """
    if missing not in ("raise", "skip"):
        raise ValueError(f"missing must be 'raise' or 'skip', got {missing!r}")
    ctx, _, currency = _context(data, event_names=event_names, channel_names=channel_names,
                                loss_window_days=loss_window_days, currency=currency, timezone=timezone)
    keys = _by(by)
    ids, skipped = [], {}
    for kpi_id in _kpi_ids(kpis):
        lacking = [p for part in _PARTS.get(kpi_id, (kpi_id,)) for p in _problems(ctx, part)]
        reason = f"needs {', '.join(dict.fromkeys(lacking))}" if lacking else None
        for key in keys:
            if reason is None and key != "period":
                problem = _split_problem(ctx, kpi_id, key)
                reason = f"cannot be split by {key}: {problem}" if problem else None
        if reason is None:
            ids.append(kpi_id)
        elif missing == "raise":
            raise ValueError(f"KPI {kpi_id} {reason}" + (f" ({_what_to_do(lacking)})" if lacking else ""))
        else:
            skipped[kpi_id] = reason
    out = _estimates(_reduce(ctx, ids, keys), keys, ids, level=level, margin=margin, currency=currency)
    out.attrs = {"units": {}, "skipped": skipped}  # the table style reads the unit column row by row
    if skipped:
        out.attrs["caption"] = "Not computed: " + "; ".join(f"{k} ({v})" for k, v in skipped.items())
    return out


def kpi(data: Any, kpi_id: str, **options: Any) -> Estimate:
    """One KPI over the whole data as an :class:`~cjkit.estimate.Estimate`.

    ``options`` are those of :func:`kpi_table` (``level``, ``margin``,
    ``loss_window_days``, ``event_names``, ``channel_names``, ``currency``, ``timezone``).
    A total (a count or a sum) comes without an interval.

    Examples
    --------
    >>> surveys = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "nps": [9, 6, 10, 3],
    ...     "answered_at": pd.to_datetime(["2024-01-05"] * 4, utc=True), "csat": [5, 3, 4, 2]})
    >>> print(kpi({"surveys": surveys}, "csat_top2_share"))
    50.0% (95% CI 15.0-85.0%, n = 4)
    >>> print(kpi({"surveys": surveys}, "detractors"))
    2.0 answers (n = 2)
    """
    est = estimate_of(kpi_table(data, [kpi_id], **options), kpi_id, level=options.get("level", 0.95))
    assert est is not None  # kpi_table raised if the KPI cannot be computed
    return est


def estimate_of(table: pd.DataFrame, kpi_id: str, *, level: float = 0.95) -> Estimate | None:
    """The :class:`~cjkit.estimate.Estimate` in the row of ``kpi_id`` of a KPI table or panel (None if absent).

    ``table`` is the output of :func:`kpi_table` (without ``by``) or :func:`kpi_panel`.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["ctr"], "value": [0.25], "ci_low": [0.1], "ci_high": [0.5], "n": [8],
    ...                   "numerator": [2.0], "denominator": [8.0], "unit": ["share"], "method": ["wilson"]})
    >>> print(estimate_of(t, "ctr")), estimate_of(t, "cac") is None
    25.0% (95% CI 10.0-50.0%, n = 8)
    (None, True)
    """
    rows = table[table["kpi"] == kpi_id]
    if rows.empty:
        return None
    if len(rows) > 1:
        raise ValueError(f"the table has {len(rows)} rows for {kpi_id}: pass a table computed without `by`")
    row = rows.iloc[0]
    plain = lambda v: None if pd.isna(v) else float(v)  # noqa: E731
    return Estimate(plain(row["value"]), plain(row["numerator"]), plain(row["denominator"]), int(row["n"]),
                    plain(row["ci_low"]), plain(row["ci_high"]), level, row["method"], row["unit"])


# --- the panel ---------------------------------------------------------------------------------------

UNPLACED = "unplaced"


def _placement(model: Any) -> dict[str, str]:
    """KPI id -> stage id of ``model`` (or :data:`UNPLACED`), for every KPI of the catalogue."""
    from cjkit import catalog
    from cjkit.journey import JourneyLookupError, crosswalk, get_model

    defs = catalog.kpis().set_index("kpi_id")
    m = get_model(model)
    out: dict[str, str] = {}
    for kpi_id, row in defs.iterrows():
        stage = UNPLACED
        if m.id == "six_stage":
            stage = str(row["stage"])
        elif m.id == "five_stage":
            stage = str(row["stage_five"])
        else:
            for source, key in (("five_stage", row["stage_five"]), ("six_stage", row["stage"])):
                try:
                    stage = m.stage(str(key)).id  # a stage id, name or alias of the model
                    break
                except JourneyLookupError:
                    pass
                try:
                    links = crosswalk(source, m, missing="empty")
                except JourneyLookupError:
                    continue
                hit = links.loc[links["source_stage"] == str(key), "target_stage"]
                if len(hit):
                    stage = str(hit.iloc[0])
                    break
        out[str(kpi_id)] = stage
    return out


def _stage_frame(model: Any) -> tuple[list[str], dict[str, str]]:
    from cjkit.journey import get_model

    m = get_model(model)
    return [*m.stage_ids, UNPLACED], {**dict(zip(m.stage_ids, m.stage_names)), UNPLACED: "Not placed in this model"}


def kpi_panel(data: Any, *, model: Any = None, kpis: str | Iterable[str] | None = None, **options: Any) -> pd.DataFrame:
    """Every KPI this client's tables support, grouped by the stages of a journey model.

    Parameters
    ----------
    data : ClientData or mapping of str to DataFrame
        A loaded client (its journey model is the default ``model``) or canonical tables.
    model : journey model or str, optional
        ``"six_stage"``, ``"five_stage"``, ``"five_stage_funnel"`` or a model of the
        client's own: KPIs go to the stage the catalogue gives them in that model, through
        the crosswalk or a stage's aliases; those with no counterpart are ``"unplaced"``.
    kpis : list of str, optional
        Restrict the panel to these KPIs.
    **options
        As for :func:`kpi_table` (``level``, ``margin``, ``loss_window_days``, names...).

    Returns
    -------
    DataFrame
        One row per computable KPI, in stage order: ``stage``, ``stage_name``, ``kpi``,
        ``name``, ``value``, ``ci_low``, ``ci_high``, ``n``, ``unit``, ``method``,
        ``numerator``, ``denominator``, ``higher_is_better``. :func:`kpis_unavailable`
        lists the others.

    Examples
    --------
    >>> surveys = pd.DataFrame({"customer_id": ["a", "b"], "nps": [9, 6], "ces": [7, 5],
    ...                         "answered_at": pd.to_datetime(["2024-01-05", "2024-01-06"], utc=True)})
    >>> kpi_panel({"surveys": surveys}, model="five_stage")[["stage", "kpi", "value", "n"]]
            stage         kpi  value  n
    0    purchase    ces_mean    6.0  2
    1    advocacy  detractors    1.0  1
    """
    ctx, client_model, currency = _context(data, **_context_options(options))
    model = model if model is not None else (client_model if client_model is not None else "six_stage")
    ids = [k for k in _kpi_ids(kpis) if not [p for part in _PARTS.get(k, (k,)) for p in _problems(ctx, part)]]
    est = _estimates(_reduce(ctx, ids, []), [], ids, level=options.get("level", 0.95),
                     margin=options.get("margin", MARGIN), currency=currency)
    place = _placement(model)
    order, names = _stage_frame(model)
    est.insert(0, "stage", pd.Categorical(est["kpi"].map(place), categories=order, ordered=True))
    est.insert(1, "stage_name", est["stage"].map(names).astype(str))
    est["higher_is_better"] = est["kpi"].map(_definitions()["higher_is_better"]).astype(bool)
    out = est.sort_values("stage", kind="stable").reset_index(drop=True)
    out["stage"] = out["stage"].cat.remove_unused_categories()
    out = out[["stage", "stage_name", "kpi", "name", "value", "ci_low", "ci_high", "n", "unit", "method",
               "numerator", "denominator", "higher_is_better"]]
    out.attrs = {"units": {}}
    return out


def _context_options(options: Mapping[str, Any]) -> dict[str, Any]:
    known = {"level", "margin", "loss_window_days", "event_names", "channel_names", "currency", "timezone"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option {unknown[0]!r}; options are {', '.join(sorted(known))}")
    return {"event_names": options.get("event_names"), "channel_names": options.get("channel_names"),
            "loss_window_days": options.get("loss_window_days", LOSS_WINDOW_DAYS),
            "currency": options.get("currency"), "timezone": options.get("timezone")}


def kpis_unavailable(data: Any, *, model: Any = None, **options: Any) -> pd.DataFrame:
    """The KPIs :func:`kpi_panel` leaves out for this client, and what each would need.

    Two kinds: KPIs of the kit whose table, column or events the client lacks (``missing``
    names them, ``what_to_do`` says how to fix it), and catalogue KPIs that no canonical
    table supports (``missing`` is ``"not in the canonical tables"``).

    Returns
    -------
    DataFrame
        ``stage`` (in ``model``, as in :func:`kpi_panel`), ``kpi``, ``name``, ``missing``,
        ``what_to_do``, in stage order.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"], "order_id": ["o1"], "amount": [10.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-05"], utc=True)})
    >>> gone = kpis_unavailable({"orders": orders}).set_index("kpi")
    >>> gone.loc["cac", "missing"], gone.loc["arpu", "what_to_do"]
    ('the spend table', 'add the customers table to the client')
    >>> gone.loc["rank_lcp", "missing"]
    'not in the canonical tables'
    """
    from cjkit import catalog

    ctx, client_model, _ = _context(data, **_context_options(options))
    model = model if model is not None else (client_model if client_model is not None else "six_stage")
    defs = catalog.kpis().set_index("kpi_id")
    rows = []
    for kpi_id, row in defs.iterrows():
        if not row["computable"]:
            rows.append((kpi_id, row["name"], "not in the canonical tables", row["would_need"]))
            continue
        lacking = list(dict.fromkeys(p for part in _PARTS.get(kpi_id, (kpi_id,)) for p in _problems(ctx, part)))
        if lacking:
            rows.append((kpi_id, row["name"], "; ".join(lacking), _what_to_do(lacking)))
    order, _ = _stage_frame(model)
    place = _placement(model)
    out = pd.DataFrame(rows, columns=["kpi", "name", "missing", "what_to_do"])
    out.insert(0, "stage", pd.Categorical(out["kpi"].map(place), categories=order, ordered=True))
    out = out.sort_values("stage", kind="stable").reset_index(drop=True)
    out["stage"] = out["stage"].cat.remove_unused_categories()
    return out
