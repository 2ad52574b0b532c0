"""The bundled Fretboard & Co. datasets: reproducible, consistent, documented, and their
planted truths recoverable with simple estimators written here, independently of the
generator."""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.optimize import minimize
from scipy.special import betaln, gammaln

from cjkit.datasets import (
    CHANNELS, EVENTS, PRESETS, PURCHASE_EVENTS, STAGE_OF_EVENT, absorption, channel_contributions,
    client_yaml, demo_client_path, generate, load_ground_truth, read_demo, write_demo,
)
from cjkit.datasets import spec
from cjkit.datasets.readme import refresh_readme

DATASETS = Path(__file__).resolve().parents[1] / "datasets"
END = pd.Timestamp("2026-01-01")                      # first moment after the observation window
TABLE_FRAMES = ("customers", "events", "orders", "surveys", "spend", "truth_customers")


@pytest.fixture(scope="module")
def demo():
    return read_demo("demo")


@pytest.fixture(scope="module")
def tiny():
    return read_demo("tiny")


@pytest.fixture(scope="module", params=["demo", "tiny"])
def both(request, demo, tiny):
    return {"demo": demo, "tiny": tiny}[request.param]


# --------------------------------------------------------------------- (a) reproducible

@pytest.mark.parametrize("name", ["tiny", "demo"])
def test_presets_regenerate_the_committed_files(name):
    fresh = generate(**PRESETS[name], name=name)
    committed = read_demo(name)
    for table in TABLE_FRAMES:
        pd.testing.assert_frame_equal(getattr(fresh, table), getattr(committed, table),
                                      check_exact=True, obj=f"{name}/{table}")
    assert fresh.truth == committed.truth
    assert (DATASETS / name / "client.yaml").read_text() == client_yaml(name)


def test_write_and_read_back_round_trip(tmp_path):
    data = generate(n_customers=120, seed=11, name="tiny")
    write_demo(tmp_path / "x", data)
    back = read_demo(tmp_path / "x")
    for table in TABLE_FRAMES:
        pd.testing.assert_frame_equal(getattr(data, table), getattr(back, table), check_exact=True)
    assert back.truth == data.truth


