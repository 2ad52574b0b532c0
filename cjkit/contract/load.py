"""Load a client: read its files, map its columns, parse, validate, report.

:func:`load_client` returns a :class:`ClientData` bundle of canonical tables (see
:mod:`cjkit.contract.schemas`) or raises :class:`~cjkit.contract.report.ClientDataError` carrying the
full :class:`~cjkit.contract.report.LoadReport`; :func:`validate_client` returns the report
and never raises for problems in the data. The client's files are only read.

What the loader does with each kind of problem:

* **errors** (the data cannot be used as is): missing required columns (the client
  column that probably is the one is suggested: a usual name for it, else a similar
  spelling, among columns whose values fit), unreadable or empty files (a CSV that is
  not in its encoding names the encoding it reads in), values that cannot be read
  (dates - with a hint when they look like Excel serial day numbers -, numbers, scores,
  true/false), dates impossible in the given day/month order, a column mixing
  day-first and month-first dates or whose dates read both ways with no ``dayfirst``
  given, amounts carrying another currency than the client's, a column mixing decimal
  commas and points, a value like 1,234 that reads two ways, out-of-range scores,
  negative spend, missing ids or timestamps, a column mixing timestamps with and without
  a UTC offset, the same order_id (or customer_id in customers) with different content,
  customer ids unknown to the customers table, stages that are not stages of the journey
  model, a table with no row in the analysis window. With
  ``options.drop_invalid_rows: true`` the row-level errors become counted drops instead.
* **fixes** (counted): rows repeating the file's header row dropped; spaces around ids and
  labels stripped; exact duplicate orders or customers dropped; "N/A"-like text in score
  columns read as missing; the client's currency sign or code removed from amounts;
  decimal and thousands marks not given in the YAML read as the values prove them;
  numeric dates read in the day/month order the values prove; timestamps without an
  offset read in the client timezone (local times skipped by a DST change are moved
  forward, repeated ones read as the first occurrence); several UTC offsets converted to
  UTC; negative amounts flagged as returns; stage names replaced by stage ids; rows
  outside the analysis window left out. ``rows_fixed`` of each table counts the distinct
  rows changed in place.
* **warnings**: zero amounts, returns with a positive amount, dates not in ISO 8601 form
  (read in the given day/month order, or by their month names), events that no
  stage_map rule covers.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from cjkit.contract.config import ClientConfig, ClientConfigError, TableConfig
from cjkit.contract.read import TableReadError, read_table
from cjkit.contract.report import (ClientDataError, LoadReport, Problem, Source, TableSummary,
                                  closest, fixed_rows, plural)
from cjkit.contract.parse import (parse_flags, parse_ids, parse_numbers, parse_scores, parse_text,
                                  parse_timestamps, to_text, value_kind)
from cjkit.contract.schemas import (COLUMN_KINDS, REQUIRED_COLUMNS, SCORE_RANGES, TABLES,
                           canonical_columns, schema_problems)
from cjkit.contract.rules import (apply_drops, customer_links, duplicates, event_stages, path_rules,
                                  resolve_stages, returns, within_window)

#: the column each table is filtered on by an analysis window
WINDOW_COLUMNS = {"events": "timestamp", "orders": "ordered_at", "surveys": "answered_at",
                  "spend": "date"}
Window = tuple[Any, Any]


class TableUnavailable(LookupError):
    """An analysis needs a table this client does not have."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class ClientData:
    """A loaded client: canonical tables, configuration, journey model and load report.

    A table the client lacks is ``None`` as an attribute and absent from ``tables``.
    """

    config: ClientConfig
    model: Any
    report: LoadReport
    tables: dict[str, pd.DataFrame]
    from_cache: bool = False  # the checked tables came from the load cache (cjkit.contract.cache)

    name = property(lambda self: self.config.name)
    title = property(lambda self: self.config.title)
    customers = property(lambda self: self.tables.get("customers"))
    events = property(lambda self: self.tables.get("events"))
    orders = property(lambda self: self.tables.get("orders"))
    surveys = property(lambda self: self.tables.get("surveys"))
    spend = property(lambda self: self.tables.get("spend"))
    paths = property(lambda self: self.tables.get("paths"))

    def has(self, table: str) -> bool:
        """Whether the client has ``table`` (one of customers, events, orders, surveys, spend, paths)."""
        if table not in TABLES:
            hint = closest(table, TABLES)
            raise ValueError(f"unknown table {table!r}" + (f" (did you mean {hint!r}?)" if hint else "")
                             + f"; tables are {', '.join(TABLES)}")
        return table in self.tables

    def last_day(self, tables: Iterable[str] = ("orders", "events")) -> str | None:
        """The last day with data (``YYYY-MM-DD`` in the client's time zone) over those of
        ``tables`` the client has: the default "as of" day of the customer notebooks, so
        that RFM, CLV and churn measure on the same day. None when none of them has a row.
        """
        times = {"orders": "ordered_at", "events": "timestamp", "surveys": "answered_at", "customers": "signup_at",
                 "spend": "date"}
        latest = [self.tables[t][times[t]].max() for t in tables
                  if self.has(t) and times.get(t) in self.tables[t].columns]
        latest = [t for t in latest if not pd.isna(t)]
        if not latest:
            return None
        return str(max(latest).tz_convert(self.config.timezone).date())

    def require(self, *tables: str) -> None:
        """Raise :class:`TableUnavailable` unless the client has all ``tables``.

        A need written ``"events|paths"`` is met by either table.
        """
        for need in tables:
            for t in need.split("|"):
                self.has(t)  # an unknown name is a ValueError, not a missing table
        missing = missing_tables(tables, self.tables)
        if missing:
            have = ", ".join(self.tables) or "none"
            raise TableUnavailable(f"not available for this client: {needs_text(missing)} "
                                   f"(client '{self.name}' has: {have})")


