"""Tests for cjkit.funnel (and its figures in cjkit.plots): hand-built event logs with every
count, conversion, interval, median time and transition matrix written out by hand.

The shop log below uses a custom three-stage model (Visit, Cart, Buy); times are days after
2024-01-01 00:00 (UTC):

====  ==========================================  ==================  ===================
who   events (stage @ day)                        any order           in order
====  ==========================================  ==================  ===================
a     visit 0, cart 1, buy 3                      visit cart buy      visit 0, cart 1, buy 3
b     cart 0, visit 2, buy 4                      visit cart buy      visit 2 (no cart after it)
c     visit 0, buy 1, cart 2, buy 10              visit cart buy      visit 0, cart 2, buy 10
d     (unmapped event) 0, visit 1                 visit               visit 1
e     buy 0                                       buy                 nothing (never visited)
f     visit 0, cart 0, buy 0.5 (ties count)       visit cart buy      visit 0, cart 0, buy 0.5
g     visit 20                                    visit               visit 20
====  ==========================================  ==================  ===================

So 7 customers; unordered reach visit 6, cart 4, buy 5; ordered visit 6, cart 3 (a, c, f),
buy 3 (a, c, f); step conversions 6/7, 3/6, 3/3; days visit -> cart in order: a 1, c 2, f 0
(median 1); cart -> buy: a 2, c 8, f 0.5 (median 2).
"""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from cjkit import funnel, plots, transitions
from cjkit.journey import JourneyModel
from conftest import REPO, stages_by_hand, wilson

SHOP = JourneyModel.from_dict({"id": "shop", "name": "Shop", "stages": ["Visit", "Cart", "Buy"]})
T0 = pd.Timestamp("2024-01-01", tz="UTC")
LOG = [("a", 0, "visit"), ("a", 1, "cart"), ("a", 3, "buy"),
       ("b", 0, "cart"), ("b", 2, "visit"), ("b", 4, "buy"),
       ("c", 0, "visit"), ("c", 1, "buy"), ("c", 2, "cart"), ("c", 10, "buy"),
       ("d", 0, None), ("d", 1, "visit"),
       ("e", 0, "buy"),
       ("f", 0, "visit"), ("f", 0, "cart"), ("f", 0.5, "buy"),
       ("g", 20, "visit")]


def _events(rows=LOG, *, channels=None) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": [r[0] for r in rows],
                          "timestamp": [T0 + pd.Timedelta(days=r[1]) for r in rows],
                          "stage": pd.Series([r[2] for r in rows], dtype="str")})
    if channels is not None:
        frame["channel"] = channels
    return frame.sample(frac=1, random_state=3).reset_index(drop=True)  # row order must not matter


def day(x: float | None) -> pd.Timestamp:
    return pd.NaT if x is None else T0 + pd.Timedelta(days=x)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


# --- the reduction ------------------------------------------------------------------------

def test_stage_times_by_hand():
    t = funnel.stage_times(_events(), SHOP).set_index("customer_id").sort_index()
    assert t.columns.tolist() == ["seen_at", "first_visit", "first_cart", "first_buy",
                                  "ordered_visit", "ordered_cart", "ordered_buy"]
    expected = pd.DataFrame({
        "seen_at": [day(0), day(0), day(0), day(0), day(0), day(0), day(20)],
        "first_visit": [day(0), day(2), day(0), day(1), None, day(0), day(20)],
        "first_cart": [day(1), day(0), day(2), None, None, day(0), None],
        "first_buy": [day(3), day(4), day(1), None, day(0), day(0.5), None],
        "ordered_visit": [day(0), day(2), day(0), day(1), None, day(0), day(20)],
        "ordered_cart": [day(1), None, day(2), None, None, day(0), None],
        "ordered_buy": [day(3), None, day(10), None, None, day(0.5), None]},
        index=pd.Index(list("abcdefg"), name="customer_id"))
    pdt.assert_frame_equal(t, expected.astype(_events()["timestamp"].dtype), check_index_type=False)
    assert t.attrs["unstaged_events"] == 1


