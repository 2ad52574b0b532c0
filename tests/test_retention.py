"""Cohort retention, churn for a loss window, time to loss and the unsubscribe hazard.

Every expected value is worked out by hand in the comments from small order and event logs;
the Kaplan-Meier curve is also checked against the published 6-MP leukaemia example, and
on the demo client the planted unsubscribe hazards (ground_truth.json) must fall inside the
95% intervals of the estimates.
"""
from __future__ import annotations

import json
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from cjkit import plots
from cjkit.estimate import estimates_in
from cjkit.retention import (
    active_months,
    churn_rate,
    churn_table,
    churn_by_window,
    cohort_retention,
    customer_status,
    recent_cohorts,
    retention_by_month,
    retention_matrix,
)
from cjkit.survival import (
    piecewise_hazard,
    poisson_rate_ci,
    subscriber_exposure,
    survival_at,
    survival_curve,
    survival_summary,
    time_to_loss,
    unsubscribe_hazard,
)
from conftest import REPO, Z95, wilson


def _ts(*values):
    return pd.to_datetime(list(values), utc=True)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def orders():
    """Six customers; as of 2024-04-15 (the data counts up to 2024-04-16 00:00).

    a: 01-05, 01-20, 03-02 and a return on 03-10 (not a purchase)
    b: 01-31 23:30 UTC (01 Feb 00:30 in Madrid), 02-01 12:00
    c: 02-10, then 05-15 (after the as-of day: left out)
    d: only a return (never a buyer)
    e: 03-01, 04-10
    f: 04-01
    """
    rows = [("a", "O1", "2024-01-05", 50.0, False), ("a", "O2", "2024-01-20", 20.0, False),
            ("a", "O3", "2024-03-02", 30.0, False), ("a", "O3-R", "2024-03-10", -30.0, True),
            ("b", "O4", "2024-01-31 23:30", 10.0, False), ("b", "O5", "2024-02-01 12:00", 15.0, False),
            ("c", "O6", "2024-02-10", 80.0, False), ("c", "O7", "2024-05-15", 40.0, False),
            ("d", "O8-R", "2024-03-05", -12.0, None),
            ("e", "O9", "2024-03-01", 25.0, False), ("e", "O10", "2024-04-10", 25.0, False),
            ("f", "O11", "2024-04-01", 60.0, False)]
    frame = pd.DataFrame(rows, columns=["customer_id", "order_id", "ordered_at", "amount", "is_return"])
    frame["ordered_at"] = pd.to_datetime(frame["ordered_at"], utc=True, format="ISO8601")
    frame["is_return"] = frame["is_return"].astype("boolean")
    return frame


# --- cohort retention ---------------------------------------------------------------------------

def test_active_months_by_hand(orders):
    got = active_months(orders, as_of="2024-04-15")
    # a: Jan (2 orders), Mar (1; the return does not count); b: Jan 31 and Feb 1 (UTC);
    # c: Feb (May is after the as-of day); e: Mar, Apr; f: Apr; d bought nothing
    expected = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "e", "e", "f"],
        "cohort": ["2024-01", "2024-01", "2024-01", "2024-01", "2024-02", "2024-03", "2024-03", "2024-04"],
        "months_since_first": [0, 2, 0, 1, 0, 0, 1, 0],
        "orders": [2, 1, 1, 1, 1, 1, 1, 1],
    })
    assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["last_full_month"] == "2024-03"  # April has not ended by 2024-04-15


def test_cohort_retention_matrix_with_unobserved_months_missing(orders):
    table = cohort_retention(orders, as_of="2024-04-15")
    # cohort 2024-01 (a, b): month 0 both, month 1 only b (Feb), month 2 only a (Mar)
    # cohort 2024-02 (c): month 0, month 1 (March) observed and empty: 0, not missing
    # cohort 2024-03 (e): month 0 only (April has not ended); cohort 2024-04 (f): nothing observed yet
    assert table[["cohort", "months_since_first", "cohort_customers", "active"]].values.tolist() == [
        ["2024-01", 0, 2, 2], ["2024-01", 1, 2, 1], ["2024-01", 2, 2, 1],
        ["2024-02", 0, 1, 1], ["2024-02", 1, 1, 0],
        ["2024-03", 0, 1, 1]]
    assert table["retention"].tolist() == [1.0, 0.5, 0.5, 1.0, 0.0, 1.0]
    lo, hi = wilson(1, 2)
    assert table.loc[1, ["retention_ci_low", "retention_ci_high"]].tolist() == pytest.approx([lo, hi])
    matrix = retention_matrix(table)
    assert matrix.index.tolist() == ["2024-01", "2024-02", "2024-03"]
    assert matrix.columns.tolist() == [0, 1, 2]
    assert matrix.loc["2024-02", 1] == 0.0 and math.isnan(matrix.loc["2024-02", 2])
    assert np.isnan(matrix.loc["2024-03"].to_numpy()[1:]).all()


