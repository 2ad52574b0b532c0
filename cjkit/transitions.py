"""Movement between stages: each customer's furthest stage, and who moved on between two periods.

Seed 003's second question: did a strategy move anyone to the next stage? Both functions
read the per-customer stage times of :func:`cjkit.funnel.stage_times`, so the two ways of
counting a stage (reached in any order, or in the model's order) apply here as in the
funnel: :func:`furthest_stages` gives each customer's furthest stage as of a day by either
definition, :func:`stage_transitions` the stage x stage table of where customers were at
the end of one period and at the end of the next (``"none"`` for customers not yet seen).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import add_proportion
# the reduction and its reading rules, shared with the funnel
from cjkit.funnel import _DEFINITIONS, _first_cols, _ordered_cols, _reached
from cjkit.journey import JourneyModel, ModelKey, _require, get_model

__all__ = ["furthest_stages", "stage_transitions", "transition_matrix", "transition_summary", "middle_day", "NONE"]

#: label of "no stage reached yet" in stage transitions
NONE = "none"


# --- furthest stage and transitions between periods -------------------------------------

def _bound(value: Any, times: pd.DataFrame, name: str) -> pd.Timestamp:
    """A period boundary as a Timestamp in the zone of ``times``."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a date or time such as '2025-01-01', got {value!r}") from None
    tz = times["seen_at"].dt.tz
    if tz is not None and stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    elif tz is None and stamp.tzinfo is not None:
        stamp = stamp.tz_convert(None)
    return stamp


def _stage_codes(times: pd.DataFrame, model: JourneyModel, as_of: pd.Timestamp | None,
                 definition: str) -> np.ndarray:
    """0-based furthest stage of each customer before ``as_of`` (-1: none)."""
    if definition not in _DEFINITIONS:
        raise ValueError(f"definition must be 'ordered' or 'unordered', got {definition!r}")
    _reached(times, model)  # checks the columns
    cols = _ordered_cols(model) if definition == "ordered" else _first_cols(model)
    block = times[cols]
    hit = block.notna() if as_of is None else block.lt(as_of)
    hit = hit.to_numpy()
    k = len(model.stages)
    # the furthest stage is the last column reached (in order, reached stages form a prefix)
    last = k - 1 - np.argmax(hit[:, ::-1], axis=1)
    return np.where(hit.any(axis=1), last, -1)


def furthest_stages(times: pd.DataFrame, model: ModelKey, *, as_of: Any = None,
                    definition: str = "ordered") -> pd.DataFrame:
    """Each customer's furthest stage, reached in order or in any order, before ``as_of``.

    ``definition="unordered"`` is :func:`cjkit.furthest_stage`'s: the latest stage, in model
    order, among the customer's events. ``"ordered"``: the last stage reached with every
    earlier stage first (see :func:`stage_times`).

    Returns
    -------
    DataFrame
        ``customer_id`` and ``stage`` (ordered Categorical of stage ids, NaN when no stage
        was reached), one row per customer of ``times`` (customers first seen on or after
        ``as_of`` are kept, with NaN).

    Examples
    --------
    >>> from cjkit.funnel import stage_times
    >>> ev = pd.DataFrame({"customer_id": ["a", "a"], "stage": ["Retention", "Awareness"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    >>> t = stage_times(ev, "five_stage")
    >>> furthest_stages(t, "five_stage", definition="unordered")["stage"].tolist()
    ['retention']
    >>> furthest_stages(t, "five_stage")["stage"].tolist()
    ['awareness']
    """
    m = get_model(model)
    stamp = None if as_of is None else _bound(as_of, times, "as_of")
    codes = _stage_codes(times, m, stamp, definition)
    customer_col = times.attrs.get("customer_col", "customer_id")
    return pd.DataFrame({customer_col: times[customer_col].to_numpy(),
                         "stage": pd.Categorical.from_codes(codes, categories=m.stage_ids, ordered=True)})


def middle_day(events: pd.DataFrame, *, time_col: str = "timestamp") -> pd.Timestamp:
    """The day halfway between the first and the last event (midnight, in the events' zone).

    The default boundary between the two periods of :func:`stage_transitions`.

    >>> ev = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-12-31 18:00"])})
    >>> middle_day(ev)
    Timestamp('2024-07-02 00:00:00')
    """
    _require(events, [time_col], "events")
    times = events[time_col]
    if times.notna().sum() == 0:
        raise ValueError(f"events table, column {time_col!r}: no times, so no middle of the data")
    lo, hi = times.min(), times.max()
    return (lo + (hi - lo) / 2).normalize()