def test_cli_rebuilds_a_preset_elsewhere(tmp_path):
    from cjkit.datasets.__main__ import main

    assert main(["tiny", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "tiny" / "orders.csv").read_bytes() == (DATASETS / "tiny" / "orders.csv").read_bytes()
    assert load_ground_truth(tmp_path / "tiny") == load_ground_truth("tiny")


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = (generate(n_customers=80, seed=s) for s in (4, 4, 5))
    pd.testing.assert_frame_equal(a.events, b.events)
    assert not a.orders["amount"].equals(c.orders["amount"])


def test_demo_client_path_errors_in_domain_words():
    assert demo_client_path("demo") == DATASETS / "demo" / "client.yaml"
    with pytest.raises(FileNotFoundError, match=r"no bundled dataset 'nope'.*found: \['demo', 'tiny'\]"):
        demo_client_path("nope")


# --------------------------------------------------------------------- (b) planted truths

def _cart_sessions(events: pd.DataFrame) -> pd.DataFrame:
    s = events.dropna(subset=["session_id"])
    return pd.DataFrame({"cart": s["event"].eq("add_to_cart"),
                         "buy": s["event"].isin(["first_purchase", "repeat_purchase"])}) \
        .groupby(s["session_id"].to_numpy()).any()


@pytest.mark.parametrize("name, tol", [("demo", 0.02), ("tiny", 0.05)])
def test_cart_abandonment_rate_is_recovered(name, tol, demo, tiny):
    d = {"demo": demo, "tiny": tiny}[name]
    flags = _cart_sessions(d.events)
    carts = flags.loc[flags["cart"]]
    rate = 1 - carts["buy"].mean()
    assert abs(rate - 0.70) <= tol
    assert d.truth["cart_abandonment"]["planted_rate"] == 0.70
    assert d.truth["cart_abandonment"]["cart_sessions"] == len(carts)


def test_nps_by_acquisition_group_within_binomial_error(demo):
    src = demo.customers.set_index("customer_id")["source_channel"]
    s = demo.surveys.dropna(subset=["nps"])
    group = s["customer_id"].map(src).where(lambda g: g.isin(["store", "display"]), "other")
    est, se = {}, {}
    for g, (pp, _, pd_) in spec.NPS_GROUPS.items():
        scores = s.loc[group == g, "nps"].astype(int)
        n = len(scores)
        est[g] = 100 * ((scores >= 9).mean() - (scores <= 6).mean())
        # variance of (promoter - detractor) indicator under the planted probabilities
        se[g] = 100 * math.sqrt((pp + pd_ - (pp - pd_) ** 2) / n)
        truth = demo.truth["nps"]["groups"][g]
        assert truth["nps"] == pytest.approx(100 * (pp - pd_))
        assert abs(est[g] - truth["nps"]) <= 3.5 * se[g], (g, est[g], truth["nps"], se[g])
    diff = est["store"] - est["display"]
    assert demo.truth["nps"]["difference"]["nps_difference"] == pytest.approx(54.0)
    assert abs(diff - 54.0) <= 3.5 * math.hypot(se["store"], se["display"])
    assert est["store"] > est["other"] > est["display"]


def _brute_force_shapley(players, value):
    """Shapley values by averaging marginal gains over every ordering of the players."""
    totals = dict.fromkeys(players, 0.0)
    orders = list(itertools.permutations(players))
    for order in orders:
        seen: list[str] = []
        for p in order:
            totals[p] += value(seen + [p]) - value(seen)
            seen.append(p)
    return {p: v / len(orders) for p, v in totals.items()}


#: A three-channel chain small enough to solve by hand (the rest of each row is a stop).
HAND_CHAIN = {"a": {"b": 0.4, "c": 0.2, "conversion": 0.1}, "b": {"conversion": 0.5}, "c": {"b": 0.5}}
HAND_START = {"a": 0.5, "b": 0.5}


def test_exact_contributions_on_a_hand_solved_three_channel_chain():
    # P(b) = .5, P(c) = .5 x .5 = .25, P(a) = .1 + .4 x .5 + .2 x .25 = .35; P = (.35 + .5) / 2
    assert absorption(HAND_CHAIN, HAND_START)[0] == pytest.approx(0.425)
    # without a: only walks starting at b convert (.25); without b: only a's direct .1 x .5;
    # without c: a gives .1 + .2 = .3, so (.3 + .5) / 2 = .4
    out = channel_contributions(HAND_CHAIN, HAND_START, n_paths=1000)
    assert out["removal_effect"].to_dict() == pytest.approx(
        {"a": 1 - 0.25 / 0.425, "b": 1 - 0.05 / 0.425, "c": 1 - 0.4 / 0.425})
    assert out["removal_conversions"]["b"] == pytest.approx(425 - 50)
    # walks by channel set (probability, rate): {b} (.5, .5), {a} (.2, .25), {a,b} (.2, .5),
    # {a,b,c} (.05, .5), {a,c} (.05, 0). Worth: none = lowest one-channel rate .25; {c} and
    # {b,c} cannot happen and take their best subset (.25, .5).
    worth = {(): 0.25, ("a",): 0.25, ("b",): 0.5, ("c",): 0.25, ("a", "b"): 0.5, ("a", "c"): 0.0,
             ("b", "c"): 0.5, ("a", "b", "c"): 0.5}
    assert out.attrs["shapley_baseline"] == pytest.approx(0.25)
    game = lambda s: worth[tuple(sorted(set(s)))]  # noqa: E731
    raw = dict.fromkeys("abc", 0.0)
    for players, p in ((("b",), 0.5), (("a",), 0.2), (("a", "b"), 0.2), (("a", "b", "c"), 0.05),
                       (("a", "c"), 0.05)):
        for k, v in _brute_force_shapley(list(players), game).items():
            raw[k] += p * v
    # by hand: a = c = .05 x (-.125) + .05 x (-1/24), b = .5 x .25 + .2 x .25 + .05 / 3
    assert raw["b"] == pytest.approx(0.125 + 0.05 + 0.05 / 3)
    assert raw["a"] == pytest.approx(raw["c"]) == pytest.approx(-0.05 / 8 - 0.05 / 24)
    total = sum(raw.values())
    assert out["shapley"].to_dict() == pytest.approx({k: 425 * v / total for k, v in raw.items()})
    assert out["shapley"].sum() == pytest.approx(425)


def test_chain_errors_name_the_bad_row():
    with pytest.raises(ValueError, match="'a' add up to 1.1, not 1"):
        channel_contributions({"a": {"a": 0.6, "conversion": 0.5}}, {"a": 1.0})
    with pytest.raises(KeyError, match="'x' is neither a channel"):
        channel_contributions({"a": {"x": 0.5}}, {"a": 1.0})
    with pytest.raises(ValueError, match="start shares add up to 0.9"):
        channel_contributions({"a": {"conversion": 0.5}}, {"a": 0.9})


def test_stored_contributions_add_up(both):
    a = both.truth["attribution"]
    assert a["conversion_probability"] == pytest.approx(absorption(a["transitions"], a["start"])[0], abs=1e-6)
    assert a["expected_conversions"] == pytest.approx(a["paths"] * a["conversion_probability"],
                                                      abs=a["paths"] * 1e-6)  # probability rounded to 6 digits
    assert sum(a["shapley"].values()) == pytest.approx(a["expected_conversions"], abs=1e-3)
    assert sum(a["shapley_share"].values()) == pytest.approx(1.0, abs=1e-5)
    assert sum(a["removal_effect_share"].values()) == pytest.approx(1.0, abs=1e-5)
    for c, rows in a["transitions"].items():
        assert sum(rows.values()) == pytest.approx(1.0, abs=1e-6), c


def _collapse(channels) -> str:
    out: list[str] = []
    for c in channels:
        if not out or out[-1] != c:
            out.append(c)
    return " > ".join(out)


def _paths_from_events(events: pd.DataFrame, customers: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Each customer's channels before the first purchase, in time order, repeats merged."""
    first = events.loc[events["event"] == "first_purchase"].set_index("customer_id")["timestamp"]
    cut = events["customer_id"].map(first)
    before = events.loc[cut.isna() | (events["timestamp"] < cut)]
    before = before.sort_values(["customer_id", "timestamp"], kind="stable")
    paths = before.groupby("customer_id")["channel"].agg(_collapse)
    paths = paths.reindex(customers["customer_id"], fill_value="")
    converted = customers["customer_id"].isin(first.index).set_axis(customers["customer_id"])
    return paths, converted


def test_the_events_replay_every_planted_walk(both):
    a = both.truth["attribution"]
    paths, converted = _paths_from_events(both.events, both.customers)
    tc = both.truth_customers.set_index("customer_id")
    walks = tc["path"].str.split(" > ").map(_collapse)
    assert (paths == walks.reindex(paths.index)).all()
    assert (converted == tc["converted"].reindex(converted.index)).all()
    assert int(converted.sum()) == a["conversions"]
    touched = {c: int(paths.str.split(" > ").map(lambda p, c=c: c in p).sum()) for c in CHANNELS}
    assert touched == a["paths_touched"]
    # conversions within binomial error of the chain's probability
    p, n = a["conversion_probability"], a["paths"]
    assert abs(a["conversions"] - n * p) <= 4 * math.sqrt(n * p * (1 - p))


def test_the_walks_follow_the_planted_transitions(demo):
    """Counting moves in the walks recovers every planted probability within 4 standard errors."""
    a = demo.truth["attribution"]
    tc = demo.truth_customers
    moves: dict[str, dict[str, int]] = {c: {} for c in CHANNELS}
    for walk, conv in zip(tc["path"].str.split(" > "), tc["converted"]):
        for here, nxt in zip(walk, [*walk[1:], "conversion" if conv else "null"]):
            moves[here][nxt] = moves[here].get(nxt, 0) + 1
    starts = tc["path"].str.split(" > ").str[0].value_counts(normalize=True)
    n = len(tc)
    for c, share in a["start"].items():
        assert abs(starts.get(c, 0.0) - share) <= 4 * math.sqrt(share * (1 - share) / n), c
    for c, row in a["transitions"].items():
        out = sum(moves[c].values())
        for nxt in [*CHANNELS, "conversion", "null"]:
            p = row.get(nxt, 0.0)
            seen = moves[c].get(nxt, 0) / out
            if p == 0:
                assert seen == 0, (c, nxt)
            else:
                assert abs(seen - p) <= 4 * math.sqrt(p * (1 - p) / out), (c, nxt, seen, p)


def test_channel_contributions_tell_the_planted_story(demo):
    a = demo.truth["attribution"]
    per_touch = {c: row.get("conversion", 0.0) for c, row in a["transitions"].items()}
    assert sorted(per_touch, key=per_touch.get, reverse=True)[:3] == ["referral", "store", "email"]
    assert min(per_touch, key=per_touch.get) == "tv"          # TV never converts on its own
    story = ["search", "email", "referral", "store", "direct", "social", "tv", "display"]
    assert a["ranking_removal_effect"] == a["ranking_shapley"] == story
    # nothing leads to TV, and TV always leads to the site
    assert all("tv" not in row for row in a["transitions"].values())
    assert a["transitions"]["tv"]["null"] == 0
    # neighbours in the ranking are far enough apart to be told apart on 20,000 paths
    re = [a["removal_effect"][c] for c in story]
    assert min(x / y for x, y in zip(re, re[1:])) > 1.1
    sh = [a["shapley_share"][c] for c in story]
    assert min(x - y for x, y in zip(sh, sh[1:])) > 0.009


def test_email_touches_come_after_the_signup_except_partner_mails(both):
    ev = both.events
    signup = ev.loc[ev["event"] == "signup"].set_index("customer_id")["timestamp"]
    mail = ev.loc[(ev["channel"] == "email") & (ev["timestamp"] < ev["customer_id"].map(signup))]
    assert set(mail["campaign"]) <= {"music_school_partners"}
    src = both.customers.set_index("customer_id")["source_channel"]
    assert (mail["customer_id"].map(src) == "email").all()


def test_segments_differ_in_the_planted_direction(demo):
    pos = demo.orders.loc[~demo.orders["is_return"]]
    per = pos.groupby("customer_id")["amount"].agg(["size", "mean"])
    tc = demo.truth_customers.set_index("customer_id").join(per, how="inner")
    by = tc.groupby("latent_segment").agg(freq=("size", "mean"), aov=("mean", "mean"),
                                          alive=("alive_at_end", "mean"))
    assert set(by.index) == set(spec.SEGMENTS)
    assert by.loc["champions", "freq"] > by.loc["loyal_regulars", "freq"] > by.loc["one_and_done", "freq"]
    assert by.loc["champions", "freq"] == by["freq"].max()
    assert by.loc["big_ticket", "aov"] > 2 * by.drop("big_ticket")["aov"].max()
    assert by.loc["early_lapsers", "alive"] == by["alive"].min()
    assert by.loc["one_and_done", "freq"] < 1.5


def _bgnbd_fit(orders: pd.DataFrame) -> np.ndarray:
    pos = orders.loc[~orders["is_return"]]
    g = pos.groupby("customer_id")["ordered_at"]
    first, last, n = g.min(), g.max(), g.size()
    x = (n - 1).to_numpy(float)
    tx = ((last - first).dt.total_seconds() / 86400).to_numpy()
    T = ((END - first).dt.total_seconds() / 86400).to_numpy()

    def nll(theta):   # Fader, Hardie & Lee (2005), eq. 6
        r, alpha, a, b = np.exp(theta)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b)
        a3 = -(r + x) * np.log(alpha + T)
        a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12))
                      - (r + x) * np.log(alpha + tx), -np.inf)
        return -(a1 + a2 + np.logaddexp(a3, a4)).sum()

    res = minimize(nll, np.log([1.0, 100.0, 1.0, 3.0]), method="Nelder-Mead",
                   options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6})
    return np.exp(res.x)


