"""The course notebooks: structure as committed, and their recorded results on the tiny client.

The suite is executed once (``cjkit run`` machinery, two kernels in parallel); every
recorded value is then checked against the same number worked out here straight from the
tiny client's files with plain pandas, not through cjkit's analysis functions.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill
import pytest
import yaml

from cjkit.pipeline.notebook import notebook_index
from cjkit.pipeline.params import MARKER, notebook_parameters
from cjkit.pipeline.records import read_records
from cjkit.pipeline.run import run_suite
from conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
TINY = REPO / "datasets" / "tiny"
SIX = ["awareness", "acquisition", "onboarding", "engagement", "retention", "advocacy"]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


# --- as committed ---------------------------------------------------------------------

def test_notebooks_are_numbered_and_unique():
    assert [p.name[:3] for p in NOTEBOOKS] == ["00_", "01_", "02_"]
    assert all(p.stem[:2].isdigit() and p.stem[2] == "_" and p.stem == p.stem.lower() for p in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_shape(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "outputs committed"
    tagged = [c for c in code if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert "".join(tagged[0]["source"]).startswith(MARKER)
    assert code[0] is tagged[0] and "cjkit.notebook.start(" in "".join(code[1]["source"])
    assert nb["metadata"]["kernelspec"]["name"] == "cjkit"
    declared = notebook_parameters(path)
    assert declared["name"].tolist()[:3] == ["client", "start", "end"]
    assert declared.loc[0, "default"] == "demo"
    assert declared["help"].str.len().gt(10).all(), "every parameter has a help comment"


def test_notebook_index_is_built_from_the_files():
    index = notebook_index()
    assert index["notebook"].tolist() == [p.name for p in NOTEBOOKS]
    assert index["title"].tolist() == ["Start here", "Journey models", "Data and touchpoints"]


# --- executed on the tiny client --------------------------------------------------------

@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_reports")
    result = run_suite([TINY / "client.yaml"], notebooks_glob=str(REPO / "notebooks" / "[0-9][0-9]_*.ipynb"),
                       out_dir=out, jobs=2, progress=False)
    return out, result


@pytest.fixture(scope="module")
def raw():
    """The tiny client's files read with plain pandas (times stay naive local, as written)."""
    return {"customers": pd.read_csv(TINY / "customers.csv", dtype=str),
            "events": pd.read_parquet(TINY / "events.parquet"),
            "orders": pd.read_csv(TINY / "orders.csv", dtype={"customer_id": str}),
            "surveys": pd.read_csv(TINY / "surveys.csv", dtype=str),
            "spend": pd.read_csv(TINY / "spend.csv", dtype=str)}


def _records(out: Path) -> dict[tuple[str, str], object]:
    table = pd.DataFrame(json.loads((out / "results.json").read_text())["records"])
    return {(r.notebook, r.name): r.value for r in table.itertuples()}


@pytest.mark.notebook
def test_every_notebook_ran(suite):
    out, result = suite
    assert [r.status for r in result.results] == ["ok", "ok", "ok"]
    assert (out / "index.html").is_file()
    for nb in NOTEBOOKS:
        assert (out / f"{nb.stem}.html").is_file() and (out / f"{nb.stem}.ipynb").is_file()


@pytest.mark.notebook
def test_start_here_records(suite, raw):
    rec = _records(suite[0])
    assert rec[("00_start_here", "tables_available")] == 5
    assert rec[("00_start_here", "rows_read")] == sum(len(t) for t in raw.values())


