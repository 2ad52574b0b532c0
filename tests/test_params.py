"""Parameters: the typed parameters cell, CLI value parsing, papermill's help, and the
checks `cjkit.pipeline.notebook.start` makes inside a real kernel."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cjkit.pipeline.params import (ParameterError, check_parameters, notebook_parameters, parse_cli_value,
                          parse_parameters_source, parse_type)
from conftest import write_client

CELL = '''# Parameters (cjkit)
client: str = "demo"  # client YAML file
start: "Optional[str]" = None  # first day of the window, YYYY-MM-DD
top_n: int = 10  # how many rows
share: float = 0.5  # a fraction
strict: bool = False  # stop on warnings
channels: list[str] = ["email", "search"]  # channels to keep
'''


def test_parameters_cell_is_read_with_types_defaults_and_help():
    table = parse_parameters_source(CELL)
    assert list(table["name"]) == ["client", "start", "top_n", "share", "strict", "channels"]
    assert [str(t) for t in table["type"]] == ["str", "Optional[str]", "int", "float", "bool", "list[str]"]
    assert list(table["default"]) == ["demo", None, 10, 0.5, False, ["email", "search"]]
    assert table["help"].iloc[1] == "first day of the window, YYYY-MM-DD"


@pytest.mark.parametrize("source, message", [
    ('client: str = "x"', "must start with the line '# Parameters (cjkit)'"),
    ('# Parameters (cjkit)\nimport os', "line 2 of the parameters cell is not a typed declaration"),
    ('# Parameters (cjkit)\nn = 3', "line 2 of the parameters cell is not a typed declaration"),
    ('# Parameters (cjkit)\nn: int = "3"', "parameter 'n': default '3' is not of type int"),
    ('# Parameters (cjkit)\nd: dict = {}', "unsupported parameter type 'dict'"),
    ('# Parameters (cjkit)\nn: int = len("ab")', "parameter 'n': the default must be a literal value"),
])
def test_bad_parameters_cells_are_rejected(source, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        parse_parameters_source(source)


def test_type_annotations():
    assert str(parse_type("int | None")) == "Optional[int]"
    assert parse_type("Optional[float]").check(3) and not parse_type("float").check(True)
    assert not parse_type("int").check(2.0)
    assert parse_type("list[int]").check([1, 2]) and not parse_type("list[int]").check((1, 2))


def _nb(source: str, *, tags=("parameters",)) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)})])


def test_notebook_parameters_of_fixture(fixture_notebooks):
    table = notebook_parameters(fixture_notebooks / "01_orders_summary.ipynb")
    got = table.assign(type=table["type"].map(str))
    expected = pd.DataFrame({
        "name": ["client", "start", "end", "top_n", "channels"],
        "type": ["str", "Optional[str]", "Optional[str]", "int", "Optional[list[str]]"],
        "default": ["../../../datasets/tiny/client.yaml", None, None, 2, None],
        "help": ["client YAML file", "first day of the window, YYYY-MM-DD", "last day of the window, YYYY-MM-DD",
                 "customers in the top table", "channels to keep"]})
    pd.testing.assert_frame_equal(got, expected)


def test_notebook_parameters_rejects_what_papermill_cannot_read():
    with pytest.raises(ParameterError, match=r"papermill --help-notebook cannot read the declaration of start"):
        notebook_parameters(_nb('# Parameters (cjkit)\nstart: str | None = None  # first day'))
    with pytest.raises(ParameterError, match="expected exactly one cell tagged 'parameters', found 0"):
        notebook_parameters(_nb('# Parameters (cjkit)\nn: int = 1', tags=()))


def test_papermill_help_notebook_lists_parameters_with_help(fixture_notebooks):
    papermill = Path(sys.executable).with_name("papermill")
    out = subprocess.run([str(papermill), "--help-notebook", str(fixture_notebooks / "01_orders_summary.ipynb")],
                         capture_output=True, text=True, check=True).stdout
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "start: Optional[str] (default None)" in lines
    assert "first day of the window, YYYY-MM-DD" in lines
    assert "top_n: int (default 2) customers in the top table" in lines
    assert "channels: Optional[list[str]] (default None)" in lines


@pytest.mark.parametrize("text, ptype, value", [
    ("2024-01-01", None, "2024-01-01"), ("3", None, 3), ("2.5", None, 2.5), ("True", None, True),
    ("None", None, None), ("3", "str", "3"), ("3", "float", 3.0), ("no", "bool", False),
    ("ON", "bool", True), ("None", "Optional[int]", None), ("7", "Optional[int]", 7),
    ("email, search", "list[str]", ["email", "search"]), ('["a,b", "c"]', "list[str]", ["a,b", "c"]),
    ("[1, 2]", "list[int]", [1, 2]), ("", "list[str]", []),
])
def test_parse_cli_value(text, ptype, value):
    got = parse_cli_value(text, ptype)
    assert got == value and type(got) is type(value)


def test_parse_cli_value_errors_name_the_type():
    with pytest.raises(ParameterError, match=r"cannot read 'ten' as int"):
        parse_cli_value("ten", "int")
    with pytest.raises(ParameterError, match=r"cannot read 'maybe' as bool \(expected true or false\)"):
        parse_cli_value("maybe", "bool")


def test_check_parameters_unknown_and_wrong_type():
    declared = parse_parameters_source(CELL)
    with pytest.raises(ParameterError) as info:
        check_parameters(declared, {"top": 3, "clinet": "x"})
    text = str(info.value)
    assert text.startswith("unknown parameters 'top' (did you mean 'top_n'?), 'clinet' (did you mean 'client'?)")
    assert "  top_n: int = 10  # how many rows" in text
    with pytest.raises(ParameterError, match=r"parameter 'share' expects float, got str '0.5'"):
        check_parameters(declared, {"share": "0.5"})
    with pytest.raises(ParameterError, match=r"expects str, got int 2024 \(papermill -p reads numbers"):
        check_parameters(declared, {"client": 2024})
    assert check_parameters(declared, {"share": 1, "start": None}) == {"share": 1, "start": None}


# -- inside a real kernel (papermill) ------------------------------------------------

def _run(nb_path: Path, out: Path, **parameters):
    import papermill as pm

    return pm.execute_notebook(str(nb_path), str(out), parameters=parameters, progress_bar=False,
                               kernel_name="python3", cwd=str(nb_path.parent))


def _failure(nb_path, out, **parameters) -> tuple[str, nbformat.NotebookNode]:
    from papermill.exceptions import PapermillExecutionError

    with pytest.raises(PapermillExecutionError) as info:
        _run(nb_path, out, **parameters)
    return str(info.value), nbformat.read(str(out), as_version=4)


def _error_output(nb: nbformat.NotebookNode) -> dict:
    return next(o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error")


@pytest.mark.notebook
def test_kernel_rejects_unknown_name_with_closest_and_short_traceback(tmp_path, acme_client, fixture_notebooks):
    message, nb = _failure(fixture_notebooks / "01_orders_summary.ipynb", tmp_path / "o.ipynb",
                           client=str(acme_client), clinet="x.yaml")
    assert "ParameterError" in message
    assert "unknown parameter 'clinet' (did you mean 'client'?)" in message
    assert "top_n: int = 2  # customers in the top table" in message
    error = _error_output(nb)
    assert error["ename"] == "ParameterError"
    assert len(error["traceback"]) == 1  # just the message, not a wall of traceback


@pytest.mark.notebook
def test_kernel_rejects_wrong_type_missing_file_and_empty_window(tmp_path, acme_client, fixture_notebooks):
    nb = fixture_notebooks / "01_orders_summary.ipynb"
    message, _ = _failure(nb, tmp_path / "a.ipynb", client=str(acme_client), top_n="ten")
    assert "parameter 'top_n' expects int, got str 'ten'" in message
    message, _ = _failure(nb, tmp_path / "b.ipynb", client=str(tmp_path / "nowhere.yaml"))
    assert f"client file not found: '{tmp_path / 'nowhere.yaml'}'" in message
    message, _ = _failure(nb, tmp_path / "c.ipynb", client=str(acme_client), start="2030-01-01", end="2030-12-31")
    assert "no data in the window 2030-01-01 to 2030-12-31" in message
    assert "orders: none of its 4 rows falls in the analysis window" in message
    assert "the data runs from 2024-01-05 to 2024-03-01" in message
    message, _ = _failure(nb, tmp_path / "d.ipynb", client=str(acme_client), start="2024-13-45")
    assert "parameter 'start': '2024-13-45' is not a date; write YYYY-MM-DD" in message


@pytest.mark.notebook
def test_relative_client_resolves_against_notebook_folder_and_end_is_inclusive(tmp_path, fixture_notebooks):
    folder = tmp_path / "nbs"
    folder.mkdir()
    nb = Path(shutil.copy(fixture_notebooks / "01_orders_summary.ipynb", folder))
    write_client(folder / "data" / "acme")
    out = tmp_path / "out.ipynb"
    _run(nb, out, client="data/acme/client.yaml", start="2024-01-01", end="2024-01-20")
    from cjkit.pipeline.records import read_records

    values = read_records(out).set_index("name")["value"]
    assert values["n_orders"] == 2  # o1 (01-05) and o3 (01-20: the end day is included)
    assert values["revenue"] == 40.5


def test_bare_name_resolves_to_a_bundled_dataset(tmp_path, tiny_client):
    from cjkit.pipeline.notebook import resolve_client

    assert resolve_client("tiny", base=tmp_path) == tiny_client.resolve()
    assert resolve_client(tiny_client.parent, base=tmp_path) == tiny_client.resolve()  # a client folder
    with pytest.raises(ParameterError, match="client file not found: 'nosuchdataset'"):
        resolve_client("nosuchdataset", base=tmp_path)


@pytest.mark.notebook
def test_default_client_of_the_parameters_cell_runs_on_tiny(tmp_path, tiny_client, fixture_notebooks):
    import json

    from cjkit.pipeline.records import read_records

    out = tmp_path / "out.ipynb"
    _run(fixture_notebooks / "01_orders_summary.ipynb", out)  # no parameters: the defaults, offline
    values = read_records(out).set_index("name")["value"]
    # expected values from the file itself and the generator's planted counts, not from the loader
    orders = pd.read_csv(tiny_client.parent / "orders.csv")
    planted = json.loads((tiny_client.parent / "ground_truth.json").read_text())["counts"]
    assert values["n_orders"] == len(orders) == planted["order_rows"] == 540
    assert values["revenue"] == pytest.approx(float(orders["amount"].sum()))


# -- the same checks in plain Python (no kernel): start() reads the `In` history it is given

def test_start_in_plain_python(acme_client, orders_only_client):
    from cjkit.contract.load import TableUnavailable
    from cjkit.pipeline.notebook import start

    data = start({"client": str(acme_client), "start": "2024-01-01", "end": "2024-01-20"}, needs=("orders",))
    assert data.name == "acme" and sorted(data.orders["order_id"]) == ["o1", "o3"]
    with pytest.raises(TableUnavailable, match="not available for this client: needs the events table"):
        start({"client": str(orders_only_client)}, needs=("events",))
    history = ["", CELL, '# Parameters\nclient = "x.yaml"\ntopn = 3\n']
    with pytest.raises(ParameterError, match=r"unknown parameter 'topn' \(did you mean 'top_n'\?\)"):
        start({"In": history, "client": str(acme_client), "topn": 3})
    with pytest.raises(ParameterError, match=r"parameter 'top_n' expects int, got float 2.5"):
        start({"In": history[:2], "client": str(acme_client), "top_n": 2.5})
    with pytest.raises(ParameterError, match="the window is empty: start 2024-02-01 is after end 2024-01-01"):
        start({"client": str(acme_client), "start": "2024-02-01", "end": "2024-01-01"})


@pytest.mark.notebook
def test_client_data_errors_stop_the_notebook_with_a_short_message(tmp_path, fixture_notebooks):
    bad = write_client(tmp_path / "bad", name="bad", tables=("orders",),
                       orders="customer_id,order_id,ordered_at,ammount\nc1,o1,2024-01-05,10\n")
    message, nb = _failure(fixture_notebooks / "01_orders_summary.ipynb", tmp_path / "o.ipynb", client=str(bad))
    assert "required column 'amount' is missing; closest column in orders.csv is 'ammount'" in message
    error = _error_output(nb)
    assert error["ename"] == "ClientDataError" and len(error["traceback"]) == 1
