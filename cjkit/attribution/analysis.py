"""Path analysis: the most common paths, path lengths, time to conversion, first and last
channels, and the moves from channel to channel step by step.

Every function reads the aggregated paths (``path``, ``conversions``, ``value``, ``nulls``)
except :func:`time_to_conversion`, which needs the journeys built from events (a paths
export carries no times).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from cjkit.attribution.paths import EncodedPaths, check_paths, encode_paths

__all__ = ["top_paths", "path_lengths", "time_to_conversion", "channel_mix", "transitions_by_step", "compare_models"]


def top_paths(paths: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` paths with most conversions: path, length, conversions, value, nulls,
    conversion_rate (conversions / journeys), share (of all conversions).

    >>> top_paths(pd.DataFrame({"path": ["a", "a > b", "b"], "conversions": [1, 3, 0], "nulls": [3, 1, 2]}), 2)
        path  length  conversions  value  nulls  conversion_rate  share
    0  a > b       2          3.0    0.0    1.0             0.75   0.75
    1      a       1          1.0    0.0    3.0             0.25   0.25
    """
    p = check_paths(paths)
    p.insert(1, "length", p["path"].str.count(" > ") + 1)
    journeys = p["conversions"] + p["nulls"]
    p["conversion_rate"] = np.where(journeys > 0, p["conversions"] / journeys.where(journeys > 0, 1), np.nan)
    total = p["conversions"].sum()
    p["share"] = p["conversions"] / total if total > 0 else 0.0
    out = p.sort_values(["conversions", "nulls", "path"], ascending=[False, False, True], kind="stable")
    return out.head(n).reset_index(drop=True)


def path_lengths(paths: pd.DataFrame | EncodedPaths) -> pd.DataFrame:
    """Conversions and nulls by path length (touches): length, conversions, nulls, conversion_rate.

    >>> path_lengths(pd.DataFrame({"path": ["a", "a > b", "b"], "conversions": [1, 3, 0], "nulls": [3, 1, 2]}))
       length  conversions  nulls  conversion_rate
    0       1          1.0    5.0         0.166667
    1       2          3.0    1.0         0.750000
    """
    enc = encode_paths(paths)
    g = pd.DataFrame({"length": enc.lengths, "conversions": enc.conversions, "nulls": enc.nulls})
    g = g.groupby("length").sum().reset_index()
    journeys = g["conversions"] + g["nulls"]
    g["conversion_rate"] = g["conversions"] / journeys.where(journeys > 0)
    return g


def time_to_conversion(journeys: pd.DataFrame, *, bins: tuple[float, ...] = (0, 1, 3, 7, 14, 30, 60, 90)) -> pd.DataFrame:
    """Converting journeys by days from first touch to conversion (``journeys_from_events``).

    Returns ``days`` (a bin label ``[lo, hi)``, the last open-ended), ``conversions``,
    ``share``; ``attrs["median_days"]`` is the median over the journeys.

    >>> j = pd.DataFrame({"converted": [True, True, False], "first_at": pd.to_datetime(["2024-01-01"] * 3),
    ...                   "end_at": pd.to_datetime(["2024-01-01 12:00", "2024-01-09 00:00", "2024-01-02 00:00"])})
    >>> t = time_to_conversion(j, bins=(0, 1, 7))
    >>> t.values.tolist(), t.attrs["median_days"]
    ([['0-1', 1, 0.5], ['1-7', 0, 0.0], ['7+', 1, 0.5]], 4.25)
    """
    conv = journeys[journeys["converted"].astype(bool)]
    days = (conv["end_at"] - conv["first_at"]).dt.total_seconds().to_numpy() / 86400
    edges = list(bins) + [np.inf]
    labels = [f"{lo:g}-{hi:g}" for lo, hi in zip(bins[:-1], bins[1:])] + [f"{bins[-1]:g}+"]
    idx = np.searchsorted(np.asarray(edges), days, side="right") - 1
    counts = np.bincount(idx[idx >= 0], minlength=len(labels))[: len(labels)]
    out = pd.DataFrame({"days": labels, "conversions": counts,
                        "share": counts / counts.sum() if counts.sum() else 0.0})
    out.attrs["median_days"] = float(np.median(days)) if len(days) else float("nan")
    out.attrs["units"] = {"share": "share"}
    return out


def channel_mix(paths: pd.DataFrame | EncodedPaths) -> pd.DataFrame:
    """Per channel, the share of conversions whose path starts with it and ends with it.

    >>> channel_mix(pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 1]}))
      channel  first_share  last_share  touched_share
    0       a         0.75        0.25           0.75
    1       b         0.25        0.75           0.75
    """
    enc = encode_paths(paths)
    k = len(enc.channels)
    total = enc.conversions.sum()
    first = np.bincount(enc.codes[enc.starts[:-1]], enc.conversions, minlength=k)
    last = np.bincount(enc.codes[enc.starts[1:] - 1], enc.conversions, minlength=k)
    pairs = np.unique(np.c_[enc.path_of_touch, enc.codes], axis=0) if len(enc.codes) else np.zeros((0, 2), int)
    touched = np.bincount(pairs[:, 1], enc.conversions[pairs[:, 0]], minlength=k)
    scale = 1 / total if total > 0 else 0.0
    out = pd.DataFrame({"channel": enc.channels, "first_share": first * scale, "last_share": last * scale,
                        "touched_share": touched * scale})
    out.attrs["units"] = {c: "share" for c in ("first_share", "last_share", "touched_share")}
    return out


