"""Time to loss and the unsubscribe hazard: how long customers stay, and how fast they leave.

The second half of the Retention stage's measures (the first, cohorts and churn, is
:mod:`cjkit.retention`, whose loss window and calendar rules apply here too):

* **time to loss** -- days from the first purchase until a customer first goes a whole
  loss window without ordering (or until the as-of day: censored), as a Kaplan-Meier curve
  (statsmodels' ``SurvfuncRight``) with a pointwise 95% band;
* **the unsubscribe hazard** piecewise by the loss window -- newsletter unsubscribes
  divided by the time subscribed buyers spent under and over the window since their latest
  purchase, as a monthly probability with an exact Poisson interval.

The heavy part is a named reduction, :func:`subscriber_exposure` (events and orders -> one
row per subscribed buyer), so that an engine such as DuckDB can replace it.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import Estimate, ci_columns
# the calendar and purchase rules shared with the cohort and churn measures
from cjkit.retention import (MONTH_DAYS, _check_window, _cutoff, _local, _month_index, _month_label, _purchases,
                             _purchases_until, _require)

__all__ = ["time_to_loss", "survival_curve", "survival_at", "survival_summary", "subscriber_exposure",
           "piecewise_hazard", "unsubscribe_hazard", "poisson_rate_ci"]

_DAY = pd.Timedelta(days=1)


# --- time to loss and the Kaplan-Meier curve ---------------------------------------------------

def time_to_loss(orders: pd.DataFrame, *, loss_window_days: float = 90, as_of: Any = None,
                 timezone: str | None = None) -> pd.DataFrame:
    """Days from each buyer's first purchase until they first pass the loss window.

    A buyer is lost the first time ``loss_window_days`` go by without a purchase, at their
    purchase before that gap plus the window, even if they buy again later (a win-back).
    A buyer never lost by the end of the as-of day is censored there.

    Returns
    -------
    DataFrame
        One row per buyer: ``customer_id``, ``cohort``, ``first_purchase``, ``days`` (to the
        loss, or to the end of the as-of day), ``lost`` (bool: False = censored).

    Examples
    --------
    >>> od = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "ordered_at": pd.to_datetime(
    ...     ["2024-01-01", "2024-01-11", "2024-03-01", "2024-03-21"], utc=True)})
    >>> time_to_loss(od, loss_window_days=30, as_of="2024-03-31")[["customer_id", "days", "lost"]]
      customer_id  days   lost
    0           a  40.0   True
    1           b  11.0  False
    """
    _check_window(loss_window_days)
    buys, cutoff = _purchases_until(orders, as_of, timezone)
    buys = buys.sort_values(["customer_id", "ordered_at"], kind="stable")
    buys = buys.reset_index(drop=True)
    cust, t = buys["customer_id"], buys["ordered_at"]
    nxt = t.groupby(cust, sort=False).shift(-1)
    gap = (nxt.fillna(cutoff) - t) / _DAY
    first = t.groupby(cust, sort=False).transform("min")
    per = pd.DataFrame({"customer_id": cust, "first": first}).drop_duplicates("customer_id")
    # the purchase before the first gap of a window or more (none: not lost yet)
    gone = pd.DataFrame({"customer_id": cust, "t": t})[gap >= loss_window_days].drop_duplicates("customer_id")
    lost_at = per["customer_id"].map(gone.set_index("customer_id")["t"])
    lost = lost_at.notna().to_numpy()
    days = np.where(lost, (lost_at - per["first"]) / _DAY + loss_window_days, (cutoff - per["first"]) / _DAY)
    out = pd.DataFrame({"customer_id": per["customer_id"].to_numpy(dtype=object),
                        "cohort": _month_label(_month_index(per["first"])),
                        "first_purchase": per["first"].array, "days": days.astype(float), "lost": lost})
    out.attrs.update(as_of=str((cutoff - _DAY).date()), loss_window_days=loss_window_days)
    return out


def _km(days: np.ndarray, lost: np.ndarray, level: float) -> pd.DataFrame:
    from scipy.stats import norm
    from statsmodels.duration.survfunc import SurvfuncRight

    n = len(days)
    head = pd.DataFrame({"days": [0.0], "at_risk": [n], "lost": [0], "survival": [1.0],
                         "survival_ci_low": [1.0], "survival_ci_high": [1.0]})
    if n == 0 or not lost.any():
        return head
    sf = SurvfuncRight(days.astype(float), lost.astype(float))
    s = np.asarray(sf.surv_prob, dtype=float)
    se = np.asarray(sf.surv_prob_se, dtype=float)  # Greenwood
    z = norm.ppf(0.5 + level / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log(-log S) interval (Kalbfleisch and Prentice), mapped back: S ** exp(+-z se / (S |log S|))
        w = z * se / (s * np.abs(np.log(s)))
        low, high = s ** np.exp(w), s ** np.exp(-w)
    done = (s <= 0) | ~np.isfinite(w)
    low, high = np.where(done, s, low), np.where(done, s, high)
    body = pd.DataFrame({"days": np.asarray(sf.surv_times, dtype=float),
                         "at_risk": np.asarray(sf.n_risk, dtype=np.int64),
                         "lost": np.asarray(sf.n_events, dtype=np.int64),
                         "survival": s, "survival_ci_low": low, "survival_ci_high": high})
    return pd.concat([head, body], ignore_index=True)


def survival_curve(durations: pd.DataFrame, *, by: str | None = None, level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier curve of the time to loss, with a pointwise confidence band.

    Fitted with statsmodels' ``SurvfuncRight`` (product-limit estimate, Greenwood standard
    errors); the band is the log(-log) interval, which stays between 0 and 1.

    Parameters
    ----------
    durations : DataFrame
        ``days`` and ``lost`` (False = censored), e.g. from :func:`time_to_loss`.
    by : str, optional
        A column of ``durations``: one curve per value.
    level : float
        Confidence level of the band.

    Returns
    -------
    DataFrame
        (``<by>``,) ``days`` (0, then each day with a loss), ``at_risk`` (customers not lost
        nor censored just before), ``lost``, ``survival`` (share not yet lost) with
        ``survival_ci_low`` / ``survival_ci_high``.

    Examples
    --------
    >>> d = pd.DataFrame({"days": [100.0, 120.0, 150.0, 200.0], "lost": [True, False, True, False]})
    >>> survival_curve(d)[["days", "at_risk", "lost", "survival"]]
        days  at_risk  lost  survival
    0    0.0        4     0     1.000
    1  100.0        4     1     0.750
    2  150.0        2     1     0.375
    """
    _require(durations, ["days", "lost"] + ([by] if by else []), "durations")
    days = durations["days"].to_numpy(dtype=float)
    lost = durations["lost"].to_numpy(dtype=bool)
    if (days < 0).any() or np.isnan(days).any():
        bad = int(((days < 0) | np.isnan(days)).sum())
        raise ValueError(f"durations table, column 'days': {bad:,} rows are negative or missing; "
                         "every customer needs a time from the first purchase of 0 days or more")
    if by is None:
        out = _km(days, lost, level)
    else:
        parts = []
        for key, idx in durations.groupby(by, sort=True, observed=True).indices.items():
            part = _km(days[idx], lost[idx], level)
            part.insert(0, by, key)
            parts.append(part)
        out = pd.concat(parts, ignore_index=True)
    out.attrs["units"] = {"survival": "share"}
    out.attrs["ci"] = {"survival": {"level": level, "method": "log-log (Greenwood)"}}
    out.attrs["longest_follow_up"] = float(days.max()) if len(days) else 0.0
    return out


