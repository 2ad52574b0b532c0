"""Named RFM segments, each linked to the six-stage tactics that fit it.

The segments live in ``cjkit/catalog/segments.yaml`` as data: each has a rule on the 1-5
R, F and M scores (:mod:`cjkit.rfm.scores`), a meaning and the tactics of seed 000 that
suit it (champions -> referrals and brand lovers, at risk -> re-engagement and
reactivation, hibernating -> win back...). A customer takes the first segment whose rule
matches; the rules cover every score cell.

:func:`customer_scores` is the per-customer table other notebooks join on
(``customer_id`` index): ``recency_days``, ``orders``, ``total_spend``, ``r_score``,
``f_score``, ``m_score``, ``rfm_cell``, ``r_label``, ``f_label``, ``m_label``, ``rfm_label``,
``segment``. Notebook 07 joins it with the CLV columns into ``exports/customer_scores.csv``.
"""
from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from cjkit import catalog
from cjkit.rfm.scores import label_rfm, score_rfm
from cjkit.rfm.summary import rfm_table

__all__ = ["named_segments", "assign_segments", "rfm_segments", "customer_scores", "segment_profile",
           "segment_sizes", "rf_grid", "segment_transitions", "SEGMENTS", "NEW_CUSTOMER"]

#: row label of :func:`segment_transitions` for customers who had not bought yet at the first date
NEW_CUSTOMER = "not a customer yet"
_SCORE_COLS = {"r": "r_score", "f": "f_score", "m": "m_score"}


@functools.cache
def _catalogue() -> tuple[dict[str, Any], ...]:
    text = resources.files("cjkit.catalog").joinpath("segments.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text)["segments"])


#: segment ids in catalogue order (the order of every table and figure)
SEGMENTS: tuple[str, ...] = tuple(s["id"] for s in _catalogue())


def named_segments() -> pd.DataFrame:
    """The named segments: rules on the scores and the tactics that fit each one.

    Columns: ``segment`` (id), ``name``, ``r_min``, ``r_max``, ``f_min``, ``f_max``,
    ``m_min``, ``m_max`` (score bounds, 1-5 where the rule says nothing), ``meaning``,
    ``tactics`` (tuple of tactic ids of :func:`cjkit.catalog.tactics`), ``tactic_names``
    and ``stages`` (tuples, same order).

    Examples
    --------
    >>> seg = named_segments().set_index("segment")
    >>> seg.loc["champions", ["r_min", "f_min"]].tolist(), seg.loc["champions", "tactic_names"][0]
    ([4, 4], 'Referrals')
    >>> seg.loc["hibernating", "stages"]
    ('retention', 'engagement')
    """
    tactics = catalog.tactics().set_index("tactic_id")
    rows = []
    for s in _catalogue():
        unknown = [t for t in s["tactics"] if t not in tactics.index]
        if unknown:
            raise ValueError(f"segments.yaml, segment {s['id']!r}: unknown tactic {unknown[0]!r}")
        row = {"segment": s["id"], "name": s["name"]}
        for var in "rfm":
            lo, hi = s["rule"].get(var, [1, 5])
            row[f"{var}_min"], row[f"{var}_max"] = int(lo), int(hi)
        row.update(meaning=s["meaning"], tactics=tuple(s["tactics"]),
                   tactic_names=tuple(tactics.loc[t, "name"] for t in s["tactics"]),
                   stages=tuple(str(tactics.loc[t, "stage"]) for t in s["tactics"]))
        rows.append(row)
    return pd.DataFrame(rows)


def assign_segments(scores: pd.DataFrame) -> pd.Series:
    """The named segment of each customer from ``r_score``, ``f_score``, ``m_score`` (first rule wins).

    Returns an ordered categorical Series (catalogue order) on the same index.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"r_score": [5, 3, 1, 1, 5], "f_score": [5, 4, 5, 1, 1],
    ...                        "m_score": [1, 2, 5, 3, 2]})
    >>> assign_segments(scores).tolist()
    ['champions', 'loyal', 'cannot_lose', 'hibernating', 'new']
    """
    left = pd.Series(True, index=scores.index)
    codes = np.full(len(scores), -1, dtype=np.int64)
    for i, seg in named_segments().iterrows():
        match = left.copy()
        for var, col in _SCORE_COLS.items():
            match &= scores[col].between(seg[f"{var}_min"], seg[f"{var}_max"])
        codes[match.to_numpy()] = i
        left &= ~match
    if left.any():
        example = scores.loc[left].iloc[0][list(_SCORE_COLS.values())].tolist()
        raise ValueError(f"{int(left.sum()):,} customers match no segment rule (e.g. scores {example}); "
                         "scores must be whole numbers 1-5")
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(SEGMENTS), ordered=True),
                     index=scores.index, name="segment")


