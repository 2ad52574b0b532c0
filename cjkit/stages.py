"""Where customers are in their journey: furthest stage reached and customers per stage.

Seed 003 asks how many people are in each stage of the journey; these functions answer it
from events that carry a ``stage`` column (see :class:`cjkit.stage_map.StageMap`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cjkit.estimate import add_proportion
from cjkit.journey import JourneyLookupError, JourneyModel, ModelKey, _require, get_model

__all__ = ["furthest_stage", "stage_counts"]


def _stage_positions(values: pd.Series, model: JourneyModel, table: str) -> np.ndarray:
    """0-based model position of each stage value (-1 where missing)."""
    codes, uniques = pd.factorize(values)
    positions = []
    for k, value in enumerate(uniques):
        try:
            positions.append(model.stage_ids.index(model.stage(value).id))
        except JourneyLookupError as exc:
            raise JourneyLookupError(f"{table} table, column {values.name!r}: {int((codes == k).sum())} "
                                     f"rows hold {value!r}, which is not a stage. {exc}") from None
    return np.append(np.asarray(positions, dtype=np.int64), -1)[codes]


def furthest_stage(events: pd.DataFrame, model: ModelKey, *, customer_col: str = "customer_id",
                   stage_col: str = "stage") -> pd.DataFrame:
    """Each customer's furthest stage reached, by the model's stage order.

    Returns one row per customer (sorted) with ``stage``, an ordered Categorical of stage ids.
    Stage values may be ids, names or aliases; customers without any staged event are kept
    with a missing stage.

    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "stage": ["onboarding", "awareness", "Acquisition", None]})
    >>> furthest_stage(ev, "six_stage")
      customer_id        stage
    0           a   onboarding
    1           b  acquisition
    2           c          NaN
    """
    m = get_model(model)
    _require(events, [customer_col, stage_col], "events")
    pos = pd.Series(_stage_positions(events[stage_col], m, "events"), index=events.index)
    best = pos.groupby(events[customer_col], sort=True, dropna=False).max()
    return pd.DataFrame({customer_col: best.index.to_numpy(), "stage": pd.Categorical.from_codes(
        best.to_numpy(), categories=m.stage_ids, ordered=True)})


def stage_counts(furthest: pd.DataFrame, model: ModelKey, *, stage_col: str = "stage") -> pd.DataFrame:
    """Customers per furthest stage: every stage of the model, in order, zeros included.

    Returns ``stage`` (id), ``name``, ``customers`` (furthest stage is this one), ``share``,
    ``reached`` (furthest stage is this one or a later one: the funnel view) and
    ``reached_share``, each share with its 95% Wilson interval (``share_ci_low``,
    ``share_ci_high``, ``reached_share_ci_low``, ``reached_share_ci_high``; see
    :mod:`cjkit.estimate`). Shares divide by all customers in ``furthest``: customers with no
    stage lower the shares instead of vanishing.

    >>> furthest = pd.DataFrame({"customer_id": ["a", "b", "c"],
    ...                          "stage": ["onboarding", "acquisition", "onboarding"]})
    >>> stage_counts(furthest, "six_stage")[["stage", "customers", "share", "reached", "reached_share"]]
             stage  customers     share  reached  reached_share
    0    awareness          0  0.000000        3       1.000000
    1  acquisition          1  0.333333        3       1.000000
    2   onboarding          2  0.666667        2       0.666667
    3   engagement          0  0.000000        0       0.000000
    4    retention          0  0.000000        0       0.000000
    5     advocacy          0  0.000000        0       0.000000
    >>> stage_counts(furthest, "six_stage")[["reached_share_ci_low", "reached_share_ci_high"]].iloc[2].round(3).tolist()
    [0.208, 0.939]
    """
    m = get_model(model)
    _require(furthest, [stage_col], "furthest-stage")
    pos = _stage_positions(furthest[stage_col], m, "furthest-stage")
    counts = np.bincount(pos[pos >= 0], minlength=len(m.stages)).astype(np.int64)
    reached = counts[::-1].cumsum()[::-1]
    n = len(furthest)
    out = pd.DataFrame({"stage": pd.Categorical(m.stage_ids, categories=m.stage_ids, ordered=True),
                        "name": list(m.stage_names), "customers": counts})
    out = add_proportion(out, "share", counts, n)
    out["reached"] = reached
    return add_proportion(out, "reached_share", reached, n)
