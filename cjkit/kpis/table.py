"""KPI tables, single KPIs, the panel by stage and what a client cannot compute."""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from cjkit.estimate import Estimate
from cjkit.kpis.definitions import LOSS_WINDOW_DAYS, MARGIN, SEGMENTS, _PARTS, _all_calls, _definitions, _kpi_ids, _roles
from cjkit.kpis.computations import _Context
from cjkit.kpis.sums import _by, _estimates, _reduce, _split_problem, _unpack

# --- what a client can compute ---------------------------------------------------------------------

def _problems(ctx: _Context, kpi_id: str) -> list[str]:
    """What the client lacks for ``kpi_id``: tables, columns, or events of a role."""
    out: list[str] = []
    needs = sorted(set(_definitions().loc[kpi_id, "needs"]))
    for need in needs:
        table, column = need.split(".")
        t = ctx.tables.get(table)
        if t is None:
            out.append(f"the {table} table")
        elif column not in t.columns or t[column].isna().all():
            out.append(f"{table}.{column}")
    out = list(dict.fromkeys(out))
    events = ctx.tables.get("events")
    if events is not None:
        for kind, role in dict.fromkeys(r for c in _all_calls(kpi_id) for r in _roles(c)):
            column = "event" if kind == "event" else "channel"
            names = ctx.roles[kind][role]
            if not events[column].isin(names).any():
                out.append(f"events with {column} {' or '.join(names)} ({kind} role {role})")
    return out


def _what_to_do(missing: list[str]) -> str:
    steps = []
    for item in missing:
        if item.startswith("the "):
            steps.append(f"add {item} to the client")
        elif item.startswith("events with"):
            kind, role = item.rsplit("(", 1)[1].rstrip(")").split(" role ")
            steps.append(f"pass {kind}_names={{{role!r}: [...]}} with the client's own names")
        else:
            table, column = item.split(".")
            steps.append(f"fill column {column} of the {table} table")
    return "; ".join(dict.fromkeys(steps))


def available_segments(data: Any) -> list[str]:
    """The groups of :data:`SEGMENTS` this client's tables can provide.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"], "order_id": ["o1"], "amount": [10.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-05"], utc=True)})
    >>> available_segments({"orders": orders})
    ['cohort']
    """
    tables, _, _, _ = _unpack(data, None, None)
    ctx = _Context(tables, event_names=None, channel_names=None, loss_window_days=LOSS_WINDOW_DAYS, timezone=None)
    return [s for s in SEGMENTS if ctx.segment_available(s) is None]


def _context(data: Any, *, event_names: Mapping | None, channel_names: Mapping | None, loss_window_days: int,
             currency: str | None, timezone: str | None) -> tuple[_Context, Any, str]:
    tables, model, currency, tz = _unpack(data, currency, timezone)
    ctx = _Context(tables, event_names=event_names, channel_names=channel_names,
                   loss_window_days=loss_window_days, timezone=tz)
    return ctx, model, currency


