"""HTML rendering: report vs teaching mode, self-contained pages, escaping, index pages."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cjkit.pipeline.records import make_record, record_bundle
from cjkit.pipeline.render import render_html, sanitize_html, write_clients_index, write_index
from cjkit.pipeline.results import NotebookResult
from conftest import XSS, write_client

ESCAPED_XSS = "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;"


@pytest.fixture(scope="module")
def executed(tmp_path_factory, fixture_notebooks) -> Path:
    import papermill as pm

    folder = tmp_path_factory.mktemp("render")
    client = write_client(folder / "acme")
    out = folder / "01_orders_summary.ipynb"
    pm.execute_notebook(str(fixture_notebooks / out.name), str(out), parameters={"client": str(client)},
                        progress_bar=False, kernel_name="python3")
    return out


def _external(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//[^"'\s>]*""", html)


@pytest.mark.notebook
def test_report_mode_hides_code_and_parameters(executed):
    html = render_html(executed, mode="report")
    assert 'record("n_orders"' not in html and "record(&quot;n_orders&quot;" not in html
    assert "Parameters (cjkit)" not in html and "injected-parameters" not in html
    assert 'class="jp-InputPrompt' not in html
    assert "Orders: 4 orders" in html and "Revenue: 55.5 EUR" in html  # the records' visible lines


@pytest.mark.notebook
def test_teaching_mode_shows_code(executed):
    html = render_html(executed, mode="teaching")
    assert "Parameters (cjkit)" in html
    assert "n_orders" in html and "groupby" in html


@pytest.mark.notebook
@pytest.mark.parametrize("mode", ["report", "teaching"])
def test_pages_are_self_contained_escaped_and_deterministic(executed, mode):
    html = render_html(executed, mode=mode)
    assert _external(html) == []
    assert "<script" not in html  # no CDN loaders and no output scripts at all
    images = re.findall(r'<img[^>]*src="([^"]*)"', html)
    assert [i[:27] for i in images] == ["data:image/png;base64,iVBOR"]  # the one figure, embedded
    assert XSS not in html
    assert html.count(ESCAPED_XSS) >= 3  # the record, the Styler table and the plain table
    assert '<nav class="cjkit-nav">' in html
    assert "Client: Acme &lt;b&gt;Co&lt;/b&gt;" in html  # client title from papermill's parameters, escaped
    assert '<strong class="cjkit-title">Orders summary</strong>' in html
    assert render_html(executed, mode=mode) == html


def test_unknown_mode_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="mode must be one of report, teaching"):
        from cjkit.pipeline.render import _exporter

        _exporter("slides")


@pytest.mark.parametrize("dirty, clean", [
    ('<img src="x" onerror="alert(1)">', "<img>"),
    ('<img src="https://evil.example/p.png">', "<img>"),
    ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
    ('<a href="#top">x</a>', '<a href="#top">x</a>'),
    ("<style>.dataframe tbody tr > th { color: red }</style><b>t</b>",
     "<style>.dataframe tbody tr > th { color: red }</style><b>t</b>"),
    ("<style>p { background: url(https://evil.example/x) }</style><b>t</b>", "<b>t</b>"),
    ('<style type="text/css" onload="alert(1)">td { color: red }</style>', "<style>td { color: red }</style>"),
    ('<div title="<style>" onmouseover=alert(1) x="</style>">t</div>', '<div title="&lt;style>">t</div>'),
    ("<style><!-- --></style><b>t</b>", "<b>t</b>"),
    ('<div style="color: red; background-image: url(x)">t</div>', "<div>t</div>"),
    ("<iframe src='https://evil.example'></iframe>",
     "&lt;iframe src='https://evil.example'&gt;&lt;/iframe&gt;"),
])
def test_sanitize_html(dirty, clean):
    assert sanitize_html(dirty) == clean


def test_sanitize_keeps_record_attributes():
    div = record_bundle(make_record("campaign", XSS))["text/html"]
    from cjkit.pipeline.records import records_from_html

    assert records_from_html(sanitize_html(div), notebook="x")["value"].tolist() == [XSS]


