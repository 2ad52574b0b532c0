"""Notebook 07 through a real ``cjkit run``: records, the customer_scores export, units, too few repeat buyers.

The tiny client's records are checked against the same fits made here in the test process,
and the export against the records (rows, totals, columns, one customer by hand). A small
orders-only client with five repeat buyers and customer ids a spreadsheet would run as
formulas must finish with a clear note, blank model columns and neutralised ids.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cjkit
from cjkit.clv import SCORE_COLUMNS, BGNBD, GammaGamma, customer_value, fit_models
from cjkit.rfm import customer_scores, summary_data
from conftest import REPO

NOTEBOOK = "notebooks/07_customer_lifetime_value.ipynb"
CJKIT = str(Path(sys.executable).parent / "cjkit")
FORMULA_IDS = ['=HYPERLINK("http://x")', "+c2", "-c3", "@c4"]


def _few_repeat_client(folder: Path) -> Path:
    """60 buyers, orders only; the first five (four with formula-like ids) buy twice."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(1)
    rows = []
    for i, cid in enumerate(FORMULA_IDS + [f"c{i:03d}" for i in range(5, 61)]):
        t = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 300)))
        rows.append((cid, f"o{len(rows) + 1}", t, round(float(rng.gamma(2, 40)), 2)))
        if i < 5:
            rows.append((cid, f"o{len(rows) + 1}", t + pd.Timedelta(days=30), 55.0))
    pd.DataFrame(rows, columns=["customer_id", "order_id", "ordered_at", "amount"]).to_csv(folder / "orders.csv",
                                                                                         index=False)
    (folder / "client.yaml").write_text("name: fewrep\ntitle: Few Repeat\ntimezone: UTC\ncurrency: EUR\n"
                                        "journey_model: six_stage\ntables:\n  orders: {path: orders.csv}\n")
    return folder / "client.yaml"


