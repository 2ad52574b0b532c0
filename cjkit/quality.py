"""The QCQ data rule (seed 002) applied to a client's tables.

A journey analysis is only as good as its data. Seed 002 asks for data that is of good
**Quality**, **Comparable** across the silos it comes from, and both **Qualitative and
Quantitative**. :func:`qcq_checks` turns each letter into measurable checks on a loaded
client, each with a value, a target and a verdict ("pass" or "review").
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from cjkit.contract.text import is_in
from cjkit.estimate import Estimate

if TYPE_CHECKING:  # pragma: no cover
    from cjkit.contract.load import ClientData

#: time column of each table that has one
TIME_COLUMNS = {"customers": "signup_at", "events": "timestamp", "orders": "ordered_at",
                "surveys": "answered_at", "spend": "date"}
KEEP_TARGET = 0.99      # share of rows read that must survive loading
LINK_TARGET = 0.99      # share of rows whose customer_id is in the customers table
OVERLAP_TARGET = 0.80   # common period / whole period across the dated tables


COLUMNS = ["rule", "check", "value", "unit", "ci_low", "ci_high", "n", "target", "verdict"]


def _check(rule: str, check: str, value: float | int | None, target: str, ok: bool | None, *,
           unit: str = "count", est: Estimate | None = None) -> dict:
    """One row; a share of counts comes as an Estimate (with its Wilson interval)."""
    verdict = "n/a" if ok is None else ("pass" if ok else "review")
    if est is not None:
        value, unit = est.value, "share"
    return {"rule": rule, "check": check, "value": value, "unit": unit,
            "ci_low": est.ci_low if est else None, "ci_high": est.ci_high if est else None,
            "n": est.n if est else None, "target": target, "verdict": verdict}


def _quality(summary: pd.DataFrame, findings: pd.DataFrame) -> list[dict]:
    read, kept = int(summary["rows_read"].sum()), int(summary["rows_kept"].sum())
    share = Estimate.proportion(kept, read)
    errors, warnings = int(summary["errors"].sum()), int(summary["warnings"].sum())
    return [
        _check("Quality", "share of rows kept after validation", None,
               f">= {KEEP_TARGET:.0%}", None if share.value is None else share.value >= KEEP_TARGET, est=share),
        _check("Quality", "validation errors", errors, "0", errors == 0),
        _check("Quality", "warnings to review", warnings, "0", warnings == 0),
        _check("Quality", "kinds of fix applied while loading (see the load report)",
               int((findings["severity"] == "fix").sum()), "reported", None),
    ]


def _comparable(tables: dict[str, pd.DataFrame]) -> list[dict]:
    rows = []
    customers = tables.get("customers")
    for name in ("events", "orders", "surveys"):
        table = tables.get(name)
        if table is None or customers is None or table.empty:
            continue
        share = Estimate.proportion(int(is_in(table["customer_id"], customers["customer_id"]).sum()), len(table))
        rows.append(_check("Comparable", f"{name} rows linked to a known customer", None,
                           f">= {LINK_TARGET:.0%}", share.value >= LINK_TARGET, est=share))
    spans = {name: (t[col].min(), t[col].max()) for name, col in TIME_COLUMNS.items()
             if (t := tables.get(name)) is not None and col in t and t[col].notna().any()}
    spans.pop("customers", None)  # sign-up dates legitimately start long before activity
    if len(spans) >= 2:
        lo = max(s[0] for s in spans.values())
        hi = min(s[1] for s in spans.values())
        whole = max(s[1] for s in spans.values()) - min(s[0] for s in spans.values())
        overlap = max((hi - lo) / whole, 0.0) if whole > pd.Timedelta(0) else 1.0
        rows.append(_check("Comparable", "common period of the dated tables", float(overlap),  # of durations: no CI
                           f">= {OVERLAP_TARGET:.0%}", overlap >= OVERLAP_TARGET, unit="share"))
    orders = tables.get("orders")
    if orders is not None and "currency" in orders:
        n = int(orders["currency"].nunique())
        rows.append(_check("Comparable", "currencies in orders", n, "1", n <= 1))
    return rows


def _qual_quant(tables: dict[str, pd.DataFrame]) -> list[dict]:
    quantitative = [n for n in ("events", "orders", "spend") if tables.get(n) is not None]
    surveys = tables.get("surveys")
    comments = None
    if surveys is not None and "comment" in surveys:
        text = surveys["comment"].astype("string").str.strip()
        comments = Estimate.proportion(int((text.notna() & text.ne("")).sum()), len(surveys))
    ok = None if comments is None else bool(comments.numerator)
    return [
        _check("Qualitative + Quantitative", "behavioural tables (events, orders, spend)",
               len(quantitative), ">= 1", len(quantitative) >= 1),
        _check("Qualitative + Quantitative", "survey answers with a written comment",
               None, "> 0%", ok, unit="share", est=comments),
    ]


def qcq_checks(data: ClientData) -> pd.DataFrame:
    """Measure a loaded client against the QCQ rule.

    Parameters
    ----------
    data : ClientData
        A client returned by :func:`cjkit.load_client`.

    Returns
    -------
    DataFrame
        One row per check: ``rule`` (Quality, Comparable, Qualitative + Quantitative),
        ``check``, ``value``, ``unit`` ("share" or "count"), ``ci_low`` / ``ci_high`` / ``n``
        (the 95% Wilson interval of a share of counted rows), ``target``, ``verdict``
        ("pass", "review", or "n/a" when the client lacks the tables a check needs or the
        check is informative only).
    """
    tables = {name: t for name, t in data.tables.items() if t is not None}
    report = data.report
    rows = _quality(report.summary_frame(), report.to_frame()) + _comparable(tables) + _qual_quant(tables)
    out = pd.DataFrame(rows, columns=COLUMNS).astype({"value": "float64", "ci_low": "float64", "ci_high": "float64",
                                                      "n": "Int64"})
    out.attrs["units"] = {}  # per row: the table style reads the unit column
    return out
