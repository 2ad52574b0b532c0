"""Tests of the catalogue (cjkit/catalog): counts and facts checked against the seeds.

Every count below was worked out by reading the seed texts by hand. Tests that re-parse
a seed read them from ``../shared/seeds`` next to the checkout (or ``$CJKIT_SEEDS_DIR``) and
are skipped when they are absent; the hand counts still run.
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cjkit import catalog
from conftest import REPO

SEED_DIR = Path(os.environ.get("CJKIT_SEEDS_DIR") or REPO.parent / "shared" / "seeds")
STAGE_IDS = ["awareness", "acquisition", "onboarding", "engagement", "retention", "advocacy"]

# Hand count of seed 000: tactic headings per stage, in seed order.
SEED000_TACTICS = {
    "awareness": ["Digital Ads", "SEO", "Social Media", "BTL - POS (Point of Sale)", "ATL"],
    "acquisition": ["Social Opt-In", "Web Opt-In", "Loyalty Programs", "Ecommerce Opt-In",
                    "BTL - POS (Point of Sale)", "Contact Center Opt-In", "ATL"],
    "onboarding": ["Welcome Journeys", "First Purchase", "User Profiling",
                   "Cross Channel Onboarding"],
    "engagement": ["Newsletter", "Browse Retargeting", "Nurturing", "Programmed Purchase",
                   "Abandoned Cart", "Cross Selling", "Post Purchase", "ATL",
                   "Customer Value Segmentation", "Special Dates"],
    "retention": ["Reactivation", "Win Back", "Re Engagement",
                  "Detractors & Decrease Attrition"],
    "advocacy": ["Referrals", "Clickers", "Brand Lovers"],
}
# Hand count of the KPI lines: KPIs per stage, and how many are written "A / B".
KPIS_PER_STAGE = {"awareness": 9, "acquisition": 8, "onboarding": 8, "engagement": 10,
                  "retention": 5, "advocacy": 5}
RATIO_KPIS_PER_STAGE = {"awareness": 5, "acquisition": 5, "onboarding": 1, "engagement": 6,
                        "retention": 0, "advocacy": 1}
# Hand count of seed 003: touchpoints per (phase, channel).
TOUCHPOINTS = {
    ("before", "Website/emails"): 8, ("before", "Internet"): 9, ("before", "Mobile phone"): 3,
    ("before", "In-person"): 9, ("before", "Catalog"): 3,
    ("during", "Retail store"): 10, ("during", "Website/emails"): 3,
    ("during", "Phone system"): 2,
    ("after", "Retail store"): 2, ("after", "Website/emails"): 6, ("after", "Phone system"): 4,
}
# Hand count of seed 004: measures per stage (engagement lists only three).
MEASURES_PER_STAGE = {"awareness": 4, "acquisition": 4, "onboarding": 4, "engagement": 3,
                      "retention": 4, "advocacy": 4}
CHANNELS = {"search", "social", "display", "email", "referral", "tv", "store", "direct"}


def _seed(prefix: str) -> str:
    files = sorted(SEED_DIR.glob(f"{prefix}_*.txt"))
    if not files:
        pytest.skip(f"seed {prefix} not available under {SEED_DIR}")
    return files[0].read_text(encoding="utf-8")


def _yaml(name: str) -> dict:
    text = resources.files("cjkit.catalog").joinpath(f"{name}.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _seed000_blocks(text: str) -> list[dict]:
    """Split seed 000 into tactic blocks: stage, heading, KPI line."""
    stages = {s.upper(): s for s in STAGE_IDS}
    lines = [ln.strip() for ln in text.splitlines()]
    blocks, stage = [], None
    for i, line in enumerate(lines):
        if line in stages:
            stage = stages[line]
        elif line.startswith("Description:"):
            heading = next(ln for ln in reversed(lines[:i]) if ln)
            blocks.append({"stage": stage, "heading": heading, "kpis": None})
        elif line.startswith("KPIs:") and blocks[-1]["kpis"] is None:
            blocks[-1]["kpis"] = line.removeprefix("KPIs:").strip()
    return blocks


# ------------------------------------------------------------------ tactics


def test_tactic_counts_match_hand_count():
    t = catalog.tactics()
    assert len(t) == 33 == sum(len(v) for v in SEED000_TACTICS.values())
    per_stage = t.groupby("stage", observed=True).size()
    assert per_stage.to_dict() == {s: len(v) for s, v in SEED000_TACTICS.items()}
    assert {s: t.loc[t["stage"] == s, "name"].tolist() for s in STAGE_IDS} == SEED000_TACTICS


def test_tactics_match_seed000_headings():
    text = _seed("000")
    assert sum(ln.startswith("Description:") for ln in text.splitlines()) == 33
    blocks = _seed000_blocks(text)
    t = catalog.tactics()
    assert [(b["stage"], b["heading"]) for b in blocks] == list(
        zip(t["stage"].astype(str), t["name"].str.upper()))


def test_stray_heading_is_not_a_tactic_but_a_kpi():
    assert "Cross Purchase Attribution" not in set(catalog.tactics()["name"])
    k = catalog.tactic_kpis()
    assert sorted(k.loc[k["kpi"] == "Cross Purchase Attribution", "tactic_id"]) == [
        "engagement.cross_selling", "engagement.post_purchase"]


def test_tactic_ids_unique_snake_case_and_prefixed_by_stage():
    t = catalog.tactics()
    assert t["tactic_id"].is_unique
    assert t["tactic_id"].str.fullmatch(r"[a-z]+\.[a-z0-9_]+").all()
    assert (t["tactic_id"].str.split(".").str[0] == t["stage"].astype(str)).all()
    assert {"awareness.atl", "acquisition.atl", "engagement.atl",
            "awareness.btl_pos", "acquisition.btl_pos"} <= set(t["tactic_id"])


def test_stage_is_ordered_categorical_in_journey_order():
    for frame in (catalog.tactics(), catalog.tactic_kpis(), catalog.stage_measures()):
        stage = frame["stage"]
        assert stage.cat.ordered and list(stage.cat.categories) == STAGE_IDS
        assert stage.notna().all() and stage.cat.codes.is_monotonic_increasing
    assert catalog.tactics()["stage"].max() == "advocacy"


def test_every_tactic_has_description_actions_and_kpis():
    t = catalog.tactics()
    assert t["description"].str.len().gt(40).all()
    assert t["actions"].map(len).ge(1).all()
    assert t["actions"].map(lambda a: isinstance(a, tuple)).all()
    assert t.set_index("tactic_id").loc["engagement.abandoned_cart", "actions"][0] == (
        "Purchase reminder message")
    assert (t["n_kpis"] >= 1).all()


# --------------------------------------------------------------------- KPIs


def test_kpi_counts_and_ratios_match_hand_count():
    k = catalog.tactic_kpis()
    assert len(k) == 45
    assert k.groupby("stage", observed=True).size().to_dict() == KPIS_PER_STAGE
    with_den = k.groupby("stage", observed=True)["denominator"].count().to_dict()
    assert with_den == RATIO_KPIS_PER_STAGE and sum(with_den.values()) == 18


def test_kpi_name_is_numerator_over_denominator():
    for row in catalog.tactic_kpis().itertuples():
        if pd.isna(row.denominator):
            assert row.kpi == row.numerator
        else:
            squash = (row.numerator + "/" + row.denominator).replace(" ", "")
            assert row.kpi.replace(" ", "") == squash


def test_kpis_keep_seed_wording():
    blocks = _seed000_blocks(_seed("000"))
    assert sum(b["kpis"].count("/") for b in blocks) == 18
    k = catalog.tactic_kpis()
    for block, (_, group) in zip(blocks, k.groupby("tactic_id", sort=False), strict=True):
        line = block["kpis"].lower()
        for term in pd.concat([group["numerator"], group["denominator"].dropna()]):
            assert term.lower() in line, (block["heading"], term)


def test_specific_kpi_facts():
    k = catalog.tactic_kpis().set_index("tactic_id")
    cart = k.loc["engagement.abandoned_cart"]
    assert (cart["numerator"], cart["denominator"]) == ("Total drop-offs", "Total buyers")
    assert "carts" in cart["note"]
    prog = k.loc["engagement.programmed_purchase"]
    assert (prog["numerator"], prog["denominator"]) == ("Repeat deliveries", "Total purchases")
    pos = k.loc["acquisition.btl_pos"]
    assert (pos["numerator"], pos["denominator"]) == ("Leads", "Total traffic")
    seo = k.loc["awareness.seo"]
    assert seo["kpi"].tolist() == ["Relevance Score", "Impressions", "Clicks"]
    assert seo["denominator"].isna().all()


def test_brand_lovers_note_flags_8_to_10_promoters():
    note = catalog.tactics().set_index("tactic_id").loc["advocacy.brand_lovers", "note"]
    assert "8-10" in note and "9-10" in note


# ---------------------------------------------------------------------- RFM


def test_rfm_labels():
    r = catalog.rfm_labels()
    assert len(r) == 9 and list(r["variable"].cat.categories) == ["recency", "frequency",
                                                                 "monetary"]
    by_var = {v: g.sort_values("rank")["label"].tolist()
              for v, g in r.groupby("variable", observed=True)}
    assert by_var == {"recency": ["short", "medium", "long"],
                      "frequency": ["often", "regular", "casual"],
                      "monetary": ["spender", "average", "saver"]}
    assert r["meaning"].str.len().gt(5).all()
    s = catalog.rfm_segment_types()
    assert s["variables"].tolist() == [1, 2, 3]
    assert s["name"].tolist() == ["one-variable", "two-variable", "three-variable"]


def test_rfm_labels_appear_in_seed_tactic():
    text = _seed("000").lower()
    for label in catalog.rfm_labels()["label"]:
        assert re.search(rf"\b{label}\b", text)


# --------------------------------------------------------------- touchpoints


def test_touchpoint_counts():
    tp = catalog.touchpoints()
    assert len(tp) == 59
    assert tp.groupby("phase", observed=True).size().to_dict() == {
        "before": 32, "during": 15, "after": 12}
    assert tp.groupby(["phase", "channel"], observed=True).size().to_dict() == TOUCHPOINTS
    assert "testimonials" in set(catalog.touchpoints("before")["touchpoint"])
    assert "" not in set(tp["touchpoint"])


def test_touchpoint_canonical_channels():
    tp = catalog.touchpoints().set_index("touchpoint")
    assert set(tp["canonical_channel"].dropna()) <= CHANNELS
    assert tp.loc["promotional emails", "canonical_channel"] == "email"
    assert tp.loc["Social media presence", "canonical_channel"] == "social"
    assert tp.loc["POS system", "canonical_channel"] == "store"
    assert pd.isna(tp.loc["tradeshows", "canonical_channel"])


def test_touchpoints_appear_in_seed003():
    text = _seed("003").lower()
    for name in catalog.touchpoints()["touchpoint"]:
        assert name.lower() in text, name


def test_touchpoint_sequences():
    seq = catalog.touchpoint_sequences()
    assert seq.groupby("sequence_id", sort=False).size().to_dict() == {
        "email_remarketing_offer": 6, "app_in_store_offer": 4}
    assert seq.groupby("sequence_id")["step"].apply(list).to_dict() == {
        "email_remarketing_offer": [1, 2, 3, 4, 5, 6], "app_in_store_offer": [1, 2, 3, 4]}
    assert set(seq["touchpoint"].dropna()) <= set(catalog.touchpoints()["touchpoint"])
    assert set(seq["canonical_channel"].dropna()) <= CHANNELS
    assert "7 days" in seq.loc[seq["touchpoint"] == "remarketing campaign", "action"].item()


# ------------------------------------------------------------ stage measures


def test_stage_measure_counts():
    m = catalog.stage_measures()
    assert len(m) == 23
    assert m.groupby("stage", observed=True).size().to_dict() == MEASURES_PER_STAGE
    assert m["measure_id"].is_unique
    assert catalog.stage_measures("Advocacy")["measure_id"].tolist() == [
        "content_shares", "nps", "referrals", "reviews"]


def test_stage_measure_formulas_and_scales():
    m = catalog.stage_measures().set_index("measure_id")
    assert m.loc["list_growth_rate", "formula"] == "new addresses - unsubscribes - complaints"
    assert m.loc["nps", "formula"] == "% promoters - % detractors"
    assert (m.loc["domain_authority", "scale_min"], m.loc["domain_authority", "scale_max"]) == (
        1, 100)
    assert m["formula"].notna().sum() == 2 and m["scale_min"].notna().sum() == 2
    assert set(m["metric_id"].dropna()) <= set(catalog.metrics()["metric_id"])
    raw = {i["id"]: i for items in _yaml("stage_measures")["measures"].values() for i in items}
    assert raw["list_growth_rate"]["formula"]["subtract"] == ["unsubscribes", "complaints"]


def test_nps_bands_are_standard_and_consistent():
    bands = catalog.metric_bands()
    expected = [("promoters", 9, 10), ("passives", 7, 8), ("detractors", 0, 6)]
    assert list(bands[["band", "min", "max"]].itertuples(index=False, name=None)) == expected
    raw = {i["id"]: i for items in _yaml("stage_measures")["measures"].values() for i in items}
    assert [(b["name"], b["min"], b["max"]) for b in raw["nps"]["bands"]] == expected
    scores = [s for _, lo, hi in expected for s in range(lo, hi + 1)]
    assert sorted(scores) == list(range(11))  # the bands cover 0-10 once each


# ------------------------------------------------------------------- metrics


def test_metrics():
    m = catalog.metrics().set_index("metric_id")
    assert (m["source"] == "seed 002").sum() == 5
    assert list(m.index) == ["ces", "cac", "arpu", "churn_rate", "cltv", "nps"]
    ratios = {"cac": ("acquisition spend", "new customers"), "arpu": ("revenue", "customers"),
              "churn_rate": ("customers lost", "customers at start")}
    for mid, (num, den) in ratios.items():
        assert (m.loc[mid, "numerator"], m.loc[mid, "denominator"]) == (num, den)
        assert m.loc[mid, "formula"] == f"{num} / {den}"
    assert m["unit"].notna().all() and m.loc["churn_rate", "unit"] == "proportion"
    assert "8-10" in m.loc["nps", "note"]


def test_qcq_rule_and_experience_rows():
    q = catalog.qcq_rule()
    assert q["name"].tolist() == ["Quality", "Comparable", "Qualitative + Quantitative"]
    assert "".join(q["letter"]) == "QCQ" and q["key"].is_unique
    e = catalog.experience_rows()
    assert e["name"].tolist() == [
        "Needs and goals", "Actions/Behaviour", "Touchpoints", "Expectations", "Pain points",
        "Experience", "How can we influence", "Improvement opportunities"]
    assert e["order"].tolist() == list(range(1, 9))
    assert e["part"].value_counts().to_dict() == {"diagnosis": 6, "action plan": 2}


# ------------------------------------------------------- filters and errors


@pytest.mark.parametrize("key", ["engagement", "Engagement", "ENGAGEMENT", " engagement "])
def test_stage_filter_accepts_id_or_name_any_case(key):
    t = catalog.tactics(key)
    assert len(t) == 10 and (t["stage"] == "engagement").all()
    assert t.index.tolist() == list(range(10))
    assert len(catalog.tactic_kpis(key)) == 10 and len(catalog.stage_measures(key)) == 3


def test_unknown_stage_error_lists_valid_stages():
    with pytest.raises(ValueError, match="unknown stage 'consideration'") as err:
        catalog.tactics("consideration")
    for sid in STAGE_IDS:
        assert sid in str(err.value)
    with pytest.raises(ValueError, match="six-stage"):
        catalog.stage_measures("purchase")


def test_phase_filter_and_error():
    assert len(catalog.touchpoints("During purchase")) == 15
    assert len(catalog.touchpoints("AFTER")) == 12
    with pytest.raises(ValueError, match="before, during, after"):
        catalog.touchpoints("checkout")


# --------------------------------------------------------------- copy safety


def test_returned_frames_are_copies_of_the_cache():
    first = catalog.tactics()
    pristine = first.copy()
    first.loc[0, "name"] = "CHANGED"
    del first["description"]
    assert catalog.tactics().equals(pristine)
    m = catalog.metrics()
    m["unit"] = "x"
    assert catalog.metrics()["unit"].ne("x").all()
    assert catalog.tactics() is not catalog.tactics()
    labels = catalog.rfm_labels()
    labels.loc[0, "label"] = "CHANGED"
    assert catalog.rfm_labels().loc[0, "label"] == "short"


# ----------------------------------------------------------- own wording


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("\u2019", "'"))


def _shingles(text: str, n: int = 8) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def test_no_description_copied_from_seeds():
    if not SEED_DIR.is_dir():
        pytest.skip(f"seeds not available under {SEED_DIR}")
    seed_shingles = set().union(*(_shingles(p.read_text("utf-8"))
                                  for p in SEED_DIR.glob("*.txt")))
    prose = [
        *catalog.tactics()["description"], *catalog.stage_measures()["description"],
        *catalog.metrics()["definition"], *catalog.qcq_rule()["meaning"],
        *catalog.experience_rows()["question"], *catalog.rfm_labels()["meaning"],
        *catalog.rfm_segment_types()["meaning"], *catalog.touchpoint_sequences()["action"],
    ]
    copied = [(p, " ".join(s)) for p in prose for s in _shingles(p) & seed_shingles]
    assert not copied


def test_shingle_check_would_catch_a_copy():
    text = _seed("000")
    line = next(ln for ln in text.splitlines() if ln.startswith("Description:"))
    assert _shingles(line) & _shingles(text)
