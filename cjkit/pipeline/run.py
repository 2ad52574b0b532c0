"""Run the numbered notebooks on one or more clients: execute, render, collect records.

``run_suite`` discovers notebooks by glob (never a hand-kept list), checks every
``-p`` parameter against each notebook's parameters cell before any kernel starts,
executes each notebook with papermill in its own kernel (``jobs`` at a time, on
threads: each papermill call drives its own kernel process), renders the HTML in the
main thread with one reused exporter, and writes per client ``<name>.ipynb``,
``<name>.html``, ``results.json``, ``results.csv`` and ``index.html``; for several
clients also ``clients.csv`` and a cross-client ``index.html``. A failing notebook is
reported with its failing cell and does not stop the others.
"""
from __future__ import annotations

import datetime as dt
import glob
import json
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping, Sequence

import nbformat
import pandas as pd

from cjkit import resources

from .params import ParameterError, check_value, notebook_parameters, parse_cli_value
from .notebook import UNAVAILABLE
from .records import records_from_notebook

__all__ = ["DEFAULT_GLOB", "NotebookResult", "SuiteResult", "ClientSpec", "discover_notebooks",
           "find_clients", "prepare_parameters", "default_kernel", "run_notebook", "run_suite",
           "clients_table"]

#: the kit's own numbered notebooks, wherever they are (checkout or installed wheel): an absolute glob
DEFAULT_GLOB = resources.notebooks_glob()
_NUM = re.compile(r"^(\d+)")


@dataclass
class NotebookResult:
    """Outcome of one notebook on one client (``status``: ok, failed or not available)."""

    client: str
    notebook: str
    source: Path
    ipynb: Path | None = None
    html: Path | None = None
    status: str = "ok"
    cell: int | None = None
    error: str | None = None
    seconds: float = 0.0
    title: str | None = None
    records: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class ClientSpec:
    """A client YAML to run: its path, its ``name`` (output folder) and ``title``."""

    path: Path
    name: str
    title: str


