"""Run the numbered notebooks on one or more clients: execute, render, collect records.

:func:`run_suite` does, in this order:

1. before any kernel starts: discover the notebooks by glob (never a hand-kept list), check
   every ``-p`` parameter against each notebook's parameters cell, read the tables each
   notebook needs (:func:`~cjkit.pipeline.params.notebook_needs`) and validate each client
   once (which fills the load cache every notebook then reads);
2. a client with data errors gets a failed result per notebook pointing at its load report;
   a notebook needing a table the client lacks gets its short "not available" page and an
   ``available = False`` record, written here without a kernel;
3. the remaining notebooks run through papermill on ``jobs`` kernels, each kernel running
   its notebooks one after another with a clean namespace in between
   (:mod:`~cjkit.pipeline.kernels`); HTML is rendered in the main thread as results arrive;
4. per client ``<name>.ipynb``, ``<name>.html``, ``results.json``, ``results.csv`` and
   ``index.html``; for several clients also ``clients.csv`` and a cross-client ``index.html``.

A failing notebook is reported with its failing cell and does not stop the others.
"""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
import queue
import re
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd

from cjkit.contract.report import closest
from cjkit import resources
from cjkit.exports import EXPORTS_ENV

from .kernels import NotebookKernel
from .notebook import notebook_title, unavailable_text
from .params import ParameterError, check_value, notebook_needs, notebook_parameters, parse_cli_value
from .records import make_record, record_bundle, records_from_notebook
from .results import NotebookResult, SuiteResult, clients_table, flat_records, record_rows, status_counts

__all__ = ["DEFAULT_GLOB", "ClientSpec", "discover_notebooks", "find_clients", "prepare_parameters",
           "default_kernel", "run_notebook", "unavailable_notebook", "run_suite"]

#: the kit's own numbered notebooks, wherever they are (checkout or installed wheel): an absolute glob
DEFAULT_GLOB = resources.notebooks_glob()
_NUM = re.compile(r"^(\d+)")


@dataclass
class ClientSpec:
    """A client YAML to run: its path, its ``name`` (output folder) and ``title``."""

    path: Path
    name: str
    title: str


def discover_notebooks(pattern: str = DEFAULT_GLOB, *, root: str | Path = ".") -> list[Path]:
    """Notebooks matching ``pattern`` under ``root``, in number order (then name).

    Examples
    --------
    >>> discover_notebooks("no/such/[0-9][0-9]_*.ipynb")
    []
    """
    full = pattern if os.path.isabs(pattern) else os.path.join(str(root), pattern)
    found = [Path(p) for p in glob.glob(full)
             if p.endswith(".ipynb") and ".ipynb_checkpoints" not in Path(p).parts]
    return sorted(found, key=lambda p: (int(m.group(1)) if (m := _NUM.match(p.name)) else 10**9, p.name))


def find_clients(paths: Iterable[str | Path]) -> list[ClientSpec]:
    """Client YAML files from paths (a folder stands for every ``*.yaml`` / ``*.yml`` in it;
    a bare name such as ``demo`` or ``tiny`` is a bundled dataset).

    Raises FileNotFoundError for a missing path and ValueError for duplicate names.
    """
    import yaml

    specs: list[ClientSpec] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not files:
                raise FileNotFoundError(f"no client YAML files (*.yaml) in the folder {path}")
        elif path.is_file():
            files = [path]
        else:  # a bundled dataset name (demo, tiny), resolved as the notebooks do
            from .notebook import resolve_client
            from .params import ParameterError

            try:
                files = [resolve_client(given)]
            except ParameterError:
                raise FileNotFoundError(f"client file not found: {path}") from None
        for file in files:
            try:
                conf = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            except yaml.YAMLError as exc:
                raise ValueError(f"client file {file} is not valid YAML: {exc}") from None
            conf = conf if isinstance(conf, dict) else {}
            name = str(conf.get("name") or file.stem)
            specs.append(ClientSpec(file.resolve(), name, str(conf.get("title") or name)))
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"several client files have the name {', '.join(dupes)}; names must be unique")
    return specs


