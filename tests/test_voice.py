"""cjkit.voice: NPS, CES/CSAT, comments and lists, worked by hand and against the demo's planted truth."""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import cjkit
from cjkit import voice
from cjkit.plots import nps_category_bars, nps_trend, score_intervals

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "datasets" / "demo"
TINY = REPO / "datasets" / "tiny"
Z = 1.959963984540054
TEN = [10, 10, 9, 9, 9, 8, 7, 6, 3, 0]  # 5 promoters, 2 passives, 3 detractors


@pytest.fixture(scope="module")
def demo():
    return cjkit.load_client(DEMO / "client.yaml")


# --- NPS worked by hand ----------------------------------------------------------------

def test_nps_of_ten_answers_by_hand():
    e = voice.nps(TEN)
    assert e.parts == {"detractors": 3, "passives": 2, "promoters": 5, "missing": 0}
    assert e.value == pytest.approx(20.0) and e.n == 10 and e.numerator == 2 and e.denominator == 10
    se = 100 * math.sqrt((0.5 + 0.3 - 0.2 ** 2) / 10)  # 27.568
    assert se == pytest.approx(27.5680975, abs=1e-6)
    assert (e.ci_low, e.ci_high) == pytest.approx((20 - Z * se, 20 + Z * se))
    table = voice.nps_table(voice.nps_counts(pd.DataFrame({"nps": TEN})))
    assert float(table["nps_se"].iloc[0]) == pytest.approx(se)
    # the estimate survives the record round trip with its counts
    assert cjkit.Estimate.from_dict(e.to_dict()) == e and e.to_dict()["parts"]["promoters"] == 5


def test_thresholds_and_missing_answers():
    e = voice.nps([10, 9, 8, 8, 7, None, 6], promoter_min=8, passive_min=7)  # seed 000's rule
    assert e.parts == {"detractors": 1, "passives": 1, "promoters": 4, "missing": 1}
    assert e.value == pytest.approx(100 * 3 / 6)
    with pytest.raises(ValueError, match="passive_min <= promoter_min"):
        voice.nps(TEN, promoter_min=6, passive_min=7)
    with pytest.raises(ValueError, match="not whole scores 0-10"):
        voice.nps([9, 11])


def test_weighted_nps_by_hand():
    scores = [10, 10, 0, 8] * 5
    weights = [2, 1, 1, 1] * 5
    e = voice.nps(scores, weights=weights)
    p, d = 15 / 25, 5 / 25  # weighted shares
    n_eff = 25 ** 2 / 35  # (sum w)^2 / sum w^2
    se = 100 * math.sqrt((p + d - (p - d) ** 2) / n_eff)
    assert e.value == pytest.approx(40.0) and e.n == 20
    assert (e.ci_low, e.ci_high) == pytest.approx((40 - Z * se, 40 + Z * se))
    assert voice.effective_n(weights) == pytest.approx(n_eff)
    equal, plain = voice.nps(scores, weights=[3.0] * 20), voice.nps(scores)  # equal weights change nothing
    assert (equal.value, equal.ci_low, equal.ci_high) == pytest.approx((plain.value, plain.ci_low, plain.ci_high))


def test_bootstrap_agrees_with_the_formula_on_a_large_sample():
    rng = np.random.default_rng(8)
    scores = rng.choice(np.arange(11), size=200_000, p=np.r_[[0.03] * 7, [0.14, 0.15], [0.25, 0.25]])
    analytic = voice.nps(scores)
    boot = voice.nps_bootstrap(scores, n_boot=4000, seed=0)
    assert boot.value == analytic.value and boot.method == "bootstrap"
    half = (analytic.ci_high - analytic.ci_low) / 2
    assert abs(boot.ci_low - analytic.ci_low) < 0.05 * half
    assert abs(boot.ci_high - analytic.ci_high) < 0.05 * half
    assert voice.nps_bootstrap(scores, n_boot=500, seed=3) == voice.nps_bootstrap(scores, n_boot=500, seed=3)
    weighted = voice.nps_bootstrap(scores[:5000], weights=np.ones(5000), n_boot=400, seed=0)
    plain = voice.nps(scores[:5000])
    assert abs(weighted.ci_low - plain.ci_low) < 0.1 * (plain.ci_high - plain.ci_low)