def test_stage_times_keeps_zone_and_unit_and_does_not_touch_the_input():
    ev = _events()
    ev["timestamp"] = ev["timestamp"].dt.tz_convert("Europe/Madrid").astype("datetime64[us, Europe/Madrid]")
    before = ev.copy()
    t = funnel.stage_times(ev, SHOP)
    pdt.assert_frame_equal(ev, before)
    assert str(t["ordered_buy"].dtype) == "datetime64[us, Europe/Madrid]"
    assert t.set_index("customer_id").loc["c", "ordered_buy"] == day(10)


def test_stage_times_errors_name_table_column_and_remedy():
    ev = _events()
    with pytest.raises(KeyError, match="events table has no column 'stage'"):
        funnel.stage_times(ev.drop(columns="stage"), SHOP)
    bad = ev.copy()
    bad.loc[0, "timestamp"] = pd.NaT
    with pytest.raises(ValueError, match="events table, column 'timestamp': 1 rows have no time"):
        funnel.stage_times(bad, SHOP)
    with pytest.raises(TypeError, match="pd.to_datetime"):
        funnel.stage_times(ev.assign(timestamp=ev["timestamp"].astype(str)), SHOP)
    with pytest.raises(KeyError, match="not a stage"):
        funnel.stage_times(ev.assign(stage="checkout"), SHOP)


# --- the funnel -------------------------------------------------------------------------

def test_funnel_table_both_definitions_by_hand():
    f = funnel.funnel_table(funnel.stage_times(_events(), SHOP), SHOP)
    assert f["stage"].astype(str).tolist() == ["visit", "cart", "buy"]
    assert f["name"].tolist() == ["Visit", "Cart", "Buy"]
    assert f["customers"].tolist() == [6, 4, 5]
    assert f["reached_in_order"].tolist() == [6, 3, 3]
    assert f["previous_in_order"].tolist() == [7, 6, 3]
    assert f["drop_off"].tolist() == [1, 3, 0]
    assert f["conversion"].tolist() == pytest.approx([6 / 7, 3 / 6, 1.0])
    for row, (k, n) in enumerate([(6, 7), (3, 6), (3, 3)]):
        assert (f.loc[row, "conversion_ci_low"], f.loc[row, "conversion_ci_high"]) == pytest.approx(wilson(k, n))
        assert (f.loc[row, "drop_off_rate_ci_low"], f.loc[row, "drop_off_rate_ci_high"]) == \
            pytest.approx(wilson(n - k, n))
    assert f["reach_share"].tolist() == pytest.approx([6 / 7, 4 / 7, 5 / 7])
    assert f["in_order_share"].tolist() == pytest.approx([6 / 7, 3 / 7, 3 / 7])
    assert (f.loc[2, "in_order_share_ci_low"], f.loc[2, "in_order_share_ci_high"]) == pytest.approx(wilson(3, 7))
    assert np.isnan(f.loc[0, "median_days"]) and f["median_days"].tolist()[1:] == [1.0, 2.0]
    assert f.attrs["customers"] == 7


def test_account_page_before_buying_counts_past_purchase_only_in_any_order():
    """The issue's example in five stages: an account page (Retention) opened before any purchase."""
    rows = [("ana", 0, "awareness"), ("ana", 1, "consideration"), ("ana", 2, "retention"),
            ("bo", 0, "awareness"), ("bo", 1, "consideration"), ("bo", 2, "purchase"), ("bo", 9, "retention")]
    times = funnel.stage_times(_events(rows), "five_stage")
    f = funnel.funnel_table(times, "five_stage")
    assert f["customers"].tolist() == [2, 2, 1, 2, 0]
    assert f["reached_in_order"].tolist() == [2, 2, 1, 1, 0]
    furthest = {d: transitions.furthest_stages(times, "five_stage", definition=d).set_index("customer_id")["stage"]
                .astype(str).to_dict() for d in ("ordered", "unordered")}
    assert furthest == {"ordered": {"ana": "consideration", "bo": "retention"},
                        "unordered": {"ana": "retention", "bo": "retention"}}


