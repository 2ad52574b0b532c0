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
two-proportion z-test per step, Holm-adjusted), :func:`furthest_stages` (both definitions)
and :func:`stage_transitions` (furthest stage at the end of two periods).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import add_proportion
from cjkit.journey import JourneyModel, ModelKey, _require, get_model
from cjkit.stages import _stage_positions

__all__ = ["stage_times", "funnel_table", "weakest_step", "customer_segments", "funnel_by_segment",
           "funnel_matrix", "compare_segments", "furthest_stages", "stage_transitions", "transition_matrix", "transition_summary", "middle_day",
           "NONE"]

#: label of "no stage reached yet" in stage transitions
NONE = "none"
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
