"""Shapley-value attribution over channel sets, exact for up to 15 channels.

A path is summarised by the *set* of channels it touched. For each observed set ``S`` the
conversion rate ``v(S) = conversions / (conversions + nulls)`` plays the role of the
coalition's worth. ``v(empty)``, the rate with no channel at all, is the *baseline*: no
path shows it, and it matters, since with ``v(empty) = 0`` the conversions that would
happen anyway are shared out as if channels caused them, favouring the channels on most
paths. ``baseline="auto"`` takes the lowest conversion rate of the single-channel paths
(channels with at least 30 such journeys), an upper bound of the baseline when adding a
channel never lowers the rate; give a number to set it, 0 to credit every conversion.
A set never observed takes the best worth of its subsets one channel smaller (worth
never falls when a channel is added). The credit of a
channel inside the paths with set ``S`` is its Shapley value in the game restricted to the
subsets of ``S``, times the number of those paths; the credit of all sets is then scaled
to add up to the total conversions (and, with value rates, to the total value).

The Shapley values of every set at once come from the Harsanyi dividends
``d(T) = sum_{U <= T} (-1)^{|T|-|U|} v(U)``: ``phi_c(S) = sum_{c in T <= S} d(T) / |T|``,
two fast subset transforms of ``O(n 2^n)`` each instead of ``n!`` orderings.

A channel can get negative credit: the journeys that touch it convert less often than the
same journeys without it. That is a finding (or noise in small sets), not an error, and it
is kept so that the credit still adds up.

Without nulls (an export of converting paths only) no rate can be formed: the worth of a
set is then its conversions, which gives each channel of a path an equal share.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cjkit.attribution.heuristics import credit_table
from cjkit.attribution.paths import EncodedPaths, encode_paths

__all__ = ["MAX_SHAPLEY_CHANNELS", "shapley_model", "shapley_values", "channel_sets"]

#: above this many channels the 2^n coalitions no longer fit in a second
MAX_SHAPLEY_CHANNELS = 15


def channel_sets(paths: pd.DataFrame | EncodedPaths) -> pd.DataFrame:
    """Conversions, value and journeys per channel set (a bit mask; channel i is bit i).

    >>> channel_sets(pd.DataFrame({"path": ["a > b > a", "b > a", "b"], "conversions": [2, 1, 0],
    ...                            "nulls": [1, 1, 3]}))
       mask  conversions  value  journeys
    0     2          0.0    0.0       3.0
    1     3          3.0    0.0       5.0
    """
    enc = encode_paths(paths)
    masks = _masks(enc)
    g = pd.DataFrame({"mask": masks, "conversions": enc.conversions, "value": enc.value,
                      "journeys": enc.conversions + enc.nulls}).groupby("mask").sum()
    return g.reset_index()


def _masks(enc: EncodedPaths) -> np.ndarray:
    n = len(enc.channels)
    if n > MAX_SHAPLEY_CHANNELS:
        raise ValueError(f"Shapley attribution is exact for up to {MAX_SHAPLEY_CHANNELS} channels (2^n "
                         f"coalitions); these paths have {n} ({', '.join(map(str, enc.channels[:20]))}"
                         f"{'...' if n > 20 else ''}). Group rare channels into one (e.g. 'other') first")
    bits = np.left_shift(np.int64(1), enc.codes.astype(np.int64))
    return np.bitwise_or.reduceat(bits, enc.starts[:-1]) if len(bits) else np.zeros(0, np.int64)


def shapley_values(worth: np.ndarray, n: int) -> np.ndarray:
    """Shapley values of every coalition's own game: ``(2^n x n)``, row S holds phi(S).

    ``worth[T]`` is v(T) for every bit mask T (``worth[0]`` = v(empty)).

    >>> v = np.array([0.0, 0.2, 0.3, 0.8])  # v(a) = .2, v(b) = .3, v(ab) = .8
    >>> shapley_values(v, 2)[3].round(6).tolist()   # a: (.2 + (.8 - .3)) / 2
    [0.35, 0.45]
    """
    size = 1 << n
    d = worth.astype(float).copy()
    for i in range(n):  # Moebius transform: dividends
        bit = 1 << i
        idx = np.arange(size)
        has = (idx & bit) != 0
        d[has] -= d[idx[has] ^ bit]
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount += (np.arange(size) >> i) & 1
    per = np.divide(d, popcount, out=np.zeros(size), where=popcount > 0)
    phi = np.zeros((size, n))
    idx = np.arange(size)
    for c in range(n):
        g = np.where((idx >> c) & 1, per, 0.0)
        for i in range(n):  # zeta transform: sum over subsets
            bit = 1 << i
            has = (idx & bit) != 0
            g[has] += g[idx[has] ^ bit]
        phi[:, c] = g
    return phi


def _baseline(worth: np.ndarray, journeys: np.ndarray, n: int, baseline: float | str,
              min_journeys: float = 30) -> float:
    if baseline != "auto":
        b = float(baseline)
        if not b >= 0:
            raise ValueError(f'baseline must be "auto" or a rate >= 0, not {baseline!r}')
        return b
    singles = np.array([1 << i for i in range(n)], dtype=np.int64)
    enough = journeys[singles] >= min_journeys
    return float(worth[singles][enough].min()) if enough.any() else 0.0


def _worth(sets: pd.DataFrame, column: str, n: int, baseline: float | str) -> np.ndarray:
    size = 1 << n
    num = np.zeros(size)
    den = np.zeros(size)
    np.add.at(num, sets["mask"].to_numpy(), sets[column].to_numpy(float))
    np.add.at(den, sets["mask"].to_numpy(), sets["journeys"].to_numpy(float))
    seen = den > 0
    v = np.divide(num, den, out=np.zeros(size), where=seen)
    idx = np.arange(size)
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount += (idx >> i) & 1
    v[0] = _baseline(v, den, n, baseline)
    for k in range(1, n + 1):  # unseen sets: the best subset one channel smaller
        level = idx[(popcount == k) & ~seen]
        if len(level):
            best = np.full(len(level), v[0])
            for i in range(n):
                has = (level >> i) & 1 == 1
                best[has] = np.maximum(best[has], v[level[has] ^ (1 << i)])
            v[level] = best
    return v


def shapley_model(paths: pd.DataFrame | EncodedPaths, *, baseline: float | str = "auto") -> pd.DataFrame:
    """Shapley credit in the attribution schema (model ``shapley``).

    ``attrs["baseline"]`` is the conversion rate used for no channel (see the module
    docstring); the examples have too few journeys for "auto" and use 0.

    Examples
    --------
    Paths through a alone convert 1 in 5, through b alone 3 in 10, through both 8 in 10:
    in ``{a, b}`` a earns (0.2 + 0.5) / 2 = 0.35 a journey and b 0.45. Over 10 such journeys
    that is 3.5 and 4.5; a alone earns 5 x 0.2 = 1 and b alone 10 x 0.3 = 3; the 12
    conversions are shared 4.5 : 7.5.

    >>> paths = pd.DataFrame({"path": ["a", "b", "a > b"], "conversions": [1, 3, 8], "nulls": [4, 7, 2]})
    >>> shapley_model(paths, baseline=0)[["channel", "conversions"]]
      channel  conversions
    0       a          4.5
    1       b          7.5
    """
    enc = encode_paths(paths)
    n = len(enc.channels)
    sets = channel_sets(enc)
    rates = bool(enc.nulls.sum() > 0)
    total_conv, total_value = enc.totals
    credit = []
    used = 0.0
    for column, total in (("conversions", total_conv), ("value", total_value)):
        masks = sets["mask"].to_numpy()
        if rates:
            worth = _worth(sets, column, n, baseline)
            used = worth[0] if column == "conversions" else used
            phi = shapley_values(worth, n)[masks]
            raw = (phi * sets["journeys"].to_numpy(float)[:, None]).sum(axis=0)
        else:  # worth of a set = its conversions: an equal share for each channel of the set
            member = ((masks[:, None] >> np.arange(n)) & 1).astype(float)
            raw = (member / member.sum(axis=1, keepdims=True) * sets[column].to_numpy(float)[:, None]).sum(axis=0)
        s = raw.sum()
        credit.append(total * raw / s if s > 0 else np.zeros(n))
    out = credit_table("shapley", enc.channels, credit[0], credit[1])
    out.attrs["baseline"] = used
    return out