def test_two_groups_and_several_groups_by_hand():
    table = pd.DataFrame({"shop": ["a", "b", "c"], "answers": [100, 100, 50], "detractors": [14, 38, 10],
                          "passives": [26, 32, 10], "promoters": [60, 30, 30]})
    t = voice.nps_table(table)
    d = voice.nps_difference(t, "a", "b", by="shop").iloc[0]
    se_a = 100 * math.sqrt((0.74 - 0.46 ** 2) / 100)
    se_b = 100 * math.sqrt((0.68 - 0.08 ** 2) / 100)
    se = math.hypot(se_a, se_b)
    assert d["difference"] == pytest.approx(54.0) and d["se"] == pytest.approx(se)
    assert d["z"] == pytest.approx(54 / se) and d["p_value"] == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(54 / se / math.sqrt(2)))))
    g = voice.nps_groups_test(t).iloc[0]
    w = 1 / t["nps_se"] ** 2
    pooled = (w * t["nps"]).sum() / w.sum()
    assert g["pooled_nps"] == pytest.approx(pooled)
    assert g["wald_chi2"] == pytest.approx((w * (t["nps"] - pooled) ** 2).sum()) and g["df"] == 2


def test_threshold_comparison_moves_by_the_share_of_eights(demo):
    scores = demo.surveys["nps"]
    t = voice.threshold_comparison(scores).set_index("rule")
    eights = (scores.dropna() == 8).mean()
    assert t.loc["seed 000 (8-10)", "change"] == pytest.approx(100 * eights)
    assert t.loc["seed 000 (8-10)", "promoters"] == t.loc["standard (9-10)", "promoters"] + (scores == 8).sum()


def test_nps_over_time_by_hand():
    s = pd.DataFrame({"nps": [10, 3, 9, 9, 7], "answered_at": pd.to_datetime(
        ["2024-01-31 23:30", "2024-01-20 10:00", "2024-03-02 10:00", "2024-03-09 10:00", "2024-03-10 10:00"]).tz_localize("UTC")})
    t = voice.nps_over_time(s, timezone="Europe/Madrid")  # 23:30 UTC on Jan 31 is February in Madrid
    assert t["period"].dt.strftime("%Y-%m").tolist() == ["2024-01", "2024-02", "2024-03"]
    assert t["answers"].tolist() == [1, 1, 3]
    assert t["nps"].tolist() == pytest.approx([-100.0, 100.0, 100 * 2 / 3])


# --- the demo's planted truth -----------------------------------------------------------

def test_demo_store_vs_display_gap_is_found(demo):
    truth = json.loads((DEMO / "ground_truth.json").read_text())["nps"]
    answers = voice.attach_segments(demo.surveys, customers=demo.customers)
    answers["group"] = answers["source_channel"].where(answers["source_channel"].isin(["store", "display"]), "other")
    t = voice.nps_table(voice.nps_counts(answers, by="group")).set_index("group")
    for g, planted in truth["groups"].items():
        assert t.loc[g, "answers"] == planted["responses"]
        assert t.loc[g, "nps"] == pytest.approx(planted["observed_nps"], abs=1e-5)
        for cat, share in planted["observed_shares"].items():
            assert t.loc[g, f"{cat}_share"] == pytest.approx(share, abs=1e-6)
        assert t.loc[g, "nps_ci_low"] < planted["nps"] < t.loc[g, "nps_ci_high"]  # the planted NPS inside
    gap = voice.nps_difference(t.reset_index(), "store", "display", by="group").iloc[0]
    assert gap["difference"] == pytest.approx(truth["difference"]["observed_difference"], abs=1e-5)
    assert gap["difference_ci_low"] > 0 and gap["p_value"] < 1e-6  # detected
    assert gap["difference_ci_low"] < truth["difference"]["nps_difference"] < gap["difference_ci_high"]


# --- CES, CSAT, comments ------------------------------------------------------------------

def test_ces_and_csat_by_hand():
    s = pd.DataFrame({"ces": [7, 6, 2, 4, 5, None], "csat": [5, 4, 1, 3, 4, 2], "stage": list("aaabbb")})
    ces = voice.ces_table(s, by="stage").set_index("stage")
    a = np.array([7, 6, 2])
    assert ces.loc["a", "mean"] == pytest.approx(5.0)
    assert ces.loc["a", "mean_ci_low"] == pytest.approx(5 - Z * a.std(ddof=1) / math.sqrt(3))
    assert ces.loc["a", "top_box"] == 2 and ces.loc["b", "answers"] == 2 and ces.attrs["missing"] == 1
    csat = voice.csat_table(s)
    assert csat["top_box"].iloc[0] == 3 and csat["top_box_share"].iloc[0] == pytest.approx(0.5)
    low, high = cjkit.estimate.proportion_ci([3], [6])
    assert csat["top_box_share_ci_low"].iloc[0] == pytest.approx(low[0])
    with pytest.raises(ValueError, match="outside 1-5"):
        voice.csat_table(pd.DataFrame({"csat": [6]}))


