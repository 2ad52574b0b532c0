"""Attribution: heuristics and Markov chains solved by hand, Shapley by brute force, the demo's
planted channel contributions, paths from events, and credit that adds up for every model."""
from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cjkit.attribution import (MODELS, MarkovAttribution, attribution_table, channel_mix, client_paths, encode_paths,
                               heuristic_models, journeys_from_events, markov_model, path_lengths, paths_from_events,
                               roi_table, shapley_model, shapley_values, time_to_conversion, top_paths,
                               transitions_by_step)

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
TRUTH = json.loads((REPO / "datasets" / "demo" / "ground_truth.json").read_text())["attribution"]

# five paths worked by hand below
FIVE = pd.DataFrame({"path": ["search > email", "social > direct > email", "direct",
                              "display > search > direct > direct", "email > search > social > display > email"],
                     "conversions": [2.0, 1.0, 1.0, 1.0, 1.0], "value": [100.0, 40.0, 30.0, 50.0, 80.0],
                     "nulls": [3.0, 2.0, 4.0, 1.0, 0.0]})


def credit(table: pd.DataFrame, model: str, column: str = "conversions") -> dict[str, float]:
    rows = table[table["model"] == model]
    return {c: round(float(v), 10) for c, v in zip(rows["channel"], rows[column]) if abs(v) > 1e-12}


def test_heuristics_on_five_paths_by_hand():
    t = heuristic_models(FIVE, half_life=1.0)
    # first touch: search 2, social 1, direct 1, display 1, email 1
    assert credit(t, "first_touch") == {"search": 2, "social": 1, "direct": 1, "display": 1, "email": 1}
    # last touch: email 2 + 1 + 1, direct 1 + 1
    assert credit(t, "last_touch") == {"email": 4, "direct": 2}
    # last non-direct: path 3 is all direct (keeps direct); path 4 ends direct, direct -> search
    assert credit(t, "last_non_direct") == {"email": 4, "direct": 1, "search": 1}
    # linear: path1 2 x 1/2 each; path2 1/3 each; path3 direct 1; path4 1/4 each (direct twice);
    # path5 1/5 each (email twice)
    assert credit(t, "linear") == pytest.approx({
        "search": 1 + 0.25 + 0.2, "email": 1 + 1 / 3 + 0.4, "social": 1 / 3 + 0.2,
        "direct": 1 / 3 + 1 + 0.5, "display": 0.25 + 0.2}, abs=1e-9)
    # position-based 40/20/40: path1 two touches 50/50; path2 .4 .2 .4; path4 .4 .1 .1 .4; path5 .4 .2/3 x3 .4
    assert credit(t, "position_based") == pytest.approx({
        "search": 1 + 0.1 + 0.2 / 3, "email": 1 + 0.4 + 0.8, "social": 0.4 + 0.2 / 3,
        "direct": 0.2 + 1 + 0.5, "display": 0.4 + 0.2 / 3}, abs=1e-9)
    # time decay, half-life 1 touch: weights 2^-(touches before the last), scaled per path
    two, three, four, five = (np.exp2(-np.arange(n)[::-1]) / np.exp2(-np.arange(n)).sum() for n in (2, 3, 4, 5))
    expected = {"search": 2 * two[0] + four[1] + five[1], "email": 2 * two[1] + three[2] + five[0] + five[4],
                "social": three[0] + five[2], "direct": three[1] + 1 + four[2] + four[3], "display": four[0] + five[3]}
    assert credit(t, "time_decay") == pytest.approx(expected, abs=1e-9)
    # value follows the same weights: last touch value email 100 + 40 + 80, direct 30 + 50
    assert credit(t, "last_touch", "value") == {"email": 220, "direct": 80}


def test_position_based_shares_are_configurable_and_checked():
    t = heuristic_models(FIVE.iloc[[1]], models=["position_based"], first=0.6, last=0.2)
    assert credit(t, "position_based") == pytest.approx({"social": 0.6, "direct": 0.2, "email": 0.2})
    with pytest.raises(ValueError, match="add up to <= 1"):
        heuristic_models(FIVE, models=["position_based"], first=0.7, last=0.5)
    with pytest.raises(ValueError, match="unknown heuristic 'u_shaped'"):
        heuristic_models(FIVE, models=["u_shaped"])


