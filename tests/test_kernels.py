"""Kernels that run several notebooks: isolation between notebooks, recovery, and no kernel at all
for a notebook the client cannot run.

The notebooks are written here, in the test, so that each one's purpose is visible: a "leaky"
notebook changes every kind of kernel state a notebook can change, and a "probe" notebook
records what it finds.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import papermill
import pytest

from cjkit.pipeline.run import run_suite
from conftest import write_client

PARAMS = ('# Parameters (cjkit)\nclient: str = "tiny"  # client YAML file, or a bundled dataset name\n')


def _notebook(folder: Path, name: str, *cells: str, needs: str = '("orders",)') -> Path:
    book = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(f"# {name}"),
        nbformat.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell(f"import cjkit\n\ndata = cjkit.notebook.start(globals(), needs={needs})"),
        *[nbformat.v4.new_code_cell(c) for c in cells]])
    book.metadata["kernelspec"] = {"name": "cjkit", "display_name": "Python (cjkit)", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(book, str(path))
    return path


LEAKY = """
import os, sys, warnings
import matplotlib.pyplot as plt
import pandas as pd
leak = 1
plt.rcParams["lines.linewidth"] = 9
pd.set_option("display.max_rows", 3)
os.environ["CJKIT_LEAK"] = "1"
sys.path.append("/leaked/path")
warnings.simplefilter("error")
plt.figure()
os.chdir("/")
get_ipython().display_formatter.formatters["text/html"].for_type(int, lambda v: "<b>leaked</b>")
cjkit.record("pid", os.getpid())
"""

PROBE = """
import os, sys, warnings
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
cjkit.record("pid", os.getpid())
cjkit.record("leaked_global", "leak" in globals())
cjkit.record("linewidth", float(plt.rcParams["lines.linewidth"]))
cjkit.record("max_rows", int(pd.get_option("display.max_rows")))
cjkit.record("leaked_env", "CJKIT_LEAK" in os.environ)
cjkit.record("leaked_path", "/leaked/path" in sys.path)
cjkit.record("warnings_are_errors", any(f[0] == "error" and f[2] is Warning for f in warnings.filters))
cjkit.record("open_figures", len(plt.get_fignums()))
cjkit.record("cwd_is_the_notebooks_folder", os.getcwd() == os.environ["PROBE_FOLDER"])
cjkit.record("int_formatter", int in get_ipython().display_formatter.formatters["text/html"].type_printers)
cjkit.record("history", len(In))
cjkit.record("style", plt.rcParams["axes.titlelocation"])
if True:  # a figure drawn inside a block, as the kit's plotting calls are
    cjkit.plots.stage_bars(pd.DataFrame({"name": ["a"], "reached": [1], "reached_share": [1.0]}))
