"""Turn raw client columns into canonical dtypes, reporting what cannot be read.

One function per column kind of :mod:`cjkit.contract.schemas`. Each takes the raw column (text
from CSV/Excel, or typed values from Parquet), returns the parsed column (same index) and
a list of :class:`~cjkit.contract.report.Problem`. Everything is vectorised: one pass of
pandas/pyarrow per column, never a Python loop over rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cjkit.contract.report import Problem, Source, plural, row_problem

#: text that means "no answer" in a survey score column (compared lower-cased, stripped)
MISSING_MARKERS = frozenset({"", "n/a", "na", "n.a.", "-", "--", "none", "no answer", "null",
                             "nan", "?"})
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
# a time of day followed by Z, UTC/GMT or a +hh[:mm] offset at the very end
_OFFSET_RE = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
_OFFSET_PART = r"(?P<off>[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
_NS_MIN, _NS_MAX = pd.Timestamp("1677-09-22", tz="UTC"), pd.Timestamp("2262-04-10", tz="UTC")
Parsed = tuple[pd.Series, list[Problem]]


def to_text(s: pd.Series) -> pd.Series:
    """Values as pandas ``str`` (missing stays missing).

    A float column whose values are all whole (ids stored as 1001.0) is written without
    the ``.0``.

    >>> to_text(pd.Series([1001.0, None])).tolist(), to_text(pd.Series([7.5])).tolist()
    (['1001', nan], ['7.5'])
    """
    if pd.api.types.is_float_dtype(s.dtype):
        whole = s.isna() | (s % 1 == 0)
        if whole.all():
            return s.astype("Int64").astype("str")
    return s if s.dtype == "str" else s.astype("str")


def _blank_to_na(text: pd.Series) -> pd.Series:
    return text.where(text != "")


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
    return _blank_to_na(stripped), problems


def parse_text(s: pd.Series, src: Source, col: str) -> Parsed:
    """Free text, kept as written; blank cells become missing."""
    return _blank_to_na(to_text(s)), []


def _number_hint(bad: pd.Series, src: Source, col: str, decimal: str) -> str:
    where = f"tables.{src.table}"
    sample = bad.head(200)
    if src.file.lower().endswith((".xlsx", ".xlsm", ".xls")):
        return (f"these {col} cells hold text, not numbers: format the column as numbers in "
                "the workbook (or export it as CSV and set decimal/thousands in the client YAML)")
    if decimal == "." and sample.str.fullmatch(r"[+-]?\d{1,3}(?:\.\d{3})*,\d+").any():
        return (f"the file seems to write decimals with a comma: add decimal: \",\" (and "
                f"thousands: \".\" if it also writes 1.234,50) under {where} in the client YAML")
    if sample.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?").any():
        return (f"the file seems to use ',' between thousands: add thousands: \",\" under {where} "
                "in the client YAML")
    if sample.str.contains(r"[€$£¥%]").any():
        return f"remove the currency or percent signs from {col} in the file"
    return f"{col} must be a number: correct these values or set options.drop_invalid_rows: true"


def parse_numbers(s: pd.Series, src: Source, col: str, *, decimal: str = ".",
                  thousands: str | None = None, integer: bool = False) -> Parsed:
    """Numbers (float64, or Int64 when ``integer``), honouring the decimal/thousands marks.

    >>> vals, probs = parse_numbers(pd.Series(["12.5", "x", ""]), Source("orders", "orders.csv"), "amount")
    >>> vals.tolist(), probs[0].rows
    ([12.5, nan, nan], 1)
    """
    problems: list[Problem] = []
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.astype("float64")
        bad = pd.Series(False, index=s.index)
    else:
        text = _blank_to_na(to_text(s).str.strip())
        t = text
        if thousands:
            t = t.str.replace(thousands, "", regex=False)
        if decimal != ".":
            t = t.str.replace(decimal, ".", regex=False)
        values = pd.to_numeric(t, errors="coerce").astype("float64")
        bad = text.notna() & (values.isna() | np.isinf(values))
        if bad.any():
            problems.append(row_problem(
                "error", src, col, s.index[bad], "with a value that is not a number",
                values=text[bad], hint=_number_hint(text[bad], src, col, decimal)))
            values = values.where(~bad)
    if integer:
        frac = values.notna() & (values % 1 != 0) & ~bad
        if frac.any():
            problems.append(row_problem(
                "error", src, col, s.index[frac], "with a value that is not a whole number",
                values=s[frac], hint=f"{col} counts things: use whole numbers"))
        values = values.where(~frac).astype("Int64")
    return values, problems


def parse_scores(s: pd.Series, src: Source, col: str, *, low: int, high: int) -> Parsed:
    """Survey scores as Int64; "N/A"-like text becomes missing (counted fix).

    >>> vals, probs = parse_scores(pd.Series(["9", "N/A", "ten"]), Source("surveys", "s.csv"), "nps",
    ...                            low=0, high=10)
    >>> vals.tolist(), [p.severity for p in probs]
    ([9, <NA>, <NA>], ['fix', 'error'])
    """
    hint = (f"{col} must be a whole number from {low} to {high}; leave the cell empty (or write "
            "N/A) when there was no answer")
    problems: list[Problem] = []
    if not pd.api.types.is_numeric_dtype(s.dtype):
        text = to_text(s).str.strip()
        marker = text.notna() & text.str.lower().isin(MISSING_MARKERS)
        if marker.any():
            problems.append(row_problem(
                "fix", src, col, s.index[marker], "with no answer (blank, or text such as "
                "'N/A'), read as missing", values=text[marker], row_level=False))
        s = text.where(~marker)
    values, found = parse_numbers(s, src, col, integer=True)
    for p in found:
        p.hint = hint
        p.message = p.message.replace("not a number", f"not a {low}-{high} score")
    return values, problems + found


def parse_flags(s: pd.Series, src: Source, col: str) -> Parsed:
    """True/false values (``boolean``): true/false, yes/no, 1/0, t/f, y/n.

    >>> parse_flags(pd.Series(["yes", "0", ""]), Source("orders", "o.csv"), "is_return")[0].tolist()
    [True, False, <NA>]
    """
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        text = to_text(s.astype("float64") if not pd.api.types.is_bool_dtype(s.dtype) else s)
    else:
        text = to_text(s)
    low = _blank_to_na(text.str.strip().str.lower())
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


def _has_offset(text: pd.Series) -> pd.Series:
    arr = pa.array(text.fillna(""), type=pa.large_string())
    return pd.Series(pc.match_substring_regex(arr, _OFFSET_RE).to_numpy(zero_copy_only=False),
                     index=text.index)


def _parse_text_ts(text: pd.Series, src: Source, col: str, *, utc: bool,
                   dayfirst: bool) -> Parsed:
    """ISO 8601 first (fast); other layouts per distinct value with ``format="mixed"``."""
    problems: list[Problem] = []
    ts = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    failed = text.notna() & ts.isna()
    if failed.any():
        uniq = pd.Series(pd.unique(text[failed]))
        try:
            again = pd.to_datetime(uniq, format="mixed", dayfirst=dayfirst, errors="coerce", utc=utc)
        except (ValueError, TypeError):
            again = None
        if (again is None or not pd.api.types.is_datetime64_any_dtype(again.dtype)
                or isinstance(again.dtype, pd.DatetimeTZDtype) != utc):
            again = pd.Series(pd.NaT, index=uniq.index, dtype=ts.dtype)  # e.g. 'EST' suffixes
        again = again.astype(ts.dtype)
        lookup = pd.Series(again.to_numpy(), index=uniq.to_numpy())
        filled = text[failed].map(lookup)
        ts = ts.copy()
        ts[failed] = filled.to_numpy()
        odd = failed & ts.notna()
        if odd.any():
            first = text[odd].iloc[0]
            order = "day first" if dayfirst else "month first"
            problems.append(row_problem(
                "warning", src, col, text.index[odd],
                f"with a date that is not in ISO 8601 form, read {order} (e.g. {first!r} -> "
                f"{ts[odd].iloc[0]})", row_level=False,
                hint=f"check the day/month order; set dayfirst: {str(not dayfirst).lower()} "
                     f"under tables.{src.table} if it is the other way round, or write dates "
                     "as 2024-03-01 14:30"))
        still = text.notna() & ts.isna()
        if still.any():
            problems.append(row_problem(
                "error", src, col, text.index[still], "with a date/time that cannot be read",
                values=text[still],
                hint="write dates as 2024-03-01 or 2024-03-01 14:30[:00][+01:00], or set "
                     "options.drop_invalid_rows: true to drop these rows"))
    return ts, problems


def _localise(naive: pd.Series, src: Source, col: str, tz: str, *, note: bool) -> Parsed:
    """Local wall-clock times -> UTC; DST gaps shifted forward, repeated hours read as the first."""
    problems: list[Problem] = []
    local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    odd = naive.notna() & local.isna()
    if odd.any():
        sub = naive[odd]
        shifted = sub.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        gap, repeated = shifted.notna(), shifted.isna()
        local = local.copy()
        if gap.any():
            local[sub.index[gap]] = shifted[gap]
            problems.append(row_problem(
                "fix", src, col, sub.index[gap], f"with a local time that does not exist in {tz} "
                "(clocks went forward), moved forward to the first valid time",
                values=sub[gap].astype("str"), row_level=False))
        if repeated.any():
            rep = sub[repeated]
            local[rep.index] = rep.dt.tz_localize(tz, ambiguous=np.ones(len(rep), dtype=bool))
            problems.append(row_problem(
                "fix", src, col, rep.index, f"with a local time that happens twice in {tz} "
                "(clocks went back), read as the first (summer-time) occurrence",
                values=rep.astype("str"), row_level=False))
    n = int(naive.notna().sum())
    if note and n:
        problems.append(Problem(
            "fix", src.table, col, n, f"{src.table}.{col}: {plural(n, 'timestamp')} without a time "
            f"zone read as local time in {tz} (the client timezone) and converted to UTC"))
    return local.dt.tz_convert("UTC"), problems


def _offsets(text: pd.Series) -> list[str]:
    arr = pa.array(pd.unique(text.dropna()), type=pa.large_string())
    found = pc.extract_regex(arr, _OFFSET_PART).field("off").to_pylist()
    norm = set()
    for off in found:
        off = "+00:00" if off.upper() in ("Z", "UTC", "GMT") else off
        off = off if ":" in off or len(off) == 3 else off[:3] + ":" + off[3:]
        norm.add(off + ":00" if len(off) == 3 else off)
    return sorted(norm)


def parse_timestamps(s: pd.Series, src: Source, col: str, *, tz: str, dayfirst: bool = False,
                     day_only: bool = False) -> Parsed:
    """Timestamps -> ``datetime64[ns, UTC]``; see :mod:`cjkit.contract.load` for the time-zone rules.

    >>> ts, probs = parse_timestamps(pd.Series(["2024-03-01 10:00", "2024-03-01T10:00:00+02:00"]),
    ...                              Source("events", "e.csv"), "timestamp", tz="Europe/Madrid")
    >>> probs[0].severity, probs[0].message.split(";")[0]
    ('error', 'events.timestamp: mixes 1 timestamp with a UTC offset and 1 without one')
    """
    problems: list[Problem] = []
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        ts = s.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        ts, problems = _localise(s, src, col, tz, note=not day_only)
    else:
        text = _blank_to_na(to_text(s).str.strip())
        aware = _has_offset(text) & text.notna()
        naive = text.notna() & ~aware
        n_aware, n_naive = int(aware.sum()), int(naive.sum())
        if n_aware and n_naive:
            problems.append(Problem(
                "error", src.table, col, n_naive,
                f"{src.table}.{col}: mixes {plural(n_aware, 'timestamp')} with a UTC offset and "
                f"{n_naive:,} without one; the ones without are ambiguous (e.g. "
                f"{text[aware].iloc[0]!r} and {text[naive].iloc[0]!r})",
                f"give every timestamp a UTC offset, or none (then the client timezone {tz} "
                "applies)", (repr(text[aware].iloc[0]), repr(text[naive].iloc[0]))))
        ts = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us, UTC]")
        if n_naive:
            part = text if not n_aware else text[naive]
            parsed, found = _parse_text_ts(part, src, col, utc=False, dayfirst=dayfirst)
            local, more = _localise(parsed, src, col, tz, note=not day_only)
            problems += found + more
            ts = local if not n_aware else ts.where(~naive, local.reindex(s.index))
        if n_aware:
            part = text if not n_naive else text[aware]
            parsed, found = _parse_text_ts(part, src, col, utc=True, dayfirst=dayfirst)
            problems += found
            offsets = _offsets(part)
            if len(offsets) > 1:
                problems.append(Problem(
                    "fix", src.table, col, n_aware,
                    f"{src.table}.{col}: {plural(n_aware, 'timestamp')} carry "
                    f"{len(offsets)} different UTC offsets ({', '.join(offsets[:5])}); all "
                    "converted to UTC", examples=tuple(offsets[:3])))
            ts = parsed if not n_naive else ts.where(~aware, parsed.reindex(s.index))
    ts, found = _to_ns(ts, src, col)
    problems += found
    if day_only:
        ts, found = _to_days(ts, src, col, tz)
        problems += found
    return ts, problems


def _to_ns(ts: pd.Series, src: Source, col: str) -> Parsed:
    out_of_range = ts.notna() & ((ts < _NS_MIN) | (ts > _NS_MAX))
    problems = []
    if out_of_range.any():
        problems.append(row_problem(
            "error", src, col, ts.index[out_of_range], "with a date outside 1678-2261",
            values=ts[out_of_range].astype("str"),
            hint="placeholder dates like 9999-12-31 mean 'unknown': leave the cell empty"))
        ts = ts.where(~out_of_range)
    return ts.astype("datetime64[ns, UTC]"), problems


def _to_days(ts: pd.Series, src: Source, col: str, tz: str) -> Parsed:
    """Calendar day in the client timezone, as midnight UTC of that day."""
    local = ts.dt.tz_convert(tz).dt.tz_localize(None)
    day = local.dt.normalize()
    timed = ts.notna() & (local != day)
    problems = []
    if timed.any():
        problems.append(row_problem(
            "fix", src, col, ts.index[timed], "with a time of day in a date column, kept the day "
            "only", values=local[timed].astype("str"), row_level=False))
    return day.dt.tz_localize("UTC"), problems