def test_bgnbd_on_all_buyers_recovers_the_population(demo):
    r, alpha, a, b = _bgnbd_fit(demo.orders)
    truth = demo.truth["purchasing"]["bgnbd"]
    assert r == pytest.approx(truth["r"], rel=0.15)
    assert alpha == pytest.approx(truth["alpha"], rel=0.15)
    assert a / (a + b) == pytest.approx(truth["a"] / (truth["a"] + truth["b"]), abs=0.03)


def test_gamma_gamma_mean_order_value_and_holdout_totals(demo):
    pos = demo.orders.loc[~demo.orders["is_return"]]
    per = pos.groupby("customer_id")["amount"].mean()
    gg = demo.truth["purchasing"]["gamma_gamma"]
    assert per.mean() == pytest.approx(gg["p"] * gg["gamma"] / (gg["q"] - 1), rel=0.08)
    tc = demo.truth_customers
    expected = tc["expected_holdout_transactions"].sum()
    assert abs(tc["holdout_transactions"].sum() - expected) <= 4 * math.sqrt(expected)
    assert (tc.loc[tc["holdout_transactions"] > 0, "alive_at_end"]).all()
    assert not tc.loc[~tc["converted"], "holdout_transactions"].any()


def _unsubscribe_hazard(d) -> dict[str, tuple[int, float]]:
    """Unsubscribes and exposure (days) of subscribed buyers before / after the loss window."""
    ev = d.events
    subscribed = set(ev.loc[ev["event"] == "newsletter_optin", "customer_id"])
    unsub = ev.loc[ev["event"] == "unsubscribe"].set_index("customer_id")["timestamp"]
    buys = d.orders.loc[~d.orders["is_return"] & d.orders["customer_id"].isin(subscribed),
                        ["customer_id", "ordered_at"]].sort_values(["customer_id", "ordered_at"])
    stop_cust = buys["customer_id"].map(unsub).fillna(END)
    nxt = buys.groupby("customer_id")["ordered_at"].shift(-1).fillna(END)
    start = buys["ordered_at"]
    stop = np.minimum(nxt, stop_cust)
    gap = ((stop - start).dt.total_seconds() / 86400).clip(lower=0)
    lw = 90.0
    out = {"before": [0, float(np.minimum(gap, lw).sum())],
           "after": [0, float((gap - lw).clip(lower=0).sum())]}
    ended = (stop_cust <= nxt) & (stop_cust < END) & (start < stop_cust)
    since = (stop_cust[ended] - start[ended]).dt.total_seconds() / 86400
    out["before"][0] = int((since < lw).sum())
    out["after"][0] = int((since >= lw).sum())
    return out


