"""Dates and times in client files: one day/month order per column, time zones, UTC.

Timestamps become ``datetime64[ns, UTC]``. ISO 8601 is read first; dates written with numbers
(03/04/2024) are read in one order per column -- the ``dayfirst`` of the client YAML, else
the order the values prove (a value like 13/04/2024 can only be day first) -- and a column
that proves neither, or both, is an error that says which option to set. Times without an
offset are local times of the client's timezone (gaps and repeats of daylight-saving changes
handled and counted).
"""
from __future__ import annotations


import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cjkit.contract.report import Problem, Source, plural, row_problem
from cjkit.contract.text import Parsed, blank_to_na, extract, rows_of, to_text

# a time of day followed by Z, UTC/GMT or a +hh[:mm] offset at the very end
_OFFSET_RE = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
_OFFSET_PART = r"(?P<off>[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
# dates written with numbers, day and month in either order: 03/04/2024, 3.4.24 10:00,
# 04-13-2024 1:05 PM (a time, AM/PM and an offset may follow)
DMY_START = r"^\d{1,2}[/.\- ]\d{1,2}[/.\- ]\d{2}"
_DMY = (r"^(?P<a>\d{1,2})[/.\- ](?P<b>\d{1,2})[/.\- ](?P<y>\d{4}|\d{2})"
        r"(?:(?:[ T]+|,\s*)(?P<h>\d{1,2})(?P<m>:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*"
        r"(?P<ampm>[AaPp]\.?[Mm]\.?)?(?P<rest>.*))?$")
_EXCEL_DAY0 = pd.Timestamp("1899-12-30")  # Excel serial day 1 is 1900-01-01 (with its 1900 leap bug)
_NS_MIN, _NS_MAX = pd.Timestamp("1677-09-22", tz="UTC"), pd.Timestamp("2262-04-10", tz="UTC")


def _has_offset(text: pd.Series) -> pd.Series:
    arr = pa.array(text.fillna(""), type=pa.large_string())
    return pd.Series(pc.match_substring_regex(arr, _OFFSET_RE).to_numpy(zero_copy_only=False),
                     index=text.index)


def _ints(digits: pd.Series) -> np.ndarray:
    """Digit texts -> float64 array (NaN where missing), cast by pyarrow."""
    arr = pc.cast(pa.array(digits, type=pa.large_string()), pa.int64())
    return arr.to_numpy(zero_copy_only=False).astype("float64")


