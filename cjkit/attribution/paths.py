"""Conversion paths: built from events, or read as an export, and encoded for the models.

A *path* is the ordered list of channels a customer (or a session) touched before a
conversion. Every model of :mod:`cjkit.attribution` reads the aggregated form, one row per
distinct path, the layout of the client table ``paths`` and of ChannelAttribution:

============ ===================================================================
path         channels joined by ``" > "`` (``"search > email > email"``)
conversions  conversions that followed this path
value        their total value (0 when unknown)
nulls        journeys along this path that did not convert
============ ===================================================================

:func:`journeys_from_events` is the one heavy reduction (events -> one row per journey);
:func:`aggregate_paths` groups journeys by path. :func:`encode_paths` turns the aggregated
table into flat integer arrays (one channel code per touch, with offsets) that the models
share, so a path string is split once.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SEP", "journeys_from_events", "aggregate_paths", "paths_from_events", "check_paths", "client_paths",
           "EncodedPaths", "encode_paths"]

#: the separator of channels in a path (the canonical ``paths.path``)
SEP = " > "


def journeys_from_events(events: pd.DataFrame, *, conversion: str | Iterable[str] = "first_purchase",
                         by: str = "customer_id", lookback_days: float | None = None,
                         value_col: str = "revenue", trailing: str = "null") -> pd.DataFrame:
    """One row per journey: the channels a customer (or session) touched before a conversion.

    Events are ordered by time within ``by``. Each conversion event closes a journey made of
    the events after the previous conversion and strictly before it (the conversion's own
    channel is not part of its path), keeping only those within ``lookback_days`` before
    the conversion. The events after a customer's last conversion form a non-converting
    journey when ``trailing="null"``; with ``trailing="drop"`` they are left out (right
    for a conversion that happens once, such as a first purchase); customers who never
    converted always give a non-converting journey.

    Parameters
    ----------
    events : DataFrame
        ``by``, ``timestamp``, ``channel``, ``event`` and optionally ``value_col``.
    conversion : str or list of str
        Event name(s) that count as a conversion.

    Returns
    -------
    DataFrame
        ``by``, ``path`` (str), ``length`` (touches), ``converted`` (bool), ``value`` (the
        conversion event's ``value_col``, 0 when missing), ``first_at`` (first touch),
        ``end_at`` (conversion, or last touch). ``attrs["left_out"]`` counts the events left
        out (without a ``by`` id, outside the lookback window, after the last conversion with
        ``trailing="drop"``, conversions with no touch before them).

    Examples
    --------
    >>> ev = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"],
    ...     "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-09", "2024-01-01"]),
    ...     "channel": ["search", "email", "email", "tv", "tv"],
    ...     "event": ["visit", "open", "first_purchase", "visit", "visit"], "revenue": [None, None, 30.0, None, None]})
    >>> journeys_from_events(ev)[["customer_id", "path", "converted", "value"]]
      customer_id            path  converted  value
    0           a  search > email       True   30.0
    1           a              tv      False    0.0
    2           b              tv      False    0.0
    >>> journeys_from_events(ev, trailing="drop", lookback_days=1.5)["path"].tolist()
    ['email', 'tv']
    """
    if trailing not in ("null", "drop"):
        raise ValueError(f'trailing must be "null" or "drop", not {trailing!r}')
    need = [by, "timestamp", "channel", "event"]
    missing = [c for c in need if c not in events]
    if missing:
        raise KeyError(f"events: column {missing[0]!r} is missing (columns: {', '.join(map(str, events.columns))})")
    names = {conversion} if isinstance(conversion, str) else set(conversion)
    has_key = events[by].notna()
    ev = events.loc[has_key, need + ([value_col] if value_col in events else [])]
    ev = ev.sort_values([by, "timestamp"], kind="stable").reset_index(drop=True)
    who = ev[by].to_numpy()
    is_conv = ev["event"].isin(names).to_numpy()
    new_who = np.r_[True, who[1:] != who[:-1]]
    # journey number inside a customer: conversions seen strictly before this row
    conv_before = np.cumsum(is_conv) - is_conv
    first_row = np.flatnonzero(new_who)
    start_conv = np.repeat(conv_before[first_row], np.diff(np.r_[first_row, len(ev)]))
    journey = conv_before - start_conv
    cust = np.cumsum(new_who) - 1
    key = pd.MultiIndex.from_arrays([cust, journey])
    jid = pd.factorize(key)[0]
    ts = ev["timestamp"]
    stamps = ts.to_numpy("datetime64[ns]")  # not ts.to_numpy(): tz-aware times would become Python objects
    conv_rows = np.flatnonzero(is_conv)
    end_time = ts.iloc[conv_rows].set_axis(jid[conv_rows])
    end_time = end_time[~end_time.index.duplicated()]
    converted = np.zeros(jid.max() + 1 if len(jid) else 0, dtype=bool)
    converted[jid[conv_rows]] = True
    touch = ~is_conv
    left_out = int((~has_key).sum())  # events without a customer (or session) id
    if lookback_days is not None:
        ends = end_time.reindex(jid).to_numpy("datetime64[ns]")
        far = converted[jid] & (stamps < ends - pd.Timedelta(days=float(lookback_days)).to_timedelta64())
        left_out += int((touch & far).sum())
        touch &= ~far
    if trailing == "drop":
        # journeys after the last conversion of a customer who converted at least once
        ever = pd.Series(is_conv).groupby(cust).transform("any").to_numpy()
        drop = ever & ~converted[jid]
        left_out += int((touch & drop).sum())
        touch &= ~drop
    t = ev.loc[touch, [by, "timestamp", "channel"]].assign(_j=jid[touch])
    g = t.groupby("_j", sort=True)
    out = pd.DataFrame({by: g[by].first(), "path": _joined(t["channel"], t["_j"].to_numpy()), "length": g.size(),
                        "first_at": g["timestamp"].min(), "end_at": g["timestamp"].max()})
    out["converted"] = converted[out.index.to_numpy()]
    conv_ids = out.index[out["converted"]]
    out.loc[conv_ids, "end_at"] = end_time.reindex(conv_ids).to_numpy()
    value = np.zeros(len(out))
    if value_col in ev:
        vals = pd.Series(ev[value_col].to_numpy()[conv_rows], index=jid[conv_rows]).fillna(0.0)
        vals = vals.groupby(level=0).sum()
        value = vals.reindex(out.index).fillna(0.0).to_numpy()
    out["value"] = np.where(out["converted"], value, 0.0)
    left_out += int(converted.sum() - out["converted"].sum())  # conversions with no touch before
    out = out[[by, "path", "length", "converted", "value", "first_at", "end_at"]].reset_index(drop=True)
    out.attrs["left_out"] = left_out
    return out


def _joined(channels: pd.Series, group: np.ndarray) -> pd.Series:
    """Channels joined by " > " per group, in row order; rows of a group are contiguous, groups ascending.

    ``np.add.reduceat`` concatenates the strings in one C loop (a groupby ``agg(" > ".join)``
    calls Python once per group: 0.7 s for the demo's 20,000 journeys).

    >>> _joined(pd.Series(["a", "b", "c"]), np.array([0, 0, 3])).to_dict()
    {0: 'a > b', 3: 'c'}
    """
    if not len(group):
        return pd.Series([], dtype=object)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    pieces = (channels.astype(str) + SEP).to_numpy(object)
    text = np.add.reduceat(pieces, starts)
    return pd.Series([t[: -len(SEP)] for t in text], index=group[starts])


def aggregate_paths(journeys: pd.DataFrame) -> pd.DataFrame:
    """Group journeys by path: ``path``, ``conversions``, ``value``, ``nulls`` (most conversions first).

    >>> j = pd.DataFrame({"path": ["a > b", "a > b", "b"], "converted": [True, False, True],
    ...                   "value": [10.0, 0.0, 5.0]})
    >>> aggregate_paths(j)
        path  conversions  value  nulls
    0  a > b          1.0   10.0    1.0
    1      b          1.0    5.0    0.0
    """
    conv = journeys["converted"].astype(bool)
    g = pd.DataFrame({"path": journeys["path"], "conversions": conv.astype(float),
                      "value": journeys["value"].where(conv, 0.0).astype(float),
                      "nulls": (~conv).astype(float)}).groupby("path", sort=False).sum()
    out = g.reset_index().sort_values(["conversions", "nulls", "path"], ascending=[False, False, True],
                                      kind="stable").reset_index(drop=True)
    return out


def paths_from_events(events: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    """:func:`journeys_from_events` then :func:`aggregate_paths` (same options)."""
    journeys = journeys_from_events(events, **kwargs)  # type: ignore[arg-type]
    out = aggregate_paths(journeys)
    out.attrs["left_out"] = journeys.attrs["left_out"]
    return out


def client_paths(data: Any, *, source: str = "auto", conversion: str | Iterable[str] = "first_purchase",
                 trailing: str = "drop", lookback_days: float | None = None
                 ) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """A client's paths: built from its events, or read from its ``paths`` export.

    ``source`` is ``"events"``, ``"paths"`` or ``"auto"`` (events when the client has them).
    ``data`` is a :class:`~cjkit.contract.load.ClientData` (``has``, ``events``, ``paths``).

    Returns
    -------
    (paths, journeys, description)
        The aggregated paths; the journeys they came from (None for an export, which has
        no times); one sentence saying where the paths come from and what was left out.
    """
    if source not in ("auto", "events", "paths"):
        raise ValueError(f'source must be "auto", "events" or "paths", not {source!r}')
    if data.has("events") and not (source == "paths" and data.has("paths")):
        journeys = journeys_from_events(data.events, conversion=conversion, trailing=trailing,
                                        lookback_days=lookback_days)
        names = [conversion] if isinstance(conversion, str) else list(conversion)
        text = (f"built from {len(data.events):,} events: a path ends at each "
                + " or ".join(f"`{n}`" for n in names) + " event"
                + (f", touches within {lookback_days:g} days before it" if lookback_days else "")
                + f"; {journeys.attrs['left_out']:,} events left out (outside the lookback window, "
                "after the last conversion, or conversions with no touch before them)")
        return aggregate_paths(journeys), journeys, text
    paths = check_paths(data.paths)
    return paths, None, f"read from the client's paths table ({len(paths):,} distinct paths)"


def check_paths(paths: pd.DataFrame) -> pd.DataFrame:
    """The aggregated paths in canonical form: ``value`` and ``nulls`` filled with 0, floats.

    Raises a ValueError naming the rows when a path is empty or a count is negative.
    """
    if "path" not in paths or "conversions" not in paths:
        raise KeyError("paths: needs the columns 'path' and 'conversions' "
                       f"(columns: {', '.join(map(str, paths.columns))})")
    out = pd.DataFrame({"path": paths["path"].astype("str"),
                        "conversions": paths["conversions"].astype(float).fillna(0.0)})
    for col in ("value", "nulls"):
        out[col] = paths[col].astype(float).fillna(0.0) if col in paths else 0.0
    bad = paths["path"].isna().to_numpy() | (out["path"].str.len() == 0).to_numpy()
    if bad.any():
        raise ValueError(f"paths: {int(bad.sum())} rows with an empty path (e.g. row {int(np.flatnonzero(bad)[0])})")
    for col in ("conversions", "value", "nulls"):
        neg = out[col] < 0
        if neg.any():
            raise ValueError(f"paths.{col}: {int(neg.sum())} rows below 0 (e.g. {out.loc[neg, col].iloc[0]} "
                             f"for path {out.loc[neg, 'path'].iloc[0]!r})")
    return out


@dataclass(frozen=True)
class EncodedPaths:
    """Paths as flat arrays: ``codes[starts[i]:starts[i+1]]`` are the channels of path ``i``."""

    channels: np.ndarray      # channel names; a code indexes this array
    codes: np.ndarray         # int32, one per touch
    starts: np.ndarray        # int64 offsets, len(paths) + 1
    conversions: np.ndarray   # float per path
    value: np.ndarray
    nulls: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    @property
    def path_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.lengths)), self.lengths)

    @property
    def totals(self) -> tuple[float, float]:
        """(total conversions, total value)."""
        return float(self.conversions.sum()), float(self.value.sum())

    def collapsed(self) -> EncodedPaths:
        """Repeated consecutive channels kept once (``a > a > b`` -> ``a > b``)."""
        keep = np.ones(len(self.codes), dtype=bool)
        keep[1:] = self.codes[1:] != self.codes[:-1]
        keep[self.starts[:-1]] = True
        csum = np.r_[0, np.cumsum(keep)]
        return EncodedPaths(self.channels, self.codes[keep], csum[self.starts], self.conversions,
                            self.value, self.nulls)


def _split(arr: pa.Array, sep: str) -> pa.ListArray:
    """``split_pattern`` in two halves on two threads when there are many paths (Arrow releases the GIL)."""
    n = len(arr)
    if n < 200_000:
        return pc.split_pattern(arr, sep)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        halves = list(pool.map(lambda part: pc.split_pattern(part, sep), [arr.slice(0, n // 2), arr.slice(n // 2)]))
    return pa.chunked_array(halves).combine_chunks()


def encode_paths(paths: pd.DataFrame | EncodedPaths, *, sep: str = SEP) -> EncodedPaths:
    """Split every path once into channel codes (channels sorted by name).

    >>> e = encode_paths(pd.DataFrame({"path": ["b > a > a", "a"], "conversions": [1, 0], "nulls": [0, 2]}))
    >>> e.channels.tolist(), e.codes.tolist(), e.starts.tolist(), e.nulls.tolist()
    (['a', 'b'], [1, 0, 0, 0], [0, 3, 4], [0.0, 2.0])
    >>> e.collapsed().codes.tolist(), e.collapsed().starts.tolist()
    ([1, 0, 0], [0, 2, 3])
    """
    if isinstance(paths, EncodedPaths):
        return paths
    frame = check_paths(paths)
    # split and dictionary-encode in Arrow (C++): one pass over the text, no Python object per touch
    text = frame["path"].array
    arr = getattr(text, "_pa_array", None)
    arr = pa.array(np.asarray(text, dtype=object), type=pa.string()) if arr is None else arr
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    lists = _split(arr, sep)
    encoded = pc.dictionary_encode(lists.flatten())
    names = pd.Index(encoded.dictionary.to_pylist(), dtype=object).astype("str").str.strip()
    if (names == "").any():
        raise ValueError(f"paths: a path has an empty channel (two {sep.strip()!r} in a row?); "
                         f"check the separator {sep!r}")
    channels, merged = np.unique(np.asarray(names, dtype=object).astype(str), return_inverse=True)
    flat = merged.astype(np.int32)[encoded.indices.to_numpy(zero_copy_only=False)] if len(names) else \
        np.zeros(0, dtype=np.int32)
    offsets = lists.offsets.to_numpy()
    starts = (offsets - offsets[0]).astype(np.int64)
    channels = channels.astype(object)
    return EncodedPaths(channels, flat, starts, frame["conversions"].to_numpy(float),
                        frame["value"].to_numpy(float), frame["nulls"].to_numpy(float))