def missing_tables(needs: Iterable[str], have: Iterable[str]) -> list[str]:
    """The needs a client with tables ``have`` does not meet; ``"a|b"`` is met by a or b.

    >>> missing_tables(["events|paths", "spend"], ["paths", "orders"])
    ['spend']
    >>> missing_tables(["events|paths"], ["orders"])
    ['events|paths']
    """
    have = set(have)
    return [n for n in needs if not have & set(n.split("|"))]


def needs_text(missing: Iterable[str]) -> str:
    """Unmet needs in words.

    >>> needs_text(["events|paths"]), needs_text(["events", "orders"])
    ('needs the events or paths table', 'needs the events and orders tables')
    """
    missing = [" or ".join(n.split("|")) for n in missing]
    return f"needs the {' and '.join(missing)} table" + ("s" if len(missing) > 1 else "")


def _config(path: str | Path | ClientConfig) -> ClientConfig:
    return path if isinstance(path, ClientConfig) else ClientConfig.from_yaml(path)


def _model(config: ClientConfig) -> Any:
    from cjkit.journey import JourneyLookupError, JourneyModelError, get_model

    try:
        return get_model(config.model_ref)
    except (JourneyLookupError, JourneyModelError) as exc:
        raise ClientConfigError(f"{config.source or config.name}: journey_model: {exc}") from None


def _shape(raw: pd.DataFrame, cfg: TableConfig, src: Source) -> tuple[pd.DataFrame, list[Problem]]:
    """Clean header names, apply the column mapping, report missing required columns."""
    problems: list[Problem] = []
    table, file = cfg.name, cfg.path.name
    names = {c: str(c).lstrip("\ufeff").strip() for c in raw.columns}
    spaced = [f"{c!r} -> {n!r}" for c, n in names.items() if str(c).lstrip("\ufeff") != n]
    df = raw.rename(columns=names)
    if spaced:
        problems.append(Problem("fix", table, None, 0, f"{table}: column names with spaces "
                                f"around them in {file} were stripped ({', '.join(spaced[:3])})"))
    mapping = {}
    for client_col, target in cfg.columns.items():
        if client_col not in df.columns:
            near = closest(client_col, df.columns)
            problems.append(Problem(
                "error", table, target, 0,
                f"{table}: the client YAML maps column {client_col!r} to {target!r}, but {file} "
                f"has no column {client_col!r}" + (f"; closest is {near!r}" if near else ""),
                f"correct tables.{table}.columns; {file} has: {', '.join(map(str, df.columns))}"))
        elif target in df.columns and target != client_col:
            problems.append(Problem(
                "error", table, target, 0,
                f"{table}: {file} has a column {target!r} and the client YAML also maps "
                f"{client_col!r} to {target!r}",
                "remove one of them from the mapping or rename the column in a copy of the file"))
        else:
            mapping[client_col] = target
    df = df.rename(columns=mapping)
    canon = canonical_columns(table)
    spare = [c for c in df.columns if c not in canon]
    kinds: dict[str, str] = {}
    for col in REQUIRED_COLUMNS[table]:
        if col in df.columns or any(p.column == col for p in problems):
            continue
        if not kinds:  # what each spare column holds, looked at once and only when needed
            kinds = {c: value_kind(df[c]) for c in spare}
        fits = [c for c in spare if _fits(COLUMN_KINDS[table][col], kinds[c])]
        near = closest(col, spare, cutoff=0.5, fits=fits)
        if near:
            spare.remove(near)  # one client column is suggested for one missing column
            problems.append(Problem(
                "error", table, col, 0,
                f"{table}: required column {col!r} is missing; closest column in {file} is {near!r}",
                f"map it under tables.{table}.columns: {{{near}: {col}}}"))
        else:
            problems.append(Problem(
                "error", table, col, 0, f"{table}: required column {col!r} is missing from {file} "
                f"(its columns: {', '.join(map(str, df.columns))})",
                f"add the column to the file, or map the client's column under "
                f"tables.{table}.columns: {{<client column>: {col}}}"))
    return df, problems


