"""Multi-touch attribution and path analysis (notebook 09_attribution_and_paths).

Paths come from events (:func:`paths_from_events`) or from a client's ``paths`` export;
every model answers in one schema, ``model, channel, conversions, value, share``, and the
credit of every model adds up to the total conversions and value.

========================= ===============================================================
:mod:`.paths`             journeys and aggregated paths from events; encoding for the models
:mod:`.analysis`          top paths, lengths, time to conversion, first/last channel, steps,
                          where two models disagree
:mod:`.heuristics`        first, last, last non-direct, linear, time decay, position-based
:mod:`.markov`            exact absorbing-chain removal effects, order 1 to k
:mod:`.shapley`           exact Shapley values over channel sets (up to 15 channels)
:mod:`.roi`               CPA and ROAS per model and channel against spend
========================= ===============================================================
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from cjkit.attribution.analysis import (channel_mix, compare_models, path_lengths, time_to_conversion, top_paths,
                                       transitions_by_step)
from cjkit.attribution.heuristics import HEURISTICS, credit_table, heuristic_models, touch_weights
from cjkit.attribution.markov import MarkovAttribution, markov_model
from cjkit.attribution.paths import (SEP, EncodedPaths, aggregate_paths, check_paths, client_paths,
                                     encode_paths, journeys_from_events, paths_from_events)
from cjkit.attribution.roi import roi_table, spend_by_channel
from cjkit.attribution.shapley import MAX_SHAPLEY_CHANNELS, channel_sets, shapley_model, shapley_values

__all__ = ["MODELS", "HEURISTICS", "SEP", "MAX_SHAPLEY_CHANNELS", "attribution_table", "EncodedPaths",
           "MarkovAttribution", "aggregate_paths", "channel_mix", "channel_sets", "check_paths", "client_paths",
           "compare_models", "credit_table",
           "encode_paths", "heuristic_models", "journeys_from_events", "markov_model", "path_lengths",
           "paths_from_events", "roi_table", "shapley_model", "shapley_values", "spend_by_channel",
           "time_to_conversion", "top_paths", "touch_weights", "transitions_by_step"]

#: every model of :func:`attribution_table`, in display order
MODELS = (*HEURISTICS, "markov", "shapley")


def attribution_table(paths: pd.DataFrame | EncodedPaths, *, models: Sequence[str] = MODELS,
                      half_life: float = 2.0, first: float = 0.4, last: float = 0.4, direct: str = "direct",
                      order: int = 1, collapse: bool = False, baseline: float | str = "auto") -> pd.DataFrame:
    """Credit of several models in the one schema: model, channel, conversions, value, share.

    ``markov`` is fitted with ``order`` and ``collapse``; ``shapley`` with ``baseline``;
    the heuristics with ``half_life``, ``first``, ``last`` and ``direct``.

    Examples
    --------
    >>> paths = pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 0], "nulls": [1, 2, 3]})
    >>> t = attribution_table(paths, models=["last_touch", "markov"])
    >>> t.groupby("model", sort=False)["conversions"].sum().tolist()
    [3.0, 3.0]
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise ValueError(f"unknown model {unknown[0]!r}; models are {', '.join(MODELS)}")
    enc = encode_paths(paths)
    frames = []
    for model in models:
        if model in HEURISTICS:
            frames.append(heuristic_models(enc, models=[model], half_life=half_life, first=first, last=last,
                                           direct=direct))
        elif model == "markov":
            frames.append(markov_model(enc, order=order, collapse=collapse).assign(model="markov"))
        else:
            frames.append(shapley_model(enc, baseline=baseline))
    out = pd.concat(frames, ignore_index=True)
    out.attrs["units"] = {"share": "share"}
    return out