def test_comment_terms_by_category():
    s = pd.DataFrame({"nps": [10, 9, 2, 3, 8], "comment": ["Fast delivery!", "fast, friendly staff", "Late delivery",
                                                         "Support never answered; LATE", None]})
    t = voice.comment_terms(s, top=3)
    det = t[t["category"] == "detractor"]
    assert det["term"].tolist() == ["late", "answered", "delivery"] and det["comments"].tolist() == [2, 1, 1]
    assert det["share"].tolist() == [1.0, 0.5, 0.5]
    assert "passive" not in set(t["category"])  # the only passive wrote nothing
    assert voice.normalise("¡Envío RÁPIDO y muy bueno!") == ["envio", "rapido", "bueno"]


# --- the load's excluded answers, and the lists --------------------------------------------

def test_bad_answers_are_counted_by_the_load(tmp_path):
    (tmp_path / "surveys.csv").write_text(
        "customer_id,answered_at,nps,ces\nC1,2024-01-01 10:00,10,7\nC2,2024-01-02 10:00,11,6\n"
        "C3,2024-01-03 10:00,-1,5\nC4,2024-01-04 10:00,7.5,5\nC5,2024-01-05 10:00,N/A,4\n"
        "C6,2024-01-06 10:00,,4\nC7,2024-01-07 10:00,3,2\n")
    (tmp_path / "client.yaml").write_text("name: bad\ntimezone: Europe/Madrid\ntables:\n  surveys: {path: surveys.csv}\n"
                                          "options: {drop_invalid_rows: true}\n")
    data = cjkit.load_client(tmp_path / "client.yaml", cache=False)
    out = voice.answers_excluded(data.surveys, data.report)
    nps_rows = out[out["column"] == "nps"]
    assert nps_rows["answers"].tolist() == [2, 1, 2]  # N/A + blank (read as missing); 7.5; 11 and -1 (dropped)
    assert "read as missing" in nps_rows["what"].iloc[0]  # the two kept without a score are counted once
    no_report = voice.answers_excluded(data.surveys)  # without the load report: the missing answers themselves
    assert no_report[no_report["column"] == "nps"]["answers"].tolist() == [2]
    assert "dropped" in nps_rows["what"].iloc[1] and "outside 0-10" in nps_rows["reason"].iloc[2]
    assert voice.nps(data.surveys["nps"]).parts == {"detractors": 1, "passives": 0, "promoters": 1, "missing": 2}


def test_lists_keep_the_latest_answer_and_export_safely(tmp_path):
    t = pd.to_datetime
    s = pd.DataFrame({"customer_id": ["a", "a", "b", "c", "d"], "nps": [2, 10, 5, 3, 9],
                      "answered_at": t(["2024-01-01", "2024-02-01", "2024-01-15", "2024-01-20", "2024-01-10"]),
                      "comment": [None, "great", "=HYPERLINK(\"x\")", "late", "nice"]})
    o = pd.DataFrame({"customer_id": ["b", "c", "c", "d"], "amount": [50.0, 80.0, -30.0, 10.0],
                      "ordered_at": t(["2024-01-10", "2024-01-02", "2024-01-05", "2024-01-01"])})
    e = pd.DataFrame({"customer_id": ["b", "c", "a"], "timestamp": t(["2024-01-12", "2024-01-25", "2024-02-03"]),
                      "channel": ["store", "email", "referral"], "event": ["store_visit", "email_open", "referral_sent"]})
    det = voice.detractors_to_follow_up(s, orders=o, events=e)
    # a's latest answer is a promoter's; b and c are both worth 50 (c: 80 - 30 returned), c answered later
    assert det["customer_id"].tolist() == ["c", "b"]
    assert det["value"].tolist() == [50.0, 50.0] and det["orders"].tolist() == [1, 1]
    assert det.set_index("customer_id").loc["b", "touchpoint"] == "store"
    assert det.set_index("customer_id").loc["c", "touchpoint"] == "(none)"  # the email came after the answer
    pro = voice.promoters_to_invite(s, orders=o, events=e)
    assert pro["customer_id"].tolist() == ["d", "a"] and pro["referrals_sent"].tolist() == [0, 1]
    path = cjkit.export_csv(det, "detractors.csv", folder=tmp_path, announce=False)
    back = pd.read_csv(path)
    assert back.set_index("customer_id").loc["b", "comment"] == "'=HYPERLINK(\"x\")"