def test_churn_hazard_jumps_after_the_loss_window(demo):
    truth = demo.truth["churn"]
    assert truth["loss_window_days"] == 90
    est = _unsubscribe_hazard(demo)
    for state, planted in (("before", truth["hazard_before_loss_window"]),
                           ("after", truth["hazard_after_loss_window"])):
        events, exposure = est[state]
        monthly = 1 - math.exp(-30 * events / exposure)
        assert abs(monthly - planted) <= 4 * planted / math.sqrt(events), (state, monthly, planted)
    assert est["after"][0] + est["before"][0] == truth["unsubscribes"]


# --------------------------------------------------------------------- (c) consistency

def test_every_purchase_event_has_its_order_and_back(both):
    ev = both.events.loc[both.events["event"].isin(PURCHASE_EVENTS)]
    pos = both.orders.loc[~both.orders["is_return"]]
    a = ev[["customer_id", "timestamp", "revenue"]].set_axis(["customer_id", "ordered_at", "amount"], axis=1)
    key = ["customer_id", "ordered_at"]
    a, b = (f.sort_values(key).reset_index(drop=True) for f in (a, pos[key + ["amount"]]))
    pd.testing.assert_frame_equal(a, b)
    assert both.orders["order_id"].is_unique
    assert ev.loc[ev["event"] == "first_purchase", "customer_id"].value_counts().max() == 1
    first = pos.groupby("customer_id")["ordered_at"].min()
    fp = ev.loc[ev["event"] == "first_purchase"].set_index("customer_id")["timestamp"]
    pd.testing.assert_series_equal(first.sort_index(), fp.sort_index(), check_names=False)