def kpi_table(data: Any, kpis: str | Iterable[str] | None = None, *, by: str | Sequence[str] | None = None,
              missing: str = "raise", level: float = 0.95, margin: float = MARGIN,
              loss_window_days: int = LOSS_WINDOW_DAYS, event_names: Mapping[str, Sequence[str]] | None = None,
              channel_names: Mapping[str, Sequence[str]] | None = None, currency: str | None = None,
              timezone: str | None = None) -> pd.DataFrame:
    """KPIs as values with their confidence intervals, overall, by period and/or by segment.

    Parameters
    ----------
    data : ClientData or mapping of str to DataFrame
        A loaded client or canonical tables by name.
    kpis : str or list of str, optional
        KPI ids of :func:`cjkit.catalog.kpis`; default every computable KPI.
    by : str or list of str, optional
        ``"period"`` (calendar month), a segment of :data:`SEGMENTS`, or several of them.
    missing : {"raise", "skip"}
        What to do with a KPI the client's tables cannot support (or cannot split by
        ``by``): raise an error naming what is missing, or leave it out and name it in
        ``attrs["caption"]`` (and ``attrs["skipped"]``: kpi -> reason).
    level : float
        Confidence level of the intervals.
    margin : float
        Gross margin for the simple CLTV (ARPU x margin / churn).
    loss_window_days : int
        Days without an order after which a buyer counts as lost.
    event_names, channel_names : mapping, optional
        Role -> the client's names (defaults: :func:`cjkit.catalog.kpi_roles`).
    currency, timezone : str, optional
        Written into money units and used for calendar months; a client's own by default.

    Returns
    -------
    DataFrame
        The ``by`` columns, then ``kpi``, ``name``, ``value``, ``ci_low``, ``ci_high`` (NaN
        for totals and with fewer than two units), ``n`` (units of analysis; trials for a
        share), ``numerator``, ``denominator``, ``unit`` (``"share"`` for proportions) and
        ``method`` (``wilson``, ``delta``, ``normal`` or empty).

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "b"], "order_id": ["o1", "o2", "o3"],
    ...     "ordered_at": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-01-20"], utc=True),
    ...     "amount": [30.0, 10.0, 20.0]})
    >>> t = kpi_table({"orders": orders}, ["average_ticket", "repeat_purchase_rate"], currency="EUR")
    >>> t[["kpi", "value", "n", "numerator", "denominator", "unit"]]
                        kpi  value  n  numerator  denominator           unit
    0        average_ticket   20.0  2       60.0          3.0  EUR per order
    1  repeat_purchase_rate    0.5  2        1.0          2.0          share
    >>> t.loc[1, ["ci_low", "ci_high"]].astype(float).round(4).tolist()  # Wilson, 1 of 2
    [0.0945, 0.9055]
    """
    if missing not in ("raise", "skip"):
        raise ValueError(f"missing must be 'raise' or 'skip', got {missing!r}")
    ctx, _, currency = _context(data, event_names=event_names, channel_names=channel_names,
                                loss_window_days=loss_window_days, currency=currency, timezone=timezone)
    keys = _by(by)
    ids, skipped = [], {}
    for kpi_id in _kpi_ids(kpis):
        lacking = [p for part in _PARTS.get(kpi_id, (kpi_id,)) for p in _problems(ctx, part)]
        reason = f"needs {', '.join(dict.fromkeys(lacking))}" if lacking else None
        for key in keys:
            if reason is None and key != "period":
                problem = _split_problem(ctx, kpi_id, key)
                reason = f"cannot be split by {key}: {problem}" if problem else None
        if reason is None:
            ids.append(kpi_id)
        elif missing == "raise":
            raise ValueError(f"KPI {kpi_id} {reason}" + (f" ({_what_to_do(lacking)})" if lacking else ""))
        else:
            skipped[kpi_id] = reason
    out = _estimates(_reduce(ctx, ids, keys), keys, ids, level=level, margin=margin, currency=currency)
    out.attrs = {"units": {}, "skipped": skipped}  # the table style reads the unit column row by row
    if skipped:
        out.attrs["caption"] = "Not computed: " + "; ".join(f"{k} ({v})" for k, v in skipped.items())
    return out


def kpi(data: Any, kpi_id: str, **options: Any) -> Estimate:
    """One KPI over the whole data as an :class:`~cjkit.estimate.Estimate`.

    ``options`` are those of :func:`kpi_table` (``level``, ``margin``,
    ``loss_window_days``, ``event_names``, ``channel_names``, ``currency``, ``timezone``).
    A total (a count or a sum) comes without an interval.

    Examples
    --------
    >>> surveys = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "nps": [9, 6, 10, 3],
    ...     "answered_at": pd.to_datetime(["2024-01-05"] * 4, utc=True), "csat": [5, 3, 4, 2]})
    >>> print(kpi({"surveys": surveys}, "csat_top2_share"))
    50.0% (95% CI 15.0-85.0%, n = 4)
    >>> print(kpi({"surveys": surveys}, "detractors"))
    2 answers (n = 2)
    """
    est = estimate_of(kpi_table(data, [kpi_id], **options), kpi_id, level=options.get("level", 0.95))
    assert est is not None  # kpi_table raised if the KPI cannot be computed
    return est