def test_markov_matches_a_three_channel_chain_solved_by_hand():
    """The chain, with weights conversions + nulls per path:

    paths        conv  null   walk
    a > b          2     0    start -> a -> b -> conv (x2)
    a > c          0     2    start -> a -> c -> null (x2)
    b              1     1    start -> b -> conv / null
    c > b          1     1    start -> c -> b -> conv / null

    Counts: start -> a 4, -> b 2, -> c 2 (of 8). a -> b 2, a -> c 2 (of 4). b -> conv 4,
    b -> null 2 (of 6). c -> b 2, c -> null 2 (of 4). So P(conv | b) = 2/3,
    P(conv | c) = 1/2 * 2/3 = 1/3, P(conv | a) = 1/2 * 2/3 + 1/2 * 1/3 = 1/2 and
    P(conv | start) = 1/2 * 1/2 + 1/4 * 2/3 + 1/4 * 1/3 = 1/2.
    Without a (walks into a end in null): 1/4 * 2/3 + 1/4 * 1/3 = 1/4 -> effect 1 - (1/4)/(1/2) = 1/2.
    Without b: no walk converts -> effect 1. Without c: P(a) = 1/3, P(start) = 1/2 * 1/3 + 1/4 * 2/3
    = 1/3 -> effect 1/3. Effects sum to 11/6; the 4 conversions go a 4 * (1/2)/(11/6) = 12/11,
    b 24/11, c 8/11.
    """
    paths = pd.DataFrame({"path": ["a > b", "a > c", "b", "c > b"], "conversions": [2, 0, 1, 1],
                          "value": [60.0, 0.0, 10.0, 30.0], "nulls": [0, 2, 1, 1]})
    m = MarkovAttribution().fit(paths)
    assert m.conversion_probability_ == pytest.approx(0.5, abs=1e-12)
    assert m.removal_effects_["removal_effect"].tolist() == pytest.approx([0.5, 1.0, 1 / 3], abs=1e-12)
    assert m.attribution_["conversions"].tolist() == pytest.approx([12 / 11, 24 / 11, 8 / 11], abs=1e-12)
    matrix = m.transition_matrix()
    assert matrix.loc["(start)", ["a", "b", "c"]].tolist() == pytest.approx([0.5, 0.25, 0.25])
    assert matrix.loc["b", ["(conversion)", "(null)"]].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert matrix.loc["c", ["b", "(null)"]].tolist() == pytest.approx([0.5, 0.5])
    # value: b earns (60 + 10 + 30) / 4 = 25 a conversion, so E[value] = 25 * P(conv) = 12.5 and the value
    # effects equal the conversion effects; the 100 of value are shared like the conversions
    assert m.expected_value_ == pytest.approx(12.5)
    assert m.attribution_["value"].tolist() == pytest.approx([100 * 3 / 11, 100 * 6 / 11, 100 * 2 / 11])


def test_markov_self_transitions_and_higher_order():
    paths = pd.DataFrame({"path": ["a > a > b", "b > a", "a"], "conversions": [1, 1, 0], "nulls": [1, 0, 2]})
    kept, merged = MarkovAttribution().fit(paths), MarkovAttribution(collapse=True).fit(paths)
    # a -> a is a move of its own unless collapsed (a: to a 2, to b 2, conversion 1, null 2, of 7);
    # in order 1 it never changes where a walk ends
    assert kept.transition_matrix().loc["a", "a"] == pytest.approx(2 / 7)
    assert "a" not in merged.transition_matrix().columns or merged.transition_matrix().loc["a", "a"] == 0
    assert kept.removal_effects_["removal_effect"].tolist() == pytest.approx(
        merged.removal_effects_["removal_effect"].tolist())
    # order 2 by hand: states (a), (a, a), (b), (a, b), (b, a). Walks: start-(a)-(a,a)-(a,b) conv 1 null 1;
    # start-(b)-(b,a) conv 1; start-(a) null 2. P(conv | (a)) = 2/4 * 1/2 = 1/4, P(start) = 4/5 * 1/4 + 1/5 = 2/5
    two = MarkovAttribution(order=2).fit(paths)
    assert two.conversion_probability_ == pytest.approx(2 / 5)
    # without b: only no walk converts through (b) or (a, b) -> 0; without a: start -> (b) -> (b, a) removed -> 0
    assert two.removal_effects_["removal_effect"].tolist() == pytest.approx([1.0, 1.0])
    assert set(two.transitions_["from_state"]) == {"(start)", "a", "a > a", "b", "a > b", "b > a"}
    with pytest.raises(ValueError, match="order must be"):
        MarkovAttribution(order=0).fit(paths)


