"""The batch runner: discovery, parameter pre-checks, failures, not-available flow, batches."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cjkit.pipeline.params import ParameterError
from cjkit.pipeline.run import discover_notebooks, find_clients, prepare_parameters, run_suite
from conftest import XSS, write_client


def _copy(fixture_notebooks: Path, folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(fixture_notebooks / f"{name}.ipynb", folder)
    return folder


def test_discovery_is_by_glob_in_number_order(tmp_path):
    for name in ["10_last.ipynb", "02_b.ipynb", "01_a.ipynb", "1_short.ipynb", "02_a.ipynb", "notes.ipynb"]:
        (tmp_path / name).write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "01_a-checkpoint.ipynb").write_text("{}")
    found = discover_notebooks("[0-9][0-9]_*.ipynb", root=tmp_path)
    assert [p.name for p in found] == ["01_a.ipynb", "02_a.ipynb", "02_b.ipynb", "10_last.ipynb"]
    assert [p.name for p in discover_notebooks(str(tmp_path / "*_*.ipynb"))] == [
        "01_a.ipynb", "1_short.ipynb", "02_a.ipynb", "02_b.ipynb", "10_last.ipynb"]


def test_prepare_parameters_types_and_routing(fixture_notebooks):
    nbs = [fixture_notebooks / "01_orders_summary.ipynb", fixture_notebooks / "02_fails.ipynb"]
    got = prepare_parameters(nbs, {"top_n": "5", "start": "2024-01-01", "channels": "email,search"})
    assert got == {nbs[0]: {"top_n": 5, "start": "2024-01-01", "channels": ["email", "search"]},
                   nbs[1]: {"start": "2024-01-01"}}  # top_n and channels only go where declared
    with pytest.raises(ParameterError, match=r"unknown parameter 'topn' \(did you mean 'top_n'\?\)"):
        prepare_parameters(nbs, {"topn": "5"})
    with pytest.raises(ParameterError, match=r"01_orders_summary.ipynb: parameter 'top_n' expects int"):
        prepare_parameters(nbs, {"top_n": "many"})
    with pytest.raises(ParameterError, match="give the client with --client PATH"):
        prepare_parameters(nbs, {"client": "x.yaml"})


def test_find_clients_expands_folders_and_rejects_duplicates(tmp_path):
    a = write_client(tmp_path / "clients" / "a", name="alpha")
    b = write_client(tmp_path / "clients" / "b", name="beta")
    shutil.copy(a, tmp_path / "clients" / "alpha.yaml")
    shutil.copy(b, tmp_path / "clients" / "beta.yaml")
    specs = find_clients([tmp_path / "clients"])
    assert [(s.name, s.path.name) for s in specs] == [("alpha", "alpha.yaml"), ("beta", "beta.yaml")]
    with pytest.raises(ValueError, match="several client files have the name alpha"):
        find_clients([a, tmp_path / "clients" / "alpha.yaml"])
    with pytest.raises(FileNotFoundError, match="client file not found"):
        find_clients([tmp_path / "nope.yaml"])


@pytest.mark.notebook
def test_failing_notebook_is_reported_and_others_still_run(tmp_path, acme_client, fixture_notebooks):
    nbs = _copy(fixture_notebooks, tmp_path / "nbs", "01_orders_summary", "02_fails", "03_needs_events")
    out = tmp_path / "out"
    suite = run_suite([acme_client], notebooks_glob=str(nbs / "[0-9][0-9]_*.ipynb"), out_dir=out,
                      params={"top_n": "1"}, jobs=1, progress=False)
    assert not suite.ok
    status = {r.notebook: (r.status, r.cell, r.error) for r in suite.results}
    assert status == {
        "01_orders_summary": ("ok", None, None),
        "02_fails": ("failed", 5, "RuntimeError: planted failure in a fixture notebook"),
        "03_needs_events": ("ok", None, None),
    }
    assert suite.out_dirs == {"acme": out}  # one client with --out: written there directly
    assert sorted(p.name for p in out.iterdir()) == [
        "01_orders_summary.html", "01_orders_summary.ipynb", "02_fails.html", "02_fails.ipynb",
        "03_needs_events.html", "03_needs_events.ipynb", "exports", "index.html", "results.csv", "results.json"]
    results = json.loads((out / "results.json").read_text())
    values = {(r["notebook"], r["name"]): r["value"] for r in results["records"]}
    assert values[("01_orders_summary", "n_orders")] == 4
    assert values[("01_orders_summary", "top_n")] == 1
    assert values[("01_orders_summary", "top_customers")] == {"columns": ["customer_id", "amount"],
                                                              "data": [["c1", 30.5]]}
    assert values[("02_fails", "before_failure")] == 1 and ("02_fails", "after_failure") not in values
    assert values[("03_needs_events", "n_events")] == 4
    assert results["notebooks"][1] == {"notebook": "02_fails", "status": "failed", "cell": 5,
                                       "error": "RuntimeError: planted failure in a fixture notebook"}
    tidy = pd.read_csv(out / "results.csv", keep_default_na=False)
    assert list(tidy.columns) == ["notebook", "name", "value", "unit", "label", "headline", "kind",
                                  "ci_low", "ci_high", "n"]  # the interval of estimate records
    assert tidy[tidy["name"] == "revenue"][["notebook", "value", "unit"]].values.tolist() == [
        ["01_orders_summary", "55.5", "EUR"]]
    assert tidy[tidy["name"] == "top_campaign"]["value"].tolist() == [XSS]
    index = (out / "index.html").read_text()
    assert re.findall(r'href="([^"]+)"', index) == [
        "01_orders_summary.html", "02_fails.html", "03_needs_events.html", "exports/top_customers.csv"]
    assert "failed at cell 5: RuntimeError: planted failure in a fixture notebook" in index
    assert "<li>Orders: 4 orders</li>" in index and "<li>Revenue: 55.5 EUR</li>" in index


@pytest.mark.notebook
def test_not_available_flow(tmp_path, orders_only_client, fixture_notebooks):
    nbs = _copy(fixture_notebooks, tmp_path / "nbs", "03_needs_events")
    out = tmp_path / "out"
    suite = run_suite([orders_only_client], notebooks_glob=str(nbs / "*.ipynb"), out_dir=out, progress=False)
    assert suite.ok, [(r.client, r.notebook, r.status, r.error) for r in suite.results]
    [res] = suite.results
    assert (res.status, res.error) == ("not available", "Not available for this client: needs the events table")
    assert res.records[["name", "value"]].values.tolist() == [["available", False]]
    html = (out / "03_needs_events.html").read_text()
    assert "Not available for this client: needs the events table" in html
    assert "Traceback" not in html and "RuntimeError" not in html
    assert "Not available for this client: needs the events table" in (out / "index.html").read_text()


@pytest.mark.notebook
def test_batch_of_two_clients_in_parallel_writes_cross_client_table(tmp_path, acme_client, orders_only_client,
                                                                   fixture_notebooks, monkeypatch):
    _copy(fixture_notebooks, tmp_path / "nbs", "01_orders_summary", "03_needs_events")
    monkeypatch.chdir(tmp_path)  # default output folder reports/ is relative to the working directory
    suite = run_suite([acme_client, orders_only_client], notebooks_glob="nbs/*.ipynb", jobs=2, progress=False)
    assert suite.ok, [(r.client, r.notebook, r.status, r.error) for r in suite.results]
    assert suite.out_dirs == {"acme": Path("reports/acme"), "shoponly": Path("reports/shoponly")}
    assert Path.cwd() == tmp_path  # the parallel runs never moved the working directory
    assert (tmp_path / "reports" / "clients.csv").read_text().splitlines() == [
        "notebook,name,label,unit,kind,acme,shoponly",
        "01_orders_summary,n_orders,Orders,orders,number,4,2",
        "01_orders_summary,revenue,Revenue,EUR,number,55.5,20.0",
        "03_needs_events,n_events,Events,events,number,4,",  # shoponly has no events: not available
    ]
    index = (tmp_path / "reports" / "index.html").read_text()
    assert re.findall(r'href="([^"]+)"', index) == ["acme/index.html", "shoponly/index.html"]
    assert '<td class="num">2 ok</td><td class="num">1 ok, 1 not available</td>' in index
    for name in ("acme", "shoponly"):
        assert (tmp_path / "reports" / name / "01_orders_summary.html").is_file()
    # each client's list lands in its own report folder, formula-safe, and its index links it
    assert (tmp_path / "reports" / "shoponly" / "exports" / "top_customers.csv").read_text().splitlines() == [
        "customer_id,amount,note", "c1,12.0,'=1+1", "c2,8.0,'=1+1"]
    acme_exports = (tmp_path / "reports" / "acme" / "exports" / "top_customers.csv").read_text().splitlines()
    assert acme_exports[0] == "customer_id,amount,note" and len(acme_exports) == 3
    assert acme_exports != (tmp_path / "reports" / "shoponly" / "exports" / "top_customers.csv").read_text().splitlines()
    page = (tmp_path / "reports" / "shoponly" / "index.html").read_text()
    assert '<a href="exports/top_customers.csv">top_customers.csv</a> <span class="meta">2 rows</span>' in page
    assert not (tmp_path / "nbs" / "exports").exists()  # nothing written beside the notebooks
    # the same records in the notebook, results.json and the HTML (determinism across outputs)
    from cjkit.pipeline.records import read_records

    acme = tmp_path / "reports" / "acme"
    from_json = json.loads((acme / "results.json").read_text())["records"]
    for stem in ("01_orders_summary", "03_needs_events"):
        nb, page = read_records(acme / f"{stem}.ipynb"), read_records(acme / f"{stem}.html")
        js = [r for r in from_json if r["notebook"] == stem]
        assert list(nb["name"]) == list(page["name"]) == [r["name"] for r in js]
        scalar = [v for v in nb["value"] if not isinstance(v, pd.DataFrame)]
        assert scalar == [v for v in page["value"] if not isinstance(v, pd.DataFrame)]
        assert scalar == [r["value"] for r in js if r["kind"] != "table"]


def test_client_with_data_errors_fails_without_starting_kernels(tmp_path, fixture_notebooks, monkeypatch):
    import papermill

    def boom(*args, **kwargs):
        raise AssertionError("no kernel may start for a client with data errors")

    monkeypatch.setattr(papermill, "execute_notebook", boom)
    bad = write_client(tmp_path / "bad", name="bad", tables=("orders",),
                       orders="customer_id,order_id,ordered_at,ammount\nc1,o1,2024-01-05,10\n")
    nbs = _copy(fixture_notebooks, tmp_path / "nbs", "01_orders_summary")
    suite = run_suite([bad], notebooks_glob=str(nbs / "*.ipynb"), out_dir=tmp_path / "out", progress=False)
    [res] = suite.results
    assert res.status == "failed"
    assert res.error.startswith("client data has 1 error(s), e.g. orders: required column 'amount' is missing")
    index = (tmp_path / "out" / "index.html").read_text()
    assert "failed: client data has 1 error(s)" in index
    # one line on the index, the whole load report on its own page, linked from the row
    assert '(<a href="load_report.html">details</a>)' in index
    report = (tmp_path / "out" / "load_report.html").read_text()
    assert "<title>Load report: Acme &lt;b&gt;Co&lt;/b&gt;</title>" in report
    assert "what to do: map it under tables.orders.columns: {ammount: amount}" in report


@pytest.mark.notebook
def test_teaching_pages_show_the_client_file_relative_to_the_run_and_tables_in_the_kit_style(
        tmp_path, acme_client, fixture_notebooks, monkeypatch):
    nbs = _copy(fixture_notebooks, tmp_path / "nbs", "01_orders_summary")
    monkeypatch.chdir(tmp_path)
    run_suite([acme_client], notebooks_glob=str(nbs / "*.ipynb"), out_dir=tmp_path / "out", mode="teaching",
              progress=False)
    page = (tmp_path / "out" / "01_orders_summary.html").read_text()
    ipynb = (tmp_path / "out" / "01_orders_summary.ipynb").read_text()
    assert str(acme_client) in ipynb  # the executed notebook keeps what really ran
    assert str(tmp_path) not in page  # the page shows no machine's absolute path...
    assert "acme/client.yaml" in page  # ...but the client file relative to the run's folder
    # the top-customers table, as the kit's style shows it: no 0..n index column
    import re

    tables = re.findall(r'<table class="cjkit-table".*?</table>', page, flags=re.S)
    [top] = [t for t in tables if ">customer_id</th>" in t]
    assert "row_heading" not in top and ">c1</td>" in top and ">30.50</td>" in top
