"""Named results recorded in a notebook and read back from the executed file.

``record("nps", 41.7, unit="points", headline=True)`` displays ONE output carrying
three representations: ``application/vnd.cjkit.record+json`` (the machine copy),
``text/html`` (a small visible line whose ``data-cjkit-record`` attribute holds the
same JSON, so the record survives the HTML export) and ``text/plain``. Everything
client-supplied is HTML-escaped. :func:`read_records` reads them all back from an
executed ``.ipynb`` or its exported ``.html``. The idea follows nteract scrapbook's
``glue``; the format is our own.
"""
from __future__ import annotations

import html
import json
import math
from html.parser import HTMLParser
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cjkit.estimate import Estimate

if TYPE_CHECKING:  # nbformat costs ~1 s to import: only the file readers load it
    import nbformat

__all__ = [
    "MIME_TYPE", "RecordError", "record", "make_record", "record_bundle", "read_records",
    "records_from_notebook", "records_from_html", "record_value", "format_value",
]

#: Mime type of the machine-readable copy of a record.
MIME_TYPE = "application/vnd.cjkit.record+json"
#: Largest table a record may hold.
MAX_TABLE_ROWS = 200
KINDS = ("number", "estimate", "text", "table", "figure", "bool")
#: columns of a records table; ``estimate`` holds an :class:`~cjkit.estimate.Estimate` or None
COLUMNS = ["notebook", "name", "value", "unit", "label", "headline", "kind", "estimate"]


class RecordError(ValueError):
    """A value cannot be recorded, or a notebook recorded one name twice."""