def test_funnel_on_the_tiny_client_matches_plain_pandas(tiny_client):
    from cjkit.contract.load import load_client

    data = load_client(tiny_client)
    ev, model = data.events, data.model
    f = funnel.funnel_table(funnel.stage_times(ev, model), model)
    # plain pandas: distinct customers per stage; in order, stage by stage with a merge
    reach = ev.dropna(subset=["stage"]).groupby("stage")["customer_id"].nunique()
    assert f["customers"].tolist() == [int(reach.get(s, 0)) for s in model.stage_ids]
    at = ev[ev["stage"] == model.stage_ids[0]].groupby("customer_id")["timestamp"].min()
    in_order, medians = [len(at)], [None]
    for s in model.stage_ids[1:]:
        later = ev[ev["stage"] == s].merge(at.rename("previous"), left_on="customer_id", right_index=True)
        nxt = later[later["timestamp"] >= later["previous"]].groupby("customer_id")["timestamp"].min()
        medians.append(((nxt - at.reindex(nxt.index)).dt.total_seconds() / 86400).median())
        in_order.append(len(nxt))
        at = nxt
    assert f["reached_in_order"].tolist() == in_order
    previous = [ev["customer_id"].nunique()] + in_order[:-1]
    assert f["conversion"].tolist() == pytest.approx([k / n for k, n in zip(in_order, previous)])
    assert f["median_days"].tolist()[1:] == pytest.approx(medians[1:])
    assert f["reached_in_order"].tolist()[3] < f["customers"].tolist()[3]  # engagement before a first purchase


def test_six_stage_model_and_unordered_furthest_agree_with_furthest_stage(tiny_client):
    from cjkit.contract.load import load_client
    from cjkit.stages import furthest_stage

    data = load_client(tiny_client)
    mine = transitions.furthest_stages(funnel.stage_times(data.events, data.model), data.model, definition="unordered")
    theirs = furthest_stage(data.events, data.model)
    both = mine.merge(theirs, on="customer_id", suffixes=("_mine", "_theirs"))
    assert len(both) == len(theirs) == len(mine)
    assert (both["stage_mine"].astype(str) == both["stage_theirs"].astype(str)).all()


def test_weakest_step_skips_the_first_stage_and_empty_steps():
    f = funnel.funnel_table(funnel.stage_times(_events(), SHOP), SHOP)
    assert funnel.weakest_step(f)["name"] == "Cart"  # 3/6 against 3/3; the first stage (6/7) is no step
    assert funnel.weakest_step(f.iloc[:1]) is None
    assert funnel.weakest_step(f.assign(conversion=[0.1, np.nan, np.nan])) is None


# --- segments ---------------------------------------------------------------------------

def test_customer_segments_first_channel_and_cohorts():
    ev = pd.DataFrame({"customer_id": ["a", "a", "a", "b", "b"],
                       "timestamp": pd.to_datetime(["2024-03-01", "2024-02-29 23:00", "2024-02-29 23:00",
                                                    "2024-05-01", "2024-04-30"], utc=True, format="ISO8601"),
                       "channel": ["tv", "email", "search", "display", "store"]})
    assert funnel.customer_segments(ev).to_dict() == {"a": "email", "b": "store"}  # ties: the first row
    assert funnel.customer_segments(ev, by="cohort").to_dict() == {"a": "2024-02", "b": "2024-04"}
    customers = pd.DataFrame({"customer_id": ["a", "b"], "persona": ["parent", "collector"],
                              "signup_at": pd.to_datetime(["2024-03-02", "2024-05-01"], utc=True)})
    assert funnel.customer_segments(ev, by="persona", customers=customers).to_dict() == \
        {"a": "parent", "b": "collector"}
    assert funnel.customer_segments(ev, by="signup_cohort", customers=customers).to_dict() == \
        {"a": "2024-03", "b": "2024-05"}
    with pytest.raises(ValueError, match="customers table"):
        funnel.customer_segments(ev, by="persona")
    with pytest.raises(KeyError, match="customers table has no column 'persona'"):
        funnel.customer_segments(ev, by="persona", customers=customers.drop(columns="persona"))


