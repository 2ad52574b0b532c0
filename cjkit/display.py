"""One display style for every table the kit shows, in JupyterLab and in the HTML reports.

:func:`table_html` turns a DataFrame into a readable table: shares as percentages,
thousands separators, no 0..n index, empty cells blank instead of NaN, long text wrapped
instead of cut, and each estimate column shown with its interval ("62.1% (95% CI
58.0-66.1%)", see :mod:`cjkit.estimate`). :func:`install` makes it the HTML
representation of every DataFrame in a kernel (``cjkit.notebook.start`` calls it), so a
notebook cell that ends with a table needs nothing else; the HTML export shows the same
output the kernel produced.

Which columns are shares: those named in ``frame.attrs["units"]`` (set by the kit's
analyses), else those named ``share``, ``rate``, ``conversion`` or ending in ``_share``,
``_rate``. A table with a ``unit`` column formats its ``value`` column row by row.
"""
from __future__ import annotations

import hashlib
import html
from typing import Any

import numpy as np
import pandas as pd

from cjkit.estimate import PERCENT_UNITS, ci_columns, format_number, interval_text

__all__ = ["table_html", "formatted", "show", "install", "MAX_ROWS"]

#: rows shown before a table is cut (the caption says how many there are)
MAX_ROWS = 60
_SHARE_NAMES = ("share", "rate", "conversion", "percent")
_CSS = ("{t} {{border-collapse: collapse; font-size: 0.92em}} "
        "{t} th, {t} td {{padding: 0.25em 0.6em; vertical-align: top; text-align: left}} "
        "{t} td {{white-space: normal; max-width: 38em; overflow-wrap: anywhere}} "
        "{t} thead th {{border-bottom: 1px solid #999}} "
        "{t} caption {{caption-side: bottom; text-align: left; color: #555; font-size: 0.9em}}")


def _unit_of(frame: pd.DataFrame, column: str) -> str | None:
    units = frame.attrs.get("units", {})
    if column in units:
        return units[column]
    name = str(column).lower()
    if name in _SHARE_NAMES or name.endswith(tuple(f"_{n}" for n in _SHARE_NAMES)):
        return "share"
    return None


def _cell(value: Any, unit: str | None = None) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, (float, np.floating)) and np.isnan(value):
        return ""
    if hasattr(value, "format") and hasattr(value, "ci_low"):  # an Estimate
        return value.format(show_n=True)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, pd.Timestamp):
        local = value.tz_convert(None) if value.tzinfo is not None else value
        return f"{local:%Y-%m-%d}" if local == local.normalize() else f"{local:%Y-%m-%d %H:%M}"
    if isinstance(value, (int, np.integer, float, np.floating)):
        if unit in PERCENT_UNITS:
            return format_number(float(value), unit)
        return f"{int(value):,}" if isinstance(value, (int, np.integer)) else _plain_float(float(value))
    return str(value)


def _plain_float(value: float) -> str:
    """1,234 / 12.35 / 0.0123: thousands separators, about three significant digits below 1."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return f"{int(value):,}"
    if abs(value) >= 1:
        return f"{value:,.2f}"
    return f"{value:.3g}"


def formatted(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The table as display strings, and the names of its numeric columns.

    Estimate trios (``x``, ``x_ci_low``, ``x_ci_high``) become one column ``x``.

    Examples
    --------
    >>> from cjkit.estimate import add_proportion
    >>> t = add_proportion(pd.DataFrame({"stage": ["a"], "customers": [1200]}), "share", [6], [10])
    >>> text, numeric = formatted(t)
    >>> text.values.tolist(), numeric
    ([['a', '1,200', '60.0% (95% CI 31.3-83.2%)']], ['customers', 'share'])
    """
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    hidden: set[str] = set()
    columns: dict[str, list[str]] = {}
    numeric: list[str] = []
    row_units = frame["unit"] if "unit" in frame.columns and "value" in frame.columns else None
    for col in frame.columns:
        if col in hidden:
            continue
        name = str(col)
        series = frame[col]
        unit = _unit_of(frame, name)
        lo, hi = ci_columns(name)
        units = [u if isinstance(u, str) else None for u in row_units] if row_units is not None and name == "value" \
            else [unit] * len(frame)
        if lo in frame.columns and hi in frame.columns:
            hidden |= {lo, hi}
            columns[name] = [_interval(v, a, b, u) for v, a, b, u in zip(series, frame[lo], frame[hi], units)]
        elif row_units is not None and name == "value":
            columns[name] = [_cell(v, u if isinstance(u, str) else None) for v, u in zip(series, row_units)]
        else:
            columns[name] = [_cell(v, unit) for v in series]
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            numeric.append(name)
    out = pd.DataFrame({k: v for k, v in columns.items() if k not in hidden}, dtype=object)
    return out, [c for c in numeric if c in out.columns]


def _interval(value: Any, low: Any, high: Any, unit: str | None) -> str:
    shown = _cell(value, unit)
    if not shown or pd.isna(low) or pd.isna(high):
        return shown
    if unit in PERCENT_UNITS:
        return f"{shown} ({interval_text(float(low), float(high), unit)})"
    return f"{shown} ({interval_text(float(low), float(high), None, digits=2)})"


def table_html(frame: pd.DataFrame, *, max_rows: int = MAX_ROWS, caption: str | None = None) -> str:
    """The kit's HTML for a table (escaped: client text never becomes markup).

    ``caption`` (default: ``frame.attrs["caption"]``, which an analysis may set, e.g. to say
    why a table is empty) is shown under the table.

    Examples
    --------
    >>> page = table_html(pd.DataFrame({"campaign": ["<script>x</script>"], "n": [12000]}))
    >>> "&lt;script&gt;" in page, "12,000" in page, "<script>" in page
    (True, True, False)
    """
    caption = caption if caption is not None else frame.attrs.get("caption")
    total = len(frame)
    shown = frame.head(max_rows) if total > max_rows else frame
    text, numeric = formatted(shown)
    if total > max_rows:
        more = f"first {max_rows:,} of {total:,} rows"
        caption = f"{caption}; {more}" if caption else more
    digest = hashlib.sha1(pd.util.hash_pandas_object(text, index=False).values.tobytes()
                          + "|".join(text.columns).encode()).hexdigest()[:8]
    tid = f"T_cjkit{digest}"
    css = _CSS.format(t=f"#{tid}")
    styler = (text.style.hide(axis="index").format(escape="html").format_index(escape="html", axis=1)
              .set_uuid(f"cjkit{digest}").set_table_attributes('class="cjkit-table"'))
    # numbers break only at spaces (an interval may wrap; 122.16 never splits into 122.1 / 6)
    rules = [{"selector": f"td.col{i}", "props": "text-align: right; font-variant-numeric: tabular-nums; overflow-wrap: normal"}
             for i, c in enumerate(text.columns) if c in numeric]
    rules += [{"selector": f"th.col{i}", "props": "text-align: right"} for i, c in enumerate(text.columns)
              if c in numeric]
    styler = styler.set_table_styles(rules)
    if caption:
        styler = styler.set_caption(html.escape(caption))
    return f"<style>{css}</style>\n" + styler.to_html()


def show(frame: pd.DataFrame, *, max_rows: int = MAX_ROWS, caption: str | None = None) -> None:
    """Display ``frame`` in the kit's style (a caption, or more rows than the default)."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, max_rows=max_rows, caption=caption)))


def install() -> None:
    """Make :func:`table_html` the HTML look of every DataFrame in this IPython kernel."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return
    shell = get_ipython()
    if shell is None:
        return
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, table_html)
