"""Exact channel contributions of the generator's absorbing Markov chain of touches.

A pre-purchase path is a walk: it starts at a channel with probability ``start[c]``, and
after a touch on ``c`` moves to channel ``d`` with probability ``transitions[c][d]``, to a
first purchase with ``transitions[c]["conversion"]`` or stops (the rest of the row). Two
exact contributions follow from the chain, one for each attribution model of the kit:

* **Removal effect** of ``c``: the share of first purchases lost if every walk that reaches
  ``c`` stopped there, ``1 - P(convert without c) / P(convert)``. Both probabilities are
  absorption probabilities of the chain, solved as linear systems (no simulation). This is
  what ``cjkit.attribution.MarkovAttribution`` estimates from observed paths.
* **Shapley value** of ``c`` in the game ``cjkit.attribution.shapley_model`` estimates: the
  worth of a channel set ``S`` is the conversion rate of the paths whose set of channels is
  exactly ``S``. ``P(convert and channels within T)`` is the absorption probability of the
  chain cut down to ``T`` (walks leaving ``T`` are dropped); an inclusion-exclusion over the
  subsets of ``S`` turns those into ``P(convert and channels = S)`` and ``P(channels = S)``.
  As in the model, the worth of no channel is the lowest rate of the one-channel sets and
  a set no walk can have takes the best worth of its subsets one channel smaller. A
  channel's credit is its Shapley value in each set's game, weighted by how often walks
  have that set, scaled to the expected conversions.

The planted numbers are therefore the values each model converges to on paths drawn from
this chain, computed from the chain itself rather than from the drawn paths. The code shares
nothing with :mod:`cjkit.attribution` on purpose (its own absorbing-chain solve and Shapley
formula): a truth that called the models it checks could not catch their mistakes.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import factorial

import numpy as np
import pandas as pd

__all__ = ["absorption", "channel_contributions"]


def _matrices(transitions: Mapping[str, Mapping[str, float]], start: Mapping[str, float]
              ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    names = list(transitions)
    pos = {c: i for i, c in enumerate(names)}
    k = len(names)
    q, conv, null = np.zeros((k, k)), np.zeros(k), np.zeros(k)
    for c, row in transitions.items():
        for d, p in row.items():
            if d == "conversion":
                conv[pos[c]] = p
            elif d in pos:
                q[pos[c], pos[d]] = p
            elif d != "null":
                raise KeyError(f"transition {c!r} -> {d!r}: {d!r} is neither a channel "
                               f"({', '.join(names)}) nor 'conversion' or 'null'")
        rest = 1.0 - sum(p for d, p in row.items() if d != "null")
        if rest < -1e-9 or ("null" in row and abs(row["null"] - rest) > 1e-6):
            raise ValueError(f"the transitions from {c!r} add up to {sum(row.values()):.6g}, "
                             "not 1 (a missing 'null' takes the rest)")
        null[pos[c]] = max(rest, 0.0)
    unknown = set(start) - set(pos)
    if unknown:
        raise KeyError(f"start channels without transitions: {sorted(unknown)}")
    pi = np.array([start.get(c, 0.0) for c in names], dtype=float)
    if not np.isclose(pi.sum(), 1.0):
        raise ValueError(f"start shares add up to {pi.sum():.6g}, not 1")
    return names, q, conv, null, pi


def absorption(transitions: Mapping[str, Mapping[str, float]], start: Mapping[str, float],
               within: set[str] | None = None) -> tuple[float, float]:
    """P(the walk converts) and P(it stops), counting only walks that stay ``within``.

    With ``within=None`` the two add up to 1; with a set of channels, walks that step
    outside it count as neither.

    Examples
    --------
    From a, go to b (1/2), convert (1/5) or stop; from b convert (1/2) or stop:
    P(convert) = 1/5 + 1/2 x 1/2 = 0.45.

    >>> chain = {"a": {"b": 0.5, "conversion": 0.2}, "b": {"conversion": 0.5}}
    >>> [round(p, 6) for p in absorption(chain, {"a": 1.0})]
    [0.45, 0.55]
    >>> [round(p, 6) for p in absorption(chain, {"a": 1.0}, within={"a"})]
    [0.2, 0.3]
    """
    names, q, conv, null, pi = _matrices(transitions, start)
    keep = np.ones(len(names), bool) if within is None else np.isin(names, list(within))
    return _absorb(q, conv, null, pi, keep)


def _absorb(q, conv, null, pi, keep) -> tuple[float, float]:
    if not keep.any():
        return 0.0, 0.0
    a = np.linalg.solve(np.eye(int(keep.sum())) - q[np.ix_(keep, keep)],
                        np.column_stack([conv[keep], null[keep]]))
    p = pi[keep] @ a
    return float(p[0]), float(p[1])


def _shapley_by_mask(f: np.ndarray, k: int) -> np.ndarray:
    """Exact Shapley value of each of ``k`` players for every coalition mask (rows)."""
    m = 2**k
    masks = np.arange(m)
    size = np.array([bin(x).count("1") for x in masks])
    subset = (masks[:, None] & ~masks[None, :]) == 0          # subset[T, S]: T within S
    fact = np.array([factorial(i) for i in range(k + 1)], dtype=float)
    out = np.zeros((m, k))
    for c in range(k):
        bit = 1 << c
        has_c = (masks & bit) != 0
        ok = subset & ~has_c[:, None] & has_c[None, :]          # T within S minus c, c in S
        s = size[None, :]
        t = size[:, None]
        wgt = np.where(ok, fact[t] * fact[np.clip(s - t - 1, 0, None)] / fact[s], 0.0)
        gain = f[masks | bit] - f                               # f(T + c) - f(T), per T
        out[:, c] = (wgt * gain[:, None]).sum(axis=0)
    return out


def channel_contributions(
    transitions: Mapping[str, Mapping[str, float]],
    start: Mapping[str, float],
    *,
    n_paths: float = 1.0,
) -> pd.DataFrame:
    """Exact removal effects and Shapley credit of every channel of an absorbing chain.

    Parameters
    ----------
    transitions : mapping
        ``transitions[c][d]``: probability that a touch on ``c`` is followed by one on ``d``;
        the key ``"conversion"`` for a first purchase, ``"null"`` for a stop (when left
        out, the rest of the row). Its
        keys fix the channel list and output order.
    start : mapping
        Share of walks starting at each channel (adds up to 1).
    n_paths : float
        Number of walks: the columns in conversions are expected values for this many.

    Returns
    -------
    DataFrame
        Indexed by ``channel`` with ``removal_effect`` (share of conversions lost, the
        number ``MarkovAttribution.removal_effects_`` reports), ``removal_conversions``
        (expected conversions lost), ``removal_share`` (effects divided by their total, the
        Markov model's credit share), ``shapley`` (expected conversions credited) and
        ``shapley_share``. ``df.attrs`` holds ``conversion_probability``,
        ``expected_conversions``, ``shapley_baseline`` (the worth of no channel) and
        ``set_probability`` (P(channel set = S) by bit mask, channel i = bit i).

    Examples
    --------
    Walks start at a; a leads to b half the time and converts 1 time in 5; b converts half
    the time. P(convert) = .45. Without a nothing converts (effect 1); without b only the
    direct .2 is left (effect 1 - .2/.45 = .5556). Sets: {a} with probability .5 and rate
    .2/.5 = .4; {a, b} with .5 and rate .25/.5 = .5. The worth of no channel is the lowest
    one-channel rate, .4 ({b} alone cannot happen and takes it too), so a and b share the
    .1 that {a, b} adds over {a}: each gets half of the .45 conversions.

    >>> chain = {"a": {"b": 0.5, "conversion": 0.2}, "b": {"conversion": 0.5}}
    >>> out = channel_contributions(chain, {"a": 1.0}, n_paths=100)
    >>> out[["removal_effect", "removal_conversions", "shapley"]].round(4)
             removal_effect  removal_conversions  shapley
    channel
    a                1.0000                 45.0     22.5
    b                0.5556                 25.0     22.5
    """
    names, q, conv, null, pi = _matrices(transitions, start)
    k = len(names)
    if k > 12:
        raise ValueError(f"exact Shapley values need at most 12 channels, got {k}: {names}")
    masks = np.arange(2**k)
    bits = ((masks[:, None] >> np.arange(k)) & 1).astype(bool)
    within = np.array([_absorb(q, conv, null, pi, bits[m]) for m in masks])  # P(.. and set <= T)
    exact = within.copy()
    for i in range(k):  # Moebius inversion over subsets: P(.. and set = S)
        has = (masks >> i) & 1 == 1
        exact[has] -= exact[masks[has] ^ (1 << i)]
    exact = np.clip(exact, 0.0, None)
    p_set = exact.sum(axis=1)
    possible = p_set > 1e-12
    rate = np.divide(exact[:, 0], p_set, out=np.zeros(len(masks)), where=possible)
    singles = 1 << np.arange(k)
    worth = rate.copy()
    worth[0] = rate[singles][possible[singles]].min() if possible[singles].any() else 0.0
    size = bits.sum(axis=1)
    for level in range(1, k + 1):
        for m in masks[(size == level) & ~possible]:
            worth[m] = max([worth[0], *(worth[m ^ (1 << i)] for i in range(k) if bits[m, i])])
    phi = _shapley_by_mask(worth, k)
    p_conv = within[-1, 0]
    raw = p_set @ phi
    removal = np.array([1.0 - _absorb(q, conv, null, pi, ~bits[1 << i])[0] / p_conv
                        if p_conv > 0 else 0.0 for i in range(k)])
    expected = n_paths * p_conv
    out = pd.DataFrame(
        {
            "removal_effect": removal,
            "removal_conversions": removal * expected,
            "removal_share": removal / removal.sum() if removal.sum() > 0 else 0.0,
            "shapley": expected * raw / raw.sum() if raw.sum() != 0 else 0.0,
        },
        index=pd.Index(names, name="channel"),
    )
    out["shapley_share"] = out["shapley"] / expected if expected > 0 else 0.0
    out.attrs.update(conversion_probability=float(p_conv), expected_conversions=float(expected),
                     shapley_baseline=float(worth[0]), set_probability=p_set)
    return out
