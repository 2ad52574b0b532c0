"""Funnels and movement between stages.

Seed 003 asks two questions of journey data: how many people are in each stage, and did a
strategy move anyone on to the next stage. This module answers both for any journey model,
built-in or a client's own, with two ways of counting a stage:

* **unordered reach** (``customers``): customers with at least one event in the stage, at
  any time. It is what :func:`cjkit.furthest_stage` builds on, and it counts a customer who
  opened an account page (a post-purchase page) before ever buying as past Purchase;
* **ordered funnel** (``reached_in_order``): customers who reached the stage in the model's
  order, every earlier stage first, by time. The time a customer reaches stage *k* in order
  is their first stage-*k* event at or after the time they reached stage *k - 1* in order
  (the first stage: their first event in it), so a product view before the first purchase
  does not count as Engagement in six stages, while one after it does.

The heavy work is one reduction, :func:`stage_times`: events in, one row per customer out
(first time in each stage, time each stage was reached in order), vectorised with numpy, so
that an engine such as DuckDB can replace it for logs larger than memory. Everything after
it reads that small table: :func:`funnel_table` (step conversion with Wilson intervals,
drop-off, median days between stages), :func:`funnel_by_segment` with
:func:`customer_segments` (first channel, persona, cohort), :func:`compare_segments` (a
two-proportion z-test per step, Holm-adjusted); the furthest stage by both definitions and
the movement between two periods read it too, in :mod:`cjkit.transitions`.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import add_proportion
from cjkit.journey import JourneyModel, ModelKey, _require, get_model
from cjkit.stages import _stage_positions

__all__ = ["stage_times", "funnel_table", "weakest_step", "customer_segments", "funnel_by_segment",
           "funnel_matrix", "compare_segments"]

_NEVER = np.iinfo(np.int64).max  # "never reached" while reducing (sorts after every real time)
_DEFINITIONS = ("ordered", "unordered")


# --- the reduction: events -> per-customer stage times -------------------------------------

def _time_ints(column: pd.Series, table: str) -> tuple[np.ndarray, str, Any]:
    """Integer times of a datetime column (in its own unit), the unit and the time zone."""
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        raise TypeError(f"{table} table, column {column.name!r} holds {column.dtype} values, not times: "
                        "convert it with pd.to_datetime (cjkit.load_client does)")
    missing = int(column.isna().sum())
    if missing:
        raise ValueError(f"{table} table, column {column.name!r}: {missing:,} rows have no time; "
                         "drop or fix them before computing a funnel (an ordered funnel needs every time)")
    return np.asarray(column.array.asi8), column.dt.unit, column.dt.tz


def _as_times(values: np.ndarray, unit: str, tz: Any) -> pd.Series:
    """Integer times (``_NEVER`` = never) back to a datetime Series of the given unit and zone."""
    raw = np.where(values == _NEVER, np.iinfo(np.int64).min, values).view(f"M8[{unit}]")
    index = pd.DatetimeIndex(raw)
    if tz is not None:
        index = index.tz_localize("UTC").tz_convert(tz)
    return pd.Series(index)


def _first_cols(model: JourneyModel) -> list[str]:
    return [f"first_{s}" for s in model.stage_ids]


def _ordered_cols(model: JourneyModel) -> list[str]:
    return [f"ordered_{s}" for s in model.stage_ids]


def stage_times(events: pd.DataFrame, model: ModelKey, *, customer_col: str = "customer_id",
                time_col: str = "timestamp", stage_col: str = "stage") -> pd.DataFrame:
    """Per customer: first time in each stage, and the time each stage was reached in order.

    The one heavy step of every funnel (events in, one row per customer out), vectorised:
    no loop over customers or events, one pass per stage.

    Parameters
    ----------
    events : DataFrame
        Canonical events: ``customer_id``, ``timestamp`` (datetimes, none missing) and
        ``stage`` (stage ids, names or aliases of ``model``; missing for events no rule
        maps, which count for ``seen_at`` only).
    model : str, Path or JourneyModel
        The journey model whose stage order defines "in order".

    Returns
    -------
    DataFrame
        One row per customer of ``events``, in order of first appearance: ``customer_id``,
        ``seen_at`` (first event of any kind), then for each stage id ``s`` in model order
        ``first_s`` (first event in ``s``) and, after those, ``ordered_s``: the first event
        in ``s`` at or after the time the previous stage was reached in order (the first
        stage: ``first_s``). NaT means never. ``attrs`` holds the model id, the stage ids
        and ``unstaged_events``, the number of events without a stage.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-03", "2024-01-01", "2024-01-05",
    ...                                                 "2024-01-02"]),
    ...                    "stage": ["Cart", "Visit", "Cart", "Cart"]})
    >>> shop = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": ["Visit", "Cart"]})
    >>> t = stage_times(ev, shop)
    >>> t.columns.tolist()
    ['customer_id', 'seen_at', 'first_visit', 'first_cart', 'ordered_visit', 'ordered_cart']
    >>> t["ordered_cart"].dt.strftime("%m-%d").tolist()  # b never visited: no cart in order
    ['01-03', nan]
    """
    m = get_model(model)
    _require(events, [customer_col, time_col, stage_col], "events")
    times, unit, tz = _time_ints(events[time_col], "events")
    who = events[customer_col]
    if who.isna().any():
        raise ValueError(f"events table, column {customer_col!r}: {int(who.isna().sum()):,} rows have no "
                         "customer id; drop them or fill the id before computing a funnel")
    codes, customers = pd.factorize(who)
    pos = _stage_positions(events[stage_col], m, "events")
    n, k = len(customers), len(m.stages)
    # first time per (customer, stage); column k collects events without a stage
    first = np.full(n * (k + 1), _NEVER, dtype=np.int64)
    np.minimum.at(first, codes * (k + 1) + np.where(pos >= 0, pos, k), times)
    first = first.reshape(n, k + 1)
    ordered = np.full((n, k), _NEVER, dtype=np.int64)
    ordered[:, 0] = first[:, 0]
    for j in range(1, k):  # one pass per stage over that stage's events
        # where the first stage-j event already follows the previous stage, it is the answer
        ordered[:, j] = np.where(first[:, j] >= ordered[:, j - 1], first[:, j], _NEVER)
        late = (first[:, j] < ordered[:, j - 1]) & (ordered[:, j - 1] != _NEVER)
        if late.any():  # the others: first stage-j event at or after the previous stage
            rows = np.flatnonzero(pos == j)
            rows = rows[late[codes[rows]]]
            c, t = codes[rows], times[rows]
            keep = t >= ordered[c, j - 1]
            column = ordered[:, j].copy()
            np.minimum.at(column, c[keep], t[keep])
            ordered[:, j] = column
    out = {customer_col: customers, "seen_at": _as_times(first.min(axis=1), unit, tz)}
    for j, col in enumerate(_first_cols(m)):
        out[col] = _as_times(first[:, j], unit, tz)
    for j, col in enumerate(_ordered_cols(m)):
        out[col] = _as_times(ordered[:, j], unit, tz)
    frame = pd.DataFrame(out)
    frame.attrs = {"model": m.id, "stages": list(m.stage_ids), "unstaged_events": int((pos < 0).sum()),
                   "customer_col": customer_col}
    return frame


def _reached(times: pd.DataFrame, model: JourneyModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first reached, reached in order) as boolean (customers x stages) arrays, and the days
    between consecutive stages reached in order (NaN where not reached)."""
    need = _first_cols(model) + _ordered_cols(model)
    missing = [c for c in need if c not in times.columns]
    if missing:
        raise KeyError(f"stage-times table has no column {missing[0]!r} (journey model {model.id!r}): "
                       "compute it with stage_times(events, model) for the same model")
    first = times[_first_cols(model)].notna().to_numpy()
    ordered = times[_ordered_cols(model)]
    reached = ordered.notna().to_numpy()
    days = np.full((len(times), len(model.stages)), np.nan)
    for j in range(1, len(model.stages)):
        gap = ordered.iloc[:, j] - ordered.iloc[:, j - 1]
        days[:, j] = gap.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan) / 86400
    return first, reached, days