def test_funnel_by_segment_by_hand():
    seg = pd.Series({"a": "x", "b": "x", "c": "x", "d": "y", "e": "y", "f": "y"})  # g has none: unknown
    by = funnel.funnel_by_segment(funnel.stage_times(_events(), SHOP), SHOP, seg)
    assert by["segment"].tolist() == ["x"] * 3 + ["y"] * 3 + ["unknown"] * 3  # size, then label
    assert by["segment_customers"].tolist() == [3] * 6 + [1] * 3
    assert by["customers"].tolist() == [3, 3, 3, 2, 1, 2, 1, 0, 0]
    assert by["share"].tolist() == pytest.approx([1, 1, 1, 2 / 3, 1 / 3, 2 / 3, 1, 0, 0])
    assert (by.loc[3, "share_ci_low"], by.loc[3, "share_ci_high"]) == pytest.approx(wilson(2, 3))
    assert by["reached_in_order"].tolist() == [3, 2, 2, 2, 1, 1, 1, 0, 0]
    assert by["conversion"].tolist()[:6] == pytest.approx([1, 2 / 3, 1, 2 / 3, 1 / 2, 1])
    assert by["median_days"].tolist()[1:3] == [1.5, 5.0]  # x: cart a 1 c 2; buy a 2 c 8
    wide = funnel.funnel_matrix(by)
    assert wide.index.tolist() == ["x", "y", "unknown"] and wide.columns.tolist() == ["customers", "Visit", "Cart", "Buy"]
    np.testing.assert_allclose(wide.to_numpy(dtype=float), [[3, 1, 2 / 3, 2 / 3], [3, 2 / 3, 1 / 3, 1 / 3], [1, 1, 0, 0]])
    assert wide.attrs["units"] == {"Visit": "share", "Cart": "share", "Buy": "share"}
    assert funnel.funnel_matrix(by, values="reached_in_order").attrs == {}
    top = funnel.funnel_by_segment(funnel.stage_times(_events(), SHOP), SHOP, seg, top=1, order="label")
    assert top["segment"].drop_duplicates().tolist() == ["other", "x"]  # y and unknown counted, not dropped
    assert top.groupby("segment")["segment_customers"].first().to_dict() == {"other": 4, "x": 3}


# --- the test per step ------------------------------------------------------------------

def _two_segments(k_a, n_a, k_b, n_b) -> pd.DataFrame:
    rows = []
    for label, ks, ns in (("a", k_a, n_a), ("b", k_b, n_b)):
        for j, (k, n) in enumerate(zip(ks, ns)):
            rows.append({"segment": label, "stage": f"s{j}", "name": f"S{j}", "previous_in_order": n,
                         "reached_in_order": k})
    return pd.DataFrame(rows)


def test_compare_segments_z_test_by_hand():
    # 30/100 against 20/100: pooled p = 0.25, se = sqrt(0.25 * 0.75 * (1/100 + 1/100)) = 0.0612372,
    # z = 0.1 / se = 1.632993, two-sided p = erfc(z / sqrt 2) = 0.102470
    t = funnel.compare_segments(_two_segments([30], [100], [20], [100]), "a", "b")
    se = math.sqrt(0.25 * 0.75 * 0.02)
    assert t.loc[0, "z"] == pytest.approx(0.1 / se) == pytest.approx(1.632993, abs=1e-6)
    assert t.loc[0, "p_value"] == pytest.approx(math.erfc(0.1 / se / math.sqrt(2))) == pytest.approx(0.10247, abs=1e-5)
    assert t.loc[0, "p_holm"] == t.loc[0, "p_value"] and not t.loc[0, "significant"]
    assert (t.loc[0, "n_a"], t.loc[0, "conversion_a"], t.loc[0, "difference"]) == (100, 0.3, pytest.approx(0.1))
    # Newcombe's hybrid score interval from the two Wilson intervals (Newcombe 1998, method 10)
    (l1, u1), (l2, u2) = wilson(30, 100), wilson(20, 100)
    low = 0.1 - math.sqrt((0.3 - l1) ** 2 + (u2 - 0.2) ** 2)
    high = 0.1 + math.sqrt((u1 - 0.3) ** 2 + (0.2 - l2) ** 2)
    assert (t.loc[0, "difference_ci_low"], t.loc[0, "difference_ci_high"]) == pytest.approx((low, high))


