"""Survey answers in context: who answered (segments), what they touched last, what they are worth.

* :func:`attach_segments` -- customer columns (acquisition channel, persona) and any other
  per-customer label (an RFM segment) joined onto the answers;
* :func:`nps_by_segment` -- the NPS of every group of several segments in one long table;
* :func:`last_touchpoint` -- the channel and event of each answer's latest earlier event;
* :func:`customer_value` -- net revenue and orders per customer (the value in the lists);
* :func:`answers_excluded` -- what the load and the missing answers took out of the NPS.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .nps import PASSIVE_MIN, PROMOTER_MIN, nps_counts, nps_table

__all__ = ["UNKNOWN", "attach_segments", "nps_by_segment", "rfm_segment_labels", "last_touchpoint", "customer_value",
           "answers_excluded"]

#: label of answers whose customer has no value for a segment
UNKNOWN = "(unknown)"


def attach_segments(surveys: pd.DataFrame, *, customers: pd.DataFrame | None = None,
                    columns: Sequence[str] = ("source_channel", "persona"),
                    extra: Mapping[str, pd.Series] | None = None) -> pd.DataFrame:
    """A copy of ``surveys`` with per-customer segments as columns.

    ``columns`` of ``customers`` that exist are joined on ``customer_id``; ``extra`` maps a
    new column name to a Series of labels indexed by ``customer_id`` (e.g. RFM segments).
    Answers of customers without a label get ``"(unknown)"``; ``attrs["unknown"]`` counts them
    per column.

    Examples
    --------
    >>> s = pd.DataFrame({"customer_id": ["a", "b", "z"], "nps": [9, 3, 7]})
    >>> c = pd.DataFrame({"customer_id": ["a", "b"], "source_channel": ["store", "display"]})
    >>> out = attach_segments(s, customers=c, extra={"rfm": pd.Series({"a": "champions"})})
    >>> out[["source_channel", "rfm"]].values.tolist(), out.attrs["unknown"]
    ([['store', 'champions'], ['display', '(unknown)'], ['(unknown)', '(unknown)']], {'source_channel': 1, 'rfm': 2})
    """
    out = surveys.copy()
    unknown: dict[str, int] = {}
    labels: dict[str, pd.Series] = {}
    if customers is not None:
        keyed = customers.drop_duplicates("customer_id").set_index("customer_id")
        labels.update({c: keyed[c] for c in columns if c in keyed.columns})
    labels.update(extra or {})
    for name, series in labels.items():
        values = out["customer_id"].map(series).astype("object")
        unknown[name] = int(values.isna().sum())
        out[name] = values.where(values.notna(), UNKNOWN)
    out.attrs = {**surveys.attrs, "unknown": unknown}
    return out


def nps_by_segment(surveys: pd.DataFrame, segments: Sequence[str], *, promoter_min: int = PROMOTER_MIN,
                   passive_min: int = PASSIVE_MIN, weights: str | None = None, min_answers: int = 1,
                   level: float = 0.95) -> pd.DataFrame:
    """The NPS of each group of each segment column: one long table (``segment``, ``group``, ...).

    ``segments`` are columns of ``surveys`` (``stage``, or those added by
    :func:`attach_segments`); missing ones are skipped. Groups with fewer than
    ``min_answers`` answers are left out (``attrs["hidden"]`` counts them). Columns after
    ``segment`` and ``group`` are those of :func:`~cjkit.voice.nps.nps_table`.

    Examples
    --------
    >>> s = pd.DataFrame({"nps": [10, 9, 3, 8], "stage": ["onboarding"] * 2 + ["engagement"] * 2})
    >>> nps_by_segment(s, ["stage", "persona"])[["segment", "group", "answers", "nps"]].values.tolist()
    [['stage', 'engagement', 2, -50.0], ['stage', 'onboarding', 2, 100.0]]
    """
    parts, hidden = [], 0
    for seg in segments:
        if seg not in surveys.columns:
            continue
        table = nps_table(nps_counts(surveys, by=seg, weights=weights, promoter_min=promoter_min,
                                     passive_min=passive_min), level=level)
        hidden += int((table["answers"] < min_answers).sum())
        table = table[table["answers"] >= min_answers].rename(columns={seg: "group"})
        table.insert(0, "segment", seg)
        table["group"] = table["group"].astype(str)
        parts.append(table)
    if not parts:
        empty = nps_table(nps_counts(surveys.iloc[:0], promoter_min=promoter_min, passive_min=passive_min))
        out = empty.iloc[:0].assign(segment=pd.Series(dtype=str), group=pd.Series(dtype=str))
        out = out[["segment", "group", *empty.columns]]
    else:
        out = pd.concat(parts, ignore_index=True)
    out.attrs = {"units": {**{f"{c}_share": "share" for c in ("detractor", "passive", "promoter")},
                           "nps": "points", "nps_se": "points"},
                 "ci": {"nps": {"level": level, "method": "normal"}}, "hidden": hidden,
                 "caption": "NPS (points) by segment; 95% normal interval of the difference of two shares"}
    return out


def rfm_segment_labels(orders: pd.DataFrame | None, *, timezone: str | None = None) -> pd.Series | None:
    """Each buyer's named RFM segment (:func:`cjkit.rfm.rfm_segments`), indexed by ``customer_id``.

    None without orders. Pass the result to :func:`attach_segments` as
    ``extra={"rfm_segment": labels}`` to put NPS next to the RFM segments.
    """
    if orders is None or not len(orders):
        return None
    from cjkit.rfm import rfm_segments

    table = rfm_segments(orders, timezone=timezone)
    return pd.Series(table["segment"].astype(str).to_numpy(), index=table.index.astype(str), name="rfm_segment")


def last_touchpoint(surveys: pd.DataFrame, events: pd.DataFrame | None) -> pd.DataFrame:
    """A copy of ``surveys`` with the customer's latest event at or before each answer.

    Adds ``touchpoint`` (the event's channel), ``touchpoint_event`` and ``touchpoint_at``;
    answers with no earlier event (or no events table) get ``"(none)"`` and NaT.

    Examples
    --------
    >>> t = pd.to_datetime
    >>> s = pd.DataFrame({"customer_id": ["a", "a", "b"], "answered_at": t(["2024-01-05", "2024-01-02", "2024-01-03"])})
    >>> e = pd.DataFrame({"customer_id": ["a", "a", "b"], "timestamp": t(["2024-01-01", "2024-01-04", "2024-01-09"]),
    ...                   "channel": ["email", "store", "search"], "event": ["email_open", "store_visit", "page_view"]})
    >>> last_touchpoint(s, e)[["touchpoint", "touchpoint_event"]].values.tolist()
    [['store', 'store_visit'], ['email', 'email_open'], ['(none)', '(none)']]
    """
    out = surveys.copy()
    if events is None or not len(events) or not len(surveys):
        out["touchpoint"], out["touchpoint_event"], out["touchpoint_at"] = "(none)", "(none)", pd.NaT
        return out
    left = pd.DataFrame({"customer_id": surveys["customer_id"].astype(str).reset_index(drop=True),
                         "at": surveys["answered_at"].reset_index(drop=True), "row": np.arange(len(surveys))})
    left = left.dropna(subset=["at"]).sort_values("at", kind="stable")
    right = pd.DataFrame({"customer_id": events["customer_id"].astype(str).reset_index(drop=True),
                          "at": events["timestamp"].reset_index(drop=True),
                          "touchpoint": events["channel"].astype(str).reset_index(drop=True),
                          "touchpoint_event": events["event"].astype(str).reset_index(drop=True)})
    right = right.dropna(subset=["at"]).sort_values("at", kind="stable")
    right["touchpoint_at"] = right["at"]
    merged = pd.merge_asof(left, right, on="at", by="customer_id", direction="backward")
    merged = merged.set_index("row").reindex(np.arange(len(surveys)))
    out["touchpoint"] = merged["touchpoint"].fillna("(none)").to_numpy()
    out["touchpoint_event"] = merged["touchpoint_event"].fillna("(none)").to_numpy()
    out["touchpoint_at"] = merged["touchpoint_at"].set_axis(out.index)
    return out


def customer_value(orders: pd.DataFrame | None) -> pd.DataFrame:
    """Per customer: ``value`` (net revenue: amounts of orders and returns added up), ``orders``
    (purchases, returns excluded) and ``last_order_at``. Empty without an orders table.

    Examples
    --------
    >>> o = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [100.0, -20.0, 50.0],
    ...                   "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-02-01"])})
    >>> customer_value(o).values.tolist()[0][:3]
    ['a', 80.0, 1]
    """
    cols = ["customer_id", "value", "orders", "last_order_at"]
    if orders is None or not len(orders):
        return pd.DataFrame(columns=cols)
    returned = orders["amount"] < 0
    if "is_return" in orders.columns:
        returned = returned | orders["is_return"].fillna(False).astype(bool)
    g = orders.assign(_buy=(~returned).astype(int)).groupby("customer_id", sort=True)
    out = pd.DataFrame({"value": g["amount"].sum(), "orders": g["_buy"].sum(),
                        "last_order_at": g["ordered_at"].max()}).reset_index()
    return out[cols]


def answers_excluded(surveys: pd.DataFrame, report: Any = None, *, columns: Sequence[str] = ("nps", "ces", "csat")
                     ) -> pd.DataFrame:
    """Why survey answers are not in a score: the load's findings and the missing answers.

    One row per finding of the load report about ``surveys`` score columns (``rows``
    concerned, ``dropped`` rows removed with ``options.drop_invalid_rows``, the report's
    message), then, per score column, the answers kept without a score (blank or
    "N/A"-like text read as missing), which each score leaves out.

    Examples
    --------
    >>> s = pd.DataFrame({"nps": pd.array([9, None, 3], dtype="Int64"), "ces": pd.array([5, 6, None], dtype="Int64")})
    >>> answers_excluded(s)[["column", "answers", "what"]].values.tolist()
    [['nps', 1, 'kept, no score: left out of this score'], ['ces', 1, 'kept, no score: left out of this score']]
    """
    rows: list[dict[str, Any]] = []
    explained: dict[str, int] = {}  # missing answers the load report already counts, per column
    for p in getattr(report, "items", []) or []:
        if p.table == "surveys" and p.column in columns:
            what = (f"dropped at load ({p.dropped:,} rows)" if p.dropped else
                    "read as missing at load" if p.severity == "fix" else p.severity)
            rows.append({"column": p.column, "answers": int(p.rows), "what": what, "reason": p.message})
            if p.severity == "fix" and not p.dropped:
                explained[p.column] = explained.get(p.column, 0) + int(p.rows)
    for col in columns:
        if col in surveys.columns:
            k = int(surveys[col].isna().sum()) - explained.get(col, 0)  # each missing answer counted once
            if k > 0:
                rows.append({"column": col, "answers": k, "what": "kept, no score: left out of this score",
                             "reason": f"surveys.{col}: {k:,} answers of {len(surveys):,} have no {col}"})
    out = pd.DataFrame(rows, columns=["column", "answers", "what", "reason"])
    out.attrs["caption"] = "Survey answers left out of a score, and why"
    return out