@dataclass
class SuiteResult:
    """All notebook results of a run, with the output folders."""

    results: list[NotebookResult]
    out_dirs: dict[str, Path]
    out_root: Path

    @property
    def ok(self) -> bool:
        """True when no notebook failed ("not available" counts as ok)."""
        return not any(r.status == "failed" for r in self.results)

    @property
    def records(self) -> pd.DataFrame:
        """Records of every notebook with a leading ``client`` column."""
        frames = [r.records.assign(client=r.client) for r in self.results if len(r.records)]
        if not frames:
            return pd.DataFrame(columns=["client", "notebook", "name", "value", "unit", "label", "headline", "kind"])
        out = pd.concat(frames, ignore_index=True)
        return out[["client"] + [c for c in out.columns if c != "client"]]


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
    import difflib

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
            close = difflib.get_close_matches(name, everything, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
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
    """``cjkit`` when that kernelspec is installed, else ``python3``."""
    from jupyter_client.kernelspec import KernelSpecManager

    return "cjkit" if "cjkit" in KernelSpecManager().find_kernel_specs() else "python3"


def _client_errors(spec: ClientSpec) -> str | None:
    """None when the client loads cleanly, else a one-line summary (no kernel is started)."""
    from cjkit.contract.load import validate_client

    report = validate_client(spec.path)
    if report.ok:
        return None
    first = report.errors[0].message
    return (f"client data has {len(report.errors)} error(s), e.g. {first}; "
            f"see `cjkit validate --client {spec.path}`")


def _unavailable_text(nb: nbformat.NotebookNode) -> str | None:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/plain", "")
            if isinstance(text, str) and text.startswith(UNAVAILABLE):
                return text
    return None


def _ipc_kernel_manager() -> type:
    """Kernel manager talking to its kernel over Unix sockets instead of TCP ports.

    Kernels started at the same moment (``--jobs``, or test workers) pick TCP ports by
    binding and releasing them, and two can pick the same one; Unix sockets named after
    the kernel's own connection file cannot collide, and stay on this machine.
    """
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum, default

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

        @default("ip")
        def _ip_default(self) -> str:  # absolute: the kernel runs in the notebook's folder
            return str(Path(tempfile.gettempdir()) / f"cjkit-{uuid.uuid4().hex[:12]}-ipc")

    return IPCKernelManager


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
                 kernel_name: str) -> NotebookResult:
    """Execute one notebook with papermill (kernel working directory: the notebook's folder)."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from .notebook import notebook_title

    res = NotebookResult(client=client.name, notebook=source.stem, source=source, ipynb=out_ipynb)
    started = time.perf_counter()
    nb = None
    try:
        # The kernel's cwd goes through nbclient's resources; papermill's own ``cwd``
        # would os.chdir() the whole process, which is unsafe with threads.
        # Absolute paths: papermill's local reader/writer keeps one process-wide "cwd" that
        # parallel calls set and restore in any order (see _reset_papermill_cwd).
        nb = pm.execute_notebook(str(source.resolve()), str(out_ipynb.resolve()),
                                 parameters={"client": str(client.path), **parameters},
                                 kernel_name=kernel_name, progress_bar=False, log_output=False,
                                 request_save_on_cell_execute=False, kernel_manager_class=_ipc_kernel_manager(),
                                 resources={"metadata": {"path": str(source.parent.resolve())}},
                                 extra_arguments=["--IPKernelApp.log_level=CRITICAL"])  # no kernel chatter
    except PapermillExecutionError as exc:
        res.status, res.cell, res.error = "failed", exc.exec_count, f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # kernel died, could not start, bad notebook file...
        res.status, res.error = "failed", f"{type(exc).__name__}: {exc}"
    res.seconds = time.perf_counter() - started
    if nb is None and out_ipynb.is_file():
        nb = nbformat.read(str(out_ipynb), as_version=4)
    if nb is not None:
        res.title = notebook_title(nb, source.stem)
        try:
            res.records = records_from_notebook(nb, notebook=source.stem)
        except ValueError as exc:
            res.status, res.error = "failed", str(exc)
        notice = _unavailable_text(nb)
        if res.status == "ok" and notice:
            res.status, res.error = "not available", notice
    return res


def _write_results(out_dir: Path, results: Sequence[NotebookResult]) -> None:
    rows = []
    for res in results:
        for rec in res.records.itertuples():
            value = rec.value
            if isinstance(value, pd.DataFrame):
                value = {"columns": [str(c) for c in value.columns],
                         "data": json.loads(value.to_json(orient="values", date_format="iso"))}
            rows.append({"notebook": rec.notebook, "name": rec.name, "value": value, "unit": rec.unit,
                         "label": rec.label, "headline": bool(rec.headline), "kind": rec.kind})
    status = [{"notebook": r.notebook, "status": r.status, "cell": r.cell, "error": r.error} for r in results]
    (out_dir / "results.json").write_text(
        json.dumps({"records": rows, "notebooks": status}, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
        encoding="utf-8")
    tidy = pd.DataFrame([{**r, "value": json.dumps(r["value"], ensure_ascii=False)
                          if isinstance(r["value"], (dict, list)) else r["value"]} for r in rows],
                        columns=["notebook", "name", "value", "unit", "label", "headline", "kind"])
    tidy.to_csv(out_dir / "results.csv", index=False)


def _status_counts(results: Sequence[NotebookResult], client: str) -> str:
    counts = pd.Series([r.status for r in results if r.client == client]).value_counts()
    return ", ".join(f"{counts[k]} {k}" for k in ("ok", "not available", "failed") if k in counts)


def clients_table(results: Sequence[NotebookResult], clients: Sequence[str]) -> pd.DataFrame:
    """Wide table of headline records: notebook, name, label, unit, kind, one column per client."""
    frames = [r.records.assign(client=r.client) for r in results if len(r.records)]
    base = ["notebook", "name", "label", "unit", "kind"]
    if not frames:
        return pd.DataFrame(columns=base + list(clients))
    recs = pd.concat(frames, ignore_index=True)
    recs = recs[recs["headline"].astype(bool) & (recs["kind"] != "table")]
    keys = recs.drop_duplicates(["notebook", "name"])[base].reset_index(drop=True)
    for client in clients:
        values = recs[recs["client"] == client].set_index(["notebook", "name"])["value"]
        keys[client] = pd.Series([values.get((n, m)) for n, m in zip(keys["notebook"], keys["name"])],
                                 dtype=object)
    return keys.sort_values(["notebook", "name"], kind="stable").reset_index(drop=True).astype(object)


def run_suite(clients: Sequence[str | Path], *, notebooks_glob: str = DEFAULT_GLOB, out_dir: str | Path | None = None,
              params: Mapping[str, Any] | None = None, jobs: int = 1, mode: str = "report",
              kernel_name: str | None = None, progress: bool = True) -> SuiteResult:
    """Execute and render every notebook matching ``notebooks_glob`` on every client.

    ``out_dir`` defaults to ``reports/``; each client writes to ``<out>/<client name>/``,
    except that an explicit ``out_dir`` with a single client is used as it is.
    Raises ParameterError / FileNotFoundError / ValueError before any kernel starts.
    """
    from tqdm import tqdm

    from .render import MODES, write_clients_index, write_html, write_index

    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    specs = find_clients(clients)
    notebooks = discover_notebooks(notebooks_glob)
    if not notebooks:
        raise FileNotFoundError(f"no notebooks match {notebooks_glob!r} (from {Path.cwd()})")
    per_nb = prepare_parameters(notebooks, params or {})
    kernel = kernel_name or default_kernel()
    root = Path(out_dir) if out_dir is not None else Path("reports")
    dirs = {s.name: (root if out_dir is not None and len(specs) == 1 else root / s.name) for s in specs}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    done: dict[tuple[str, Path], NotebookResult] = {}
    broken = {s.name: _client_errors(s) for s in specs}
    for spec in specs:
        if broken[spec.name]:
            for nb in notebooks:
                done[(spec.name, nb)] = NotebookResult(client=spec.name, notebook=nb.stem, source=nb,
                                                       status="failed", error=broken[spec.name])
    tasks = [(s, nb) for s in specs for nb in notebooks if not broken[s.name]]
    _reset_papermill_cwd()
    bar = tqdm(total=len(tasks), desc="notebooks", unit="nb", file=sys.stderr, disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_notebook, nb, dirs[s.name] / nb.name, client=s, parameters=per_nb[nb],
                               kernel_name=kernel): (s, nb) for s, nb in tasks}
        for future in as_completed(futures):
            spec, nb = futures[future]
            res = future.result()
            if res.ipynb is not None and res.ipynb.is_file():
                res.html = write_html(res.ipynb, res.ipynb.with_suffix(".html"), mode=mode,
                                      client=spec.title, index_link=True)
            done[(spec.name, nb)] = res
            bar.set_postfix_str(f"{spec.name}/{nb.stem}: {res.status}")
            bar.update()
    bar.close()
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
        write_clients_index(root, table, links, status={s.name: _status_counts(results, s.name) for s in specs},
                            run_date=today)
    return SuiteResult(results=results, out_dirs=dirs, out_root=root)
