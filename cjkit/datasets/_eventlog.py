"""Columnar accumulator of generated events, turned into the events table at the end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import spec
from ._sampling import clock

CH = {c: i for i, c in enumerate(spec.CHANNELS)}
EV = {e: i for i, e in enumerate(spec.EVENTS)}


def to_timestamps(start: pd.Timestamp, t: np.ndarray, offset_min: np.ndarray | float = 0.0
                  ) -> pd.DatetimeIndex:
    """Naive local timestamps (whole seconds) of continuous times plus minute offsets."""
    seconds = np.round((clock(np.asarray(t, dtype=float)) + np.asarray(offset_min) / 1440.0)
                       * 86400.0).astype(np.int64)
    return pd.DatetimeIndex(start + pd.to_timedelta(seconds, unit="s")).as_unit("ns")


def make_ids(prefix: str, numbers: np.ndarray, width: int, suffix: str = "") -> np.ndarray:
    """``prefix`` + zero-padded numbers (+ ``suffix``) as an object array (empty-safe)."""
    numbers = np.asarray(numbers)
    if len(numbers) == 0:
        return np.array([], dtype=object)
    out = np.char.add(prefix, np.char.zfill(numbers.astype(str), width))
    return (np.char.add(out, suffix) if suffix else out).astype(object)


class EventLog:
    """Collects event rows as integer-coded arrays; ``frame`` builds the table once."""

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray]] = []
        self._sessions = 0

    def new_sessions(self, n: int) -> np.ndarray:
        """Fresh session keys (``n`` consecutive integers)."""
        keys = np.arange(self._sessions, self._sessions + n, dtype=np.int64)
        self._sessions += n
        return keys

    def add(self, cust, t, channel, event, *, campaign=-1, session=-1, revenue=np.nan,
            offset=0.0) -> None:
        """Append rows; scalars broadcast to the length of ``cust``."""
        cust = np.asarray(cust, dtype=np.int64)
        n = len(cust)
        if n == 0:
            return
        part = {
            "cust": cust,
            "t": np.broadcast_to(np.asarray(t, dtype=float), n),
            "channel": np.broadcast_to(np.asarray(channel, dtype=np.int64), n),
            "event": np.broadcast_to(np.asarray(event, dtype=np.int64), n),
            "campaign": np.broadcast_to(np.asarray(campaign, dtype=np.int64), n),
            "session": np.broadcast_to(np.asarray(session, dtype=np.int64), n),
            "revenue": np.broadcast_to(np.asarray(revenue, dtype=float), n),
            "offset": np.broadcast_to(np.asarray(offset, dtype=float), n),
        }
        self._parts.append(part)

    def frame(self, start: pd.Timestamp, customer_ids: np.ndarray, campaigns: list[str],
              end_days: float) -> pd.DataFrame:
        """The events table: sorted by customer and time, session ids in order of use."""
        cols = {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}
        keep = cols["t"] < end_days
        cols = {k: v[keep] for k, v in cols.items()}
        ts = to_timestamps(start, cols["t"], cols["offset"])
        order = np.lexsort((ts.asi8, cols["cust"]))
        cols = {k: v[order] for k, v in cols.items()}
        ts = ts[order]
        sess = cols["session"]
        has = sess >= 0
        codes, _ = pd.factorize(sess[has])
        session_id = np.full(len(sess), None, dtype=object)
        session_id[has] = make_ids("S", codes + 1, 7)
        camp = cols["campaign"]
        campaign = np.full(len(camp), None, dtype=object)
        campaign[camp >= 0] = np.asarray(campaigns, dtype=object)[camp[camp >= 0]]
        return pd.DataFrame({
            "customer_id": pd.array(customer_ids[cols["cust"]], dtype="str"),
            "timestamp": ts,
            "channel": pd.array(np.asarray(spec.CHANNELS, dtype=object)[cols["channel"]],
                                dtype="str"),
            "event": pd.array(np.asarray(spec.EVENTS, dtype=object)[cols["event"]], dtype="str"),
            "campaign": pd.array(campaign, dtype="str"),
            "session_id": pd.array(session_id, dtype="str"),
            "revenue": cols["revenue"].astype(float),
        })