def test_cohorts_follow_the_clients_calendar(orders):
    # in Madrid b's first order (2024-01-31 23:30 UTC) is on 1 February: b joins the February cohort
    got = active_months(orders, as_of="2024-04-15", timezone="Europe/Madrid")
    b = got[got["customer_id"] == "b"]
    assert b[["cohort", "months_since_first", "orders"]].values.tolist() == [["2024-02", 0, 2]]


def test_a_later_as_of_day_observes_more_months(orders):
    table = cohort_retention(orders, as_of="2024-05-31")
    # May has ended: c (cohort Feb) is active in month 3 (May 15), April is month 2 for cohort Feb
    feb = table[table["cohort"] == "2024-02"]
    assert feb[["months_since_first", "active"]].values.tolist() == [[0, 1], [1, 0], [2, 0], [3, 1]]


def test_recent_cohorts_cut_for_the_record(orders):
    table = cohort_retention(orders, as_of="2024-04-15")
    cut = recent_cohorts(table, cohorts=2, months=1)
    assert cut[["cohort", "months_since_first"]].values.tolist() == [["2024-02", 0], ["2024-03", 0]]


def test_retention_by_month_pools_the_cohorts_observed_that_long(orders):
    pooled = retention_by_month(cohort_retention(orders, as_of="2024-04-15"))
    # month 0: cohorts Jan (2 of 2), Feb (1 of 1), Mar (1 of 1); month 1: Jan (1 of 2), Feb (0 of 1);
    # month 2: Jan only (1 of 2)
    assert pooled[["months_since_first", "cohorts", "customers", "active"]].values.tolist() == [
        [0, 3, 4, 4], [1, 2, 3, 1], [2, 1, 2, 1]]
    assert pooled["retention"].tolist() == pytest.approx([1.0, 1 / 3, 0.5])
    assert pooled.loc[1, ["retention_ci_low", "retention_ci_high"]].tolist() == pytest.approx(wilson(1, 3))


# --- churn for a loss window -----------------------------------------------------------------------

def test_customer_status_and_churn_with_censoring(orders):
    status = customer_status(orders, loss_window_days=30, as_of="2024-04-15")
    # days to 2024-04-16 00:00 since the latest purchase: a 03-02 -> 45, b 02-01 12:00 -> 74.5,
    # c 02-10 -> 66, e 04-10 -> 6, f 04-01 -> 15; f's first purchase is 15 days old: new
    assert status["customer_id"].tolist() == ["a", "b", "c", "e", "f"]
    assert status["days_since_last"].tolist() == [45.0, 74.5, 66.0, 6.0, 15.0]
    assert status["status"].astype(str).tolist() == ["lost", "lost", "lost", "retained", "new"]
    assert status["purchases"].tolist() == [3, 2, 1, 2, 1]
    est = churn_rate(orders, loss_window_days=30, as_of="2024-04-15")
    assert (est.value, est.numerator, est.denominator, est.n) == (0.75, 3, 4, 4)
    assert (est.ci_low, est.ci_high) == pytest.approx(wilson(3, 4))


def test_a_longer_window_decides_fewer_customers(orders):
    status = customer_status(orders, loss_window_days=60, as_of="2024-04-15")
    # a: 45 days < 60: retained; b 74.5, c 66: lost; e's first purchase is 46 days old: new, f new
    assert status["status"].astype(str).tolist() == ["retained", "lost", "lost", "new", "new"]
    est = churn_rate(orders, loss_window_days=60, as_of="2024-04-15")
    assert (est.numerator, est.denominator) == (2, 3)