def _brute_shapley(worth: dict[frozenset, float], players: list[str]) -> dict[str, float]:
    n = len(players)
    out = dict.fromkeys(players, 0.0)
    for perm in itertools.permutations(players):
        seen: frozenset = frozenset()
        for p in perm:
            out[p] += worth[seen | {p}] - worth[seen]
            seen = seen | {p}
    return {p: v / math.factorial(n) for p, v in out.items()}


def test_shapley_values_equal_the_average_over_orderings():
    players = ["a", "b", "c", "d"]
    rng = np.random.default_rng(5)
    worth = {frozenset(s): float(rng.random()) if s else 0.0
             for k in range(5) for s in itertools.combinations(players, k)}
    vector = np.array([worth[frozenset(p for i, p in enumerate(players) if m >> i & 1)] for m in range(16)])
    fast = shapley_values(vector, 4)
    for mask in (0b1111, 0b0101, 0b1110):
        sub = [p for i, p in enumerate(players) if mask >> i & 1]
        slow = _brute_shapley({k: v for k, v in worth.items() if k <= set(sub)}, sub)
        assert [fast[mask, players.index(p)] for p in sub] == pytest.approx([slow[p] for p in sub], abs=1e-12)


def test_shapley_by_hand_with_a_baseline_and_the_channel_limit():
    # rates: a 1/5, b 3/10, ab 8/10; baseline 0.1. In {a, b}: a = ((.2-.1) + (.8-.3)) / 2 = .3,
    # b = ((.3-.1) + (.8-.2)) / 2 = .4. Raw credit: a 5 * .1 + 10 * .3 = 3.5, b 10 * .2 + 10 * .4 = 6;
    # 12 conversions shared 3.5 : 6
    paths = pd.DataFrame({"path": ["a", "b", "a > b > a"], "conversions": [1, 3, 8], "nulls": [4, 7, 2]})
    t = shapley_model(paths, baseline=0.1)
    assert t["conversions"].tolist() == pytest.approx([12 * 3.5 / 9.5, 12 * 6 / 9.5])
    auto = shapley_model(paths.assign(nulls=[34, 7, 2]), baseline="auto")  # 35 journeys of a alone, rate 1/35
    assert auto.attrs["baseline"] == pytest.approx(1 / 35)
    many = pd.DataFrame({"path": [" > ".join(f"c{i}" for i in range(16))], "conversions": [1], "nulls": [1]})
    with pytest.raises(ValueError, match="exact for up to 15 channels.*have 16"):
        shapley_model(many)


@pytest.mark.parametrize("fixture", ["attribution_seeded_paths.csv", "attribution_tiny_paths.csv"])
def test_credit_adds_up_to_the_totals_for_every_model(fixture):
    paths = pd.read_csv(FIXTURES / fixture)
    table = attribution_table(paths)
    for order in (2, 3):
        table = pd.concat([table, markov_model(paths, order=order)])
    sums = table.groupby("model")[["conversions", "value", "share"]].sum()
    assert set(sums.index) == set(MODELS) | {"markov_2", "markov_3"}
    assert sums["conversions"].to_numpy() == pytest.approx(paths["conversions"].sum(), rel=1e-12)
    assert sums["value"].to_numpy() == pytest.approx(paths["value"].sum(), rel=1e-12)
    assert sums["share"].to_numpy() == pytest.approx(1.0)


