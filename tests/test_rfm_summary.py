"""cjkit.rfm.summary: lifetimes' summary semantics and classic RFM, by hand and against lifetimes.

The lifetimes references in tests/fixtures/rfm_lifetimes_*.csv were written by
benchmarks/compare_lifetimes_summary.py (lifetimes 0.11.3 in .venv-peers) from
tests/fixtures/rfm_orders.csv; rerun it to regenerate them.
"""
from __future__ import annotations

import pathlib

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from cjkit.rfm import rfm_table, summary_data

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
CASES = {"D": (None, "D", 1), "D_asof": ("2024-06-12", "D", 1), "W_asof": ("2024-06-12", "W", 1),
         "W_mult4": ("2024-06-12", "W", 4), "h_mult24": ("2024-06-12", "h", 24)}


@pytest.fixture(scope="module")
def synthetic():
    frame = pd.read_csv(FIXTURES / "rfm_orders.csv", dtype={"customer_id": str, "order_id": str})
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    frame["is_return"] = frame["is_return"].astype("boolean")
    return frame


@pytest.mark.parametrize("case", list(CASES))
def test_matches_lifetimes(synthetic, case):
    end, freq, mult = CASES[case]
    expected = pd.read_csv(FIXTURES / f"rfm_lifetimes_{case}.csv", index_col="customer_id",
                           dtype={"customer_id": str}).astype(float)
    got = summary_data(synthetic, as_of=end, freq=freq, freq_multiplier=mult)
    assert list(got.columns) == ["frequency", "recency", "T", "monetary_value"]
    assert_frame_equal(got[["frequency", "recency", "T"]], expected[["frequency", "recency", "T"]],
                       check_exact=True, check_index_type=False)
    np.testing.assert_allclose(got["monetary_value"], expected["monetary_value"], rtol=1e-12, atol=0)
    # the fixture holds returns; lifetimes got the purchases only: the report says so
    n_returns = int(synthetic["is_return"].sum())
    assert got.attrs["report"]["returns"] == n_returns > 0
    assert got.attrs["report"]["zero_value_orders"] == int((synthetic["amount"] == 0).sum()) > 0


@pytest.fixture
def orders():
    """Worked by hand below (naive wall-clock times).

    a: Mon 2024-01-01 09:00 (20), Wed 01-03 09:00 (30), Wed 01-03 18:00 (10), Sat 01-06 (60),
       a return of the 01-06 order on 01-08 (-60)
    b: Thu 01-04 (15), then 01-20 (after every as-of used here)
    c: Tue 01-09 10:00 (0.0, a free lesson)
    d: only a return, 01-05 (-5)
    """
    rows = [("a", "O1", "2024-01-01 09:00", 20.0, False), ("a", "O2", "2024-01-03 09:00", 30.0, False),
            ("a", "O3", "2024-01-03 18:00", 10.0, False), ("a", "O4", "2024-01-06 12:00", 60.0, False),
            ("a", "O4-R", "2024-01-08 08:00", -60.0, True), ("b", "O5", "2024-01-04 12:00", 15.0, False),
            ("b", "O6", "2024-01-20 12:00", 25.0, False), ("c", "O7", "2024-01-09 10:00", 0.0, False),
            ("d", "O8-R", "2024-01-05 12:00", -5.0, None)]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "ordered_at", "amount", "is_return"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"])
    frame["is_return"] = frame["is_return"].astype("boolean")
    return frame


def test_summary_by_hand_days(orders):
    got = summary_data(orders, as_of="2024-01-10")
    # a: periods 01-01, 01-03 (30+10=40), 01-06 (60) -> frequency 2, recency 5, T 9, monetary (40+60)/2
    # b: 01-04 only (01-20 is after the as-of day) -> T 6; c: 01-09, a zero-value purchase -> T 1
    expected = pd.DataFrame({"frequency": [2.0, 0.0, 0.0], "recency": [5.0, 0.0, 0.0], "T": [9.0, 6.0, 1.0],
                             "monetary_value": [50.0, 0.0, 0.0]},
                            index=pd.Index(["a", "b", "c"], name="customer_id"))
    assert_frame_equal(got, expected, check_index_type=False)
    rep = got.attrs["report"]
    assert (rep["rows"], rep["purchases"], rep["returns"], rep["returns_amount"]) == (9, 6, 2, 65.0)
    assert (rep["zero_value_orders"], rep["zero_value_dropped"], rep["after_as_of"]) == (1, 0, 1)
    assert (rep["returns_netted"], rep["returns_not_netted"], rep["customers"]) == (0, 0, 3)


def test_summary_nets_returns_and_drops_zero_value(orders):
    got = summary_data(orders, as_of="2024-01-10", returns="net", zero_value="drop")
    # a's 01-08 return (-60) goes to its latest purchase period at or before it, 01-06: 60 - 60 = 0
    # -> monetary (40 + 0) / 2 = 20; d's return has no purchase before it: counted, not netted
    assert got.loc["a", "monetary_value"] == 20.0
    assert list(got.index) == ["a", "b"]                    # c's only order was worth 0
    rep = got.attrs["report"]
    assert (rep["returns_netted"], rep["returns_not_netted"], rep["zero_value_dropped"]) == (1, 1, 1)


