"""Executed notebook -> self-contained HTML report, in-process, plus the index pages.

Two modes: ``report`` (code, prompts and the parameters cells hidden: for teams) and
``teaching`` (code shown). One nbconvert ``HTMLExporter`` per mode is built once and
reused (building one costs far more than rendering). Pages are self-contained: figures
are embedded as data URIs and the lab template's CDN scripts (require.js, MathJax,
mermaid, widgets) are left out, so a report can be mailed and opened offline (LaTeX
then shows as source). Output HTML is sanitised (scripts, event handlers and
``javascript:`` links removed, unknown tags shown as text), so a client string such as
a campaign called ``<script>alert(1)</script>`` is displayed, never run, even when a
notebook shows it through a pandas Styler, which does not escape.
"""
from __future__ import annotations

import copy
import os
import re
from functools import lru_cache, cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Iterable, Sequence

import nbformat
import pandas as pd

from .notebook import notebook_title
from .records import format_value

if TYPE_CHECKING:  # pragma: no cover
    from .results import NotebookResult

__all__ = ["MODES", "render_html", "write_html", "notebook_title", "sanitize_html",
           "write_index", "write_clients_index", "write_text_page", "one_line"]

MODES = ("report", "teaching")
TEMPLATES = Path(__file__).with_name("templates")
#: cells a report (code hidden) leaves out: the parameters and the lesson material (objectives,
#: concept, story, exercises pointers), which teaching mode shows
_HIDDEN_TAGS = {"parameters", "injected-parameters", "lesson"}
_DROP_MIME = {"application/javascript", "text/javascript",
              "application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json"}
_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del",
         "details", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
         "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp",
         "small", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
         "th", "thead", "tr", "u", "ul"}
_ATTRS = {"class", "id", "title", "colspan", "rowspan", "scope", "align", "valign", "border",
          "width", "height", "alt", "data-cjkit-record", "data-mime-type"}
_STYLE_RE = re.compile(r"<style>(.*?)</style>", re.S)


def _allowed(tag: str, name: str, value: str) -> bool:
    if tag == "style":
        return False  # a bare <style> element: its content is checked after cleaning
    if name in _ATTRS:
        return True
    if name == "style":
        return "url(" not in value.lower() and "expression" not in value.lower()
    if tag == "img" and name == "src":
        return value.startswith("data:image/")
    if tag == "a" and name == "href":
        return value.startswith(("#", "http://", "https://", "mailto:")) or (
            ":" not in value.split("/")[0] and not value.lower().startswith("data"))
    return False


def _style_block(match: re.Match[str]) -> str:
    css = match.group(1)
    if any(bad in css.lower() for bad in ("url(", "@import", "expression", "&lt;")):
        return ""  # could load a resource or hide markup: drop the whole block
    return f"<style>{css.replace('&gt;', '>')}</style>"  # child selectors (a > b) work again


def sanitize_html(text: str) -> str:
    """Make an HTML output safe to open: keep tables, text, plain CSS and data-URI images.

    bleach with an allow-list removes scripts, event handlers, ``javascript:`` links and
    remote images, and shows unknown tags as text. A ``<style>`` block survives only as
    plain CSS (no ``url(``, ``@import``). In bleach's output every unescaped ``<`` starts
    a real tag, so the style blocks found afterwards are real elements.

    Examples
    --------
    >>> sanitize_html('<p onclick="x()">&lt;b&gt;</p><script>alert(1)</script>')
    '<p>&lt;b&gt;</p>&lt;script&gt;alert(1)&lt;/script&gt;'
    """
    import bleach
    from bleach.css_sanitizer import CSSSanitizer

    clean = bleach.clean(text, tags=_TAGS | {"style"}, attributes=_allowed,
                         protocols={"http", "https", "mailto", "data"}, css_sanitizer=CSSSanitizer(),
                         strip=False, strip_comments=True)
    return _STYLE_RE.sub(_style_block, clean)


def _display_client(source: str, client: str | None, shown: str) -> str:
    """Papermill's injected cell with the client's absolute path replaced by ``shown``."""
    if not client:
        return source
    return source.replace(repr(client), repr(shown)).replace(f'"{client}"', repr(shown))