def test_journeys_from_events_by_hand():
    ts = pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-09", "2024-01-10", "2024-01-20", "2024-01-21",
                         "2024-01-02", "2024-01-03"])
    ev = pd.DataFrame({"customer_id": ["a"] * 6 + ["b"] * 2, "timestamp": ts,
                       "channel": ["tv", "search", "email", "email", "social", "direct", "display", "search"],
                       "event": ["view", "click", "open", "purchase", "view", "purchase", "view", "click"],
                       "revenue": [None, None, None, 70.0, None, 20.0, None, None]})
    j = journeys_from_events(ev, conversion="purchase")
    assert j[["path", "converted", "value"]].values.tolist() == [
        ["tv > search > email", True, 70.0], ["social", True, 20.0], ["display > search", False, 0.0]]
    assert j["end_at"].tolist() == [ts[3], ts[5], ts[7]]
    short = journeys_from_events(ev, conversion="purchase", lookback_days=5)  # touches from Jan 5 on
    assert short["path"].tolist() == ["search > email", "social", "display > search"]
    assert short.attrs["left_out"] == 1
    # the loader gives UTC-aware times: the same journeys, and the conversion time keeps its zone
    aware = journeys_from_events(ev.assign(timestamp=ts.tz_localize("UTC")), conversion="purchase", lookback_days=5)
    assert aware["path"].tolist() == short["path"].tolist() and aware.attrs["left_out"] == 1
    assert aware["end_at"].tolist() == [t.tz_localize("UTC") for t in (ts[3], ts[5], ts[7])]
    paths = paths_from_events(ev, conversion="purchase")
    assert paths[["path", "conversions", "nulls"]].values.tolist() == [  # most conversions, then nulls, then name
        ["social", 1, 0], ["tv > search > email", 1, 0], ["display > search", 0, 1]]
    t = time_to_conversion(j, bins=(0, 5, 10))
    assert t["conversions"].tolist() == [1, 1, 0] and t.attrs["median_days"] == pytest.approx(5.0)  # 9 and 1 days


def test_path_analysis_by_hand():
    assert top_paths(FIVE, 2)["path"].tolist() == ["search > email", "direct"]  # ties: more nulls first
    lengths = path_lengths(FIVE)
    assert lengths.values.tolist() == [[1, 1, 4, 0.2], [2, 2, 3, 0.4], [3, 1, 2, 1 / 3], [4, 1, 1, 0.5],
                                       [5, 1, 0, 1.0]]
    mix = channel_mix(FIVE).set_index("channel")
    assert mix.loc["email"].tolist() == pytest.approx([1 / 6, 4 / 6, 4 / 6])
    steps = transitions_by_step(FIVE, steps=1)
    assert steps.values.tolist() == [[1, "search", "email", 5.0], [1, "social", "direct", 3.0],
                                     [1, "display", "search", 2.0], [1, "email", "search", 1.0]]


def test_roi_by_hand_keeps_every_channel_and_all_spend():
    att = attribution_table(FIVE, models=["last_touch"])
    spend = pd.DataFrame({"channel": ["email", "email", "tv"], "spend": [30.0, 30.0, 25.0]})
    roi = roi_table(att, spend).set_index("channel")
    assert roi.loc["email", ["spend", "conversions", "value", "cpa", "roas"]].tolist() == [60, 4, 220, 15, 220 / 60]
    assert roi.loc["tv", "spend"] == 25 and roi.loc["tv", "conversions"] == 0 and np.isnan(roi.loc["tv", "cpa"])
    assert np.isnan(roi.loc["direct", "roas"]) and roi["spend"].sum() == 85


def test_encoding_rejects_empty_channels_and_reads_other_separators():
    with pytest.raises(ValueError, match="empty channel"):
        encode_paths(pd.DataFrame({"path": ["a >  > b"], "conversions": [1]}))
    enc = encode_paths(pd.DataFrame({"path": ["a>b>a"], "conversions": [1]}), sep=">")
    assert enc.channels.tolist() == ["a", "b"] and enc.codes.tolist() == [0, 1, 0]