def _run(out: Path, *clients: Path, params: tuple[str, ...] = ()) -> None:
    args = [CJKIT, "run", "--notebooks", NOTEBOOK, "--out", str(out), "-q"]
    for client in clients:
        args += ["--client", str(client)]
    for p in params:
        args += ["-p", p]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def _records(folder: Path) -> dict:
    table = json.loads((folder / "results.json").read_text())["records"]
    return {r["name"]: r for r in table if r["notebook"] == "07_customer_lifetime_value"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("clv07")
    few = _few_repeat_client(base / "fewrep")
    tiny = REPO / "datasets" / "tiny" / "client.yaml"
    _run(base / "out", tiny, few)
    _run(base / "weeks", tiny, params=("freq=W",))
    return base


@pytest.fixture(scope="module")
def tiny_fit():
    data = cjkit.load_client(REPO / "datasets" / "tiny" / "client.yaml")
    tz = data.config.timezone
    day = str(max(data.orders["ordered_at"].max(), data.events["timestamp"].max()).tz_convert(tz).date())
    s = summary_data(data.orders, as_of=day, timezone=tz)
    bg, gg = fit_models(s, currency="EUR")
    return data, day, s, bg, gg


@pytest.mark.notebook
def test_records_are_the_fits_on_tiny(runs, tiny_fit):
    _, day, s, bg, gg = tiny_fit
    rec = _records(runs / "out" / "tiny")
    assert rec["as_of"]["value"] == day and rec["time_unit"]["value"] == "days"
    for name in ("r", "alpha", "a", "b"):
        assert rec[f"bgnbd_{name}"]["value"] == pytest.approx(bg.params_[name], rel=1e-6)
        assert rec[f"bgnbd_{name}"]["kind"] == "estimate"
    assert rec["bgnbd_alpha"]["unit"] == "days" and "in days" in rec["bgnbd_alpha"]["label"]
    assert rec["bgnbd_loglik"]["value"] == pytest.approx(bg.loglik_, rel=1e-9)
    for name in ("p", "q", "v"):
        assert rec[f"gg_{name}"]["value"] == pytest.approx(gg.params_[name], rel=1e-6)
    assert rec["gg_v"]["unit"] == "EUR"
    values = customer_value(s, bg, gg, horizon_months=12, monthly_discount=0.01)
    assert rec["clv_total"]["value"] == pytest.approx(values["clv"].sum(), rel=1e-6)
    assert rec["clv_total"]["unit"] == "EUR" and rec["clv_total"]["headline"]
    assert rec["customers"]["value"] == len(s) == 198
    assert rec["repeat_buyers"]["value"] == int((s["frequency"] > 0).sum())


@pytest.mark.notebook
def test_customer_scores_export_on_tiny(runs, tiny_fit):
    data, day, s, bg, gg = tiny_fit
    folder = runs / "out" / "tiny"
    rec = _records(folder)
    path = folder / "exports" / "customer_scores.csv"
    assert path.is_file()
    scores = pd.read_csv(path)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    assert len(scores) == rec["customers_scored"]["value"] == rec["customers"]["value"]
    assert scores["customer_id"].is_unique
    assert scores["clv"].sum() == pytest.approx(rec["clv_total"]["value"], rel=1e-9)
    assert scores["probability_alive"].sum() == pytest.approx(rec["customers_alive"]["value"], rel=1e-9)
    assert scores["expected_purchases"].sum() == pytest.approx(rec["expected_purchases_total"]["value"], rel=1e-9)
    # one customer through the kit in this process: summary, RFM and model columns agree
    cid = s.index[s["frequency"] > 0][0]  # the first repeat buyer
    row = scores.set_index("customer_id").loc[cid]
    assert row[["frequency", "recency", "T", "monetary_value"]].tolist() == s.loc[cid].tolist()
    rfm = customer_scores(data.orders, as_of=day, timezone=data.config.timezone).loc[cid]
    assert (row["r_score"], row["f_score"], row["m_score"], row["segment"]) == \
        (rfm["r_score"], rfm["f_score"], rfm["m_score"], rfm["segment"])
    one = s.loc[[cid]]
    assert row["probability_alive"] == pytest.approx(bg.probability_alive(one)[0], rel=1e-9)
    assert row["clv"] == pytest.approx(customer_value(one, bg, gg)["clv"].iloc[0], rel=1e-9)
    # every buyer has a segment and a CLV; a one-time buyer is alive with a positive CLV
    assert scores["segment"].notna().all() and (scores["clv"] > 0).all()
    once = scores[scores["frequency"] == 0]
    assert (once["probability_alive"] == 1.0).all() and len(once) == int((s["frequency"] == 0).sum()) == 82


@pytest.mark.notebook
def test_weekly_summary_gives_alpha_in_weeks_and_the_same_clv(runs):
    days, weeks = _records(runs / "out" / "tiny"), _records(runs / "weeks")
    assert weeks["time_unit"]["value"] == "weeks" and weeks["bgnbd_alpha"]["unit"] == "weeks"
    # alpha in weeks is near alpha in days / 7, 7 times below alpha in days. Weekly periods merge
    # the orders of one week, which pushes alpha up (27% on demo, where that is 5 SE; on tiny's
    # 198 buyers 18.9 weeks against 93.5 days / 7 = 13.4, +41%), so the band is a factor 1.6
    ratio = weeks["bgnbd_alpha"]["value"] / (days["bgnbd_alpha"]["value"] / 7)
    assert 1 / 1.6 < ratio < 1.6
    # the 12-month value does not become a 12 x 30-week one
    assert weeks["clv_total"]["value"] == pytest.approx(days["clv_total"]["value"], rel=0.05)


@pytest.mark.notebook
def test_too_few_repeat_buyers_says_so_and_finishes(runs):
    folder = runs / "out" / "fewrep"
    rec = _records(folder)
    for name in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "bgnbd_loglik", "gg_p", "gg_q", "gg_v", "clv_total"):
        assert rec[name]["value"] is None, name
    assert rec["repeat_buyers"]["value"] == 5 and rec["customers"]["value"] == 60
    page = (folder / "07_customer_lifetime_value.html").read_text()
    assert "only 5 of 60 customers made a repeat purchase" in page
    assert "The purchase model (BG/NBD) was not fitted" in page
    scores = pd.read_csv(folder / "exports" / "customer_scores.csv", keep_default_na=False)
    assert len(scores) == 60
    assert (scores[["probability_alive", "expected_purchases", "clv"]] == "").all().all()  # blank, not zero
    # ids a spreadsheet would run as formulas get a leading apostrophe
    ids = set(scores["customer_id"])
    assert {"'" + i for i in FORMULA_IDS} <= ids and not ids & set(FORMULA_IDS)
    assert scores.loc[scores["customer_id"] == "'-c3", "frequency"].iloc[0] == 1.0  # numbers stay numbers


def test_model_columns_blank_when_the_spend_model_is_missing():
    s = pd.DataFrame({"frequency": [0, 1, 2] * 10, "recency": [0.0, 5.0, 9.0] * 10, "T": [12.0] * 30,
                      "monetary_value": [0.0, 10.0, 12.0] * 10})
    bg = BGNBD()
    bg.params_, bg.freq_, bg.freq_multiplier_ = pd.Series({"r": 1.0, "alpha": 5.0, "a": 1.0, "b": 3.0}), "D", 1
    gg = GammaGamma()
    gg.params_ = pd.Series({"p": 1.0, "q": 0.8, "v": 5.0})  # q <= 1: no finite mean spend
    v = customer_value(s, bg, gg)
    assert v["probability_alive"].notna().all() and v["clv"].isna().all()