def estimate_of(table: pd.DataFrame, kpi_id: str, *, level: float = 0.95) -> Estimate | None:
    """The :class:`~cjkit.estimate.Estimate` in the row of ``kpi_id`` of a KPI table or panel (None if absent).

    ``table`` is the output of :func:`kpi_table` (without ``by``) or :func:`kpi_panel`.

    Examples
    --------
    >>> t = pd.DataFrame({"kpi": ["ctr"], "value": [0.25], "ci_low": [0.1], "ci_high": [0.5], "n": [8],
    ...                   "numerator": [2.0], "denominator": [8.0], "unit": ["share"], "method": ["wilson"]})
    >>> print(estimate_of(t, "ctr")), estimate_of(t, "cac") is None
    25.0% (95% CI 10.0-50.0%, n = 8)
    (None, True)
    """
    rows = table[table["kpi"] == kpi_id]
    if rows.empty:
        return None
    if len(rows) > 1:
        raise ValueError(f"the table has {len(rows)} rows for {kpi_id}: pass a table computed without `by`")
    row = rows.iloc[0]
    plain = lambda v: None if pd.isna(v) else float(v)  # noqa: E731
    return Estimate(plain(row["value"]), plain(row["numerator"]), plain(row["denominator"]), int(row["n"]),
                    plain(row["ci_low"]), plain(row["ci_high"]), level, row["method"], row["unit"])


# --- the panel ---------------------------------------------------------------------------------------

UNPLACED = "unplaced"


def _placement(model: Any) -> dict[str, str]:
    """KPI id -> stage id of ``model`` (or :data:`UNPLACED`), for every KPI of the catalogue."""
    from cjkit import catalog
    from cjkit.journey import JourneyLookupError, crosswalk, get_model

    defs = catalog.kpis().set_index("kpi_id")
    m = get_model(model)
    out: dict[str, str] = {}
    for kpi_id, row in defs.iterrows():
        stage = UNPLACED
        if m.id == "six_stage":
            stage = str(row["stage"])
        elif m.id == "five_stage":
            stage = str(row["stage_five"])
        else:
            for source, key in (("five_stage", row["stage_five"]), ("six_stage", row["stage"])):
                try:
                    stage = m.stage(str(key)).id  # a stage id, name or alias of the model
                    break
                except JourneyLookupError:
                    pass
                try:
                    links = crosswalk(source, m, missing="empty")
                except JourneyLookupError:
                    continue
                hit = links.loc[links["source_stage"] == str(key), "target_stage"]
                if len(hit):
                    stage = str(hit.iloc[0])
                    break
        out[str(kpi_id)] = stage
    return out


def _stage_frame(model: Any) -> tuple[list[str], dict[str, str]]:
    from cjkit.journey import get_model

    m = get_model(model)
    return [*m.stage_ids, UNPLACED], {**dict(zip(m.stage_ids, m.stage_names)), UNPLACED: "Not placed in this model"}