def rfm_segments(orders: pd.DataFrame, *, as_of: Any = None, timezone: str | None = None, returns: str = "net",
                 zero_value: str = "keep") -> pd.DataFrame:
    """Per customer: :func:`cjkit.rfm.rfm_table`, its scores and labels, and the named segment.

    Parameters are those of :func:`cjkit.rfm.rfm_table`. The table's ``attrs["report"]``
    (returns, zero-value orders, rows after the as-of day) is kept.
    """
    rfm = rfm_table(orders, as_of=as_of, timezone=timezone, returns=returns, zero_value=zero_value)
    scores = score_rfm(rfm)
    out = pd.concat([rfm, scores, label_rfm(rfm)], axis=1)
    out["segment"] = assign_segments(scores)
    out.attrs = dict(rfm.attrs)
    return out


def customer_scores(orders: pd.DataFrame, *, as_of: Any = None, timezone: str | None = None,
                    returns: str = "net") -> pd.DataFrame:
    """One row per buyer, ready to join and export: RFM values, scores, labels and segment.

    Indexed by ``customer_id`` (sorted); columns ``recency_days``, ``orders``,
    ``total_spend``, ``r_score``, ``f_score``, ``m_score`` (1-5), ``rfm_cell``, ``r_label``,
    ``f_label``, ``m_label``, ``rfm_label`` (the seed's labels), ``segment`` (id of
    :func:`named_segments`). Join it with :func:`cjkit.rfm.summary_data` on the index.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 30.0, 5.0],
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-02"])})
    >>> customer_scores(orders)[["orders", "r_score", "f_score", "segment"]]
                 orders  r_score  f_score     segment
    customer_id
    a                 2        3        3   promising
    b                 1        1        1 hibernating
    """
    full = rfm_segments(orders, as_of=as_of, timezone=timezone, returns=returns)
    cols = ["recency_days", "orders", "total_spend", "r_score", "f_score", "m_score", "rfm_cell",
            "r_label", "f_label", "m_label", "rfm_label", "segment"]
    out = full[cols].copy()
    out.attrs = dict(full.attrs)
    return out


def segment_profile(segments: pd.DataFrame) -> pd.DataFrame:
    """One row per named segment (catalogue order, empty segments included).

    ``segments`` is the output of :func:`rfm_segments`. Columns: ``segment``, ``name``,
    ``customers``, ``share`` (of customers), ``revenue`` (sum of ``total_spend``),
    ``revenue_share``, the means ``recency_days``, ``orders``, ``total_spend``,
    ``r_score``, ``f_score``, ``m_score``, and ``tactics`` (names, "; "-joined).

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"segment": pd.Categorical(["new", "new", "champions"], categories=SEGMENTS),
    ...     "total_spend": [10.0, 30.0, 60.0], "recency_days": [1, 3, 2], "orders": [1, 1, 5],
    ...     "r_score": [5, 4, 5], "f_score": [1, 1, 5], "m_score": [1, 2, 5]})
    >>> p = segment_profile(seg).set_index("segment")
    >>> int(p.loc["new", "customers"]), p.loc["new", ["share", "revenue_share", "orders"]].tolist()
    (2, [0.6666666666666666, 0.4, 1.0])
    >>> int(p.loc["at_risk", "customers"])
    0
    """
    cat = named_segments().set_index("segment")
    group = segments.groupby(segments["segment"].astype(str))
    means = group[["recency_days", "orders", "total_spend", "r_score", "f_score", "m_score"]].mean()
    out = pd.DataFrame({"segment": list(SEGMENTS), "name": cat.loc[list(SEGMENTS), "name"].to_numpy()})
    out["customers"] = group.size().reindex(SEGMENTS, fill_value=0).to_numpy().astype(np.int64)
    out["share"] = out["customers"] / max(len(segments), 1)
    out["revenue"] = group["total_spend"].sum().reindex(SEGMENTS, fill_value=0.0).to_numpy()
    total = segments["total_spend"].sum()
    out["revenue_share"] = out["revenue"] / total if total else np.nan
    out = out.join(means.reindex(SEGMENTS).reset_index(drop=True))
    out["tactics"] = ["; ".join(cat.loc[s, "tactic_names"]) for s in SEGMENTS]
    out.attrs["caption"] = (f"{len(segments):,} customers; revenue = spend net of returns; means per customer; "
                            "tactics from the six-stage framework (seed 000)")
    return out