def test_churn_by_window_and_the_repeat_purchases_each_window_waits_for(orders):
    table = churn_by_window(orders, windows=[30, 60], as_of="2024-04-15")
    assert table[["loss_window_days", "new", "at_start", "lost"]].values.tolist() == [[30, 1, 4, 3], [60, 2, 3, 2]]
    # gaps between a customer's purchases: a 15 and 42 days, b 12.5 hours, e 40 days
    # within 30 days: 2 of 4; within 60: 4 of 4
    assert table["repeat_purchases"].tolist() == [4, 4]
    assert table["repeats_within"].tolist() == [0.5, 1.0]
    assert table.loc[0, ["repeats_within_ci_low", "repeats_within_ci_high"]].tolist() == pytest.approx(wilson(2, 4))
    assert table["churn_rate"].tolist() == [0.75, 2 / 3]


def test_churn_by_cohort_and_by_segment(orders):
    by_cohort = churn_table(orders, loss_window_days=30, as_of="2024-04-15", by="cohort")
    assert by_cohort[["cohort", "buyers", "new", "at_start", "lost"]].values.tolist() == [
        ["2024-01", 2, 0, 2, 2], ["2024-02", 1, 0, 1, 1], ["2024-03", 1, 0, 1, 0], ["2024-04", 1, 1, 0, 0]]
    assert by_cohort["churn_rate"].tolist()[:3] == [1.0, 1.0, 0.0]
    assert math.isnan(by_cohort["churn_rate"].iloc[3])  # nobody decided: missing, not 0
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "e"], "persona": ["beginner", "collector",
                                                                               "beginner", None]})
    by_persona = churn_table(orders, loss_window_days=30, as_of="2024-04-15", by="persona", customers=customers)
    # beginner: a, c lost; collector: b lost; (none): e retained, f new (no customers row)
    assert by_persona[["persona", "at_start", "lost", "new"]].values.tolist() == [
        ["(none)", 1, 0, 1], ["beginner", 2, 2, 0], ["collector", 1, 1, 0]]
    with pytest.raises(ValueError, match="needs the customers table"):
        churn_table(orders, by="persona")


# --- time to loss and Kaplan-Meier --------------------------------------------------------------

def test_time_to_loss_counts_the_first_pass_of_the_window(orders):
    got = time_to_loss(orders, loss_window_days=30, as_of="2024-04-15")
    # a: gaps 15, 42 -> lost 30 days after 01-20: 15 + 30 = 45
    # b: gaps 0.52, then 74 to the end -> lost 30 days after 02-01 12:00: 0.52 + 30
    # c: one purchase, 66 days to the end -> 30; e: gap 40 (then won back) -> 30
    # f: 15 days to the end, not lost: censored at 15
    assert got["customer_id"].tolist() == ["a", "b", "c", "e", "f"]
    assert got["days"].tolist() == pytest.approx([45.0, 30 + 12.5 / 24, 30.0, 30.0, 15.0])
    assert got["lost"].tolist() == [True, True, True, True, False]
    assert got["cohort"].tolist() == ["2024-01", "2024-01", "2024-02", "2024-03", "2024-04"]


def _loglog(s, se, z=Z95):
    """Log(-log) interval of a survival probability (Kalbfleisch and Prentice), written out."""
    w = z * se / (s * abs(math.log(s)))
    return s ** math.exp(w), s ** math.exp(-w)


def test_kaplan_meier_against_a_hand_product_limit(orders):
    curve = survival_curve(time_to_loss(orders, loss_window_days=30, as_of="2024-04-15"))
    # times 15 (censored), 30 (2 lost), 30.52 (1), 45 (1); 5 customers
    # at 30: 4 at risk, S = 1 - 2/4 = 0.5; at 30.52: 2 at risk, S = 0.5 x 1/2 = 0.25; at 45: 1 at risk, S = 0
    assert curve["days"].tolist() == pytest.approx([0.0, 30.0, 30 + 12.5 / 24, 45.0])
    assert curve["at_risk"].tolist() == [5, 4, 2, 1]
    assert curve["lost"].tolist() == [0, 2, 1, 1]
    assert curve["survival"].tolist() == pytest.approx([1.0, 0.5, 0.25, 0.0])
    # Greenwood at 30: S^2 x 2 / (4 x 2) = 0.0625 -> se 0.25; at 30.52: 0.0625 x (2/8 + 1/2) -> se 0.2165
    assert curve.loc[1, ["survival_ci_low", "survival_ci_high"]].tolist() == pytest.approx(_loglog(0.5, 0.25))
    se = math.sqrt(0.25 ** 2 * (2 / 8 + 1 / 2))
    assert curve.loc[2, ["survival_ci_low", "survival_ci_high"]].tolist() == pytest.approx(_loglog(0.25, se))
    est = survival_at(curve, 30.2)
    assert (est.value, est.n) == (0.5, 5) and est.ci_low == pytest.approx(_loglog(0.5, 0.25)[0])
    assert survival_summary(curve, days=[20, 30, 40])["survival"].tolist() == [1.0, 0.5, 0.25]
    # nobody was followed beyond day 45: the curve says nothing about day 46
    assert curve.attrs["longest_follow_up"] == 45.0
    assert survival_at(curve, 45).value == 0.0 and survival_at(curve, 46).value is None


