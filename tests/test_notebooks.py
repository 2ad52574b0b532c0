"""The course notebooks: structure as committed, and their recorded results on the tiny client.

The suite is executed once (``cjkit run`` machinery, two kernels in parallel); every
recorded value is then checked against the same number worked out here straight from the
tiny client's files with plain pandas, not through cjkit's analysis functions, and against
the planted truth of the generator (``datasets/tiny/ground_truth.json``) where one applies.
Every notebook also runs on a client with a journey model of its own and on clients that
have a single table: it runs, or says it is not available, and never fails.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import papermill
import pytest

from cjkit.contract.schemas import TABLES
from cjkit.pipeline.notebook import notebook_index
from cjkit.pipeline.params import MARKER, notebook_needs, notebook_parameters
from cjkit.pipeline.records import read_records
from cjkit.pipeline.run import run_suite
from conftest import REPO, stages_by_hand, wilson

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
GLOB = str(REPO / "notebooks" / "[0-9][0-9]_*.ipynb")
TINY = REPO / "datasets" / "tiny"
TINY_PATHS = REPO / "tests" / "fixtures" / "attribution_tiny_paths.csv"  # tiny's first-purchase paths
TRUTH = json.loads((TINY / "ground_truth.json").read_text())
SIX = ["awareness", "acquisition", "onboarding", "engagement", "retention", "advocacy"]


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


# --- as committed ---------------------------------------------------------------------

def test_notebooks_are_numbered_and_unique():
    assert NOTEBOOKS, "no notebook in notebooks/"
    assert all(p.stem[:2].isdigit() and p.stem[2] == "_" and p.stem == p.stem.lower() for p in NOTEBOOKS)
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers == list(range(len(NOTEBOOKS))), "numbered 00, 01, 02 ... without gaps or repeats"


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
    # declared where the runner reads it without a kernel; "events|paths" means either table
    assert {t for need in notebook_needs(path) for t in need.split("|")} <= set(TABLES)
    declared = notebook_parameters(path)
    assert declared["name"].tolist()[:3] == ["client", "start", "end"]
    assert declared.loc[0, "default"] == "demo"
    assert declared["help"].str.len().gt(10).all(), "every parameter has a help comment"


def test_notebook_index_is_built_from_the_files():
    import re

    index = notebook_index()
    assert index["notebook"].tolist() == [p.name for p in NOTEBOOKS]
    headings = []
    for path in NOTEBOOKS:  # the first heading of each file, read here with a plain regex
        first = next(c for c in _cells(path) if c["cell_type"] == "markdown")
        line = next(x for x in "".join(first["source"]).splitlines() if x.startswith("# "))
        headings.append(re.sub(r"^# \d\d · ", "", line))
    assert index["title"].tolist() == headings


# --- executed on the tiny client --------------------------------------------------------

@pytest.fixture(scope="module")
def suite(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_reports")
    result = run_suite([TINY / "client.yaml"], notebooks_glob=GLOB, out_dir=out, jobs=2, progress=False)
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
    assert [r.status for r in result.results] == ["ok"] * len(NOTEBOOKS), [r.error for r in result.results]
    assert (out / "index.html").is_file()
    for nb in NOTEBOOKS:
        assert (out / f"{nb.stem}.html").is_file() and (out / f"{nb.stem}.ipynb").is_file()
        title = next(r.title for r in result.results if r.notebook == nb.stem)
        assert f"<title>{title}</title>" in (out / f"{nb.stem}.html").read_text()  # the page's title
        # a notebook that draws shows its figures (kernels run several notebooks in turn)
        executed = json.loads((out / f"{nb.stem}.ipynb").read_text())
        images = sum("image/png" in o.get("data", {}) for c in executed["cells"] for o in c.get("outputs", []))
        draws = sum("cjkit.plots." in "".join(c["source"]) for c in _cells(nb) if c["cell_type"] == "code")
        assert images >= min(draws, 1), (nb.stem, images, draws)


@pytest.mark.notebook
def test_start_here_records(suite, raw):
    rec = _records(suite[0])
    assert rec[("00_start_here", "tables_available")] == 5
    assert rec[("00_start_here", "rows_read")] == sum(len(t) for t in raw.values())
    planted = TRUTH["counts"]  # what the generator wrote
    assert rec[("00_start_here", "rows_read")] == sum(planted[k] for k in ("customers", "events", "order_rows",
                                                                        "surveys", "spend_rows"))


@pytest.mark.notebook
def test_journey_models_records(suite, raw):
    rec = _records(suite[0])
    assert rec[("01_journey_models", "tactics")] == 33          # seed 000, counted by hand
    assert rec[("01_journey_models", "crosswalk_links")] == 8   # five -> six links in crosswalk.yaml
    events = raw["events"]
    assert rec[("01_journey_models", "customers_with_events")] == events["customer_id"].nunique()
    # furthest stage by hand: apply the client's rules (channel rules first), take the max
    stage = stages_by_hand(events, TINY / "client.yaml")
    furthest = stage.map(SIX.index).groupby(events["customer_id"]).max()
    reached = [int((furthest >= k).sum()) for k in range(6)]
    sizes = rec[("01_journey_models", "stage_sizes")]
    got = pd.DataFrame(sizes["data"], columns=sizes["columns"])
    assert got["stage"].tolist() == SIX
    assert got["reached"].tolist() == reached
    assert rec[("01_journey_models", "reached_advocacy")] == pytest.approx(reached[-1] / len(furthest))
    est = suite[1].results[1].records.set_index("name").loc["reached_advocacy", "estimate"]
    assert (est.numerator, est.denominator, est.n) == (reached[-1], len(furthest), len(furthest))
    assert (est.ci_low, est.ci_high) == pytest.approx(wilson(reached[-1], len(furthest)))
    assert rec[("01_journey_models", "customers_with_events")] == TRUTH["counts"]["customers"]  # all 500 signed up


@pytest.mark.notebook
def test_data_and_touchpoints_records(suite, raw):
    rec = _records(suite[0])
    n_rows = sum(len(t) for t in raw.values())
    assert rec[("02_data_and_touchpoints", "rows_kept")] == n_rows  # the tiny client is clean
    assert rec[("02_data_and_touchpoints", "buyers")] == TRUTH["counts"]["buyers"]
    # QCQ: each measured value worked out from the files, then the passes counted against the targets
    qcq = rec[("02_data_and_touchpoints", "qcq")]
    qcq = pd.DataFrame(qcq["data"], columns=qcq["columns"]).set_index("check")
    ids = set(raw["customers"]["customer_id"])
    comments = raw["surveys"]["comment"].fillna("").str.strip()
    spans = {name: pd.to_datetime(raw[name][col]) for name, col in
             [("events", "timestamp"), ("orders", "ordered_at"), ("surveys", "answered_at"), ("spend", "date")]}
    lo, hi = max(s.min() for s in spans.values()), min(s.max() for s in spans.values())
    whole = max(s.max() for s in spans.values()) - min(s.min() for s in spans.values())
    by_hand = {
        "share of rows kept after validation": 1.0,
        "events rows linked to a known customer": raw["events"]["customer_id"].isin(ids).mean(),
        "orders rows linked to a known customer": raw["orders"]["customer_id"].isin(ids).mean(),
        "surveys rows linked to a known customer": raw["surveys"]["customer_id"].isin(ids).mean(),
        "common period of the dated tables": max((hi - lo) / whole, 0.0),
        "currencies in orders": raw["orders"]["currency"].nunique(),
        "behavioural tables (events, orders, spend)": 3,
        "survey answers with a written comment": (comments != "").mean(),
    }
    for check, value in by_hand.items():
        assert qcq.loc[check, "value"] == pytest.approx(value, abs=0.002), check  # days vs timestamps: 0.2%
    targets = {"share of rows kept after validation": by_hand["share of rows kept after validation"] >= 0.99,
               "currencies in orders": by_hand["currencies in orders"] == 1,
               "common period of the dated tables": by_hand["common period of the dated tables"] >= 0.8,
               "behavioural tables (events, orders, spend)": True,
               "survey answers with a written comment": by_hand["survey answers with a written comment"] > 0,
               **{c: by_hand[c] >= 0.99 for c in by_hand if "linked" in c}}
    passes = sum(targets.values()) + int(qcq.loc["validation errors", "value"] == 0) \
        + int(qcq.loc["warnings to review", "value"] == 0)
    assert rec[("02_data_and_touchpoints", "qcq_checks_passed")] == passes
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
    est = suite[1].results[2].records.set_index("name").loc["share_after_purchase", "estimate"]
    assert (est.numerator, est.denominator) == (expected["after"], len(ev))
    assert (est.ci_low, est.ci_high) == pytest.approx(wilson(expected["after"], len(ev)))
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


# --- on clients unlike the demo ----------------------------------------------------------

ECOM_MODEL = """id: ecom_funnel
name: E-commerce funnel
stages:
  - {name: Visit}
  - {name: Cart}
  - {name: Purchase}
  - {name: Loyalty, aliases: [advocacy]}
