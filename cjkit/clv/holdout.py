"""Calibration and holdout: fit on the past, predict a period the model has not seen, compare.

The data is cut at ``calibration_end``: a model is fitted on the customers' summaries up to
then (the calibration period) and predicts each customer's repeat purchases in the rest of
the data (the holdout period, ``duration_holdout`` time units long). The comparison by
number of calibration purchases -- mean actual against mean predicted purchases in the
holdout -- is lifetimes' ``plot_calibration_purchases_vs_holdout_purchases``: a model that
fits follows the actual means across the groups, not only in total.

Only customers who had bought by ``calibration_end`` are followed; customers first seen in
the holdout are new, not predicted, and are counted in ``attrs["report"]``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjkit.clv.bgnbd import BGNBD

__all__ = ["calibration_holdout", "holdout_comparison", "holdout_totals", "default_calibration_end"]


def default_calibration_end(first: Any, last: Any, *, max_holdout_days: int = 182) -> pd.Timestamp | None:
    """The last calibration day: a quarter of the period from ``first`` to ``last`` (at most
    ``max_holdout_days`` days) is held out; None when fewer than 8 days leave nothing to hold out.

    >>> str(default_calibration_end("2024-01-01", "2025-12-31").date())  # 182 days held out
    '2025-07-02'
    >>> str(default_calibration_end("2024-01-01", "2024-04-30").date())  # 121 days: 30 held out
    '2024-03-31'
    >>> default_calibration_end("2024-01-01", "2024-01-07") is None  # one week: nothing to hold out
    True
    """
    first, last = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
    days = (last - first).days + 1
    if days < 8:
        return None
    hold = min(days // 4, max_holdout_days)
    return last - pd.Timedelta(days=hold)


def calibration_holdout(orders: pd.DataFrame, *, calibration_end: Any, observation_end: Any = None,
                        freq: str = "D", freq_multiplier: float = 1, timezone: str | None = None,
                        customer_col: str = "customer_id") -> pd.DataFrame:
    """Calibration summaries with each customer's repeat purchase periods in the holdout.

    Both summaries come from :func:`cjkit.rfm.summary_data` with the same options (so returns
    and zero-value orders are treated alike); ``frequency_holdout`` is the difference of the
    two frequencies (periods with a purchase after the calibration period), and
    ``duration_holdout`` the holdout's length in the summary's time unit, as in lifetimes'
    ``calibration_and_holdout_data``.

    Returns
    -------
    DataFrame
        Indexed by customer (those who bought by ``calibration_end``): ``frequency``,
        ``recency``, ``T``, ``monetary_value`` (calibration), ``frequency_holdout``,
        ``duration_holdout``. ``attrs["report"]``: ``customers``, ``new_in_holdout``.

    Examples
    --------
    a buys on Jan 1, 3 and 8, b on Jan 2 and 9, c first on Jan 9; calibration up to Jan 5,
    holdout to Jan 10 (5 days):

    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b", "c"], "amount": [10.0] * 6,
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-08", "2024-01-02", "2024-01-09",
    ...                                   "2024-01-09"])})
    >>> t = calibration_holdout(orders, calibration_end="2024-01-05", observation_end="2024-01-10")
    >>> t[["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]]
                 frequency  recency    T  frequency_holdout  duration_holdout
    customer_id
    a                  1.0      2.0  4.0                1.0               5.0
    b                  0.0      0.0  3.0                1.0               5.0
    >>> t.attrs["report"]
    {'customers': 2, 'new_in_holdout': 1}
    """
    from cjkit.rfm import summary_data

    options = dict(freq=freq, freq_multiplier=freq_multiplier, timezone=timezone, customer_col=customer_col)
    cal = summary_data(orders, as_of=calibration_end, **options)
    full = summary_data(orders, as_of=observation_end, **options)
    if not len(cal):
        raise ValueError(f"no customer bought by the end of the calibration period ({calibration_end}): "
                         "choose a later calibration_end")
    out = cal.copy()
    later = full.reindex(cal.index)
    out["frequency_holdout"] = later["frequency"] - cal["frequency"]
    out["duration_holdout"] = later["T"] - cal["T"]
    if (out["duration_holdout"] <= 0).any():
        raise ValueError(f"the holdout period is empty: observation_end ({observation_end}) must be after "
                         f"calibration_end ({calibration_end})")
    out.attrs = {"report": {"customers": len(cal), "new_in_holdout": int(len(full) - len(cal))},
                 "calibration_end": str(calibration_end), "observation_end": str(full.attrs.get("as_of", "")),
                 "freq": freq, "freq_multiplier": freq_multiplier}
    return out


def holdout_comparison(model: BGNBD, calibration: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Mean actual and predicted holdout purchases by number of calibration repeat purchases.

    Customers with ``max_frequency`` or more repeat purchases share the last row
    (``frequency`` = ``max_frequency``, labelled ``"7+"``).

    Returns
    -------
    DataFrame
        ``frequency`` (int), ``label``, ``customers``, ``actual`` (mean holdout purchases),
        ``predicted`` (mean expected by the model), ``actual_total``, ``predicted_total``.
    """
    predicted = model.conditional_expected_purchases(calibration["duration_holdout"].to_numpy(), calibration)
    group = np.minimum(calibration["frequency"].to_numpy(), max_frequency).astype(int)
    frame = pd.DataFrame({"frequency": group, "actual": calibration["frequency_holdout"].to_numpy(),
                          "predicted": predicted})
    out = frame.groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                         predicted=("predicted", "mean"), actual_total=("actual", "sum"),
                                         predicted_total=("predicted", "sum")).reset_index()
    out.insert(1, "label", [f"{f}+" if f == max_frequency else str(f) for f in out["frequency"]])
    out.attrs["units"] = {"actual": "purchases per customer", "predicted": "purchases per customer"}
    out.attrs["caption"] = "Repeat purchases in the holdout period, by repeat purchases in the calibration period"
    return out


def holdout_totals(comparison: pd.DataFrame) -> dict[str, float]:
    """Total actual and predicted holdout purchases and their ratio (predicted / actual).

    >>> holdout_totals(pd.DataFrame({"customers": [3, 1], "actual_total": [2.0, 4.0], "predicted_total": [2.5, 4.0]}))
    {'customers': 4, 'actual': 6.0, 'predicted': 6.5, 'ratio': 1.0833333333333333}
    """
    actual = float(comparison["actual_total"].sum())
    predicted = float(comparison["predicted_total"].sum())
    return {"customers": int(comparison["customers"].sum()), "actual": actual, "predicted": predicted,
            "ratio": predicted / actual if actual > 0 else float("nan")}