def _medians(days: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of each stage column of ``days`` within each group, ignoring NaN."""
    frame = pd.DataFrame(days)
    out = frame.groupby(groups).median().reindex(range(n_groups))
    return out.to_numpy(dtype="float64", copy=True)


def _funnel_rows(first: np.ndarray, reached: np.ndarray, days: np.ndarray, groups: np.ndarray,
                 n_groups: int, model: JourneyModel, level: float) -> pd.DataFrame:
    """The funnel columns of every group (group-major, stages in model order)."""
    k = len(model.stages)
    size = np.bincount(groups, minlength=n_groups).astype(np.int64)
    reach = np.zeros((n_groups, k), dtype=np.int64)
    in_order = np.zeros((n_groups, k), dtype=np.int64)
    for j in range(k):
        reach[:, j] = np.bincount(groups, weights=first[:, j], minlength=n_groups)
        in_order[:, j] = np.bincount(groups, weights=reached[:, j], minlength=n_groups)
    previous = np.concatenate([size[:, None], in_order[:, :-1]], axis=1)
    medians = _medians(days, groups, n_groups)
    medians[:, 0] = np.nan
    base = np.repeat(size, k)
    out = pd.DataFrame({"stage": pd.Categorical(np.tile(model.stage_ids, n_groups), categories=model.stage_ids,
                                                ordered=True),
                        "name": pd.Series(np.tile(np.array(model.stage_names, dtype=object), n_groups), dtype="str"),
                        "customers": reach.ravel()})
    out = add_proportion(out, "reach_share", reach.ravel(), base, level=level)
    out["reached_in_order"] = in_order.ravel()
    out = add_proportion(out, "in_order_share", in_order.ravel(), base, level=level)
    out["previous_in_order"] = previous.ravel()
    out = add_proportion(out, "conversion", in_order.ravel(), previous.ravel(), level=level)
    out["drop_off"] = (previous - in_order).ravel()
    out = add_proportion(out, "drop_off_rate", (previous - in_order).ravel(), previous.ravel(), level=level)
    out["median_days"] = medians.ravel()
    return out


def funnel_table(times: pd.DataFrame, model: ModelKey, *, level: float = 0.95) -> pd.DataFrame:
    """The funnel of a journey model, both ways: unordered reach and the ordered funnel.

    Parameters
    ----------
    times : DataFrame
        The output of :func:`stage_times` for the same model.
    level : float
        Confidence level of the Wilson intervals.

    Returns
    -------
    DataFrame
        One row per stage in model order: ``stage`` (id), ``name``, ``customers`` (at least
        one event in the stage, in any order) and ``reach_share`` (of all customers),
        ``reached_in_order`` (every earlier stage first) and ``in_order_share``,
        ``previous_in_order`` (customers who reached the previous stage in order; for the
        first stage, all customers), ``conversion`` (step conversion: ``reached_in_order``
        / ``previous_in_order``), ``drop_off`` (customers lost at the step) and
        ``drop_off_rate``, and ``median_days`` from the previous stage to this one among
        customers who reached it in order. Every share has its Wilson interval in
        ``<share>_ci_low`` / ``<share>_ci_high``. ``attrs["customers"]`` is the number
        of customers.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "c"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-02",
    ...                                                 "2024-01-01", "2024-01-01"]),
    ...                    "stage": ["Visit", "Cart", "Visit", "Cart", "Visit"]})
    >>> shop = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": ["Visit", "Cart"]})
    >>> f = funnel_table(stage_times(ev, shop), shop)
    >>> f[["stage", "customers", "reached_in_order", "conversion", "median_days"]]
       stage  customers  reached_in_order  conversion  median_days
    0  visit          3                 3    1.000000          NaN
    1   cart          2                 1    0.333333          2.0
    """
    m = get_model(model)
    first, reached, days = _reached(times, m)
    out = _funnel_rows(first, reached, days, np.zeros(len(times), dtype=np.int64), 1, m, level)
    out.attrs["customers"] = len(times)
    out.attrs["caption"] = (f"{len(times):,} customers. customers: an event in the stage at any time; "
                            "reached_in_order: every earlier stage first, by time; conversion: "
                            "reached_in_order / previous_in_order.")
    return out


def weakest_step(table: pd.DataFrame) -> pd.Series | None:
    """The step (second stage onwards) with the lowest step conversion, or None.

    ``table`` is the output of :func:`funnel_table`. Steps nobody reached the previous
    stage of (conversion NaN) are skipped; a one-stage model has no step.

    >>> t = pd.DataFrame({"name": ["Visit", "Cart", "Buy"], "conversion": [1.0, 0.4, 0.6]})
    >>> weakest_step(t)["name"]
    'Cart'
    """
    _require(table, ["conversion"], "funnel")
    steps = table.iloc[1:]["conversion"].dropna()
    return None if steps.empty else table.loc[steps.idxmin()]


# --- segments ---------------------------------------------------------------------------

def _first_rows(codes: np.ndarray, times: np.ndarray, n: int) -> np.ndarray:
    """Row of each customer's first event (the first row among ties)."""
    first = np.full(n, _NEVER, dtype=np.int64)
    np.minimum.at(first, codes, times)
    hit = np.flatnonzero(times == first[codes])
    found, at = np.unique(codes[hit], return_index=True)
    rows = np.empty(n, dtype=np.int64)
    rows[found] = hit[at]
    return rows


