"""Unit economics per channel: ARPU, margin, churn-based lifetime, CLTV, CAC and payback.

The rule-of-thumb CLTV of seed 002 needs no model: a buyer who brings ``ARPU`` a month, of
which a share ``margin`` is profit, and who leaves with a monthly probability ``churn``,
stays on average ``1 / churn`` months and is worth ``ARPU x margin / churn``. Against it
stands what it cost to win them, the ``CAC``; the **payback** is the months of margin that
pay it back, ``CAC / (ARPU x margin)``, and ``CLTV / CAC`` says how many times over.

Nothing is computed twice: ARPU (``arpu_active``), the monthly churn rate (``churn_rate``),
``cltv`` and ``cac`` are the KPIs of :mod:`cjkit.kpis` (catalogue ``kpis.yaml``), with
their intervals; this module puts them side by side per channel and adds the lifetime,
the payback and the ratio.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjkit.kpis import LOSS_WINDOW_DAYS, MARGIN, available_segments, kpi_table

__all__ = ["unit_economics", "ECONOMICS_KPIS"]

#: the KPIs unit economics is made of (ids of cjkit.catalog.kpis)
ECONOMICS_KPIS = ("arpu_active", "churn_rate", "cltv", "cac")


def unit_economics(data: Any, *, by: str | None = "channel", margin: float = MARGIN,
                   loss_window_days: int = LOSS_WINDOW_DAYS, currency: str | None = None,
                   timezone: str | None = None) -> pd.DataFrame:
    """ARPU, churn, lifetime, CLTV, CAC, payback and CLTV/CAC, overall and per group.

    Parameters
    ----------
    data : ClientData or mapping of str to DataFrame
        A loaded client or canonical tables; orders are required, spend for CAC.
    by : str, optional
        A segment of :data:`cjkit.kpis.SEGMENTS` (default ``"channel"``: the customer's first
        channel, spend by its own channel). Skipped (overall row only) when the client's
        tables cannot provide it; None: overall only.
    margin : float
        Gross margin, the share of revenue that is profit.

    Returns
    -------
    DataFrame
        One row for ``"all"`` then one per group: ``group``, ``arpu`` (revenue per active buyer
        per month), ``churn_rate`` (monthly), ``lifetime_months`` (``1 / churn_rate``),
        ``cltv`` (``arpu x margin / churn_rate``, with ``cltv_ci_low``/``cltv_ci_high``),
        ``cac``, ``payback_months`` (``cac / (arpu x margin)``) and ``cltv_to_cac``. Missing
        inputs (no spend: no CAC) give NaN, named in ``attrs["caption"]``.

    Examples
    --------
    Buyer a orders on Jan 10 (60), Feb 15 (40) and Mar 31 (20); b once on Jan 12 (30). With a
    30-day loss window the buyer-months active at their start are a-Feb, a-Mar and b-Feb, and
    only b lapses: churn 1/3 a month (a lifetime of 3 months), ARPU (40 + 20 + 0) / 3 = 20.
    With a 50% margin CLTV = 20 x 0.5 / (1/3) = 30. Spend of 50 over the two days of first
    orders gives CAC = 25, paid back in 25 / (20 x 0.5) = 2.5 months:

    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "order_id": ["1", "2", "3", "4"],
    ...     "ordered_at": pd.to_datetime(["2024-01-10", "2024-02-15", "2024-03-31", "2024-01-12"], utc=True),
    ...     "amount": [60.0, 40.0, 20.0, 30.0]})
    >>> spend = pd.DataFrame({"date": pd.to_datetime(["2024-01-10", "2024-01-12"]), "channel": ["x", "x"],
    ...                       "spend": [25.0, 25.0]})
    >>> t = unit_economics({"orders": orders, "spend": spend}, by=None, margin=0.5, loss_window_days=30)
    >>> t[["group", "arpu", "churn_rate", "lifetime_months"]].round(4)
      group  arpu  churn_rate  lifetime_months
    0   all  20.0      0.3333              3.0
    >>> t[["cltv", "cac", "payback_months", "cltv_to_cac"]].round(4)
       cltv   cac  payback_months  cltv_to_cac
    0  30.0  25.0             2.5          1.2
    """
    if not 0 < margin <= 1:
        raise ValueError(f"margin must be a share between 0 and 1 (0.3 = 30% of revenue is profit), got {margin!r}")
    options = dict(margin=margin, loss_window_days=loss_window_days, currency=currency, timezone=timezone,
                   missing="skip")
    overall = kpi_table(data, list(ECONOMICS_KPIS), **options).assign(group="all")
    parts, notes = [overall], dict(overall.attrs.get("skipped", {}))
    if by is not None:
        if by in available_segments(data):
            split = kpi_table(data, list(ECONOMICS_KPIS), by=by, **options)
            parts.append(split.assign(group=split[by].astype(str)).drop(columns=[by]))
            notes.update(split.attrs.get("skipped", {}))
        else:
            notes[f"by {by}"] = "the client's tables do not provide it"
    long = pd.concat(parts, ignore_index=True)
    groups = list(dict.fromkeys(long["group"]))

    def column(kpi: str, field: str = "value") -> pd.Series:
        rows = long[long["kpi"] == kpi].set_index("group")[field]
        return rows.reindex(groups).astype("float64")
    out = pd.DataFrame({"group": groups})
    arpu, churn, cac = column("arpu_active").to_numpy(), column("churn_rate").to_numpy(), column("cac").to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["arpu"] = arpu
        out["margin"] = margin
        out["churn_rate"] = churn
        out["lifetime_months"] = np.where(churn > 0, 1 / churn, np.nan)
        out["cltv"] = column("cltv").to_numpy()
        out["cltv_ci_low"] = column("cltv", "ci_low").to_numpy()
        out["cltv_ci_high"] = column("cltv", "ci_high").to_numpy()
        out["cac"] = cac
        out["payback_months"] = np.where(arpu * margin > 0, cac / (arpu * margin), np.nan)
        out["cltv_to_cac"] = np.where(cac > 0, out["cltv"].to_numpy() / cac, np.nan)
        out["buyers_months"] = column("churn_rate", "n").to_numpy()
    unit = long.loc[long["kpi"] == "cltv", "unit"]
    money = unit.iloc[0].split(" per ")[0] if len(unit) else ""
    out.attrs["units"] = {"arpu": f"{money} per active buyer per month".strip(), "margin": "share",
                          "churn_rate": "share", "lifetime_months": "months", "cltv": f"{money} per customer".strip(),
                          "cac": f"{money} per new customer".strip(), "payback_months": "months",
                          "cltv_to_cac": "times", "buyers_months": "buyer-months"}
    if notes:
        out.attrs["caption"] = "Not computed: " + "; ".join(f"{k} ({v})" for k, v in notes.items())
    out.attrs["skipped"] = notes
    return out