def test_compare_segments_holm_adjustment_by_hand():
    t = funnel.compare_segments(_two_segments([30, 50, 80, 5], [100, 100, 100, 5],
                                              [20, 35, 70, 5], [100, 100, 100, 5]), "a", "b")
    p = t["p_value"].to_numpy()
    assert np.isnan(p[3]) and np.isnan(t.loc[3, "z"])  # 5/5 against 5/5: nothing to test
    # Holm (1979): sort the m = 3 p-values, multiply the i-th smallest by m - i + 1, keep it monotone
    order = np.argsort(p[:3])
    steps = np.maximum.accumulate(np.minimum(p[:3][order] * np.array([3, 2, 1]), 1))
    expected = np.empty(3)
    expected[order] = steps
    assert t["p_holm"].tolist()[:3] == pytest.approx(expected.tolist())
    assert t["significant"].tolist()[:3] == [bool(v < 0.05) for v in expected]
    assert t["significant"].isna().tolist() == [False, False, False, True]
    assert "Holm" in t.attrs["caption"] and "3 steps" in t.attrs["caption"]


def test_compare_segments_with_an_absent_segment_tests_nothing():
    t = funnel.compare_segments(_two_segments([3], [10], [1], [10]), "a", "zz")
    assert t["n_b"].tolist() == [0] and t["p_value"].isna().all() and t["conversion_b"].isna().all()
    assert "No customers in segment 'zz'" in t.attrs["caption"]


# --- transitions between two periods -----------------------------------------------------

def _matrix(t: pd.DataFrame) -> list[list[int]]:
    return transitions.transition_matrix(t).to_numpy().tolist()


def test_stage_transitions_ordered_by_hand():
    times = funnel.stage_times(_events(), SHOP)
    t = transitions.stage_transitions(times, SHOP, split=T0 + pd.Timedelta(days=2))
    # rows: end of A (before day 2); columns: end of the data.  e none->none, b none->visit (cart came
    # first), g none->visit (new); d visit->visit, c visit->buy; a cart->buy; f buy->buy
    assert _matrix(t) == [[1, 2, 0, 0], [0, 1, 0, 1], [0, 0, 0, 1], [0, 0, 0, 1]]
    assert transitions.transition_matrix(t).index.tolist() == ["none", "visit", "cart", "buy"]
    rates = transitions.transition_matrix(t, values="rate")
    assert rates.loc["none"].tolist() == pytest.approx([1 / 3, 2 / 3, 0, 0])
    assert rates.loc["visit"].tolist() == pytest.approx([0, 0.5, 0, 0.5])
    row = t[(t["from_stage"] == "none") & (t["to_stage"] == "visit")].iloc[0]
    assert (row["rate_ci_low"], row["rate_ci_high"]) == pytest.approx(wilson(2, 3))
    assert t.loc[t["moved"], "customers"].sum() == 4  # b, g, c and a moved on; d, e and f did not
    summary = transitions.transition_summary(t)
    assert summary["from_stage"].astype(str).tolist() == ["none", "visit", "cart", "buy"]
    assert summary["customers"].tolist() == [3, 2, 1, 1]
    assert summary["moved"].tolist() == [2, 1, 1, 0]
    assert summary["moved_share"].tolist() == pytest.approx([2 / 3, 0.5, 1, 0])