def _month(values: pd.Series) -> pd.Series:
    local = values.dt.tz_convert(None) if values.dt.tz is not None else values
    return local.dt.strftime("%Y-%m")


def customer_segments(events: pd.DataFrame, *, by: str = "first_channel", customers: pd.DataFrame | None = None,
                      customer_col: str = "customer_id", time_col: str = "timestamp",
                      channel_col: str = "channel") -> pd.Series:
    """A segment label per customer, to split a funnel with :func:`funnel_by_segment`.

    Parameters
    ----------
    by : str
        ``"first_channel"``: the channel of the customer's first event (the first row
        among events at the same time); ``"cohort"``: the month (``YYYY-MM``) of the first
        event; ``"signup_cohort"``: the month of ``signup_at`` in ``customers``; any other
        name: that column of ``customers`` (``persona``, ``country``, ``source_channel``).
        Months are read in UTC for times with a zone.
    customers : DataFrame, optional
        Canonical customers, for ``signup_cohort`` and customer columns.

    Returns
    -------
    Series
        Labels (str) indexed by customer id, named ``by``: every customer of ``events``, or
        of ``customers`` for labels read from it.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b"], "channel": ["email", "search", "tv"],
    ...                    "timestamp": pd.to_datetime(["2024-02-01", "2024-01-31", "2024-03-05"])})
    >>> customer_segments(ev).to_dict()
    {'a': 'search', 'b': 'tv'}
    >>> customer_segments(ev, by="cohort").to_dict()
    {'a': '2024-01', 'b': '2024-03'}
    """
    if by in ("first_channel", "cohort"):
        cols = [customer_col, time_col] + ([channel_col] if by == "first_channel" else [])
        _require(events, cols, "events")
        times, _, _ = _time_ints(events[time_col], "events")
        codes, ids = pd.factorize(events[customer_col])
        rows = _first_rows(codes, times, len(ids))
        values = events[channel_col].iloc[rows] if by == "first_channel" else _month(events[time_col].iloc[rows])
        return pd.Series(values.to_numpy(), index=pd.Index(ids, name=customer_col), name=by, dtype="str")
    column = "signup_at" if by == "signup_cohort" else by
    if customers is None:
        raise ValueError(f"segments by {by!r} are read from the customers table: pass customers=... "
                         "(this client has none? use by='first_channel' or by='cohort', read from events)")
    _require(customers, [customer_col, column], "customers")
    values = _month(customers[column]) if by == "signup_cohort" else customers[column]
    return pd.Series(values.to_numpy(), index=pd.Index(customers[customer_col].to_numpy(), name=customer_col),
                     name=by, dtype="str")


