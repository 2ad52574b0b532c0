"""Turn raw client columns into canonical dtypes, reporting what cannot be read.

One function per column kind of :mod:`cjkit.contract.schemas`. Each takes the raw column (text
from CSV/Excel, or typed values from Parquet), returns the parsed column (same index) and
a list of :class:`~cjkit.contract.report.Problem`. Everything is vectorised: one pass of
pandas/pyarrow per column, never a Python loop over rows.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cjkit.contract.report import Problem, Source, format_value, plural, row_problem

#: text that means "no answer" in a survey score column (compared lower-cased, stripped)
MISSING_MARKERS = frozenset({"", "n/a", "na", "n.a.", "-", "--", "none", "no answer", "null",
                             "nan", "?"})
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
# a time of day followed by Z, UTC/GMT or a +hh[:mm] offset at the very end
_OFFSET_RE = r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
_OFFSET_PART = r"(?P<off>[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$"
# dates written with numbers, day and month in either order: 03/04/2024, 3.4.24 10:00,
# 04-13-2024 1:05 PM (a time, AM/PM and an offset may follow)
_DMY_START = r"^\d{1,2}[/.\- ]\d{1,2}[/.\- ]\d{2}"
_DMY = (r"^(?P<a>\d{1,2})[/.\- ](?P<b>\d{1,2})[/.\- ](?P<y>\d{4}|\d{2})"
        r"(?:(?:[ T]+|,\s*)(?P<h>\d{1,2})(?P<m>:\d\d(?::\d\d(?:[.,]\d+)?)?)\s*"
        r"(?P<ampm>[AaPp]\.?[Mm]\.?)?(?P<rest>.*))?$")
_EXCEL_DAY0 = pd.Timestamp("1899-12-30")  # Excel serial day 1 is 1900-01-01 (with its 1900 leap bug)
_NS_MIN, _NS_MAX = pd.Timestamp("1677-09-22", tz="UTC"), pd.Timestamp("2262-04-10", tz="UTC")
Parsed = tuple[pd.Series, list[Problem]]


def _extract(values: pd.Series, pattern: str) -> pd.DataFrame:
    """The named groups of ``pattern`` in each value, as text columns (missing when absent).

    Vectorised with pyarrow (RE2): ``Series.str.extract`` runs Python's ``re`` value by value.

    >>> _extract(pd.Series(["12 €", "x"]), "^(?P<n>[0-9]+) ?(?P<c>€)?$").fillna("-").values.tolist()
    [['12', '€'], ['-', '-']]
    """
    arr = pa.array(values.astype("str"), type=pa.large_string())
    found = pc.extract_regex(arr, pattern)
    cols = {}
    for i, f in enumerate(found.type):
        col = pc.struct_field(found, [i])
        col = pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.large_string()), col)
        cols[f.name] = pd.Series(col.to_pandas(), index=values.index, dtype="str")
    return pd.DataFrame(cols, index=values.index)


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
    text = _blank_to_na(to_text(s.head(20 * sample)).str.strip()).dropna().head(sample)
    if not len(text):
        return "empty"
    if text.str.fullmatch(_NUMBER_LIKE).mean() >= 0.9:
        return "number"
    dates = (pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).notna()
             | text.str.match(_DMY_START))
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
    return _blank_to_na(stripped), problems


def parse_text(s: pd.Series, src: Source, col: str) -> Parsed:
    """Free text, kept as written; blank cells become missing."""
    return _blank_to_na(to_text(s)), []


# -- numbers: decimal and thousands marks, currency signs ---------------------------------

#: ISO code -> the signs a client file may write for it (codes themselves are also read)
CURRENCY_SIGNS: dict[str, tuple[str, ...]] = {
    "EUR": ("€",), "USD": ("$", "US$"), "GBP": ("£",), "JPY": ("¥", "円"),
    "CNY": ("¥", "元", "CN¥", "RMB"), "CAD": ("$", "C$", "CA$"), "AUD": ("$", "A$", "AU$"),
    "NZD": ("$", "NZ$"), "MXN": ("$", "MX$"), "BRL": ("R$",), "INR": ("₹", "Rs.", "Rs"),
    "KRW": ("₩",), "CHF": ("Fr.",), "SEK": ("kr",), "NOK": ("kr",), "DKK": ("kr",),
    "PLN": ("zł",),
}
_SIGN_CODES: dict[str, tuple[str, ...]] = {}
for _code, _signs in CURRENCY_SIGNS.items():
    for _sign in _signs:
        _SIGN_CODES[_sign] = _SIGN_CODES.get(_sign, ()) + (_code,)
_TOKEN = "|".join([re.escape(t) for t in sorted(_SIGN_CODES, key=len, reverse=True)] + ["[A-Z]{3}"])
# patterns hold the no-break spaces themselves: RE2 (pyarrow) knows no \\u escapes
_SPACES = " \u00a0\u202f'"                  # between thousands: spaces or an apostrophe
_WS = "[\\s\u00a0\u202f]"                     # white space, no-break spaces included
_MONEY = (f"^(?P<s1>[+-]?){_WS}*(?P<pre>{_TOKEN})?{_WS}*(?P<s2>[+-]?){_WS}*"
          f"(?P<num>[\\d.,]?\\d[\\d.,{_SPACES}]*?){_WS}*(?P<post>{_TOKEN})?$")
_NUMBER_LIKE = (f"[+-]?{_WS}*(?:{_TOKEN})?{_WS}*[+-]?\\d[\\d.,{_SPACES}]*{_WS}*"
                f"(?:{_TOKEN}|%)?")
_GROUPED_SPACES = rf"[+-]?[1-9]\d{{0,2}}(?:[{_SPACES}]\d{{3}})+(?:[.,]\d+)?"
_MARKS = {  # how a number writes its marks; each is matched against the whole value
    "plain": r"[+-]?\d+|[+-]?\d*\.?\d+[eE][+-]?\d+",
    "comma1": r"[+-]?[1-9]\d{0,2},\d{3}",            # 1,234: thousands, or a decimal comma
    "dot1": r"[+-]?[1-9]\d{0,2}\.\d{3}",             # 1.234: thousands, or a decimal point
    "commas": r"[+-]?[1-9]\d{0,2}(?:,\d{3}){2,}",    # 1,234,567: ',' between thousands
    "dots": r"[+-]?[1-9]\d{0,2}(?:\.\d{3}){2,}",     # 1.234.567: '.' between thousands
    "comma_dec": r"[+-]?\d*,\d+",                    # 12,50: a decimal comma (unless comma1)
    "dot_dec": r"[+-]?\d*\.\d+",                     # 12.50: a decimal point (unless dot1)
    "comma_dot": r"[+-]?[1-9]\d{0,2}(?:,\d{3})+\.\d+",   # 1,234.50
    "dot_comma": r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+,\d+",   # 1.234,50
}
#: the forms each reading (decimal, thousands) accepts
_FITS = {(".", None): ("plain", "dot_dec", "dot1"),
         (".", ","): ("plain", "dot_dec", "dot1", "comma1", "commas", "comma_dot"),
         (",", None): ("plain", "comma_dec", "comma1"),
         (",", "."): ("plain", "comma_dec", "comma1", "dot1", "dots", "dot_comma")}


def currency_codes(token: str) -> tuple[str, ...]:
    """ISO codes a currency sign or code in a value stands for.

    >>> currency_codes("€"), currency_codes("$")[:2], currency_codes("HUF")
    (('EUR',), ('USD', 'CAD'), ('HUF',))
    """
    return _SIGN_CODES.get(token, (token,) if re.fullmatch("[A-Z]{3}", token) else ())


def money_tokens(values: pd.Series) -> tuple[str, ...]:
    """The currency signs or codes written in number texts, most frequent first.

    >>> money_tokens(pd.Series(["$12.50", "3", "US$ 4", "$1"]))
    ('$', 'US$')
    """
    counts = values.dropna().astype("str").str.strip().value_counts()
    parts = _extract(pd.Series(counts.index, dtype="str"), _MONEY)
    token = parts["pre"].fillna(parts["post"])
    found = pd.Series(counts.to_numpy(), index=token.to_numpy())[token.notna().to_numpy()]
    if not len(found):
        return ()
    totals = found.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    return tuple(str(t) for t in totals.index)


def _currency_name(token: str) -> str:
    codes = currency_codes(token)
    return f"{token!r} ({'/'.join(codes[:3])}{'/...' if len(codes) > 3 else ''})"


def _rows_of(flags: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Index:
    """Rows (labels of ``index``) whose distinct value (``codes``) has ``flags`` set."""
    take = np.append(np.asarray(flags, dtype=bool), False)[codes]  # code -1 (missing) -> False
    return index[take]


def _mark_word(mark: str) -> str:
    return "a space" if mark in _SPACES[:3] else repr(mark)


def _number_hint(bad: pd.Series, src: Source, col: str, decimal: str, given: bool) -> str:
    where = f"tables.{src.table}"
    sample = bad.head(200)
    if src.file.lower().endswith((".xlsx", ".xlsm", ".xls")):
        return (f"these {col} cells hold text, not numbers: format the column as numbers in "
                "the workbook (or export it as CSV and set decimal/thousands in the client YAML)")
    if decimal == "." and sample.str.fullmatch(r"[+-]?\d{1,3}(?:\.\d{3})*,\d+").any():
        said = f", but {where} says decimal: \".\"" if given else ""
        return (f"the file seems to write decimals with a comma{said}: add decimal: \",\" (and "
                f"thousands: \".\" if it also writes 1.234,50) under {where} in the client YAML")
    if decimal == "," and sample.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})*\.\d+").any():
        return (f"the file seems to write decimals with a point, but {where} says decimal: "
                f"\",\": set decimal: \".\" (and thousands: \",\" if it also writes 1,234.50) "
                f"under {where} in the client YAML")
    if sample.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?").any():
        return (f"the file seems to use ',' between thousands: add thousands: \",\" under {where} "
                "in the client YAML")
    if sample.str.contains(r"[€$£¥%]").any():
        return f"remove the currency or percent signs from {col} in the file"
    return f"{col} must be a number: correct these values or set options.drop_invalid_rows: true"


def parse_numbers(s: pd.Series, src: Source, col: str, *, decimal: str | None = None,
                  thousands: str | None = None, integer: bool = False, money: bool = False,
                  currency: str | None = None, infer: bool = True) -> Parsed:
    """Numbers (float64, or Int64 when ``integer``), honouring the decimal/thousands marks.

    ``decimal`` / ``thousands`` are the client YAML's options (None: not given). With
    ``infer``, marks that are not given are read from the values when they prove them:
    ``'1,234.50'`` proves ',' between thousands, ``'12,50'`` or ``'1.234,50'`` a decimal
    comma (a counted fix naming the reading); values proving both readings are an error.
    With ``money``, a currency sign or code of the client's ``currency`` is removed (a
    counted fix) and one of another currency is an error.

    >>> vals, probs = parse_numbers(pd.Series(["12.5", "x", ""]), Source("orders", "orders.csv"), "amount")
    >>> vals.tolist(), probs[0].rows
    ([12.5, nan, nan], 1)
    >>> vals, probs = parse_numbers(pd.Series(["$1,234.50", "US$ 35", "€9"]), Source("orders", "o.csv"),
    ...                             "amount", money=True, currency="USD")
    >>> vals.tolist()
    [1234.5, 35.0, nan]
    >>> print("\\n".join(p.message for p in probs))
    orders.amount: 2 rows with the client's currency (USD) written in the value ('$', 'US$'), removed (e.g. '$1,234.50', 'US$ 35'; rows 2, 3 of o.csv)
    orders.amount: 1 row with an amount in another currency: it carries '€' (EUR) but the client's currency is USD (e.g. '€9'; row 4 of o.csv)
    orders.amount: 1 row read with ',' between thousands, because '$1,234.50' can only be read that way (e.g. '$1,234.50' -> 1234.5; row 2 of o.csv)
    """
    problems: list[Problem] = []
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("float64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        values = s.astype("float64")
        bad = pd.Series(False, index=s.index)
    else:
        text = _blank_to_na(to_text(s).str.strip())
        values, bad, problems = _read_numbers(text, src, col, decimal=decimal, thousands=thousands,
                                              integer=integer, money=money, currency=currency,
                                              infer=infer)
    if integer:
        frac = values.notna() & (values % 1 != 0) & ~bad
        if frac.any():
            problems.append(row_problem(
                "error", src, col, s.index[frac], "with a value that is not a whole number",
                values=s[frac], hint=f"{col} counts things: use whole numbers"))
        values = values.where(~frac).astype("Int64")
    return values, problems


def _read_numbers(text: pd.Series, src: Source, col: str, *, decimal: str | None,
                  thousands: str | None, integer: bool, money: bool, currency: str | None,
                  infer: bool) -> tuple[pd.Series, pd.Series, list[Problem]]:
    """Text -> float64; returns (values, rows already reported as errors, problems)."""
    if decimal in (None, ".") and thousands is None:  # fast path: plain numbers only
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        plain = not (text.notna() & values.isna()).any() and not np.isinf(values).any()
        if plain and (not integer or bool((values.isna() | (values % 1 == 0)).all())):
            return values, pd.Series(False, index=text.index), []
    codes, uniq = pd.factorize(text)
    u = pd.Series(np.asarray(uniq, dtype=object), dtype="str")
    rows = lambda flags: _rows_of(flags, codes, text.index)  # noqa: E731
    problems: list[Problem] = []
    explained = np.zeros(len(u), dtype=bool)   # reported by an error of its own
    num = u
    if money:
        num, explained, found = _strip_currency(u, text, codes, src, col, currency)
        problems += found
    values_u, more, unread = _read_marks(num, u, src, col, rows, decimal=decimal,
                                         thousands=thousands, integer=integer, infer=infer)
    problems += more
    explained |= unread
    values_u = values_u.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    values_u[np.isinf(values_u)] = np.nan
    values = pd.Series(np.append(values_u, np.nan)[codes], index=text.index)
    bad_u = u.notna().to_numpy() & np.isnan(values_u) & ~explained
    if bad_u.any():
        bad_rows = rows(bad_u)
        problems.append(row_problem(
            "error", src, col, bad_rows, "with a value that is not a number",
            values=text[bad_rows], hint=_number_hint(
                text[bad_rows], src, col, decimal or ".", given=decimal is not None)))
    bad = pd.Series(np.append(bad_u | explained, False)[codes], index=text.index)
    return values, bad, problems


def _strip_currency(u: pd.Series, text: pd.Series, codes: np.ndarray, src: Source, col: str,
                    currency: str | None) -> tuple[pd.Series, np.ndarray, list[Problem]]:
    """Remove the client's currency sign/code from distinct values ``u``; others are errors."""
    parts = _extract(u, _MONEY)
    token = parts["pre"].fillna(parts["post"])
    has = token.notna().to_numpy()
    problems: list[Problem] = []
    if not has.any():
        return u, np.zeros(len(u), dtype=bool), []
    own = currency.strip().upper() if currency else None
    ours_by_token = {t: own is not None and own in currency_codes(t) for t in token.dropna().unique()}
    ours = token.map(ours_by_token).fillna(False).to_numpy(dtype=bool)
    sign = np.where((parts["s1"] == "-") | (parts["s2"] == "-"), "-", "")
    stripped = pd.Series(sign, dtype="str") + parts["num"].str.strip()
    num = u.where(~pd.Series(has), stripped)
    if (has & ours).any():
        idx = _rows_of(has & ours, codes, text.index)
        signs = ", ".join(repr(t) for t in pd.unique(token[has & ours])[:3])
        problems.append(row_problem(
            "fix", src, col, idx, f"with the client's currency ({own}) written in the value "
            f"({signs}), removed", values=text[idx]))
    foreign = has & ~ours
    if foreign.any():
        idx = _rows_of(foreign, codes, text.index)
        first = token[foreign].iloc[0]
        one = len(idx) == 1
        code = currency_codes(first)[0]
        if own:
            what = (f"with {'an amount' if one else 'amounts'} in another currency: "
                    f"{'it carries' if one else 'they carry'} {_currency_name(first)} but the "
                    f"client's currency is {own}")
            hint = (f"convert these amounts to {own} in the file, or set currency: {code} in the "
                    f"client YAML if all of {src.table} is in {code}")
        else:
            what = (f"with {'an amount' if one else 'amounts'} in a currency: "
                    f"{'it carries' if one else 'they carry'} {_currency_name(first)} but the "
                    "client YAML sets no currency")
            hint = f"add currency: {code} to the client YAML (then {first!r} is removed)"
        problems.append(row_problem("error", src, col, idx, what, values=text[idx], hint=hint))
        num = num.where(~pd.Series(foreign), None)
    return num, foreign, problems