def test_stage_transitions_unordered_and_with_an_end_by_hand():
    times = funnel.stage_times(_events(), SHOP)
    t = transitions.stage_transitions(times, SHOP, split="2024-01-03", definition="unordered")
    # any order, before day 2: a cart, b cart, c buy, d visit, e buy, f buy, g none; at the end g visit
    assert _matrix(t) == [[0, 1, 0, 0], [0, 1, 0, 0], [0, 0, 0, 2], [0, 0, 0, 3]]
    t = transitions.stage_transitions(times, SHOP, split="2024-01-03", end="2024-01-06")
    # period B ends before day 5: g (first seen day 20) is left out; c has no buy after its cart yet
    assert _matrix(t) == [[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1]]
    assert t.attrs["customers"] == 6
    with pytest.raises(ValueError, match="before split"):
        transitions.stage_transitions(times, SHOP, split="2024-02-01", end="2024-01-06")


def test_middle_day():
    ev = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01", "2024-03-02"], utc=True)})
    assert transitions.middle_day(ev) == pd.Timestamp("2024-01-31", tz="UTC")


# --- figures, checked by what was drawn -------------------------------------------------

def _outside(ax) -> list[str]:
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    return [t.get_text() for t in ax.texts if (lambda e: e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or
                                               e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1)(t.get_window_extent(renderer))]


