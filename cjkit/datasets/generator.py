"""Run the generator end to end: the five tables, the ground truth and per-customer truth."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import spec
from ._eventlog import CH, EventLog, make_ids, to_timestamps
from ._sampling import Calendar
from .journeys import simulate_journeys
from .lifecycle import (BANDS, log_email_program, log_onboarding, returns_and_support,
                        surveys_and_advocacy)
from .purchases import (category_of, draw_latents, log_order_sessions, order_channels,
                        simulate_orders, unsubscribe_times)
from .spend import spend_table
from .truth_report import build_truth

TABLES = ("customers", "events", "orders", "surveys", "spend")


@dataclass
class DemoData:
    """The generated client: five canonical tables plus the planted truth.

    Attributes
    ----------
    customers, events, orders, surveys, spend : DataFrame
        Tables in the canonical column names, timestamps naive local time (Europe/Madrid).
    truth : dict
        The planted ground truth (same content as ``ground_truth.json``).
    truth_customers : DataFrame
        One row per customer with their latent values (``truth_customers.csv``).
    """

    customers: pd.DataFrame
    events: pd.DataFrame
    orders: pd.DataFrame
    surveys: pd.DataFrame
    spend: pd.DataFrame
    truth: dict = field(repr=False)
    truth_customers: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        rows = ", ".join(f"{name}={len(frame):,}" for name, frame in self.tables.items())
        return f"DemoData({self.truth.get('dataset', '?')!r}: {rows})"

    @property
    def tables(self) -> dict[str, pd.DataFrame]:
        """The five canonical tables by name."""
        return {name: getattr(self, name) for name in TABLES}


def generate(
    *,
    n_customers: int = 20_000,
    seed: int = 1905,
    start: str = "2024-01-01",
    end: str = "2025-12-31",
    holdout_end: str = "2026-06-30",
    name: str = "demo",
) -> DemoData:
    """Generate the Fretboard & Co. demo client with planted ground truth.

    Parameters
    ----------
    n_customers : int
        Registered customers (everyone signs up during the observation window).
    seed : int
        Seed of the numpy PCG64 generator; the output is a pure function of the arguments.
    start, end : str
        First and last day (inclusive) of the observation window shipped in the tables.
    holdout_end : str
        Last day (inclusive) of the holdout window that follows ``end``: its purchases are
        only in the truth (``truth_customers.holdout_*``), never in the tables.
    name : str
        Dataset name written into the truth.

    Returns
    -------
    DemoData

    Examples
    --------
    >>> d = generate(n_customers=60, seed=3)
    >>> len(d.customers), d.orders["order_id"].is_unique
    (60, True)
    >>> sorted(d.truth["cart_abandonment"])[:2]
    ['abandoned_sessions', 'cart_sessions']
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1, got {n_customers}")
    t_start = pd.Timestamp(start)
    end_days = (pd.Timestamp(end) - t_start).days + 1
    holdout_days = (pd.Timestamp(holdout_end) - t_start).days + 1
    if end_days < 30 or holdout_days <= end_days:
        raise ValueError(f"need start < end - 30 days < holdout_end, got {start}, {end}, {holdout_end}")
    rng = np.random.default_rng(seed)
    cal = Calendar(t_start, end_days, holdout_days)
    log = EventLog()
    jr = simulate_journeys(rng, cal, n_customers, log)
    lat = draw_latents(rng, n_customers)
    od = simulate_orders(rng, cal, jr, lat)
    unsub = unsubscribe_times(rng, cal, jr, od)
    cat = category_of(rng, od.amount)
    chan = order_channels(rng, jr, lat, od, unsub)
    cal_mask = od.t < end_days
    buy_offset = np.zeros(len(od.t))
    buy_offset[cal_mask] = log_order_sessions(rng, cal, log, jr, od, chan, cal_mask)
    log_onboarding(rng, cal, log, jr, od, unsub)
    log_email_program(rng, cal, log, jr, od, unsub)
    rets = returns_and_support(rng, log, jr, od, chan, cat, cal_mask, end_days)
    surv = surveys_and_advocacy(rng, log, jr, od, cat, cal_mask, end_days)

    width = max(5, len(str(n_customers)))
    ids = make_ids("C", np.arange(1, n_customers + 1), width)
    events = log.frame(t_start, ids, cal.names, end_days)
    order_ts = to_timestamps(t_start, od.t, buy_offset)

    signup = events.loc[events["event"] == "signup"].groupby("customer_id")["timestamp"].first()
    customers = pd.DataFrame({
        "customer_id": pd.array(ids, dtype="str"),
        "signup_at": signup.reindex(ids).to_numpy(),
        "persona": pd.array(np.asarray(spec.PERSONAS, dtype=object)[lat.persona], dtype="str"),
        "source_channel": pd.array(np.asarray(spec.CHANNELS, dtype=object)[jr.source], dtype="str"),
        "country": pd.array(jr.country.astype(object), dtype="str"),
    })
    customers["signup_at"] = customers["signup_at"].astype("datetime64[ns]")
    orders = _orders_frame(od, cat, cal_mask, order_ts, rets, ids, t_start)
    surveys = _surveys_frame(surv, ids, t_start)
    spend = _spend(rng, cal, jr, od, unsub, events, t_start)
    truth_customers = _truth_customers(jr, lat, od, order_ts, ids, cal)
    truth = build_truth(name=name, seed=seed, n_customers=n_customers, start=start, end=end,
                        holdout_end=holdout_end, jr=jr, lat=lat, od=od, unsub=unsub, cal=cal,
                        customers=customers, events=events, orders=orders, surveys=surveys,
                        spend=spend, truth_customers=truth_customers)
    # plain JSON types, exactly what load_ground_truth returns after a round trip
    truth = json.loads(json.dumps(truth, allow_nan=False))
    return DemoData(customers, events, orders, surveys, spend, truth, truth_customers)