def _plain(value: Any) -> Any:
    """Convert one table cell to a JSON-safe Python value."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        value = float(value)
        return None if math.isnan(value) else value
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat()
    if isinstance(value, pd.Timedelta):
        return str(value)
    return str(value)


def _table(frame: pd.DataFrame, name: str) -> dict[str, Any]:
    if len(frame) > MAX_TABLE_ROWS:
        raise RecordError(
            f"record {name!r}: the table has {len(frame)} rows, more than {MAX_TABLE_ROWS}; "
            "record a summary (e.g. .head(20) or a groupby) instead"
        )
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    columns = [str(c) for c in frame.columns]
    if len(set(columns)) != len(columns):
        raise RecordError(f"record {name!r}: the table has duplicate column names {columns}")
    data = [[_plain(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return {"columns": columns, "data": data}


def make_record(name: str, value: Any, *, unit: str | None = None, label: str | None = None,
                headline: bool = False, kind: str | None = None) -> dict[str, Any]:
    """Build the JSON-safe record dict for ``value`` (no display).

    Numbers become int or float (NaN becomes None), numpy scalars Python ones, a
    DataFrame or Series of at most 200 rows ``{"columns": [...], "data": [[...]]}``;
    a matplotlib Figure or a string with ``kind="figure"`` a figure id. An
    :class:`~cjkit.estimate.Estimate` keeps its value as the record's value (so tables of
    results stay numeric) and everything else under ``"estimate"``.

    Examples
    --------
    >>> make_record("orders", np.int64(12), unit="orders")["value"]
    12
    >>> make_record("top", pd.DataFrame({"channel": ["email"], "n": [3]}))["value"]
    {'columns': ['channel', 'n'], 'data': [['email', 3]]}
    >>> rec = make_record("reach", Estimate.proportion(3, 4))
    >>> rec["value"], rec["kind"], rec["unit"], rec["estimate"]["ci_low"]
    (0.75, 'estimate', 'share', 0.3006...)
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise RecordError(f"record name {name!r} must be an identifier such as 'nps' or 'stage_sizes'")
    if kind is not None and kind not in KINDS:
        raise RecordError(f"record {name!r}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    extra: dict[str, Any] = {}
    if hasattr(value, "savefig") and hasattr(value, "axes"):  # a matplotlib Figure
        value, kind = value.get_label() or name, "figure"
    if isinstance(value, Estimate):
        extra = {"estimate": value.to_dict()}
        unit = unit if unit is not None else value.unit
        value, kind = value.value, "estimate"
    if isinstance(value, pd.Series):
        value = value.to_frame()
    if isinstance(value, pd.DataFrame):
        value, guessed = _table(value, name), "table"
    elif isinstance(value, (bool, np.bool_)):
        value, guessed = bool(value), "bool"
    elif isinstance(value, (Integral, Real)) or value is None:
        value, guessed = _plain(value), "number"
        if isinstance(value, float) and math.isinf(value):
            raise RecordError(f"record {name!r}: value is infinite; record None or a finite number")
    elif isinstance(value, str):
        guessed = "text"
    else:
        raise RecordError(
            f"record {name!r}: cannot record a {type(value).__name__}; record a number, "
            "text, bool, None, a small DataFrame or a figure id"
        )
    if kind == "figure" and not isinstance(value, str):
        raise RecordError(f"record {name!r}: a figure record holds the figure's id (a string)")
    if kind == "estimate" and not extra:
        raise RecordError(f"record {name!r}: kind 'estimate' needs an Estimate value")
    kind = kind or guessed
    return {"name": name, "value": value, "unit": unit, "label": label or name,
            "headline": bool(headline), "kind": kind, **extra}


def format_value(value: Any, kind: str, unit: str | None = None, estimate: Any = None) -> str:
    """Short display text of a record value (tables as their shape, estimates with their CI).

    A number whose unit is ``share`` (a proportion between 0 and 1) is shown as a percent;
    the recorded value stays the proportion. ``estimate`` is the record's estimate (an
    :class:`~cjkit.estimate.Estimate` or its dict).

    Examples
    --------
    >>> format_value(1234.567, "number", "EUR"), format_value(0.41234, "number")
    ('1,235 EUR', '0.4123')
    >>> format_value(0.0612, "number", "share"), format_value(False, "bool")
    ('6.1%', 'no')
    >>> format_value(0.75, "estimate", "share", {"value": 0.75, "n": 4, "ci_low": 0.3, "ci_high": 0.954})
    '75.0% (95% CI 30.0-95.4%, n = 4)'
    """
    if kind == "estimate" and estimate is not None:
        est = estimate if isinstance(estimate, Estimate) else Estimate.from_dict(estimate)
        return est.format()
    if unit == "share" and kind == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.1%}"
    if kind == "table":
        data = value["data"] if isinstance(value, dict) else value.values.tolist()
        cols = value["columns"] if isinstance(value, dict) else list(value.columns)
        text = f"table, {len(data)} rows x {len(cols)} columns"
    elif kind == "figure":
        text = f"figure {value}"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 1e3 else f"{value:,.4g}"
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    else:
        text = "n/a" if value is None else str(value)
    return text + (f" {unit}" if unit else "")


def _shown(rec: dict[str, Any]) -> str:
    return f"{rec['label']}: {format_value(rec['value'], rec['kind'], rec['unit'], rec.get('estimate'))}"


def record_bundle(rec: dict[str, Any]) -> dict[str, Any]:
    """Mime bundle displayed for a record: the JSON, an escaped HTML line and plain text.

    Examples
    --------
    >>> b = record_bundle(make_record("campaign", "<script>alert(1)</script>"))
    >>> "<script>" in b["text/html"], "&lt;script&gt;" in b["text/html"]
    (False, True)
    """
    payload = json.dumps(rec, sort_keys=True, ensure_ascii=False, allow_nan=False)
    shown = _shown(rec)
    div = (f'<div class="cjkit-record" data-cjkit-record="{html.escape(payload, quote=True)}">'
           f"{html.escape(shown)}</div>")
    return {MIME_TYPE: rec, "text/html": div, "text/plain": shown}