def _fits(kind: str, holds: str) -> bool:
    """Whether a client column holding ``holds`` values (:func:`value_kind`) can be a ``kind``."""
    if holds == "empty":
        return True
    if kind in ("timestamp", "date"):
        return holds == "date"
    if kind in ("number", "count", "score"):
        return holds == "number"
    return holds != "date"


def _repeated_headers(raw: pd.DataFrame, src: Source) -> list[Problem]:
    """Rows that repeat the file's own header (files exported in parts and pasted together).

    A row counts when most of its cells equal the column names; looks at the first few
    columns of every row, and at the other columns only for the rows that matched there.
    CSV and Excel only (their cells are read as text).
    """
    names = [str(c).lstrip("\ufeff").strip() for c in raw.columns]
    if not len(raw) or not names:
        return []
    cand = np.zeros(len(raw), dtype=bool)
    for i in range(min(3, len(names))):
        cand |= (raw.iloc[:, i] == names[i]).to_numpy(dtype=bool, na_value=False)
    if not cand.any():
        return []
    sub = raw[cand]
    same = np.zeros(len(sub), dtype=int)
    for i in range(len(names)):
        same += (to_text(sub.iloc[:, i]).str.strip() == names[i]).to_numpy(dtype=bool, na_value=False)
    index = sub.index[same * 2 > len(raw.columns)]
    if not len(index):
        return []
    p = Problem("fix", src.table, None, len(index),
                f"{src.table}: {plural(len(index), 'row')} "
                f"{'repeats' if len(index) == 1 else 'repeat'} the header row "
                f"({src.rows_label(index)} of {src.file}), dropped",
                "nothing to do (files exported in parts and pasted together repeat the header)",
                index=index)
    p.dropped = p.rows
    return [p]