def prepare_parameters(notebooks: Sequence[Path], given: Mapping[str, Any]) -> dict[Path, dict[str, Any]]:
    """Per-notebook parameters from ``-p`` values, checked before any kernel starts.

    Text values are parsed to the declared type. A name is passed only to the notebooks
    that declare it; a name no selected notebook declares is an error (with the closest
    name). ``client`` is set by the runner and may not be given.
    """
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    for nb, table in declared.items():
        if "client" not in set(table["name"]):
            raise ParameterError(f"{nb.name}: the parameters cell declares no 'client' parameter")
    if "client" in given:
        raise ParameterError("give the client with --client PATH, not as a parameter")
    out: dict[Path, dict[str, Any]] = {nb: {} for nb in notebooks}
    everything = sorted({n for t in declared.values() for n in t["name"]})
    for name, raw in given.items():
        users = [nb for nb, t in declared.items() if name in set(t["name"])]
        if not users:
            close = closest(name, everything, cutoff=0.5)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise ParameterError(f"unknown parameter {name!r}{hint}: no selected notebook declares it; "
                                 f"declared parameters: {', '.join(everything)}")
        for nb in users:
            ptype = declared[nb].set_index("name").loc[name, "type"]
            try:
                value = parse_cli_value(raw, ptype) if isinstance(raw, str) else raw
            except ParameterError as exc:
                raise ParameterError(f"{nb.name}: parameter {name!r} expects {ptype}: {exc}") from None
            out[nb][name] = check_value(name, value, ptype, where=f"{nb.name}: ")
    return out


def default_kernel() -> str:
    """The kernel that runs this very Python: ``cjkit`` when that kernelspec does, else ``python3``.

    A "cjkit" kernelspec registered by another installation (``make kernel`` in a checkout
    writes one for the user) would run another Python with another cjkit; ``python3`` is
    then jupyter_client's native kernel, which is always this interpreter.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("cjkit")
    except NoSuchKernel:
        return "python3"
    python = Path(spec.argv[0]) if spec.argv else None
    if python is not None and python.name.startswith("python") and not python.is_absolute():
        return "cjkit"  # "python" on PATH: ipykernel's own spec form, resolved by jupyter_client
    same = python is not None and python.exists() and os.path.samefile(python, sys.executable)
    return "cjkit" if same else "python3"


@dataclass
class _ClientCheck:
    """A client validated once, before any kernel starts."""

    error: str | None          # one line, or None when the client loads
    tables: frozenset[str]     # the tables it has
    report: str                # the full load report (shown on its page when it fails)


def _check_client(spec: ClientSpec, *, cache: bool) -> _ClientCheck:
    from cjkit.contract.load import validate_client

    report = validate_client(spec.path, cache=cache)
    tables = frozenset(t for t, s in report.tables.items() if s.rows_read)
    if report.ok:
        return _ClientCheck(None, tables, str(report))
    first = report.errors[0].message
    return _ClientCheck(f"client data has {len(report.errors)} error(s), e.g. {first}", tables, str(report))


def _reset_papermill_cwd() -> None:
    """Forget the working folder papermill's local I/O handler may have kept.

    ``papermill.execute_notebook`` saves the handler's folder, sets it to ``os.getcwd()``
    and restores the saved one at the end. Two calls in parallel threads can restore in
    the wrong order and leave a folder of an earlier run behind, which later reads and
    writes ``chdir`` into. Reset it before and after every batch.
    """
    from papermill.iorw import papermill_io

    papermill_io.get_handler("local").cwd(None)


def run_notebook(source: Path, out_ipynb: Path, *, client: ClientSpec, parameters: Mapping[str, Any],
                 kernel: NotebookKernel, timeout: float | None = None, reuse: bool = True) -> NotebookResult:
    """Execute one notebook with papermill on ``kernel`` (working folder: the notebook's folder).

    The kernel is reset before the notebook; it is replaced afterwards when the notebook
    killed or hung it, or when ``reuse`` is false.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    res = NotebookResult(client=client.name, notebook=source.stem, source=source, ipynb=out_ipynb)
    started = time.perf_counter()
    nb, healthy = None, True
    try:
        # lists a notebook exports (cjkit.exports.export_csv) go to the client's report folder
        kernel.prepare(source.parent.resolve(), env={EXPORTS_ENV: str(out_ipynb.parent.resolve() / "exports")})
        # Absolute paths: papermill's local reader/writer keeps one process-wide "cwd" that
        # parallel calls set and restore in any order (see _reset_papermill_cwd).
        nb = pm.execute_notebook(str(source.resolve()), str(out_ipynb.resolve()),
                                 parameters={"client": str(client.path), **parameters},
                                 kernel_name=kernel.kernel_name, km=kernel.manager, progress_bar=False,
                                 log_output=False, request_save_on_cell_execute=False,
                                 execution_timeout=timeout)
    except PapermillExecutionError as exc:
        res.status, res.cell, res.error = "failed", exc.exec_count, f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died or hung, could not start, bad notebook file...
        res.status, res.error, healthy = "failed", f"{type(exc).__name__}: {exc}", False
    finally:
        kernel.finished(healthy=healthy and reuse)
    res.seconds = time.perf_counter() - started
    if nb is None and out_ipynb.is_file():
        nb = nbformat.read(str(out_ipynb), as_version=4)
    if nb is not None:
        res.title = notebook_title(nb, source.stem)
        try:
            res.records = records_from_notebook(nb, notebook=source.stem)
        except ValueError as exc:
            res.status, res.error = "failed", str(exc)
    return res


def unavailable_notebook(source: Path, out_ipynb: Path, *, client: ClientSpec, missing: Sequence[str],
                         have: Iterable[str]) -> NotebookResult:
    """Write the short page of a notebook the client cannot run, without a kernel.

    The page holds the notebook's title, the notice and an ``available = False`` record, in
    an executed-notebook file that renders and reads back like any other.
    """
    import html

    book = nbformat.read(str(source), as_version=4)
    title = notebook_title(book, source.stem)
    text = unavailable_text(missing)
    tables = ", ".join(sorted(have)) or "none"
    notice = {"text/html": f'<div class="cjkit-unavailable"><strong>{html.escape(text)}</strong> '
                           f"(client {html.escape(client.title)} has: {html.escape(tables)})</div>",
              "text/plain": f"{text} (client {client.title} has: {tables})"}
    rec = make_record("available", False, label="Available for this client")
    cell = nbformat.v4.new_code_cell("", metadata={"tags": ["remove-input"]}, outputs=[
        nbformat.v4.new_output("display_data", data=notice),
        nbformat.v4.new_output("display_data", data=record_bundle(rec))])
    out = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {title}"), cell],
                                   metadata=book.metadata)
    out.metadata["papermill"] = {"parameters": {"client": str(client.path)}}
    out.metadata["cjkit"] = {"status": "not available", "needs_missing": list(missing)}
    nbformat.write(out, str(out_ipynb))
    return NotebookResult(client=client.name, notebook=source.stem, source=source, ipynb=out_ipynb,
                          status="not available", error=text, title=title,
                          records=records_from_notebook(out, notebook=source.stem))