def test_kaplan_meier_reproduces_the_published_6mp_example():
    """Freireich et al. (1963), 6-MP arm, as tabulated by Kalbfleisch and Prentice and by R's
    ``survfit(..., conf.type = "log-log")``: survival, Greenwood SE and the log-log interval."""
    weeks = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    lost = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    curve = survival_curve(pd.DataFrame({"days": weeks, "lost": np.array(lost, dtype=bool)}))
    published = pd.DataFrame({
        "days": [6, 7, 10, 13, 16, 22, 23], "at_risk": [21, 17, 15, 12, 11, 7, 6],
        "survival": [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448],
        "low": [0.620, 0.563, 0.503, 0.432, 0.368, 0.268, 0.188],
        "high": [0.952, 0.923, 0.889, 0.849, 0.805, 0.747, 0.680]})
    body = curve.iloc[1:].reset_index(drop=True)
    assert body["days"].tolist() == published["days"].tolist()
    assert body["at_risk"].tolist() == published["at_risk"].tolist()
    assert body["survival"].round(3).tolist() == published["survival"].tolist()
    assert body["survival_ci_low"].to_numpy() == pytest.approx(published["low"].to_numpy(), abs=6e-4)
    assert body["survival_ci_high"].to_numpy() == pytest.approx(published["high"].to_numpy(), abs=6e-4)


def test_survival_by_group():
    durations = pd.DataFrame({"days": [10.0, 20.0, 5.0], "lost": [True, False, True], "g": ["x", "x", "y"]})
    curve = survival_curve(durations, by="g")
    assert curve[["g", "days", "survival"]].values.tolist() == [["x", 0.0, 1.0], ["x", 10.0, 0.5],
                                                                 ["y", 0.0, 1.0], ["y", 5.0, 0.0]]


# --- the unsubscribe hazard -----------------------------------------------------------------------

@pytest.fixture
def newsletter():
    """Loss window 30 days, as of 2024-06-30 (counted up to 2024-07-01 00:00).

    s1: opts in 01-01, buys 01-10 and 03-01 (returns one order on 03-20), unsubscribes 04-20
        -> 01-10..03-01: 51 days = 30 under + 21 over; 03-01..04-20: 50 = 30 + 20;
           the unsubscribe is 50 days after the latest purchase: over the window
    s2: buys 02-01, opts in 02-11, unsubscribes 02-21 -> at risk 10 days (days 10-20): 10 under;
        unsubscribe 20 days after the purchase: under the window
    s3: opts in 01-01, buys 06-15 -> 16 days under, still subscribed
    s4: opts in 01-01, unsubscribes 01-15, buys 02-01 -> gone before buying: no exposure, not counted
    n1: never opts in, buys 01-05, unsubscribes 03-01 -> not counted
    totals: under 30 + 30 + 10 + 16 = 86 days, 1 event; over 21 + 20 = 41 days, 1 event
    """
    ev = [("s1", "2024-01-01", "newsletter_optin"), ("s1", "2024-01-10", "first_purchase"),
          ("s1", "2024-03-01", "repeat_purchase"), ("s1", "2024-03-20", "return_requested"),
          ("s1", "2024-04-20", "unsubscribe"),
          ("s2", "2024-02-01", "first_purchase"), ("s2", "2024-02-11", "newsletter_optin"),
          ("s2", "2024-02-21", "unsubscribe"),
          ("s3", "2024-01-01", "newsletter_optin"), ("s3", "2024-06-15", "first_purchase"),
          ("s4", "2024-01-01", "newsletter_optin"), ("s4", "2024-01-15", "unsubscribe"),
          ("s4", "2024-02-01", "first_purchase"),
          ("n1", "2024-01-05", "first_purchase"), ("n1", "2024-03-01", "unsubscribe")]
    events = pd.DataFrame(ev, columns=["customer_id", "timestamp", "event"])
    events["timestamp"] = pd.to_datetime(events["timestamp"], utc=True)
    events["channel"] = "email"
    buys = events[events["event"].str.endswith("purchase")]
    orders = pd.DataFrame({"customer_id": buys["customer_id"].tolist() + ["s1"],
                           "order_id": [f"O{i}" for i in range(len(buys))] + ["O1-R"],
                           "ordered_at": buys["timestamp"].tolist() + [pd.Timestamp("2024-03-20", tz="UTC")],
                           "amount": [10.0] * len(buys) + [-10.0]})
    return events, orders


