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
    CHANNELS, EVENTS, PRESETS, PURCHASE_EVENTS, STAGE_OF_EVENT, channel_contributions,
    client_yaml, demo_client_path, generate, load_ground_truth, noisy_or, read_demo, write_demo,
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


def test_exact_contributions_on_a_hand_made_three_path_example():
    w = {"email": 0.5, "display": 0.2, "tv": 0.1}
    b = 0.1
    paths = [["email", "display", "email"], ["display", "tv"], []]
    # by hand: f(email,display) = 1 - .9*.5*.8 = .64, f(email) = .55, f(display) = .28;
    # path 1: email = (.55-.1)/2 + (.64-.28)/2 = .405, display = (.28-.1)/2 + (.64-.55)/2 = .135
    # path 2: f(display,tv) = 1 - .9*.8*.9 = .352, f(tv) = .19;
    #         display = (.28-.1)/2 + (.352-.19)/2 = .171, tv = (.19-.1)/2 + (.352-.28)/2 = .081
    out = channel_contributions(paths, weights=w, baseline=b)
    assert out.loc["email", "shapley"] == pytest.approx(0.405)
    assert out.loc["display", "shapley"] == pytest.approx(0.135 + 0.171)
    assert out.loc["tv", "shapley"] == pytest.approx(0.081)
    # removal: path 1 email .64-.28, display .64-.55; path 2 display .352-.19, tv .352-.28
    assert out.loc["email", "removal_effect"] == pytest.approx(0.36)
    assert out.loc["display", "removal_effect"] == pytest.approx(0.09 + 0.162)
    assert out.loc["tv", "removal_effect"] == pytest.approx(0.072)
    assert out.attrs["expected_conversions"] == pytest.approx(0.64 + 0.352 + 0.1)
    assert out["shapley"].sum() == pytest.approx(0.64 + 0.352 + 0.1 - 3 * b)
    for path in paths:       # and the brute-force definition agrees path by path
        players = sorted(set(path))
        if players:
            brute = _brute_force_shapley(players, lambda s: noisy_or(s, w, b))
            exact = channel_contributions([path], weights=w, baseline=b)["shapley"]
            assert brute == pytest.approx(exact[players].to_dict())


def test_stored_contributions_add_up(both):
    a = both.truth["attribution"]
    assert sum(a["shapley"].values()) + a["baseline_conversions"] == pytest.approx(
        a["expected_conversions"], abs=1e-3)
    assert a["baseline_conversions"] == pytest.approx(a["paths"] * a["baseline"])
    assert sum(a["shapley_share"].values()) == pytest.approx(1.0, abs=1e-5)
    assert sum(a["removal_effect_share"].values()) == pytest.approx(1.0, abs=1e-5)


def _paths_from_events(events: pd.DataFrame, customers: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    first = events.loc[events["event"] == "first_purchase"].set_index("customer_id")["timestamp"]
    cut = events["customer_id"].map(first)
    before = events.loc[cut.isna() | (events["timestamp"] < cut)]
    sets = before.groupby("customer_id")["channel"].agg(lambda s: frozenset(s))
    sets = sets.reindex(customers["customer_id"], fill_value=frozenset())
    converted = customers["customer_id"].isin(first.index).set_axis(customers["customer_id"])
    return sets, converted


def test_stored_contributions_match_the_paths_in_the_events(both):
    a = both.truth["attribution"]
    sets, converted = _paths_from_events(both.events, both.customers)
    canonical = sets.map(lambda s: "|".join(c for c in CHANNELS if c in s))
    tc = both.truth_customers.set_index("customer_id")
    assert (canonical == tc["channel_set"].reindex(canonical.index)).all()
    assert (converted == tc["converted"].reindex(converted.index)).all()
    out = channel_contributions(sets.tolist(), weights=a["weights"], baseline=a["baseline"])
    for c in CHANNELS:
        assert out.loc[c, "shapley"] == pytest.approx(a["shapley"][c], abs=1e-5)
        assert out.loc[c, "removal_effect"] == pytest.approx(a["removal_effect"][c], abs=1e-5)
    # observed conversions agree with the mechanism
    f = np.array([noisy_or(s, a["weights"], a["baseline"]) for s in sets])
    assert abs(converted.sum() - f.sum()) <= 4 * math.sqrt((f * (1 - f)).sum())


def test_channel_strengths_tell_the_planted_story(demo):
    a = demo.truth["attribution"]
    w = a["weights"]
    assert sorted(w, key=w.get, reverse=True)[:3] == ["referral", "store", "email"]
    assert a["ranking_shapley"][0] == "email"
    assert set(a["ranking_shapley"][-2:]) == {"display", "tv"}
    rate = a["conversion_rate_when_touched"]
    assert rate["referral"] > rate["email"] > rate["search"] > rate["display"]


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