def test_summary_weeks_hours_and_default_as_of(orders):
    # weeks start on Monday: 01-01..01-07 is week 0, 01-08..01-14 week 1, 01-15.. week 2
    weeks = summary_data(orders, as_of="2024-01-10", freq="W")
    assert weeks["frequency"].tolist() == [0.0, 0.0, 0.0]   # a's three days fall in one week
    assert weeks["T"].tolist() == [1.0, 1.0, 0.0]
    assert weeks.loc["a", "monetary_value"] == 0.0
    # as_of on Monday 01-15 keeps b's Saturday 01-20 order: the whole as-of week counts (as in lifetimes)
    assert summary_data(orders, as_of="2024-01-15", freq="W").loc["b", "frequency"] == 1.0
    hours = summary_data(orders, as_of="2024-01-10", freq="h", freq_multiplier=24)
    # a: 01-01 09:00 -> 01-06 12:00 is 123 h; -> 01-10 00:00 is 207 h; three distinct hours -> frequency 3
    assert hours.loc["a"].tolist()[:3] == [3.0, 123 / 24, 207 / 24]
    # default as_of: the latest purchase (b's 01-20), so b counts both orders
    full = summary_data(orders)
    assert full.loc["b", ["frequency", "recency", "T"]].tolist() == [1.0, 16.0, 16.0]
    assert full.attrs["as_of"] == "2024-01-20 00:00:00"


def test_summary_time_zone_moves_orders_across_midnight():
    # 23:30 UTC on 01-31 is 00:30 on 02-01 in Madrid: two UTC days, one Madrid day
    orders = pd.DataFrame({"customer_id": ["a", "a"], "amount": [10.0, 20.0],
                           "ordered_at": pd.to_datetime(["2024-01-31 22:30", "2024-01-31 23:30"], utc=True)})
    assert summary_data(orders, as_of="2024-02-02")["frequency"].tolist() == [0.0]
    madrid = summary_data(orders, as_of="2024-02-02", timezone="Europe/Madrid")
    assert madrid.loc["a", ["frequency", "recency", "T"]].tolist() == [1.0, 1.0, 2.0]


def test_summary_categorical_ids_and_input_untouched(orders):
    before = orders.copy()
    plain = summary_data(orders, as_of="2024-01-10")
    cat = summary_data(orders.assign(customer_id=orders["customer_id"].astype("category")), as_of="2024-01-10")
    assert_frame_equal(plain, cat, check_index_type=False)
    assert_frame_equal(orders, before)


def test_summary_errors_name_table_column_and_rows(orders):
    bad = orders.copy()
    bad.loc[2, "amount"] = np.nan
    with pytest.raises(ValueError, match=r"orders table, column 'amount': 1 of 9 rows are missing \(e.g. row 2\)"):
        summary_data(bad)
    with pytest.raises(TypeError, match="not timestamps"):
        summary_data(orders.assign(ordered_at=orders["ordered_at"].astype(str)))
    with pytest.raises(ValueError, match="freq='M'"):
        summary_data(orders, freq="M")
    with pytest.raises(ValueError, match="none of its 2 rows is a purchase"):
        summary_data(orders[orders["amount"] < 0])
    with pytest.raises(KeyError, match="no column 'amount'"):
        summary_data(orders.drop(columns="amount"))


def test_rfm_table_by_hand(orders):
    got = rfm_table(orders, as_of="2024-01-10")
    # a: last order 01-06 -> 4 days; 4 orders (two on 01-03 are two orders); 120 bought, 60 returned
    # b: 01-04 -> 6 days, 1 order of 15; c: 01-09 -> 1 day, 1 order of 0
    assert got.index.tolist() == ["a", "b", "c"]
    assert got["recency_days"].tolist() == [4, 6, 1]
    assert got["orders"].tolist() == [4, 1, 1]
    assert got["total_spend"].tolist() == [60.0, 15.0, 0.0]
    assert got["average_spend"].tolist() == [15.0, 15.0, 0.0]
    assert got["returns"].tolist() == [1, 0, 0] and got["returned_amount"].tolist() == [60.0, 0.0, 0.0]
    assert got["first_order_at"].tolist() == list(pd.to_datetime(["2024-01-01", "2024-01-04", "2024-01-09"]))
    rep = got.attrs["report"]
    assert (rep["returns_without_purchase"], rep["after_as_of"], rep["customers"]) == (1, 1, 3)
    bought = rfm_table(orders, as_of="2024-01-10", returns="exclude", zero_value="drop")
    assert bought["total_spend"].tolist() == [120.0, 15.0] and bought.attrs["report"]["zero_value_dropped"] == 1


def test_rfm_table_agrees_with_summary_on_synthetic(synthetic):
    # orders counted per order, the summary per day: they agree wherever no two orders share a day
    rfm = rfm_table(synthetic, as_of="2024-06-12", returns="exclude")
    summ = summary_data(synthetic, as_of="2024-06-12")
    assert (rfm.index == summ.index).all()
    assert ((rfm["orders"] - 1) >= summ["frequency"]).all()
    one_per_day = (rfm["orders"] - 1) == summ["frequency"]
    assert one_per_day.mean() > 0.8
    recency = (pd.Timestamp("2024-06-12") - rfm["first_order_at"]).dt.days - rfm["recency_days"]
    assert (recency == summ["recency"]).all()


def test_short_fixed_width_ids_and_any_other_ids_give_one_summary(synthetic):
    # "K0123" ids take the no-hashing path (fixed width <= 8 bytes); the same orders with ids of
    # varying length, or held as Python objects, take pd.factorize: the rows must be identical
    fast = summary_data(synthetic, as_of="2024-06-12")
    longer = synthetic.assign(customer_id="customer-" + synthetic["customer_id"].str.lstrip("K0").replace("", "0"))
    slow = summary_data(longer, as_of="2024-06-12")
    slow.index = "K" + slow.index.str.removeprefix("customer-").str.zfill(4)
    assert_frame_equal(fast, slow.sort_index(), check_index_type=False)
    as_objects = summary_data(synthetic.astype({"customer_id": object}), as_of="2024-06-12")
    assert_frame_equal(fast, as_objects, check_index_type=False)
    assert fast.index.tolist() == sorted(fast.index)
