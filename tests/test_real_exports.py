"""What real client exports broke, one case each, with the exact message the loader gives.

Every case writes a small client with :func:`test_load_validation.client` (the happy
client with one table replaced), loads or validates it, and checks values, message, hint
and the row accounting (``rows_read == rows_kept + dropped``).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from cjkit.contract.load import load_client, validate_client
from cjkit.contract.report import LoadReport, Problem, TableSummary
from test_load_validation import CUSTOMERS, ORDERS, SPEND, assert_no_row_lost, client, only, utc

HEAD = "customer_id,order_id,ordered_at,amount\n"


def orders_with(*rows: str) -> str:
    return HEAD + "".join(r + "\n" for r in rows)


def reading(report: LoadReport, column: str) -> Problem:
    """The one fix of orders.<column> that says how dates were read."""
    (p,) = [p for p in report.fixes if p.column == column and "written with numbers" in p.message]
    return p


def messages(report: LoadReport, table: str, column: str | None) -> list[tuple[str, str]]:
    return [(p.severity, p.message) for p in report.items if (p.table, p.column) == (table, column)
            and "without a time zone" not in p.message]


# -- 1. one day/month order per column ------------------------------------------------

def test_day_first_is_inferred_from_a_day_above_12(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,03/04/2024 10:00,10", "c2,o2,13/04/2024 12:00,20",
                         "c1,o3,2024-04-20 09:00,30")
    data = load_client(client(tmp_path, orders=orders))
    # Madrid is UTC+2 in April: 3 April (not 4 March) 10:00 local = 08:00 UTC
    assert data.orders["ordered_at"].tolist() == utc("2024-04-03 08:00", "2024-04-13 10:00",
                                                     "2024-04-20 07:00")
    p = reading(data.report, "ordered_at")
    assert p.message == ("orders.ordered_at: 2 dates written with numbers, read day first because "
                         "'13/04/2024 12:00' (row 3 of orders.csv) can only be day first (e.g. "
                         "'03/04/2024 10:00' -> 2024-04-03 10:00:00)")
    assert p.hint == "set dayfirst: true under tables.orders to make it explicit"
    assert (p.rows, p.index) == (2, None)
    assert messages(data.report, "orders", "ordered_at") == [("fix", p.message)]
    assert_no_row_lost(data.report, {"orders": 3})


def test_month_first_is_inferred_with_am_pm_times(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,03/04/2024 10:00 AM,10", "c2,o2,04/13/2024 1:05 PM,20",
                         "c1,o3,12/25/2024 12:30 AM,30")
    data = load_client(client(tmp_path, orders=orders))
    # 4 March 10:00 (UTC+1), 13 April 13:05 (UTC+2), 25 December 00:30 (UTC+1)
    assert data.orders["ordered_at"].tolist() == utc("2024-03-04 09:00", "2024-04-13 11:05",
                                                     "2024-12-24 23:30")
    p = reading(data.report, "ordered_at")
    assert p.message == ("orders.ordered_at: 3 dates written with numbers, read month first "
                         "because '04/13/2024 1:05 PM' (row 3 of orders.csv) can only be month "
                         "first (e.g. '03/04/2024 10:00 AM' -> 2024-03-04 10:00:00)")
    assert p.hint == "set dayfirst: false under tables.orders to make it explicit"


def test_a_column_mixing_both_orders_is_an_error(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,03/04/2024,10", "c2,o2,13/04/2024,20", "c1,o3,04/13/2024,30")
    report = validate_client(client(tmp_path, orders=orders))
    p = only(report, "error", "orders", "ordered_at")
    assert p.message == ("orders.ordered_at: mixes day-first and month-first dates (3 rows), "
                         "e.g. '13/04/2024' (row 3 of orders.csv, only possible day first) and "
                         "'04/13/2024' (row 4 of orders.csv, only possible month first)")
    assert p.hint == ("write every date in one order (best as 2024-04-13), or set dayfirst: true "
                      "or false under tables.orders in the client YAML; the dates impossible in "
                      "that order are then reported row by row")
    assert (p.rows, p.index) == (3, None)
    # the one error explains the three unread dates: no "row with no ordered_at" on top
    assert messages(report, "orders", "ordered_at") == [("error", p.message)]
    # a column-level error: dropping rows would not resolve it
    report = validate_client(client(tmp_path, orders=orders,
                                    top={"options": {"drop_invalid_rows": True}}))
    assert only(report, "error", "orders", "ordered_at").rows == 3


def test_dates_that_read_both_ways_need_dayfirst(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,03/04/2024,10", "c2,o2,05/06/2024,20", "c1,o3,2024-07-02,30")
    report = validate_client(client(tmp_path, orders=orders))
    p = only(report, "error", "orders", "ordered_at")
    assert p.message == ("orders.ordered_at: 2 rows with a date that reads day first or month "
                         "first, and no date in the column tells which (e.g. '03/04/2024', "
                         "'05/06/2024'; rows 2, 3 of orders.csv)")
    assert p.hint == ("set dayfirst: true under tables.orders in the client YAML if '03/04/2024' "
                      "is 3 April 2024, or dayfirst: false if it is March 4, 2024")
    assert p.index is None and messages(report, "orders", "ordered_at") == [("error", p.message)]
    # the same file with the order given
    data = load_client(client(tmp_path, orders=orders, table_options={"orders": {"dayfirst": False}}))
    assert data.orders["ordered_at"].tolist() == utc("2024-03-03 23:00", "2024-05-05 22:00",
                                                     "2024-07-01 22:00")
    # 05/05/2024 reads the same either way: no question to ask
    data = load_client(client(tmp_path, orders=orders_with("c1,o1,05/05/2024,10")))
    assert data.orders["ordered_at"].tolist() == utc("2024-05-04 22:00")
    assert messages(data.report, "orders", "ordered_at") == []


def test_given_dayfirst_is_strict(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,03/04/2024,10", "c2,o2,04/13/2024,20", "c1,o3,13/04/2024,30")
    report = validate_client(client(tmp_path, orders=orders,
                                    table_options={"orders": {"dayfirst": True}}))
    p = only(report, "error", "orders", "ordered_at")
    assert p.message == ("orders.ordered_at: 1 row with a date that is impossible day first "
                         "(dayfirst: true) (e.g. '04/13/2024'; row 3 of orders.csv)")
    assert p.hint == ("tables.orders sets dayfirst: true, but these dates can only be month "
                      "first: correct them or the dayfirst setting, or set "
                      "options.drop_invalid_rows: true to drop these rows")
    assert list(p.index) == [1]
    w = only(report, "warning", "orders", "ordered_at")
    assert w.message == ("orders.ordered_at: 2 rows with a date that is not in ISO 8601 form, "
                         "read day first (e.g. '03/04/2024' -> 2024-04-03 00:00:00) (rows 2, 4 "
                         "of orders.csv)")
    data = load_client(client(tmp_path, orders=orders, table_options={"orders": {"dayfirst": True}},
                              top={"options": {"drop_invalid_rows": True}}))
    assert data.orders["order_id"].tolist() == ["o1", "o3"]
    assert data.orders["ordered_at"].tolist() == utc("2024-04-02 22:00", "2024-04-12 22:00")
    s = assert_no_row_lost(data.report, {"orders": 3})
    assert (s.loc["orders", "rows_kept"], s.loc["orders", "dropped"]) == (2, 1)


def test_month_names_and_impossible_dates(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,5 March 2024,10", "c2,o2,31/04/2024,20", "c1,o3,13/13/2024,30")
    report = validate_client(client(tmp_path, orders=orders))
    assert messages(report, "orders", "ordered_at") == [
        ("warning", "orders.ordered_at: 1 row with a date that is not in ISO 8601 form, read as "
                    "written (e.g. '5 March 2024' -> 2024-03-05 00:00:00) (row 2 of orders.csv)"),
        ("error", "orders.ordered_at: 2 rows with a date/time that cannot be read (e.g. "
                  "'31/04/2024', '13/13/2024'; rows 3, 4 of orders.csv)")]


# -- 2. currency signs and inferred marks in amounts ------------------------------------

def test_dollar_amounts_for_a_usd_client(tmp_path: Path) -> None:
    orders = orders_with('c1,o1,2024-01-20 10:00,"$1,234.50"', "c2,o2,2024-02-03 12:00,US$ 35",
                         "c1,o3,2024-07-02 09:00,-$120.50", "c2,o4,2024-07-03 09:00,12.25")
    data = load_client(client(tmp_path, orders=orders, top={"currency": "USD"}))
    assert data.orders["amount"].tolist() == [1234.5, 35.0, -120.5, 12.25]
    assert messages(data.report, "orders", "amount") == [
        ("fix", "orders.amount: 3 rows with the client's currency (USD) written in the value ('$', "
                "'US$'), removed (e.g. '$1,234.50', 'US$ 35', '-$120.50'; rows 2, 3, 4 of "
                "orders.csv)"),
        ("fix", "orders.amount: 1 row read with ',' between thousands, because '$1,234.50' can "
                "only be read that way (e.g. '$1,234.50' -> 1234.5; row 2 of orders.csv)"),
        ("fix", "orders.amount: 1 row with a negative amount, treated as returns (is_return set to "
                "true) (e.g. -120.5; row 4 of orders.csv)")]
    reading = [p for p in data.report.fixes if "read with" in p.message][0]
    assert reading.hint == 'set thousands: "," under tables.orders to make it explicit'
    # rows changed in place: the three with a sign (row 4 is also a return): 3 rows
    assert data.report.summary_frame().set_index("table").loc["orders", "fixed"] == 3


def test_euro_amounts_with_decimal_comma(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,2024-01-20 10:00,1.234,50 EUR", "c2,o2,2024-02-03 12:00,35 €",
                         "c1,o3,2024-07-02 09:00,-120,50 €")
    orders = orders.replace("1.234,50 EUR", '"1.234,50 EUR"').replace("-120,50 €", '"-120,50 €"')
    data = load_client(client(tmp_path, orders=orders, top={"currency": "EUR"}))
    assert data.orders["amount"].tolist() == [1234.5, 35.0, -120.5]
    p = [p for p in data.report.fixes if "read with" in p.message][0]
    assert p.message == ("orders.amount: 2 rows read with a decimal comma and '.' between "
                         "thousands, because '1.234,50 EUR' can only be read that way (e.g. "
                         "'1.234,50 EUR' -> 1234.5; rows 2, 4 of orders.csv)")
    assert p.hint == 'set decimal: "," and thousands: "." under tables.orders to make it explicit'
    assert_no_row_lost(data.report, {"orders": 3})


def test_spend_and_event_revenue_are_money_too(tmp_path: Path) -> None:
    spend = SPEND.replace("100.0", "€100").replace("80.5", '"80,50 €"')
    events = ("customer_id,timestamp,channel,event,revenue\n"
              "c1,2024-01-15 09:00,search,page_view,\nc1,2024-01-15 09:30,search,signup,EUR 5\n")
    data = load_client(client(tmp_path, spend=spend, events=events, top={"currency": "EUR"}))
    assert data.spend["spend"].tolist() == [100.0, 80.5, 10.0]
    assert data.events["revenue"].tolist()[1] == 5.0
    assert [p.message for p in data.report.fixes if p.column == "spend"] == [
        "spend.spend: 2 rows with the client's currency (EUR) written in the value ('€'), removed "
        "(e.g. '€100', '80,50 €'; rows 2, 3 of spend.csv)",
        "spend.spend: 1 row read with a decimal comma, because '80,50 €' can only be read that "
        "way (e.g. '80,50 €' -> 80.5; row 3 of spend.csv)"]


def test_amounts_in_another_currency_are_errors(tmp_path: Path) -> None:
    orders = ORDERS.replace("120.50,EUR", "€120.50,EUR").replace(",35,", ",35 €,")
    report = validate_client(client(tmp_path, orders=orders, top={"currency": "USD"}))
    p = only(report, "error", "orders", "amount")
    assert p.message == ("orders.amount: 3 rows with amounts in another currency: they carry '€' "
                         "(EUR) but the client's currency is USD (e.g. '€120.50', '35 €', "
                         "'-€120.50'; rows 2, 3, 4 of orders.csv)")
    assert p.hint == ("convert these amounts to USD in the file, or set currency: EUR in the "
                      "client YAML if all of orders is in EUR")
    assert messages(report, "orders", "amount") == [("error", p.message)]  # no "no amount" on top
    # a row-level error: options.drop_invalid_rows drops those rows and counts them
    data = load_client(client(tmp_path, orders=orders + "c2,o4,2024-02-05 12:00,$7,EUR\n",
                              top={"currency": "USD", "options": {"drop_invalid_rows": True}}))
    assert (data.orders["order_id"].tolist(), data.orders["amount"].tolist()) == (["o4"], [7.0])
    s = assert_no_row_lost(data.report, {"orders": 4})
    assert (s.loc["orders", "dropped"], s.loc["orders", "fixed"]) == (3, 1)
    # without a currency in the YAML the sign cannot be checked: say which to add
    report = validate_client(client(tmp_path, orders=orders))
    p = only(report, "error", "orders", "amount")
    assert "they carry '€' (EUR) but the client YAML sets no currency" in p.message
    assert p.hint == "add currency: EUR to the client YAML (then '€' is removed)"


def test_contradictory_marks_are_an_error(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,2024-01-20 10:00,\"12,50\"", "c2,o2,2024-02-03 12:00,3.75",
                         "c1,o3,2024-02-04 12:00,8")
    report = validate_client(client(tmp_path, orders=orders))
    p = only(report, "error", "orders", "amount")
    assert p.message == ("orders.amount: mixes decimal commas and decimal points (2 rows), e.g. "
                         "'12,50' (row 2 of orders.csv) and '3.75' (row 3 of orders.csv)")
    assert p.hint == ('set decimal: "," (then 12,50 = 12.5) or decimal: "." under tables.orders '
                      "in the client YAML; the values written the other way are then reported "
                      "row by row")
    assert (p.rows, p.index) == (2, None)
    assert messages(report, "orders", "amount") == [("error", p.message)]
    # given options win: decimal "," reads 12,50 and reports 3.75 by row
    report = validate_client(client(tmp_path, orders=orders,
                                    table_options={"orders": {"decimal": ","}}))
    p = only(report, "error", "orders", "amount")
    assert p.message == ("orders.amount: 1 row with a value that is not a number (e.g. '3.75'; "
                         "row 3 of orders.csv)")
    assert p.hint.startswith("the file seems to write decimals with a point, but tables.orders "
                             'says decimal: ",": set decimal: "."')


def test_counts_with_thousands_marks(tmp_path: Path) -> None:
    spend = SPEND.replace("1000", '"1.000"').replace("2000", '"2.500"')
    data = load_client(client(tmp_path, spend=spend))
    assert data.spend["impressions"].tolist() == [1000, 2500, pd.NA]
    p = only(data.report, "fix", "spend", "impressions")
    assert p.message == ("spend.impressions: 2 rows read with '.' between thousands, because "
                         "impressions holds whole numbers (e.g. '1.000' -> 1000; rows 2, 3 of "
                         "spend.csv)")


# -- 3. encodings ------------------------------------------------------------------------

def test_latin1_file_names_the_encoding_to_set(tmp_path: Path) -> None:
    path = client(tmp_path)
    text = CUSTOMERS.replace("c1,2024-01-15 09:30,maker", "c1,2024-01-15 09:30,Café")
    (path.parent / "customers.csv").write_bytes(text.encode("latin-1"))
    report = validate_client(path)
    p = only(report, "error", "customers", None)
    # header: 52 characters + newline = 53 bytes; 'c1,2024-01-15 09:30,Caf' is 23 more: 76
    assert p.message == ("customers: customers.csv is not UTF-8 (byte 0xe9 at position 76, line "
                         "2); it reads as cp1252/latin-1 (e.g. '2024-01-15 09:30,Café,search,ES'): "
                         "add `encoding: latin-1` under tables.customers")
    assert p.hint == ("add encoding: latin-1 under tables.customers in the client YAML (the file "
                      "itself is left as it is)")
    fixed = client(tmp_path, table_options={"customers": {"encoding": "latin-1"}})
    (fixed.parent / "customers.csv").write_bytes(text.encode("latin-1"))
    assert load_client(fixed).customers["persona"].tolist()[0] == "Café"


def test_cp1252_file_with_a_euro_sign(tmp_path: Path) -> None:
    path = client(tmp_path)
    text = CUSTOMERS.replace("c2,2024-02-01 18:00,pro", "c2,2024-02-01 18:00,€ pro")
    (path.parent / "customers.csv").write_bytes(text.encode("cp1252"))
    p = only(validate_client(path), "error", "customers", None)
    # 53 (header) + 36 (first row) + 'c2,2024-02-01 18:00,' (20) = 109; € is 0x80 in cp1252
    assert p.message == ("customers: customers.csv is not UTF-8 (byte 0x80 at position 109, line "
                         "3); it reads as cp1252 (e.g. 'c2,2024-02-01 18:00,€ pro,social,FR'): add "
                         "`encoding: cp1252` under tables.customers")


# -- 4. a header row repeated inside the file --------------------------------------------

def test_repeated_header_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,2024-01-20 10:00,120.50", "c2,o2,2024-02-03 12:00,35",
                         "c1,o3,2024-07-02 09:00,-120.50",
                         "customer_id,order_id,ordered_at,amount",       # file row 5
                         "c2,o4,2024-07-05 09:00,10", "c1,o5,2024-07-06 09:00,11",
                         "c2,o6,2024-07-07 09:00,12",
                         " customer_id,order_id,ordered_at,amount ")     # file row 9
    data = load_client(client(tmp_path, orders=orders))
    assert data.orders["order_id"].tolist() == ["o1", "o2", "o3", "o4", "o5", "o6"]
    p = only(data.report, "fix", "orders", None)
    assert p.message == ("orders: 2 rows repeat the header row (rows 5, 9 of orders.csv), "
                         "dropped")
    assert p.dropped == 2
    s = assert_no_row_lost(data.report, {"orders": 8})
    assert (s.loc["orders", "rows_kept"], s.loc["orders", "dropped"]) == (6, 2)
    # the rows after a dropped header keep their file row numbers
    report = validate_client(client(tmp_path, orders=orders.replace("c1,o5,2024-07-06 09:00", "c1,o5,soon")))
    assert only(report, "error", "orders", "ordered_at").message == (
        "orders.ordered_at: 1 row with a date/time that cannot be read (e.g. 'soon'; row 7 of "
        "orders.csv)")


# -- 5. Excel serial day numbers ---------------------------------------------------------

def test_excel_serial_day_numbers_get_a_hint(tmp_path: Path) -> None:
    frame = pd.DataFrame({"customer_id": ["c1", "c2"], "order_id": ["o1", "o2"],
                          "ordered_at": [45292, 45293.5], "amount": [10.0, 20.0]})
    report = validate_client(client(tmp_path, orders=("orders.xlsx", frame)))
    p = only(report, "error", "orders", "ordered_at")
    assert p.message == ("orders.ordered_at: 2 rows with a date/time that cannot be read (e.g. "
                         "'45292', '45293.5'; rows 2, 3 of orders.xlsx)")
    assert p.hint == ("these look like Excel serial day numbers (45292 = 2024-01-01): format the "
                      "column as dates in the workbook before exporting (or save the workbook "
                      "itself as .xlsx and load that), or write the dates as 2024-03-01; set "
                      "options.drop_invalid_rows: true to drop these rows")


# -- 6. which client column is the missing one -------------------------------------------

def test_a_usual_name_beats_a_similar_spelling(tmp_path: Path) -> None:
    orders = ("customer_id,order_no,order_date,amount\n"
              "c1,o1,2024-01-20 10:00,120.5\nc2,o2,2024-02-03 12:00,35\n")
    report = validate_client(client(tmp_path, orders=orders))
    assert sorted((p.column, p.message, p.hint) for p in report.errors) == [
        ("order_id", "orders: required column 'order_id' is missing; closest column in orders.csv "
                     "is 'order_no'", "map it under tables.orders.columns: {order_no: order_id}"),
        ("ordered_at", "orders: required column 'ordered_at' is missing; closest column in "
                       "orders.csv is 'order_date'",
         "map it under tables.orders.columns: {order_date: ordered_at}")]


def test_suggestions_look_at_the_values(tmp_path: Path) -> None:
    # 'amounts' is spelled like amount but holds words; 'net_amount' holds the numbers
    orders = ("customer_id,order_id,ordered_at,amounts,net_amount\n"
              "c1,o1,2024-01-20 10:00,high,120.5\nc2,o2,2024-02-03 12:00,low,35\n")
    p = only(validate_client(client(tmp_path, orders=orders)), "error", "orders", "amount")
    assert p.message == ("orders: required column 'amount' is missing; closest column in "
                         "orders.csv is 'net_amount'")
    # a date column is never proposed for an id
    orders = "customer_id,order_when,ordered_at,amount\nc1,2024-01-20,2024-01-20 10:00,1\n"
    p = only(validate_client(client(tmp_path, orders=orders)), "error", "orders", "order_id")
    assert p.message.startswith("orders: required column 'order_id' is missing from orders.csv")


# -- 7. "fixed" counts rows ----------------------------------------------------------------

def test_fixed_counts_distinct_rows_and_survives_serialisation(tmp_path: Path) -> None:
    orders = ORDERS.replace("c2,o2", " c2 , o2 ")        # row 3: two fixes, one row
    data = load_client(client(tmp_path, orders=orders))  # row 4: a negative amount (return)
    report = data.report
    assert sorted(p.rows for p in report.fixes if p.table == "orders" and p.index is not None) \
        == [1, 1, 1]
    s = report.summary_frame().set_index("table")
    assert s.loc["orders", "fixed"] == 2                 # not 3 fixes, and not + the tz note
    assert s.loc["customers", "fixed"] == 0
    # the load cache stores problems without their index: the count is kept
    def without_index(p: Problem) -> dict:
        d = asdict(p)
        d.pop("index")
        return d

    plain = json.loads(json.dumps({"tables": {k: asdict(v) for k, v in report.tables.items()},
                                   "items": [without_index(p) for p in report.items]}))
    again = LoadReport(report.client, {k: TableSummary(**v) for k, v in plain["tables"].items()},
                       [Problem(**{**p, "examples": tuple(p["examples"])}) for p in plain["items"]])
    assert again.summary_frame().equals(report.summary_frame())


def test_demo_fixed_is_at_most_the_rows(demo_client: Path) -> None:
    data = load_client(demo_client)
    s = data.report.summary_frame().set_index("table")
    assert (s["fixed"] <= s["rows_read"]).all(), s
    raw = pd.read_csv(demo_client.parent / "surveys.csv", dtype=str, keep_default_na=False)
    no_answer = raw["nps"].str.strip().str.lower().isin(["", "n/a", "na", "-", "none"]).sum()
    assert s.loc["surveys", "fixed"] == no_answer  # the only in-place fix of the demo
    assert s.loc[["customers", "events", "orders", "spend"], "fixed"].tolist() == [0, 0, 0, 0]


def test_numeric_dates_know_leap_years_and_two_digit_years(tmp_path: Path) -> None:
    orders = orders_with("c1,o1,29/02/2024,10", "c2,o2,29/02/2023,20", "c1,o3,31.12.99,30",
                         "c2,o4,13.1.24,40")
    report = validate_client(client(tmp_path, orders=orders))
    # 29 February 2024 exists, 2023's does not; '99' is 1999 and '24' 2024 (as strptime's %y)
    assert messages(report, "orders", "ordered_at") == [
        ("fix", "orders.ordered_at: 3 dates written with numbers, read day first because "
                "'29/02/2024' (row 2 of orders.csv) can only be day first (e.g. '29/02/2024' -> "
                "2024-02-29 00:00:00)"),
        ("error", "orders.ordered_at: 1 row with a date/time that cannot be read (e.g. "
                  "'29/02/2023'; row 3 of orders.csv)")]
    data = load_client(client(tmp_path, orders=orders, top={"options": {"drop_invalid_rows": True}}))
    assert data.orders["ordered_at"].tolist() == utc("2024-02-28 23:00", "1999-12-30 23:00",
                                                     "2024-01-12 23:00")
