"""What a run produced: one :class:`NotebookResult` per notebook and client, and the tables
built from them. The runner (:mod:`~cjkit.pipeline.run`) makes these; the renderer
(:mod:`~cjkit.pipeline.render`) draws index pages from them; neither imports the other.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .records import COLUMNS

__all__ = ["STATUSES", "NotebookResult", "SuiteResult", "clients_table", "status_counts", "record_rows",
           "flat_records", "FLAT_COLUMNS"]

#: what can become of a notebook on a client
STATUSES = ("ok", "not available", "failed")


@dataclass
class NotebookResult:
    """Outcome of one notebook on one client.

    ``status`` is ok, not available (the client lacks a table the notebook needs; decided
    before any kernel starts) or failed; ``error`` is a one-line reason and ``detail`` the
    page that explains it (the executed notebook's HTML, or the client's load report).
    """

    client: str
    notebook: str
    source: Path
    ipynb: Path | None = None
    html: Path | None = None
    status: str = "ok"
    cell: int | None = None
    error: str | None = None
    seconds: float = 0.0
    title: str | None = None
    records: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=COLUMNS))
    detail: Path | None = None


@dataclass
class SuiteResult:
    """All notebook results of a run, with the output folders."""

    results: list[NotebookResult]
    out_dirs: dict[str, Path]
    out_root: Path

    @property
    def ok(self) -> bool:
        """True when no notebook failed ("not available" counts as ok)."""
        return not any(r.status == "failed" for r in self.results)

    @property
    def records(self) -> pd.DataFrame:
        """Records of every notebook with a leading ``client`` column."""
        frames = [r.records.assign(client=r.client) for r in self.results if len(r.records)]
        if not frames:
            return pd.DataFrame(columns=["client", *COLUMNS])
        out = pd.concat(frames, ignore_index=True)
        return out[["client"] + [c for c in out.columns if c != "client"]]


def status_counts(results: Sequence[NotebookResult], client: str) -> str:
    """``"2 ok, 1 not available"`` for one client's notebooks."""
    counts = pd.Series([r.status for r in results if r.client == client]).value_counts()
    return ", ".join(f"{counts[k]} {k}" for k in STATUSES if k in counts)


def clients_table(results: Sequence[NotebookResult], clients: Sequence[str]) -> pd.DataFrame:
    """Wide table of headline records: notebook, name, label, unit, kind, one column per client."""
    frames = [r.records.assign(client=r.client) for r in results if len(r.records)]
    base = ["notebook", "name", "label", "unit", "kind"]
    if not frames:
        return pd.DataFrame(columns=base + list(clients))
    recs = pd.concat(frames, ignore_index=True)
    recs = recs[recs["headline"].astype(bool) & (recs["kind"] != "table")]
    keys = recs.drop_duplicates(["notebook", "name"])[base].reset_index(drop=True)
    for client in clients:
        values = recs[recs["client"] == client].set_index(["notebook", "name"])["value"]
        keys[client] = pd.Series([values.get((n, m)) for n, m in zip(keys["notebook"], keys["name"])],
                                 dtype=object)
    return keys.sort_values(["notebook", "name"], kind="stable").reset_index(drop=True).astype(object)


def record_rows(records: pd.DataFrame) -> list[dict[str, Any]]:
    """Records (as :func:`~cjkit.read_records` gives them) as JSON-ready dicts.

    Tables become ``{columns, data}`` and estimates dicts of their fields.
    """
    import json

    rows = []
    for rec in records.itertuples():
        value = rec.value
        if isinstance(value, pd.DataFrame):
            value = {"columns": [str(c) for c in value.columns],
                     "data": json.loads(value.to_json(orient="values", date_format="iso"))}
        estimate = rec.estimate.to_dict() if getattr(rec, "estimate", None) is not None else None
        rows.append({"notebook": rec.notebook, "name": rec.name, "value": value, "unit": rec.unit,
                     "label": rec.label, "headline": bool(rec.headline), "kind": rec.kind, "estimate": estimate})
    return rows


#: columns of results.csv and ``cjkit records --format csv``
FLAT_COLUMNS = ["notebook", "name", "value", "unit", "label", "headline", "kind", "ci_low", "ci_high", "n"]


def flat_records(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """:func:`record_rows` as one flat table: tables as JSON text, an estimate's interval and n
    in their own columns (empty for other records)."""
    import json

    flat = []
    for r in rows:
        est = r["estimate"] or {}
        value = json.dumps(r["value"], ensure_ascii=False) if isinstance(r["value"], (dict, list)) else r["value"]
        flat.append({**{k: r[k] for k in FLAT_COLUMNS[:7]}, "value": value,
                     "ci_low": est.get("ci_low"), "ci_high": est.get("ci_high"), "n": est.get("n")})
    return pd.DataFrame(flat, columns=FLAT_COLUMNS).astype({"n": "Int64"})
