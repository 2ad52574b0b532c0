"""The KPI library (cjkit.kpis, catalog/kpis.yaml): every KPI on a hand-built shop, worked out by hand.

The shop below has four customers, 32 events in 15 sessions, five orders and a return, five
survey answers and five spend rows, all in UTC. Each test writes the expected numbers out
from these rows (the comments say which rows count); Wilson bounds come from the closed
form in conftest (``wilson``) and delta-method bounds from the formula written out in
``delta`` below, never from the code under test.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cjkit import catalog, kpis
from cjkit.kpis import computations, definitions
from cjkit.estimate import Estimate
from conftest import REPO, Z95, wilson

# --- the hand-built shop -------------------------------------------------------------------

CUSTOMERS = [  # customer_id, signup_at, persona, source_channel
    ("c1", "2024-01-03 09:00", "beginner", "search"),
    ("c2", "2024-01-10 11:02", "collector", "email"),
    ("c3", "2024-02-05 16:00", "beginner", "referral"),
    ("c4", "2024-02-20 13:00", None, "referral"),
]
EVENTS = [  # customer_id, timestamp, channel, event, session_id
    ("c1", "2024-01-01 10:00", "search", "ad_click", "s1"),
    ("c1", "2024-01-01 10:01", "search", "page_view", "s1"),
    ("c1", "2024-01-03 09:00", "search", "signup", "s2"),
    ("c1", "2024-01-03 09:01", "search", "newsletter_optin", "s2"),
    ("c1", "2024-01-04 12:00", "search", "add_to_cart", "s3"),        # abandoned
    ("c1", "2024-01-05 12:00", "search", "add_to_cart", "s4"),
    ("c1", "2024-01-05 12:05", "search", "first_purchase", "s4"),
    ("c1", "2024-01-06 09:00", "direct", "profile_completed", "s15"),
    ("c1", "2024-02-01 08:00", "email", "email_open", None),
    ("c1", "2024-02-10 18:00", "email", "email_click", "s5"),
    ("c1", "2024-02-10 18:05", "email", "repeat_purchase", "s5"),
    ("c1", "2024-02-15 20:00", "social", "social_share", None),
    ("c1", "2024-03-02 07:00", "email", "unsubscribe", None),
    ("c2", "2024-01-10 11:00", "email", "page_view", "s6"),
    ("c2", "2024-01-10 11:02", "email", "signup", "s6"),
    ("c2", "2024-01-10 11:03", "email", "newsletter_optin", "s6"),
    ("c2", "2024-01-20 15:00", "email", "add_to_cart", "s7"),
    ("c2", "2024-01-20 15:05", "email", "first_purchase", "s7"),
    ("c2", "2024-01-22 10:00", "direct", "support_contact", "s8"),
    ("c2", "2024-02-03 08:00", "email", "email_open", None),
    ("c2", "2024-03-04 08:00", "email", "email_open", None),
    ("c3", "2024-02-05 16:00", "referral", "signup", "s9"),
    ("c3", "2024-02-28 21:00", "search", "add_to_cart", "s10"),      # abandoned
    ("c3", "2024-03-01 21:00", "search", "add_to_cart", "s11"),
    ("c3", "2024-03-01 21:05", "search", "first_purchase", "s11"),
    ("c3", "2024-03-05 09:00", "referral", "referral_sent", None),
    ("c3", "2024-03-06 09:00", "direct", "review_posted", "s12"),
    ("c4", "2024-02-20 13:00", "referral", "signup", "s13"),
    ("c4", "2024-02-20 13:01", "referral", "newsletter_optin", "s13"),
    ("c4", "2024-02-22 10:00", "direct", "page_view", "s14"),
    ("c4", "2024-02-22 10:01", "direct", "product_view", "s14"),
    ("c4", "2024-02-22 10:03", "direct", "add_to_cart", "s14"),       # abandoned
]
STAGE = {"ad_click": "awareness", "page_view": "awareness", "signup": "acquisition", "newsletter_optin": "acquisition",
         "first_purchase": "onboarding", "profile_completed": "onboarding", "email_open": "engagement",
         "email_click": "engagement", "add_to_cart": "engagement", "product_view": "engagement",
         "repeat_purchase": "engagement", "support_contact": "retention", "unsubscribe": "retention",
         "review_posted": "advocacy", "referral_sent": "advocacy", "social_share": "advocacy"}
ORDERS = [  # customer_id, order_id, ordered_at, amount, category, is_return
    ("c1", "o1", "2024-01-05 12:05", 100.0, "guitars", False),
    ("c2", "o2", "2024-01-20 15:05", 30.0, "amps", False),
    ("c2", "o2-R", "2024-01-25 10:00", -30.0, "amps", True),
    ("c1", "o3", "2024-02-10 18:05", 50.0, "strings", False),
    ("c3", "o4", "2024-03-01 21:05", 80.0, "guitars", False),
    ("c1", "o5", "2024-06-15 11:00", 70.0, "guitars", False),
]
SURVEYS = [  # customer_id, answered_at, nps, ces, csat, stage
    ("c1", "2024-01-08 10:00", 9, 7, 5, "onboarding"),
    ("c2", "2024-01-27 10:00", 6, 4, 3, "onboarding"),
    ("c1", "2024-02-14 10:00", 10, 6, 4, "engagement"),
    ("c3", "2024-03-05 10:00", 3, None, 2, "onboarding"),
    ("c2", "2024-02-20 10:00", None, 5, 5, "engagement"),
]
SPEND = [  # date, channel, spend, impressions, clicks
    ("2024-01-05", "search", 30.0, 1000, 40),
    ("2024-01-05", "tv", 100.0, 5000, None),
    ("2024-01-20", "search", 20.0, 500, 10),
    ("2024-01-20", "email", 5.0, None, 3),
    ("2024-03-01", "referral", 10.0, None, None),
]


def _utc(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values), utc=True).astype("datetime64[ns, UTC]")


def shop() -> dict[str, pd.DataFrame]:
    """The five canonical tables of the hand-built shop (fresh copies)."""
    c = pd.DataFrame(CUSTOMERS, columns=["customer_id", "signup_at", "persona", "source_channel"])
    e = pd.DataFrame(EVENTS, columns=["customer_id", "timestamp", "channel", "event", "session_id"])
    e["stage"] = e["event"].map(STAGE)
    o = pd.DataFrame(ORDERS, columns=["customer_id", "order_id", "ordered_at", "amount", "category", "is_return"])
    s = pd.DataFrame(SURVEYS, columns=["customer_id", "answered_at", "nps", "ces", "csat", "stage"])
    p = pd.DataFrame(SPEND, columns=["date", "channel", "spend", "impressions", "clicks"])
    c["signup_at"], e["timestamp"] = _utc(c["signup_at"]), _utc(e["timestamp"])
    o["ordered_at"], s["answered_at"], p["date"] = _utc(o["ordered_at"]), _utc(s["answered_at"]), _utc(p["date"])
    o["is_return"] = o["is_return"].astype("boolean")
    for col in ("nps", "ces", "csat"):
        s[col] = s[col].astype("Int64")
    for col in ("impressions", "clicks"):
        p[col] = p[col].astype("Int64")
    return {"customers": c, "events": e, "orders": o, "surveys": s, "spend": p}


def delta(y: list[float], x: list[float]) -> tuple[float, float, float]:
    """Ratio of sums and its 95% delta-method interval, written out (Cochran 1977, 6.4)."""
    n, r = len(y), sum(y) / sum(x)
    residual = sum((a - r * b) ** 2 for a, b in zip(y, x))
    se = math.sqrt(n / (n - 1) * residual) / abs(sum(x))
    return r, r - Z95 * se, r + Z95 * se


def one(kpi_id: str, tables: dict | None = None, **options) -> Estimate:
    return kpis.kpi(tables if tables is not None else shop(), kpi_id, timezone="UTC", **options)


def check_share(est: Estimate, k: int, n: int) -> None:
    assert (est.value, est.numerator, est.denominator, est.n, est.method, est.unit) == \
        (pytest.approx(k / n), k, n, n, "wilson", "share")
    assert (est.ci_low, est.ci_high) == pytest.approx(wilson(k, n), abs=1e-12)


def check_ratio(est: Estimate, y: list[float], x: list[float], method: str = "delta") -> None:
    value, low, high = delta(y, x)
    assert (est.value, est.numerator, est.denominator, est.n, est.method) == \
        (pytest.approx(value), pytest.approx(sum(y)), pytest.approx(sum(x)), len(y), method)
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high), abs=1e-9)


def check_total(est: Estimate, value: float, n: int) -> None:
    assert (est.value, est.n, est.ci_low, est.ci_high, est.method) == (value, n, None, None, "")


# --- the estimate constructors -------------------------------------------------------------

def test_ratio_and_mean_by_hand():
    # three customers: revenue 30, 10, 20 over 2, 1, 1 orders -> 60 / 4 = 15;
    # residuals 30 - 30, 10 - 15, 20 - 15 -> sum of squares 50; se = sqrt(3/2 * 50) / 4
    est = Estimate.ratio([30.0, 10.0, 20.0], [2, 1, 1], unit="EUR")
    se = math.sqrt(1.5 * 50) / 4
    assert (est.value, est.numerator, est.denominator, est.n, est.method, est.unit) == (15.0, 60.0, 4.0, 3, "delta",
                                                                                          "EUR")
    assert (est.ci_low, est.ci_high) == pytest.approx((15 - Z95 * se, 15 + Z95 * se))
    mean = Estimate.mean([5, 7, 6, None])  # s = 1, se = 1 / sqrt(3)
    assert (mean.value, mean.n, mean.method) == (6.0, 3, "normal")
    assert (mean.ci_low, mean.ci_high) == pytest.approx((6 - Z95 / math.sqrt(3), 6 + Z95 / math.sqrt(3)))
    assert Estimate.ratio([1.0], [2.0]).ci_low is None  # one unit: no interval
    assert Estimate.ratio([1.0, 2.0], [0.0, 0.0]).value is None
    with pytest.raises(ValueError, match="one numerator and one denominator per unit"):
        Estimate.ratio([1.0, 2.0], [1.0])


def test_ratio_interval_agrees_with_a_bootstrap():
    rng = np.random.default_rng(20240501)
    orders = rng.poisson(2.0, 400) + 1
    revenue = orders * rng.gamma(2.0, 60.0, 400)
    est = Estimate.ratio(revenue, orders)
    draws = rng.integers(0, 400, size=(4000, 400))
    boot = revenue[draws].sum(axis=1) / orders[draws].sum(axis=1)
    se_delta = (est.ci_high - est.ci_low) / (2 * Z95)
    assert se_delta == pytest.approx(boot.std(ddof=1), rel=0.08)
    low, high = np.quantile(boot, [0.025, 0.975])
    assert (est.ci_low, est.ci_high) == pytest.approx((low, high), rel=0.02)


# --- every KPI by hand ----------------------------------------------------------------------

def test_spend_kpis():
    check_total(one("impressions"), 6500.0, 2)  # 1000 + 5000 + 500, on 2 days with a count
    check_total(one("clicks"), 53.0, 2)         # 40 + 10 + 3
    check_share(one("ctr"), 50, 1500)           # only rows with both counts: 40/1000 and 10/500
    # cost per click, days as units: 01-05 spend 30 (the tv row has no clicks) for 40 clicks, 01-20 20 + 5 for 13
    est = one("cost_per_click")
    check_ratio(est, [30.0, 25.0], [40.0, 13.0])
    assert est.unit == "currency per click" and one("cost_per_click", currency="EUR").unit == "EUR per click"


def test_spend_against_leads_and_new_customers():
    # all spend by day (01-05: 130, 01-20: 25, 03-01: 10) against the sign-ups (01-03, 01-10, 02-05, 02-20):
    # seven days, 165 / 4
    check_ratio(one("cost_per_lead"), [130.0, 25.0, 10.0, 0, 0, 0, 0], [0, 0, 0, 1.0, 1.0, 1.0, 1.0])
    # ... and against first orders, which fall on the spend days: 165 / 3 = 55
    check_ratio(one("cac"), [130.0, 25.0, 10.0], [1.0, 1.0, 1.0])


def test_session_kpis():
    check_total(one("traffic"), 15.0, 15)                 # s1 ... s15
    check_total(one("leads"), 4.0, 4)                     # four sign-ups
    check_share(one("leads_per_traffic"), 4, 15)          # s2, s6, s9, s13
    check_share(one("conversion_rate"), 4, 15)            # s4, s5, s7, s11 hold a purchase
    check_share(one("cart_abandonment"), 3, 6)            # carts in s3 s4 s7 s10 s11 s14; no purchase in s3 s10 s14
    check_share(one("contact_center_lead_rate"), 0, 1)    # s8: a support contact, no sign-up


def test_event_counts():
    check_total(one("email_first_purchases"), 1.0, 1)     # c2's first purchase came by email
    check_total(one("email_purchases"), 2.0, 2)           # ... and c1's repeat purchase
    check_total(one("referral_leads"), 2.0, 2)            # c3 and c4 signed up from a referral
    check_total(one("referrals_sent"), 1.0, 1)
    check_total(one("reviews"), 1.0, 1)
    check_total(one("opt_outs"), 1.0, 1)
    check_total(one("engaged_customers"), 2.0, 2)         # c1 (opened, clicked) and c2 (opened twice): distinct
    # shares / views over customers: c1 1 share / 1 view, c2 0 / 1, c4 0 / 2 -> 1 / 4
    check_ratio(one("shares_per_view"), [1.0, 0.0, 0.0], [1.0, 1.0, 2.0])


def test_mailing_list_kpis():
    # subscribers at each month's start: Jan none; Feb c1, c2; Mar c1 (leaves 03-02), c2, c4 -> 5 subscriber-months
    check_share(one("email_open_rate"), 3, 5)   # Feb: c1 (02-01) and c2 (02-03) opened; Mar: c2 (03-04)
    check_share(one("email_click_rate"), 1, 5)  # Feb: c1 clicked (02-10)
    # list growth, months as units: Jan +2 on 0, Feb +1 on 2, Mar -1 (c1 left) on 3 -> 2 / 5
    check_ratio(one("list_growth_rate"), [2.0, 1.0, -1.0], [0.0, 2.0, 3.0])


def test_customer_and_order_kpis():
    check_share(one("segmented_share"), 3, 4)          # c4 has no persona
    check_share(one("first_purchase_rate"), 3, 4)      # c1, c2, c3 ordered
    check_total(one("new_customers"), 3.0, 3)
    check_share(one("buyer_optin_share"), 2, 3)        # c1 and c2 opted in; c3 did not
    check_share(one("profile_completion_rate"), 1, 3)  # c1 completed the profile
    check_share(one("repeat_purchase_rate"), 1, 3)     # c1 ordered three times
    check_share(one("repeat_order_share"), 2, 5)       # o3 and o5 follow c1's first order; the return is no order
    check_share(one("returning_customer_share"), 2, 5)  # buying months c1 Jan/Feb/Jun, c2 Jan, c3 Mar; returning: Feb, Jun
    check_share(one("cross_category_share"), 1, 3)     # c1 bought guitars and strings
    # average ticket, customers as units: c1 220 over 3 orders, c2 30 over 1, c3 80 over 1 -> 66
    check_ratio(one("average_ticket"), [220.0, 30.0, 80.0], [3.0, 1.0, 1.0])
    # ARPU over customer-months from sign-up to June (the orders' last month): c1 6, c2 6, c3 5, c4 5;
    # net revenue c1 220, c2 30 - 30 (returned), c3 80, c4 0 -> 300 / 22
    check_ratio(one("arpu"), [220.0, 0.0, 80.0, 0.0], [6.0, 6.0, 5.0, 5.0])


def test_churn_retention_and_cltv_for_a_90_day_loss_window():
    # active at a month's start = an order in the 90 days before it; lapsed = no order in the 90 days before
    # the month's end. c1 (orders 01-05, 02-10, 06-15): active Feb, Mar, Apr, May; lapses in May (02-10 is before
    # 03-03 = 1 June - 90 days). c2 (01-20): active Feb, Mar, Apr; lapses in Apr (01-20 < 02-01 = 1 May - 90 days).
    # c3 (03-01): active Apr, May; lapses in May. 9 buyer-months, 3 lapses.
    check_share(one("churn_rate"), 3, 9)
    check_share(one("retention_rate"), 6, 9)
    # revenue of the active buyer-months: c1 50 in Feb over 4 months, c2 0 over 3, c3 0 over 2 -> 50 / 9
    active = one("arpu_active")
    check_ratio(active, [50.0, 0.0, 0.0], [4.0, 3.0, 2.0])
    cltv = one("cltv", margin=0.3)
    value = active.value * 0.3 / (1 / 3)  # 5.0
    se = value * math.sqrt(((active.ci_high - active.ci_low) / (2 * Z95) / active.value) ** 2
                           + (math.sqrt(1 / 3 * 2 / 3 / 9) / (1 / 3)) ** 2)
    assert (cltv.value, cltv.method, cltv.numerator, cltv.denominator) == \
        (pytest.approx(5.0), "delta", pytest.approx(50 / 9 * 0.3), pytest.approx(1 / 3))
    assert (cltv.ci_low, cltv.ci_high) == pytest.approx((value - Z95 * se, value + Z95 * se))
    # a 30-day window: Feb c1 (01-05, 27 days before) and c2 (01-20) are active, c2 lapses (no order after
    # 01-31 = 1 March - 30 days); Mar c1 (02-10) is active and lapses (02-10 < 03-02 = 1 April - 30 days);
    # c3's order (03-01 21:05) is just over 30 days before 1 April -> 3 buyer-months, 2 lapses
    check_share(one("churn_rate", loss_window_days=30), 2, 3)


def test_churn_counts_only_months_that_end_within_the_data():
    tables = shop()  # the data ends on 2024-04-19 (a last visit): April is not over
    tables["orders"] = tables["orders"][tables["orders"]["ordered_at"] < "2024-04-20"]
    visit = pd.DataFrame({"customer_id": ["c4"], "timestamp": _utc(["2024-04-19 10:00"]), "channel": ["direct"],
                          "event": ["page_view"], "session_id": ["s16"], "stage": ["awareness"]})
    tables["events"] = pd.concat([tables["events"], visit], ignore_index=True)
    # Feb c1 c2, Mar c1 c2, none lapsing -> 0 of 4; April, left out, would add c1, c2 and c3 while orders
    # placed from 20 April on are missing from the data
    check_share(one("churn_rate", tables), 0, 4)


def test_survey_kpis():
    check_ratio(one("ces_mean"), [7.0, 4.0, 6.0, 5.0], [1.0] * 4, method="normal")   # c3 left CES empty
    check_ratio(one("csat_mean"), [5.0, 3.0, 4.0, 2.0, 5.0], [1.0] * 5, method="normal")
    check_share(one("csat_top2_share"), 3, 5)                                     # 5, 4, 5
    check_total(one("detractors"), 2.0, 2)                                        # NPS 6 and 3


def test_every_computable_kpi_has_a_hand_worked_test_here():
    text = Path(__file__).read_text()
    tested = set(re.findall(r'one\("([a-z_0-9]+)"', text))
    assert tested == set(catalog.kpis().query("computable")["kpi_id"])


# --- by period and by segment -------------------------------------------------------------------

def _rows(table: pd.DataFrame, key: str) -> dict:
    return {r[key]: (r["numerator"], r["denominator"]) for _, r in table.iterrows()}


def test_by_period():
    t = kpis.kpi_table(shop(), ["repeat_purchase_rate", "churn_rate", "list_growth_rate", "engaged_customers",
                                "new_customers"], by="period", timezone="UTC")
    # repeat purchase by month of the first order: Jan c1 (yes), c2 (no); Mar c3 (no)
    assert _rows(t[t.kpi == "repeat_purchase_rate"], "period") == {"2024-01": (1, 2), "2024-03": (0, 1)}
    # churn month by month (see the overall test): Feb 0/2, Mar 0/2, Apr 1/3 (c2), May 2/2 (c1, c3)
    churn = t[t.kpi == "churn_rate"].set_index("period")
    assert _rows(churn.reset_index(), "period") == {"2024-02": (0, 2), "2024-03": (0, 2), "2024-04": (1, 3),
                                                   "2024-05": (2, 2)}
    assert (churn.loc["2024-04", "ci_low"], churn.loc["2024-04", "ci_high"]) == pytest.approx(wilson(1, 3))
    growth = t[t.kpi == "list_growth_rate"].set_index("period")
    assert growth["value"].tolist()[1:] == pytest.approx([0.5, -1 / 3]) and np.isnan(growth["value"].iloc[0])
    assert growth["ci_low"].isna().all()  # one month is one unit: no interval
    # distinct customers who opened or clicked: Feb c1 and c2, Mar c2
    assert t[t.kpi == "engaged_customers"].set_index("period")["value"].to_dict() == {"2024-02": 2.0, "2024-03": 1.0}
    assert t[t.kpi == "new_customers"].set_index("period")["value"].to_dict() == {"2024-01": 2.0, "2024-03": 1.0}
    assert t.columns.tolist() == ["period", "kpi", "name", "value", "ci_low", "ci_high", "n", "numerator",
                                  "denominator", "unit", "method"]


def test_by_segment():
    tables = shop()
    persona = kpis.kpi_table(tables, "first_purchase_rate", by="persona", timezone="UTC")
    assert _rows(persona, "persona") == {"(none)": (0, 1), "beginner": (2, 2), "collector": (1, 1)}  # c4: no persona
    # carts by the customer's first channel: c1 search 1 of 2 abandoned, c2 email 0 of 1, c3 + c4 referral 2 of 3
    first = kpis.kpi_table(tables, "cart_abandonment", by="first_channel", timezone="UTC")
    assert _rows(first, "first_channel") == {"email": (0, 1), "referral": (2, 3), "search": (1, 2)}
    ref = first.set_index("first_channel").loc["referral"]
    assert (ref["ci_low"], ref["ci_high"]) == pytest.approx(wilson(2, 3))
    # ... and by the session's own channel: s3 s4 s10 s11 search (2 of 4), s7 email, s14 direct
    own = kpis.kpi_table(tables, "cart_abandonment", by="channel", timezone="UTC")
    assert _rows(own, "channel") == {"direct": (1, 1), "email": (0, 1), "search": (2, 4)}
    # average ticket by cohort (month of the first order): Jan c1 220/3 and c2 30/1, Mar c3 80/1
    cohort = kpis.kpi_table(tables, "average_ticket", by="cohort", timezone="UTC").set_index("cohort")
    value, low, high = delta([220.0, 30.0], [3.0, 1.0])
    assert cohort.loc["2024-01", ["value", "ci_low", "ci_high"]].tolist() == pytest.approx([value, low, high])
    assert cohort.loc["2024-03", "value"] == 80.0 and np.isnan(cohort.loc["2024-03", "ci_low"])
    stage = kpis.kpi_table(tables, "ces_mean", by="stage", timezone="UTC").set_index("stage")
    assert stage["value"].to_dict() == {"engagement": 5.5, "onboarding": 5.5}  # (6 + 5) / 2, (7 + 4) / 2
    # CAC by channel: spend by its own channel, new customers by their first channel (c1 search, c2 email, c3 referral)
    cac = kpis.kpi_table(tables, "cac", by="channel", timezone="UTC").set_index("channel")
    assert cac["value"].to_dict() == pytest.approx({"email": 5.0, "referral": 10.0, "search": 50.0, "tv": np.nan},
                                                   nan_ok=True)
    both = kpis.kpi_table(tables, "new_customers", by=["period", "persona"], timezone="UTC")
    assert both[["period", "persona", "value"]].values.tolist() == [["2024-01", "beginner", 1.0],
                                                                  ["2024-01", "collector", 1.0],
                                                                  ["2024-03", "beginner", 1.0]]


def test_months_follow_the_time_zone():
    orders = pd.DataFrame({"customer_id": ["a", "b"], "order_id": ["o1", "o2"], "amount": [10.0, 20.0],
                           "ordered_at": _utc(["2024-01-31 23:30", "2024-01-15 12:00"])})
    utc = kpis.kpi_table({"orders": orders}, "new_customers", by="period", timezone="UTC")
    madrid = kpis.kpi_table({"orders": orders}, "new_customers", by="period", timezone="Europe/Madrid")
    assert utc["value"].tolist() == [2.0] and madrid["value"].tolist() == [1.0, 1.0]  # 00:30 on 1 February in Madrid
    assert madrid["period"].tolist() == ["2024-01", "2024-02"]


def test_split_errors_and_skips_name_the_reason():
    tables = shop()
    with pytest.raises(ValueError, match="KPI cac cannot be split by persona: cac counts spend rows, which carry no persona"):
        kpis.kpi_table(tables, "cac", by="persona")
    skipped = kpis.kpi_table(tables, ["cac", "first_purchase_rate"], by="persona", missing="skip")
    assert set(skipped["kpi"]) == {"first_purchase_rate"}
    assert "cac (cannot be split by persona" in skipped.attrs["caption"]
    with pytest.raises(ValueError, match="cannot split cac by persona: cac counts spend rows"):
        kpis.kpi_sums(tables, "cac", by="persona")  # the reduction says the same
    with pytest.raises(ValueError, match="cannot split KPIs by 'weekday'; choose among period, channel"):
        kpis.kpi_table(tables, "cac", by="weekday")
    with pytest.raises(ValueError, match="persona needs the customers table with a persona column"):
        kpis.kpi_table({"orders": tables["orders"]}, "average_ticket", by="persona")


# --- client event names, errors ----------------------------------------------------------------------

def test_a_client_with_its_own_event_names():
    tables = shop()
    tables["events"]["event"] = tables["events"]["event"].replace({"add_to_cart": "basket_add"})
    with pytest.raises(ValueError, match=r"cart_abandonment needs events with event add_to_cart \(event role "
                                         r"add_to_cart\) \(pass event_names=\{'add_to_cart': \[...\]\}"):
        one("cart_abandonment", tables)
    check_share(one("cart_abandonment", tables, event_names={"add_to_cart": ["basket_add"]}), 3, 6)
    gone = kpis.kpis_unavailable(tables).set_index("kpi")
    assert gone.loc["cart_abandonment", "missing"] == "events with event add_to_cart (event role add_to_cart)"
    with pytest.raises(ValueError, match="unknown event role 'cart'; event roles are lead, subscribe"):
        one("cart_abandonment", tables, event_names={"cart": ["x"]})


def test_unknown_and_uncomputable_kpis():
    with pytest.raises(ValueError, match="unknown KPI 'nps_gap'; KPIs are impressions, clicks"):
        kpis.kpi(shop(), "nps_gap")
    with pytest.raises(ValueError, match="'rank_lcp' cannot be computed from the canonical tables: it needs "
                                         "Page-speed measurements"):
        kpis.kpi(shop(), "rank_lcp")
    with pytest.raises(TypeError, match="not from a DataFrame"):
        kpis.kpi(shop()["orders"], "average_ticket")


def test_the_reduction_keeps_only_sums():
    sums = kpis.kpi_sums(shop(), ["cart_abandonment", "average_ticket", "leads"], by="period", timezone="UTC")
    assert sums.columns.tolist() == ["period", "kpi", "n", "numerator", "denominator", "sum_yy", "sum_xx", "sum_xy"]
    cart = sums[sums.kpi == "cart_abandonment"].set_index("period")
    # carts in Jan s3 (abandoned) s4 s7, Feb s10 s14 (both abandoned), Mar s11
    assert cart[["n", "numerator", "denominator"]].values.tolist() == [[3, 1.0, 3.0], [2, 2.0, 2.0], [1, 0.0, 1.0]]
    ticket = sums[(sums.kpi == "average_ticket") & (sums.period == "2024-01")].iloc[0]
    # January orders, customers as units: c1 100 (1 order), c2 30 (1 order)
    assert ticket[["n", "numerator", "denominator", "sum_yy", "sum_xx", "sum_xy"]].tolist() == \
        [2, 130.0, 2.0, 100.0 ** 2 + 30.0 ** 2, 2.0, 130.0]
    assert sums[sums.kpi == "leads"]["denominator"].isna().all()


# --- the panel ---------------------------------------------------------------------------------------

def test_panel_on_the_tiny_client(tiny_client):
    from cjkit.contract.load import load_client

    data = load_client(tiny_client)
    panel = kpis.kpi_panel(data)
    computable = catalog.kpis().query("computable")
    assert panel["kpi"].tolist() == computable["kpi_id"].tolist()  # the tiny client has every table and event
    assert panel["stage"].astype(str).tolist() == computable["stage"].astype(str).tolist()
    assert list(panel.columns[:8]) == ["stage", "stage_name", "kpi", "name", "value", "ci_low", "ci_high", "n"]
    # two KPIs worked out from the files with plain pandas
    ev = pd.read_parquet(REPO / "datasets" / "tiny" / "events.parquet")
    carts = ev[ev["event"] == "add_to_cart"].groupby(["customer_id", "session_id"]).size().index
    bought = ev[ev["event"].isin(["first_purchase", "repeat_purchase"])].groupby(["customer_id", "session_id"]).size()
    abandoned = int((~carts.isin(bought.index)).sum())
    row = panel.set_index("kpi").loc["cart_abandonment"]
    assert (row["numerator"], row["n"]) == (abandoned, len(carts))
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(abandoned, len(carts)))
    truth = json.loads((REPO / "datasets" / "tiny" / "ground_truth.json").read_text())
    assert row["value"] == pytest.approx(truth["cart_abandonment"]["observed_rate"], abs=5e-5)
    buyers = panel.set_index("kpi").loc["first_purchase_rate"]
    assert (buyers["numerator"], buyers["denominator"]) == (truth["counts"]["buyers"], truth["counts"]["customers"])
    # the same KPIs in five stages, and what the tiny client cannot compute: only what no table holds
    five = kpis.kpi_panel(data, model="five_stage")
    assert five["stage"].astype(str).tolist() == \
        computable.set_index("kpi_id").loc[five["kpi"], "stage_five"].astype(str).tolist()
    assert five["stage"].cat.categories.tolist() == ["awareness", "consideration", "purchase", "retention", "advocacy"]
    gone = kpis.kpis_unavailable(data)
    assert set(gone["kpi"]) == set(catalog.kpis().query("~computable")["kpi_id"])
    assert (gone["missing"] == "not in the canonical tables").all()


def test_cannot_compute_list_on_an_orders_only_client(orders_only_client):
    from cjkit.contract.load import load_client

    data = load_client(orders_only_client)  # two orders: c1 12.0, c2 8.0, no category column
    panel = kpis.kpi_panel(data).set_index("kpi")
    assert panel.index.tolist() == ["new_customers", "repeat_purchase_rate", "repeat_order_share",
                                    "returning_customer_share", "average_ticket", "arpu_active", "churn_rate",
                                    "retention_rate", "cltv"]
    assert panel.loc["average_ticket", ["value", "unit"]].tolist() == [10.0, "EUR per order"]
    assert panel.loc["new_customers", "value"] == 2
    assert np.isnan(panel.loc["churn_rate", "value"])  # one month of data: no buyer is active at a month's start
    gone = kpis.kpis_unavailable(data).set_index("kpi")
    assert gone.loc["cac", ["missing", "what_to_do"]].tolist() == ["the spend table", "add the spend table to the client"]
    assert gone.loc["cart_abandonment", "missing"] == "the events table"
    assert gone.loc["first_purchase_rate", "missing"] == "the customers table"
    assert gone.loc["cross_category_share", ["missing", "what_to_do"]].tolist() == \
        ["orders.category", "fill column category of the orders table"]
    assert gone.loc["ces_mean", "missing"] == "the surveys table"
    assert gone.loc["rank_lcp", "missing"] == "not in the canonical tables"
    assert len(gone) + len(panel) == len(catalog.kpis())  # every KPI is in one list or the other
    assert gone["stage"].cat.categories.tolist()[0] == "awareness"


def test_panel_on_a_custom_model_places_what_it_can():
    from cjkit.journey import JourneyModel

    model = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": [
        {"name": "Visit"}, {"name": "Purchase"}, {"name": "Loyalty", "aliases": ["advocacy"]}]})
    panel = kpis.kpi_panel(shop(), model=model, timezone="UTC").set_index("kpi")
    assert panel.loc["cart_abandonment", "stage"] == "purchase"  # five-stage Purchase is a stage of this model
    assert panel.loc["referral_leads", "stage"] == "loyalty"      # through the alias 'advocacy'
    assert panel.loc["ctr", ["stage", "stage_name"]].tolist() == ["unplaced", "Not placed in this model"]


# --- the demo client's planted truth -------------------------------------------------------------------

def test_demo_cart_abandonment_recovers_the_planted_rate(demo_client):
    from cjkit.contract.load import load_client

    truth = json.loads((REPO / "datasets" / "demo" / "ground_truth.json").read_text())["cart_abandonment"]
    est = kpis.kpi(load_client(demo_client), "cart_abandonment")
    assert est.ci_low < truth["planted_rate"] < est.ci_high
    assert est.n == truth["cart_sessions"] and est.value == pytest.approx(truth["observed_rate"], abs=5e-5)


# --- the catalogue ------------------------------------------------------------------------------------

def test_every_tactic_kpi_is_linked_exactly_once():
    links = [link for row in catalog.kpis()["tactic_kpis"] for link in row]
    tactic = catalog.tactic_kpis()
    expected = sorted(f"{t}: {k}" for t, k in zip(tactic["tactic_id"], tactic["kpi"]))
    assert sorted(links) == expected and len(links) == 45


def test_catalogue_needs_are_what_the_code_reads():
    for kpi_id, row in catalog.kpis().query("computable").set_index("kpi_id").iterrows():
        read = set().union(*(definitions._needs(c) for c in definitions._all_calls(kpi_id)))
        assert set(row["needs"]) == read, kpi_id


def test_catalogue_fields():
    k = catalog.kpis()
    computable = k[k["computable"]]
    assert len(computable) == 42 and len(k) == 51
    assert set(computable["ci"]) == {"wilson", "delta", "normal", "none", "combined"}
    assert set(computable["per"]) == {"row", "customer", "session", "day", "month", "customer_month"}
    assert computable.loc[computable["ci"] == "none", "denominator"].isna().all()
    assert computable.loc[computable["ci"] == "wilson", "unit"].eq("share").all()
    assert k["stage"].notna().all() and k["stage_five"].notna().all() and k["seed"].str.contains("seed 00").all()
    assert k.loc[~k["computable"], "would_need"].notna().all()
    for kpi_id in computable["kpi_id"]:  # every computation parses and is implemented
        assert all(c.name in computations._COMPUTATIONS for c in definitions._all_calls(kpi_id)), kpi_id
    raw = __import__("yaml").safe_load((REPO / "cjkit" / "catalog" / "kpis.yaml").read_text())
    assert raw["parameters"] == {"loss_window_days": kpis.LOSS_WINDOW_DAYS, "margin": kpis.MARGIN}


def test_default_role_names_are_the_demo_vocabulary():
    from cjkit.datasets import CHANNELS, EVENTS

    roles = catalog.kpi_roles()
    events = {n for names in roles.loc[roles["kind"] == "event", "names"] for n in names}
    channels = {n for names in roles.loc[roles["kind"] == "channel", "names"] for n in names}
    assert events <= set(EVENTS) and channels <= set(CHANNELS)


def test_definitions_are_written_in_the_kits_own_words():
    seeds = REPO.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"seeds not available under {seeds}")

    def shingles(text: str) -> set[tuple[str, ...]]:
        w = re.findall(r"[a-z0-9]+", text.lower())
        return {tuple(w[i:i + 8]) for i in range(len(w) - 7)}

    seed = set().union(*(shingles(p.read_text("utf-8")) for p in seeds.glob("*.txt")))
    prose = [*catalog.kpis()["definition"], *catalog.kpis()["note"].dropna(), *catalog.kpis()["would_need"].dropna()]
    assert not [p for p in prose if shingles(p) & seed]


# --- the figure -----------------------------------------------------------------------------------------

def test_kpi_intervals_draws_each_share_with_its_interval():
    import matplotlib

    matplotlib.use("Agg")
    from cjkit.plots import kpi_intervals

    panel = kpis.kpi_panel(shop(), timezone="UTC")
    shares = panel[panel["unit"] == "share"]
    ax = kpi_intervals(shares)
    assert [t.get_text() for t in ax.get_yticklabels()] == shares["name"].tolist()
    assert len(ax.containers) == shares["stage"].nunique()  # one colour per stage
    drawn = np.concatenate([c.lines[0].get_xdata() for c in ax.containers])
    assert sorted(drawn) == pytest.approx(sorted(shares["value"]))
    with pytest.raises(ValueError, match="one unit at a time"):
        kpi_intervals(panel)


def test_inputs_are_never_modified():
    tables = shop()
    before = {name: t.copy() for name, t in tables.items()}
    kpis.kpi_panel(tables, timezone="UTC")
    kpis.kpi_table(tables, by=["period", "first_channel"], missing="skip", timezone="UTC")
    kpis.kpis_unavailable(tables)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(table, before[name])
    assert kpis.available_segments(tables) == ["channel", "first_channel", "persona", "cohort", "stage"]
    assert kpis.available_segments({"surveys": tables["surveys"]}) == ["stage"]
    assert kpis.available_segments({"orders": tables["orders"]}) == ["cohort"]
