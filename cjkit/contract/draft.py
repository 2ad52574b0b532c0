"""Draft a client YAML from a client's files: which table each file is, which column is which.

``cjkit init-client`` calls :func:`draft_client_yaml`; every guess it writes is marked
``# GUESS: review`` so that an analyst checks it before ``cjkit validate``.
"""
from __future__ import annotations

from pathlib import Path
from collections.abc import Sequence

__all__ = ["match_columns", "draft_client_yaml"]


def _canonical_tables() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """table: (required, optional) canonical columns, straight from the schemas."""
    from cjkit.contract.schemas import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

    return {t: (REQUIRED_COLUMNS[t], OPTIONAL_COLUMNS[t]) for t in REQUIRED_COLUMNS}


_WHEN = "date time ts datetime timestamp created_at"
_SYNONYMS = {k: set(v.split()) for k, v in {
    "customer_id": "cust_id customer customer_no customer_number client_id user_id user member_id account_id "
                   "contact_id visitor_id buyer_id shopper_id",
    "timestamp": f"{_WHEN} event_time event_date event_timestamp occurred_at date_time",
    "channel": "medium utm_medium source touchpoint channel_name marketing_channel",
    "event": "event_type event_name action activity interaction type",
    "campaign": "utm_campaign campaign_name campaign_id", "session_id": "session visit_id session_key",
    "revenue": "value event_value conversion_value",
    "order_id": "order order_no order_number transaction_id transaction invoice invoice_id txn_id receipt_id",
    "ordered_at": f"{_WHEN} order_date order_time order_datetime purchase_date transaction_date",
    "amount": "value revenue total order_value order_total sales net_amount price gross_amount",
    "currency": "ccy currency_code", "category": "product_category department product_type",
    "is_return": "return returned is_refund refund",
    "signup_at": "signup_date registered_at registration_date created_at join_date joined_at first_seen",
    "persona": "segment customer_type", "source_channel": "acquisition_channel first_channel signup_channel",
    "country": "country_code market",
    "answered_at": f"{_WHEN} survey_date response_date responded_at submitted_at",
    "nps": "nps_score likelihood_to_recommend ltr recommend recommend_score",
    "ces": "effort effort_score customer_effort ces_score", "csat": "satisfaction csat_score satisfaction_score",
    "comment": "comments verbatim feedback text open_answer remarks", "stage": "journey_stage funnel_stage",
    "date": "day spend_date report_date ts", "spend": "cost spend_amount media_spend amount budget",
    "impressions": "impr imps views", "clicks": "click link_clicks",
}.items()}


def _norm(name: object) -> str:
    import re

    return re.sub(r"[^0-9a-z]+", "_", str(name).lower()).strip("_")


def match_columns(columns: Sequence[str], table: str) -> list[tuple[str, str, str]]:
    """Map a file's columns onto ``table``'s canonical ones: (client column, canonical, how).

    ``how`` is ``exact``, ``same name ignoring case and separators``, ``synonym`` or
    ``similar name``; each column is used once, best matches first.

    Examples
    --------
    >>> match_columns(["Cust ID", "Order Date", "order_id", "Revenue"], "orders")
    [('order_id', 'order_id', 'exact'), ('Cust ID', 'customer_id', 'synonym'), ('Order Date', 'ordered_at', 'synonym'), ('Revenue', 'amount', 'synonym')]
    """
    import difflib

    required, optional = _canonical_tables()[table]
    wanted, free, out = list(required + optional), list(columns), []
    tests = [("exact", lambda c, k: c == k),
             ("same name ignoring case and separators", lambda c, k: _norm(c).replace("_", "") == k.replace("_", "")),
             ("synonym", lambda c, k: _norm(c) in _SYNONYMS.get(k, ()) or _norm(c).replace("_", "") in
              {s.replace("_", "") for s in _SYNONYMS.get(k, ())}),
             ("similar name", lambda c, k: difflib.SequenceMatcher(None, _norm(c), k).ratio() >= 0.8)]
    for how, test in tests:
        for key in list(wanted):
            hit = next((c for c in free if test(c, key)), None)
            if hit is not None:
                out.append((hit, key, how))
                wanted.remove(key)
                free.remove(hit)
    return out


def _read_headers(path: Path) -> list[tuple[str | None, object]]:
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return list(pd.read_excel(path, sheet_name=None, nrows=200).items())
    if suffix == ".parquet":
        return [(None, pd.read_parquet(path))]
    return [(None, pd.read_csv(path, nrows=5000, sep=None, engine="python"))]


def _key(text: str) -> str:
    import json
    import re

    return text if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", text) else json.dumps(text)


def draft_client_yaml(files: Sequence[Path], *, out: Path, name: str | None = None) -> str:
    """Text of a draft client YAML for ``files``, every guess marked ``# GUESS: review``."""
    import os

    candidates = []  # (score, file, sheet, frame, table, matches)
    for path in files:
        for sheet, frame in _read_headers(path):
            cols = [str(c) for c in frame.columns]
            for table, (required, _) in _canonical_tables().items():
                matches = match_columns(cols, table)
                got = {k for _, k, _ in matches}
                hinted = table in _norm(f"{path.stem} {sheet or ''}") or table[:-1] in _norm(path.stem)
                if set(required) <= got or hinted:
                    score = 2 * len(set(required) & got) + len(got) + (5 if hinted else 0) + \
                        (10 if set(required) <= got else 0)
                    candidates.append((score, path, sheet, frame, table, matches))
    chosen, used_tables, used_files = [], set(), set()
    for cand in sorted(candidates, key=lambda c: -c[0]):
        if cand[4] not in used_tables and (cand[1], cand[2]) not in used_files:
            chosen.append(cand)
            used_tables.add(cand[4])
            used_files.add((cand[1], cand[2]))
    folder = Path(os.path.commonpath([str(p.resolve().parent) for p in files]))
    slug = _norm(name or folder.name) or "client"
    lines = [f"# Client file drafted by `cjkit init-client` from {len(files)} file(s).",
             f"# Review every line marked GUESS, then check it with: cjkit validate --client {out}",
             f"name: {slug}  # GUESS: review (folder name; reports go to reports/<name>/)",
             f"title: {_key(name or folder.name)}  # GUESS: review (shown in reports)",
             "timezone: UTC  # GUESS: review (IANA zone of naive timestamps, e.g. Europe/Madrid)",
             "currency: EUR  # GUESS: review", "journey_model: six_stage  # GUESS: review "
             "(five_stage, five_stage_funnel, six_stage or a model YAML)", "tables:"]
    events = []
    for _, path, sheet, frame, table, matches in sorted(chosen, key=lambda c: list(_canonical_tables()).index(c[4])):
        required = _canonical_tables()[table][0]
        got = {k for _, k, _ in matches}
        rel = os.path.relpath(path.resolve(), out.resolve().parent)
        lines.append(f"  {table}:  # GUESS: review ({len(got & set(required))} of {len(required)} "
                     f"required columns found in {path.name})")
        lines.append(f"    path: {_key(Path(rel).as_posix())}")
        if sheet is not None:
            lines.append(f"    sheet: {_key(str(sheet))}")
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
