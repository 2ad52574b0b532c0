"""Vectorised sampling helpers and the campaign calendar of the generator (private)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import spec

#: Hourly weights of activity between 08:00 and 23:00 (evening peak).
_HOUR_WEIGHTS = np.array([3, 4, 5, 5, 6, 6, 5, 5, 6, 8, 10, 11, 10, 8, 5], dtype=float)
_HOUR_CDF = np.concatenate([[0.0], np.cumsum(_HOUR_WEIGHTS) / _HOUR_WEIGHTS.sum()])
_HOUR_GRID = 8.0 + np.arange(len(_HOUR_WEIGHTS) + 1)
#: Minimum continuous-time gap (days) that stays >= 40 clock minutes after the warp.
MIN_GAP = 0.08


def trunc_exp(rng: np.random.Generator, mean: float, cap: np.ndarray) -> np.ndarray:
    """Exponential(mean) draws truncated to [0, cap] (cap may be 0)."""
    cap = np.maximum(np.asarray(cap, dtype=float), 0.0)
    u = rng.random(cap.shape)
    return -mean * np.log1p(-u * -np.expm1(-cap / mean))


def pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of ``probs`` (rows need not be normalised)."""
    probs = np.asarray(probs, dtype=float)
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def clock(t: np.ndarray) -> np.ndarray:
    """Monotone map from continuous days to shop-hours days (08:00-23:00, evening peak)."""
    day = np.floor(t)
    hours = np.interp(t - day, _HOUR_CDF, _HOUR_GRID)
    return day + hours / 24.0


def session_offsets(rng: np.random.Generator, n_rows: int, n_steps: int) -> np.ndarray:
    """Cumulative minutes between the steps of a session (each step 0.2-6 minutes)."""
    steps = np.clip(rng.exponential(1.8, (n_rows, n_steps)), 0.2, 6.0)
    steps[:, 0] = 0.0
    return np.cumsum(steps, axis=1)


@dataclass
class Calendar:
    """Days of the observation and holdout windows with the campaign activity matrix."""

    start: pd.Timestamp
    end_days: int                 # first day after the observation window (exclusive)
    holdout_days: int             # first day after the holdout window (exclusive)
    dates: pd.DatetimeIndex = field(init=False)
    campaigns: pd.DataFrame = field(init=False)
    active: np.ndarray = field(init=False)      # (days, campaigns) bool, over both windows

    def __post_init__(self) -> None:
        self.dates = pd.date_range(self.start, periods=self.holdout_days, freq="D")
        month, mday = self.dates.month.to_numpy(), self.dates.day.to_numpy()
        md = month * 100 + mday
        cols = []
        for c in spec.CAMPAIGNS:
            kind = c["kind"]
            if kind == "always":
                on = np.ones(len(self.dates), bool)
            elif kind == "months":
                on = (month >= c["months"][0]) & (month <= c["months"][1])
            elif kind == "md":
                (m1, d1), (m2, d2) = c["md"]
                on = (md >= m1 * 100 + d1) & (md <= m2 * 100 + d2)
            elif kind == "dates":
                lo, hi = (pd.Timestamp(x) for x in c["dates"])
                on = np.asarray((self.dates >= lo) & (self.dates <= hi))
            elif kind == "sends":
                on = np.zeros(len(self.dates), bool)
                for m, d in c["sends"]:
                    on |= (mday == spec.NEWSLETTER_DAY) if m == 0 else (md == m * 100 + d)
            elif kind == "saturdays":
                on = np.asarray(self.dates.day_of_week == 5)
            else:  # pragma: no cover - spec is fixed
                raise ValueError(f"unknown campaign kind {kind!r}")
            cols.append(on)
        self.active = np.column_stack(cols)
        self.campaigns = pd.DataFrame(
            {"name": [c["name"] for c in spec.CAMPAIGNS],
             "channel": [c["channel"] for c in spec.CAMPAIGNS],
             "kind": [c["kind"] for c in spec.CAMPAIGNS],
             "budget": [c["budget"] for c in spec.CAMPAIGNS],
             "touch": [c["touch"] for c in spec.CAMPAIGNS]})

    @property
    def names(self) -> list[str]:
        """Distinct campaign names, in first-seen order (codes index this list)."""
        return list(dict.fromkeys(self.campaigns["name"]))

    def code(self, name: str) -> int:
        return self.names.index(name)

    def row_codes(self) -> np.ndarray:
        """Campaign code of every row of ``campaigns``."""
        return np.array([self.code(n) for n in self.campaigns["name"]], dtype=np.int64)

    def tv_flights(self) -> np.ndarray:
        """(k, 2) array of TV flights as [first day, last day + 1) in days."""
        rows = np.flatnonzero(self.campaigns["channel"] == "tv")
        out = []
        for j in rows:
            days = np.flatnonzero(self.active[:, j])
            out.append((days[0], days[-1] + 1))
        return np.array(out, dtype=float)

    def send_days(self, end: int) -> tuple[np.ndarray, np.ndarray]:
        """Email send days before ``end`` and the campaign code of each send."""
        days, codes = [], []
        for j in np.flatnonzero(self.campaigns["kind"] == "sends"):
            d = np.flatnonzero(self.active[:end, j])
            days.append(d)
            codes.append(np.full(len(d), self.code(self.campaigns["name"][j])))
        days_a, codes_a = np.concatenate(days), np.concatenate(codes)
        order = np.argsort(days_a, kind="stable")
        return days_a[order], codes_a[order]

    def choose(self, rng: np.random.Generator, channel: str, t: np.ndarray) -> np.ndarray:
        """Campaign code of touches on ``channel`` at times ``t`` (-1 = no campaign)."""
        rows = np.flatnonzero((self.campaigns["channel"] == channel) & (self.campaigns["touch"] > 0))
        day = np.clip(np.floor(t).astype(np.int64), 0, len(self.dates) - 1)
        if len(rows) == 0:
            return np.full(len(t), -1, dtype=np.int64)
        weights = self.active[day][:, rows] * self.campaigns["touch"].to_numpy()[rows]
        idx = pick(rng, np.where(weights.sum(axis=1, keepdims=True) > 0, weights, 1.0))
        codes = self.row_codes()[rows][idx]
        none = rng.random(len(t)) < spec.NO_CAMPAIGN_SHARE.get(channel, 0.0)
        codes[none | (weights.sum(axis=1) == 0)] = -1
        return codes


def day_weights(cal: Calendar, channel: str) -> np.ndarray:
    """Relative chance of a first touch on each observation day for a source channel."""
    dates = cal.dates[: cal.end_days]
    n = len(dates)
    w = np.asarray(spec.MONTH_FACTOR)[dates.month.to_numpy() - 1]
    w = w * (1.0 + 0.3 * np.arange(n) / n)
    dow = dates.day_of_week.to_numpy()
    if channel == "store":
        w = w * np.select([dow == 5, dow == 6], [2.2, 0.0], 0.9)
    else:
        w = w * np.where(dow >= 5, 1.15, 1.0)
    if channel == "tv":
        on = np.zeros(n, bool)
        for lo, hi in cal.tv_flights():
            on[int(lo): int(min(hi, n))] = True
        w = w * on
    w[n - 2:] = 0.0          # leave room for a signup and a path before the window closes
    return w / w.sum()