"""


def _records(out: Path) -> dict:
    table = json.loads((out / "results.json").read_text())["records"]
    return {(r["notebook"], r["name"]): r["value"] for r in table}


@pytest.mark.notebook
def test_one_kernel_runs_notebooks_in_turn_each_in_a_fresh_state(tmp_path, monkeypatch):
    folder = tmp_path / "nbs"
    _notebook(folder, "01_leaky", LEAKY)
    _notebook(folder, "02_probe", PROBE)
    monkeypatch.setenv("PROBE_FOLDER", str(folder.resolve()))
    suite = run_suite(["tiny"], notebooks_glob=str(folder / "*.ipynb"), out_dir=tmp_path / "out", jobs=1,
                      progress=False)
    assert [r.status for r in suite.results] == ["ok", "ok"], [r.error for r in suite.results]
    rec = _records(tmp_path / "out")
    assert rec[("01_leaky", "pid")] == rec[("02_probe", "pid")]  # the same kernel ran both
    probe = {name: value for (nb, name), value in rec.items() if nb == "02_probe"}
    assert probe == {
        "available": True, "pid": rec[("01_leaky", "pid")], "leaked_global": False,
        "linewidth": 1.5,            # matplotlib's default, not 9
        "max_rows": 60,              # pandas' default, not 3
        "leaked_env": False, "leaked_path": False, "warnings_are_errors": False, "open_figures": 0,
        "cwd_is_the_notebooks_folder": True, "int_formatter": False,
        "history": 5,                # In[0] is empty; then parameters, injected parameters, start, probe
        "style": "left",             # the kit's style, set again by start()
    }
    nb = nbformat.read(str(tmp_path / "out" / "02_probe.ipynb"), as_version=4)
    assert [c.execution_count for c in nb.cells if c.cell_type == "code"] == [1, 2, 3, 4]
    # the reset keeps what a fresh kernel has too: the second notebook's figure is displayed
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1


@pytest.mark.notebook
def test_fresh_kernels_on_request(tmp_path):
    folder = tmp_path / "nbs"
    _notebook(folder, "01_a", "import os\ncjkit.record('pid', os.getpid())")
    _notebook(folder, "02_b", "import os\ncjkit.record('pid', os.getpid())")
    run_suite(["tiny"], notebooks_glob=str(folder / "*.ipynb"), out_dir=tmp_path / "out", progress=False,
              fresh_kernels=True)
    rec = _records(tmp_path / "out")
    assert rec[("01_a", "pid")] != rec[("02_b", "pid")]


@pytest.mark.notebook
def test_a_notebook_that_kills_or_hangs_its_kernel_costs_only_itself(tmp_path):
    folder = tmp_path / "nbs"
    _notebook(folder, "01_first", "import os\ncjkit.record('pid', os.getpid())")
    _notebook(folder, "02_dies", "import os\nos._exit(1)")
    _notebook(folder, "03_hangs", "while True:\n    pass")
    _notebook(folder, "04_after", "import os\ncjkit.record('pid', os.getpid())")
    suite = run_suite(["tiny"], notebooks_glob=str(folder / "*.ipynb"), out_dir=tmp_path / "out", jobs=1,
                      progress=False, timeout=3)
    status = {r.notebook: (r.status, (r.error or "").split(":")[0]) for r in suite.results}
    assert status == {"01_first": ("ok", ""), "02_dies": ("failed", "DeadKernelError"),
                      "03_hangs": ("failed", "CellTimeoutError"), "04_after": ("ok", "")}
    rec = _records(tmp_path / "out")
    assert rec[("04_after", "pid")] != rec[("01_first", "pid")]  # a new kernel after the hung one
    index = (tmp_path / "out" / "index.html").read_text()
    assert "failed: DeadKernelError" in index


def test_not_available_is_decided_without_a_kernel(tmp_path, orders_only_client, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("no kernel may start for a notebook the client cannot run")

    monkeypatch.setattr(papermill, "execute_notebook", boom)
    monkeypatch.setattr("cjkit.pipeline.kernels.NotebookKernel.start", boom)
    folder = tmp_path / "nbs"
    _notebook(folder, "01_needs_events", "cjkit.record('never', 1)", needs='("events", "surveys")')
    out = tmp_path / "out"
    suite = run_suite([orders_only_client], notebooks_glob=str(folder / "*.ipynb"), out_dir=out, progress=False)
    [res] = suite.results
    assert (res.status, res.error) == ("not available",
                                       "Not available for this client: needs the events and surveys tables")
    assert res.records[["name", "value"]].values.tolist() == [["available", False]]
    assert res.title == "01_needs_events"
    page = (out / "01_needs_events.html").read_text()
    assert "Not available for this client: needs the events and surveys tables" in page
    assert "(client Shop Only has: orders)" in page
    assert "<title>01_needs_events</title>" in page
    status = json.loads((out / "results.json").read_text())["notebooks"]
    assert status == [{"notebook": "01_needs_events", "status": "not available", "cell": None,
                       "error": "Not available for this client: needs the events and surveys tables"}]


@pytest.mark.notebook
def test_papermill_directly_stops_at_start_with_one_line(tmp_path, orders_only_client):
    nb = _notebook(tmp_path / "nbs", "01_needs_events", "cjkit.record('after', 1)", needs='("events",)')
    out = tmp_path / "out.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(str(nb), str(out), parameters={"client": str(orders_only_client)},
                                   kernel_name="cjkit", progress_bar=False)
    assert info.value.ename == "TableUnavailable"
    assert info.value.evalue == ("not available for this client: needs the events table "
                                 "(client 'shoponly' has: orders)")
    executed = nbformat.read(str(out), as_version=4)
    error = next(o for c in executed.cells if c.cell_type == "code" for o in c.outputs
                 if o.output_type == "error")
    assert len(error.traceback) == 1 and "TableUnavailable" in error.traceback[0]  # one line, no wall


@pytest.mark.notebook
def test_no_cache_reaches_the_kernels(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("CJKIT_CACHE_DIR", str(cache))
    client = write_client(tmp_path / "acme")
    folder = tmp_path / "nbs"
    _notebook(folder, "01_cached", "cjkit.record('from_cache', data.from_cache)")
    run_suite([client], notebooks_glob=str(folder / "*.ipynb"), out_dir=tmp_path / "a", progress=False,
              cache=False)
    assert _records(tmp_path / "a")[("01_cached", "from_cache")] is False
    assert not (cache / "loads").exists() or not os.listdir(cache / "loads")
    run_suite([client], notebooks_glob=str(folder / "*.ipynb"), out_dir=tmp_path / "b", progress=False)
    assert _records(tmp_path / "b")[("01_cached", "from_cache")] is True  # validated once, read from the cache