def client_display_path(client: str, base: Path | None = None) -> str:
    """How a page shows the client file: relative to ``base`` (the working folder) when under
    it, else the bundled dataset's name or the file's name, never a machine's absolute path.

    >>> client_display_path("/home/ana/work/clients/acme.yaml", Path("/home/ana/work"))
    'clients/acme.yaml'
    >>> client_display_path("/opt/data/acme/client.yaml", Path("/home/ana"))
    'acme/client.yaml'
    """
    path = Path(client)
    base = base or Path.cwd()
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}" if path.name == "client.yaml" else path.name


def _safe_outputs(nb: nbformat.NotebookNode, mode: str) -> nbformat.NotebookNode:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    client = nb.metadata.get("papermill", {}).get("parameters", {}).get("client")
    cells = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if "remove-cell" in tags or (mode == "report" and tags & _HIDDEN_TAGS):
            continue
        if "remove-input" in tags:
            cell.metadata["transient"] = {"remove_source": True}
        if "injected-parameters" in tags and isinstance(client, str) and os.path.isabs(client):
            cell.source = _display_client(cell.source, client, client_display_path(client))
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            for key in _DROP_MIME & set(data):
                del data[key]
            if "text/markdown" in data:
                data["text/html"] = markdown2html_mistune(data.pop("text/markdown"))
            if "text/html" in data:
                data["text/html"] = sanitize_html("".join(data["text/html"]))
        cells.append(cell)
    nb.cells = cells
    return nb


@cache
def _exporter(mode: str) -> Any:
    from nbconvert import HTMLExporter

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    hide = mode == "report"
    return HTMLExporter(template_name="lab", extra_template_paths=[str(TEMPLATES)],
                        template_file="cjkit_report.html.j2", exclude_input=hide,
                        exclude_input_prompt=hide, exclude_output_prompt=hide,
                        embed_images=True, anchor_link_text="")


def _client_title(nb: nbformat.NotebookNode) -> str | None:
    client = nb.metadata.get("papermill", {}).get("parameters", {}).get("client")
    if not client or not Path(str(client)).is_file():
        return None
    import yaml

    try:
        conf = yaml.safe_load(Path(str(client)).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    return str(conf.get("title") or conf.get("name") or "") or None


def render_html(nb: nbformat.NotebookNode | str | Path, *, mode: str = "report", name: str | None = None,
                client: str | None = None, index_link: bool = False) -> str:
    """Render an (executed) notebook to one self-contained HTML page.

    Parameters
    ----------
    nb : NotebookNode or path
    mode : {"report", "teaching"}
        ``report`` hides code, prompts and the parameters cells; ``teaching`` keeps them.
    name : str, optional
        Notebook name shown in the nav bar (default: file stem or ``"notebook"``).
    client : str, optional
        Client title for the nav bar (default: read from papermill's ``client`` parameter).
    index_link : bool
        Add a link to ``index.html`` in the same folder.
    """
    if not isinstance(nb, nbformat.NotebookNode):
        name = name or Path(nb).stem
        nb = nbformat.read(str(nb), as_version=4)
    name = name or "notebook"
    safe = _safe_outputs(nb, mode)
    title = notebook_title(nb, name)
    resources = {"metadata": {"name": title},  # the page's <title>
                 "cjkit": {"title": title, "notebook": name,
                           "client": client or _client_title(nb), "index_link": index_link}}
    body, _ = _exporter(mode).from_notebook_node(safe, resources=resources)
    return body


def write_html(nb_path: str | Path, out_path: str | Path | None = None, *, mode: str = "report",
               client: str | None = None, index_link: bool = False) -> Path:
    """Render ``nb_path`` and write the page (default: next to it, ``.html``)."""
    nb_path = Path(nb_path)
    out = Path(out_path) if out_path else nb_path.with_suffix(".html")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(nb_path, mode=mode, client=client, index_link=index_link), encoding="utf-8")
    return out


