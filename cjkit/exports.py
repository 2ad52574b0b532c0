"""Lists an analyst hands on: formula-safe CSV files under the report's ``exports/`` folder.

A notebook that produces a list someone acts on (customer scores for a CRM, detractors to
call back, promoters to invite) writes it with :func:`export_csv`. Under ``cjkit run`` the
file lands in the client's report folder, ``<report>/exports/<name>``: the runner tells the
kernel where (environment variable ``CJKIT_EXPORTS_DIR``) before each notebook. Run by hand,
the file goes to ``exports/`` in the working folder, or to ``folder=`` when given.

Client text reaches these files (names, comments, campaign labels). A spreadsheet runs a
cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as a formula
(CSV injection, OWASP), so such *text* cells get a leading apostrophe, which spreadsheets
show as text and never run. Numbers stay numbers: a negative amount is written ``-12.5``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["export_csv", "formula_safe", "exports_dir", "EXPORTS_ENV"]

#: environment variable naming the folder exports go to (set by ``cjkit run`` per client)
EXPORTS_ENV = "CJKIT_EXPORTS_DIR"
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Text starting with ``= + - @``, a tab or a carriage return gets a leading ``'``;
    numeric, boolean and date columns are left as they are. Column names are text too.

    Examples
    --------
    >>> f = pd.DataFrame({"name": ["=HYPERLINK(\\"x\\")", "Ana", "-2+3"], "amount": [-1.5, 2.0, 3.0]})
    >>> safe = formula_safe(f)
    >>> safe["name"].tolist(), safe["amount"].tolist()
    (['\\'=HYPERLINK("x")', 'Ana', "'-2+3"], [-1.5, 2.0, 3.0])
    >>> f["name"].iloc[0]  # the input is not modified
    '=HYPERLINK("x")'
    """
    out = frame.copy()
    out.columns = [_safe_text(c) if isinstance(c, str) else c for c in out.columns]
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_string_dtype(column) or column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
            out[name] = column.map(lambda v: _safe_text(v) if isinstance(v, str) else v, na_action="ignore")
    return out


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_TRIGGERS) else value


def exports_dir(folder: str | os.PathLike | None = None) -> Path:
    """Where exports go: ``folder``, else ``$CJKIT_EXPORTS_DIR``, else ``./exports``."""
    if folder is not None:
        return Path(folder)
    return Path(os.environ.get(EXPORTS_ENV) or "exports")


def export_csv(frame: pd.DataFrame, name: str, *, folder: str | os.PathLike | None = None,
               announce: bool = True) -> Path:
    """Write ``frame`` as a formula-safe UTF-8 CSV named ``name`` in the exports folder.

    The index is not written (put identifiers in columns). Floats are written with full
    precision, so the file gives the same numbers as the notebook. With ``announce`` a
    notebook shows one line saying what was written and where.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> path = export_csv(pd.DataFrame({"customer_id": ["C1", "@C2"], "clv": [10.5, 0.0]}), "scores.csv",
    ...                   folder=folder, announce=False)
    >>> print(path.read_text(), end="")
    customer_id,clv
    C1,10.5
    '@C2,0.0
    """
    if Path(name).name != name or not name.endswith(".csv"):
        raise ValueError(f"export name must be a plain file name ending in .csv, got {name!r}")
    target = exports_dir(folder)
    target.mkdir(parents=True, exist_ok=True)
    path = target / name
    formula_safe(frame).to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    if announce:
        _announce(path, len(frame))
    return path


def _announce(path: Path, rows: int) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # plain Python: nothing to show
        return
    if get_ipython() is None:
        return
    where = f"exports/{path.name}" if path.parent.name == "exports" else str(path)
    display(Markdown(f"Exported {rows:,} rows to `{where}` (formula-safe CSV)."))