def test_returns_mirror_their_orders(both):
    o = both.orders.set_index("order_id")
    ret = o.loc[o["is_return"]]
    orig = o.loc[ret.index.str.removesuffix("-R")]
    assert (ret["amount"].to_numpy() == -orig["amount"].to_numpy()).all()
    assert (ret["customer_id"].to_numpy() == orig["customer_id"].to_numpy()).all()
    assert (ret["ordered_at"].to_numpy() > orig["ordered_at"].to_numpy()).all()
    assert (ret["amount"] < 0).all() and (o.loc[~o["is_return"], "amount"] > 0).all()
    rr = both.events.loc[both.events["event"] == "return_requested"]
    assert sorted(rr["revenue"]) == sorted(ret["amount"])


def test_time_order_and_windows(both):
    signup = both.customers.set_index("customer_id")["signup_at"]
    ev, o, s = both.events, both.orders, both.surveys
    su = ev.loc[ev["event"] == "signup"].set_index("customer_id")["timestamp"]
    pd.testing.assert_series_equal(su.sort_index(), signup.sort_index(), check_names=False)
    assert (o["ordered_at"] >= o["customer_id"].map(signup)).all()
    first = o.loc[~o["is_return"]].groupby("customer_id")["ordered_at"].min()
    assert (s["answered_at"] > s["customer_id"].map(first)).all()
    for col in (ev["timestamp"], o["ordered_at"], s["answered_at"], signup):
        assert col.min() >= pd.Timestamp("2024-01-01") and col.max() < END
    assert both.spend["date"].min() == pd.Timestamp("2024-01-01")
    assert both.spend["date"].max() == pd.Timestamp("2025-12-31")
    hours = ev["timestamp"].dt.hour
    assert hours.between(8, 23).all()                 # never in a DST gap or overlap


