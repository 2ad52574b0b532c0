"""The canonical table schemas: derived column lists, constants and pandera failures in words."""
from __future__ import annotations

import pandas as pd
import pytest

from cjkit.contract.report import Source
from cjkit.contract.schemas import (COLUMN_KINDS, OPTIONAL_COLUMNS, REQUIRED_COLUMNS, SCORE_RANGES, TABLES,
                           Customers, Events, Orders, Spend, Surveys, canonical_columns,
                           schema_problems)

# the contract's table of canonical columns, typed in by hand
CONTRACT = {
    "customers": (("customer_id",), ("signup_at", "persona", "source_channel", "country")),
    "events": (("customer_id", "timestamp", "channel", "event"),
               ("campaign", "session_id", "revenue", "stage")),
    "orders": (("customer_id", "order_id", "ordered_at", "amount"),
               ("currency", "category", "is_return")),
    "surveys": (("customer_id", "answered_at", "nps"), ("ces", "csat", "comment", "stage")),
    "spend": (("date", "channel", "spend"), ("campaign", "impressions", "clicks")),
    "paths": (("path", "conversions"), ("value", "nulls")),
}


def ts(*values: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(values), utc=True)).astype("datetime64[ns, UTC]")


def test_required_and_optional_columns_match_the_contract() -> None:
    assert list(TABLES) == list(CONTRACT)
    for table, (required, optional) in CONTRACT.items():
        assert REQUIRED_COLUMNS[table] == required
        assert OPTIONAL_COLUMNS[table] == optional
        assert canonical_columns(table) == required + optional


def test_schema_attributes_are_the_column_names() -> None:
    assert (Customers.customer_id, Events.timestamp, Orders.amount, Surveys.nps, Spend.date) == (
        "customer_id", "timestamp", "amount", "nps", "date")


def test_column_kinds_and_score_ranges() -> None:
    assert COLUMN_KINDS["orders"] == {"customer_id": "id", "order_id": "id",
                                      "ordered_at": "timestamp", "amount": "number",
                                      "currency": "category", "category": "category",
                                      "is_return": "flag"}
    assert COLUMN_KINDS["spend"]["date"] == "date"
    assert COLUMN_KINDS["spend"]["impressions"] == "count"
    assert SCORE_RANGES["surveys"] == {"nps": (0, 10), "ces": (1, 7), "csat": (1, 5)}


def test_a_valid_table_has_no_problems() -> None:
    df = pd.DataFrame({"date": ts("2024-01-01", "2024-01-02"), "channel": ["search", "tv"],
                       "spend": [10.0, 0.0], "impressions": pd.array([5, None], dtype="Int64")})
    assert schema_problems(df, "spend") == []


def test_range_checks_become_problems_with_rows_and_examples() -> None:
    df = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4"],
        "answered_at": ts("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"),
        "nps": pd.array([11, 7, -1, None], dtype="Int64"),
        "ces": pd.array([8, 1, 7, 0], dtype="Int64"),
        "csat": pd.array([5, 6, 1, 1], dtype="Int64")})
    src = Source("surveys", "surveys.csv", first_row=2)
    found = {p.column: p for p in schema_problems(df, "surveys", src)}
    assert set(found) == {"nps", "ces", "csat"}
    nps = found["nps"]
    assert (nps.severity, nps.rows, nps.examples) == ("error", 2, ("11", "-1"))
    assert nps.message == "surveys.nps: 2 rows outside 0-10 (e.g. 11, -1; rows 2, 4 of surveys.csv)"
    assert "whole number from 0 to 10" in nps.hint
    assert list(nps.index) == [0, 2]
    assert found["ces"].message.startswith("surveys.ces: 2 rows outside 1-7 (e.g. 8, 0;")
    assert found["csat"].message.startswith("surveys.csat: 1 row outside 1-5 (e.g. 6;")


def test_negative_spend_counts_and_empty_ids() -> None:
    spend = pd.DataFrame({"date": ts("2024-01-01", "2024-01-02", "2024-01-03"),
                          "channel": ["search", "tv", "tv"], "spend": [-5.0, 3.0, -1.5],
                          "clicks": pd.array([1, -2, 0], dtype="Int64")})
    found = {p.column: p for p in schema_problems(spend, "spend")}
    assert found["spend"].rows == 2 and found["spend"].examples == ("-5", "-1.5")
    assert "below 0" in found["spend"].message
    assert found["clicks"].rows == 1
    customers = pd.DataFrame({"customer_id": ["c1", ""]})
    (empty,) = schema_problems(customers, "customers", Source("customers", "c.csv"))
    assert empty.message == "customers.customer_id: 1 row with an empty value (e.g. ''; row 3 of c.csv)"


def test_missing_values_not_repeated_for_rows_already_reported() -> None:
    df = pd.DataFrame({"customer_id": ["c1", None, None],
                       "order_id": ["o1", "o2", "o3"],
                       "ordered_at": ts("2024-01-01", None, None),
                       "amount": [1.0, 2.0, 3.0]})
    reported = {"ordered_at": pd.Index([1])}  # e.g. 'yesterday' that could not be parsed
    found = {p.column: p for p in schema_problems(df, "orders", reported=reported)}
    assert found["customer_id"].rows == 2
    assert found["customer_id"].message.startswith("orders.customer_id: 2 rows with no customer_id")
    assert found["ordered_at"].rows == 1 and list(found["ordered_at"].index) == [2]


def test_missing_required_columns_are_left_to_the_loader() -> None:
    df = pd.DataFrame({"customer_id": ["c1"], "order_id": ["o1"], "ordered_at": ts("2024-01-01")})
    assert schema_problems(df, "orders") == []


def test_wrong_dtype_is_reported_not_raised() -> None:
    df = pd.DataFrame({"customer_id": ["c1"], "answered_at": ts("2024-01-01"), "nps": [9.5]})
    (p,) = schema_problems(df, "surveys")
    assert p.column == "nps" and "expected Int64" in p.message


@pytest.mark.parametrize("table", list(TABLES))
def test_every_column_has_a_kind(table: str) -> None:
    assert set(COLUMN_KINDS[table]) == set(canonical_columns(table))
    assert set(COLUMN_KINDS[table].values()) <= {"id", "category", "text", "timestamp", "date",
                                                  "number", "count", "score", "flag", "stage"}