_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _is_date(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Whether (year, month, day) is a calendar date (leap years included); NaN -> False."""
    with np.errstate(invalid="ignore"):
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        month_ok = (m >= 1) & (m <= 12)
        mi = np.where(month_ok, m, 1).astype(int)
        days = _MONTH_DAYS[mi - 1] + ((mi == 2) & leap)
        return month_ok & (d >= 1) & (d <= days)


def _iso_dates(y: np.ndarray, month: np.ndarray, day: np.ndarray) -> pd.Series:
    two = lambda v: pd.Series(v).astype("Int64").astype("str").str.zfill(2)  # noqa: E731
    return pd.Series(y).astype("Int64").astype("str") + "-" + two(month) + "-" + two(day)


def _numeric_dates(text: pd.Series, src: Source, col: str,
                   dayfirst: bool | None) -> tuple[pd.Series, pd.Series | None, list[Problem]]:
    """Rewrite dates written with numbers day/month or month/day (03/04/2024) as ISO text.

    One order per column: ``dayfirst`` when given (values impossible in that order are
    errors), else the order the values prove (a first number above 12 proves day first,
    a second one above 12 month first). Returns (text with those dates in ISO form -
    missing where an error already explains the value -, the rows that were such dates,
    problems). Works on distinct values; other values pass through unchanged.
    """
    cand = text.str.match(DMY_START, na=False).astype(bool)
    if not cand.any():
        return text, None, []
    sub = text[cand]
    codes, uniq = pd.factorize(sub)
    u = pd.Series(np.asarray(uniq, dtype=object), dtype="str")
    p = extract(u, _DMY)
    ok = p["a"].notna().to_numpy()
    a, b, y = _ints(p["a"]), _ints(p["b"]), _ints(p["y"])
    y = np.where(p["y"].str.len().to_numpy(dtype="float64", na_value=0) == 2,
                 y + np.where(y < 69, 2000, 1900), y)
    ok_d, ok_m = ok & _is_date(y, b, a), ok & _is_date(y, a, b)
    only_d, only_m = ok_d & ~ok_m, ok_m & ~ok_d
    either = ok_d & ok_m & (a != b)
    hour = pd.Series(_ints(p["h"]))
    ampm = p["ampm"].str.lower().str[0]
    hour = hour.where(~((ampm == "p") & (hour < 12)), hour + 12)
    hour = hour.where(~((ampm == "a") & (hour == 12)), 0)
    clock = (" " + hour.astype("Int64").astype("str").str.zfill(2) + p["m"]
             + p["rest"].fillna("")).where(p["h"].notna(), "")
    rows = lambda flags: rows_of(flags, codes, sub.index)  # noqa: E731
    table, where = src.table, f"tables.{src.table}"

    def first(flags: np.ndarray) -> tuple[str, str]:
        k = np.flatnonzero(flags)[0]
        return u[k], f"{src.rows_label(rows(flags & (np.arange(len(u)) == k))[:1])} of {src.file}"

    problems: list[Problem] = []
    order = dayfirst
    if dayfirst is None:
        if only_d.any() and only_m.any():
            (d, d_row), (m_, m_row) = first(only_d), first(only_m)
            n = len(rows(ok_d | ok_m))
            problems.append(Problem(
                "error", table, col, n, f"{table}.{col}: mixes day-first and month-first dates "
                f"({plural(n, 'row')}), e.g. {d!r} ({d_row}, only possible day first) and {m_!r} ({m_row}, only "
                "possible month first)",
                f"write every date in one order (best as 2024-04-13), or set dayfirst: true or "
                f"false under {where} in the client YAML; the dates impossible in that order "
                "are then reported row by row", (repr(d), repr(m_))))
        elif only_d.any() or only_m.any():
            order = bool(only_d.any())
        elif either.any():
            k = np.flatnonzero(either)[0]
            day_ = pd.Timestamp(int(y[k]), int(b[k]), int(a[k]))
            month_ = pd.Timestamp(int(y[k]), int(a[k]), int(b[k]))
            problems.append(row_problem(
                "error", src, col, rows(either), "with a date that reads day first or month "
                "first, and no date in the column tells which", values=u[either],
                row_level=False,
                hint=f"set dayfirst: true under {where} in the client YAML if {u[k]!r} is "
                     f"{day_.day} {day_:%B %Y}, or dayfirst: false if it is {month_:%B} "
                     f"{month_.day}, {month_.year}"))
        else:
            order = True  # every value reads the same either way (or in neither)
    iso = pd.Series(pd.NA, index=u.index, dtype="str")
    if order is not None:
        valid = ok_d if order else ok_m
        impossible = (ok_m if order else ok_d) & ~valid
        iso = ((_iso_dates(y, b, a) if order else _iso_dates(y, a, b)) + clock).where(
            pd.Series(valid))
        word, flag = ("day first", "true") if order else ("month first", "false")
        if valid.any():
            k = np.flatnonzero(valid)[0]
            try:
                shown = str(pd.Timestamp(iso[k]))
            except ValueError:
                shown = iso[k]
            idx = rows(valid)
            if dayfirst is None and (only_d | only_m).any():
                proof, proof_row = first(only_d if order else only_m)
                problems.append(Problem(
                    "fix", table, col, len(idx),
                    f"{table}.{col}: {plural(len(idx), 'date')} written with numbers, read "
                    f"{word} because {proof!r} ({proof_row}) can only be {word} (e.g. "
                    f"{u[k]!r} -> {shown})",
                    f"set dayfirst: {flag} under {where} to make it explicit", (repr(proof),)))
            elif dayfirst is not None:
                problems.append(row_problem(
                    "warning", src, col, idx, f"with a date that is not in ISO 8601 form, read "
                    f"{word} (e.g. {u[k]!r} -> {shown})", row_level=False,
                    hint=f"{where} sets dayfirst: {flag}; check a few of these dates, or write "
                         "dates as 2024-03-01 14:30 to remove any doubt"))
        if impossible.any():
            other = "month first" if order else "day first"
            problems.append(row_problem(
                "error", src, col, rows(impossible), f"with a date that is impossible {word} "
                f"(dayfirst: {flag})", values=u[impossible],
                hint=f"{where} sets dayfirst: {flag}, but these dates can only be {other}: "
                     "correct them or the dayfirst setting, or set options.drop_invalid_rows: "
                     "true to drop these rows"))
    neither = ~ok_d & ~ok_m   # not a date in either order: left as written, reported unreadable
    iso = iso.where(~pd.Series(neither), u)
    out = text.copy()
    out[cand] = iso.to_numpy()[codes]
    return out, cand, problems


def _date_hint(bad: pd.Series) -> str:
    """What to do about unreadable dates; spots Excel serial day numbers (45292 = 2024-01-01)."""
    usual = ("write dates as 2024-03-01 or 2024-03-01 14:30[:00][+01:00], or set "
             "options.drop_invalid_rows: true to drop these rows")
    sample = pd.Series(pd.unique(bad.head(1000)), dtype="str")
    serial = sample[sample.str.fullmatch(r"\d{5}(?:\.\d+)?")]
    days = pd.to_numeric(serial)
    serial = serial[(days >= 20000) & (days < 80000)]
    if not len(serial):
        return usual
    v = serial.iloc[0]
    day = _EXCEL_DAY0 + pd.Timedelta(days=float(v))
    shown = f"{day:%Y-%m-%d}" if day == day.normalize() else f"{day:%Y-%m-%d %H:%M}"
    return (f"these look like Excel serial day numbers ({v} = {shown}): format the column as "
            "dates in the workbook before exporting (or save the workbook itself as .xlsx "
            "and load that), or write the dates as 2024-03-01; " + usual.split(", or ")[1])


def _parse_text_ts(text: pd.Series, src: Source, col: str, *, utc: bool,
                   dayfirst: bool | None) -> Parsed:
    """ISO 8601 first (fast); then numeric day/month dates in one order for the column
    (:func:`_numeric_dates`); other layouts (month names) per distinct value with
    ``format="mixed"``."""
    problems: list[Problem] = []
    ts = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=utc)
    failed = text.notna() & ts.isna()
    explained = None
    if failed.any():
        ts = ts.copy()
        sub = text[failed]
        dates, handled, problems = _numeric_dates(sub, src, col, dayfirst)
        if handled is not None:
            iso = dates[handled]
            ts[iso.index] = pd.to_datetime(iso, format="ISO8601", errors="coerce",
                                           utc=utc).astype(ts.dtype).to_numpy()
            explained = iso.index[iso.isna()]  # an error of _numeric_dates says why
            sub = sub[~handled]
        if len(sub):
            uniq = pd.Series(pd.unique(sub))
            try:
                again = pd.to_datetime(uniq, format="mixed", dayfirst=bool(dayfirst),
                                       errors="coerce", utc=utc)
            except (ValueError, TypeError):
                again = None
            if (again is None or not pd.api.types.is_datetime64_any_dtype(again.dtype)
                    or isinstance(again.dtype, pd.DatetimeTZDtype) != utc):
                again = pd.Series(pd.NaT, index=uniq.index, dtype=ts.dtype)  # e.g. 'EST' suffixes
            again = again.astype(ts.dtype)
            lookup = pd.Series(again.to_numpy(), index=uniq.to_numpy())
            ts[sub.index] = sub.map(lookup).to_numpy()
            odd = ts[sub.index].notna()
            if odd.any():
                first = sub[odd].iloc[0]
                problems.append(row_problem(
                    "warning", src, col, sub.index[odd],
                    f"with a date that is not in ISO 8601 form, read as written (e.g. {first!r} "
                    f"-> {ts[sub.index[odd][0]]})", row_level=False,
                    hint="check a few of these dates, or write dates as 2024-03-01 14:30 to "
                         "remove any doubt"))
    still = text.notna() & ts.isna()
    if explained is not None and len(explained):
        still[explained] = False
    if still.any():
        problems.append(row_problem(
            "error", src, col, text.index[still], "with a date/time that cannot be read",
            values=text[still], hint=_date_hint(text[still])))
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


def parse_timestamps(s: pd.Series, src: Source, col: str, *, tz: str,
                     dayfirst: bool | None = None, day_only: bool = False) -> Parsed:
    """Timestamps -> ``datetime64[ns, UTC]``; see :mod:`cjkit.contract.load` for the time-zone rules.

    Dates written with numbers in day/month or month/day order (03/04/2024) are read in
    one order for the whole column: ``dayfirst`` when given, else the order the values
    prove (a counted fix), else an error asking for ``dayfirst`` (never a silent guess).

    >>> ts, probs = parse_timestamps(pd.Series(["03/04/2024", "13/04/2024"]),
    ...                              Source("orders", "orders.csv"), "ordered_at", tz="UTC")
    >>> [str(t.date()) for t in ts], probs[0].message
    (['2024-04-03', '2024-04-13'], "orders.ordered_at: 2 dates written with numbers, read day first because '13/04/2024' (row 3 of orders.csv) can only be day first (e.g. '03/04/2024' -> 2024-04-03 00:00:00)")
    >>> probs[0].hint
    'set dayfirst: true under tables.orders to make it explicit'

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
        text = blank_to_na(to_text(s).str.strip())
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
