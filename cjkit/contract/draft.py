"""Draft a client YAML from a client's files: which table each file is, which column is which.

``cjkit init-client`` calls :func:`draft_client_yaml`; every guess it writes is marked
``# GUESS: review (<why>)`` so that an analyst checks it before ``cjkit validate``.

Columns are matched by name first (the same name, the same name up to case and
separators, a usual name from :data:`cjkit.contract.report.SYNONYMS` - the table the
loader also uses -, a similar spelling), then by their values: dates for the table's time
column, whole numbers 0-10 / 1-7 / 1-5 for nps / ces / csat, one distinct text per row
for order_id, amounts for amount / revenue / spend. The client's currency comes from the
currency signs or codes in the values, a currency column, or a currency in a column name.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from cjkit.contract.numbers import CURRENCY_SIGNS, currency_codes, money_tokens
from cjkit.contract.parse import value_kind
from cjkit.contract.report import closest, is_synonym, norm_name

__all__ = ["match_columns", "draft_client_yaml", "guess_currency"]

#: words in a column name that name a currency ("dollar_value" -> USD)
CURRENCY_WORDS = {"dollar": "USD", "dollars": "USD", "usd": "USD", "euro": "EUR", "euros": "EUR",
                  "eur": "EUR", "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "gbp": "GBP",
                  "yen": "JPY", "jpy": "JPY", "franc": "CHF", "francs": "CHF",
                  **{code.lower(): code for code in CURRENCY_SIGNS}}
#: the time column each table is filtered on (guessed from dates when no name matches)
_TIME = {"customers": "signup_at", "events": "timestamp", "orders": "ordered_at",
         "surveys": "answered_at", "spend": "date"}
_MONEY_COLUMN = {"orders": "amount", "events": "revenue", "spend": "spend", "paths": "value"}
_ID_LIKE = r"[A-Za-z0-9][\w\-.:#/@]*"


def _canonical_tables() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """table: (required, optional) canonical columns, straight from the schemas."""
    from cjkit.contract.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    return {t: (REQUIRED_COLUMNS[t], OPTIONAL_COLUMNS[t]) for t in REQUIRED_COLUMNS}


@dataclass(frozen=True)
class _Profile:
    """What a column's values look like (from the first rows of the file)."""

    kind: str                       # date, number, text or empty (value_kind)
    rows: int = 0                   # filled cells looked at
    distinct: int = 0
    whole: tuple[int, int] | None = None    # (min, max) when every value is a whole number
    decimals: bool = False          # some value has a decimal part
    signs: tuple[str, ...] = ()     # currency signs or codes written in the values
    id_like: bool = False           # short tokens without spaces (c-1001, 7f3a...)
    arrows: str | None = None       # the separator of channel paths ("a > b > c"), if most values are such

    @property
    def unique(self) -> bool:
        return self.rows >= 2 and self.distinct == self.rows


def _profile(s: pd.Series) -> _Profile:
    kind = value_kind(s)
    text = s.dropna().astype("str").str.strip()
    text = text[text != ""]
    if kind == "empty" or not len(text):
        return _Profile("empty")
    whole, decimals, signs = None, False, ()
    if kind == "number":
        signs = money_tokens(text)
        nums = pd.to_numeric(text, errors="coerce")
        if nums.notna().all():
            if (nums % 1 == 0).all():
                whole = (int(nums.min()), int(nums.max()))
            else:
                decimals = True
        else:
            decimals = bool(text.str.contains(r"\d[.,]\d{1,2}(?:\D*)$").any())
    id_like = kind != "date" and bool(text.str.fullmatch(_ID_LIKE).mean() >= 0.9)
    arrows = None
    if kind == "text" and text.str.contains(">", regex=False).mean() >= 0.5:
        arrowed = text[text.str.contains(">", regex=False)]
        arrows = " > " if arrowed.str.contains(" > ", regex=False).mean() >= 0.5 else ">"
    return _Profile(kind, len(text), int(text.nunique()), whole, decimals, signs, id_like, arrows)


def _by_values(table: str, key: str, p: _Profile) -> str | None:
    """Why a column with profile ``p`` can be ``key`` of ``table`` (None: it cannot)."""
    if key == _TIME.get(table) or (table == "events" and key == "timestamp"):
        return "values are dates" if p.kind == "date" else None
    if key == "path":
        return f"channels joined by {p.arrows!r}" if p.arrows else None
    if key in ("conversions", "nulls") and p.kind == "number" and p.whole and p.whole[0] >= 0:
        return "whole numbers >= 0"
    lo, hi = p.whole or (None, None)
    if key == "nps" and p.whole and 0 <= lo and hi <= 10:
        return f"whole numbers {lo}-{hi}, as NPS answers 0-10"
    if key == "csat" and p.whole and 1 <= lo and hi <= 5:
        return f"whole numbers {lo}-{hi}, as CSAT answers 1-5"
    if key == "ces" and p.whole and 1 <= lo and 5 < hi <= 7:
        return f"whole numbers {lo}-{hi}, as CES answers 1-7"
    if key == _MONEY_COLUMN.get(table) and p.kind == "number" and (p.decimals or p.signs):
        return f"amounts with {', '.join(map(repr, p.signs))}" if p.signs else "amounts with decimals"
    if key == "order_id" and p.kind in ("text", "number") and p.unique and p.id_like:
        return "one distinct value per row"
    if key == "customer_id" and p.kind == "text" and p.id_like:
        if table == "customers":
            return "one distinct value per row" if p.unique else None
        return "ids that repeat across rows" if p.distinct < p.rows else None
    return None


