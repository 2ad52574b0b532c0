"""Tests for cjkit.journey: models, crosswalk, stage maps and furthest stages.

Expected values are written out by hand from the model YAMLs and the seeds
(000/004: six stages, 001: five stages, 002: funnel variant).
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from cjkit.journey import (JourneyLookupError, JourneyModel, JourneyModelError, Stage,
                           builtin_models, crosswalk, get_model, translate_stages)
from cjkit.stage_map import StageMap
from cjkit.stages import furthest_stage, stage_counts

SIX = ("awareness", "acquisition", "onboarding", "engagement", "retention", "advocacy")
FIVE = ("awareness", "consideration", "purchase", "retention", "advocacy")
FUNNEL = ("awareness", "consideration", "acquisition_purchase", "consume_retention", "advocacy_loyalty")


# --- built-in models -------------------------------------------------------------------

def test_builtin_models_and_stage_orders():
    assert builtin_models() == ["five_stage", "five_stage_funnel", "six_stage"]
    assert get_model("six_stage").stage_ids == SIX
    assert get_model("five_stage").stage_ids == FIVE
    assert get_model("five_stage_funnel").stage_ids == FUNNEL
    assert get_model("five_stage_funnel").stage_names == (
        "Awareness", "Consideration", "Acquisition/Purchase", "Consume/Retention", "Advocacy/Loyalty")
    assert [s.order for s in get_model("six_stage").stages] == [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("key, expected", [
    ("six_stage", "six_stage"), ("six-stage", "six_stage"), ("Six Stage", "six_stage"), ("6", "six_stage"),
    ("Six-stage customer journey", "six_stage"), ("5", "five_stage"), ("five", "five_stage"),
    ("funnel", "five_stage_funnel"), ("Five-stage purchase funnel", "five_stage_funnel"),
])
def test_get_model_accepts_ids_names_and_aliases(key, expected):
    assert get_model(key).id == expected


def test_every_stage_is_documented():
    for model_id in builtin_models():
        m = get_model(model_id)
        assert m.source.startswith("seed 00") and m.description
        for s in m.stages:
            assert s.description and s.pre_sale is not None, (model_id, s.id)


def test_pre_sale_flags_follow_the_seeds():
    # seed 001 labels Awareness and Consideration pre-sale, Purchase onwards post-sale;
    # in six stages only Awareness and Acquisition (becoming a lead) precede the first purchase.
    assert [s.pre_sale for s in get_model("five_stage").stages] == [True, True, False, False, False]
    assert [s.pre_sale for s in get_model("six_stage").stages] == [True, True, False, False, False, False]


@pytest.mark.parametrize("model, key, expected", [
    ("five_stage", "Discovery", "awareness"),
    ("five_stage", "  PURCHASE ", "purchase"),
    ("five_stage_funnel", "acquisition/purchase", "acquisition_purchase"),
    ("five_stage_funnel", "Acquisition / Purchase", "acquisition_purchase"),
    ("five_stage_funnel", "acquisition-purchase", "acquisition_purchase"),
    ("five_stage_funnel", "Knowledge", "awareness"),
    ("five_stage_funnel", "Test/Experience", "acquisition_purchase"),
    ("five_stage_funnel", "Repetition", "consume_retention"),
    ("five_stage_funnel", "Loyalty", "advocacy_loyalty"),
    ("six_stage", "win back", "retention"),
    ("six_stage", "Opt-in", "acquisition"),
])
def test_stage_lookup_by_id_name_alias(model, key, expected):
    assert get_model(model).stage(key).id == expected


def test_stage_lookup_accepts_a_stage_object():
    m = get_model("six_stage")
    assert m.stage(m.stages[2]) is m.stages[2]


def test_unknown_stage_error_lists_stages_and_suggests_closest():
    with pytest.raises(KeyError) as info:
        get_model("six_stage").stage("aquisition")
    msg = str(info.value)
    assert isinstance(info.value, JourneyLookupError)
    assert "unknown stage 'aquisition'" in msg and "'six_stage'" in msg
    assert "valid stages: Awareness, Acquisition, Onboarding, Engagement, Retention, Advocacy." in msg
    assert msg.endswith("Did you mean 'Acquisition'?")


def test_unknown_stage_without_close_match_has_no_suggestion():
    with pytest.raises(JourneyLookupError) as info:
        get_model("five_stage").stage("xyzzy")
    assert "Did you mean" not in str(info.value)


def test_unknown_model_error():
    with pytest.raises(JourneyLookupError) as info:
        get_model("six_stages")
    msg = str(info.value)
    assert "unknown journey model 'six_stages'" in msg
    assert "five_stage, five_stage_funnel, six_stage" in msg and "Did you mean 'six_stage'?" in msg


def test_to_frame():
    frame = get_model("five_stage").to_frame()
    assert list(frame.columns) == ["order", "id", "name", "aliases", "description", "pre_sale"]
    assert frame["order"].tolist() == [1, 2, 3, 4, 5]
    assert frame["id"].tolist() == list(FIVE)
    assert frame.loc[0, "aliases"] == "Discovery"
    assert frame["pre_sale"].tolist() == [True, True, False, False, False]


def test_models_are_frozen():
    m = get_model("six_stage")
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.id = "other"
    assert m == get_model("6") and hash(m) == hash(get_model("6"))


# --- custom models ---------------------------------------------------------------------

CUSTOM = """
id: saas_trial
name: SaaS trial journey
source: client workshop
stages:
  - name: Visit
    aliases: [Landing]
  - id: trial
    name: Free trial
    description: Uses the product for 14 days.
    pre_sale: true
  - Paid