@lru_cache(maxsize=1)
def _jinja() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _headlines(records: pd.DataFrame) -> list[str]:
    if records is None or not len(records):
        return []
    heads = records[records["headline"].astype(bool)]
    return [f"{r.label}: {format_value(r.value, r.kind, r.unit, getattr(r, 'estimate', None))}"
            for r in heads.itertuples()]


def one_line(text: str | None, limit: int = 160) -> str:
    """The first line of ``text``, cut at ``limit`` characters (the detail is on its page).

    >>> one_line("ValueError: bad\\nTraceback ...")
    'ValueError: bad'
    >>> len(one_line("x" * 500))
    160
    """
    first = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return first if len(first) <= limit else first[:limit - 1] + "\u2026"


def _status_text(result: NotebookResult) -> tuple[str, str]:
    if result.status == "failed":
        where = f"failed at cell {result.cell}" if result.cell is not None else "failed"
        return f"{where}: {one_line(result.error)}" if result.error else where, "failed"
    if result.status == "not available":
        return one_line(result.error) or "not available for this client", "not-available"
    return "ok", "ok"


def write_index(out_dir: str | Path, results: Sequence[NotebookResult], *, client: str | None = None,
                run_date: str | None = None) -> Path:
    """Write ``index.html`` in ``out_dir`` linking every report with status and headlines."""
    out_dir = Path(out_dir)
    rows = []
    for res in results:
        status, css = _status_text(res)
        href = res.html.name if res.html is not None else None
        detail = res.detail.name if res.detail is not None and res.detail != res.html else None
        rows.append({"notebook": res.notebook, "title": res.title or res.notebook, "href": href,
                     "status": status, "status_class": css, "detail": detail,
                     "headlines": _headlines(res.records)})
    page = _jinja().get_template("cjkit_index.html.j2").render(
        heading=f"Reports: {client}" if client else "Reports", rows=rows, run_date=run_date,
        subtitle=f"{len(rows)} notebooks, {sum(r['status_class'] == 'failed' for r in rows)} failed",
        exports=_exports(out_dir))
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _exports(out_dir: Path) -> list[dict[str, Any]]:
    """The CSV lists in ``out_dir/exports`` (written by notebooks with cjkit.export_csv), with row counts."""
    import csv

    found = []
    for path in sorted((out_dir / "exports").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            rows = sum(1 for _ in csv.reader(handle)) - 1  # quoted fields may hold line breaks
        found.append({"href": f"exports/{path.name}", "name": path.name, "rows": f"{max(rows, 0):,}"})
    return found


def write_clients_index(out_dir: str | Path, table: pd.DataFrame, clients: Iterable[tuple[str, str]], *,
                        status: dict[str, str] | None = None, run_date: str | None = None) -> Path:
    """Write the cross-client ``index.html``: one row per headline record, one column per client.

    ``table`` is the wide table of :func:`cjkit.pipeline.run.clients_table` (columns notebook,
    name, label, unit, kind, then one column per client); ``clients`` gives
    ``(client name, relative link to its index)`` pairs in column order and ``status``
    a short status text per client (e.g. ``"3 ok, 1 failed"``).
    """
    clients = list(clients)
    def shown(value: Any, row: pd.Series) -> str:
        if _missing(value):
            return ""
        return format_value(value, "number" if row["kind"] == "estimate" else row["kind"],
                            "share" if row["unit"] == "share" else None)

    rows = [{"notebook": r["notebook"],
             "label": r["label"] + (f" ({r['unit']})" if r["unit"] and r["unit"] != "share" else ""),
             "cells": [shown(r[c], r) for c, _ in clients]}
            for _, r in table.iterrows()]
    page = _jinja().get_template("cjkit_index.html.j2").render(
        heading="Headline results by client", table=rows, run_date=run_date,
        clients=[{"name": c, "href": h, "status": (status or {}).get(c, "")} for c, h in clients],
        subtitle=f"{len(clients)} clients")
    path = Path(out_dir) / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def write_text_page(path: str | Path, title: str, text: str) -> Path:
    """A plain self-contained page showing ``text`` as it is (e.g. a client's load report)."""
    page = _jinja().get_template("cjkit_index.html.j2").render(heading=title, subtitle="", run_date=None,
                                                                text=text)
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
