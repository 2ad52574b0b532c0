"""Turn raw client columns into canonical dtypes, reporting what cannot be read.

One function per column kind of :mod:`cjkit.contract.schemas`. Each takes the raw column (text
from CSV/Excel, or typed values from Parquet), returns the parsed column (same index) and
a list of :class:`~cjkit.contract.report.Problem`. Everything is vectorised: one pass of
pandas/pyarrow per column, never a Python loop over rows. Identifiers, free text and flags
are read here; numbers and scores in :mod:`cjkit.contract.numbers`, dates and times in
:mod:`cjkit.contract.dates`; this module is where the loader finds them all.
"""
from __future__ import annotations

import pandas as pd

from cjkit.contract.dates import DMY_START, parse_timestamps
from cjkit.contract.numbers import NUMBER_LIKE, parse_numbers, parse_scores
from cjkit.contract.report import Source, row_problem
from cjkit.contract.text import Parsed, blank_to_na, to_text

__all__ = ["value_kind", "parse_ids", "parse_text", "parse_flags", "parse_numbers", "parse_scores",
           "parse_timestamps", "to_text"]

_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})


def value_kind(s: pd.Series, *, sample: int = 500) -> str:
    """What a raw column holds, judged from its first filled values.

    ``"number"`` (digits with marks, signs or a currency), ``"date"`` (ISO, numeric
    day/month or month names), ``"text"`` or ``"empty"``; a kind needs 9 in 10 values.

    >>> [value_kind(pd.Series(v)) for v in (["1,234.50", "$12"], ["2024-01-05", "03/04/2024"],
    ...                                      ["o-1", "o-2"], ["", None])]
    ['number', 'date', 'text', 'empty']
    """
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "date"
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return "number" if s.notna().any() else "empty"
    text = blank_to_na(to_text(s.head(20 * sample)).str.strip()).dropna().head(sample)
    if not len(text):
        return "empty"
    if text.str.fullmatch(NUMBER_LIKE).mean() >= 0.9:
        return "number"
    dates = (pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).notna()
             | text.str.match(DMY_START))
    rest = text[~dates]
    if len(rest) and dates.mean() < 0.9:
        again = pd.to_datetime(pd.Series(pd.unique(rest)), format="mixed", errors="coerce", utc=True)
        dates = dates | rest.isin(pd.unique(rest)[again.notna().to_numpy()]).reindex(
            text.index, fill_value=False)
    return "date" if dates.mean() >= 0.9 else "text"


def parse_ids(s: pd.Series, src: Source, col: str) -> Parsed:
    """Identifiers (and category labels): text, surrounding spaces stripped (counted fix).

    >>> ids, probs = parse_ids(pd.Series([" c1", "c2", ""]), Source("orders", "orders.csv"), "customer_id")
    >>> ids.tolist(), probs[0].message
    (['c1', 'c2', nan], "orders.customer_id: 1 row with spaces around the value, stripped (e.g. ' c1'; row 2 of orders.csv)")
    """
    text = to_text(s)
    stripped = text.str.strip()
    changed = stripped.ne(text) & text.notna()
    problems = []
    if changed.any():
        problems.append(row_problem("fix", src, col, text.index[changed],
                                    "with spaces around the value, stripped",
                                    values=text[changed], row_level=False))
    return blank_to_na(stripped), problems


def parse_text(s: pd.Series, src: Source, col: str) -> Parsed:
    """Free text, kept as written; blank cells become missing."""
    return blank_to_na(to_text(s)), []


def parse_flags(s: pd.Series, src: Source, col: str) -> Parsed:
    """True/false values (``boolean``): true/false, yes/no, 1/0, t/f, y/n.

    >>> parse_flags(pd.Series(["yes", "0", ""]), Source("orders", "o.csv"), "is_return")[0].tolist()
    [True, False, <NA>]
    """
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        text = to_text(s.astype("float64") if not pd.api.types.is_bool_dtype(s.dtype) else s)
    else:
        text = to_text(s)
    low = blank_to_na(text.str.strip().str.lower())
    out = pd.Series(pd.NA, index=s.index, dtype="boolean")
    out[low.isin(_TRUE)] = True
    out[low.isin(_FALSE)] = False
    bad = low.notna() & out.isna()
    problems = []
    if bad.any():
        problems.append(row_problem("error", src, col, s.index[bad], "with a value that is not "
                                    "true/false", values=text[bad],
                                    hint=f"write {col} as true/false (or yes/no, 1/0)"))
    return out, problems