# --- figures -----------------------------------------------------------------------------

def test_figures_draw_the_numbers(demo):
    answers = voice.attach_segments(demo.surveys, customers=demo.customers)
    table = voice.nps_by_segment(answers, ["source_channel"])
    ax = nps_category_bars(table)
    k = len(table)
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, k)
    assert widths[2] == pytest.approx(table["promoter_share"].to_numpy())
    assert np.array([p.get_x() for p in ax.patches[2 * k:]]) == pytest.approx(
        (table["detractor_share"] + table["passive_share"]).to_numpy())
    store = table.index[table["group"] == "store"][0]
    row = table.loc[store]
    assert ax.texts[store].get_text() == f"NPS {row['nps']:+.0f} (n = {int(row['answers'])})"
    assert int(row["answers"]) == len(demo.surveys.dropna(subset=["nps"]).merge(
        demo.customers.loc[demo.customers["source_channel"] == "store", ["customer_id"]]))
    trend = voice.nps_over_time(demo.surveys, timezone="Europe/Madrid")
    ax = nps_trend(trend)
    assert ax.lines[0].get_ydata() == pytest.approx(trend["nps"].to_numpy())
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(trend["nps_ci_low"].min()) and band.max() == pytest.approx(trend["nps_ci_high"].max())
    ces = voice.ces_table(voice.last_touchpoint(demo.surveys, demo.events), by="touchpoint")
    ax = score_intervals(ces, by="touchpoint")
    assert tuple(ax.get_xlim()) == (1.0, 7.0)
    assert sorted(ax.containers[0].lines[0].get_xdata(), reverse=True) == pytest.approx(
        ax.containers[0].lines[0].get_xdata())


# --- the notebook on a survey-only client and on a custom journey model ---------------------

MODEL = """id: service
name: Service journey
stages:
  - {name: Visit}
  - {name: Onboarding}
  - {name: Engagement}
  - {name: Loyalty}
"""


@pytest.mark.notebook
def test_notebook_runs_with_surveys_only_and_a_custom_model(tmp_path):
    from cjkit.pipeline.run import run_suite

    clients = []
    for name, tables, model in (("surveys_only", ("surveys",), "six_stage"),
                                ("service", ("surveys", "customers"), "../model.yaml")):
        folder = tmp_path / "clients" / name
        folder.mkdir(parents=True)
        files = {"surveys": "surveys.csv", "customers": "customers.csv"}
        for t in tables:
            shutil.copy(TINY / files[t], folder / files[t])
        lines = [f"name: {name}", "timezone: Europe/Madrid", "currency: EUR", f"journey_model: {model}", "tables:"]
        lines += [f"  {t}: {{path: {files[t]}}}" for t in tables]
        (folder / "client.yaml").write_text("\n".join(lines) + "\n")
        clients.append(folder / "client.yaml")
    (tmp_path / "clients" / "model.yaml").write_text(MODEL)
    out = tmp_path / "out"
    suite = run_suite(clients, notebooks_glob=str(REPO / "notebooks" / "08_*.ipynb"), out_dir=out, jobs=1,
                      progress=False)
    assert [r.status for r in suite.results] == ["ok", "ok"], [r.error for r in suite.results]
    raw = pd.read_csv(TINY / "surveys.csv")
    scores = raw["nps"].dropna()
    expected = 100 * ((scores >= 9).mean() - (scores <= 6).mean())
    for name in ("surveys_only", "service"):
        records = {r["name"]: r for r in json.loads((out / name / "results.json").read_text())["records"]}
        assert records["nps"]["value"] == pytest.approx(expected)
        assert records["nps"]["estimate"]["n"] == len(scores)
        assert records["nps_seed000"]["value"] == pytest.approx(100 * ((scores >= 8).mean() - (scores <= 6).mean()))
        segments = pd.DataFrame(records["nps_by_segment"]["value"]["data"],
                                columns=records["nps_by_segment"]["value"]["columns"])
        assert set(segments["segment"]) == ({"stage"} if name == "surveys_only" else {"stage", "source_channel", "persona"})
        assert (out / name / "exports" / "detractors_to_follow_up.csv").is_file()
