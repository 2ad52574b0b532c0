"""The named computations a KPI's numerator and denominator are made of, over tables prepared once."""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from cjkit.kpis.definitions import _Call, _ROWS, _TIME, _default_roles

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