def kpi_panel(data: Any, *, model: Any = None, kpis: str | Iterable[str] | None = None, **options: Any) -> pd.DataFrame:
    """Every KPI this client's tables support, grouped by the stages of a journey model.

    Parameters
    ----------
    data : ClientData or mapping of str to DataFrame
        A loaded client (its journey model is the default ``model``) or canonical tables.
    model : journey model or str, optional
        ``"six_stage"``, ``"five_stage"``, ``"five_stage_funnel"`` or a model of the
        client's own: KPIs go to the stage the catalogue gives them in that model, through
        the crosswalk or a stage's aliases; those with no counterpart are ``"unplaced"``.
    kpis : list of str, optional
        Restrict the panel to these KPIs.
    **options
        As for :func:`kpi_table` (``level``, ``margin``, ``loss_window_days``, names...).

    Returns
    -------
    DataFrame
        One row per computable KPI, in stage order: ``stage``, ``stage_name``, ``kpi``,
        ``name``, ``value``, ``ci_low``, ``ci_high``, ``n``, ``unit``, ``method``,
        ``numerator``, ``denominator``, ``higher_is_better``. :func:`kpis_unavailable`
        lists the others.

    Examples
    --------
    >>> surveys = pd.DataFrame({"customer_id": ["a", "b"], "nps": [9, 6], "ces": [7, 5],
    ...                         "answered_at": pd.to_datetime(["2024-01-05", "2024-01-06"], utc=True)})
    >>> kpi_panel({"surveys": surveys}, model="five_stage")[["stage", "kpi", "value", "n"]]
            stage         kpi  value  n
    0    purchase    ces_mean    6.0  2
    1    advocacy  detractors    1.0  1
    """
    ctx, client_model, currency = _context(data, **_context_options(options))
    model = model if model is not None else (client_model if client_model is not None else "six_stage")
    ids = [k for k in _kpi_ids(kpis) if not [p for part in _PARTS.get(k, (k,)) for p in _problems(ctx, part)]]
    est = _estimates(_reduce(ctx, ids, []), [], ids, level=options.get("level", 0.95),
                     margin=options.get("margin", MARGIN), currency=currency)
    place = _placement(model)
    order, names = _stage_frame(model)
    est.insert(0, "stage", pd.Categorical(est["kpi"].map(place), categories=order, ordered=True))
    est.insert(1, "stage_name", est["stage"].map(names).astype(str))
    est["higher_is_better"] = est["kpi"].map(_definitions()["higher_is_better"]).astype(bool)
    out = est.sort_values("stage", kind="stable").reset_index(drop=True)
    out["stage"] = out["stage"].cat.remove_unused_categories()
    out = out[["stage", "stage_name", "kpi", "name", "value", "ci_low", "ci_high", "n", "unit", "method",
               "numerator", "denominator", "higher_is_better"]]
    out.attrs = {"units": {}}
    return out


def _context_options(options: Mapping[str, Any]) -> dict[str, Any]:
    known = {"level", "margin", "loss_window_days", "event_names", "channel_names", "currency", "timezone"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise TypeError(f"unknown option {unknown[0]!r}; options are {', '.join(sorted(known))}")
    return {"event_names": options.get("event_names"), "channel_names": options.get("channel_names"),
            "loss_window_days": options.get("loss_window_days", LOSS_WINDOW_DAYS),
            "currency": options.get("currency"), "timezone": options.get("timezone")}


def kpis_unavailable(data: Any, *, model: Any = None, **options: Any) -> pd.DataFrame:
    """The KPIs :func:`kpi_panel` leaves out for this client, and what each would need.

    Two kinds: KPIs of the kit whose table, column or events the client lacks (``missing``
    names them, ``what_to_do`` says how to fix it), and catalogue KPIs that no canonical
    table supports (``missing`` is ``"not in the canonical tables"``).

    Returns
    -------
    DataFrame
        ``stage`` (in ``model``, as in :func:`kpi_panel`), ``kpi``, ``name``, ``missing``,
        ``what_to_do``, in stage order.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a"], "order_id": ["o1"], "amount": [10.0],
    ...                        "ordered_at": pd.to_datetime(["2024-01-05"], utc=True)})
    >>> gone = kpis_unavailable({"orders": orders}).set_index("kpi")
    >>> gone.loc["cac", "missing"], gone.loc["arpu", "what_to_do"]
    ('the spend table', 'add the customers table to the client')
    >>> gone.loc["rank_lcp", "missing"]
    'not in the canonical tables'
    """
    from cjkit import catalog

    ctx, client_model, _ = _context(data, **_context_options(options))
    model = model if model is not None else (client_model if client_model is not None else "six_stage")
    defs = catalog.kpis().set_index("kpi_id")
    rows = []
    for kpi_id, row in defs.iterrows():
        if not row["computable"]:
            rows.append((kpi_id, row["name"], "not in the canonical tables", row["would_need"]))
            continue
        lacking = list(dict.fromkeys(p for part in _PARTS.get(kpi_id, (kpi_id,)) for p in _problems(ctx, part)))
        if lacking:
            rows.append((kpi_id, row["name"], "; ".join(lacking), _what_to_do(lacking)))
    order, _ = _stage_frame(model)
    place = _placement(model)
    out = pd.DataFrame(rows, columns=["kpi", "name", "missing", "what_to_do"])
    out.insert(0, "stage", pd.Categorical(out["kpi"].map(place), categories=order, ordered=True))
    out = out.sort_values("stage", kind="stable").reset_index(drop=True)
    out["stage"] = out["stage"].cat.remove_unused_categories()
    return out