def segment_sizes(segments: pd.DataFrame) -> pd.DataFrame:
    """``segment``, ``customers``, ``revenue_share``: the record ``segment_sizes`` of notebook 06."""
    return segment_profile(segments)[["segment", "customers", "revenue_share"]]


def rf_grid(segments: pd.DataFrame, *, value: str = "customers") -> pd.DataFrame:
    """R score (rows, 5 on top) x F score (columns, 1..5): customers or revenue in each cell.

    ``value``: ``"customers"`` (counts) or ``"revenue"`` (sum of ``total_spend``). Every
    cell 1-5 is present (0 where empty).

    Examples
    --------
    >>> import pandas as pd
    >>> seg = pd.DataFrame({"r_score": [5, 5, 1], "f_score": [4, 4, 1], "total_spend": [10.0, 20.0, 5.0]})
    >>> grid = rf_grid(seg, value="revenue")
    >>> float(grid.loc[5, 4]), float(grid.loc[1, 1]), grid.index.tolist()
    (30.0, 5.0, [5, 4, 3, 2, 1])
    """
    if value not in ("customers", "revenue"):
        raise ValueError(f"value={value!r}: choose 'customers' or 'revenue'")
    weights = segments["total_spend"] if value == "revenue" else pd.Series(1, index=segments.index)
    grid = weights.groupby([segments["r_score"], segments["f_score"]]).sum().unstack(fill_value=0)
    grid = grid.reindex(index=[5, 4, 3, 2, 1], columns=[1, 2, 3, 4, 5], fill_value=0)
    grid.index.name, grid.columns.name = "R score", "F score"
    grid.attrs["caption"] = f"{value} by R score (rows) and F score (columns)"
    return grid


def segment_transitions(orders: pd.DataFrame, *, before: Any, after: Any, timezone: str | None = None,
                        returns: str = "net") -> pd.DataFrame:
    """Customers moving between named segments from one as-of day to a later one.

    Scores are recomputed at each day (each day's quintiles). Rows: segment at ``before``
    plus :data:`NEW_CUSTOMER` (first purchase after ``before``); columns: segment at
    ``after``; cells: customers. ``attrs["before"]``, ``attrs["after"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> orders = pd.DataFrame({"customer_id": ["a", "b", "b", "c"], "amount": [10.0, 5.0, 5.0, 8.0],
    ...     "ordered_at": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-03-01", "2024-02-20"])})
    >>> t = segment_transitions(orders, before="2024-01-31", after="2024-03-31")
    >>> int(t.loc["not a customer yet"].sum()), int(t.to_numpy().sum())
    (1, 3)
    """
    if pd.Timestamp(before) > pd.Timestamp(after):
        raise ValueError(f"before ({before}) must not be later than after ({after})")
    first = rfm_segments(orders, as_of=before, timezone=timezone, returns=returns)["segment"].astype(str)
    second = rfm_segments(orders, as_of=after, timezone=timezone, returns=returns)["segment"].astype(str)
    rows = first.reindex(second.index).fillna(NEW_CUSTOMER)
    table = pd.crosstab(pd.Categorical(rows, categories=[*SEGMENTS, NEW_CUSTOMER]),
                        pd.Categorical(second, categories=list(SEGMENTS)), dropna=False)
    table.index.name, table.columns.name = f"segment on {before}", f"segment on {after}"
    table.attrs.update(before=str(before), after=str(after),
                       caption=f"customers by segment on {before} (rows) and on {after} (columns)")
    return table