def test_sessions_belong_to_one_customer_and_channel(both):
    s = both.events.dropna(subset=["session_id"]).groupby("session_id")
    assert (s["customer_id"].nunique() == 1).all()
    assert (s["channel"].nunique() == 1).all()


def test_vocabulary_is_complete_and_every_event_maps_to_a_stage(both):
    assert set(both.events["event"]) == set(EVENTS)
    assert set(both.events["channel"]) == set(CHANNELS)
    assert set(both.customers["source_channel"]) == set(CHANNELS)
    assert set(both.truth_customers["latent_segment"]) == set(spec.SEGMENTS) | {"non_buyer"}
    assert set(both.orders["category"]) == set(spec.CATEGORIES)
    rules = yaml.safe_load((DATASETS / both.truth["dataset"] / "client.yaml").read_text())["stage_map"]
    by_pair = {(r["event"], r["channel"]): r["stage"] for r in rules if "channel" in r}
    by_event = {r["event"]: r["stage"] for r in rules if "channel" not in r}
    pairs = both.events[["event", "channel"]].drop_duplicates()
    stages = [by_pair.get((e, c), by_event.get(e)) for e, c in pairs.itertuples(index=False)]
    assert None not in stages
    assert set(stages) == {"awareness", "acquisition", "onboarding", "engagement", "retention", "advocacy"}
    assert by_event == STAGE_OF_EVENT


