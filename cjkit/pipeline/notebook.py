"""The notebook side of the pipeline: one ``start`` call after the parameters cell.

Every notebook opens with two code cells::

    # Parameters (cjkit)
    client: str = "demo"  # client YAML file, or a bundled dataset (demo, tiny)
    start: str = ""  # first day of the window, YYYY-MM-DD (empty: from the first record)
    end: str = ""  # last day of the window, included (empty: to the last record)

    import cjkit

    data = cjkit.notebook.start(globals(), needs=("orders",))

:func:`start` checks the parameters (names injected by papermill, types, the client
file, the date window), loads the client (through the load cache), sets the plotting
style and the table style, and returns the :class:`~cjkit.contract.load.ClientData`.
``needs`` is written as a literal: ``cjkit run`` reads it from the file
(:func:`cjkit.pipeline.params.notebook_needs`) and writes a short "not available" page,
without starting a kernel, for a client that lacks one of the tables. Run by hand (in
JupyterLab, or by papermill directly), ``start`` raises
:class:`~cjkit.contract.load.TableUnavailable` with one readable line instead.
"""
from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any
from collections.abc import Iterable, Mapping

import pandas as pd

from cjkit.resources import notebooks_dir

from .params import MARKER, ParameterError, check_parameters, check_value, parse_parameters_source
from .records import record

__all__ = ["start", "find_parameters", "resolve_client", "notebook_index", "notebook_title", "unavailable_text",
           "UNAVAILABLE", "ParameterError"]

_INJECTED = "# Parameters"
_FAR = ("1900-01-01", "2200-01-01")  # open ends of a window


def _first_line(source: str) -> str:
    return source.lstrip().split("\n", 1)[0].strip()


def find_parameters(history: list[str]) -> tuple[pd.DataFrame | None, list[str]]:
    """Declared parameters and injected names from a kernel's input history (``In``).

    The declared ones come from the latest cell starting with ``# Parameters (cjkit)``;
    the injected names from a later papermill cell starting with ``# Parameters``.

    Examples
    --------
    >>> declared, injected = find_parameters([
    ...     "", '# Parameters (cjkit)\\nclient: str = "demo"  # client', '# Parameters\\nclinet = "x"\\n'])
    >>> list(declared["name"]), injected
    (['client'], ['clinet'])
    """
    own = max((i for i, s in enumerate(history) if s.lstrip().startswith(MARKER)), default=None)
    if own is None:
        return None, []
    declared = parse_parameters_source(history[own])
    injected: list[str] = []
    for source in history[own + 1:]:
        if _first_line(source) == _INJECTED:
            tree = ast.parse(source)
            injected = [t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
                        if isinstance(t, ast.Name)]
    return declared, injected


def resolve_client(client: str | os.PathLike, *, base: str | os.PathLike | None = None) -> Path:
    """Absolute path of the client YAML named by the ``client`` parameter.

    Absolute paths are used as they are; relative ones are resolved against ``base``
    (default: the working directory, which is the notebook's folder under JupyterLab
    and ``cjkit run``). A bare name such as ``demo`` or ``tiny`` that is not a file
    names a bundled dataset.

    Examples
    --------
    >>> resolve_client("no/such/client.yaml", base="/tmp")
    Traceback (most recent call last):
    ...
    cjkit.pipeline.params.ParameterError: client file not found: 'no/such/client.yaml' (looked for /tmp/no/such/client.yaml). ...
    """
    text = str(client)
    base_dir = Path(base) if base is not None else Path.cwd()
    path = Path(text).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.is_file():
        return path.resolve()
    if path.is_dir() and (path / "client.yaml").is_file():
        return (path / "client.yaml").resolve()
    if text and os.sep not in text and "/" not in text and not Path(text).suffix:
        try:
            from cjkit.resources import dataset_client

            bundled = dataset_client(text)
            if bundled.is_file():
                return bundled.resolve()
        except (ImportError, KeyError, ValueError, FileNotFoundError):
            pass
    raise ParameterError(
        f"client file not found: {text!r} (looked for {path}). Relative paths are read from "
        "the working directory (the notebook's folder under JupyterLab and `cjkit run`; "
        "pass --cwd to papermill), or give an absolute path"
    )


def _check_date(name: str, value: Any) -> pd.Timestamp | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # None or "" leaves that end of the window open
    try:
        return pd.Timestamp(str(value))
    except (ValueError, TypeError):
        raise ParameterError(f"parameter {name!r}: {value!r} is not a date; write YYYY-MM-DD") from None


#: first words of the notice a notebook shows when the client lacks a table it needs
UNAVAILABLE = "Not available for this client"


def unavailable_text(missing: Iterable[str]) -> str:
    """The one-line notice for a client that lacks tables a notebook needs.

    >>> unavailable_text(["events", "orders"])
    'Not available for this client: needs the events and orders tables'
    >>> unavailable_text(["events|paths"])
    'Not available for this client: needs the events or paths table'
    """
    from cjkit.contract.load import needs_text

    return f"{UNAVAILABLE}: {needs_text(missing)}"


