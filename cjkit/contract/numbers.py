"""Numbers in client files: decimal and thousands marks, currency signs, survey scores.

``1,234.50``, ``1.234,50 EUR``, ``$12`` and ``12,50`` all occur in real exports. A column is
read with one reading of its marks: the one the client YAML gives (``decimal``,
``thousands``), else the one its values prove, as a counted fix; values that contradict it
are errors. A currency sign or code matching the client's currency is removed (a counted
fix); another currency is an error naming both.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from cjkit.contract.report import Problem, Source, format_value, plural, row_problem
from cjkit.contract.text import Parsed, blank_to_na, extract, rows_of, to_text

MISSING_MARKERS = frozenset({"", "n/a", "na", "n.a.", "-", "--", "none", "no answer", "null",
                             "nan", "?"})



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
NUMBER_LIKE = (f"[+-]?{_WS}*(?:{_TOKEN})?{_WS}*[+-]?\\d[\\d.,{_SPACES}]*{_WS}*"
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
    parts = extract(pd.Series(counts.index, dtype="str"), _MONEY)
    token = parts["pre"].fillna(parts["post"])
    found = pd.Series(counts.to_numpy(), index=token.to_numpy())[token.notna().to_numpy()]
    if not len(found):
        return ()
    totals = found.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")
    return tuple(str(t) for t in totals.index)


def _currency_name(token: str) -> str:
    codes = currency_codes(token)
    return f"{token!r} ({'/'.join(codes[:3])}{'/...' if len(codes) > 3 else ''})"


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
        text = blank_to_na(to_text(s).str.strip())
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
    rows = lambda flags: rows_of(flags, codes, text.index)  # noqa: E731
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
    parts = extract(u, _MONEY)
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
        idx = rows_of(has & ours, codes, text.index)
        signs = ", ".join(repr(t) for t in pd.unique(token[has & ours])[:3])
        problems.append(row_problem(
            "fix", src, col, idx, f"with the client's currency ({own}) written in the value "
            f"({signs}), removed", values=text[idx]))
    foreign = has & ~ours
    if foreign.any():
        idx = rows_of(foreign, codes, text.index)
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