def survival_at(curve: pd.DataFrame, days: float) -> Estimate:
    """The Kaplan-Meier survival at ``days`` (the step at or before it) as an Estimate.

    ``n`` is the number of customers the curve starts with. Beyond the longest follow-up
    (``curve.attrs["longest_follow_up"]``, set by :func:`survival_curve`) the curve says
    nothing: the value is None.

    Examples
    --------
    >>> c = pd.DataFrame({"days": [0.0, 100.0], "at_risk": [4, 4], "lost": [0, 1], "survival": [1.0, 0.75],
    ...                   "survival_ci_low": [1.0, 0.13], "survival_ci_high": [1.0, 0.96]})
    >>> print(survival_at(c, 365))
    75.0% (95% CI 13.0-96.0%, n = 4)
    """
    _require(curve, ["days", "at_risk", "survival", "survival_ci_low", "survival_ci_high"], "survival curve")
    step = curve[curve["days"] <= days]
    if step.empty:
        raise ValueError(f"the survival curve starts after day {days}")
    row = step.iloc[-1]
    ci = curve.attrs.get("ci", {}).get("survival", {})
    level, method, n = ci.get("level", 0.95), ci.get("method", "log-log (Greenwood)"), int(curve["at_risk"].iloc[0])
    if days > curve.attrs.get("longest_follow_up", np.inf):
        return Estimate(None, n=n, level=level, unit="share")
    return Estimate(float(row["survival"]), n=n, ci_low=float(row["survival_ci_low"]),
                    ci_high=float(row["survival_ci_high"]), level=level, method=method, unit="share")


