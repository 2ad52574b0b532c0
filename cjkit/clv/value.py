"""What each customer is worth: probability alive, expected purchases and discounted CLV.

Given a fitted :class:`~cjkit.clv.BGNBD` (how many purchases) and
:class:`~cjkit.clv.GammaGamma` (how much each), the value of a customer over the next
``H`` months is the sum, month by month, of the purchases expected in that month times the
expected value of a purchase, each month discounted at the monthly rate ``d``::

    CLV = sum_{k=1..H} margin * E[M] * (E[X(k months)] - E[X(k-1 months)]) / (1 + d)^k

This is the sum lifetimes' ``customer_lifetime_value`` computes; the difference is the
unit. Here a month is :data:`~cjkit.clv.units.MONTH_DAYS` days turned into the model's own
time unit (the ``freq`` it was fitted with), so the same customers give the same CLV
whether their summary counts days or weeks. lifetimes' function instead takes ``freq`` as
a separate argument defaulting to days: give it weekly data without ``freq="W"`` and a
12-month horizon becomes 12 x 30 = 360 weeks.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjkit.clv.bgnbd import BGNBD
from cjkit.clv.gamma_gamma import GammaGamma
from cjkit.clv.units import MONTH_DAYS, units_per_month

__all__ = ["customer_value", "discounted_clv", "VALUE_COLUMNS"]

#: columns :func:`customer_value` adds
VALUE_COLUMNS = ("probability_alive", "expected_purchases", "expected_value", "clv")


def _months(horizon_months: Any) -> int:
    if isinstance(horizon_months, bool) or not float(horizon_months).is_integer() or horizon_months < 1:
        raise ValueError(f"horizon_months must be a whole number of months >= 1, got {horizon_months!r}")
    return int(horizon_months)


def _discount(monthly_discount: float) -> float:
    if not (isinstance(monthly_discount, (int, float)) and 0 <= monthly_discount < 1):
        raise ValueError(f"monthly_discount must be a rate between 0 and 1 (0.01 = 1% a month), got {monthly_discount!r}")
    return float(monthly_discount)


def discounted_clv(bgnbd: BGNBD, summary: Any, value_per_purchase: Any, *, horizon_months: int = 12,
                   monthly_discount: float = 0.01, days_per_month: float = MONTH_DAYS) -> np.ndarray:
    """Discounted value of each customer's expected purchases over ``horizon_months`` months.

    ``value_per_purchase``: one number per customer (e.g. from
    :meth:`GammaGamma.expected_average_value`, times a margin). The months are converted to
    the model's time unit (``bgnbd.freq_``, ``bgnbd.freq_multiplier_``).

    Examples
    --------
    With r = alpha = 1, a = b = 2 (time in days), a one-time buyer seen for T = 30 days,
    worth 100 a purchase. For x = 0, eq. 10 is (a+b-1)/(a-1) [1 - 2F1(r, b; a+b-1; z)
    (alpha+T)/(alpha+T+t)] with z = t/(alpha+T+t) = 30/61, and 2F1(1, 2; 3; z) =
    2 (-ln(1-z) - z) / z^2 = 1.53043, so the next 30 days bring 3 (1 - 1.53043 x 31/61) =
    0.66672 purchases: one month is worth 66.67 undiscounted, 66.67 / 1.1 = 60.61 at 10%.

    >>> m = BGNBD(); m.params_ = pd.Series({"r": 1.0, "alpha": 1.0, "a": 2.0, "b": 2.0})
    >>> m.freq_, m.freq_multiplier_ = "D", 1
    >>> s = pd.DataFrame({"frequency": [0], "recency": [0.0], "T": [30.0]})
    >>> round(float(m.conditional_expected_purchases(30.0, s)[0]), 4)
    0.6667
    >>> round(float(discounted_clv(m, s, [100.0], horizon_months=1, monthly_discount=0.0)[0]), 2)
    66.67
    >>> round(float(discounted_clv(m, s, [100.0], horizon_months=1, monthly_discount=0.1)[0]), 2)
    60.61
    """
    months = _months(horizon_months)
    rate = _discount(monthly_discount)
    unit = units_per_month(bgnbd.freq_, bgnbd.freq_multiplier_, days_per_month=days_per_month)
    value = np.asarray(value_per_purchase, dtype="float64")
    total = 0.0
    before = 0.0
    for k in range(1, months + 1):
        upto = bgnbd.conditional_expected_purchases(k * unit, summary)
        total = total + value * (upto - before) / (1 + rate) ** k
        before = upto
    return np.asarray(total, dtype="float64") * np.ones(len(value))


def customer_value(summary: pd.DataFrame, bgnbd: BGNBD, gamma_gamma: GammaGamma | None = None, *,
                   horizon_months: int = 12, monthly_discount: float = 0.01, margin: float = 1.0,
                   days_per_month: float = MONTH_DAYS) -> pd.DataFrame:
    """The summary with each customer's value columns added (a new frame; the input is unchanged).

    Parameters
    ----------
    summary : DataFrame
        One row per customer with ``frequency``, ``recency``, ``T`` (in the unit the BG/NBD
        model was fitted in) and ``monetary_value`` (needed with ``gamma_gamma``).
    bgnbd, gamma_gamma : fitted models
        Without a usable Gamma-Gamma model ``expected_value`` and ``clv`` are NaN.
    horizon_months : int
        Months ahead; a month is ``days_per_month`` days whatever the data's time unit.
    monthly_discount : float
        Discount rate per month (0.01: money next month is worth 1% less than today).
    margin : float
        Share of a purchase's value that is profit (1.0: CLV in revenue).

    Returns
    -------
    DataFrame
        The summary's columns plus ``probability_alive``, ``expected_purchases`` (over the
        horizon, not discounted), ``expected_value`` (per purchase) and ``clv``
        (discounted, times ``margin``); ``attrs["units"]`` says which is what.
    """
    months = _months(horizon_months)
    _discount(monthly_discount)
    out = summary.copy()
    if not bgnbd.usable_:
        for col in VALUE_COLUMNS:
            out[col] = np.nan
    else:
        unit = units_per_month(bgnbd.freq_, bgnbd.freq_multiplier_, days_per_month=days_per_month)
        out["probability_alive"] = bgnbd.probability_alive(summary)
        out["expected_purchases"] = bgnbd.conditional_expected_purchases(months * unit, summary)
        if gamma_gamma is not None and gamma_gamma.usable_:
            out["expected_value"] = gamma_gamma.expected_average_value(summary)
            out["clv"] = margin * discounted_clv(bgnbd, summary, out["expected_value"].to_numpy(),
                                                 horizon_months=months, monthly_discount=monthly_discount,
                                                 days_per_month=days_per_month)
        else:
            out["expected_value"] = np.nan
            out["clv"] = np.nan
    currency = getattr(gamma_gamma, "currency_", "") if gamma_gamma is not None else ""
    money = f"{currency} " if currency else ""
    out.attrs = {"units": {"probability_alive": "share", "expected_purchases": f"purchases in {months} months",
                           "expected_value": f"{money}per purchase".strip(),
                           "clv": f"{money}over {months} months, discounted {monthly_discount:.1%}/month"}}
    return out
