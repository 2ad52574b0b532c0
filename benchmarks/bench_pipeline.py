"""Time the notebook pipeline against its floor (a bare kernel and bare papermill).

Measured in one run, on the bundled tiny and demo clients:

* ``kernel``: a bare kernel start + shutdown (jupyter_client), median of 3;
* ``empty nb``: a one-cell notebook through papermill, median of 3;
* per notebook and client: ``bare papermill`` = the notebook through a bare
  ``papermill.execute_notebook`` (same parameters, same kernel) and ``papermill in
  cjkit`` = the same call timed inside ``cjkit run``;
* pipeline overhead per notebook = (wall time of ``run_suite`` on all notebooks of a
  client, i.e. parameter pre-checks, client pre-validation, execution, HTML, records,
  results files and index) minus the papermill time of the same notebooks, divided by
  the number of notebooks. ``in-run`` subtracts the papermill calls made inside that run
  (free of kernel-to-kernel noise, which is a few tenths of a second); ``vs bare``
  subtracts the separate bare papermill runs. Target: < 0.3 s per notebook;
* HTML per notebook: cjkit's in-process render (exporter reused) vs the
  ``jupyter nbconvert --to html`` command line.

Run: ``python benchmarks/bench_pipeline.py [--notebooks GLOB] [--clients tiny demo]``.
Not a test: it prints numbers, it does not assert them.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cjkit.pipeline.render import render_html  # noqa: E402
from cjkit.pipeline.run import default_kernel, discover_notebooks, run_suite  # noqa: E402
from timing import timed as _timed  # noqa: E402


def bare_kernel(kernel: str) -> None:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name=kernel)
    kc.stop_channels()
    km.shutdown_kernel(now=False)


def papermill_run(nb: Path, out: Path, kernel: str, parameters: dict) -> None:
    import papermill as pm

    pm.execute_notebook(str(nb), str(out), parameters=parameters, kernel_name=kernel, progress_bar=False,
                        log_output=False, request_save_on_cell_execute=False,
                        resources={"metadata": {"path": str(nb.parent.resolve())}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default="notebooks/[0-9][0-9]_*.ipynb")
    parser.add_argument("--clients", nargs="+", default=["tiny", "demo"])
    args = parser.parse_args()
    notebooks = discover_notebooks(args.notebooks, root=REPO)
    if not notebooks:
        fixtures = REPO / "tests" / "fixtures" / "notebooks"
        notebooks = [fixtures / "01_orders_summary.ipynb", fixtures / "03_needs_events.ipynb"]
        print(f"no notebooks match {args.notebooks!r}: timing the test fixtures instead")
    kernel = default_kernel()
    tmp = Path(tempfile.mkdtemp(prefix="cjkit-bench-"))
    empty = tmp / "empty.ipynb"
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    book.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nbformat.write(book, empty)

    from cjkit.contract.load import validate_client
    from cjkit.pipeline.render import _exporter

    started = time.perf_counter()
    _exporter("report")
    t_exporter = time.perf_counter() - started
    _exporter.cache_clear()
    t_kernel = _timed(lambda: bare_kernel(kernel), repeat=3)
    t_empty = _timed(lambda: papermill_run(empty, tmp / "empty-out.ipynb", kernel, {}), repeat=3)
    print(f"kernel '{kernel}': bare start + shutdown {t_kernel:.2f} s; empty notebook via papermill {t_empty:.2f} s\n")

    header = (f"{'client':<6} {'notebook':<28} {'bare papermill':>14} {'papermill in cjkit':>18} "
              f"{'html in-proc':>12} {'nbconvert CLI':>13}")
    print(header)
    print("-" * len(header))
    summary, renders, clis = [], [], []
    summary_first = args.clients[0]  # the exporter is built once, during the first client's run
    for name in args.clients:
        client = REPO / "datasets" / name / "client.yaml"
        if not client.is_file():
            print(f"{name}: {client} missing, skipped")
            continue
        bare = {nb: _timed(lambda: papermill_run(nb, tmp / f"bare-{name}-{nb.name}", kernel, {"client": str(client)}))
                for nb in notebooks}
        suite_dir = tmp / f"suite-{name}"
        suite_dir.mkdir()
        for nb in notebooks:  # the runner discovers by glob: give it a folder holding just these
            (suite_dir / nb.name).write_bytes(nb.read_bytes())
        started = time.perf_counter()
        suite = run_suite([client], notebooks_glob=str(suite_dir / "*.ipynb"), out_dir=tmp / f"out-{name}",
                          kernel_name=kernel, progress=False)
        wall = time.perf_counter() - started
        for res, nb in zip(suite.results, notebooks):
            executed = tmp / f"out-{name}" / nb.name
            t_html = _timed(lambda: render_html(executed), repeat=3)
            t_cli = _timed(lambda: subprocess.run(
                [str(Path(sys.executable).with_name("jupyter")), "nbconvert", "--to", "html", "--log-level", "ERROR",
                 "--output-dir", str(tmp / "cli"), str(executed)], check=True, capture_output=True))
            renders.append(t_html)
            clis.append(t_cli)
            flag = "" if res.status == "ok" else f"  [{res.status}: {res.error}]"
            print(f"{name:<6} {nb.stem:<28} {bare[nb]:>14.2f} {res.seconds:>18.2f} {t_html:>12.3f} {t_cli:>13.2f}{flag}")
        n = len(notebooks)
        in_run = (wall - sum(r.seconds for r in suite.results)) / n
        vs_bare = (wall - sum(bare.values())) / n
        fixed = _timed(lambda: validate_client(client)) + (t_exporter if name == summary_first else 0.0)  # paid once per run, not per notebook
        summary.append((name, wall, in_run, vs_bare, fixed))
    print()
    for name, wall, in_run, vs_bare, fixed in summary:
        n = len(notebooks)
        print(f"{name}: cjkit run of {n} notebooks {wall:.2f} s; pipeline overhead per notebook "
              f"{in_run:.2f} s measured in-run, {vs_bare:+.2f} s vs separate bare papermill runs (target < 0.3 s);"
              f"\n      of which once per run {fixed:.2f} s (client pre-validation + HTML exporter build): "
              f"{in_run - fixed / n:.2f} s per additional notebook")
    if renders:
        print(f"HTML: in-process {statistics.mean(renders):.3f} s vs nbconvert CLI {statistics.mean(clis):.2f} s "
              f"per notebook ({statistics.mean(clis) / max(statistics.mean(renders), 1e-9):.0f}x)")

if __name__ == "__main__":
    main()