# the order value guesses are tried in: the most telling first
_VALUE_ORDER = ("signup_at", "timestamp", "ordered_at", "answered_at", "date", "nps", "csat", "ces",
                "order_id", "amount", "revenue", "spend", "customer_id", "path", "conversions")


def match_columns(columns: Sequence[str], table: str,
                  frame: pd.DataFrame | None = None) -> list[tuple[str, str, str]]:
    """Map a file's columns onto ``table``'s canonical ones: (client column, canonical, how).

    ``how`` is ``exact``, ``same name ignoring case and separators``, ``synonym``,
    ``similar name`` or, when ``frame`` (the file's first rows) is given and no name
    matched, ``values: <why>``. Each column is used once, best matches first.

    Examples
    --------
    >>> match_columns(["Cust ID", "Order Date", "order_id", "Revenue"], "orders")
    [('order_id', 'order_id', 'exact'), ('Cust ID', 'customer_id', 'synonym'), ('Order Date', 'ordered_at', 'synonym'), ('Revenue', 'amount', 'synonym')]
    >>> frame = pd.DataFrame({"who": ["r1", "r2", "r1"], "when": ["2024-01-05", "2024-01-06", "2024-02-01"],
    ...                       "q1": [9, 10, 3], "q2": [4, 5, 2]})
    >>> for m in match_columns(list(frame.columns), "surveys", frame): print(m)
    ('when', 'answered_at', 'values: values are dates')
    ('q1', 'nps', 'values: whole numbers 3-10, as NPS answers 0-10')
    ('q2', 'csat', 'values: whole numbers 2-5, as CSAT answers 1-5')
    ('who', 'customer_id', 'values: ids that repeat across rows')
    """
    required, optional = _canonical_tables()[table]
    wanted, free, out = list(required + optional), [str(c) for c in columns], []
    tests = [("exact", lambda c, k: c == k),
             ("same name ignoring case and separators",
              lambda c, k: norm_name(c).replace("_", "") == k.replace("_", "")),
             ("synonym", lambda c, k: is_synonym(c, k)),
             ("similar name", lambda c, k: closest(norm_name(c), [k], cutoff=0.8) is not None)]
    for how, test in tests:
        for key in list(wanted):
            hit = next((c for c in free if test(c, key)), None)
            if hit is not None:
                out.append((hit, key, how))
                wanted.remove(key)
                free.remove(hit)
    if frame is None or not free:
        return out
    by_name = {str(c): c for c in frame.columns}
    profiles = {c: _profile(frame[by_name[c]]) for c in free if c in by_name}
    for key in [k for k in _VALUE_ORDER if k in wanted]:
        found = [(c, why) for c in free if c in profiles
                 and (why := _by_values(table, key, profiles[c])) is not None]
        if key == "nps" and found:  # the widest 0-10 scale is the NPS
            found.sort(key=lambda f: -profiles[f[0]].whole[1])
        if found:
            c, why = found[0]
            out.append((c, key, f"values: {why}"))
            wanted.remove(key)
            free.remove(c)
    return out


def guess_currency(frames: Sequence[tuple[str, pd.DataFrame, dict[str, str]]]) -> tuple[str, str] | None:
    """(ISO code, why) from files as (file name, first rows, {client column: canonical}).

    Signs or codes in the values win, then the most common code of a currency column, then a
    currency named in a column name ("dollar_value" -> USD).

    >>> guess_currency([("sales.csv", pd.DataFrame({"total": ["$12.50", "$3"]}), {"total": "amount"})])
    ('USD', "values of sales.csv column 'total' carry '$'")
    >>> guess_currency([("sales.csv", pd.DataFrame({"dollar_value": [12.5]}), {})])
    ('USD', "column name 'dollar_value' in sales.csv")
    """
    for file, frame, _ in frames:
        for col in frame.columns:
            s = frame[col]
            if value_kind(s) != "number":
                continue
            text = s.dropna().astype("str").str.strip()
            for token in money_tokens(text):
                codes = currency_codes(token)
                if codes:
                    return codes[0], f"values of {file} column {str(col)!r} carry {token!r}"
    for file, frame, mapping in frames:
        for col in frame.columns:
            if mapping.get(str(col)) == "currency" or norm_name(col) in ("currency", "currency_code", "ccy"):
                codes = frame[col].dropna().astype("str").str.strip().str.upper()
                codes = codes[codes.str.fullmatch("[A-Z]{3}")]
                if len(codes):
                    code = codes.value_counts().index[0]
                    return code, f"most common value of {file} column {str(col)!r}"
    for file, frame, _ in frames:
        for col in frame.columns:
            words = [w for w in norm_name(col).split("_") if w in CURRENCY_WORDS]
            if words:
                return CURRENCY_WORDS[words[0]], f"column name {str(col)!r} in {file}"
    return None


