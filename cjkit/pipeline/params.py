"""What a notebook declares, read without a kernel: its parameters and the tables it needs.

Every notebook has exactly one code cell tagged ``parameters``. It starts with the
marker line ``# Parameters (cjkit)`` and holds only typed, commented declarations::

    # Parameters (cjkit)
    client: str = "demo"  # client YAML file, or a bundled dataset (demo, tiny)
    start: "Optional[str]" = None  # first day of the window, YYYY-MM-DD
    top_n: int = 10  # how many campaigns to show

The same text is read three ways: by :func:`notebook_parameters` (CLI pre-checks,
before any kernel starts), by ``papermill --help-notebook`` (which reads
``name: type = default  # help`` lines) and in the kernel by
:func:`cjkit.pipeline.notebook.start`. Supported types: ``str``, ``int``, ``float``, ``bool``,
``list[str]`` / ``list[int]`` / ``list[float]``, each optionally ``Optional[...]``.
Write optional types as the quoted string ``"Optional[str]"``: papermill's reader
cannot parse ``str | None`` and would silently leave that parameter out of its help.

The tables a notebook needs are declared once, in its start cell, as a literal::

    data = cjkit.notebook.start(globals(), needs=("events", "orders"))

:func:`notebook_needs` reads that literal from the file, so ``cjkit run`` decides whether a
client can run the notebook before any kernel starts; in a kernel, ``start()`` uses the
same argument.
"""
from __future__ import annotations

import ast
import io
import json
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from collections.abc import Mapping

import pandas as pd

from cjkit.contract.report import closest

if TYPE_CHECKING:  # nbformat costs ~1 s to import: only the file readers load it
    import nbformat

__all__ = [
    "MARKER", "ParameterError", "ParamType", "parse_type", "parse_parameters_source",
    "notebook_parameters", "notebook_needs", "parse_cli_value", "check_value", "check_parameters",
]

#: First line of every parameters cell.
MARKER = "# Parameters (cjkit)"
_BASES = {"str": str, "int": int, "float": float, "bool": bool}


