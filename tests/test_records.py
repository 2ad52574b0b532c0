"""Records: the JSON form of each kind of value, escaping, duplicates, and the round trip
through a real executed notebook (papermill) and its exported HTML."""
from __future__ import annotations

import math

import nbformat
import numpy as np
import pandas as pd
import pytest

from cjkit.pipeline.records import (MIME_TYPE, RecordError, make_record, read_records, record_bundle,
                           records_from_html, records_from_notebook)
from cjkit.pipeline.render import write_html
from conftest import XSS


def test_numbers_become_plain_json_values():
    assert make_record("a", np.int64(7))["value"] == 7
    assert type(make_record("a", np.int64(7))["value"]) is int
    assert make_record("a", np.float32(0.5))["value"] == 0.5
    assert make_record("a", float("nan"))["value"] is None
    assert make_record("a", None)["kind"] == "number"
    assert make_record("ok", np.bool_(True)) == {
        "name": "ok", "value": True, "unit": None, "label": "ok", "headline": False, "kind": "bool"}


def test_table_keeps_index_and_converts_cells():
    frame = pd.DataFrame({"amount": [1.5, np.nan]},
                         index=pd.Index(["c1", "c2"], name="customer_id"))
    frame["day"] = pd.to_datetime(["2024-01-05", None], utc=True)
    rec = make_record("t", frame, unit="EUR", label="Top", headline=True)
    assert rec["kind"] == "table"
    assert rec["value"] == {"columns": ["customer_id", "amount", "day"],
                            "data": [["c1", 1.5, "2024-01-05T00:00:00+00:00"], ["c2", None, None]]}


def test_rejected_values_say_what_to_do():
    with pytest.raises(RecordError, match="201 rows, more than 200"):
        make_record("big", pd.DataFrame({"x": range(201)}))
    with pytest.raises(RecordError, match="must be an identifier"):
        make_record("net promoter", 1)
    with pytest.raises(RecordError, match="infinite"):
        make_record("x", math.inf)
    with pytest.raises(RecordError, match="cannot record a dict"):
        make_record("x", {"a": 1})
    with pytest.raises(RecordError, match="kind must be one of"):
        make_record("x", 1, kind="chart")


def test_figure_ids():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(label="funnel")
    try:
        assert make_record("f", fig)["value"] == "funnel"
        assert make_record("f", fig)["kind"] == "figure"
    finally:
        plt.close(fig)
    assert make_record("g", "stage_sizes", kind="figure")["kind"] == "figure"


def test_bundle_escapes_client_text_and_round_trips_through_html():
    rec = make_record("campaign", XSS, label='Top "campaign" <i>', unit="&")
    bundle = record_bundle(rec)
    assert set(bundle) == {MIME_TYPE, "text/html", "text/plain"}
    assert "<script>" not in bundle["text/html"] and "<i>" not in bundle["text/html"]
    assert bundle["text/plain"] == f'Top "campaign" <i>: {XSS} &'
    back = records_from_html("<html><body>" + bundle["text/html"] + "</body></html>", notebook="nb")
    assert back.iloc[0].to_dict() == {"notebook": "nb", "name": "campaign", "value": XSS, "unit": "&",
                                      "label": 'Top "campaign" <i>', "headline": False, "kind": "text",
                                      "estimate": None}


def _nb_with(*recs: tuple[int, dict]) -> nbformat.NotebookNode:
    cells = []
    for count, rec in recs:
        cell = nbformat.v4.new_code_cell("record(...)", execution_count=count)
        cell.outputs = [nbformat.v4.new_output("display_data", data=record_bundle(rec))]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def test_recording_a_name_twice_is_an_error_naming_both_cells():
    nb = _nb_with((3, make_record("nps", 10)), (4, make_record("csat", 1)), (7, make_record("nps", 12)))
    with pytest.raises(RecordError, match=r"'nps' twice \(cell In \[3\] and cell In \[7\]\)"):
        records_from_notebook(nb, notebook="08_nps")
    page = "".join(record_bundle(make_record("nps", v))["text/html"] for v in (1, 2))
    with pytest.raises(RecordError, match="record #1 of the page and record #2 of the page"):
        records_from_html(page, notebook="08_nps")


def test_records_from_notebook_reads_in_output_order():
    nb = _nb_with((1, make_record("b", 2, headline=True)), (2, make_record("a", pd.DataFrame({"x": [1]}))))
    table = records_from_notebook(nb, notebook="03_kpis")
    assert list(table["name"]) == ["b", "a"]
    assert list(table["headline"]) == [True, False]
    pd.testing.assert_frame_equal(table["value"].iloc[1], pd.DataFrame({"x": [1]}))


def test_read_records_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such notebook"):
        read_records(tmp_path / "nope.ipynb")


@pytest.mark.notebook
def test_round_trip_through_executed_notebook_and_html(tmp_path, acme_client, fixture_notebooks):
    import papermill as pm

    out = tmp_path / "01_orders_summary.ipynb"
    pm.execute_notebook(str(fixture_notebooks / out.name), str(out), parameters={"client": str(acme_client)},
                        progress_bar=False, kernel_name="python3")
    from_nb = read_records(out)
    assert list(from_nb["name"]) == ["available", "n_orders", "revenue", "top_n", "top_customers",
                                     "top_customers_fig", "top_campaign"]
    values = dict(zip(from_nb["name"], from_nb["value"]))
    assert values["available"] is True
    assert values["n_orders"] == 4 and values["revenue"] == 55.5 and values["top_n"] == 2
    assert values["top_campaign"] == XSS
    assert values["top_customers_fig"] == "top_customers_fig"
    pd.testing.assert_frame_equal(values["top_customers"],
                                  pd.DataFrame({"customer_id": ["c1", "c2"], "amount": [30.5, 30.0]}))
    assert list(from_nb.loc[from_nb["headline"], "name"]) == ["n_orders", "revenue"]
    assert from_nb.set_index("name").loc["revenue", "unit"] == "EUR"

    for mode in ("report", "teaching"):
        html = write_html(out, tmp_path / f"{mode}.html", mode=mode)
        from_html = read_records(html)
        assert list(from_html["notebook"].unique()) == [mode]
        for column in ("name", "unit", "label", "headline", "kind"):
            assert list(from_html[column]) == list(from_nb[column]), column
        for a, b in zip(from_html["value"], from_nb["value"]):
            if isinstance(a, pd.DataFrame):
                pd.testing.assert_frame_equal(a, b)
            else:
                assert a == b