def _read_marks(num: pd.Series, orig: pd.Series, src: Source, col: str, rows: Any, *,
                decimal: str | None, thousands: str | None, integer: bool,
                infer: bool) -> tuple[pd.Series, list[Problem], np.ndarray]:
    """Distinct number texts -> floats; returns (values, problems, values explained by an error).

    Given marks win; a mark not given is inferred when ``infer`` and the values prove it.
    """
    problems: list[Problem] = []
    unread = np.zeros(len(num), dtype=bool)
    if not infer:  # the marks as given (Excel cells: text in a number column is an error)
        t = num.str.replace(thousands, "", regex=False) if thousands else num
        t = t.str.replace(decimal, ".", regex=False) if decimal and decimal != "." else t
        return pd.to_numeric(t, errors="coerce"), problems, unread
    where, table = f"tables.{src.table}", src.table
    clean = num.str.replace(thousands, "", regex=False) if thousands else num
    spaced = np.zeros(len(num), dtype=bool)
    space_mark = None
    if thousands is None:
        spaced = clean.str.fullmatch(_GROUPED_SPACES).fillna(False).to_numpy(dtype=bool)
        if spaced.any():
            space_mark = re.search(f"[{_SPACES}]", clean[spaced].iloc[0]).group()
            clean = clean.where(~pd.Series(spaced), clean.str.replace(f"[{_SPACES}]", "", regex=True))
    m = {k: clean.str.fullmatch(p).fillna(False).to_numpy(dtype=bool, copy=True)
         for k, p in _MARKS.items()}
    m["comma_dec"] &= ~m["comma1"]
    m["dot_dec"] &= ~m["dot1"]
    comma_dec = m["comma_dec"] | m["dot_comma"]  # a comma followed by decimals
    comma_side = comma_dec | m["dots"] | (m["dot1"] if integer else False)
    dot_side = m["dot_dec"] | m["comma_dot"] | m["commas"] | (m["comma1"] if integer else False)
    implied = {".": ",", ",": "."}.get(thousands or "")
    dec, dec_inferred, proven = decimal or implied, False, True
    if dec is None:
        if comma_side.any() and dot_side.any():
            a, b = np.flatnonzero(comma_side)[0], np.flatnonzero(dot_side)[0]
            unread = ~(m["plain"] | spaced) & num.notna().to_numpy()
            problems.append(Problem(
                "error", table, col, len(rows(unread)),
                f"{table}.{col}: mixes decimal commas and decimal points "
                f"({plural(len(rows(unread)), 'row')}), e.g. {orig[a]!r} "
                f"({_first_row(rows, comma_side, src)}) and {orig[b]!r} "
                f"({_first_row(rows, dot_side, src)})",
                f"set decimal: \",\" (then {clean[a]} = {_read_as(clean[a], ',')}) or decimal: "
                f"\".\" under {where} in the client YAML; the values written the other way are "
                "then reported row by row", (repr(orig[a]), repr(orig[b]))))
            dec = "."
        elif comma_side.any():
            dec, dec_inferred = ",", bool(comma_dec.any())
        else:
            dec, proven = ".", bool(dot_side.any())
    mark = None
    if thousands is None and not unread.any():
        if dec == "," and (m["dot1"] | m["dots"] | m["dot_comma"]).any():
            mark = "."
        elif dec == "." and ((m["commas"] | m["comma_dot"]).any() or (m["comma1"].any() and proven)):
            mark = ","
        elif dec == "." and m["comma1"].any():
            unread = m["comma1"].copy()
            idx = rows(unread)
            ex = str(orig[np.flatnonzero(unread)[0]])
            c = str(clean[np.flatnonzero(unread)[0]])
            thou, frac = _read_as(c, ".", ","), _read_as(c, ",")
            problems.append(row_problem(
                "error", src, col, idx, f"with a value that reads two ways: {ex!r} is {thou} "
                f"with ',' between thousands, or {frac} with a decimal comma",
                values=orig[unread],
                hint=f"add thousands: \",\" (then {c} = {thou}) or decimal: \",\" (then {c} = "
                     f"{frac}) under {where} in the client YAML"))
    fits = np.zeros(len(num), dtype=bool)
    for key in _FITS[(dec, mark)]:
        fits |= m[key]
    out = clean.str.replace(mark, "", regex=False) if mark else clean
    out = out.str.replace(",", ".", regex=False) if dec == "," else out
    values = pd.to_numeric(out.where(pd.Series(fits & ~unread)), errors="coerce")
    said = [(dec_inferred, "a decimal comma", 'decimal: ","',
             ("dot_comma", "comma_dec", "dots")),
            (mark is not None, f"{mark!r} between thousands", f'thousands: "{mark}"',
             ("dot_comma", "dots", "comma_dec") if mark == "." else ("comma_dot", "commas", "dot_dec")),
            (space_mark is not None, f"{_mark_word(space_mark or ' ')} between thousands",
             f'thousands: "{space_mark}"', ("spaced",))]
    said = [s for s in said if s[0]]
    if said:
        m["spaced"] = spaced
        marks = [","] if dec_inferred or mark == "," else []
        marks += ["."] if mark == "." else []
        affected = spaced.copy()
        for ch in marks:
            affected |= clean.str.contains(ch, regex=False).fillna(False).to_numpy(dtype=bool)
        affected &= fits & ~unread
        shows = {"dot_dec": "has a decimal point", "comma_dec": "has a decimal comma"}
        shows = {} if dec_inferred else shows  # a thousands mark is shown by the decimal one
        reason = next((f"{orig[np.flatnonzero(m[k] & fits)[0]]!r} "
                       + shows.get(k, "can only be read that way")
                       for k in said[0][3] if (m[k] & fits).any()), None)
        if reason is None:
            reason = (f"the client YAML sets decimal: \"{decimal}\"" if decimal
                      else f"{col} holds whole numbers" if integer else "the values show it")
        first = np.flatnonzero(affected)[0] if affected.any() else 0
        idx = rows(affected)
        p = Problem(
            "fix", table, col, len(idx),
            f"{table}.{col}: {plural(len(idx), 'row')} read with "
            f"{' and '.join(s[1] for s in said)}, because {reason} (e.g. {orig[first]!r} -> "
            f"{format_value(values.iloc[first])}; {src.rows_label(idx)} of {src.file})",
            f"set {' and '.join(s[2] for s in said)} under {where} to make it explicit",
            (repr(orig[first]),))
        problems.append(p)
    return values, problems, unread


def _read_as(text: str, decimal: str, thousands: str | None = None) -> str:
    """``'1,234'`` read with the given marks, formatted: ``_read_as('1,234', ',')`` -> ``'1.234'``."""
    t = text.replace(thousands, "") if thousands else text
    return format_value(float(t.replace(decimal, ".")))


def _first_row(rows: Any, flags: np.ndarray, src: Source) -> str:
    first = np.zeros(len(flags), dtype=bool)
    first[np.flatnonzero(flags)[0]] = True
    return f"{src.rows_label(rows(first)[:1])} of {src.file}"


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
    values, found = parse_numbers(s, src, col, decimal=".", integer=True, infer=False)
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
    cand = text.str.match(_DMY_START, na=False).astype(bool)
    if not cand.any():
        return text, None, []
    sub = text[cand]
    codes, uniq = pd.factorize(sub)
    u = pd.Series(np.asarray(uniq, dtype=object), dtype="str")
    p = _extract(u, _DMY)
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
    rows = lambda flags: _rows_of(flags, codes, sub.index)  # noqa: E731
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