"""
ECOM_RULES = {"visit": ["page_view", "product_view", "ad_click", "ad_impression", "store_visit"],
              "cart": ["add_to_cart", "checkout_start"], "purchase": ["first_purchase", "repeat_purchase"],
              "loyalty": ["review_posted", "referral_sent", "social_share"]}


def _tiny_copy(folder: Path, tables: tuple[str, ...], *, model: str = "six_stage", rules: str | None = None) -> Path:
    """A client made of some of the tiny client's files, with its own YAML."""
    import shutil

    folder.mkdir(parents=True)
    files = {"customers": "customers.csv", "events": "events.parquet", "orders": "orders.csv",
             "surveys": "surveys.csv", "spend": "spend.csv", "paths": "paths.csv"}
    sources = {t: TINY / f for t, f in files.items()} | {"paths": TINY_PATHS}  # tiny's paths, as an export
    for t in tables:
        shutil.copy(sources[t], folder / files[t])
    lines = [f"name: {folder.name}", "timezone: Europe/Madrid", "currency: EUR", f"journey_model: {model}", "tables:"]
    lines += [f"  {t}: {{path: {files[t]}}}" for t in tables]
    if rules is not None:
        lines.append(rules)
    elif "events" in tables:  # the tiny client's own rules
        lines.append((TINY / "client.yaml").read_text().split("stage_map:", 1)[1].join(["stage_map:", ""]))
    (folder / "client.yaml").write_text("\n".join(lines) + "\n")
    return folder / "client.yaml"