def test_subscriber_exposure_by_hand(newsletter):
    events, orders = newsletter
    got = subscriber_exposure(events, orders=orders, loss_window_days=30, as_of="2024-06-30")
    expected = pd.DataFrame({"customer_id": ["s1", "s2", "s3", "s4"],
                             "exposure_before_days": [60.0, 10.0, 16.0, 0.0],
                             "exposure_after_days": [41.0, 0.0, 0.0, 0.0],
                             "events_before": [0, 1, 0, 0], "events_after": [1, 0, 0, 0]})
    assert_frame_equal(got, expected, check_dtype=False)
    assert got.attrs["not_counted"] == 2  # s4 (before buying) and n1 (never opted in)
    # the purchases read from the events instead of the orders: the same
    from_events = subscriber_exposure(events, loss_window_days=30, as_of="2024-06-30")
    assert_frame_equal(from_events, expected, check_dtype=False)


def test_piecewise_hazard_by_hand(newsletter):
    events, orders = newsletter
    table = unsubscribe_hazard(events, orders=orders, loss_window_days=30, as_of="2024-06-30")
    assert table["period"].tolist() == ["before the loss window", "after the loss window"]
    assert table["days_since_purchase"].tolist() == ["0-29", "30+"]
    assert table["events"].tolist() == [1, 1]
    assert table["customers"].tolist() == [3, 1]
    assert table["exposure_months"].tolist() == pytest.approx([86 / 30, 41 / 30])
    # monthly hazard = 1 - exp(-30 x events / exposure days); exact Poisson bounds for 1 event: 0.0253, 5.5716
    assert table["hazard"].tolist() == pytest.approx([1 - math.exp(-30 / 86), 1 - math.exp(-30 / 41)])
    assert table["hazard_ci_low"].tolist() == pytest.approx(
        [1 - math.exp(-0.025318 * 30 / 86), 1 - math.exp(-0.025318 * 30 / 41)], rel=1e-4)
    assert table["hazard_ci_high"].tolist() == pytest.approx(
        [1 - math.exp(-5.571643 * 30 / 86), 1 - math.exp(-5.571643 * 30 / 41)], rel=1e-5)
    est = estimates_in(table, "hazard", n="customers", numerator="events", denominator="exposure_months")
    assert est[1].method == "exact poisson" and est[1].unit == "share" and est[1].n == 1


def test_poisson_interval_matches_garwoods_table():
    # Garwood (1936); e.g. Ulm (1990), Am J Epidemiol 131:373: 95% limits for 0, 1, 2, 10 events
    low, high = poisson_rate_ci([0, 1, 2, 10], [1, 1, 1, 1])
    assert low.tolist() == pytest.approx([0.0, 0.0253, 0.2422, 4.7954], abs=1e-4)
    assert high.tolist() == pytest.approx([3.6889, 5.5716, 7.2247, 18.3904], abs=1e-4)
    assert np.isnan(poisson_rate_ci([3], [0])[0][0])


def test_no_exposure_gives_no_hazard():
    x = pd.DataFrame({"customer_id": ["a"], "exposure_before_days": [30.0], "exposure_after_days": [0.0],
                      "events_before": [0], "events_after": [0]})
    table = piecewise_hazard(x)
    assert table["hazard"].iloc[0] == 0.0 and math.isnan(table["hazard"].iloc[1])


@pytest.fixture(scope="module")
def demo():
    from cjkit.contract.load import load_client

    return load_client(REPO / "datasets" / "demo" / "client.yaml")