def _write_results(out_dir: Path, results: Sequence[NotebookResult]) -> None:
    frames = [r.records for r in results if len(r.records)]
    rows = record_rows(pd.concat(frames, ignore_index=True)) if frames else []
    status = [{"notebook": r.notebook, "status": r.status, "cell": r.cell, "error": r.error} for r in results]
    (out_dir / "results.json").write_text(
        json.dumps({"records": rows, "notebooks": status}, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8")
    flat_records(rows).to_csv(out_dir / "results.csv", index=False)


def _kernel_env(cache: bool) -> dict[str, str] | None:
    return None if cache else dict(os.environ, CJKIT_NO_CACHE="1")


def _work(tasks: queue.Queue, done: queue.Queue, *, kernel_name: str, cwd: Path, cache: bool,
          timeout: float | None, reuse: bool) -> None:
    """One job: a kernel running tasks from ``tasks`` until the queue is empty."""
    kernel = NotebookKernel(kernel_name, cwd=cwd, env=_kernel_env(cache))
    try:
        while True:
            try:
                spec, nb, out, params = tasks.get_nowait()
            except queue.Empty:
                return
            try:
                res = run_notebook(nb, out, client=spec, parameters=params, kernel=kernel, timeout=timeout,
                                   reuse=reuse)
            except Exception as exc:  # the worker must always report back, or the run would wait forever
                res = NotebookResult(client=spec.name, notebook=nb.stem, source=nb, status="failed",
                                     error=f"{type(exc).__name__}: {exc}")
            done.put((spec, nb, res))
    finally:
        kernel.shutdown()


def run_suite(clients: Sequence[str | Path], *, notebooks_glob: str = DEFAULT_GLOB, out_dir: str | Path | None = None,
              params: Mapping[str, Any] | None = None, jobs: int = 1, mode: str = "report",
              kernel_name: str | None = None, progress: bool = True, cache: bool = True,
              fresh_kernels: bool = False, timeout: float | None = None) -> SuiteResult:
    """Execute and render every notebook matching ``notebooks_glob`` on every client.

    Parameters
    ----------
    clients : paths of client YAML files, folders of them, or bundled dataset names
    out_dir : folder, optional
        Default ``reports/``; each client writes to ``<out>/<client name>/``, except that
        an explicit ``out_dir`` with a single client is used as it is.
    jobs : int
        Kernels running at once (each runs its share of the notebooks in turn).
    cache : bool
        Use the load cache (:mod:`cjkit.contract.cache`); ``False`` reads every file afresh.
    fresh_kernels : bool
        A new kernel for every notebook instead of a reset one (slower; the old behaviour).
    timeout : float, optional
        Seconds a cell may run before the notebook fails.

    Raises ParameterError / FileNotFoundError / ValueError before any kernel starts.
    """
    from tqdm import tqdm

    from cjkit.contract.load import missing_tables

    from .render import MODES, write_clients_index, write_html, write_index, write_text_page

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    specs = find_clients(clients)
    notebooks = discover_notebooks(notebooks_glob)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks match {notebooks_glob!r} (from {Path.cwd()})")
    per_nb = prepare_parameters(notebooks, params or {})
    needs = {nb: notebook_needs(nb) for nb in notebooks}
    kernel = kernel_name or default_kernel()
    root = Path(out_dir) if out_dir is not None else Path("reports")
    dirs = {s.name: (root if out_dir is not None and len(specs) == 1 else root / s.name) for s in specs}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, Path], NotebookResult] = {}
    tasks: queue.Queue = queue.Queue()
    for spec in specs:
        check = _check_client(spec, cache=cache)
        if check.error:
            page = write_text_page(dirs[spec.name] / "load_report.html", f"Load report: {spec.title}", check.report)
            for nb in notebooks:
                done[(spec.name, nb)] = NotebookResult(client=spec.name, notebook=nb.stem, source=nb,
                                                       status="failed", error=check.error, detail=page)
            continue
        for nb in notebooks:
            out = dirs[spec.name] / nb.name
            missing = missing_tables(needs[nb], check.tables)
            if missing:
                res = unavailable_notebook(nb, out, client=spec, missing=missing, have=check.tables)
                res.html = write_html(out, out.with_suffix(".html"), mode=mode, client=spec.title, index_link=True)
                done[(spec.name, nb)] = res
            else:
                tasks.put((spec, nb, out, per_nb[nb]))
    total = tasks.qsize()
    finished: queue.Queue = queue.Queue()
    _reset_papermill_cwd()
    workers = [threading.Thread(target=_work, args=(tasks, finished), daemon=True,
                                kwargs={"kernel_name": kernel, "cwd": notebooks[0].parent.resolve(), "cache": cache,
                                        "timeout": timeout, "reuse": not fresh_kernels})
               for _ in range(max(1, min(jobs, total)))] if total else []
    for worker in workers:
        worker.start()
    bar = tqdm(total=total, desc="notebooks", unit="nb", file=sys.stderr, disable=not progress)
    for _ in range(total):
        spec, nb, res = finished.get()
        if res.ipynb is not None and res.ipynb.is_file():
            res.html = write_html(res.ipynb, res.ipynb.with_suffix(".html"), mode=mode,
                                  client=spec.title, index_link=True)
            res.detail = res.html
        done[(spec.name, nb)] = res
        bar.set_postfix_str(f"{spec.name}/{nb.stem}: {res.status}")
        bar.update()
    bar.close()
    for worker in workers:
        worker.join()
    _reset_papermill_cwd()
    today = dt.date.today().isoformat()
    results = [done[(s.name, nb)] for s in specs for nb in notebooks]
    for spec in specs:
        mine = [r for r in results if r.client == spec.name]
        _write_results(dirs[spec.name], mine)
        write_index(dirs[spec.name], mine, client=spec.title, run_date=today)
    if len(specs) > 1:
        names = [s.name for s in specs]
        table = clients_table(results, names)
        table.to_csv(root / "clients.csv", index=False)
        links = [(s.name, f"{dirs[s.name].relative_to(root).as_posix()}/index.html") for s in specs]
        write_clients_index(root, table, links, status={s.name: status_counts(results, s.name) for s in specs},
                            run_date=today)
    return SuiteResult(results=results, out_dirs=dirs, out_root=root)