def test_surveys_and_spend_values_are_in_range(both):
    s = both.surveys
    assert s["nps"].dropna().between(0, 10).all() and s["nps"].isna().any()
    assert s["ces"].between(1, 7).all() and s["csat"].between(1, 5).all()
    assert set(s["stage"]) == {"onboarding", "engagement"}
    sp = both.spend
    assert (sp["spend"] >= 0).all()
    assert not sp.duplicated(["date", "channel", "campaign"]).any()
    media = sp["channel"].isin(["search", "social", "display"])
    assert sp.loc[media, ["impressions", "clicks"]].notna().all().all()
    assert (sp.loc[media, "clicks"] <= sp.loc[media, "impressions"]).all()
    assert sp.loc[sp["channel"] == "tv", "clicks"].isna().all()


def test_counts_in_the_truth_match_the_files(both):
    c = both.truth["counts"]
    assert c["customers"] == len(both.customers) == len(both.truth_customers)
    assert c["events"] == len(both.events)
    assert c["orders"] + c["returns"] == c["order_rows"] == len(both.orders)
    assert c["buyers"] == both.orders["customer_id"].nunique()
    assert c["surveys"] == len(both.surveys) and c["spend_rows"] == len(both.spend)
    assert c["holdout_transactions"] == both.truth_customers["holdout_transactions"].sum()


def test_demo_size_budget():
    sizes = {p.name: p.stat().st_size for p in (DATASETS / "demo").iterdir()}
    assert sum(sizes.values()) < 15_000_000
    assert 200_000 <= load_ground_truth("demo")["counts"]["events"] <= 400_000


# --------------------------------------------------------------------- (d) documented

def _readme_tables() -> dict[str, list[str]]:
    """First column of the first table after each '### `file`' heading of the README."""
    text = (DATASETS / "README.md").read_text()
    out: dict[str, list[str]] = {}
    for m in re.finditer(r"^### `([^`]+)`\n(.*?)(?=^#)", text, re.M | re.S):
        rows = [ln for ln in m.group(2).splitlines() if ln.startswith("|")]
        cells = [re.split(r"(?<!\\)\|", ln)[1].strip() for ln in rows[2:]]
        out[m.group(1)] = [c.strip("`") for c in cells]
    return out


def test_every_column_of_every_file_is_documented(demo):
    documented = _readme_tables()
    frames = {"customers.csv": demo.customers, "events.parquet": demo.events,
              "orders.csv": demo.orders, "surveys.csv": demo.surveys, "spend.csv": demo.spend,
              "truth_customers.csv": demo.truth_customers}
    for fname, frame in frames.items():
        assert documented[fname] == list(frame.columns), fname
    keys = documented["ground_truth.json"]
    listed = {k.strip() for cell in keys for k in cell.replace("`", "").split(",")}
    assert listed == set(demo.truth)


def test_readme_lists_every_event_with_its_stage():
    text = (DATASETS / "README.md").read_text()
    section = text.split("## Event vocabulary", 1)[1].split("\n## ", 1)[0]
    rows = [re.split(r"(?<!\\)\|", ln) for ln in section.splitlines() if ln.startswith("| `")]
    table = {r[1].strip().strip("`"): r[2].strip().split(" ")[0] for r in rows}
    assert table == STAGE_OF_EVENT


def test_readme_truth_tables_match_the_ground_truth():
    text = (DATASETS / "README.md").read_text()
    truths = {n: load_ground_truth(n) for n in ("demo", "tiny")}
    assert refresh_readme(text, truths) == text, "run `python -m cjkit.datasets` to refresh"
    assert text.count("<!-- BEGIN truth:") == 6 and "| `nps.groups.store.nps` |" in text


# --------------------------------------------------------------------- loader

def test_tiny_loads_through_the_kit_without_errors():
    from cjkit.contract.load import load_client

    client = load_client(demo_client_path("tiny"))
    assert client.report.ok
    assert client.events["stage"].notna().all()
    assert len(client.events) == load_ground_truth("tiny")["counts"]["events"]
    assert str(client.events["timestamp"].dt.tz) == "UTC"
