"""Rule-based attribution: first, last, last non-direct, linear, time decay, position-based.

Each rule gives every touch of a path a weight, the weights of a path add up to 1, and a
channel's credit is the sum over touches of weight x the path's conversions (and value).
So the credit of every model adds up to the total conversions and value. All rules run
on the flat arrays of :func:`cjkit.attribution.paths.encode_paths` with one
``np.bincount`` each.

Every model returns the one attribution schema: ``model``, ``channel``, ``conversions``,
``value``, ``share`` (of all conversions), one row per channel in channel order.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from cjkit.attribution.paths import EncodedPaths, encode_paths

__all__ = ["HEURISTICS", "credit_table", "touch_weights", "heuristic_models"]

#: the rule-based models, in the order tables show them
HEURISTICS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")


def credit_table(model: str, channels: Sequence[str], conversions: np.ndarray, value: np.ndarray) -> pd.DataFrame:
    """The attribution schema for one model: model, channel, conversions, value, share."""
    conversions = np.asarray(conversions, dtype=float)
    total = conversions.sum()
    share = conversions / total if total > 0 else np.zeros_like(conversions)
    out = pd.DataFrame({"model": model, "channel": list(channels), "conversions": conversions,
                        "value": np.asarray(value, dtype=float), "share": share})
    out.attrs["units"] = {"share": "share"}
    return out


def touch_weights(enc: EncodedPaths, model: str, *, half_life: float = 2.0, first: float = 0.4,
                  last: float = 0.4, direct: str = "direct") -> np.ndarray:
    """The weight of every touch under ``model``; the weights of each path add up to 1.

    ``half_life`` (time decay) is in touches before the conversion: the last touch weighs
    1, the one ``half_life`` touches earlier 1/2, then the path's weights are scaled to add
    up to 1. ``first`` / ``last`` (position-based) go to the first and last touch, the rest
    is shared by the touches between; a path of two touches splits ``first : last``. The
    last non-direct touch is the last touch whose channel is not ``direct`` (the last
    touch when all are direct).

    Examples
    --------
    >>> enc = encode_paths(pd.DataFrame({"path": ["search > direct > email > direct"], "conversions": [1]}))
    >>> enc.channels.tolist()
    ['direct', 'email', 'search']
    >>> touch_weights(enc, "position_based").tolist()
    [0.4, 0.1, 0.1, 0.4]
    >>> touch_weights(enc, "last_non_direct").tolist()
    [0.0, 0.0, 1.0, 0.0]
    >>> touch_weights(enc, "time_decay", half_life=1).round(4).tolist()  # 1/8, 1/4, 1/2, 1 over 15/8
    [0.0667, 0.1333, 0.2667, 0.5333]
    """
    n = len(enc.codes)
    lengths = enc.lengths
    starts, ends = enc.starts[:-1], enc.starts[1:] - 1
    w = np.zeros(n)
    if model in _ONE_TOUCH:
        w[_one_touch(enc, model, direct)] = 1.0
    elif model == "linear":
        w = np.repeat(1.0 / np.maximum(lengths, 1), lengths)
    elif model == "time_decay":
        if not half_life > 0:
            raise ValueError(f"half_life must be > 0 touches, not {half_life!r}")
        back = np.repeat(enc.starts[1:], lengths) - 1 - np.arange(n)  # touches before the last one
        longest = int(lengths.max()) if len(lengths) else 0
        decay = np.exp2(-np.arange(longest + 1) / half_life)  # weight by touches before the last
        norm = np.r_[1.0, np.cumsum(decay)[:-1]]  # norm[L]: sum of the weights of a path of L touches
        w = decay[back] / np.repeat(norm[lengths], lengths)
    elif model == "position_based":
        if not (0 <= first and 0 <= last and first + last <= 1):
            raise ValueError(f"position_based: first ({first}) and last ({last}) must be >= 0 and add up to <= 1")
        path_len = np.repeat(lengths, lengths).astype(float)
        mid = (1.0 - first - last) / np.maximum(path_len - 2, 1)
        w = np.where(path_len >= 3, mid, 0.0)
        two = lengths == 2
        w[starts[two]] = first / (first + last) if first + last else 0.5
        w[ends[two]] = last / (first + last) if first + last else 0.5
        long = lengths >= 3
        w[starts[long]] = first
        w[ends[long]] = last
        w[starts[lengths == 1]] = 1.0
    else:
        raise ValueError(f"unknown heuristic {model!r}; heuristics are {', '.join(HEURISTICS)}")
    return w


_ONE_TOUCH = ("first_touch", "last_touch", "last_non_direct")


def _one_touch(enc: EncodedPaths, model: str, direct: str) -> np.ndarray:
    """Position of the touch that takes all the credit, for each path with a touch."""
    nonempty = enc.lengths > 0
    starts, ends = enc.starts[:-1][nonempty], enc.starts[1:][nonempty] - 1
    if model == "first_touch":
        return starts
    if model == "last_touch":
        return ends
    hits = np.flatnonzero(enc.channels == direct)
    code = int(hits[0]) if len(hits) else -1
    cand = np.where(enc.codes != code, np.arange(len(enc.codes)), -1)
    # the last candidate of each path: running max of positions, read at the path's end
    best = np.maximum.accumulate(cand)[ends] if len(cand) else ends
    return np.where(best >= starts, best, ends)


def heuristic_models(paths: pd.DataFrame | EncodedPaths, *, models: Sequence[str] = HEURISTICS,
                     half_life: float = 2.0, first: float = 0.4, last: float = 0.4,
                     direct: str = "direct") -> pd.DataFrame:
    """Credit of the rule-based models, in the attribution schema (one block per model).

    Parameters
    ----------
    paths : DataFrame or EncodedPaths
        Aggregated paths (``path``, ``conversions``, optionally ``value``, ``nulls``).
    models : list of str
        Any of :data:`HEURISTICS`.
    half_life, first, last, direct
        See :func:`touch_weights`.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["a > b > c", "c", "b > a"], "conversions": [3, 1, 2],
    ...                       "value": [30.0, 5.0, 10.0]})
    >>> t = heuristic_models(paths, models=["first_touch", "last_touch", "linear"])
    >>> t.pivot(index="channel", columns="model", values="conversions")
    model    first_touch  last_touch  linear
    channel
    a                3.0         2.0     2.0
    b                2.0         0.0     2.0
    c                1.0         4.0     2.0
    >>> t.groupby("model", sort=False)[["conversions", "value"]].sum().iloc[0].tolist()
    [6.0, 45.0]
    """
    enc = encode_paths(paths)
    k = len(enc.channels)
    per_touch: list[np.ndarray] = []
    frames = []
    for model in models:
        if model in _ONE_TOUCH:  # one touch per path takes all: count per path, not per touch
            at = _one_touch(enc, model, direct)
            keep = enc.lengths > 0
            conv, value = enc.conversions[keep], enc.value[keep]
            frames.append(credit_table(model, enc.channels, np.bincount(enc.codes[at], conv, minlength=k),
                                       np.bincount(enc.codes[at], value, minlength=k)))
            continue
        if model == "linear":  # 1 / length per touch: fold it into the per-path amounts
            share = 1.0 / np.maximum(enc.lengths, 1)
            conv, value = np.repeat(enc.conversions * share, enc.lengths), np.repeat(enc.value * share, enc.lengths)
        else:
            if not per_touch:
                per_touch = [np.repeat(enc.conversions, enc.lengths), np.repeat(enc.value, enc.lengths)]
            w = touch_weights(enc, model, half_life=half_life, first=first, last=last, direct=direct)
            conv, value = w * per_touch[0], w * per_touch[1]
        frames.append(credit_table(model, enc.channels, np.bincount(enc.codes, conv, minlength=k),
                                   np.bincount(enc.codes, value, minlength=k)))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["units"] = frames[0].attrs["units"] if frames else {}
    return out
