"""Lists a team acts on: detractors to call back, promoters to invite to refer friends.

Two tactics of seed 000 turn the NPS into work:

* **Detractors & decrease attrition** -- find the detractors, learn what went wrong and
  win back the valuable ones (compensation after a late or faulty delivery, an incentive
  after a bad first purchase). :func:`detractors_to_follow_up` lists the customers whose
  latest answer is a detractor's, most valuable first, with the last touchpoint before the
  answer (where it went wrong) and the comment.
* **Referrals** and **Brand lovers** -- reward engaged customers for bringing new leads (a
  code that benefits both sides) and quote the promoters' own words. :func:`promoters_to_invite`
  lists the customers whose latest answer is a promoter's, most valuable first, with their
  comment and whether they already sent a referral.

Only each customer's **latest** answer counts: someone who was a detractor last year and a
promoter last week is not called back. Write the lists with :func:`cjkit.export_csv`
(formula-safe: comments are client text).
"""
from __future__ import annotations

import pandas as pd

from .nps import PASSIVE_MIN, PROMOTER_MIN, nps_category
from .segments import customer_value, last_touchpoint

__all__ = ["latest_answers", "detractors_to_follow_up", "promoters_to_invite"]

_OPTIONAL = ["stage", "ces", "csat", "comment"]


def latest_answers(surveys: pd.DataFrame, *, promoter_min: int = PROMOTER_MIN,
                   passive_min: int = PASSIVE_MIN) -> pd.DataFrame:
    """Each customer's latest answer with an NPS score, and its ``category``.

    Examples
    --------
    >>> s = pd.DataFrame({"customer_id": ["a", "a", "b"], "nps": [2, 10, 5],
    ...                   "answered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15"])})
    >>> latest_answers(s)[["customer_id", "nps", "category"]].values.tolist()
    [['a', 10, 'promoter'], ['b', 5, 'detractor']]
    """
    answered = surveys[surveys["nps"].notna()]
    latest = (answered.sort_values(["customer_id", "answered_at"], kind="stable")
              .drop_duplicates("customer_id", keep="last").reset_index(drop=True))
    latest["category"] = nps_category(latest["nps"], promoter_min=promoter_min, passive_min=passive_min).astype(str)
    return latest


def _enrich(latest: pd.DataFrame, *, orders: pd.DataFrame | None, events: pd.DataFrame | None,
            customers: pd.DataFrame | None) -> pd.DataFrame:
    out = last_touchpoint(latest, events)
    keep = ["customer_id", "answered_at", "nps", *[c for c in _OPTIONAL if c in out.columns],
            "touchpoint", "touchpoint_event", "touchpoint_at"]
    out = out[keep]
    if customers is not None:
        cols = [c for c in ("persona", "source_channel") if c in customers.columns]
        out = out.merge(customers.drop_duplicates("customer_id")[["customer_id", *cols]], on="customer_id", how="left")
    value = customer_value(orders)
    if orders is not None:
        out = out.merge(value, on="customer_id", how="left")
        out["value"] = out["value"].fillna(0.0)
        out["orders"] = out["orders"].fillna(0).astype("int64")
    return out


def _order(out: pd.DataFrame) -> pd.DataFrame:
    keys = (["value"] if "value" in out.columns else []) + ["answered_at", "customer_id"]
    asc = ([False] if "value" in out.columns else []) + [False, True]
    return out.sort_values(keys, ascending=asc, kind="stable").reset_index(drop=True)


def detractors_to_follow_up(surveys: pd.DataFrame, *, orders: pd.DataFrame | None = None,
                            events: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                            promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN) -> pd.DataFrame:
    """Customers whose latest answer is a detractor's, most valuable first (then most recent).

    Columns: ``customer_id``, ``answered_at``, ``nps``, the answer's ``stage``, ``ces``,
    ``csat`` and ``comment`` when the survey has them, ``touchpoint`` (channel),
    ``touchpoint_event`` and ``touchpoint_at`` of the latest event before the answer
    (``"(none)"`` without events), ``persona`` and ``source_channel`` with customers,
    ``value`` (net revenue), ``orders`` and ``last_order_at`` with orders.

    Examples
    --------
    >>> t = pd.to_datetime
    >>> s = pd.DataFrame({"customer_id": ["a", "b", "c"], "nps": [3, 6, 10], "answered_at": t(["2024-02-01"] * 3)})
    >>> o = pd.DataFrame({"customer_id": ["a", "b"], "amount": [20.0, 90.0], "ordered_at": t(["2024-01-20"] * 2)})
    >>> detractors_to_follow_up(s, orders=o)[["customer_id", "nps", "value"]].values.tolist()
    [['b', 6, 90.0], ['a', 3, 20.0]]
    """
    latest = latest_answers(surveys, promoter_min=promoter_min, passive_min=passive_min)
    latest = latest[latest["category"] == "detractor"]
    return _order(_enrich(latest, orders=orders, events=events, customers=customers))


def promoters_to_invite(surveys: pd.DataFrame, *, orders: pd.DataFrame | None = None,
                        events: pd.DataFrame | None = None, customers: pd.DataFrame | None = None,
                        promoter_min: int = PROMOTER_MIN, passive_min: int = PASSIVE_MIN) -> pd.DataFrame:
    """Customers whose latest answer is a promoter's, most valuable first (then most recent).

    The columns of :func:`detractors_to_follow_up`, plus ``referrals_sent`` (their
    ``referral_sent`` events, with an events table): a promoter who never referred anyone is
    the first to invite; one who already does is a brand lover to quote.

    Examples
    --------
    >>> t = pd.to_datetime
    >>> s = pd.DataFrame({"customer_id": ["a", "b"], "nps": [9, 10], "answered_at": t(["2024-02-01"] * 2)})
    >>> e = pd.DataFrame({"customer_id": ["a"], "timestamp": t(["2024-02-03"]), "channel": ["referral"],
    ...                   "event": ["referral_sent"]})
    >>> promoters_to_invite(s, events=e)[["customer_id", "referrals_sent", "touchpoint"]].values.tolist()
    [['a', 1, '(none)'], ['b', 0, '(none)']]
    """
    latest = latest_answers(surveys, promoter_min=promoter_min, passive_min=passive_min)
    latest = latest[latest["category"] == "promoter"]
    out = _enrich(latest, orders=orders, events=events, customers=customers)
    if events is not None:
        sent = events.loc[events["event"] == "referral_sent", "customer_id"].value_counts()
        out["referrals_sent"] = out["customer_id"].map(sent).fillna(0).astype("int64")
    return _order(out)
