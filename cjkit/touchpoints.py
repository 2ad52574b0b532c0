"""Touchpoints before, during and after purchase.

Seed 003 sorts a brand's touchpoints by when they happen relative to a purchase. This
module puts every event of a client into one of those three phases and counts them, so a
notebook can show which channels carry the journey before, during and after buying.

Phase rules, for one customer's events and orders:

* **during**: the event shares a ``session_id`` with an order-bearing purchase event, or
  (when the client has no session ids) falls in the ``during_minutes`` before an order;
* **before**: not during, and earlier than the customer's first order (customers who never
  bought have only *before* events);
* **after**: not during, and at or after the first order.
"""
from __future__ import annotations

import pandas as pd

from cjkit.estimate import add_proportion

PHASES = ("before", "during", "after")
_PHASE_DTYPE = pd.CategoricalDtype(list(PHASES), ordered=True)


def touchpoint_phases(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    during_minutes: float = 30,
    purchase_events: tuple[str, ...] = ("purchase", "first_purchase", "repeat_purchase"),
) -> pd.Series:
    """Phase of every event relative to the customer's purchases.

    Parameters
    ----------
    events : DataFrame
        Canonical events: ``customer_id``, ``timestamp``, ``event``; ``session_id`` optional.
    orders : DataFrame
        Canonical orders: ``customer_id``, ``ordered_at``.
    during_minutes : float
        Without session ids, an event up to this many minutes before an order (and not
        after it) is *during* the purchase.
    purchase_events : tuple of str
        Event names that mark a purchase; sessions holding one are purchase sessions.

    Returns
    -------
    Series
        Ordered categorical (before < during < after), aligned to ``events.index``.

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-01 10:00", "2024-01-05 09:50", "2024-01-05 10:00",
    ...                      "2024-02-01 12:00", "2024-01-03 08:00"], utc=True)
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"], "timestamp": ts,
    ...                    "event": ["ad_click", "add_to_cart", "purchase", "email_open", "ad_click"]})
    >>> od = pd.DataFrame({"customer_id": ["a"], "ordered_at": ts[[2]]})
    >>> touchpoint_phases(ev, od).tolist()
    ['before', 'during', 'during', 'after', 'before']
    """
    ev = events[["customer_id", "timestamp", "event"]].copy()
    if "session_id" in events.columns:
        ev["session_id"] = events["session_id"]
    ev["_row"] = range(len(ev))
    first = orders.groupby("customer_id")["ordered_at"].min().rename("_first_order")
    ev = ev.join(first, on="customer_id")

    during = pd.Series(False, index=ev.index)
    has_sessions = "session_id" in ev.columns and ev["session_id"].notna().any()
    if has_sessions:
        is_purchase = ev["event"].isin(purchase_events)
        keys = ev.loc[is_purchase, ["customer_id", "session_id"]].drop_duplicates()
        marked = ev[["customer_id", "session_id"]].merge(
            keys.assign(_hit=True), how="left", on=["customer_id", "session_id"])
        during = pd.Series(marked["_hit"].fillna(False).astype(bool).to_numpy(), index=ev.index)
    else:
        # next order at or after each event, per customer (merge_asof needs sorted keys)
        left = ev[["customer_id", "timestamp", "_row"]].sort_values("timestamp")
        right = (orders[["customer_id", "ordered_at"]].dropna()
                 .sort_values("ordered_at").rename(columns={"ordered_at": "_next_order"}))
        nxt = pd.merge_asof(left, right, left_on="timestamp", right_on="_next_order",
                            by="customer_id", direction="forward")
        gap = (nxt["_next_order"] - nxt["timestamp"]).dt.total_seconds() / 60
        hit = gap.le(during_minutes).fillna(False).to_numpy()
        during = pd.Series(False, index=ev.index)
        during.iloc[nxt["_row"].to_numpy()] = hit

    after = ev["_first_order"].notna() & (ev["timestamp"] >= ev["_first_order"])
    phase = pd.Series("before", index=ev.index)
    phase[after.to_numpy()] = "after"
    phase[during.to_numpy()] = "during"
    return phase.astype(_PHASE_DTYPE).set_axis(events.index).rename("phase")


def touchpoint_volumes(
    events: pd.DataFrame,
    orders: pd.DataFrame,
    *,
    by: str = "channel",
    **phase_options,
) -> pd.DataFrame:
    """Events and distinct customers per purchase phase and ``by`` column.

    Returns
    -------
    DataFrame
        ``phase``, ``<by>``, ``events``, ``customers``, ``share`` (of the phase's events, with
        its 95% Wilson interval in ``share_ci_low`` / ``share_ci_high``), sorted by phase then
        events descending (phases with no events are absent).

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"], utc=True)
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": ts,
    ...                    "event": ["ad_click", "email_open", "ad_click"],
    ...                    "channel": ["search", "email", "search"]})
    >>> od = pd.DataFrame({"customer_id": ["a"], "ordered_at": ts[[1]] - pd.Timedelta("1h")})
    >>> touchpoint_volumes(ev, od)[["phase", "channel", "events", "customers"]].to_string(index=False)
    ' phase channel  events  customers\\nbefore  search       2          2\\n after   email       1          1'
    """
    phase = touchpoint_phases(events, orders, **phase_options)
    frame = pd.DataFrame({"phase": phase, by: events[by], "customer_id": events["customer_id"]})
    out = (frame.groupby(["phase", by], observed=True)
           .agg(events=("customer_id", "size"), customers=("customer_id", "nunique"))
           .reset_index())
    out = add_proportion(out, "share", out["events"], out.groupby("phase", observed=True)["events"].transform("sum"))
    return out.sort_values(["phase", "events"], ascending=[True, False], kind="stable").reset_index(drop=True)