def _orders_frame(od, cat, cal_mask, order_ts, rets, ids, t_start) -> pd.DataFrame:
    idx = np.flatnonzero(cal_mask)
    base = pd.DataFrame({"cust": od.cust[idx], "ts": order_ts[idx], "row": idx})
    base = base.sort_values(["ts", "cust"], kind="stable")
    number = np.empty(len(od.t), dtype=np.int64)
    number[base["row"].to_numpy()] = np.arange(1, len(base) + 1)
    oid = make_ids("O", number[idx], 7)
    pos = pd.DataFrame({
        "customer_id": ids[od.cust[idx]], "order_id": oid, "ordered_at": order_ts[idx],
        "amount": od.amount[idx], "category": np.asarray(spec.CATEGORIES, dtype=object)[cat[idx]],
        "is_return": False})
    r = rets["order"]
    rid = make_ids("O", number[r], 7, "-R")
    neg = pd.DataFrame({
        "customer_id": ids[od.cust[r]], "order_id": rid, "ordered_at": to_timestamps(t_start, rets["t"]),
        "amount": -od.amount[r], "category": np.asarray(spec.CATEGORIES, dtype=object)[cat[r]],
        "is_return": True})
    out = pd.concat([pos, neg], ignore_index=True)
    out = out.sort_values(["ordered_at", "order_id"], kind="stable").reset_index(drop=True)
    out.insert(4, "currency", "EUR")
    for col in ("customer_id", "order_id", "currency", "category"):
        out[col] = out[col].astype("str")
    out["ordered_at"] = out["ordered_at"].astype("datetime64[ns]")
    return out


