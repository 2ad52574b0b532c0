"""The canonical tables as pandera schemas: column names, dtypes and value checks.

Each schema class is the single source of truth for its table. Its attributes double as
column-name constants (``Orders.amount == "amount"``), :data:`REQUIRED_COLUMNS`,
:data:`OPTIONAL_COLUMNS` and :data:`COLUMN_KINDS` are derived from it, and
:func:`schema_problems` validates a loaded table lazily (every failure at once) and turns
pandera's failure cases into :class:`~cjkit.contract.report.Problem` rows in domain words.

``kind`` (in each field's metadata) tells the loader how to parse a column:

========== ===================================================================
id         text identifier; surrounding spaces stripped (counted)
category   short text label (channel, event, country...); spaces stripped
text       free text (comments); kept as written
timestamp  point in time -> ``datetime64[ns, UTC]``
date       calendar day -> midnight UTC of that day
number     float (amounts, revenue, spend)
count      whole number >= 0 (``Int64``)
score      survey score, whole number in a range (``Int64``); "N/A"-like text = missing
flag       true / false (``boolean``)
stage      a stage of the client's journey model
========== ===================================================================
"""
from __future__ import annotations

from typing import Annotated, Optional

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series

from cjkit.contract.report import Problem, Source, row_problem

UTC_TS = Annotated[pd.DatetimeTZDtype, "ns", "UTC"]


def _f(kind: str, **kwargs: object) -> object:
    return pa.Field(metadata={"kind": kind}, **kwargs)


def _id(**kwargs: object) -> object:
    return _f("id", str_length={"min_value": 1}, **kwargs)


class _Canonical(pa.DataFrameModel):
    class Config:
        strict = False   # client columns beyond the canonical ones are kept as they are
        coerce = False   # the loader parses values itself, to report what it cannot read


class Customers(_Canonical):
    """One row per customer."""

    customer_id: Series[str] = _id()  # duplicates: see cjkit.contract.rules
    signup_at: Optional[Series[UTC_TS]] = _f("timestamp", nullable=True)
    persona: Optional[Series[str]] = _f("category", nullable=True)
    source_channel: Optional[Series[str]] = _f("category", nullable=True)
    country: Optional[Series[str]] = _f("category", nullable=True)


class Events(_Canonical):
    """One row per touchpoint (a customer did something on a channel)."""

    customer_id: Series[str] = _id()
    timestamp: Series[UTC_TS] = _f("timestamp")
    channel: Series[str] = _f("category")
    event: Series[str] = _f("category")
    campaign: Optional[Series[str]] = _f("category", nullable=True)
    session_id: Optional[Series[str]] = _f("id", nullable=True)
    revenue: Optional[Series[float]] = _f("number", nullable=True)
    stage: Optional[Series[str]] = _f("stage", nullable=True)


class Orders(_Canonical):
    """One row per order; a negative amount is a return."""

    customer_id: Series[str] = _id()
    order_id: Series[str] = _id()
    ordered_at: Series[UTC_TS] = _f("timestamp")
    amount: Series[float] = _f("number")
    currency: Optional[Series[str]] = _f("category", nullable=True)
    category: Optional[Series[str]] = _f("category", nullable=True)
    is_return: Optional[Series[pd.BooleanDtype]] = _f("flag", nullable=True)


class Surveys(_Canonical):
    """One row per survey answer (NPS, optionally CES and CSAT)."""

    customer_id: Series[str] = _id()
    answered_at: Series[UTC_TS] = _f("timestamp")
    nps: Series[pd.Int64Dtype] = _f("score", nullable=True, in_range={"min_value": 0, "max_value": 10})
    ces: Optional[Series[pd.Int64Dtype]] = _f("score", nullable=True, in_range={"min_value": 1, "max_value": 7})
    csat: Optional[Series[pd.Int64Dtype]] = _f("score", nullable=True, in_range={"min_value": 1, "max_value": 5})
    comment: Optional[Series[str]] = _f("text", nullable=True)
    stage: Optional[Series[str]] = _f("stage", nullable=True)


class Spend(_Canonical):
    """Marketing spend per day and channel (optionally campaign)."""

    date: Series[UTC_TS] = _f("date")
    channel: Series[str] = _f("category")
    spend: Series[float] = _f("number", ge=0)
    campaign: Optional[Series[str]] = _f("category", nullable=True)
    impressions: Optional[Series[pd.Int64Dtype]] = _f("count", nullable=True, ge=0)
    clicks: Optional[Series[pd.Int64Dtype]] = _f("count", nullable=True, ge=0)


class Paths(_Canonical):
    """One row per distinct conversion path (a ChannelAttribution or Google Analytics export)."""

    path: Series[str] = _f("text", str_length={"min_value": 1})
    conversions: Series[float] = _f("number", ge=0)
    value: Optional[Series[float]] = _f("number", nullable=True, ge=0)
    nulls: Optional[Series[float]] = _f("number", nullable=True, ge=0)


