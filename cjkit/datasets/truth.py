"""Exact channel contributions under the generator's noisy-OR conversion mechanism.

A customer whose pre-purchase path touched the set of channels ``S`` makes a first
purchase with probability

    f(S) = 1 - (1 - b) * prod_{c in S} (1 - w_c)

where ``b`` is the baseline (conversion without any channel) and ``w_c`` the strength of
channel ``c``. Two exact attributions follow from ``f``:

* **Shapley value** of channel ``c`` on a path with set ``S``: the average, over all
  orders in which the channels of ``S`` could be added, of the gain in ``f`` when ``c``
  joins. Per path the values add up to ``f(S) - b``; summed over paths they add up to the
  expected conversions minus the baseline conversions ``n_paths * b``.
* **Removal effect** of ``c``: ``f(S) - f(S without c)``, the expected conversions lost
  when ``c`` is taken out of that path; summed over paths it is the expected conversions
  lost if the channel disappeared from every path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from math import factorial

import numpy as np
import pandas as pd

__all__ = ["noisy_or", "channel_contributions"]


def noisy_or(channels: Iterable[str], weights: Mapping[str, float], baseline: float) -> float:
    """Conversion probability of one path under the noisy-OR mechanism.

    Parameters
    ----------
    channels : iterable of str
        Channels touched on the path (repeats count once).
    weights : mapping
        Channel strength ``w_c`` in [0, 1] for every channel that can appear.
    baseline : float
        Probability of converting with no channel at all.

    Examples
    --------
    >>> round(noisy_or(["email", "display"], {"email": 0.5, "display": 0.2}, 0.1), 4)
    0.64
    """
    keep = 1.0 - baseline
    for c in set(channels):
        keep *= 1.0 - weights[c]
    return 1.0 - keep


def _mask_values(weights: np.ndarray, baseline: float) -> np.ndarray:
    k = len(weights)
    masks = np.arange(2**k)
    bits = (masks[:, None] >> np.arange(k)) & 1
    return 1.0 - (1.0 - baseline) * np.prod(np.where(bits == 1, 1.0 - weights, 1.0), axis=1)


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
    paths: Iterable[Iterable[str]] | pd.Series,
    *,
    weights: Mapping[str, float],
    baseline: float,
) -> pd.DataFrame:
    """Exact Shapley values and removal effects of every channel, summed over paths.

    Parameters
    ----------
    paths : iterable of iterables of str
        One entry per path (customer): the channels it touched. Order and repeats are
        ignored; an empty entry is a path with no channel.
    weights : mapping
        Noisy-OR strength per channel; its keys fix the channel list and output order.
    baseline : float
        Conversion probability with no channel.

    Returns
    -------
    DataFrame
        Indexed by ``channel`` with columns ``paths_touched`` (paths containing it),
        ``shapley`` (expected conversions credited), ``removal_effect`` (expected
        conversions lost without it), ``shapley_share`` and ``removal_share`` (each
        column divided by its total). ``df.attrs`` holds ``n_paths``,
        ``expected_conversions`` and ``baseline_conversions``; the Shapley column sums to
        ``expected_conversions - baseline_conversions``.

    Examples
    --------
    >>> w = {"email": 0.5, "display": 0.2}
    >>> out = channel_contributions([["email", "display"], ["display"], []],
    ...                             weights=w, baseline=0.1)
    >>> out[["shapley", "removal_effect"]].round(4)
             shapley  removal_effect
    channel
    email      0.405            0.36
    display    0.315            0.27
    >>> round(out.attrs["expected_conversions"], 4)
    1.02
    """
    names = list(weights)
    k = len(names)
    if k > 12:
        raise ValueError(f"exact Shapley values need at most 12 channels, got {k}: {names}")
    pos = {c: i for i, c in enumerate(names)}
    path_masks = []
    for row, path in enumerate(paths):
        mask = 0
        for c in set(path):
            if c not in pos:
                raise KeyError(f"path {row} touches channel {c!r} which has no weight; "
                               f"known channels: {names}")
            mask |= 1 << pos[c]
        path_masks.append(mask)
    counts = np.bincount(np.asarray(path_masks, dtype=np.int64), minlength=2**k).astype(float)
    w = np.array([weights[c] for c in names], dtype=float)
    f = _mask_values(w, baseline)
    phi = _shapley_by_mask(f, k)
    masks = np.arange(2**k)
    bits = (masks[:, None] >> np.arange(k)) & 1
    removal = np.where(bits == 1, f[:, None] - f[masks[:, None] & ~(1 << np.arange(k))], 0.0)
    out = pd.DataFrame(
        {
            "paths_touched": (counts[:, None] * bits).sum(axis=0).astype(np.int64),
            "shapley": counts @ phi,
            "removal_effect": counts @ removal,
        },
        index=pd.Index(names, name="channel"),
    )
    for col, share in (("shapley", "shapley_share"), ("removal_effect", "removal_share")):
        total = out[col].sum()
        out[share] = out[col] / total if total > 0 else 0.0
    out.attrs.update(
        n_paths=int(counts.sum()),
        expected_conversions=float(counts @ f),
        baseline_conversions=float(counts.sum() * baseline),
    )
    return out