def test_funnel_bars_draw_both_definitions_with_whiskers():
    f = funnel.funnel_table(funnel.stage_times(_events(), SHOP), SHOP)
    plots.set_theme()
    ax = plots.funnel_bars(f, title="Shop funnel")
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([6 / 7, 4 / 7, 5 / 7, 6 / 7, 3 / 7, 3 / 7])  # any order, then in order
    assert [t.get_text() for t in ax.texts] == ["6 (86%)", "3 (43%)", "3 (43%)"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Visit", "Cart", "Buy"]
    bars = next(c for c in ax.containers if getattr(c, "errorbar", None) is not None)
    whiskers = bars.errorbar.lines[2][0].get_segments()  # one horizontal segment per stage
    assert [tuple(np.round(s[:, 0], 6)) for s in whiskers] == \
        [tuple(np.round(wilson(k, 7), 6)) for k in (6, 3, 3)]
    assert ax.get_title(loc="left") == "Shop funnel"
    assert _outside(ax) == []


@pytest.mark.parametrize("shares", [[1.0, 0.999, 0.98, 0.9, 0.6, 0.5], [0.05, 0.04, 0.3, 0.01, 0.0, 0.0]])
def test_funnel_bars_labels_stay_inside(shares):
    n = 20000
    k = [round(s * n) for s in shares]
    f = pd.DataFrame({"name": [f"Stage {i}" for i in range(6)], "reach_share": [1.0] * 6, "reached_in_order": k,
                      "in_order_share": [x / n for x in k],
                      "in_order_share_ci_low": [wilson(x, n)[0] for x in k],
                      "in_order_share_ci_high": [wilson(x, n)[1] for x in k]})
    ax = plots.funnel_bars(f)
    assert [t.get_text() for t in ax.texts] == [f"{x:,} ({x / n:.0%})" for x in k]
    assert _outside(ax) == []


def test_transition_heatmap_cells_labels_and_row_sizes():
    t = transitions.stage_transitions(funnel.stage_times(_events(), SHOP), SHOP, split="2024-01-03")
    ax = plots.transition_heatmap(t, title="Moves")
    grid = np.asarray(ax.collections[0].get_array()).reshape(4, 4)
    np.testing.assert_allclose(grid, [[1 / 3, 2 / 3, 0, 0], [0, 0.5, 0, 0.5], [0, 0, 0, 1], [0, 0, 0, 1]])
    assert [x.get_text() for x in ax.texts if x.get_text()] == ["33%", "67%", "50%", "50%", "100%", "100%"]
    assert [x.get_text() for x in ax.get_yticklabels()] == ["none (3)", "visit (2)", "cart (1)", "buy (1)"]
    assert [x.get_text() for x in ax.get_xticklabels()] == ["none", "visit", "cart", "buy"]
    assert _outside(ax) == []


def test_demo_funnel_is_recorded_small_enough():
    """The records of notebook 04 hold at most 200 rows: demo channels x stages."""
    from cjkit.contract.load import load_client

    data = load_client(REPO / "datasets" / "demo" / "client.yaml")
    times = funnel.stage_times(data.events, data.model)
    by = funnel.funnel_by_segment(times, data.model, funnel.customer_segments(data.events), top=12)
    assert len(by) <= 200 and by["segment_customers"].drop_duplicates().sum() == data.events["customer_id"].nunique()


# --- notebook 04 on the tiny client: the records other parts of the kit read -------------

@pytest.mark.notebook
def test_notebook_records_match_plain_pandas_on_tiny(tmp_path):
    import papermill

    from cjkit.pipeline.records import read_records

    tiny = REPO / "datasets" / "tiny"
    out = tmp_path / "04.ipynb"
    papermill.execute_notebook(str(REPO / "notebooks" / "04_funnel_and_transitions.ipynb"), str(out),
                               parameters={"client": "tiny"}, kernel_name="cjkit", progress_bar=False,
                               cwd=str(REPO / "notebooks"))
    rec = read_records(out).set_index("name")["value"]

    def table(name: str) -> pd.DataFrame:
        assert isinstance(rec[name], pd.DataFrame), name  # read_records gives tables back as DataFrames
        return rec[name]

    # the tiny client's files with plain pandas: the client's stage rules (channel rules first)
    events = pd.read_parquet(tiny / "events.parquet")
    stage = stages_by_hand(events, tiny / "client.yaml")
    events = events.assign(stage=stage, timestamp=pd.to_datetime(events["timestamp"]))
    six = ["awareness", "acquisition", "onboarding", "engagement", "retention", "advocacy"]
    reach = events.dropna(subset=["stage"]).groupby("stage")["customer_id"].nunique()
    at = events[events["stage"] == six[0]].groupby("customer_id")["timestamp"].min()
    in_order = [len(at)]
    for s in six[1:]:
        later = events[events["stage"] == s].merge(at.rename("previous"), left_on="customer_id", right_index=True)
        at = later[later["timestamp"] >= later["previous"]].groupby("customer_id")["timestamp"].min()
        in_order.append(len(at))
    n = events["customer_id"].nunique()

    f = table("funnel")
    assert {"stage", "customers", "reached_in_order", "conversion", "conversion_ci_low",
            "conversion_ci_high"} <= set(f.columns)
    assert f["stage"].tolist() == six
    assert f["customers"].tolist() == [int(reach[s]) for s in six]
    assert f["reached_in_order"].tolist() == in_order
    previous = [n] + in_order[:-1]
    assert f["conversion"].tolist() == pytest.approx([k / m for k, m in zip(in_order, previous)])
    np.testing.assert_allclose(f[["conversion_ci_low", "conversion_ci_high"]].to_numpy(dtype=float),
                               [wilson(k, m) for k, m in zip(in_order, previous)])
    assert rec["funnel_customers"] == n
    assert rec["reached_last_stage_in_order"] == pytest.approx(in_order[-1] / n)

    # first channel by hand: the channel of each customer's earliest event (first row among ties)
    first = events.sort_values(["customer_id", "timestamp"], kind="stable").groupby("customer_id").head(1)
    channel = first.set_index("customer_id")["channel"]
    by = table("funnel_by_first_channel")
    assert {"segment", "stage", "customers", "share"} <= set(by.columns) and len(by) <= 200
    staged = events.dropna(subset=["stage"]).assign(segment=lambda e: e["customer_id"].map(channel))
    expected = staged.groupby(["segment", "stage"])["customer_id"].nunique()
    sizes = channel.value_counts()
    for row in by.itertuples():
        assert row.customers == expected.get((row.segment, row.stage), 0), (row.segment, row.stage)
        assert row.share == pytest.approx(row.customers / sizes[row.segment])

    moves = table("transitions")
    assert moves.groupby("from_stage")["rate"].sum().tolist() == pytest.approx([1.0] * moves["from_stage"].nunique())
    assert moves["customers"].sum() == n