def funnel_by_segment(times: pd.DataFrame, model: ModelKey, segments: pd.Series, *, top: int | None = None,
                      order: str = "size", other: str = "other", unknown: str = "unknown",
                      level: float = 0.95) -> pd.DataFrame:
    """The funnel of :func:`funnel_table` within each segment of customers.

    Parameters
    ----------
    times : DataFrame
        The output of :func:`stage_times`.
    segments : Series
        A label per customer id (e.g. from :func:`customer_segments`). Customers of
        ``times`` without a label are counted under ``unknown``, never dropped.
    top : int, optional
        Keep the ``top`` largest segments and count the rest under ``other`` (a record
        holds at most 200 rows: segments x stages).
    order : str
        ``"size"`` (largest segment first) or ``"label"`` (alphabetical: months in time
        order).

    Returns
    -------
    DataFrame
        ``segment``, ``segment_customers``, then the columns of :func:`funnel_table`, one
        row per segment and stage; ``share`` is ``customers`` (unordered reach) over
        ``segment_customers``, with its Wilson interval.

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "stage": ["Visit", "Cart", "Visit", "Visit"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-03"])})
    >>> shop = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": ["Visit", "Cart"]})
    >>> seg = pd.Series({"a": "email", "b": "email", "c": "tv"})
    >>> by = funnel_by_segment(stage_times(ev, shop), shop, seg)
    >>> by[["segment", "stage", "customers", "share", "conversion"]]
      segment  stage  customers  share  conversion
    0   email  visit          2    1.0         1.0
    1   email   cart          1    0.5         0.5
    2      tv  visit          1    1.0         1.0
    3      tv   cart          0    0.0         0.0
    """
    m = get_model(model)
    if order not in ("size", "label"):
        raise ValueError(f"order must be 'size' or 'label', got {order!r}")
    customer_col = times.attrs.get("customer_col", "customer_id")
    _require(times, [customer_col], "stage-times")
    if not isinstance(segments, pd.Series):
        raise TypeError("segments must be a Series of labels indexed by customer id "
                        "(customer_segments(events, by=...) makes one)")
    if not segments.index.is_unique:
        dup = segments.index[segments.index.duplicated()][0]
        raise ValueError(f"segments: customer {dup!r} has several labels; give one label per customer")
    labels = times[customer_col].map(segments).astype("object").where(lambda s: s.notna(), unknown).astype("str")
    sizes = labels.value_counts()
    by_size = sorted(sizes.index, key=lambda s: (-int(sizes[s]), s))  # ties: by label
    if top is not None and len(sizes) > top:
        labels = labels.where(labels.isin(set(by_size[:top])), other)
        sizes = labels.value_counts()
        by_size = sorted(sizes.index, key=lambda s: (-int(sizes[s]), s))
    names = sorted(sizes.index) if order == "label" else by_size
    groups = pd.Categorical(labels, categories=names).codes.astype(np.int64)
    first, reached, days = _reached(times, m)
    out = _funnel_rows(first, reached, days, groups, len(names), m, level)
    k = len(m.stages)
    seg_size = np.repeat(sizes.reindex(names).to_numpy(dtype=np.int64), k)
    out.insert(0, "segment", pd.Series(np.repeat(np.array(names, dtype=object), k), dtype="str"))
    out.insert(1, "segment_customers", seg_size)
    out = add_proportion(out, "share", out["customers"], seg_size, level=level)
    cols = ["segment", "segment_customers", "stage", "name", "customers", "share", "share_ci_low", "share_ci_high"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    out.attrs["segment"] = segments.name
    return out


def funnel_matrix(by_segment: pd.DataFrame, *, values: str = "in_order_share") -> pd.DataFrame:
    """A segment x stage table of one column of :func:`funnel_by_segment`, for reading at a glance.

    Rows are segments in the order of ``by_segment`` with their ``customers``, columns the
    stage names in model order; ``values`` is any numeric column (``in_order_share``,
    ``share``, ``conversion``, ``reached_in_order``...). Shares are marked as such in
    ``attrs["units"]``, so the kit's table style shows percentages.

    >>> by = pd.DataFrame({"segment": ["x", "x", "y", "y"], "segment_customers": [4, 4, 2, 2],
    ...                    "name": ["Visit", "Buy"] * 2, "in_order_share": [1.0, 0.5, 1.0, 0.0]})
    >>> funnel_matrix(by)
             customers  Visit  Buy
    segment
    x                4    1.0  0.5
    y                2    1.0  0.0
    """
    _require(by_segment, ["segment", "segment_customers", "name", values], "funnel-by-segment")
    segments = list(dict.fromkeys(by_segment["segment"]))
    stages = list(dict.fromkeys(by_segment["name"]))
    wide = by_segment.pivot(index="segment", columns="name", values=values).reindex(index=segments, columns=stages)
    sizes = by_segment.groupby("segment", sort=False)["segment_customers"].first().reindex(segments)
    out = pd.concat([sizes.rename("customers"), wide], axis=1)
    out.index.name, out.columns.name = "segment", None
    shares = values in by_segment.attrs.get("units", {}) or values in ("share", "conversion") or \
        values.endswith(("_share", "_rate"))
    out.attrs = {"units": {name: "share" for name in stages}} if shares else {}
    return out


def compare_segments(by_segment: pd.DataFrame, a: str, b: str, *, alpha: float = 0.05,
                     level: float = 0.95) -> pd.DataFrame:
    """A two-proportion z-test per funnel step, segment ``a`` against segment ``b``.

    Each step compares the step conversions (``reached_in_order`` / ``previous_in_order``)
    of the two segments with statsmodels' ``proportions_ztest`` (pooled variance), and the
    difference ``a - b`` gets Newcombe's hybrid score interval (statsmodels'
    ``confint_proportions_2indep``). Testing every step of a funnel is several tests at
    once: at a 5% level each, some "significant" steps appear by chance alone, so the
    p-values are also adjusted with Holm's method (statsmodels' ``multipletests``) over
    the steps tested, and ``significant`` uses the adjusted value.

    Parameters
    ----------
    by_segment : DataFrame
        The output of :func:`funnel_by_segment`.
    a, b : str
        Two segment labels. A label absent from the table has no customers: its steps
        are not tested (NaN), and ``attrs["caption"]`` says so.
    alpha : float
        Family-wise error rate of the Holm adjustment.
    level : float
        Confidence level of the interval of the difference.

    Returns
    -------
    DataFrame
        One row per stage: ``stage``, ``name``, ``n_a``, ``conversion_a``, ``n_b``,
        ``conversion_b`` (``n`` = customers who reached the previous stage in order),
        ``difference`` (a - b) with ``difference_ci_low`` / ``difference_ci_high``, ``z``,
        ``p_value``, ``p_holm`` and ``significant`` (``p_holm < alpha``). A step with no
        customers on one side, or the same all-or-nothing outcome on both, has no test.

    Examples
    --------
    >>> by = pd.DataFrame({"segment": ["x", "x", "y", "y"], "stage": ["visit", "cart"] * 2,
    ...                    "name": ["Visit", "Cart"] * 2, "previous_in_order": [100, 100, 100, 100],
    ...                    "reached_in_order": [100, 30, 100, 20]})
    >>> t = compare_segments(by, "x", "y")
    >>> t[["stage", "conversion_a", "conversion_b", "z", "p_value"]].round(4)
       stage  conversion_a  conversion_b      z  p_value
    0  visit           1.0           1.0    NaN      NaN
    1   cart           0.3           0.2  1.633   0.1025
    """
    from statsmodels.stats.multitest import multipletests
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

    _require(by_segment, ["segment", "stage", "previous_in_order", "reached_in_order"], "funnel-by-segment")
    stages = by_segment["stage"].drop_duplicates()
    names = by_segment.drop_duplicates("stage").set_index("stage")["name"] if "name" in by_segment \
        else pd.Series(stages.to_numpy(), index=stages.to_numpy())

    def side(label: str) -> tuple[np.ndarray, np.ndarray]:
        rows = by_segment[by_segment["segment"] == label].set_index("stage")
        rows = rows.reindex(stages.to_numpy())
        return (rows["reached_in_order"].fillna(0).to_numpy(dtype=np.int64),
                rows["previous_in_order"].fillna(0).to_numpy(dtype=np.int64))

    (ka, na), (kb, nb) = side(a), side(b)
    k = len(stages)
    z, p, low, high = (np.full(k, np.nan) for _ in range(4))
    for j in range(k):  # one test per funnel step (a handful), not per customer
        if na[j] == 0 or nb[j] == 0:
            continue
        pooled = (ka[j] + kb[j]) / (na[j] + nb[j])
        if 0 < pooled < 1:
            z[j], p[j] = proportions_ztest([ka[j], kb[j]], [na[j], nb[j]])
        low[j], high[j] = confint_proportions_2indep(ka[j], na[j], kb[j], nb[j], method="newcomb", compare="diff",
                                                     alpha=1 - level)
    adjusted = np.full(k, np.nan)
    tested = ~np.isnan(p)
    if tested.any():
        adjusted[tested] = multipletests(p[tested], alpha=alpha, method="holm")[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        ca = np.where(na > 0, ka / np.where(na > 0, na, 1), np.nan)
        cb = np.where(nb > 0, kb / np.where(nb > 0, nb, 1), np.nan)
    out = pd.DataFrame({"stage": stages.to_numpy(), "name": names.reindex(stages.to_numpy()).to_numpy(),
                        "n_a": na, "conversion_a": ca, "n_b": nb, "conversion_b": cb,
                        "difference": ca - cb, "difference_ci_low": low, "difference_ci_high": high,
                        "z": z, "p_value": p, "p_holm": adjusted,
                        "significant": pd.array(np.where(tested, adjusted < alpha, None), dtype="boolean")})
    out.attrs["units"] = {"conversion_a": "share", "conversion_b": "share", "difference": "share"}
    absent = [s for s in (a, b) if not (by_segment["segment"] == s).any()]
    note = (f"a = {a!r}, b = {b!r}. Two-proportion z-test per step; p_holm: Holm-adjusted over the "
            f"{int(tested.sum())} steps tested, so that the chance of any false alarm stays at {alpha:.0%}.")
    if absent:
        note += f" No customers in segment {', '.join(map(repr, absent))}: those steps are not tested."
    out.attrs["caption"] = note
    return out
