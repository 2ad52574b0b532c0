"""QCQ checks (seed 002) on a hand-made client and on the tiny demo client."""
import pandas as pd
import pytest

from cjkit.contract.load import load_client
from cjkit.datasets import demo_client_path
from cjkit.quality import qcq_checks
from conftest import wilson


def _write_client(d, *, extra_yaml=""):
    pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"]}).to_csv(d / "customers.csv", index=False)
    pd.DataFrame({
        "customer_id": ["c1", "c1", "c2", "c3", "zz"],
        "timestamp": ["2024-01-01 10:00", "2024-01-11 10:00", "2024-01-05 10:00",
                      "2024-01-06 10:00", "2024-01-07 10:00"],
        "channel": ["search"] * 5, "event": ["ad_click"] * 5,
    }).to_csv(d / "events.csv", index=False)
    pd.DataFrame({
        "customer_id": ["c1", "c2"], "order_id": ["o1", "o2"],
        "ordered_at": ["2024-01-06 10:00", "2024-01-21 10:00"], "amount": [10.0, 20.0],
        "currency": ["EUR", "USD"],
    }).to_csv(d / "orders.csv", index=False)
    pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"],
                  "answered_at": ["2024-01-07"] * 4, "nps": [9, 10, 3, 7],
                  "comment": ["great strings", "", None, "slow delivery"]}).to_csv(d / "surveys.csv", index=False)
    (d / "client.yaml").write_text(
        "name: qcq\ntimezone: UTC\ntables:\n  customers: {path: customers.csv}\n"
        "  events: {path: events.csv}\n  orders: {path: orders.csv}\n  surveys: {path: surveys.csv}\n"
        "stage_map:\n  - {event: ad_click, stage: awareness}\n" + extra_yaml)
    return d / "client.yaml"


def test_qcq_by_hand(tmp_path):
    data = load_client(_write_client(tmp_path, extra_yaml="options: {drop_invalid_rows: true}\n"))
    got = qcq_checks(data).set_index("check")
    # 15 rows read (4 customers, 5 events, 2 orders, 4 surveys); the event of unknown 'zz' dropped
    assert got.loc["share of rows kept after validation", "value"] == pytest.approx(14 / 15)
    assert got.loc["share of rows kept after validation", "verdict"] == "review"
    # the share comes with its Wilson interval and n (the estimate type)
    assert got.loc["share of rows kept after validation", ["ci_low", "ci_high"]].tolist() == \
        pytest.approx(wilson(14, 15))
    assert got.loc["share of rows kept after validation", ["unit", "n"]].tolist() == ["share", 15]
    assert got.loc["validation errors", "unit"] == "count"
    assert got.loc["validation errors", "value"] == 0
    assert got.loc["events rows linked to a known customer", "value"] == 1.0
    # periods: events Jan 1 -> Jan 11 (the zz row is gone), orders Jan 6 -> Jan 21, surveys Jan 7;
    # common period Jan 7 -> Jan 7 = 0 days of the 20-day whole
    assert got.loc["common period of the dated tables", "value"] == 0.0
    assert got.loc["common period of the dated tables", "verdict"] == "review"
    assert got.loc["currencies in orders", "value"] == 2
    assert got.loc["currencies in orders", "verdict"] == "review"
    # two of four answers carry words ('' and missing do not)
    assert got.loc["survey answers with a written comment", "value"] == 0.5
    assert got.loc["survey answers with a written comment", ["ci_low", "ci_high"]].tolist() == \
        pytest.approx(wilson(2, 4))
    # the table style shows each value in its row's unit, shares with their interval
    from cjkit.display import formatted

    shown = formatted(qcq_checks(data))[0].set_index("check")["value"]
    low, high = wilson(14, 15)
    assert shown["share of rows kept after validation"] == f"93.3% (95% CI {low * 100:.1f}-{high * 100:.1f}%)"
    assert shown["validation errors"] == "0" and shown["common period of the dated tables"] == "0.0%"
    assert list(got["rule"].unique()) == ["Quality", "Comparable", "Qualitative + Quantitative"]


def test_qcq_on_tiny_demo_matches_the_files():
    data = load_client(demo_client_path("tiny"))
    got = qcq_checks(data).set_index("check")
    assert (got["verdict"] != "review").all(), got
    folder = demo_client_path("tiny").parent
    surveys = pd.read_csv(folder / "surveys.csv", dtype=str, keep_default_na=False)
    with_words = (surveys["comment"].str.strip() != "").mean()
    assert got.loc["survey answers with a written comment", "value"] == pytest.approx(with_words)
    assert got.loc["behavioural tables (events, orders, spend)", "value"] == 3