def _read_headers(path: Path) -> list[tuple[str | None, pd.DataFrame]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return list(pd.read_excel(path, sheet_name=None, nrows=200).items())
    if suffix == ".parquet":
        return [(None, pd.read_parquet(path).head(5000))]
    return [(None, pd.read_csv(path, nrows=5000, sep=None, engine="python", dtype=str))]


def _key(text: str) -> str:
    import json

    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else json.dumps(text)


def draft_client_yaml(files: Sequence[Path], *, out: Path, name: str | None = None) -> str:
    """Text of a draft client YAML for ``files``, every guess marked ``# GUESS: review (<why>)``."""
    import os

    candidates = []  # (score, file, sheet, frame, table, matches)
    for path in files:
        for sheet, frame in _read_headers(path):
            cols = [str(c) for c in frame.columns]
            for table, (required, _) in _canonical_tables().items():
                matches = match_columns(cols, table, frame)
                got = {k for _, k, _ in matches}
                hinted = table in norm_name(f"{path.stem} {sheet or ''}") or table[:-1] in norm_name(path.stem)
                by_name = {k for _, k, how in matches if not how.startswith("values")}
                if set(required) <= got or hinted:
                    score = (2 * len(set(required) & got) + len(got) + len(by_name)
                             + (5 if hinted else 0) + (10 if set(required) <= got else 0))
                    candidates.append((score, path, sheet, frame, table, matches))
    chosen, used_tables, used_files = [], set(), set()
    for cand in sorted(candidates, key=lambda c: -c[0]):
        if cand[4] not in used_tables and (cand[1], cand[2]) not in used_files:
            chosen.append(cand)
            used_tables.add(cand[4])
            used_files.add((cand[1], cand[2]))
    order = list(_canonical_tables())
    chosen.sort(key=lambda c: order.index(c[4]))
    folder = Path(os.path.commonpath([str(p.resolve().parent) for p in files]))
    slug = norm_name(name or folder.name) or "client"
    currency = guess_currency([(c[1].name, c[3], {m[0]: m[1] for m in c[5]}) for c in chosen])
    currency_line = (f"currency: {currency[0]}  # GUESS: review ({currency[1]})" if currency else
                     "currency: EUR  # GUESS: review (no currency seen in the files: set the "
                     "client's)")
    lines = [f"# Client file drafted by `cjkit init-client` from {len(files)} file(s).",
             f"# Review every line marked GUESS, then check it with: cjkit validate --client {out}",
             f"name: {slug}  # GUESS: review (folder name; reports go to reports/<name>/)",
             f"title: {_key(name or folder.name)}  # GUESS: review (shown in reports)",
             "timezone: UTC  # GUESS: review (IANA zone of naive timestamps, e.g. Europe/Madrid)",
             currency_line, "journey_model: six_stage  # GUESS: review "
             "(five_stage, five_stage_funnel, six_stage or a model YAML)", "tables:"]
    events = []
    for _, path, sheet, frame, table, matches in chosen:
        required = _canonical_tables()[table][0]
        got = {k for _, k, _ in matches}
        rel = os.path.relpath(path.resolve(), out.resolve().parent)
        lines.append(f"  {table}:  # GUESS: review ({len(got & set(required))} of {len(required)} "
                     f"required columns found in {path.name})")
        lines.append(f"    path: {_key(Path(rel).as_posix())}")
        if sheet is not None:
            lines.append(f"    sheet: {_key(str(sheet))}")
        if table == "paths":
            col = next((c for c, k, _ in matches if k == "path"), None)
            sep = _profile(frame[col]).arrows if col is not None else None
            if sep and sep != " > ":
                lines.append(f'    path_separator: "{sep}"  # GUESS: review (what joins the channels in {path.name})')
        mapped = [(c, k, how) for c, k, how in matches if how != "exact"]
        if mapped:
            lines.append("    columns:")
            lines += [f"      {_key(c)}: {k}  # GUESS: review ({how})" for c, k, how in mapped]
        for key in required:
            if key not in got:
                lines.append(f"    # MISSING: required column {key} not found: add `<your column>: {key}` under columns")
        unused = [str(c) for c in frame.columns if str(c) not in {c for c, _, _ in matches}]
        if unused:
            lines.append(f"    # not used: {', '.join(unused)}")
        if table == "events":
            col = next((c for c, k, _ in matches if k == "event"), None)
            events = sorted(frame[col].dropna().astype(str).unique())[:30] if col else []
    for path in files:
        if path not in {c[1] for c in chosen}:
            lines.append(f"  # GUESS: could not tell which table {path.name} is; add it by hand if needed")
    lines.append("stage_map: []  # event -> stage rules; fill in one per event, for example:")
    lines += [f"  # - {{event: {_key(e)}, stage: REVIEW}}" for e in events]
    return "\n".join(lines) + "\n"