def test_demo_recovers_the_planted_unsubscribe_hazards(demo):
    truth = json.loads((REPO / "datasets" / "demo" / "ground_truth.json").read_text())["churn"]
    table = unsubscribe_hazard(demo.events, orders=demo.orders, loss_window_days=truth["loss_window_days"],
                               timezone=demo.config.timezone, month_days=truth["month_days"])
    # the same events the generator counted on each side of the window
    assert table["events"].tolist() == [truth["unsubscribes_before_loss_window"],
                                        truth["unsubscribes_after_loss_window"]]
    for row, planted in zip(table.itertuples(), [truth["hazard_before_loss_window"],
                                                  truth["hazard_after_loss_window"]]):
        assert row.hazard_ci_low < planted < row.hazard_ci_high, (row.period, row.hazard, planted)
    assert table["hazard"].tolist() == pytest.approx([truth["observed_hazard_before_loss_window"],
                                                      truth["observed_hazard_after_loss_window"]], abs=2e-4)


# --- contract ------------------------------------------------------------------------------------

def test_inputs_are_not_modified(orders, newsletter):
    events, news_orders = newsletter
    before = orders.copy(), events.copy(), news_orders.copy()
    cohort_retention(orders, timezone="Europe/Madrid")
    churn_table(orders, by="cohort")
    survival_curve(time_to_loss(orders))
    unsubscribe_hazard(events, orders=news_orders)
    assert_frame_equal(orders, before[0])
    assert_frame_equal(events, before[1])
    assert_frame_equal(news_orders, before[2])


def test_errors_name_the_table_the_column_and_what_to_do(orders):
    with pytest.raises(KeyError, match=r"orders table has no column 'ordered_at'.*client file"):
        cohort_retention(orders.drop(columns="ordered_at"))
    with pytest.raises(TypeError, match=r"orders table, column 'ordered_at'.*to_datetime"):
        churn_rate(orders.assign(ordered_at=orders["ordered_at"].astype(str)))
    with pytest.raises(ValueError, match="loss_window_days must be a positive"):
        churn_rate(orders, loss_window_days=0)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        churn_rate(orders, as_of="last tuesday")
    with pytest.raises(ValueError, match="'days': 1 rows are negative"):
        survival_curve(pd.DataFrame({"days": [-1.0], "lost": [True]}))


# --- figures, checked by what was drawn -----------------------------------------------------------

def _outside(ax) -> list[str]:
    """Texts of ``ax`` whose drawn box leaves the axes box (1 pixel of slack)."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    return [t.get_text() for t in ax.texts if (e := t.get_window_extent(renderer)).x0 < box.x0 - 1
            or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1]


def test_cohort_heatmap_cells_and_labels(orders):
    plots.set_theme()
    table = cohort_retention(orders, as_of="2024-04-15")
    ax = plots.cohort_heatmap(table, title="Retention")
    grid = ax.collections[0].get_array().reshape(3, 3)
    assert grid.filled(-1).tolist() == [[1.0, 0.5, 0.5], [1.0, 0.0, -1], [1.0, -1, -1]]  # -1: blank
    assert [t.get_text() for t in ax.texts] == ["100%", "50%", "50%", "100%", "0%", "100%"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2024-01", "2024-02", "2024-03"]
    assert ax.get_xlabel() == "months since the first purchase"
    assert ax.get_title(loc="left") == "Retention"
    assert _outside(ax) == []


@pytest.mark.parametrize("window", [30, 1000])
def test_survival_plot_draws_the_curve_its_band_and_the_window(orders, window):
    curve = survival_curve(time_to_loss(orders, loss_window_days=30, as_of="2024-04-15"))
    ax = plots.survival_plot(curve, loss_window_days=window, title="Time to loss")
    line = ax.lines[0]
    assert line.get_xdata().tolist() == pytest.approx(curve["days"].tolist())
    assert line.get_ydata().tolist() == pytest.approx(curve["survival"].tolist())
    assert line.get_drawstyle() == "steps-post"
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == pytest.approx(curve["survival_ci_low"].min())
    assert band[:, 1].max() == pytest.approx(curve["survival_ci_high"].max())
    assert ax.lines[1].get_xdata()[0] == window  # the dashed loss-window line
    assert [t.get_text() for t in ax.texts] == [f"loss window: {window} days"]
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0%", "20%", "40%", "60%", "80%", "100%"]
    assert _outside(ax) == []


def test_survival_plot_one_line_per_group():
    durations = pd.DataFrame({"days": [10.0, 20.0, 5.0], "lost": [True, False, True], "g": ["x", "x", "y"]})
    ax = plots.survival_plot(survival_curve(durations, by="g"), by="g")
    assert [line.get_label() for line in ax.lines] == ["x", "y"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y"]
