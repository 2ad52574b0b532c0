"""What happened while a client's tables were loaded: problems, fixes and row counts.

Every check of :mod:`cjkit.contract.load` ends up here as one :class:`Problem`: an ``error`` (the
data cannot be used as it is), a ``warning`` (usable, but worth a look) or a ``fix``
(cjkit changed or dropped rows, and says how many). A :class:`LoadReport` collects them
with the rows read and kept per table, so that ``rows_read == rows_kept + dropped`` holds
for every table and no row disappears without a line in the report.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

SEVERITIES = ("error", "warning", "fix")
MAX_EXAMPLES = 3


def plural(n: int, word: str, words: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``, with thousands separators.

    >>> plural(1, "row"), plural(12000, "row"), plural(2, "entry", "entries")
    ('1 row', '12,000 rows', '2 entries')
    """
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def norm_name(name: object) -> str:
    """A column name with case, spaces and separators folded: ``"Order No."`` -> ``"order_no"``.

    >>> norm_name(" Customer-ID "), norm_name("Order No.")
    ('customer_id', 'order_no')
    """
    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


# -- names: the one table of usual client names for each canonical column ---------------
# Used by the loader (which client column probably is a missing required one) and by
# ``cjkit init-client`` (which column is which). Names are compared after norm_name().
_WHEN = "date time ts datetime timestamp created_at"
#: canonical column -> client names that usually mean it
SYNONYMS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "customer_id": "cust_id cust customer customer_no customer_number client_id user_id user "
                   "member_id account_id contact_id visitor visitor_id buyer_id shopper_id "
                   "respondent respondent_id",
    "timestamp": f"{_WHEN} event_time event_date event_timestamp occurred_at date_time",
    "channel": "medium utm_medium source touchpoint channel_name marketing_channel",
    "event": "event_type event_name action activity interaction type",
    "campaign": "utm_campaign campaign_name campaign_id",
    "session_id": "session visit visit_id session_key",
    "revenue": "value event_value conversion_value",
    "order_id": "order order_no order_number order_nr transaction_id transaction invoice "
                "invoice_id invoice_no txn_id receipt_id",
    "ordered_at": f"{_WHEN} order_date order_time order_datetime purchase_date transaction_date",
    "amount": "value revenue total order_value order_total sales net_amount price gross_amount "
              "dollar_value total_amount",
    "currency": "ccy currency_code", "category": "product_category department product_type",
    "is_return": "return returned is_refund refund",
    "signup_at": "signup_date registered_at registration_date created_at join_date joined_at "
                 "first_seen",
    "persona": "segment customer_type",
    "source_channel": "acquisition_channel first_channel signup_channel",
    "country": "country_code market",
    "answered_at": f"{_WHEN} survey_date response_date responded_at submitted_at "
                   "interview_date",
    "nps": "nps_score likelihood_to_recommend likely_to_recommend ltr recommend "
           "recommend_score",
    "ces": "effort effort_score customer_effort ces_score",
    "csat": "satisfaction csat_score satisfaction_score",
    "comment": "comments verbatim feedback text open_answer remarks",
    "stage": "journey_stage funnel_stage",
    "date": "day spend_date report_date ts", "spend": "cost spend_amount media_spend amount budget",
    "impressions": "impr imps views", "clicks": "click link_clicks",
    "path": "channel_path conversion_path paths journey touchpoint_path mcf_channel_grouping_path "
            "channel_grouping_path source_medium_path basic_channel_grouping_path",
    "conversions": "total_conversions total_conversion conversion converted conv convs",
    "value": "total_conversion_value conversion_value total_value conv_value revenue",
    "nulls": "total_null total_nulls null non_conversions non_converting no_conversion",
}.items()}


def is_synonym(name: object, canonical: str) -> bool:
    """Whether a client column ``name`` is a usual name for ``canonical`` (separators ignored).

    >>> is_synonym("Order No", "order_id"), is_synonym("order_date", "order_id")
    (True, False)
    """
    key = norm_name(name)
    names = SYNONYMS.get(canonical, frozenset())
    return key in names or key.replace("_", "") in {n.replace("_", "") for n in names}


