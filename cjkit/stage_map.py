"""Event -> stage rules: which journey stage each logged event belongs to.

A client's YAML lists rules such as ``{event: signup, stage: acquisition}``; a rule with a
``channel`` beats the generic rule of the same event. :class:`StageMap` resolves the rules
against a journey model once and then labels millions of events with one table lookup,
reporting every (event, channel) pair no rule covers instead of dropping it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cjkit.journey import JourneyLookupError, JourneyModelError, ModelKey, _require, get_model

__all__ = ["StageMap", "StageAssignment"]

Rules = Sequence[Mapping[str, Any]] | Mapping[str, str]


@dataclass(frozen=True, eq=False)
class StageAssignment:
    """Result of :meth:`StageMap.assign`.

    ``stages``: stage id per event row (ordered Categorical, NaN where no rule matched),
    aligned to the events index. ``unmapped``: one row per unmatched (event, channel) pair
    with ``rows`` and ``example_customer_id``, most frequent first.
    """

    stages: pd.Series
    unmapped: pd.DataFrame

    @property
    def n_unmapped(self) -> int:
        return int(self.unmapped["rows"].sum())

    @property
    def mapped_share(self) -> float:
        n = len(self.stages)
        return (n - self.n_unmapped) / n if n else float("nan")


def _lowered(values: Any) -> np.ndarray:
    return np.asarray([str(v).strip().lower() for v in values], dtype=object)


def _pick(uniques: Any, codes: Any) -> pd.Series:
    """Values of factorize ``uniques`` at ``codes`` (code -1 -> missing), as str."""
    return pd.Series(np.append(np.asarray(uniques, dtype=object), None)[np.asarray(codes)], dtype="str")


class StageMap:
    """Event -> stage rules of a journey model.

    ``rules`` is a list of ``{event, stage, channel?}`` mappings or an ``{event: stage}``
    dict. Events and channels match exactly after stripping and lower-casing; a rule with
    a channel beats the generic rule of the same event. Stages may be given by id, name or
    alias and are resolved against ``model`` when the map is built.

    >>> sm = StageMap.from_rules([{"event": "page_view", "stage": "awareness"},
    ...                           {"event": "page_view", "channel": "email", "stage": "Engagement"}],
    ...                          "six_stage")
    >>> ev = pd.DataFrame({"customer_id": ["a", "b", "c"], "event": ["page_view", "Page_View ", "quiz"],
    ...                    "channel": ["search", "email", "social"]})
    >>> res = sm.assign(ev)
    >>> res.stages.tolist(), res.n_unmapped
    (['awareness', 'engagement', nan], 1)
    """

    def __init__(self, rules: Rules, model: ModelKey) -> None:
        self.model = get_model(model)
        if isinstance(rules, Mapping):
            rules = [{"event": e, "stage": s} for e, s in rules.items()]
        self.rules: list[tuple[int, str, str | None, str]] = []  # (index, event, channel, stage id)
        seen: dict[tuple[str, str | None], tuple[int, str]] = {}
        for i, rule in enumerate(rules):
            where = f"stage_map rule {i} ({rule!r})"
            if not isinstance(rule, Mapping) or not {"event", "stage"} <= set(rule) <= {
                    "event", "stage", "channel"} or not str(rule["event"]).strip():
                raise JourneyModelError(f"{where}: a rule needs a non-empty 'event', a 'stage' and "
                                        "optionally a 'channel' (no other keys)")
            event, channel = str(rule["event"]).strip().lower(), str(rule.get("channel") or "").strip().lower()
            try:
                stage = self.model.stage(rule["stage"]).id
            except JourneyLookupError as exc:
                raise JourneyModelError(f"{where}: {exc}") from None
            first = seen.setdefault((event, channel or None), (i, stage))
            if first[1] != stage:
                on = f" on channel {channel!r}" if channel else ""
                raise JourneyModelError(f"stage_map rules {first[0]} and {i} both match event {event!r}{on} "
                                        f"but give different stages ({first[1]!r}, {stage!r}): keep one")
            if first[0] == i:
                self.rules.append((i, event, channel or None, stage))

    @classmethod
    def from_rules(cls, rules: Rules, model: ModelKey) -> StageMap:
        """Same as ``StageMap(rules, model)``."""
        return cls(rules, model)

    def to_frame(self) -> pd.DataFrame:
        """The rules (exact duplicates dropped): rule index, event, channel, stage, stage_name."""
        rule, event, channel, stage = zip(*self.rules) if self.rules else ((),) * 4
        return pd.DataFrame({"rule": list(rule), "event": pd.Series(event, dtype="str"),
                             "channel": pd.Series(channel, dtype="str"), "stage": pd.Series(stage, dtype="str"),
                             "stage_name": pd.Series([self.model.stage(s).name for s in stage], dtype="str")})

    def assign(self, events: pd.DataFrame, *, event_col: str = "event", channel_col: str = "channel",
               customer_col: str = "customer_id") -> StageAssignment:
        """Stage of every event row, vectorised; never drops, reorders or modifies rows.

        ``channel_col`` and ``customer_col`` are optional: without a channel column only the
        generic rules apply; without customers ``example_customer_id`` stays missing.
        """
        _require(events, [event_col], "events")
        pos = {s: k for k, s in enumerate(self.model.stage_ids)}
        ev_codes, ev_uniques = pd.factorize(events[event_col])
        ev_norm = _lowered(ev_uniques)
        generic = {e: pos[s] for _, e, c, s in self.rules if c is None}
        channels = list(dict.fromkeys(c for _, _, c, _ in self.rules if c is not None))
        # Lookup table: one row per distinct event (+ a last row for missing events), one
        # column per channel named in a rule (+ a last column for any other channel).
        table = np.full((len(ev_uniques) + 1, len(channels) + 1), -1, dtype=np.int64)
        table[:-1, :] = np.array([generic.get(e, -1) for e in ev_norm], dtype=np.int64)[:, None]
        for _, e, c, s in self.rules:
            if c is not None:
                table[np.flatnonzero(ev_norm == e), channels.index(c)] = pos[s]
        ch_codes, ch_uniques = np.full(len(events), -1), []
        if channel_col in events.columns:
            ch_codes, ch_uniques = pd.factorize(events[channel_col])
        ch_col = [channels.index(c) if c in channels else len(channels) for c in _lowered(ch_uniques)]
        codes = table[ev_codes, np.append(np.asarray(ch_col, dtype=np.int64), len(channels))[ch_codes]]
        stages = pd.Series(pd.Categorical.from_codes(codes, categories=self.model.stage_ids, ordered=True),
                           index=events.index, name="stage")
        miss = np.flatnonzero(codes < 0)  # group unmatched rows by codes; look values up per group
        groups = pd.DataFrame({"e": ev_codes[miss], "c": ch_codes[miss], "pos": miss}).groupby(
            ["e", "c"], sort=False)["pos"].agg(["size", "min"])
        first = groups["min"].to_numpy()
        unmapped = pd.DataFrame({
            "event": _pick(ev_uniques, groups.index.get_level_values("e")),
            "channel": _pick(ch_uniques, groups.index.get_level_values("c")),
            "rows": groups["size"].to_numpy(dtype=np.int64),
            "example_customer_id": pd.Series(events[customer_col].iloc[first].to_numpy() if customer_col
                                             in events.columns else [None] * len(first), dtype="str")})
        unmapped = unmapped.sort_values(["rows", "event", "channel"], ascending=[False, True, True],
                                        kind="stable").reset_index(drop=True)
        return StageAssignment(stages=stages, unmapped=unmapped)
