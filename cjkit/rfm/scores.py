"""RFM scores 1-5 that respect ties, and the seed's three-level labels.

**The tie rule.** Most customers buy once, so the number of orders is one value for half
the base or more; an ordinary quintile cut would either give equal customers different
scores (ranking them "first come, first scored") or fail. The kit scores a customer by the
share of customers who are strictly *worse* on the variable::

    score = 1 + floor(n * share of customers with a worse value)

All customers with one value share one score (they have the same share below them); the
worst value always scores 1 and no score exceeds ``n``; without ties the scores are plain
quantiles (each score holds a fifth of the customers). A block of tied customers gets the
score of the quantile where the block *starts*: if 60% of customers bought once, they all
score F = 1 and customers with two orders start at 60%, so they score 1 + floor(5 * 0.6) = 4.
Scores 2 and 3 are then simply unused -- the tie is in the data, not in the rule.

For recency a shorter time since the last order is better: the worse customers are those
whose last order is older.

**The seed's labels** (seed 000, customer value segmentation): recency short / medium /
long, frequency often / regular / casual, monetary spender / average / saver. They are the
same rule with ``n = 3`` (thirds instead of fifths), read from :func:`cjkit.catalog.rfm_labels`.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cjkit import catalog

__all__ = ["tie_scores", "score_rfm", "label_rfm", "SCORED_COLUMNS"]

#: variable -> column of :func:`cjkit.rfm.rfm_table` it is scored on, and whether higher is better
SCORED_COLUMNS = {"recency": ("recency_days", False), "frequency": ("orders", True),
                  "monetary": ("total_spend", True)}


def tie_scores(values, *, n: int = 5, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1..n from the share of values strictly worse: ``1 + floor(n * share_worse)``.

    Equal values always get equal scores; the worst value scores 1; without ties the scores
    are the n quantile groups. Missing values are an error (score complete data).

    Parameters
    ----------
    values : array-like of numbers
    n : int
        Number of scores (5 for RFM scores, 3 for the seed's labels).
    higher_is_better : bool
        False for recency in days (a smaller value is better and scores higher).

    Returns
    -------
    ndarray of int64, same length as ``values``.

    Examples
    --------
    Ten customers, six bought once: the six share score 1, the two with 2 orders have 6 of
    10 below them (1 + floor(5 * 0.6) = 4), 3 orders has 8 below (5), 7 orders has 9 (5).

    >>> tie_scores([1, 1, 1, 1, 1, 1, 2, 2, 3, 7]).tolist()
    [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    >>> tie_scores([10, 20, 30, 40, 50]).tolist()          # no ties: quintiles
    [1, 2, 3, 4, 5]
    >>> tie_scores([3, 40, 3, 100], higher_is_better=False).tolist()  # days since last order
    [3, 2, 3, 1]
    """
    x = np.asarray(values, dtype=np.float64)
    if not n >= 1:
        raise ValueError(f"n must be a positive number of scores, got {n!r}")
    if np.isnan(x).any():
        raise ValueError(f"{int(np.isnan(x).sum()):,} of {len(x):,} values are missing; scores need every value")
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64)
    if not higher_is_better:
        x = -x
    worse = np.searchsorted(np.sort(x), x, side="left")        # how many values are strictly lower
    return (1 + np.floor(n * worse / len(x))).astype(np.int64)


def score_rfm(rfm: pd.DataFrame, *, n: int = 5) -> pd.DataFrame:
    """R, F and M scores 1..n of an :func:`cjkit.rfm.rfm_table` (see the tie rule above).

    R from ``recency_days`` (fewer days scores higher), F from ``orders``, M from
    ``total_spend``. Returns ``r_score``, ``f_score``, ``m_score`` (int), ``rfm_cell`` (the
    three digits, e.g. ``"545"``) and ``rfm_score`` (their sum, 3..3n), on the same index.

    Examples
    --------
    >>> import pandas as pd
    >>> rfm = pd.DataFrame({"recency_days": [3, 40, 3, 100], "orders": [4, 1, 1, 1],
    ...                     "total_spend": [200.0, 50.0, 20.0, 50.0]}, index=list("abcd"))
    >>> score_rfm(rfm)[["r_score", "f_score", "m_score", "rfm_cell"]]
       r_score  f_score  m_score rfm_cell
    a        3        4        4      344
    b        2        1        2      212
    c        3        1        1      311
    d        1        1        2      112
    """
    out = pd.DataFrame(index=rfm.index)
    for var, (column, higher) in SCORED_COLUMNS.items():
        if column not in rfm.columns:
            raise KeyError(f"the RFM table has no column {column!r}: score the output of cjkit.rfm.rfm_table")
        out[f"{var[0]}_score"] = tie_scores(rfm[column], n=n, higher_is_better=higher)
    digits = out[["r_score", "f_score", "m_score"]].astype(str)
    out["rfm_cell"] = digits["r_score"] + digits["f_score"] + digits["m_score"]
    out["rfm_score"] = out["r_score"] + out["f_score"] + out["m_score"]
    return out


def label_rfm(rfm: pd.DataFrame) -> pd.DataFrame:
    """The seed's three-level labels and its one-, two- and three-variable segments.

    Each variable is cut into thirds with the same tie rule (``n = 3``): the best third is
    labelled ``short`` / ``often`` / ``spender`` (rank 1 in :func:`cjkit.catalog.rfm_labels`),
    the worst ``long`` / ``casual`` / ``saver``.

    Returns ``r_label``, ``f_label``, ``m_label`` (ordered categoricals, best first), the
    two-variable segments ``rf_label``, ``fm_label``, ``rm_label`` ("short-often") and the
    three-variable ``rfm_label`` ("short-often-spender"), on the same index.

    Examples
    --------
    >>> import pandas as pd
    >>> rfm = pd.DataFrame({"recency_days": [3, 40, 100], "orders": [4, 2, 1],
    ...                     "total_spend": [200.0, 50.0, 60.0]}, index=list("abc"))
    >>> label_rfm(rfm)[["r_label", "f_label", "m_label", "rfm_label"]]
      r_label f_label  m_label            rfm_label
    a   short   often  spender  short-often-spender
    b  medium regular    saver  medium-regular-saver
    c    long  casual  average    long-casual-average
    """
    labels = catalog.rfm_labels()
    out = pd.DataFrame(index=rfm.index)
    for var, (column, higher) in SCORED_COLUMNS.items():
        if column not in rfm.columns:
            raise KeyError(f"the RFM table has no column {column!r}: label the output of cjkit.rfm.rfm_table")
        names = labels[labels["variable"] == var].sort_values("rank")["label"].tolist()   # best first
        third = tie_scores(rfm[column], n=3, higher_is_better=higher)                   # 3 = best third
        out[f"{var[0]}_label"] = pd.Categorical.from_codes(3 - third, categories=names, ordered=True)
    text = out.astype(str)
    out["rf_label"] = text["r_label"] + "-" + text["f_label"]
    out["fm_label"] = text["f_label"] + "-" + text["m_label"]
    out["rm_label"] = text["r_label"] + "-" + text["m_label"]
    out["rfm_label"] = out["rf_label"] + "-" + text["m_label"]
    return out
