"""Notebooks 06-09 on clients with almost no data: they finish, or stop saying why."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjkit.pipeline.run import run_suite

REPO = Path(__file__).resolve().parents[1]


def _client(folder: Path, table: str, text: str, extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / f"{table}.csv").write_text(text)
    (folder / "client.yaml").write_text(f"name: {folder.name}\ntimezone: UTC\ncurrency: EUR\n"
                                        f"tables:\n  {table}: {{path: {table}.csv}}\n{extra}")
    return folder / "client.yaml"


@pytest.mark.notebook
def test_one_order_unscored_answers_and_only_returns(tmp_path):
    one = _client(tmp_path / "one_order", "orders", "customer_id,order_id,ordered_at,amount\nc1,o1,2024-01-05,12\n")
    blank = _client(tmp_path / "no_scores", "surveys", "customer_id,answered_at,nps\nc1,2024-01-01,\nc2,2024-01-02,\n")
    returns = _client(tmp_path / "returns_only", "orders",
                      "customer_id,order_id,ordered_at,amount\nc1,o1,2024-01-05,-12\nc2,o2,2024-02-05,-3\n")
    suite = run_suite([one, blank, returns], notebooks_glob=str(REPO / "notebooks" / "0[678]_*.ipynb"),
                      out_dir=tmp_path / "out", jobs=2, progress=False)
    status = {(r.client, r.notebook): (r.status, r.error) for r in suite.results}
    # one order of one customer: RFM and CLV finish; the CLV page says why there is no fit and no holdout
    assert status[("one_order", "06_rfm_segmentation")] == ("ok", None)
    assert status[("one_order", "07_customer_lifetime_value")] == ("ok", None)
    page = (tmp_path / "out" / "one_order" / "07_customer_lifetime_value.html").read_text()
    assert "No holdout check: the orders span less than 8 days (2024-01-05 to 2024-01-05)" in page
    records = {r["name"]: r["value"] for r in json.loads((tmp_path / "out" / "one_order" / "results.json")
                                                          .read_text())["records"]}
    assert records["repeat_buyers"] == 0 and records["bgnbd_r"] is None and records["clv_total"] is None
    # answers without a score: the NPS notebook stops at the check, naming the column and the count
    assert status[("no_scores", "08_nps_and_advocacy")] == (
        "failed", "ValueError: surveys.nps: none of the 2 answers has a score (all blank, or read as missing at "
                  "load); the scores, intervals and lists need scored answers")
    # only returns: both customer notebooks stop at once, saying there is no purchase
    assert status[("returns_only", "06_rfm_segmentation")] == (
        "failed", "ValueError: orders table: none of its 2 rows is a purchase; RFM needs purchases")
    assert status[("returns_only", "07_customer_lifetime_value")] == (
        "failed", "ValueError: orders table: none of its 2 rows is a purchase (returns: 2); the summary needs purchases")