def _result(notebook, status, *, cell=None, error=None, recs=()):
    frame = pd.DataFrame([{"notebook": notebook, **make_record(*r[:2], **r[2])} for r in recs],
                         columns=["notebook", "name", "value", "unit", "label", "headline", "kind"])
    return NotebookResult(client="acme", notebook=notebook, source=Path(f"{notebook}.ipynb"),
                          html=Path(f"/x/{notebook}.html"), status=status, cell=cell, error=error,
                          title=f"Title <{notebook}>", records=frame)


def test_write_index_links_statuses_and_headlines(tmp_path):
    results = [
        _result("01_a", "ok", recs=[("nps", 41.5, {"unit": "points", "label": "NPS", "headline": True}),
                                    ("hidden", 1, {})]),
        _result("02_b", "failed", cell=5, error="RuntimeError: planted <b>"),
        _result("03_c", "not available", error="Not available for this client: needs the events table"),
    ]
    page = write_index(tmp_path, results, client="Acme <b>", run_date="2024-05-01").read_text()
    assert re.findall(r'href="([^"]+)"', page) == ["01_a.html", "02_b.html", "03_c.html"]
    assert "<li>NPS: 41.5 points</li>" in page and "hidden" not in page
    assert "failed at cell 5: RuntimeError: planted &lt;b&gt;" in page
    assert "Not available for this client: needs the events table" in page
    assert "Reports: Acme &lt;b&gt;" in page and "run on 2024-05-01" in page
    assert "Title &lt;01_a&gt;" in page


def test_write_clients_index(tmp_path):
    table = pd.DataFrame({"notebook": ["01_a"], "name": ["nps"], "label": ["NPS"], "unit": ["points"],
                          "kind": ["number"], "acme": [41.5], "beta": [None]}, dtype=object)
    page = write_clients_index(tmp_path, table, [("acme", "acme/index.html"), ("beta", "beta/index.html")],
                               status={"acme": "2 ok", "beta": "1 ok, 1 failed"}, run_date="2024-05-01").read_text()
    assert re.findall(r'href="([^"]+)"', page) == ["acme/index.html", "beta/index.html"]
    assert '<td class="num">2 ok</td><td class="num status-failed">1 ok, 1 failed</td>' in page
    row = re.search(r"<tr><td>01_a</td>.*?</tr>", page).group(0)
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row) == ["01_a", "NPS (points)", "41.5", ""]


def test_scripts_markdown_and_widgets_in_outputs_are_neutralised():
    import nbformat

    cell = nbformat.v4.new_code_cell("x", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"application/javascript": "window.__xss=1",
                                                     "text/plain": "js fallback"}),
        nbformat.v4.new_output("display_data", data={"text/markdown": f"**bold** {XSS}"}),
        nbformat.v4.new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "m"},
                                                     "text/plain": "widget fallback"}),
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"), cell])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    html = render_html(nb, mode="teaching", name="t")
    assert "<script" not in html and "window.__xss=1" not in html.replace(ESCAPED_XSS, "")
    assert "js fallback" in html and "widget fallback" in html
    assert f"<strong>bold</strong> {ESCAPED_XSS}" in html
    assert nb.cells[1].outputs[0]["data"]["application/javascript"] == "window.__xss=1"  # input not mutated


@pytest.mark.parametrize("mode", ["report", "teaching"])
def test_lesson_cells_are_for_teaching_mode(mode):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# 05 · Retention"),
        nbformat.v4.new_markdown_cell("## Learning objectives\n\n- read a cohort table", metadata={"tags": ["lesson"]}),
        nbformat.v4.new_markdown_cell("Churn rose after the price change: look at the March cohort first.")])
    page = render_html(nb, mode=mode)
    assert "Churn rose after the price change" in page  # the interpretation: for every reader
    assert ("Learning objectives" in page) == (mode == "teaching")