class ParameterError(ValueError):
    """A notebook parameter is unknown, of the wrong type or points at nothing.

    In a notebook, IPython shows only the message (no traceback wall), but the cell
    still fails, so papermill and ``cjkit run`` stop the notebook.
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


@dataclass(frozen=True)
class ParamType:
    """A parameter type: ``base`` (str, int, float, bool, list) plus ``item`` and ``optional``.

    Examples
    --------
    >>> parse_type("Optional[int]").check(None)
    True
    >>> parse_type("list[str]").check(["a", 1])
    False
    """

    base: str
    item: str | None = None
    optional: bool = False

    def __str__(self) -> str:
        text = f"list[{self.item}]" if self.base == "list" else self.base
        return f"Optional[{text}]" if self.optional and self.base != "None" else text

    def check(self, value: Any) -> bool:
        """True when ``value`` is of this type (int is accepted for float, bool is not)."""
        if value is None:
            return self.optional or self.base == "None"
        if self.base == "list":
            return isinstance(value, list) and all(_scalar_ok(self.item, v) for v in value)
        return _scalar_ok(self.base, value)


def _scalar_ok(base: str | None, value: Any) -> bool:
    if base == "None":
        return value is None
    if base == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _BASES[base]) if base in _BASES else False


def parse_type(annotation: str | ast.expr) -> ParamType:
    """Parse an annotation (source text or AST) into a :class:`ParamType`.

    Examples
    --------
    >>> str(parse_type("str | None")), str(parse_type("'Optional[list[str]]'"))
    ('Optional[str]', 'Optional[list[str]]')
    """
    node = ast.parse(annotation.strip(), mode="eval").body if isinstance(annotation, str) else annotation
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return parse_type(node.value)
    if isinstance(node, ast.Constant) and node.value is None:
        return ParamType("None", optional=True)
    if isinstance(node, ast.Name) and node.id in _BASES:
        return ParamType(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [parse_type(node.left), parse_type(node.right)]
        rest = [p for p in parts if p.base != "None"]
        if len(rest) == 1:
            return ParamType(rest[0].base, rest[0].item, optional=True)
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        inner = parse_type(node.slice)
        if node.value.id == "Optional" and inner.base != "None":
            return ParamType(inner.base, inner.item, optional=True)
        if node.value.id in ("list", "List") and inner.base in ("str", "int", "float") and not inner.optional:
            return ParamType("list", item=inner.base)
    raise ParameterError(
        f"unsupported parameter type {ast.unparse(node)!r}: use str, int, float, bool or "
        "list[str] / list[int] / list[float], optionally as \"Optional[...]\""
    )


def _comments_by_line(source: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string.lstrip("#").strip()
    return out


def parse_parameters_source(source: str) -> pd.DataFrame:
    """Declarations of a parameters cell -> DataFrame[name, type, default, help].

    ``type`` holds :class:`ParamType` objects and ``default`` the Python values.

    Examples
    --------
    >>> src = '# Parameters (cjkit)\\nclient: str = "demo"  # client YAML file\\nn: int = 3  # rows'
    >>> parse_parameters_source(src)[["name", "default", "help"]].values.tolist()
    [['client', 'demo', 'client YAML file'], ['n', 3, 'rows']]
    """
    if not source.lstrip().startswith(MARKER):
        raise ParameterError(f"the parameters cell must start with the line {MARKER!r}")
    try:
        tree = ast.parse(source)
        comments = _comments_by_line(source)
    except (SyntaxError, tokenize.TokenError) as exc:
        raise ParameterError(f"the parameters cell is not valid Python: {exc}") from None
    rows = []
    for stmt in tree.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value):
            raise ParameterError(
                f"line {stmt.lineno} of the parameters cell is not a typed declaration "
                "like `name: int = 3  # help`; keep any other code out of this cell"
            )
        name = stmt.target.id
        try:
            default = ast.literal_eval(stmt.value)
        except ValueError:
            raise ParameterError(f"parameter {name!r}: the default must be a literal value") from None
        ptype = parse_type(stmt.annotation)
        if not ptype.check(default):
            raise ParameterError(f"parameter {name!r}: default {default!r} is not of type {ptype}")
        rows.append({"name": name, "type": ptype, "default": default,
                     "help": comments.get(stmt.end_lineno, "")})
    return pd.DataFrame(rows, columns=["name", "type", "default", "help"])


def _parameters_cell(nb: nbformat.NotebookNode, where: str) -> str:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{where}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    if cells[0].cell_type != "code":
        raise ParameterError(f"{where}: the cell tagged 'parameters' must be a code cell")
    return cells[0].source


def notebook_parameters(path: str | Path | nbformat.NotebookNode) -> pd.DataFrame:
    """The declared parameters of a notebook: DataFrame[name, type, default, help].

    Also checks that papermill's own reader (``papermill --help-notebook``) sees every
    declaration, so the two never disagree.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     '# Parameters (cjkit)\\nstart: "Optional[str]" = None  # first day',
    ...     metadata={"tags": ["parameters"]})])
    >>> notebook_parameters(nb).assign(type=lambda d: d["type"].map(str)).values.tolist()
    [['start', 'Optional[str]', None, 'first day']]
    """
    import nbformat

    if isinstance(path, nbformat.NotebookNode):
        nb, where = path, "notebook"
    else:
        nb, where = nbformat.read(str(path), as_version=4), Path(path).name
    source = _parameters_cell(nb, where)
    try:
        table = parse_parameters_source(source)
    except ParameterError as exc:
        raise ParameterError(f"{where}: {exc}") from None
    from papermill.translators import PythonTranslator

    seen = {p.name for p in PythonTranslator.inspect(nbformat.v4.new_code_cell(source))}
    unseen = [n for n in table["name"] if n not in seen]
    if unseen:
        raise ParameterError(
            f"{where}: papermill --help-notebook cannot read the declaration of {', '.join(unseen)}; "
            "write each on one line as `name: type = default  # help`, with optional types "
            "quoted as \"Optional[str]\" (papermill does not understand `str | None`)"
        )
    return table


def _start_calls(source: str) -> list[ast.Call]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call)
            and ((isinstance(node.func, ast.Attribute) and node.func.attr == "start")
                 or (isinstance(node.func, ast.Name) and node.func.id == "start"))
            and node.args and isinstance(node.args[0], ast.Call)
            and isinstance(node.args[0].func, ast.Name) and node.args[0].func.id == "globals"]


def notebook_needs(path: str | Path | nbformat.NotebookNode) -> tuple[str, ...]:
    """The tables a notebook needs: the literal ``needs=`` of its ``start(globals(), ...)`` call.

    A notebook without a start call, or whose call has no ``needs``, needs no table. A need
    written ``"events|paths"`` is met by either table.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
    ...     'import cjkit\\n\\ndata = cjkit.notebook.start(globals(), needs=("events", "orders"))')])
    >>> notebook_needs(nb)
    ('events', 'orders')
    >>> nb.cells[0].source = 'data = cjkit.notebook.start(globals(), needs=("events|paths",))'
    >>> notebook_needs(nb)
    ('events|paths',)
    >>> nb.cells[0].source = "data = cjkit.notebook.start(globals(), needs=my_tables)"
    >>> notebook_needs(nb)
    Traceback (most recent call last):
    ...
    cjkit.pipeline.params.ParameterError: notebook: write needs= as a literal tuple of table names, e.g. needs=("events", "orders"), so that cjkit run can read it without a kernel
    """
    import nbformat

    from cjkit.contract.report import did_you_mean
    from cjkit.contract.schemas import TABLES

    if isinstance(path, nbformat.NotebookNode):
        nb, where = path, "notebook"
    else:
        nb, where = nbformat.read(str(path), as_version=4), Path(path).name
    calls = [call for cell in nb.cells if cell.cell_type == "code" for call in _start_calls(cell.source)]
    if len(calls) > 1:
        raise ParameterError(f"{where}: cjkit.notebook.start(globals(), ...) is called {len(calls)} times; "
                             "call it once, in the cell after the parameters")
    keyword = next((k for k in calls[0].keywords if k.arg == "needs"), None) if calls else None
    if keyword is None:
        return ()
    try:
        needs = ast.literal_eval(keyword.value)
    except ValueError:
        needs = None
    if isinstance(needs, str):
        needs = (needs,)
    if not isinstance(needs, (tuple, list)) or not all(isinstance(t, str) for t in needs):
        raise ParameterError(f"{where}: write needs= as a literal tuple of table names, e.g. "
                             'needs=("events", "orders"), so that cjkit run can read it without a kernel')
    unknown = [t for need in needs for t in need.split("|") if t not in TABLES]
    if unknown:
        raise ParameterError(f"{where}: needs= names an unknown table {unknown[0]!r}"
                             f"{did_you_mean(unknown[0], TABLES)}; tables are {', '.join(TABLES)}")
    return tuple(needs)


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _parse_scalar(text: str, base: str) -> Any:
    if base == "str":
        return text
    if base == "bool":
        if text.strip().lower() in _TRUE | _FALSE:
            return text.strip().lower() in _TRUE
        raise ValueError("expected true or false")
    return _BASES[base](text.strip())


def parse_cli_value(text: str, ptype: ParamType | str | None = None) -> Any:
    """Parse the text of a ``-p name=value`` option into a Python value.

    With a declared type the text is converted to it (lists: ``a,b`` or ``["a", "b"]``;
    ``None`` or an empty text give None for optional types). Without one, the value is
    guessed like papermill does: int, float, bool, None, else the text itself.

    Examples
    --------
    >>> parse_cli_value("2024-01-01"), parse_cli_value("3"), parse_cli_value("0.5")
    ('2024-01-01', 3, 0.5)
    >>> parse_cli_value("email,search", "list[str]"), parse_cli_value("", "Optional[str]")
    (['email', 'search'], None)
    >>> parse_cli_value("yes", "bool"), parse_cli_value("7", "str")
    (True, '7')
    """
    if ptype is None:
        for caster in (int, float):
            try:
                return caster(text)
            except ValueError:
                pass
        return {"True": True, "False": False, "None": None}.get(text, text)
    ptype = parse_type(ptype) if isinstance(ptype, str) else ptype
    if ptype.optional and text.strip() in ("", "None", "none", "null"):
        return None
    try:
        if ptype.base == "list":
            stripped = text.strip()
            if stripped.startswith("["):
                items = json.loads(stripped) if '"' in stripped or not stripped[1:-1].strip() \
                    else ast.literal_eval(stripped)
                items = [str(i) if ptype.item == "str" else i for i in items]
            else:
                items = [p.strip() for p in stripped.split(",") if p.strip()]
            return [_parse_scalar(str(i), ptype.item or "str") for i in items]
        return _parse_scalar(text, ptype.base)
    except (ValueError, SyntaxError) as exc:
        raise ParameterError(f"cannot read {text!r} as {ptype} ({exc})") from None


def _describe(declared: pd.DataFrame) -> str:
    lines = [f"  {r.name}: {r.type} = {r.default!r}" + (f"  # {r.help}" if r.help else "")
             for r in declared.itertuples()]
    return "valid parameters:\n" + "\n".join(lines)


def check_value(name: str, value: Any, ptype: ParamType, *, where: str = "") -> Any:
    """Return ``value`` if it matches ``ptype``, else raise :class:`ParameterError`.

    Examples
    --------
    >>> check_value("top_n", "ten", parse_type("int"))
    Traceback (most recent call last):
    ...
    cjkit.pipeline.params.ParameterError: parameter 'top_n' expects int, got str 'ten'
    """
    if ptype.check(value):
        return value
    hint = ""
    if ptype.base == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        hint = " (papermill -p reads numbers as numbers: pass text with -r name value)"
    raise ParameterError(
        f"{where}parameter {name!r} expects {ptype}, got {type(value).__name__} {value!r}{hint}"
    )


def check_parameters(declared: pd.DataFrame, given: Mapping[str, Any], *, where: str = "") -> dict[str, Any]:
    """Check names and types of ``given`` against ``declared``; returns ``given`` as a dict.

    Unknown names raise :class:`ParameterError` with the closest declared name and the
    list of valid parameters with their help text.

    Examples
    --------
    >>> declared = parse_parameters_source('# Parameters (cjkit)\\nclient: str = "demo"  # client YAML')
    >>> check_parameters(declared, {"clinet": "x.yaml"})
    Traceback (most recent call last):
    ...
    cjkit.pipeline.params.ParameterError: unknown parameter 'clinet' (did you mean 'client'?)
    valid parameters:
      client: str = 'demo'  # client YAML
    """
    names = list(declared["name"])
    unknown = [n for n in given if n not in names]
    if unknown:
        parts = []
        for n in unknown:
            close = closest(n, names, cutoff=0.5)
            parts.append(f"{n!r}" + (f" (did you mean {close!r}?)" if close else ""))
        label = "parameter" if len(unknown) == 1 else "parameters"
        raise ParameterError(f"{where}unknown {label} {', '.join(parts)}\n{_describe(declared)}")
    types = dict(zip(declared["name"], declared["type"]))
    return {n: check_value(n, v, types[n], where=where) for n, v in given.items()}

