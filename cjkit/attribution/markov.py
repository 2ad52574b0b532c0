"""Markov-chain attribution: the exact removal effects of an absorbing chain, order 1 to k.

Every path becomes a walk ``start -> c1 -> c2 -> ... -> conversion`` (or ``-> null``),
counted with the path's weight (conversions + nulls). Dividing each state's outgoing counts
by their total gives an absorbing Markov chain. The probability of conversion from
``start`` is found exactly by solving ``(I - Q) x = r`` (``Q``: transitions between
transient states, ``r``: one-step conversion probabilities): no simulation, the same numbers
on every run.

The *removal effect* of a channel is the share of that probability lost when every state
holding the channel leads to ``null`` instead: ``RE_c = 1 - P(conv without c) / P(conv)``.
Conversions are shared in proportion to the removal effects. Value uses the same chain
with the value a state earns when it converts, so the value credit follows the removal
effects on the expected value.

In a chain of order ``k`` a state is the tuple of the last ``k`` channels (fewer at the
start of a path). Repeated consecutive channels are kept as self-transitions
(ChannelAttribution's convention; ``collapse=True`` merges them). In an order-1 chain a
self-transition never changes where the walk ends, so the option only changes the
transition matrix there, not the credit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from cjkit.attribution.heuristics import credit_table
from cjkit.attribution.paths import SEP, EncodedPaths, encode_paths

__all__ = ["MarkovAttribution", "markov_model"]

START, CONV, NULL = "(start)", "(conversion)", "(null)"


class MarkovAttribution:
    """Exact Markov-chain attribution (scikit-learn style: ``fit`` returns self).

    Parameters
    ----------
    order : int
        Channels remembered by a state (1 to 6).
    collapse : bool
        Merge repeated consecutive channels before counting (default: keep them as
        self-transitions).

    Attributes
    ----------
    conversion_probability_ : float
        P(conversion) from start.
    removal_effects_ : DataFrame
        channel, removal_effect (of conversions), value_removal_effect.
    transitions_ : DataFrame
        from_state, to_state, count, probability (long form of the transition matrix).
    attribution_ : DataFrame
        The attribution schema (model ``markov`` or ``markov_<k>``).

    Examples
    --------
    The chain solved by hand in ``tests/test_attribution.py``: from start, a 1/2, b 1/4,
    c 1/4; a -> b or c evenly; b converts 2/3; c -> b or null evenly. P(b) = 2/3,
    P(c) = 1/3, P(a) = 1/2, P(start) = 1/2. Without a: 1/4 (effect 1/2); without b:
    nothing converts (1); without c: 1/3 (effect 1/3).

    >>> paths = pd.DataFrame({"path": ["a > b", "a > c", "b", "c > b"], "conversions": [2, 0, 1, 1],
    ...                       "nulls": [0, 2, 1, 1]})
    >>> m = MarkovAttribution().fit(paths)
    >>> round(m.conversion_probability_, 6)
    0.5
    >>> m.removal_effects_.round(6)[["channel", "removal_effect"]]
      channel  removal_effect
    0       a        0.500000
    1       b        1.000000
    2       c        0.333333
    >>> (m.attribution_["conversions"] * 11).round(6).tolist()  # 4 conversions x effect / (11/6)
    [12.0, 24.0, 8.0]
    """

    def __init__(self, *, order: int = 1, collapse: bool = False) -> None:
        self.order = order
        self.collapse = collapse

    def fit(self, paths: pd.DataFrame | EncodedPaths) -> MarkovAttribution:
        if not (isinstance(self.order, int) and 1 <= self.order <= 6):
            raise ValueError(f"order must be a whole number from 1 to 6, not {self.order!r}")
        enc = encode_paths(paths)
        if self.collapse:
            enc = enc.collapsed()
        n_ch = len(enc.channels)
        state_of_touch, state_keys = _states(enc, self.order)
        s = len(state_keys)
        start = s  # transient states: 0..s-1 channel states, s = start
        lengths = enc.lengths
        weight = enc.conversions + enc.nulls
        w_touch = np.repeat(weight, lengths)
        last = enc.starts[1:] - 1
        first = enc.starts[:-1]
        is_last = np.zeros(len(enc.codes), dtype=bool)
        is_last[last] = True
        src = np.r_[np.full(len(first), start), state_of_touch[~is_last]]
        dst = np.r_[state_of_touch[first], state_of_touch[1:][~is_last[:-1]]]
        cnt = np.r_[weight, w_touch[~is_last]]
        if (s + 1) ** 2 <= 1 << 22:  # few states: count the pairs densely, no sort
            dense = np.bincount(src * (s + 1) + dst, cnt, minlength=(s + 1) ** 2).reshape(s + 1, s + 1)
            counts = sp.csr_matrix(dense)
        else:
            counts = sp.coo_matrix((cnt, (src, dst)), shape=(s + 1, s + 1)).tocsr()
            counts.sum_duplicates()
        conv = np.bincount(state_of_touch[last], enc.conversions, minlength=s + 1)
        nulls = np.bincount(state_of_touch[last], enc.nulls, minlength=s + 1)
        value = np.bincount(state_of_touch[last], enc.value, minlength=s + 1)
        out = np.asarray(counts.sum(axis=1)).ravel() + conv + nulls
        inv = np.divide(1.0, out, out=np.zeros_like(out), where=out > 0)
        q = sp.diags(inv) @ counts
        r_conv, r_value = conv * inv, value * inv
        holds = _holds(state_keys, n_ch, self.order)  # (channels x states) membership
        p, v = _solve(q, r_conv, r_value, start, keep=None)
        re = np.zeros(n_ch)
        re_value = np.zeros(n_ch)
        for c in range(n_ch):
            keep = np.r_[~holds[c], True]
            p_c, v_c = _solve(q, r_conv, r_value, start, keep=keep)
            re[c] = 1 - p_c / p if p > 0 else 0.0
            re_value[c] = 1 - v_c / v if v > 0 else 0.0
        total_conv, total_value = enc.totals
        self.channels_ = enc.channels
        self.conversion_probability_ = float(p)
        self.expected_value_ = float(v)
        self.removal_effects_ = pd.DataFrame({"channel": enc.channels, "removal_effect": re,
                                              "value_removal_effect": re_value})
        labels = np.r_[_labels(state_keys, enc.channels, self.order), [START]]
        self._labels, self._counts, self._conv, self._nulls, self._out = labels, counts, conv, nulls, out
        name = "markov" if self.order == 1 else f"markov_{self.order}"
        self.attribution_ = credit_table(name, enc.channels, _share(re, total_conv), _share(re_value, total_value))
        return self

    @property
    def transitions_(self) -> pd.DataFrame:
        """from_state, to_state, count, probability: every transition seen, start first."""
        c = self._counts.tocoo()
        s = len(self._labels) - 1
        rows = np.r_[c.row, np.arange(s + 1), np.arange(s + 1)]
        to = np.r_[self._labels[c.col], np.full(s + 1, CONV), np.full(s + 1, NULL)]
        cnt = np.r_[c.data, self._conv, self._nulls]
        keep = cnt > 0
        df = pd.DataFrame({"from_state": self._labels[rows[keep]], "to_state": to[keep], "count": cnt[keep],
                           "probability": cnt[keep] / self._out[rows[keep]], "_r": rows[keep]})
        df["_r"] = np.where(df["_r"] == s, -1, df["_r"])
        return df.sort_values(["_r", "to_state"], kind="stable").drop(columns="_r").reset_index(drop=True)

    def transition_matrix(self) -> pd.DataFrame:
        """The transition probabilities as a square table (from-state rows, to-state columns)."""
        t = self.transitions_
        order = list(dict.fromkeys([START, *self._labels[:-1]]))
        wide = t.pivot(index="from_state", columns="to_state", values="probability").fillna(0.0)
        return wide.reindex(index=order, columns=[*order[1:], CONV, NULL], fill_value=0.0)


def _states(enc: EncodedPaths, order: int) -> tuple[np.ndarray, np.ndarray]:
    """(state id of every touch, sorted state keys): a key packs the last ``order`` channel codes."""
    base = len(enc.channels) + 1
    if base ** order >= 2 ** 62:
        raise ValueError(f"order {order} with {len(enc.channels)} channels is too large")
    pos = np.arange(len(enc.codes)) - np.repeat(enc.starts[:-1], enc.lengths)
    key = np.zeros(len(enc.codes), dtype=np.int64)
    for j in range(order):
        shifted = np.r_[np.zeros(j, dtype=np.int64), enc.codes[: len(enc.codes) - j].astype(np.int64) + 1]
        key += np.where(pos >= j, shifted, 0) * base ** j
    if base ** order <= 1 << 24:  # small key space: compact by counting, no sort
        seen = np.bincount(key, minlength=base ** order) > 0
        keys = np.flatnonzero(seen)
        lookup = np.cumsum(seen) - 1
        return lookup[key], keys
    keys, ids = np.unique(key, return_inverse=True)
    return ids.astype(np.int64), keys


def _digits(keys: np.ndarray, n_ch: int, order: int) -> np.ndarray:
    """(order x states) channel code + 1 at each lag (0 = none); row 0 is the latest touch."""
    base = n_ch + 1
    return np.stack([(keys // base ** j) % base for j in range(order)])


def _holds(keys: np.ndarray, n_ch: int, order: int) -> np.ndarray:
    digits = _digits(keys, n_ch, order)
    return np.stack([(digits == c + 1).any(axis=0) for c in range(n_ch)]) if n_ch else np.zeros((0, len(keys)), bool)


def _labels(keys: np.ndarray, channels: np.ndarray, order: int) -> np.ndarray:
    digits = _digits(keys, len(channels), order)
    names = np.r_[[""], channels.astype(str)].astype(object)
    parts = names[digits[::-1]]  # oldest first
    return np.array([SEP.join(p for p in col if p) for col in parts.T], dtype=object)


def _solve(q: sp.csr_matrix, r_conv: np.ndarray, r_value: np.ndarray, start: int,
           keep: np.ndarray | None) -> tuple[float, float]:
    """P(conversion) and expected value from ``start``; states outside ``keep`` lead to null."""
    if keep is not None:
        d = sp.diags(keep.astype(float))
        q = d @ q
        r_conv, r_value = r_conv * keep, r_value * keep
    n = q.shape[0]
    a = sp.identity(n, format="csc") - q.tocsc()
    rhs = np.column_stack([r_conv, r_value])
    if n <= 400:
        x = np.linalg.solve(a.toarray(), rhs)
    else:
        x = spla.splu(a).solve(rhs)
    return float(x[start, 0]), float(x[start, 1])


def _share(effects: np.ndarray, total: float) -> np.ndarray:
    s = effects.sum()
    return total * effects / s if s > 0 else np.zeros_like(effects)


def markov_model(paths: pd.DataFrame | EncodedPaths, *, order: int = 1, collapse: bool = False) -> pd.DataFrame:
    """Markov removal-effect credit in the attribution schema (see :class:`MarkovAttribution`)."""
    return MarkovAttribution(order=order, collapse=collapse).fit(paths).attribution_