@pytest.mark.notebook
def test_journey_models_records(suite, raw):
    rec = _records(suite[0])
    assert rec[("01_journey_models", "tactics")] == 33          # seed 000, counted by hand
    assert rec[("01_journey_models", "crosswalk_links")] == 8   # five -> six links in crosswalk.yaml
    events = raw["events"]
    assert rec[("01_journey_models", "customers_with_events")] == events["customer_id"].nunique()
    # furthest stage by hand: apply the client's rules (channel rules first), take the max
    rules = yaml.safe_load((TINY / "client.yaml").read_text())["stage_map"]
    stage = pd.Series(pd.NA, index=events.index, dtype="object")
    for rule in sorted(rules, key=lambda r: "channel" not in r):
        hit = (events["event"] == rule["event"]) & stage.isna()
        if "channel" in rule:
            hit &= events["channel"] == rule["channel"]
        stage[hit] = rule["stage"]
    furthest = stage.map(SIX.index).groupby(events["customer_id"]).max()
    reached = [int((furthest >= k).sum()) for k in range(6)]
    sizes = rec[("01_journey_models", "stage_sizes")]
    got = pd.DataFrame(sizes["data"], columns=sizes["columns"])
    assert got["stage"].tolist() == SIX
    assert got["reached"].tolist() == reached
    assert rec[("01_journey_models", "reached_advocacy")] == pytest.approx(reached[-1] / len(furthest))


@pytest.mark.notebook
def test_data_and_touchpoints_records(suite, raw):
    rec = _records(suite[0])
    n_rows = sum(len(t) for t in raw.values())
    assert rec[("02_data_and_touchpoints", "rows_kept")] == n_rows  # the tiny client is clean
    # every assessed QCQ check passes on the tiny client: 10 of them (the fix count is informative)
    assert rec[("02_data_and_touchpoints", "qcq_checks_passed")] == 10
    # phases by hand: 'during' = same session as a purchase event; else before/after the first order
    ev = raw["events"]
    purchase = ev["event"].isin(["first_purchase", "repeat_purchase"])
    buying = set(zip(ev.loc[purchase, "customer_id"], ev.loc[purchase, "session_id"]))
    during = pd.Series([k in buying for k in zip(ev["customer_id"], ev["session_id"])], index=ev.index)
    first = pd.to_datetime(raw["orders"].groupby("customer_id")["ordered_at"].min())
    after = pd.to_datetime(ev["timestamp"]) >= ev["customer_id"].map(first)
    expected = {"before": int((~during & ~after).sum()), "during": int(during.sum()),
                "after": int((~during & after).sum())}
    phases = rec[("02_data_and_touchpoints", "events_by_phase")]
    assert dict((p, n) for p, n in phases["data"]) == expected
    assert rec[("02_data_and_touchpoints", "share_after_purchase")] == pytest.approx(expected["after"] / len(ev))
    before = ev[~during & ~after]
    assert rec[("02_data_and_touchpoints", "top_channel_before")] == before["channel"].value_counts().idxmax()


@pytest.mark.notebook
def test_records_agree_across_notebook_html_and_results(suite):
    out, _ = suite
    table = pd.DataFrame(json.loads((out / "results.json").read_text())["records"])
    for nb in NOTEBOOKS:
        from_ipynb = read_records(out / f"{nb.stem}.ipynb")
        from_html = read_records(out / f"{nb.stem}.html")
        mine = table[table["notebook"] == nb.stem]
        assert from_ipynb["name"].tolist() == from_html["name"].tolist() == mine["name"].tolist()
        for a, b, c in zip(from_ipynb["value"], from_html["value"], mine["value"]):
            if isinstance(c, dict):  # a table: results.json keeps {columns, data}
                expected = pd.DataFrame(c["data"], columns=c["columns"])
                pd.testing.assert_frame_equal(a, expected, check_dtype=False)
                pd.testing.assert_frame_equal(b, expected, check_dtype=False)
            else:
                assert a == b == c


@pytest.mark.notebook
def test_papermill_directly_with_a_window(tmp_path, raw):
    """papermill on its own (not the CLI), with a date window: only events in it count."""
    out = tmp_path / "01.ipynb"
    papermill.execute_notebook(str(REPO / "notebooks" / "01_journey_models.ipynb"), str(out),
                               parameters={"client": "tiny", "start": "2025-01-01", "end": "2025-03-31"},
                               kernel_name="cjkit", progress_bar=False, cwd=str(REPO / "notebooks"))
    rec = read_records(out).set_index("name")["value"]
    ts = pd.to_datetime(raw["events"]["timestamp"])
    inside = raw["events"][(ts >= "2025-01-01") & (ts < "2025-04-01")]  # end day included
    assert rec["customers_with_events"] == inside["customer_id"].nunique()