"""


def test_custom_model_from_yaml(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    for key in (path, str(path)):
        m = get_model(key)
        assert (m.id, m.name, m.source) == ("saas_trial", "SaaS trial journey", "client workshop")
        assert m.stage_ids == ("visit", "trial", "paid")
        assert m.stage("landing").id == "visit" and m.stage("free trial").id == "trial"
        assert m.stage("trial") == Stage("trial", "Free trial", 2, (), "Uses the product for 14 days.", True)


BAD_MODELS = {
    "duplicate_ids": ("id: m\nstages:\n  - {id: a, name: A}\n  - {id: a, name: B}", "duplicate stage id(s) ['a']"),
    "no_model_id": ("stages:\n  - {name: A}", "model id '' is missing"),
    "duplicate_alias": ("id: m\nstages:\n  - {name: Lead, aliases: [Prospect]}\n"
                        "  - {name: Customer, aliases: [prospect]}",
                        "'prospect' of stage 'customer' is also used by stage 'lead'"),
    "alias_equals_other_name": ("id: m\nstages:\n  - {name: A, aliases: [B]}\n  - {name: B}",
                                "'b' of stage 'b' is also used by stage 'a'"),
    "empty_stages": ("id: m\nname: M\nstages: []", "the stage list is empty or missing"),
    "no_stages": ("id: m\nname: M", "the stage list is empty or missing"),
    "missing_name": ("id: m\nstages:\n  - {name: A}\n  - {id: b, description: no name}",
                     "stage 2 (id 'b') has no name"),
    "bad_id": ("id: m\nstages:\n  - {id: Big Stage, name: Big}", "stage 1 id 'Big Stage' is not snake_case"),
    "unknown_key": ("id: m\nstage: []", "unknown key(s) ['stage']"),
    "unknown_stage_key": ("id: m\nstages:\n  - {name: A, alias: [x]}", "stage 1"),
    "not_a_mapping": ("- a\n- b", "expected a mapping"),
    "bad_yaml": ("id: m\nstages: [\n", "cannot read it"),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_bad_model_yaml_names_file_and_problem(tmp_path, case):
    text, problem = BAD_MODELS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(JourneyModelError) as info:
        JourneyModel.from_yaml(path)
    assert str(path) in str(info.value) and problem in str(info.value)


def test_missing_model_file_is_reported(tmp_path):
    with pytest.raises(JourneyModelError, match="nope.yaml: cannot read it"):
        get_model(tmp_path / "nope.yaml")


def test_from_dict_and_direct_construction_validate():
    m = JourneyModel.from_dict({"name": "Two step", "stages": ["Look", "Buy"]})
    assert (m.id, m.stage_ids) == ("two_step", ("look", "buy"))
    with pytest.raises(JourneyModelError, match="journey model: the stage list is empty"):
        JourneyModel.from_dict({"id": "x", "stages": []})
    with pytest.raises(JourneyModelError, match="journey model 'x': the stage list is empty"):
        JourneyModel("x", "X", ())


# --- crosswalk -------------------------------------------------------------------------

FIVE_TO_SIX = [
    ("awareness", "awareness"), ("consideration", "acquisition"), ("purchase", "onboarding"),
    ("purchase", "engagement"), ("retention", "onboarding"), ("retention", "engagement"),
    ("retention", "retention"), ("advocacy", "advocacy"),
]


def pairs(frame):
    return list(zip(frame["source_stage"], frame["target_stage"]))


def test_crosswalk_five_to_six():
    xw = crosswalk("five_stage", "six_stage")
    assert list(xw.columns) == ["source_stage", "target_stage", "note"]
    assert pairs(xw) == FIVE_TO_SIX
    assert "lead" in xw.loc[1, "note"] and "first purchase" in xw.loc[2, "note"]


def test_crosswalk_six_to_five_is_the_inverse_in_six_stage_order():
    xw = crosswalk("6", "5")
    assert pairs(xw) == [
        ("awareness", "awareness"), ("acquisition", "consideration"), ("onboarding", "purchase"),
        ("onboarding", "retention"), ("engagement", "purchase"), ("engagement", "retention"),
        ("retention", "retention"), ("advocacy", "advocacy")]


def test_crosswalk_five_to_funnel_is_one_to_one():
    assert pairs(crosswalk("five_stage", "funnel")) == list(zip(FIVE, FUNNEL))


@pytest.mark.parametrize("a, b", [("five_stage", "six_stage"), ("five_stage", "five_stage_funnel")])
def test_crosswalk_round_trip(a, b):
    forward, back = crosswalk(a, b), crosswalk(b, a)
    swapped = back.rename(columns={"source_stage": "target_stage", "target_stage": "source_stage"})
    key = ["source_stage", "target_stage"]
    pdt.assert_frame_equal(forward.sort_values(key).reset_index(drop=True),
                           swapped[forward.columns].sort_values(key).reset_index(drop=True))


@pytest.mark.parametrize("model", ["five_stage", "five_stage_funnel", "six_stage"])
def test_crosswalk_identity(model):
    xw = crosswalk(model, model)
    ids = list(get_model(model).stage_ids)
    assert xw["source_stage"].tolist() == ids and xw["target_stage"].tolist() == ids


def test_stored_crosswalks_cover_every_stage_with_a_note():
    for a, b in [("five_stage", "six_stage"), ("five_stage", "five_stage_funnel")]:
        xw = crosswalk(a, b)
        assert set(xw["source_stage"]) == set(get_model(a).stage_ids)
        assert set(xw["target_stage"]) == set(get_model(b).stage_ids)
        assert (xw["note"].str.len() > 20).all()


def test_crosswalk_without_stored_mapping(tmp_path):
    with pytest.raises(JourneyLookupError, match="no crosswalk between journey models 'six_stage' and "
                                                 "'five_stage_funnel'"):
        crosswalk("six_stage", "funnel")
    path = tmp_path / "m.yaml"
    path.write_text(CUSTOM, encoding="utf-8")
    with pytest.raises(JourneyLookupError, match="custom models need a hand-made map"):
        crosswalk(path, "six_stage")
    assert pairs(crosswalk(path, path)) == [("visit", "visit"), ("trial", "trial"), ("paid", "paid")]


# --- translate_stages ------------------------------------------------------------------

def test_translate_stages_one_to_one_keeps_index_name_and_missing():
    s = pd.Series(["awareness", "Discovery", None, "retention"], index=[5, 6, 7, 8], name="stage")
    out = translate_stages(s, "five_stage", "funnel")
    assert out.index.tolist() == [5, 6, 7, 8] and out.name == "stage"
    assert out.tolist() == ["awareness", "awareness", np.nan, "consume_retention"]
    assert out.dtype == pd.CategoricalDtype(list(FUNNEL), ordered=True)


def test_translate_stages_ambiguity_raises_with_clear_message():
    s = pd.Series(["awareness", "purchase", "purchase"])
    with pytest.raises(ValueError) as info:
        translate_stages(s, "five_stage", "six_stage")
    msg = str(info.value)
    assert "stage 'purchase' of five_stage maps to 2 stages of six_stage (onboarding, engagement)" in msg
    assert "appears in 2 rows" in msg and "how='first' or how='last'" in msg


def test_translate_stages_first_and_last():
    s = pd.Series(["retention", "purchase", "consideration"])
    first = translate_stages(s, "five_stage", "six_stage", how="first")
    last = translate_stages(s, "five_stage", "six_stage", how="last")
    assert first.tolist() == ["onboarding", "onboarding", "acquisition"]
    assert last.tolist() == ["retention", "engagement", "acquisition"]
    # a stage that is not ambiguous translates the same under every `how`
    assert translate_stages(s.iloc[2:], "five_stage", "six_stage").tolist() == ["acquisition"]


def test_translate_stages_bad_arguments():
    with pytest.raises(ValueError, match="how must be"):
        translate_stages(pd.Series(["awareness"]), "five_stage", "six_stage", how="any")
    with pytest.raises(JourneyLookupError, match="unknown stage 'buy'"):
        translate_stages(pd.Series(["buy"]), "five_stage", "six_stage")


# --- StageMap --------------------------------------------------------------------------

RULES = [
    {"event": "page_view", "stage": "awareness"},
    {"event": "page_view", "channel": "email", "stage": "Engagement"},
    {"event": "signup", "stage": "Lead"},                    # alias of acquisition
    {"event": "review", "channel": "social", "stage": "advocacy"},
]


@pytest.fixture
def events6():
    return pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "event": ["page_view", " Page_View", "quiz", "quiz", "signup", "review"],
        "channel": ["search", "EMAIL", "social", "social", None, "email"],
    }, index=[10, 11, 12, 13, 14, 15])


def test_assign_on_six_rows(events6):
    res = StageMap.from_rules(RULES, "six_stage").assign(events6)
    assert res.stages.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert res.stages.tolist() == ["awareness", "engagement", np.nan, np.nan, "acquisition", np.nan]
    assert res.stages.dtype == pd.CategoricalDtype(list(SIX), ordered=True)
    expected = pd.DataFrame({"event": pd.Series(["quiz", "review"], dtype="str"),
                             "channel": pd.Series(["social", "email"], dtype="str"),
                             "rows": np.array([2, 1], dtype=np.int64),
                             "example_customer_id": pd.Series(["c3", "c6"], dtype="str")})
    pdt.assert_frame_equal(res.unmapped, expected)
    assert res.n_unmapped == 3 and res.mapped_share == 0.5


def test_channel_rule_beats_generic_whatever_the_rule_order(events6):
    for rules in (RULES, RULES[::-1]):
        res = StageMap(rules, "six_stage").assign(events6)
        assert res.stages.loc[11] == "engagement" and res.stages.loc[10] == "awareness"


def test_assign_does_not_mutate_events(events6):
    before = events6.copy(deep=True)
    StageMap(RULES, "six_stage").assign(events6)
    pdt.assert_frame_equal(events6, before)


def test_assign_without_channel_or_customer_columns(events6):
    res = StageMap(RULES, "six_stage").assign(events6[["event"]])
    # only generic rules apply: " Page_View" falls back to awareness, review has no generic rule
    assert res.stages.tolist() == ["awareness", "awareness", np.nan, np.nan, "acquisition", np.nan]
    assert res.unmapped["event"].tolist() == ["quiz", "review"]
    assert res.unmapped["channel"].isna().all() and res.unmapped["example_customer_id"].isna().all()


def test_missing_event_values_are_reported_as_unmapped():
    ev = pd.DataFrame({"customer_id": ["a", "b", "c"], "event": ["signup", None, None],
                       "channel": ["search", "search", "search"]})
    res = StageMap({"signup": "acquisition"}, "six_stage").assign(ev)
    assert res.unmapped["event"].isna().tolist() == [True]
    assert res.unmapped[["rows", "example_customer_id"]].values.tolist() == [[2, "b"]]


def test_empty_events():
    ev = pd.DataFrame({"customer_id": pd.Series([], dtype="str"), "event": pd.Series([], dtype="str")})
    res = StageMap({"signup": "acquisition"}, "six_stage").assign(ev)
    assert len(res.stages) == 0 and len(res.unmapped) == 0 and res.n_unmapped == 0
    assert np.isnan(res.mapped_share)


def test_missing_event_column():
    with pytest.raises(KeyError, match="events table has no column 'event'"):
        StageMap({"signup": "acquisition"}, "six_stage").assign(pd.DataFrame({"name": ["signup"]}))


def test_dict_shorthand_and_to_frame():
    sm = StageMap({" Signup ": "acquisition", "first_order": "First purchase"}, "six")
    frame = sm.to_frame()
    assert list(frame.columns) == ["rule", "event", "channel", "stage", "stage_name"]
    assert frame["event"].tolist() == ["signup", "first_order"]
    assert frame["stage"].tolist() == ["acquisition", "onboarding"]
    assert frame["stage_name"].tolist() == ["Acquisition", "Onboarding"]
    assert frame["channel"].isna().all()


def test_unknown_stage_in_rule_names_index_and_suggests():
    rules = [{"event": "signup", "stage": "acquisition"}, {"event": "buy", "stage": "onbording"}]
    with pytest.raises(JourneyModelError) as info:
        StageMap(rules, "six_stage")
    msg = str(info.value)
    assert msg.startswith("stage_map rule 1 (") and "unknown stage 'onbording'" in msg
    assert "Did you mean 'Onboarding'?" in msg


def test_conflicting_duplicate_rules_raise_identical_ones_collapse():
    with pytest.raises(JourneyModelError, match="rules 0 and 2 both match event 'signup' on channel "
                                                "'email' but give different stages"):
        StageMap([{"event": "signup", "channel": "email", "stage": "acquisition"},
                  {"event": "signup", "stage": "acquisition"},
                  {"event": "SIGNUP ", "channel": "Email", "stage": "onboarding"}], "six_stage")
    sm = StageMap([{"event": "signup", "stage": "acquisition"},
                   {"event": "Signup", "stage": "Acquisition"}], "six_stage")
    assert sm.to_frame()["rule"].tolist() == [0]


@pytest.mark.parametrize("rule", [{"event": "x"}, {"stage": "awareness"}, {"event": " ", "stage": "awareness"},
                                  {"event": "x", "stage": "awareness", "medium": "tv"}, "x"])
def test_malformed_rules(rule):
    with pytest.raises(JourneyModelError, match="stage_map rule 0"):
        StageMap([rule], "six_stage")


# --- furthest_stage / stage_counts -----------------------------------------------------

def test_furthest_stage_and_counts_by_hand():
    events = pd.DataFrame({
        "customer_id": ["b", "a", "a", "c", "b", "d"],
        "stage": ["awareness", "engagement", "acquisition", "acquisition", "Onboarding", None],
    })
    before = events.copy(deep=True)
    furthest = furthest_stage(events, "six_stage")
    pdt.assert_frame_equal(events, before)
    expected = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "stage": pd.Categorical(["engagement", "onboarding", "acquisition", None],
                                categories=list(SIX), ordered=True)})
    pdt.assert_frame_equal(furthest, expected, check_index_type=False)
    counts = stage_counts(furthest, "six_stage")
    assert counts["stage"].tolist() == list(SIX)
    assert counts["customers"].tolist() == [0, 1, 1, 1, 0, 0]
    # d has no stage: shares divide by all 4 customers
    assert counts["share"].tolist() == [0.0, 0.25, 0.25, 0.25, 0.0, 0.0]
    # reached = furthest stage here or later: a, b, c reached acquisition; a, b onboarding
    assert counts["reached"].tolist() == [3, 3, 2, 1, 0, 0]
    assert counts["reached_share"].tolist() == [0.75, 0.75, 0.5, 0.25, 0.0, 0.0]


def test_furthest_stage_custom_columns_and_funnel():
    ev = pd.DataFrame({"cid": ["x", "x", "y"], "st": ["Knowledge", "Repetition", "Test/Experience"]})
    out = furthest_stage(ev, "funnel", customer_col="cid", stage_col="st")
    assert out["cid"].tolist() == ["x", "y"]
    assert out["stage"].tolist() == ["consume_retention", "acquisition_purchase"]


def test_furthest_stage_rejects_unknown_stage_values():
    ev = pd.DataFrame({"customer_id": ["a", "b", "c"], "stage": ["purchased", "purchased", "awareness"]})
    with pytest.raises(JourneyLookupError) as info:
        furthest_stage(ev, "five_stage")
    msg = str(info.value)
    assert "events table, column 'stage': 2 rows hold 'purchased'" in msg
    assert "Did you mean 'Purchase'?" in msg


def test_furthest_stage_missing_column():
    with pytest.raises(KeyError, match="events table has no column 'stage'"):
        furthest_stage(pd.DataFrame({"customer_id": ["a"]}), "six_stage")


def test_side_by_side_aligns_stage_positions():
    from cjkit.journey import side_by_side
    table = side_by_side("five_stage", "five_stage_funnel", "six_stage")
    assert table.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert table.iloc[:, 0].tolist() == ["Awareness", "Consideration", "Purchase", "Retention", "Advocacy", ""]
    assert table.iloc[2, 1] == "Acquisition/Purchase"
    assert table.iloc[:, 2].tolist() == ["Awareness", "Acquisition", "Onboarding", "Engagement",
                                         "Retention", "Advocacy"]
