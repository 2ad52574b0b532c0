"""The steps notebook 07 takes, as functions: fit both models, say what went wrong, build the scores list.

Kept apart from the models so a notebook cell stays a call or two, and so the export a CRM
reads (:func:`customer_scores`) is built the same way by the notebook and by its tests.
"""
from __future__ import annotations

import warnings
import numpy as np
import pandas as pd

from cjkit.clv._mle import CLVWarning
from cjkit.clv.bgnbd import BGNBD
from cjkit.clv.gamma_gamma import GammaGamma

__all__ = ["fit_models", "fit_notes", "customer_scores", "SCORE_COLUMNS", "one_time_buyer"]

#: columns of the customer_scores export, in order
SCORE_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value", "r_score", "f_score", "m_score",
                 "r_label", "f_label", "m_label", "rfm_label", "segment", "probability_alive", "expected_purchases",
                 "expected_value", "clv")


def fit_models(summary: pd.DataFrame, *, freq: str = "D", freq_multiplier: float = 1,
               currency: str = "") -> tuple[BGNBD, GammaGamma]:
    """Fit BG/NBD and Gamma-Gamma on one summary; their problems go to ``problems_``, not to warnings.

    A notebook then shows :func:`fit_notes` as a readable paragraph instead of a warning box.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CLVWarning)
        bg = BGNBD().fit(summary, freq=freq, freq_multiplier=freq_multiplier)
        gg = GammaGamma().fit(summary, currency=currency)
    return bg, gg


def fit_notes(bgnbd: BGNBD, gamma_gamma: GammaGamma | None = None) -> str:
    """Markdown saying whether each model can be trusted and, if not, why (empty when all is well).

    >>> bg = BGNBD(); bg.problems_ = ["only 3 of 40 customers made a repeat purchase"]
    >>> bg.params_ = pd.Series(np.nan, index=["r", "alpha", "a", "b"])
    >>> print(fit_notes(bg))
    **The purchase model (BG/NBD) was not fitted**: only 3 of 40 customers made a repeat purchase. The numbers that depend on it are left blank.
    """
    lines = []
    for name, model, what in (("purchase model (BG/NBD)", bgnbd, "the numbers that depend on it"),
                              ("spend model (Gamma-Gamma)", gamma_gamma, "the values in money")):
        if model is None or not model.problems_:
            continue
        status = "can be used with care" if model.usable_ else "was not fitted"
        if model.usable_ and not model.converged_:
            status = "did not converge cleanly: read its numbers with care"
        tail = "" if model.usable_ else f" {what[0].upper() + what[1:]} are left blank."
        lines.append(f"**The {name} {status}**: {'; '.join(model.problems_)}.{tail}")
    return "\n\n".join(lines)


def customer_scores(values: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """One row per customer for a CRM: the summary, RFM scores, labels and segment, and the CLV columns.

    ``values``: :func:`cjkit.clv.customer_value` indexed by customer id; ``scores``:
    :func:`cjkit.rfm.customer_scores` (same index). Customers missing from ``scores`` keep
    blank RFM columns (none are dropped). Columns: :data:`SCORE_COLUMNS`.
    """
    joined = values.join(scores, how="left", rsuffix="_rfm")
    out = joined.rename_axis("customer_id").reset_index()
    for col in SCORE_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    out = out[list(SCORE_COLUMNS)]
    for col in ("r_label", "f_label", "m_label", "segment"):
        out[col] = out[col].astype(object)
    return out


def one_time_buyer(values: pd.DataFrame) -> pd.Series | None:
    """The one-time buyer of median age (``T``) in a :func:`cjkit.clv.customer_value` table, or None.

    >>> v = pd.DataFrame({"frequency": [0, 0, 0, 2], "T": [10.0, 30.0, 20.0, 5.0]}, index=["a", "b", "c", "d"])
    >>> one_time_buyer(v).name
    'c'
    """
    once = values[values["frequency"] == 0]
    if once.empty:
        return None
    order = once["T"].sort_values(kind="stable")
    return once.loc[order.index[(len(order) - 1) // 2]]