@pytest.fixture(scope="module")
def demo_paths():
    from cjkit.contract.load import load_client

    events = load_client(REPO / "datasets" / "demo" / "client.yaml").events
    return paths_from_events(events, conversion="first_purchase", trailing="drop")


def test_demo_paths_follow_the_planted_definition(demo_paths):
    # one path per customer: channels strictly before the first purchase, all events when none
    assert demo_paths["conversions"].sum() == TRUTH["conversions"]
    assert (demo_paths["conversions"] + demo_paths["nulls"]).sum() == TRUTH["paths"]
    enc = encode_paths(demo_paths)
    touched = {}
    for i, c in enumerate(enc.channels):
        hit = np.zeros(len(demo_paths), dtype=bool)
        hit[enc.path_of_touch[enc.codes == i]] = True
        touched[c] = int((demo_paths["conversions"] + demo_paths["nulls"])[hit].sum())
    assert touched == TRUTH["paths_touched"]


def test_shapley_recovers_the_planted_ranking_on_demo(demo_paths):
    t = shapley_model(demo_paths)  # baseline "auto": the lowest single-channel rate (display alone)
    ranking = t.sort_values("conversions", ascending=False)["channel"].tolist()
    assert ranking == TRUTH["ranking_shapley"]
    assert t.attrs["baseline"] == pytest.approx(TRUTH["shapley_baseline"], abs=0.005)
    # and close to the planted shares (computed from the chain, not from these paths)
    share = dict(zip(t["channel"], t["share"]))
    assert all(abs(share[c] - TRUTH["shapley_share"][c]) < 0.01 for c in share), share


def test_markov_recovers_the_planted_removal_effects_on_demo(demo_paths):
    """The demo's paths are walks on a planted first-order chain, so the exact Markov model
    estimates the planted removal effects: same order, each within 0.01."""
    m = MarkovAttribution().fit(demo_paths)
    re = m.removal_effects_.sort_values("removal_effect", ascending=False)
    assert re["channel"].tolist() == TRUTH["ranking_removal_effect"]
    got = dict(zip(re["channel"], re["removal_effect"]))
    assert all(abs(got[c] - TRUTH["removal_effect"][c]) < 0.01 for c in got), got
    assert m.conversion_probability_ == pytest.approx(TRUTH["conversion_probability"], abs=0.01)
    # the fitted transition matrix is the planted one (each move within 0.02)
    tm = m.transition_matrix()
    for c, row in TRUTH["transitions"].items():
        moves = tm.loc[c].drop(c)                      # self-moves also count repeated events
        leave = moves.sum()
        planted = {d: p for d, p in row.items() if d != c}
        planted_leave = sum(planted.values())
        for d, p in planted.items():
            key = {"conversion": "(conversion)", "null": "(null)"}.get(d, d)
            assert moves.get(key, 0.0) / leave == pytest.approx(p / planted_leave, abs=0.02), (c, d)


def test_higher_orders_find_the_same_first_order_chain_on_demo(demo_paths):
    """A first-order walk seen through a longer memory: orders 2 and 3 keep the planted order.
    Each touch leaves one to four events of its channel, so without collapsing repeats an
    order-2 state mixes "another event of this touch" with "a new touch" and the effects drift
    (up to 0.03); collapsed, every order is within 0.01 of the planted values."""
    for order in (2, 3):
        for collapse in (False, True):
            re = MarkovAttribution(order=order, collapse=collapse).fit(demo_paths).removal_effects_
            re = re.sort_values("removal_effect", ascending=False)
            assert re["channel"].tolist() == TRUTH["ranking_removal_effect"], (order, collapse)
            gap = max(abs(v - TRUTH["removal_effect"][c]) for c, v in zip(re["channel"], re["removal_effect"]))
            assert gap < (0.01 if collapse else 0.04), (order, collapse, gap)