def record(name: str, value: Any, *, unit: str | None = None, label: str | None = None,
           headline: bool = False, kind: str | None = None) -> None:
    """Record a named result in the running notebook (one visible output line).

    Outside IPython the value is checked and nothing is displayed.

    Parameters
    ----------
    name : str
        Identifier, unique within the notebook (recording it twice is a bug).
    value : number, str, bool, None, DataFrame (<= 200 rows) or Figure
    unit, label : str, optional
        Shown next to the value; ``label`` defaults to ``name``.
    headline : bool
        Show this record on the index page and in the cross-client table.
    kind : {"number", "text", "table", "figure", "bool"}, optional
        Inferred from the value; pass ``"figure"`` to record a string figure id.

    Examples
    --------
    >>> record("orders", 12, unit="orders", headline=True)  # no output outside IPython
    """
    rec = make_record(name, value, unit=unit, label=label, headline=headline, kind=kind)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return None
    shell = get_ipython()
    if shell is None:
        return None
    from IPython.display import display

    display(record_bundle(rec), raw=True)
    return None


def record_value(rec: dict[str, Any]) -> Any:
    """The Python value of a stored record (tables come back as DataFrames).

    Examples
    --------
    >>> record_value(make_record("t", pd.DataFrame({"a": [1, 2]})))["a"].tolist()
    [1, 2]
    """
    if rec["kind"] == "table":
        return pd.DataFrame(rec["value"]["data"], columns=rec["value"]["columns"])
    return rec["value"]


def _frame(found: list[tuple[dict[str, Any], str]], notebook: str) -> pd.DataFrame:
    seen: dict[str, str] = {}
    rows = []
    for rec, where in found:
        if rec["name"] in seen:
            raise RecordError(
                f"notebook {notebook!r} records {rec['name']!r} twice ({seen[rec['name']]} and "
                f"{where}); each name may be recorded once"
            )
        seen[rec["name"]] = where
        rows.append({"notebook": notebook, **{k: rec.get(k) for k in COLUMNS[1:]}})
        rows[-1]["value"] = record_value(rec)
        rows[-1]["estimate"] = Estimate.from_dict(rec["estimate"]) if rec.get("estimate") else None
    out = pd.DataFrame(rows, columns=COLUMNS, dtype=object)
    return out.astype({"headline": bool}) if len(out) else out


def records_from_notebook(nb: nbformat.NotebookNode, *, notebook: str) -> pd.DataFrame:
    """All records of an executed notebook object, in output order.

    Returns DataFrame[notebook, name, value, unit, label, headline, kind, estimate].
    """
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if MIME_TYPE in data:
                rec = data[MIME_TYPE]
                rec = json.loads(rec) if isinstance(rec, str) else dict(rec)
                count = cell.get("execution_count")
                found.append((rec, f"cell In [{count}]" if count else f"cell {index + 1}"))
    return _frame(found, notebook)


class _RecordParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "data-cjkit-record" and value:
                self.found.append(json.loads(value))


def records_from_html(text: str, *, notebook: str) -> pd.DataFrame:
    """All records in an exported HTML report (read from ``data-cjkit-record`` attributes).

    Examples
    --------
    >>> page = "<p>x</p>" + record_bundle(make_record("nps", 41.5, unit="points"))["text/html"]
    >>> records_from_html(page, notebook="08_nps")[["name", "value", "unit"]].values.tolist()
    [['nps', 41.5, 'points']]
    """
    parser = _RecordParser()
    parser.feed(text)
    parser.close()
    return _frame([(r, f"record #{i + 1} of the page") for i, r in enumerate(parser.found)], notebook)


def read_records(path: str | Path) -> pd.DataFrame:
    """Read every record from an executed ``.ipynb`` or an exported ``.html`` file.

    Returns DataFrame[notebook, name, value, unit, label, headline, kind, estimate] with the
    notebook's file stem in ``notebook``. Raises :class:`RecordError` when a notebook
    recorded the same name twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such notebook or report: {path}")
    if path.suffix.lower() in (".html", ".htm"):
        return records_from_html(path.read_text(encoding="utf-8"), notebook=path.stem)
    import nbformat

    return records_from_notebook(nbformat.read(str(path), as_version=4), notebook=path.stem)