def _parse(df: pd.DataFrame, cfg: TableConfig, src: Source, tz: str,
           currency: str | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse each canonical column by its kind; extra client columns are kept as they are."""
    table, problems, out = cfg.name, [], {}
    for col, kind in COLUMN_KINDS[table].items():
        if col not in df.columns:
            continue
        s = df[col]
        if kind in ("id", "category", "stage"):
            out[col], found = parse_ids(s, src, col)
        elif kind == "text":
            out[col], found = parse_text(s, src, col)
        elif kind in ("timestamp", "date"):
            out[col], found = parse_timestamps(s, src, col, tz=tz, dayfirst=cfg.dayfirst,
                                               day_only=kind == "date")
        elif kind in ("number", "count"):
            excel = cfg.format == "excel"  # text in an Excel number cell: no marks to infer
            out[col], found = parse_numbers(
                s, src, col, decimal="." if excel else cfg.decimal, thousands=cfg.thousands,
                integer=kind == "count", money=kind == "number", currency=currency,
                infer=not excel)
        elif kind == "score":
            low, high = SCORE_RANGES[table][col]
            out[col], found = parse_scores(s, src, col, low=low, high=high)
        else:
            out[col], found = parse_flags(s, src, col)
        problems += found
    extras = {c: df[c] for c in df.columns if c not in out}
    return pd.DataFrame({**out, **extras}, index=df.index), problems


def _load_table(cfg: TableConfig, config: ClientConfig, model: Any,
                report: LoadReport) -> pd.DataFrame | None:
    table = cfg.name
    src = Source(table, cfg.path.name, cfg.first_row)
    summary = report.tables[table] = TableSummary(cfg.path.name)
    try:
        raw = read_table(cfg)
    except TableReadError as exc:
        report.add(Problem("error", table, None, 0, str(exc),
                           exc.hint or f"check tables.{table} in the client YAML (path; for CSV "
                           "also sep and encoding) and the file itself"))
        return None
    summary.rows_read = len(raw)
    if not len(raw):
        what = "only a header row" if len(raw.columns) else "nothing in it"
        report.add(Problem("error", table, None, 0, f"{table}: {cfg.path.name} is empty ({what})",
                           f"export the {table} data again, or remove tables.{table} from the "
                           "client YAML if the client has no such data"))
        return None
    raw = raw.reset_index(drop=True)
    problems = _repeated_headers(raw, src) if cfg.format != "parquet" else []
    if problems:  # dropped before anything is parsed; row labels stay file positions
        raw = raw.drop(index=problems[0].index)
    df, found = _shape(raw, cfg, src)
    problems += found
    df, found = _parse(df, cfg, src, config.timezone, config.currency)
    problems += found
    if table == "customers":
        problems += duplicates(df, src, "customer_id")
    elif table == "orders":
        problems += duplicates(df, src, "order_id")
        df, found = returns(df, src)
        problems += found
    elif table == "events":
        df, found = event_stages(df, src, model, config.stage_map)
        problems += found
    elif table == "surveys":
        df, found = resolve_stages(df, src, model)
        problems += found
    elif table == "paths":
        df, found = path_rules(df, src, cfg.path_separator)
        problems += found
    reported: dict[str, pd.Index] = {}
    for p in problems:
        if p.severity == "error" and p.column and p.column in df:
            if p.index is not None:
                rows = p.index
            else:  # a column-level error explains every cell it left unread
                source = _source_column(cfg, p.column, raw)
                if source is None:
                    continue
                rows = df.index[df[p.column].isna() & _filled(raw[source])]
            reported[p.column] = reported.get(p.column, pd.Index([])).union(rows)
    problems += schema_problems(df, table, src, reported=reported)
    report.add(problems)
    summary.rows_fixed = fixed_rows(problems)
    return apply_drops(df, problems, drop_invalid=config.options.drop_invalid_rows)


def _source_column(cfg: TableConfig, column: str, raw: pd.DataFrame) -> Any:
    """The raw column a canonical column came from (mapped, or the same name)."""
    names = {str(c).lstrip("\ufeff").strip(): c for c in raw.columns}
    client = next((c for c, target in cfg.columns.items() if target == column), column)
    return names.get(client, names.get(column))


def _filled(raw: pd.Series) -> pd.Series:
    """Cells with something written in them."""
    text = to_text(raw)
    return text.notna() & (text.str.strip() != "")


def _window(window: Window | None, tz: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    if window is None:
        return None
    if len(window) != 2:
        raise ValueError(f"window must be (start, end), got {window!r}")
    start, end = (pd.Timestamp(w) for w in window)
    start, end = (t.tz_localize(tz) if t.tzinfo is None else t for t in (start, end))
    if not start < end:
        raise ValueError(f"window start {window[0]!r} must be before its end {window[1]!r}")
    return start.tz_convert("UTC"), end.tz_convert("UTC")


def read_client(config: ClientConfig) -> tuple[LoadReport, dict[str, pd.DataFrame]]:
    """Read, parse and check every table of a client, before any analysis window.

    This is the expensive part of a load and the unit the load cache stores
    (:mod:`cjkit.contract.cache`): it depends only on the client's files and YAML.
    ``rows_kept`` counts the rows before any window (:func:`finish_load` updates it).
    """
    model = _model(config)
    report = LoadReport(config.name)
    frames: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        if table in config.tables:
            df = _load_table(config.tables[table], config, model, report)
            if df is not None:
                frames[table] = df
    customers = frames.get("customers")
    for table in ("events", "orders", "surveys"):
        if table in frames and customers is not None and "customer_id" in customers:
            cfg = config.tables[table]
            found = customer_links(frames[table], Source(table, cfg.path.name, cfg.first_row),
                                   customers["customer_id"].dropna())
            report.add(found)
            frames[table] = apply_drops(frames[table], found,
                                        drop_invalid=config.options.drop_invalid_rows)
    for table, df in frames.items():
        canon = [c for c in canonical_columns(table) if c in df.columns]
        frames[table] = df[canon + [c for c in df.columns if c not in canon]].reset_index(drop=True)
        report.tables[table].rows_kept = len(frames[table])
    return report, frames


def finish_load(config: ClientConfig, report: LoadReport, frames: dict[str, pd.DataFrame],
                window: Window | None, *, from_cache: bool = False) -> ClientData:
    """Apply the analysis window to tables from :func:`read_client` and count the rows kept."""
    bounds = _window(window, config.timezone)
    frames = dict(frames)
    if bounds is not None:
        for table, col in WINDOW_COLUMNS.items():
            if table in frames:
                cfg = config.tables[table]
                kept, found = within_window(
                    frames[table], Source(table, cfg.path.name, cfg.first_row), col, *bounds,
                    tz=config.timezone, day_only=table == "spend")
                frames[table] = kept.reset_index(drop=True)
                report.add(found)
    for table, df in frames.items():
        report.tables[table].rows_kept = len(df)
    return ClientData(config=config, model=_model(config), report=report, tables=frames, from_cache=from_cache)


def _load(path: str | Path | ClientConfig, window: Window | None, cache: bool, *,
          report_only: bool = False) -> ClientData:
    from cjkit.contract.cache import cached_read

    config = _config(path)
    _window(window, config.timezone)  # a malformed window fails before any file is read
    report, frames, hit = cached_read(config, read_client, use_cache=cache, report_only=report_only)
    return finish_load(config, report, frames, window, from_cache=hit)


def validate_client(path: str | Path | ClientConfig, *, window: Window | None = None,
                    cache: bool = True) -> LoadReport:
    """Check a client's files and return the :class:`LoadReport`.

    Never raises for problems in the data (they are in the report); raises
    ``FileNotFoundError`` / :class:`~cjkit.contract.config.ClientConfigError` when the client YAML
    itself is missing or invalid.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "orders.csv").write_text("customer_id,order_id,ordered_at,ammount\\nc1,o1,2024-01-05,10\\n")
    >>> _ = (d / "client.yaml").write_text("name: acme\\ntimezone: UTC\\ntables: {orders: orders.csv}\\n")
    >>> report = validate_client(d / "client.yaml")
    >>> report.ok, report.errors[0].message
    (False, "orders: required column 'amount' is missing; closest column in orders.csv is 'ammount'")
    """
    return _load(path, window, cache, report_only=window is None).report


def load_client(path: str | Path | ClientConfig, *, window: Window | None = None,
                cache: bool = True) -> ClientData:
    """Load a client's tables, validated and in canonical form.

    Parameters
    ----------
    path : str, Path or ClientConfig
        The client YAML (table paths are relative to it), or a parsed configuration.
    window : (start, end), optional
        Keep only events, orders, surveys and spend with ``start <= time < end``; naive
        bounds (``"2024-01-01"``) are read in the client timezone. Rows left out are
        counted in the report.
    cache : bool
        Read the checked tables from the load cache when the client's files, YAML and the
        kit are unchanged, and store them there after a fresh read (see
        :mod:`cjkit.contract.cache`; ``CJKIT_NO_CACHE=1`` turns it off everywhere).

    Returns
    -------
    ClientData
        ``.customers``, ``.events``, ``.orders``, ``.surveys``, ``.spend`` (None when the
        client lacks the table), ``.report``, ``.model``, ``.config``, ``.from_cache``.

    Raises
    ------
    ClientDataError
        When any error is left; ``str(exc)`` is the full report, ``exc.report`` the object.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "orders.csv").write_text("customer_id,order_id,ordered_at,amount\\n"
    ...                                   "c1,o1,2024-01-05 10:00,10.5\\nc2,o2,2024-01-06,-3\\n")
    >>> _ = (d / "client.yaml").write_text("name: acme\\ntimezone: Europe/Madrid\\n"
    ...                                    "tables: {orders: orders.csv}\\n")
    >>> data = load_client(d / "client.yaml")
    >>> data.orders[["ordered_at", "amount", "is_return"]]
                     ordered_at  amount  is_return
    0 2024-01-05 09:00:00+00:00    10.5      False
    1 2024-01-05 23:00:00+00:00    -3.0       True
    """
    data = _load(path, window, cache)
    if not data.report.ok:
        raise ClientDataError(data.report)
    return data