def stage_transitions(times: pd.DataFrame, model: ModelKey, *, split: Any, end: Any = None,
                      definition: str = "ordered", level: float = 0.95) -> pd.DataFrame:
    """Where customers stood at the end of period A, against where they stood at the end of B.

    Period A ends at ``split`` (excluded), period B at ``end`` (excluded; default: after
    the last event). Each customer's state is their furthest stage (:func:`furthest_stages`,
    ``definition`` ordered or unordered) on the events before the boundary, or
    :data:`NONE` (``"none"``) when no stage was reached yet (not seen yet, or seen without
    reaching the first stage in order). Events only accumulate, so nobody moves back.

    Parameters
    ----------
    times : DataFrame
        The output of :func:`stage_times` (all events up to the end of period B).
    split, end : str or Timestamp
        Boundaries; a date without a zone is read in the zone of ``times``.

    Returns
    -------
    DataFrame
        A stage x stage matrix in long form, every pair listed (zeros included):
        ``from_stage`` (end of A) and ``to_stage`` (end of B), both ordered Categoricals
        ``["none", *stage ids]``, ``customers``, ``from_customers`` (customers of the row)
        and ``rate`` (row rate: ``customers / from_customers``, with its Wilson interval),
        and ``moved`` (``to_stage`` later than ``from_stage``). Customers first seen at or
        after ``end`` are left out; ``attrs`` holds ``split``, ``end``, ``definition`` and
        ``customers``. :func:`transition_matrix` makes the square table.

    Examples
    --------
    >>> from cjkit.funnel import stage_times
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
    ...                    "stage": ["Visit", "Cart", "Visit", "Visit"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-05", "2024-03-02"])})
    >>> shop = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": ["Visit", "Cart"]})
    >>> moves = stage_transitions(stage_times(ev, shop), shop, split="2024-02-01")
    >>> transition_matrix(moves)
    to_stage    none  visit  cart
    from_stage
    none           0      1     0
    visit          0      1     1
    cart           0      0     0
    """
    m = get_model(model)
    at_split = _bound(split, times, "split")
    at_end = None if end is None else _bound(end, times, "end")
    if at_end is not None and at_end < at_split:
        raise ValueError(f"the periods are empty: end {end} is before split {split}")
    seen = times["seen_at"] < at_end if at_end is not None else pd.Series(True, index=times.index)
    kept = times[seen.to_numpy()]
    a = _stage_codes(kept, m, at_split, definition) + 1  # 0 = none
    b = _stage_codes(kept, m, at_end, definition) + 1
    k = len(m.stages) + 1
    counts = np.bincount(a * k + b, minlength=k * k).astype(np.int64)
    labels = [NONE, *m.stage_ids]
    dtype = pd.CategoricalDtype(labels, ordered=True)
    rows = np.repeat(np.arange(k), k)
    cols = np.tile(np.arange(k), k)
    from_total = counts.reshape(k, k).sum(axis=1)[rows]
    out = pd.DataFrame({"from_stage": pd.Categorical.from_codes(rows, dtype=dtype),
                        "to_stage": pd.Categorical.from_codes(cols, dtype=dtype),
                        "customers": counts, "from_customers": from_total})
    out = add_proportion(out, "rate", counts, from_total, level=level)
    out["moved"] = cols > rows
    out.attrs.update({"split": str(at_split), "end": None if at_end is None else str(at_end),
                      "definition": definition, "customers": int(len(kept)), "model": m.id})
    out.attrs["caption"] = (f"{len(kept):,} customers; furthest stage ({definition}) before {at_split:%Y-%m-%d} "
                            f"(rows) and {'at the end of the data' if at_end is None else f'before {at_end:%Y-%m-%d}'}"
                            " (columns); rate = share of the row.")
    return out


def transition_matrix(transitions: pd.DataFrame, *, values: str = "customers") -> pd.DataFrame:
    """The square table of :func:`stage_transitions`: rows ``from_stage``, columns ``to_stage``.

    ``values`` is ``"customers"`` or ``"rate"`` (row rates, shown as percentages). See
    :func:`stage_transitions` for an example.
    """
    if values not in ("customers", "rate"):
        raise ValueError(f"values must be 'customers' or 'rate', got {values!r}")
    _require(transitions, ["from_stage", "to_stage", values], "transitions")
    out = transitions.pivot(index="from_stage", columns="to_stage", values=values)
    out.columns = pd.Index(out.columns.astype("str"), name="to_stage")
    out.index = pd.Index(out.index.astype("str"), name="from_stage")
    if values == "rate":
        out.attrs["units"] = {c: "share" for c in out.columns}
    return out


def transition_summary(transitions: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Per state at the end of period A: how many customers moved to a later stage by the end of B.

    Returns ``from_stage``, ``customers``, ``stayed``, ``moved`` and ``moved_share``
    (``moved / customers`` with its Wilson interval). For ``"none"``, ``moved`` counts
    customers who reached a first stage during period B (new arrivals).

    >>> t = pd.DataFrame({"from_stage": ["none", "none", "visit", "visit"],
    ...                   "to_stage": ["none", "visit", "visit", "cart"],
    ...                   "customers": [0, 1, 3, 1], "moved": [False, True, False, True]})
    >>> transition_summary(t)[["from_stage", "customers", "stayed", "moved", "moved_share"]]
      from_stage  customers  stayed  moved  moved_share
    0       none          1       0      1         1.00
    1      visit          4       3      1         0.25
    """
    _require(transitions, ["from_stage", "to_stage", "customers", "moved"], "transitions")
    grouped = transitions.assign(_moved=np.where(transitions["moved"], transitions["customers"], 0)) \
        .groupby("from_stage", observed=True, sort=True)
    out = pd.DataFrame({"customers": grouped["customers"].sum(), "moved": grouped["_moved"].sum()}).reset_index()
    out.insert(2, "stayed", out["customers"] - out["moved"])
    return add_proportion(out, "moved_share", out["moved"], out["customers"], level=level)
