"""Touchpoint phases (before / during / after purchase), checked on hand-built journeys."""
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from cjkit.touchpoints import touchpoint_phases, touchpoint_volumes
from conftest import wilson


def _ts(*values):
    return pd.to_datetime(list(values), utc=True)


@pytest.fixture
def journeys():
    # customer a: two touches, buys in session s2, comes back by email, buys again in s4
    # customer b: never buys
    events = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "a", "a", "b", "b"],
        "timestamp": _ts("2024-03-01 09:00", "2024-03-02 10:00", "2024-03-02 10:05",
                         "2024-03-10 08:00", "2024-04-01 19:00", "2024-04-01 19:10",
                         "2024-03-01 12:00", "2024-03-05 12:00"),
        "channel": ["display", "search", "direct", "email", "email", "direct", "social", "search"],
        "event": ["ad_impression", "product_view", "purchase", "email_open",
                  "add_to_cart", "purchase", "ad_impression", "product_view"],
        "session_id": ["s1", "s2", "s2", "s3", "s4", "s4", "s5", "s6"],
    }, index=[10, 11, 12, 13, 14, 15, 16, 17])
    orders = pd.DataFrame({"customer_id": ["a", "a"],
                           "ordered_at": _ts("2024-03-02 10:05", "2024-04-01 19:10")})
    return events, orders


def test_phases_by_session(journeys):
    events, orders = journeys
    phases = touchpoint_phases(events, orders)
    assert phases.index.tolist() == events.index.tolist()
    assert phases.tolist() == ["before", "during", "during", "after",
                               "during", "during", "before", "before"]
    assert list(phases.cat.categories) == ["before", "during", "after"]


def test_phases_without_sessions_use_the_time_window(journeys):
    events, orders = journeys
    no_sessions = events.drop(columns="session_id")
    # 10:00 is 5 minutes before the 10:05 order: during; 19:00 is 10 minutes before 19:10
    phases = touchpoint_phases(no_sessions, orders, during_minutes=30)
    assert phases.tolist() == ["before", "during", "during", "after",
                               "during", "during", "before", "before"]
    # a 3-minute window leaves the 10:00 product view before the purchase
    narrow = touchpoint_phases(no_sessions, orders, during_minutes=3)
    assert narrow.tolist() == ["before", "before", "during", "after",
                               "after", "during", "before", "before"]


def test_inputs_are_not_modified(journeys):
    events, orders = journeys
    before = events.copy(), orders.copy()
    touchpoint_volumes(events, orders)
    assert_frame_equal(events, before[0])
    assert_frame_equal(orders, before[1])


def test_volumes_by_channel(journeys):
    events, orders = journeys
    got = touchpoint_volumes(events, orders)
    expected = pd.DataFrame({
        "phase": pd.Categorical(["before", "before", "before", "during", "during", "during", "after"],
                                categories=["before", "during", "after"], ordered=True),
        "channel": ["display", "search", "social", "direct", "email", "search", "email"],
        "events": [1, 1, 1, 2, 1, 1, 1],
        "customers": [1, 1, 1, 1, 1, 1, 1],
        "share": [1 / 3, 1 / 3, 1 / 3, 0.5, 0.25, 0.25, 1.0],
    })
    # each share's 95% Wilson interval: events of the row out of the phase's events (3, 4, 1)
    bounds = [wilson(k, n) for k, n in [(1, 3), (1, 3), (1, 3), (2, 4), (1, 4), (1, 4), (1, 1)]]
    expected["share_ci_low"] = [lo for lo, _ in bounds]
    expected["share_ci_high"] = [hi for _, hi in bounds]
    assert_frame_equal(got, expected, check_dtype=False)