def closest(word: object, choices: Any, *, cutoff: float = 0.6,
            fits: Iterable[object] | None = None) -> str | None:
    """The choice closest to ``word`` (case-insensitive), or None.

    The one did-you-mean helper. A choice equal to ``word`` up to case and separators wins;
    then, when ``word`` is a canonical column, a usual name for it (:data:`SYNONYMS`); then
    the most similar spelling. ``fits`` (optional) restricts the choices to those whose
    values suit ``word`` (e.g. columns holding dates for a missing timestamp).

    >>> closest("ammount", ["customer_id", "amount", "currency"])
    'amount'
    >>> closest("order_id", ["order_date", "order_no"])   # a usual name beats the spelling
    'order_no'
    >>> closest("ordered_at", ["order_no", "order_date"], fits=["order_date"])
    'order_date'
    """
    choices = [str(c) for c in choices]
    if fits is not None:
        allowed = {str(c) for c in fits}
        choices = [c for c in choices if c in allowed]
    key = norm_name(word)
    for c in choices:
        if norm_name(c) == key:
            return c
    if key in SYNONYMS:
        for c in choices:
            if is_synonym(c, key):
                return c
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(str(word).strip().lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[found[0]] if found else None


def did_you_mean(word: object, choices: Any) -> str:
    best = closest(word, choices)
    return f" (did you mean {best!r}?)" if best else ""


def format_value(value: object) -> str:
    """Show one example value the way a user would recognise it.

    >>> format_value("12,50"), format_value(11), format_value(None)
    ("'12,50'", '11', '(empty)')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def examples_of(values: Iterable[object] | pd.Series, limit: int = MAX_EXAMPLES) -> tuple[str, ...]:
    """Up to ``limit`` distinct example values, formatted with :func:`format_value`.

    >>> examples_of(["a", "b", "a", "c", "d"])
    ("'a'", "'b'", "'c'")
    """
    seen: list[str] = []
    for value in (values.head(1000) if isinstance(values, pd.Series) else values):
        shown = format_value(value)
        if shown not in seen:
            seen.append(shown)
            if len(seen) == limit:
                break
    return tuple(seen)


@dataclass(frozen=True)
class Source:
    """Where a table came from, to point users at rows of their own file.

    ``first_row`` is the number a user sees for the first data row: 2 in a CSV or Excel
    sheet (the header is row 1), 1 in a Parquet file.

    >>> Source("orders", "orders.csv", 2).rows_label(pd.Index([0, 4, 7, 9]))
    'rows 2, 6, 9, ...'
    """

    table: str
    file: str
    first_row: int = 2

    def rows_label(self, index: pd.Index | np.ndarray) -> str:
        numbers = [int(i) + self.first_row for i in np.asarray(index)[:MAX_EXAMPLES]]
        more = ", ..." if len(index) > MAX_EXAMPLES else ""
        word = "row" if len(numbers) == 1 and not more else "rows"
        return f"{word} {', '.join(map(str, numbers))}{more}"


@dataclass
class Problem:
    """One finding of the loader, in the user's words.

    ``rows`` is how many rows are concerned, ``dropped`` how many of them were removed
    because of this finding (only fixes drop rows). ``index`` holds the row positions
    (0-based, in file order) for row-level findings and is ``None`` for findings about a
    whole column or table. For an error it is what ``options.drop_invalid_rows`` drops;
    for a fix made in place it is what the load counts as rows fixed. Everything but
    ``index`` is plain data, so ``dataclasses.asdict`` minus ``index`` serialises a problem.
    """

    severity: str
    table: str
    column: str | None
    rows: int
    message: str
    hint: str = ""
    examples: tuple[str, ...] = ()
    dropped: int = 0
    index: pd.Index | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, not {self.severity!r}")


def row_problem(severity: str, source: Source, column: str | None, index: pd.Index,
                what: str, *, values: pd.Series | Iterable[object] | None = None,
                hint: str = "", show_rows: bool = True, row_level: bool = True,
                label: str = "") -> Problem:
    """Build a :class:`Problem` about some rows: count, examples and row numbers included.

    ``what`` completes "<table>.<column>: N rows ..."; ``label`` names the example values
    when they are not values of ``column``. ``row_level=False`` marks findings that must
    never drop rows: an error then keeps no ``index`` (dropping its rows would not resolve
    it); fixes and warnings keep theirs, since they never drop rows by themselves
    (a fix drops rows only when its ``dropped`` is set).

    >>> p = row_problem("error", Source("orders", "orders.csv"), "amount", pd.Index([2, 4]),
    ...                 "with a value that is not a number", values=["12,50", "7,99"])
    >>> p.message
    "orders.amount: 2 rows with a value that is not a number (e.g. '12,50', '7,99'; rows 4, 6 of orders.csv)"
    """
    index = pd.Index(index)
    examples = examples_of(values) if values is not None else ()
    details = []
    if examples:
        details.append("e.g. " + (label + " " if label else "") + ", ".join(examples))
    if show_rows and len(index):
        details.append(f"{source.rows_label(index)} of {source.file}")
    where = f"{source.table}.{column}" if column else source.table
    message = f"{where}: {plural(len(index), 'row')} {what}"
    if details:
        message += f" ({'; '.join(details)})"
    keep = row_level or severity != "error"
    return Problem(severity, source.table, column, len(index), message, hint, examples,
                   index=index if keep else None)


def fixed_rows(problems: Iterable[Problem]) -> int:
    """Distinct rows changed in place by the fixes among ``problems`` (drops not counted).

    >>> fixes = [Problem("fix", "orders", "order_id", 2, "", index=pd.Index([0, 3])),
    ...          Problem("fix", "orders", "amount", 2, "", index=pd.Index([3, 5])),
    ...          Problem("fix", "orders", None, 1, "", dropped=1, index=pd.Index([7]))]
    >>> fixed_rows(fixes)
    3
    """
    rows = [p.index for p in problems
            if p.severity == "fix" and not p.dropped and p.index is not None]
    if not rows:
        return 0
    return len(pd.Index(np.concatenate([np.asarray(i) for i in rows])).unique())


@dataclass
class TableSummary:
    """Row accounting of one table.

    ``rows_fixed`` is the number of distinct rows of the file that fixes changed in place
    (a row fixed twice counts once); the loader sets it while it still knows the rows, so
    a report restored from a cache (problems without their row index) keeps it.
    """

    file: str
    rows_read: int = 0
    rows_kept: int = 0
    rows_fixed: int = 0


@dataclass
class LoadReport:
    """Everything the loader found, fixed or dropped, per table.

    >>> r = LoadReport("demo", {"orders": TableSummary("orders.csv", 3, 2)})
    >>> r.add(Problem("fix", "orders", "order_id", 1, "orders.order_id: 1 row dropped",
    ...               dropped=1))
    >>> r.ok, int(r.summary_frame().loc[0, "dropped"])
    (True, 1)
    """

    client: str
    tables: dict[str, TableSummary] = field(default_factory=dict)
    items: list[Problem] = field(default_factory=list)

    def add(self, *problems: Problem | Iterable[Problem]) -> None:
        for p in problems:
            self.items.extend([p] if isinstance(p, Problem) else p)

    @property
    def problems(self) -> list[Problem]:
        """Errors and warnings."""
        return [p for p in self.items if p.severity != "fix"]

    @property
    def fixes(self) -> list[Problem]:
        """What the loader changed or dropped (counted)."""
        return [p for p in self.items if p.severity == "fix"]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.items if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no error is left (warnings and fixes are fine)."""
        return not self.errors

    def dropped(self, table: str) -> int:
        return sum(p.dropped for p in self.items if p.table == table)

    def to_frame(self) -> pd.DataFrame:
        """One row per problem or fix: severity, table, column, rows, examples, message, hint."""
        cols = ["severity", "table", "column", "rows", "examples", "message", "hint"]
        rows = [{"severity": p.severity, "table": p.table, "column": p.column, "rows": p.rows,
                 "examples": ", ".join(p.examples), "message": p.message, "hint": p.hint}
                for p in self.items]
        frame = pd.DataFrame(rows, columns=cols)
        return frame.astype({"rows": "int64"})

    def summary_frame(self) -> pd.DataFrame:
        """One row per table: file, rows_read, rows_kept, dropped, fixed, errors, warnings.

        ``dropped`` is the sum of counted drops (so ``rows_read == rows_kept + dropped``);
        ``fixed`` is the number of distinct rows changed by in-place fixes
        (:attr:`TableSummary.rows_fixed`: a row fixed twice counts once; readings of a whole
        column, such as naive times read in the client timezone, change no row).
        """
        rows = []
        for name, s in self.tables.items():
            mine = [p for p in self.items if p.table == name]
            rows.append({
                "table": name, "file": s.file, "rows_read": s.rows_read,
                "rows_kept": s.rows_kept, "dropped": sum(p.dropped for p in mine),
                "fixed": s.rows_fixed,
                "errors": sum(p.severity == "error" for p in mine),
                "warnings": sum(p.severity == "warning" for p in mine)})
        cols = ["table", "file", "rows_read", "rows_kept", "dropped", "fixed", "errors",
                "warnings"]
        frame = pd.DataFrame(rows, columns=cols)
        return frame.astype({c: "int64" for c in cols[2:]})

    def __str__(self) -> str:
        counts = ", ".join([plural(len(self.errors), "error"),
                            plural(len(self.warnings), "warning"),
                            plural(len(self.fixes), "fix", "fixes")])
        lines = [f"Load report for client '{self.client}': {counts}"]
        names = list(self.tables) + sorted({p.table for p in self.items} - set(self.tables))
        for name in names:
            s = self.tables.get(name)
            head = f"{name}"
            if s is not None:
                head += (f" ({s.file}): {plural(s.rows_read, 'row')} read, "
                         f"{s.rows_kept:,} kept, {self.dropped(name):,} dropped")
            lines += ["", head]
            mine = [p for p in self.items if p.table == name]
            for sev in SEVERITIES:
                for p in (p for p in mine if p.severity == sev):
                    lines.append(f"  {sev.upper():<8}{p.message}")
                    if p.hint:
                        lines.append(f"  {'':<8}what to do: {p.hint}")
            if not mine:
                lines.append("  no problems")
        return "\n".join(lines)


class ClientDataError(ValueError):
    """A client's data has errors; ``.report`` holds the full :class:`LoadReport`."""

    def __init__(self, report: LoadReport) -> None:
        self.report = report
        super().__init__(str(report))