@pytest.mark.notebook
def test_every_notebook_runs_on_a_custom_journey_model(tmp_path, raw):
    (tmp_path / "ecom").mkdir()
    rules = "stage_map:\n" + "\n".join(f"  - {{event: {e}, stage: {s}}}" for s, evs in ECOM_RULES.items() for e in evs)
    client = _tiny_copy(tmp_path / "ecom" / "shop", ("customers", "events", "orders", "surveys"),
                        model="../model.yaml", rules=rules)
    (tmp_path / "ecom" / "model.yaml").write_text(ECOM_MODEL)
    # the client's surveys name the stages of its own model (a stage outside it is a load error)
    surveys = pd.read_csv(client.parent / "surveys.csv")
    surveys["stage"] = surveys["stage"].map({"onboarding": "purchase", "engagement": "loyalty"})
    surveys.to_csv(client.parent / "surveys.csv", index=False)
    out = tmp_path / "out"
    suite = run_suite([client], notebooks_glob=GLOB, out_dir=out, jobs=2, progress=False)
    assert [r.status for r in suite.results] == ["ok"] * len(NOTEBOOKS), [r.error for r in suite.results]
    rec = _records(out)
    assert rec[("01_journey_models", "crosswalk_links")] == 0  # none stored for a client's own model: a sentence
    assert "No crosswalk is stored between Five-stage digital journey and E-commerce funnel" in \
        (out / "01_journey_models.html").read_text()
    # furthest stage by hand with the custom rules
    events = raw["events"]
    order = list(ECOM_RULES)
    stage = events["event"].map({e: s for s, evs in ECOM_RULES.items() for e in evs})
    furthest = stage.map({s: i for i, s in enumerate(order)}).groupby(events["customer_id"]).max()
    sizes = rec[("01_journey_models", "stage_sizes")]
    got = pd.DataFrame(sizes["data"], columns=sizes["columns"])
    assert got["stage"].tolist() == order
    assert got["reached"].tolist() == [int((furthest >= k).sum()) for k in range(len(order))]
    # NPS by stage uses the custom model's stages, counted by hand
    by_segment = rec[("08_nps_and_advocacy", "nps_by_segment")]
    by_segment = pd.DataFrame(by_segment["data"], columns=by_segment["columns"])
    stages = by_segment[by_segment["segment"] == "stage"].set_index("group")["answers"].to_dict()
    assert stages == surveys.dropna(subset=["nps"])["stage"].value_counts().to_dict()


@pytest.mark.notebook
def test_clients_with_a_single_table_run_or_say_why_not(tmp_path):
    clients = [_tiny_copy(tmp_path / name, (name,)) for name in ("orders", "events", "surveys", "paths")]
    suite = run_suite(clients, notebooks_glob=GLOB, out_dir=tmp_path / "out", jobs=2, progress=False)
    assert suite.ok, [(r.client, r.notebook, r.error) for r in suite.results if r.status == "failed"]
    needs = {p.stem: notebook_needs(p) for p in NOTEBOOKS}  # "events|paths": either table
    for res in suite.results:
        missing = [n for n in needs[res.notebook] if res.client not in n.split("|")]
        expected = "not available" if missing else "ok"
        assert res.status == expected, (res.client, res.notebook, res.error)
        if expected == "not available":
            assert res.error.startswith(f"Not available for this client: needs the {missing[0].replace('|', ' or ')}")
    rows = pd.read_csv(tmp_path / "out" / "clients.csv")
    assert list(rows.columns[-4:]) == ["orders", "events", "surveys", "paths"]