def _surveys_frame(s, ids, t_start) -> pd.DataFrame:
    out = pd.DataFrame({
        "customer_id": pd.array(ids[s["cust"]], dtype="str"),
        "answered_at": to_timestamps(t_start, s["t"]),
        "nps": pd.array(s["nps"], dtype="Int64"),
        "ces": pd.array(s["ces"], dtype="Int64"),
        "csat": pd.array(s["csat"], dtype="Int64"),
        "comment": pd.array(s["comment"], dtype="str"),
        "stage": pd.array(s["stage"].astype(object), dtype="str"),
    })
    out.loc[s["nps_missing"], "nps"] = pd.NA
    return out.sort_values(["answered_at", "customer_id"], kind="stable").reset_index(drop=True)


def _spend(rng, cal: Calendar, jr, od, unsub, events: pd.DataFrame, t_start) -> pd.DataFrame:
    n = cal.end_days
    diff = np.zeros(n + 2)
    sub = np.flatnonzero(jr.subscribed)
    np.add.at(diff, np.floor(jr.t_signup[sub]).astype(int) + 1, 1)
    gone = sub[np.isfinite(unsub[sub])]
    np.add.at(diff, np.floor(unsub[gone]).astype(int) + 1, -1)
    subscribers = np.cumsum(diff)[:n]
    first = od.is_first & (jr.source[od.cust] == CH["referral"])
    ref = np.bincount(np.floor(od.t[first]).astype(int), minlength=n)[:n]
    sel = (events["channel"] == "referral") & (events["event"] == "page_view") & events["campaign"].notna()
    day = (events.loc[sel, "timestamp"].dt.normalize() - t_start).dt.days
    visits = pd.Series(1, index=pd.MultiIndex.from_arrays([events.loc[sel, "campaign"], day])) \
        .groupby(level=[0, 1]).sum()
    return spend_table(rng, cal, scale=len(jr.source) / 20_000, subscribers_by_day=subscribers,
                       referral_buyers_by_day=ref, referral_visits=visits)


def _truth_customers(jr, lat, od, order_ts, ids, cal: Calendar) -> pd.DataFrame:
    n = len(ids)
    buyer = jr.converted
    seg = np.where(buyer, np.asarray(spec.SEGMENTS, dtype=object)[lat.segment], "non_buyer")
    names = np.asarray(spec.CHANNELS, dtype=object)
    cut = np.flatnonzero(np.r_[True, jr.step_cust[1:] != jr.step_cust[:-1]])
    path = np.array([" > ".join(p) for p in np.split(names[jr.step_ch], cut[1:])], dtype=object)
    hold = od.t >= cal.end_days
    h_n = np.bincount(od.cust[hold], minlength=n)
    h_s = np.round(np.bincount(od.cust[hold], weights=od.amount[hold], minlength=n), 2)
    alive = buyer & (od.death >= cal.end_days)
    tau = cal.holdout_days - cal.end_days
    lp = lat.lam * lat.p
    expected = np.where(alive, -np.expm1(-lp * tau) / lat.p, 0.0)
    dropout_at = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    dropout_at[od.cust[od.dies]] = order_ts[od.dies].to_numpy()
    alive_col = pd.array(np.where(buyer, alive, False), dtype="boolean")
    alive_col[~buyer] = pd.NA
    return pd.DataFrame({
        "customer_id": pd.array(ids, dtype="str"),
        "latent_segment": pd.array(seg, dtype="str"),
        "path": pd.array(path, dtype="str"),
        "converted": buyer,
        "lambda_per_day": np.where(buyer, np.round(lat.lam, 8), np.nan),
        "dropout_p": np.where(buyer, np.round(lat.p, 6), np.nan),
        "expected_order_value": np.where(buyer, np.round(spec.GAMMA_GAMMA["p"] / lat.nu, 4), np.nan),
        "alive_at_end": alive_col,
        "dropout_at": dropout_at,
        "holdout_transactions": h_n.astype(np.int64),
        "holdout_spend": h_s,
        "expected_holdout_transactions": np.round(expected, 6),
    })


__all__ = ["DemoData", "generate", "TABLES", "BANDS"]