def transitions_by_step(paths: pd.DataFrame | EncodedPaths, *, steps: int = 5) -> pd.DataFrame:
    """Journeys moving from one channel to the next at each step (1 = first to second touch).

    Columns step, from_channel, to_channel, journeys (conversions + nulls); moves after
    ``steps`` are left out. Repeats (a channel followed by itself) are kept.

    >>> transitions_by_step(pd.DataFrame({"path": ["a > b > a", "a > b"], "conversions": [1, 0], "nulls": [0, 2]}))
       step from_channel to_channel  journeys
    0     1            a          b       3.0
    1     2            b          a       1.0
    """
    enc = encode_paths(paths)
    pos = np.arange(len(enc.codes)) - np.repeat(enc.starts[:-1], enc.lengths)
    weight = np.repeat(enc.conversions + enc.nulls, enc.lengths)
    nxt = np.r_[pos[1:] > 0, False]  # the next touch belongs to the same path
    take = nxt & (pos < steps)
    frame = pd.DataFrame({"step": pos[take] + 1, "from_channel": enc.channels[enc.codes[take]],
                          "to_channel": enc.channels[enc.codes[1:][take[:-1]]] if len(enc.codes) else [],
                          "journeys": weight[take]})
    out = frame.groupby(["step", "from_channel", "to_channel"], as_index=False)["journeys"].sum()
    return out.sort_values(["step", "journeys", "from_channel", "to_channel"], ascending=[True, False, True, True],
                           kind="stable").reset_index(drop=True)


def compare_models(table: pd.DataFrame, first: str = "markov", second: str = "shapley", *,
                   gap: float = 0.01, negligible: float = 0.005) -> pd.DataFrame:
    """Where two models of an attribution table disagree, with a sentence that says so.

    Returns one row per channel, ordered by ``first``'s share: ``<first>``, ``<second>``
    (credit shares), ``difference`` (first minus second), ``rank_<first>`` and
    ``rank_<second>`` (1 = most credit). ``attrs["summary"]`` reads the table in words:
    whether the two rank the channels alike, which channels gain more than ``gap`` of the
    credit from each model, and the channels the second model gives ``negligible`` credit
    or less.

    Examples
    --------
    >>> t = pd.DataFrame({"model": ["markov"] * 3 + ["shapley"] * 3, "channel": ["a", "b", "c"] * 2,
    ...                   "conversions": 0.0, "value": 0.0, "share": [0.5, 0.3, 0.2, 0.7, 0.32, -0.02]})
    >>> c = compare_models(t)
    >>> c[["channel", "difference"]].round(2).values.tolist()
    [['a', -0.2], ['b', -0.02], ['c', 0.22]]
    >>> print(c.attrs["summary"])
    Markov and Shapley rank the channels in the same order. Markov gives more credit than Shapley
    to c (20% against -2%); Shapley gives more to a, b (102% against 80%). Shapley gives c 0.5% of
    the credit or less: its journeys convert no better than the same journeys without it.
    >>> t.loc[5, "share"] = 0.4  # shapley now puts c before b
    >>> print(compare_models(t).attrs["summary"].split(".")[0])
    Markov and Shapley rank the channels differently: b 2 against 3, c 3 against 2
    """
    models = set(table["model"])
    missing = [m for m in (first, second) if m not in models]
    if missing:
        raise ValueError(f"the attribution table has no model {missing[0]!r}; it has {', '.join(sorted(models))}")
    wide = table.pivot_table(index="channel", columns="model", values="share", aggfunc="sum")[[first, second]]
    wide = wide.sort_values(first, ascending=False, kind="stable")  # ties: alphabetical
    out = wide.reset_index()
    out.columns.name = None
    out["difference"] = out[first] - out[second]
    for m in (first, second):
        out[f"rank_{m}"] = out[m].rank(ascending=False, method="min").astype(int)
    ra, rb = out[f"rank_{first}"], out[f"rank_{second}"]
    one, two = _model_name(first), _model_name(second)
    if (ra == rb).all():
        parts = [f"{one} and {two} rank the channels in the same order."]
    else:
        moved = out.loc[ra != rb]
        parts = [f"{one} and {two} rank the channels differently: " + ", ".join(
            f"{c} {a} against {b}" for c, a, b in zip(moved["channel"], ra[ra != rb], rb[ra != rb])) + "."]
    more, less = out[out["difference"] > gap], out[out["difference"] < -gap]
    said = []
    for group, who, other in ((more, first, second), (less, second, first)):
        if len(group):
            verb = f"{_model_name(who)} gives more credit than {_model_name(other)}" if not said else \
                f"{_model_name(who)} gives more"
            said.append(f"{verb} to {', '.join(group['channel'])} ({group[who].sum():.0%} against "
                        f"{group[other].sum():.0%})")
    if said:
        parts.append("; ".join(said) + ".")
    else:
        parts.append(f"No channel's share differs by more than {gap:.0%} between them.")
    none = out.loc[out[second] <= negligible, "channel"].tolist()
    if none:
        text = f"{two} gives {', '.join(none)} {negligible:.1%} of the credit or less"
        if second == "shapley":  # what a Shapley value near zero means
            text += (": " + ("its journeys convert" if len(none) == 1 else "their journeys convert")
                     + " no better than the same journeys without " + ("it" if len(none) == 1 else "them"))
        parts.append(text + ".")
    out.attrs["summary"] = " ".join(p[0].upper() + p[1:] for p in parts)  # each part a sentence
    return out


def _model_name(model: str) -> str:
    """``markov`` -> Markov, ``markov_2`` -> Markov (order 2), ``last_touch`` -> last touch."""
    if model.startswith("markov_"):
        return f"Markov (order {model.split('_', 1)[1]})"
    return {"markov": "Markov", "shapley": "Shapley"}.get(model, model.replace("_", " "))
