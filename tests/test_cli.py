"""The `cjkit` command end to end: exit codes, messages, pre-checks before any kernel."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from cjkit.contract.draft import match_columns
from cjkit.pipeline.cli import main
from conftest import write_client


@pytest.fixture
def no_kernel(monkeypatch):
    """Fail the test if anything tries to execute a notebook."""
    import papermill

    def boom(*args, **kwargs):
        raise AssertionError("a kernel was started")

    monkeypatch.setattr(papermill, "execute_notebook", boom)


def _nbs(fixture_notebooks: Path, folder: Path, *names: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(fixture_notebooks / f"{name}.ipynb", folder)
    return str(folder / "[0-9][0-9]_*.ipynb")


@pytest.mark.parametrize("param, message", [
    ("clinet=x.yaml", "unknown parameter 'clinet' (did you mean 'client'?)"),
    ("top_n=ten", "01_orders_summary.ipynb: parameter 'top_n' expects int: cannot read 'ten' as int"),
    ("topn", "-p expects name=value, got 'topn'"),
    ("client=x.yaml", "give the client with --client PATH"),
])
def test_bad_parameters_exit_2_before_any_kernel(param, message, tmp_path, acme_client, fixture_notebooks,
                                                 no_kernel, capsys):
    glob = _nbs(fixture_notebooks, tmp_path / "nbs", "01_orders_summary")
    code = main(["run", "--client", str(acme_client), "--notebooks", glob, "-p", param, "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("cjkit run: error: ") and message in err


def test_missing_files_exit_2(tmp_path, acme_client, no_kernel, capsys):
    assert main(["run", "--client", str(tmp_path / "none.yaml")]) == 2
    assert f"client file not found: {tmp_path / 'none.yaml'}" in capsys.readouterr().err
    assert main(["run", "--client", str(acme_client), "--notebooks", str(tmp_path / "*.ipynb")]) == 2
    assert f"no notebooks match '{tmp_path / '*.ipynb'}'" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "x.ipynb")]) == 2
    assert main(["validate", "--client", str(tmp_path / "none.yaml")]) == 2


@pytest.mark.notebook
def test_run_with_a_failing_notebook_exits_1_and_names_the_cell(tmp_path, acme_client, fixture_notebooks, capsys):
    glob = _nbs(fixture_notebooks, tmp_path / "nbs", "01_orders_summary", "02_fails")
    out = tmp_path / "out"
    code = main(["run", "--client", str(acme_client), "--notebooks", glob, "--out", str(out), "--jobs", "2",
                 "--mode", "teaching"])
    captured = capsys.readouterr()
    assert code == 1
    assert "acme/02_fails: failed at cell 5: RuntimeError: planted failure in a fixture notebook" in captured.err
    assert "1 of 2 notebooks failed" in captured.err
    assert "notebooks: 100%" in captured.err and "2/2" in captured.err  # the progress bar, on stderr
    assert captured.out.strip() == f"acme: {out / 'index.html'}"
    assert "Parameters (cjkit)" in (out / "01_orders_summary.html").read_text()  # teaching mode: code shown

    # the records and render sub-commands on the run's outputs
    assert main(["records", str(out / "01_orders_summary.html"), "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "notebook,name,value,unit,label,headline,kind,ci_low,ci_high,n"  # as results.csv
    assert "01_orders_summary,n_orders,4,orders,Orders,True,number,,," in lines
    assert ('01_orders_summary,top_customers,"{""columns"": [""customer_id"", ""amount""], '
            '""data"": [[""c1"", 30.5], [""c2"", 30.0]]}",,top_customers,False,table,,,') in lines
    assert main(["records", str(out / "01_orders_summary.ipynb"), "--format", "json"]) == 0
    import json

    as_json = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert as_json["revenue"]["value"] == 55.5 and as_json["top_campaign"]["value"].startswith("<script>")
    assert as_json["top_customers"]["value"] == {"columns": ["customer_id", "amount"],
                                                 "data": [["c1", 30.5], ["c2", 30.0]]}
    assert main(["render", str(out / "01_orders_summary.ipynb"), "--out", str(tmp_path / "r.html")]) == 0
    assert "Parameters (cjkit)" not in (tmp_path / "r.html").read_text()


def test_help_through_the_installed_entry_point():
    cjkit = Path(sys.executable).with_name("cjkit")
    out = subprocess.run([str(cjkit), "run", "--help"], capture_output=True, text=True, check=True).stdout
    assert "--client PATH" in out and "-p NAME=VALUE" in out and "--jobs N" in out


def test_validate_prints_the_report_and_sets_the_exit_code(tmp_path, acme_client, capsys):
    assert main(["validate", "--client", str(acme_client)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Load report for client 'acme': 0 errors")
    bad = write_client(tmp_path / "bad", name="bad", tables=("orders",),
                       orders="customer_id,order_id,ordered_at,ammount\nc1,o1,2024-01-05,10\n")
    assert main(["validate", "--client", str(bad)]) == 1
    assert "required column 'amount' is missing; closest column in orders.csv is 'ammount'" in capsys.readouterr().out


def test_match_columns_by_name_synonym_and_similarity():
    assert match_columns(["user_id", "ts", "Medium", "Action", "UTM Campaign", "revnue", "extra"], "events") == [
        ("user_id", "customer_id", "synonym"), ("ts", "timestamp", "synonym"), ("Medium", "channel", "synonym"),
        ("Action", "event", "synonym"), ("UTM Campaign", "campaign", "synonym"),
        ("revnue", "revenue", "similar name")]
    assert match_columns(["Customer-ID", "NPS"], "surveys") == [
        ("Customer-ID", "customer_id", "same name ignoring case and separators"),
        ("NPS", "nps", "same name ignoring case and separators")]


def test_init_client_drafts_a_reviewable_yaml(tmp_path, capsys):
    data = tmp_path / "Acme Shop"
    data.mkdir()
    (data / "sales.csv").write_text("Cust ID,Order Number,Order Date,Revenue,Currency\n"
                                    "c1,o1,2024-01-05,10.5,EUR\nc2,o2,2024-01-06,8,EUR\n")
    (data / "web.csv").write_text("user_id,ts,medium,action,utm_campaign,browser\n"
                                  "c1,2024-01-02 10:00,search,page_view,spring\nc2,2024-01-03 09:00,email,signup,\n")
    (data / "people.csv").write_text("customer_id,country\nc1,ES\nc2,FR\n")
    out = tmp_path / "conf" / "client.yaml"
    args = ["init-client", str(data / "sales.csv"), str(data / "web.csv"), str(data / "people.csv"), "--out", str(out)]
    assert main(args) == 0
    text = out.read_text()
    conf = yaml.safe_load(text)
    assert conf["name"] == "acme_shop"
    assert conf["tables"] == {
        "customers": {"path": "../Acme Shop/people.csv"},
        "events": {"path": "../Acme Shop/web.csv",
                   "columns": {"user_id": "customer_id", "ts": "timestamp", "medium": "channel",
                               "action": "event", "utm_campaign": "campaign"}},
        "orders": {"path": "../Acme Shop/sales.csv",
                   "columns": {"Cust ID": "customer_id", "Order Number": "order_id", "Order Date": "ordered_at",
                               "Revenue": "amount", "Currency": "currency"}},
    }
    assert conf["stage_map"] == []
    assert '"Order Date": ordered_at  # GUESS: review (synonym)' in text
    assert "Currency: currency  # GUESS: review (same name ignoring case and separators)" in text
    assert "# not used: browser" in text
    assert "# - {event: page_view, stage: REVIEW}" in text and "# - {event: signup, stage: REVIEW}" in text
    assert all("GUESS" in line for line in text.splitlines() if "_id" in line and ": customer_id" in line)
    # the draft loads: the analyst's next step works as is
    assert main(["validate", "--client", str(out)]) == 0
    # never overwrite without --force
    capsys.readouterr()
    assert main(args) == 2
    assert "exists; pass --force to overwrite it" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