def start(namespace: Mapping[str, Any], *, needs: Iterable[str] = (), client_param: str = "client",
          window_params: tuple[str, str] = ("start", "end")) -> Any:
    """Check the parameters, load the client and set the plotting style.

    Parameters
    ----------
    namespace : dict
        The notebook's ``globals()``: the parameter values are read from it.
    needs : tuple of str
        Tables the notebook cannot do without, written as a literal (``cjkit run`` reads it
        from the file); ``"events|paths"`` means either. A missing one raises
        :class:`~cjkit.contract.load.TableUnavailable`.

    Returns
    -------
    ClientData
        The loaded client, restricted to the window ``(start, end)``.

    Raises
    ------
    ParameterError
        Unknown or mistyped parameter, missing client file, bad or empty window.
    TableUnavailable
        The client lacks a table in ``needs`` (one line in a notebook, no traceback).
    """
    history = namespace.get("In")
    if isinstance(history, list):
        declared, injected = find_parameters(history)
        if declared is not None:
            check_parameters(declared, {n: namespace.get(n) for n in injected})
            for row in declared.itertuples():
                if row.name in namespace:
                    check_value(row.name, namespace[row.name], row.type)
    client = namespace.get(client_param)
    if not isinstance(client, (str, os.PathLike)):
        raise ParameterError(f"parameter {client_param!r} must name a client YAML file, got {client!r}")
    path = resolve_client(client)
    first, last = (namespace.get(p) for p in window_params)
    lo, hi = _check_date(window_params[0], first), _check_date(window_params[1], last)
    if lo is not None and hi is not None and lo > hi:
        raise ParameterError(f"the window is empty: {window_params[0]} {first} is after {window_params[1]} {last}")
    from cjkit.contract.load import ClientDataError, load_client

    window = None
    if lo is not None or hi is not None:  # the loader keeps start <= t < end: make `end` inclusive
        low = lo if lo is not None else pd.Timestamp(_FAR[0])
        high = hi + pd.Timedelta(days=1) if hi is not None else pd.Timestamp(_FAR[1])
        window = (low.strftime("%Y-%m-%d"), high.strftime("%Y-%m-%d"))
    try:
        data = load_client(path, window=window)
    except ClientDataError as exc:
        errors = list(exc.report.errors)
        if window is not None and errors and all("analysis window" in p.message for p in errors):
            raise ParameterError(
                f"no data in the window {first or '...'} to {last or '...'}: "
                + "; ".join(p.message for p in errors)
                + f". Change the parameters {window_params[0]} / {window_params[1]}") from None
        exc._render_traceback_ = lambda _e=exc: [f"ClientDataError: {_e}"]  # type: ignore[attr-defined]
        raise
    from cjkit.contract.load import TableUnavailable
    from cjkit.display import install
    from cjkit.plots import set_theme

    try:
        data.require(*needs)
    except TableUnavailable as exc:  # one readable line in a notebook, not a traceback
        exc._render_traceback_ = lambda _e=exc: [f"\x1b[0;31mTableUnavailable\x1b[0m: {_e}"]  # type: ignore[attr-defined]
        raise
    set_theme()
    install()
    record("available", True, label="Available for this client")
    return data


#: the numbered notebooks shipped with the kit (the checkout's notebooks/ or the installed wheel's copy)
NOTEBOOKS_DIR = notebooks_dir()


def notebook_title(nb: Mapping[str, Any], fallback: str) -> str:
    """Title of a notebook: metadata ``title``, else its first Markdown heading, else ``fallback``.

    Works on an nbformat notebook or the plain JSON dict of one (no nbformat import).

    Examples
    --------
    >>> notebook_title({"metadata": {}, "cells": [{"cell_type": "markdown", "source": "# RFM *segments*"}]}, "x")
    'RFM segments'
    >>> notebook_title({"metadata": {}, "cells": [{"cell_type": "markdown", "source": "# _The_ 01_needs_events"}]}, "x")
    'The 01_needs_events'
    """
    import re

    if nb.get("metadata", {}).get("title"):
        return str(nb["metadata"]["title"])
    for cell in nb.get("cells", []):
        if cell["cell_type"] == "markdown":
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for line in source.splitlines():
                if line.startswith("#"):
                    # emphasis markers go (*x*, _x_, `x`); underscores inside words stay (01_needs_events)
                    return re.sub(r"[*`]|(?<!\w)_+|_+(?!\w)", "", line.lstrip("#")).strip()
    return fallback


def notebook_index(folder: str | os.PathLike | None = None) -> pd.DataFrame:
    """Table of contents of the numbered notebooks, built from the files themselves.

    Notebooks are found by the glob ``NN_*.ipynb`` (never a hand-kept list); the title is
    :func:`notebook_title` without its ``NN ·`` prefix.

    Returns
    -------
    DataFrame
        ``number`` (int), ``notebook`` (file name), ``title``, in number order.
    """
    import json
    import re

    root = Path(folder) if folder is not None else NOTEBOOKS_DIR
    rows = []
    for path in sorted(root.glob("[0-9][0-9]_*.ipynb")):
        title = notebook_title(json.loads(path.read_text(encoding="utf-8")), path.stem[3:].replace("_", " "))
        rows.append({"number": int(path.name[:2]), "notebook": path.name,
                     "title": re.sub(r"^\d+\s*[·:.-]\s*", "", title)})
    return pd.DataFrame(rows, columns=["number", "notebook", "title"])
