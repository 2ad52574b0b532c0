"""The reduction (tables -> per-group sums, :func:`kpi_sums`) and the sums turned into estimates."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import proportion_ci, ratio_ci
from cjkit.kpis.definitions import BY, LOSS_WINDOW_DAYS, NONE, SUMS, _ALL, _Call, _PARTS, _SPLITS, _all_calls, _calls, _definitions, _kpi_ids
from cjkit.kpis.computations import _Context, _DISTINCT, _SOURCE, _month_label

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