def survival_summary(curve: pd.DataFrame, *, days: Sequence[float] = (90, 180, 365)) -> pd.DataFrame:
    """The Kaplan-Meier survival at a few days since the first purchase, with the band, as a table.

    Examples
    --------
    >>> c = pd.DataFrame({"days": [0.0, 100.0], "at_risk": [4, 4], "lost": [0, 1], "survival": [1.0, 0.75],
    ...                   "survival_ci_low": [1.0, 0.13], "survival_ci_high": [1.0, 0.96]})
    >>> survival_summary(c, days=[90, 365])[["days", "survival"]]
       days  survival
    0    90      1.00
    1   365      0.75
    """
    found = [survival_at(curve, d) for d in days]
    out = pd.DataFrame({"days": list(days), "survival": [e.value for e in found],
                        "survival_ci_low": [e.ci_low for e in found], "survival_ci_high": [e.ci_high for e in found]})
    out.attrs["units"] = {"survival": "share"}
    return out


# --- the unsubscribe hazard, piecewise by the loss window -------------------------------------

def poisson_rate_ci(events: Any, exposure: Any, *, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence bounds of the rate ``events / exposure``, element-wise.

    Bounds on the count are chi-square quantiles: ``chi2(a/2, 2k) / 2`` and
    ``chi2(1 - a/2, 2k + 2) / 2`` (the lower is 0 when k is 0); NaN where exposure is 0.

    Examples
    --------
    >>> low, high = poisson_rate_ci([0, 1, 10], [1, 1, 2])
    >>> low.round(4).tolist(), high.round(4).tolist()
    ([0.0, 0.0253, 2.3977], [3.6889, 5.5716, 9.1952])
    """
    from scipy.stats import chi2

    k = np.asarray(events, dtype=float)
    e = np.broadcast_to(np.asarray(exposure, dtype=float), k.shape)
    alpha = 1 - level
    low = np.where(k > 0, chi2.ppf(alpha / 2, 2 * np.maximum(k, 1e-300)) / 2, 0.0)
    high = chi2.ppf(1 - alpha / 2, 2 * k + 2) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(e > 0, low / e, np.nan), np.where(e > 0, high / e, np.nan)


def subscriber_exposure(events: pd.DataFrame, *, orders: pd.DataFrame | None = None, loss_window_days: float = 90,
                        as_of: Any = None, optin_event: str | None = "newsletter_optin",
                        event: str = "unsubscribe",
                        purchase_events: Sequence[str] = ("first_purchase", "repeat_purchase"),
                        timezone: str | None = None) -> pd.DataFrame:
    """Time each subscribed buyer spent under and over the loss window, and their unsubscribe.

    The clock is the time since the customer's latest purchase, reset by every purchase.
    A customer is at risk from their first purchase or their first ``optin_event``, whichever
    is later, until their first ``event`` after the opt-in (or the end of the as-of day).
    Their unsubscribe counts *before* the window when it came less than ``loss_window_days``
    after their latest purchase, else *after*. This is the hazard reduction.

    Parameters
    ----------
    events : DataFrame
        Canonical events: ``customer_id``, ``timestamp``, ``event``.
    orders : DataFrame, optional
        Canonical orders: the purchases (returns left out). Default: events named in
        ``purchase_events``.
    optin_event : str or None
        The subscription event; None: every buyer is subscribed from their first purchase.
    event : str
        The event whose hazard is measured (its first occurrence after the opt-in).

    Returns
    -------
    DataFrame
        One row per subscribed buyer (sorted): ``customer_id``, ``exposure_before_days``,
        ``exposure_after_days``, ``events_before``, ``events_after`` (0 or 1).
        ``attrs["not_counted"]`` holds how many ``event`` rows are left out (no opt-in, no
        purchase before them, or a repeat) and ``attrs["loss_window_days"]`` the window.

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-05-30"], utc=True)
    >>> ev = pd.DataFrame({"customer_id": ["a"] * 3, "timestamp": ts,
    ...                    "event": ["newsletter_optin", "first_purchase", "unsubscribe"]})
    >>> x = subscriber_exposure(ev, loss_window_days=90)
    >>> x.to_dict("records")  # 149 days after the purchase: 90 under the window, 59 over it
    [{'customer_id': 'a', 'exposure_before_days': 90.0, 'exposure_after_days': 59.0, 'events_before': 0,
      'events_after': 1}]
    """
    _check_window(loss_window_days)
    _require(events, ["customer_id", "timestamp", "event"], "events")
    if orders is not None:
        buys = _purchases(orders, timezone)
    else:
        mask = events["event"].isin(list(purchase_events))
        buys = pd.DataFrame({"customer_id": events.loc[mask, "customer_id"],
                             "ordered_at": _local(events.loc[mask, "timestamp"], timezone)})
    ts = _local(events["timestamp"], timezone)
    cutoff = _cutoff(as_of, pd.concat([buys["ordered_at"], ts]) if len(buys) else ts)
    buys = buys[buys["ordered_at"] < cutoff]
    ev = pd.DataFrame({"customer_id": events["customer_id"], "t": ts, "event": events["event"]})
    ev = ev[ev["t"] < cutoff]
    first_buy = buys.groupby("customer_id")["ordered_at"].min()
    if optin_event is None:
        optin = first_buy
    else:
        optin = ev.loc[ev["event"] == optin_event].groupby("customer_id")["t"].min()
    risk_start = pd.concat([first_buy.rename("b"), optin.rename("o")], axis=1, join="inner").max(axis=1)
    gone = ev.loc[ev["event"] == event, ["customer_id", "t"]]
    gone = gone[gone["customer_id"].map(optin).le(gone["t"])]  # after the opt-in (NaN: never opted in)
    stop = gone.groupby("customer_id")["t"].min()
    n_event_rows = int((ev["event"] == event).sum())

    # one interval per purchase: from the purchase to the next one (or the cutoff)
    p = buys[buys["customer_id"].isin(risk_start.index)].sort_values(["customer_id", "ordered_at"], kind="stable")
    t = p["ordered_at"]
    nxt = t.groupby(p["customer_id"].to_numpy(), sort=False).shift(-1).fillna(cutoff)
    end = p["customer_id"].map(stop).fillna(cutoff)
    begin = p["customer_id"].map(risk_start)
    a = ((begin - t) / _DAY).clip(lower=0).to_numpy()
    b = np.maximum((nxt.where(nxt < end, end) - t) / _DAY, a)
    w = float(loss_window_days)
    before = np.minimum(b, w) - np.minimum(a, w)
    after = np.maximum(b, w) - np.maximum(a, w)
    exposure = (pd.DataFrame({"customer_id": p["customer_id"].to_numpy(), "exposure_before_days": before,
                              "exposure_after_days": after})
                .groupby("customer_id", sort=True).sum())

    # each counted event: the latest purchase at or before it sets the clock
    hits = stop[stop.index.isin(risk_start.index)]
    hits = hits[hits >= risk_start.reindex(hits.index)].rename("t").reset_index().sort_values("t", kind="stable")
    last_buy = pd.merge_asof(hits, buys.sort_values("ordered_at", kind="stable"), left_on="t",
                             right_on="ordered_at", by="customer_id", direction="backward")
    since = (last_buy["t"] - last_buy["ordered_at"]) / _DAY
    flags = pd.DataFrame({"events_before": (since < w).astype(np.int64).to_numpy(),
                          "events_after": (since >= w).astype(np.int64).to_numpy()},
                         index=last_buy["customer_id"].to_numpy())
    out = exposure.join(flags, how="left").fillna({"events_before": 0, "events_after": 0})
    out = out.astype({"events_before": np.int64, "events_after": np.int64}).rename_axis("customer_id").reset_index()
    out.attrs.update(loss_window_days=loss_window_days, not_counted=n_event_rows - len(hits),
                     event=event, as_of=str((cutoff - _DAY).date()))
    return out


def piecewise_hazard(exposure: pd.DataFrame, *, month_days: float = MONTH_DAYS, level: float = 0.95) -> pd.DataFrame:
    """Monthly hazard before and after the loss window from :func:`subscriber_exposure`.

    In each piece, the daily rate is events / exposure days (a constant hazard within the
    piece); the monthly hazard, the probability of the event within one month, is
    ``1 - exp(-month_days x rate)``. The interval is the exact Poisson interval of the
    count, mapped the same way.

    Returns
    -------
    DataFrame
        Two rows, ``period`` ``"before the loss window"`` then ``"after the loss window"``:
        ``days_since_purchase`` (``"0-89"``, ``"90+"``), ``customers`` (with exposure in the
        piece), ``events``, ``exposure_months``, ``hazard`` (monthly probability) with
        ``hazard_ci_low`` / ``hazard_ci_high``.

    Examples
    --------
    >>> x = pd.DataFrame({"customer_id": ["a", "b"], "exposure_before_days": [90.0, 60.0],
    ...                   "exposure_after_days": [150.0, 0.0], "events_before": [0, 1], "events_after": [1, 0]})
    >>> x.attrs["loss_window_days"] = 90
    >>> piecewise_hazard(x)[["period", "events", "exposure_months", "hazard"]].round(4)
                       period  events  exposure_months  hazard
    0  before the loss window       1              5.0  0.1813
    1   after the loss window       1              5.0  0.1813
    """
    _require(exposure, ["exposure_before_days", "exposure_after_days", "events_before", "events_after"],
             "subscriber exposure")
    w = exposure.attrs.get("loss_window_days")
    days = [f"0-{w - 1:g}" if w is not None else "under the window", f"{w:g}+" if w is not None else "window or more"]
    rows = []
    for piece in ("before", "after"):
        exp_days = exposure[f"exposure_{piece}_days"]
        rows.append({"period": f"{piece} the loss window", "customers": int((exp_days > 0).sum()),
                     "events": int(exposure[f"events_{piece}"].sum()),
                     "exposure_months": float(exp_days.sum()) / month_days})
    out = pd.DataFrame(rows)
    out.insert(1, "days_since_purchase", days)
    k, m = out["events"].to_numpy(dtype=float), out["exposure_months"].to_numpy(dtype=float)
    low, high = poisson_rate_ci(k, m, level=level)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(m > 0, k / np.where(m > 0, m, 1), np.nan)
    out["hazard"] = -np.expm1(-rate)
    lo_col, hi_col = ci_columns("hazard")
    out[lo_col], out[hi_col] = -np.expm1(-low), -np.expm1(-high)
    out.attrs = {"units": {"hazard": "share"}, "ci": {"hazard": {"level": level, "method": "exact poisson"}},
                 "loss_window_days": w, "month_days": month_days}
    if exposure.attrs.get("not_counted"):
        out.attrs["caption"] = (f"{exposure.attrs['not_counted']:,} {exposure.attrs.get('event', 'event')} rows not "
                                "counted: no opt-in or purchase before them, or a repeat")
    return out


def unsubscribe_hazard(events: pd.DataFrame, *, orders: pd.DataFrame | None = None, loss_window_days: float = 90,
                       as_of: Any = None, optin_event: str | None = "newsletter_optin", event: str = "unsubscribe",
                       timezone: str | None = None, month_days: float = MONTH_DAYS,
                       level: float = 0.95) -> pd.DataFrame:
    """The monthly unsubscribe hazard under and over the loss window (see :func:`piecewise_hazard`).

    :func:`subscriber_exposure` then :func:`piecewise_hazard`; read the two rows as
    :class:`~cjkit.estimate.Estimate` objects with
    ``cjkit.estimate.estimates_in(table, "hazard", n="customers", numerator="events",
    denominator="exposure_months")``.

    Examples
    --------
    >>> ts = pd.to_datetime(["2024-01-01", "2024-01-02", "2024-05-30"], utc=True)
    >>> ev = pd.DataFrame({"customer_id": ["a"] * 3, "timestamp": ts,
    ...                    "event": ["newsletter_optin", "first_purchase", "unsubscribe"]})
    >>> unsubscribe_hazard(ev)[["period", "events", "exposure_months"]]
                       period  events  exposure_months
    0  before the loss window       0         3.000000
    1   after the loss window       1         1.966667
    """
    exposure = subscriber_exposure(events, orders=orders, loss_window_days=loss_window_days, as_of=as_of,
                                   optin_event=optin_event, event=event, timezone=timezone)
    return piecewise_hazard(exposure, month_days=month_days, level=level)