#: table name -> schema class, in the order tables are loaded
TABLES: dict[str, type[_Canonical]] = {
    "customers": Customers, "events": Events, "orders": Orders,
    "surveys": Surveys, "spend": Spend, "paths": Paths,
}
_SCHEMAS = {name: model.to_schema() for name, model in TABLES.items()}

#: table name -> required canonical columns (derived from the schemas)
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c for c, col in s.columns.items() if col.required) for name, s in _SCHEMAS.items()}
#: table name -> optional canonical columns (derived from the schemas)
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c for c, col in s.columns.items() if not col.required) for name, s in _SCHEMAS.items()}
#: table name -> {column: kind} (see the module docstring)
COLUMN_KINDS: dict[str, dict[str, str]] = {
    name: {c: col.metadata["kind"] for c, col in s.columns.items()} for name, s in _SCHEMAS.items()}
#: table name -> {column: (low, high)} for survey scores
SCORE_RANGES: dict[str, dict[str, tuple[int, int]]] = {
    name: {c: (ch.statistics["min_value"], ch.statistics["max_value"])
           for c, col in s.columns.items() if col.metadata["kind"] == "score"
           for ch in col.checks if ch.name == "in_range"}
    for name, s in _SCHEMAS.items()}


def canonical_columns(table: str) -> tuple[str, ...]:
    """All canonical columns of ``table``, required first.

    >>> canonical_columns("orders")
    ('customer_id', 'order_id', 'ordered_at', 'amount', 'currency', 'category', 'is_return')
    """
    return REQUIRED_COLUMNS[table] + OPTIONAL_COLUMNS[table]


def _check_text(check: pa.Check, column: str) -> tuple[str, str]:
    """(what is wrong, what to do) for one failed pandera check."""
    st = check.statistics or {}
    if check.name == "in_range":
        lo, hi = st["min_value"], st["max_value"]
        return (f"outside {lo}-{hi}",
                f"{column} must be a whole number from {lo} to {hi}: correct these values, "
                "or leave them empty if there was no answer")
    if check.name == "greater_than_or_equal_to":
        return (f"below {st['min_value']}", f"{column} cannot be negative: correct the values")
    if check.name == "str_length":
        return ("with an empty value", f"every row needs a {column}: fill it in")
    if check.name == "unique":
        return ("with a repeated value", f"{column} must be unique")
    return (f"failing the check {check}", "correct the values")


def schema_problems(df: pd.DataFrame, table: str, source: Source | None = None, *,
                    reported: dict[str, pd.Index] | None = None) -> list[Problem]:
    """Validate a parsed table against its schema and describe every failure.

    Missing required columns are left to the loader (it suggests the closest client
    column); missing values in a column are not repeated for rows already ``reported``
    (e.g. values that could not be parsed).

    Parameters
    ----------
    df : DataFrame
        The table after parsing (canonical dtypes).
    table : str
        One of :data:`TABLES`.
    source : Source, optional
        Used to show file row numbers in the messages.
    reported : dict, optional
        column -> row index already reported as an error for that column.

    Returns
    -------
    list of Problem
        Errors, one per (column, check).

    Examples
    --------
    >>> df = pd.DataFrame({"customer_id": ["c1", "c2"],
    ...     "answered_at": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True).as_unit("ns"),
    ...     "nps": pd.array([11, 7], dtype="Int64")})
    >>> [p.message for p in schema_problems(df, "surveys")]
    ['surveys.nps: 1 row outside 0-10 (e.g. 11; row 1 of the table)']
    """
    source = source or Source(table, "the table", first_row=1)
    reported = reported or {}
    schema = _SCHEMAS[table]
    try:
        schema.validate(df, lazy=True)
        return []
    except SchemaErrors as exc:
        cases = exc.failure_cases
    problems: list[Problem] = []
    cases = cases[cases["check"] != "column_in_dataframe"]
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        index = pd.Index(group["index"].dropna().astype("int64").unique()).sort_values()
        col = schema.columns.get(column)
        if check == "not_nullable":
            index = index.difference(reported.get(column, pd.Index([])))
            if len(index):
                problems.append(row_problem(
                    "error", source, column, index, f"with no {column}",
                    hint=f"fill in {column}, or set options.drop_invalid_rows: true to drop "
                         "these rows"))
        elif str(check).startswith("dtype("):
            problems.append(Problem(
                "error", table, column, len(df),
                f"{table}.{column}: has dtype {group['failure_case'].iloc[0]}, expected "
                f"{col.dtype if col is not None else '?'}",
                "this is a cjkit bug: please report it with the file"))
        else:
            number = group["check_number"].iloc[0]
            pa_check = col.checks[int(number)] if col is not None and number is not None else None
            what, hint = (_check_text(pa_check, column) if pa_check is not None
                          else (f"failing {check}", "correct the values"))
            values = df.loc[index, column] if column in df and len(index) else group["failure_case"]
            problems.append(row_problem("error", source, column, index, what, values=values,
                                        hint=hint))
    return problems