def test_markov_credits_reach_and_shapley_lift_on_demo(demo_paths):
    """Same order, different shares. Markov credits a channel for every conversion whose walk
    passes through it, Shapley for the rise in conversion rate it brings: the four weakest
    channels (direct, social, tv, display; planted 28% of Markov's credit, 10% of Shapley's)
    get much more from Markov, and TV, which only brings viewers to the site, about nothing
    from Shapley."""
    table = attribution_table(demo_paths, models=["markov", "shapley"])
    share = table.pivot(index="channel", columns="model", values="share")
    weak = ["direct", "social", "tv", "display"]
    planted_markov = sum(TRUTH["removal_effect_share"][c] for c in weak)
    planted_shapley = sum(TRUTH["shapley_share"][c] for c in weak)
    assert share.loc[weak, "markov"].sum() == pytest.approx(planted_markov, abs=0.01)
    assert share.loc[weak, "shapley"].sum() == pytest.approx(planted_shapley, abs=0.01)
    assert share.loc[weak, "markov"].sum() > 2 * share.loc[weak, "shapley"].sum()
    assert share.loc["tv", "markov"] > 0.03 > abs(share.loc["tv", "shapley"])


def test_figures_draw_the_credit_of_each_model():
    import matplotlib

    matplotlib.use("Agg")
    import cjkit.plots as plots

    table = attribution_table(FIVE, models=["first_touch", "last_touch"])
    ax = plots.attribution_bars(table)
    order = [t.get_text() for t in ax.get_xticklabels()]
    heights = [round(float(p.get_height()), 10) for p in ax.patches]
    # channels by mean share: email (1/6 + 4/6), direct (1/6 + 2/6), search (2/6 + 0), then social/display (1/6 + 0)
    assert order[:3] == ["email", "direct", "search"]
    first = dict(zip(table.loc[table["model"] == "first_touch", "channel"], table["share"]))
    assert heights[: len(order)] == [round(first[c], 10) for c in order]
    removal = MarkovAttribution().fit(FIVE).removal_effects_
    ax = plots.removal_effect_bars(removal)
    assert [float(p.get_width()) for p in ax.patches] == sorted(removal["removal_effect"], reverse=True)
    ax = plots.path_length_bars(path_lengths(FIVE))
    assert [float(p.get_height()) for p in ax.patches] == [4, 3, 2, 1, 0, 1, 2, 1, 1, 1]
    roi = roi_table(table, pd.DataFrame({"channel": ["email", "search"], "spend": [10.0, 40.0]}))
    ax = plots.roas_bars(roi)
    assert [float(p.get_height()) for p in ax.patches] == [80 / 10, 100 / 40, 220 / 10, 0.0]  # first touch, then last touch


def test_encoding_many_paths_in_two_halves_equals_one_pass():
    many = pd.concat([FIVE] * 40_001, ignore_index=True)  # 200,005 rows: split on two threads
    enc, one = encode_paths(many), encode_paths(FIVE)
    assert enc.starts[-1] == 40_001 * one.starts[-1] and len(enc.starts) == len(many) + 1
    assert (enc.codes.reshape(40_001, -1) == one.codes).all()


def _absorbing_effects(T: np.ndarray, states: list[str]) -> tuple[float, dict[str, float]]:
    """P(conversion from start) of a planted chain and each channel's removal effect, by the
    fundamental matrix (I - Q)^-1 R; states = ["(start)", channels..., "(conversion)", "(null)"]."""
    transient = len(states) - 2

    def p_conv(matrix: np.ndarray) -> float:
        Q, R = matrix[:transient, :transient], matrix[:transient, transient:]
        return float(np.linalg.solve(np.eye(transient) - Q, R)[0, 0])

    base = p_conv(T)
    effects = {}
    for i, name in enumerate(states[1:transient], start=1):
        removed = T.copy()
        removed[:, len(states) - 1] += removed[:, i]  # every move into the channel ends in null instead
        removed[:, i] = 0.0
        effects[name] = 1 - p_conv(removed) / base
    return base, effects


def test_markov_recovers_a_planted_chain_from_simulated_journeys():
    """Journeys drawn from a known absorbing chain (200,000 walks, seeded): the fitted chain's
    conversion probability and removal effects equal the planted chain's within sampling error,
    in the same rank order. (On the demo the journeys are not drawn from a chain, see below.)"""
    states = ["(start)", "search", "email", "display", "referral", "(conversion)", "(null)"]
    T = np.array([
        # start search email display referral conv  null
        [0.0,  0.40,  0.20,  0.30,   0.10,    0.00, 0.00],   # (start)
        [0.0,  0.10,  0.25,  0.05,   0.05,    0.25, 0.30],   # search
        [0.0,  0.15,  0.10,  0.05,   0.05,    0.35, 0.30],   # email
        [0.0,  0.35,  0.10,  0.15,   0.05,    0.05, 0.30],   # display
        [0.0,  0.10,  0.10,  0.05,   0.05,    0.50, 0.20],   # referral
        [0.0,  0.0,   0.0,   0.0,    0.0,     1.0,  0.0],
        [0.0,  0.0,   0.0,   0.0,    0.0,     0.0,  1.0],
    ])
    base, planted = _absorbing_effects(T, states)
    rng = np.random.default_rng(2026)
    walks: dict[tuple[str, bool], int] = {}
    cum = T.cumsum(axis=1)
    for _ in range(200_000):
        state, path = 0, []
        while True:
            state = int(np.searchsorted(cum[state], rng.random(), side="right"))
            if state >= 5:
                break
            path.append(states[state])
        key = (" > ".join(path), state == 5)
        walks[key] = walks.get(key, 0) + 1
    rows = pd.DataFrame([(p, n if conv else 0, 0 if conv else n) for (p, conv), n in walks.items()],
                        columns=["path", "conversions", "nulls"]).groupby("path", as_index=False).sum()
    m = MarkovAttribution().fit(rows)
    assert m.conversion_probability_ == pytest.approx(base, abs=0.004)
    got = m.removal_effects_.set_index("channel")["removal_effect"].to_dict()
    assert got == pytest.approx(planted, abs=0.01)
    assert sorted(got, key=got.get) == sorted(planted, key=planted.get)


def test_client_paths_from_events_or_from_the_export():
    """A client with events builds its paths (unless told to read its export); one with only
    an export reads it; the sentence says which, and what was left out."""

    class Client:
        def __init__(self, **tables):
            self.tables = tables

        def has(self, name):
            return name in self.tables

        def __getattr__(self, name):
            return self.__dict__["tables"][name]

    events = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                           "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-01"], utc=True),
                           "channel": ["search", "email", "email", "tv"], "event": ["visit", "open", "buy", "visit"],
                           "revenue": [None, None, 30.0, None]})
    export = pd.DataFrame({"path": ["tv > email"], "conversions": [2.0], "value": [50.0], "nulls": [1.0]})
    paths, journeys, text = client_paths(Client(events=events, paths=export), conversion="buy", trailing="null")
    assert paths[["path", "conversions", "value", "nulls"]].values.tolist() == [["search > email", 1, 30.0, 0],
                                                                              ["tv", 0, 0.0, 1]]
    assert len(journeys) == 2
    assert text == ("built from 4 events: a path ends at each `buy` event; 0 events left out (outside the lookback "
                    "window, after the last conversion, or conversions with no touch before them)")
    paths, journeys, text = client_paths(Client(events=events, paths=export), source="paths")
    assert paths["path"].tolist() == ["tv > email"] and journeys is None
    assert text == "read from the client's paths table (1 distinct paths)"
    assert client_paths(Client(paths=export), source="events")[1] is None  # no events: the export, whatever asked
    with pytest.raises(ValueError, match='source must be "auto", "events" or "paths"'):
        client_paths(Client(paths=export), source="both")


@pytest.mark.notebook
def test_notebook_09_on_demo_recovers_the_planted_ranking(tmp_path):
    """The done-when of the attribution issue, through a real `cjkit run` of notebook 09 on the
    demo client: the records other parts of the kit read carry the planted order of channels."""
    import subprocess
    import sys

    out = tmp_path / "reports"
    cjkit_cli = str(Path(sys.executable).parent / "cjkit")
    done = subprocess.run([cjkit_cli, "run", "--notebooks", "notebooks/09_attribution_and_paths.ipynb",
                           "--client", "datasets/demo/client.yaml", "--out", str(out), "-q"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    records = json.loads((out / "results.json").read_text())["records"]  # one client: no subfolder
    rec = {r["name"]: r["value"] for r in records if r["notebook"] == "09_attribution_and_paths"}

    def frame(value):
        return pd.DataFrame(value["data"], columns=value["columns"])

    removal = frame(rec["markov_removal_effects"])
    assert list(removal.columns) == ["channel", "removal_effect"]
    assert removal["channel"].tolist() == TRUTH["ranking_removal_effect"]
    assert dict(zip(removal["channel"], removal["removal_effect"])) == pytest.approx(TRUTH["removal_effect"], abs=0.01)
    assert rec["markov_conversion_probability"] == pytest.approx(TRUTH["conversion_probability"], abs=0.01)
    table = frame(rec["attribution"])
    assert list(table.columns) == ["model", "channel", "conversions", "value", "share"]
    shapley = table[table["model"] == "shapley"].sort_values("conversions", ascending=False)
    assert shapley["channel"].tolist() == TRUTH["ranking_shapley"]
    assert table.groupby("model")["conversions"].sum().to_numpy() == pytest.approx(TRUTH["conversions"])
    contrast = frame(rec["markov_vs_shapley"])
    assert (contrast["rank_markov"] == contrast["rank_shapley"]).all()
    page = (out / "09_attribution_and_paths.html").read_text()
    assert "Markov and Shapley rank the channels in the same order" in page


def test_compare_models_by_hand_and_its_errors():
    from cjkit.attribution import compare_models

    table = attribution_table(FIVE, models=["first_touch", "last_touch"])
    c = compare_models(table, "first_touch", "last_touch").set_index("channel")
    # first touch (6 conversions): search 2, social, direct, display, email 1 each;
    # last touch: email 4 (paths 1, 2, 5), direct 2 (paths 3, 4)
    assert (c["difference"] * 6).round(10).to_dict() == {"search": 2, "social": 1, "direct": -1, "display": 1,
                                                        "email": -3}
    assert c["rank_first_touch"].to_dict() == {"search": 1, "social": 2, "direct": 2, "display": 2, "email": 2}
    assert c["rank_last_touch"].to_dict() == {"search": 3, "social": 3, "direct": 2, "display": 3, "email": 1}
    summary = c.attrs["summary"]
    assert summary == (
        "First touch and last touch rank the channels differently: search 1 against 3, display 2 against 3, "
        "email 2 against 1, social 2 against 3. First touch gives more credit than last touch to search, display, "
        "social (67% against 0%); last touch gives more to direct, email (100% against 33%). Last touch gives "
        "search, display, social 0.5% of the credit or less.")
    with pytest.raises(ValueError, match="no model 'markov'; it has first_touch, last_touch"):
        compare_models(table)


@pytest.mark.notebook
def test_notebook_09_passes_order_and_collapse_to_the_chain(tmp_path):
    import subprocess
    import sys

    from cjkit.contract.load import load_client

    out = tmp_path / "reports"
    done = subprocess.run([str(Path(sys.executable).parent / "cjkit"), "run", "--notebooks",
                           "notebooks/09_attribution_and_paths.ipynb", "--client", "tiny", "--out", str(out), "-q",
                           "-p", "markov_order=2", "-p", "collapse_repeats=true"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    records = json.loads((out / "results.json").read_text())["records"]
    got = next(r["value"] for r in records if r["name"] == "markov_removal_effects")
    got = dict(got["data"])
    paths = paths_from_events(load_client(REPO / "datasets" / "tiny" / "client.yaml").events,
                              conversion="first_purchase", trailing="drop")
    want = MarkovAttribution(order=2, collapse=True).fit(paths).removal_effects_
    assert got == pytest.approx(dict(zip(want["channel"], want["removal_effect"])), abs=1e-9)
    plain = MarkovAttribution(order=2).fit(paths).removal_effects_
    assert got != pytest.approx(dict(zip(plain["channel"], plain["removal_effect"])), abs=1e-6)  # it mattered
