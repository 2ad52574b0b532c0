"""The wheel ships the numbered notebooks and the tiny and demo datasets, and the kit finds them.

The wheel is built once, from a copy of the working tree (the checkout gets no build/ or
egg-info folder), and read with zipfile. ``make wheel-check`` installs and runs it.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cjkit import resources
from cjkit.pipeline.cli import main
from cjkit.pipeline.notebook import NOTEBOOKS_DIR, resolve_client
from cjkit.pipeline.params import ParameterError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DATASETS = ("tiny", "demo")
BUNDLE = "cjkit/_bundle/"


def _dataset_files(name: str) -> list[Path]:
    return sorted(p for p in (ROOT / "datasets" / name).iterdir() if p.is_file())


def _skip(folder: str, names: list[str]) -> set[str]:
    """What the copy leaves out: the checkout's environments, caches and build output."""
    top = {".git", ".venv", "build", "reports", "tmp", ".ruff_cache"} if Path(folder) == ROOT else set()
    return {n for n in names if n in top or n == "__pycache__" or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> dict[str, bytes]:
    """Every file of the wheel built from this working tree: name -> bytes."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=_skip)
    # planted next to the real files: none of these may reach the wheel
    for folder in (src / "notebooks", src / "datasets" / "tiny"):
        (folder / ".ipynb_checkpoints").mkdir(exist_ok=True)
        (folder / ".ipynb_checkpoints" / "00_start_here-checkpoint.ipynb").write_text("{}")
    (src / "notebooks" / "scratch.ipynb").write_text("{}")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                            "-w", str(tmp / "dist"), str(src)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (path,) = (tmp / "dist").glob("cjkit-*.whl")
    with zipfile.ZipFile(path) as whl:
        return {name: whl.read(name) for name in whl.namelist()}


def test_the_wheel_ships_every_numbered_notebook_byte_for_byte(wheel):
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb in the checkout"
    shipped = sorted(n for n in wheel if n.startswith(BUNDLE + "notebooks/"))
    assert shipped == [f"{BUNDLE}notebooks/{p.name}" for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        assert wheel[f"{BUNDLE}notebooks/{path.name}"] == path.read_bytes(), path.name


@pytest.mark.parametrize("name", DATASETS)
def test_the_wheel_ships_the_bundled_datasets_byte_for_byte(wheel, name):
    files = _dataset_files(name)
    assert "client.yaml" in [p.name for p in files]
    shipped = sorted(n for n in wheel if n.startswith(f"{BUNDLE}datasets/{name}/"))
    assert shipped == [f"{BUNDLE}datasets/{name}/{p.name}" for p in files]
    for path in files:
        assert wheel[f"{BUNDLE}datasets/{name}/{path.name}"] == path.read_bytes(), path.name


def test_the_wheel_ships_the_catalogue_and_the_client_schema(wheel):
    """Moved here from test_catalog, which listed the source tree instead of the built package."""
    import json

    import yaml

    for path in sorted((ROOT / "cjkit" / "catalog").rglob("*.yaml")):
        assert wheel[path.relative_to(ROOT).as_posix()] == path.read_bytes(), path.name
    tactics = yaml.safe_load(wheel["cjkit/catalog/tactics.yaml"])
    assert len(tactics["tactics"]) == 33  # seed 000, counted by hand
    schema = json.loads(wheel["cjkit/contract/client.schema.json"])
    assert {"name", "timezone", "tables"} <= set(schema["properties"])


def test_the_wheel_holds_the_package_and_nothing_else(wheel):
    package = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "cjkit").rglob("*")
                     if p.suffix in (".py", ".yaml", ".j2", ".json") and "__pycache__" not in p.parts)
    assert set(package) <= set(wheel), sorted(set(package) - set(wheel))
    assert not [n for n in wheel if not n.startswith(("cjkit/", "cjkit-"))]
    assert not [n for n in wheel if "tests/" in n or ".ipynb_checkpoints" in n or "__pycache__" in n]
    shipped = sorted(f"{BUNDLE}{folder}/{p.name}" for folder in ("exercises", "notebooks", "solutions")
                     for p in (ROOT / folder).glob("[0-9][0-9]_*.ipynb"))
    assert sorted(n for n in wheel if n.endswith(".ipynb")) == shipped  # lessons, exercises and their keys
    assert not [n for n in wheel if n.startswith(BUNDLE + "datasets/") and n.split("/")[3] not in DATASETS]


def test_resources_are_the_checkouts_own_files():
    assert resources.notebooks_dir() == ROOT / "notebooks" == NOTEBOOKS_DIR
    assert resources.notebook_paths() == NOTEBOOKS
    assert resources.notebooks_glob() == str(ROOT / "notebooks" / "[0-9][0-9]_*.ipynb")
    assert resources.bundled_datasets() == ["demo", "tiny"]
    for name in DATASETS:
        assert resources.dataset_client(name) == ROOT / "datasets" / name / "client.yaml"
        assert resolve_client(name, base="/") == ROOT / "datasets" / name / "client.yaml"


def test_the_runner_defaults_to_the_bundled_notebooks_from_any_folder(tmp_path, monkeypatch):
    from cjkit.pipeline.cli import build_parser
    from cjkit.pipeline.run import DEFAULT_GLOB, discover_notebooks, find_clients

    monkeypatch.chdir(tmp_path)
    assert discover_notebooks(DEFAULT_GLOB) == NOTEBOOKS
    assert build_parser().parse_args(["run", "--client", "tiny"]).notebooks == DEFAULT_GLOB
    assert [s.path for s in find_clients(["tiny", "demo"])] == [ROOT / "datasets" / n / "client.yaml" for n in DATASETS]


@pytest.mark.parametrize("name", ["nope", "../datasets/tiny", "", ".hidden"])
def test_an_unknown_dataset_name_is_an_error(name):
    with pytest.raises(FileNotFoundError, match="bundled dataset"):
        resources.dataset_client(name)


def test_an_unknown_bare_client_name_is_a_parameter_error():
    with pytest.raises(ParameterError, match="client file not found: 'nope'"):
        resolve_client("nope", base=ROOT)


def test_the_parser_imports_no_pandas():
    code = "import sys; from cjkit.pipeline.cli import build_parser; build_parser(); print(sorted(" \
           "m for m in ('pandas', 'nbformat', 'papermill') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_notebooks_copy_writes_the_numbered_notebooks_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "mine"
    assert main(["notebooks", "copy", str(target)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sorted(target.iterdir()) == [target / p.name for p in NOTEBOOKS]
    for path in NOTEBOOKS:
        assert (target / path.name).read_bytes() == path.read_bytes()
    assert out[:len(NOTEBOOKS) + 1] == [f"wrote {target / p.name}" for p in NOTEBOOKS] + [
        f"open them with: jupyter lab {shlex.quote(str(target))}"]

    edited = target / NOTEBOOKS[0].name
    edited.write_text("a student's work")
    assert main(["notebooks", "copy", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    more = f" (and {len(NOTEBOOKS) - 1} more)" if len(NOTEBOOKS) > 1 else ""
    assert captured.err == (f"cjkit notebooks: error: {edited} exists{more}; nothing copied. "
                            "Pass --force to overwrite, or choose another folder\n")
    assert edited.read_text() == "a student's work"

    assert main(["notebooks", "copy", str(target), "--force"]) == 0
    assert edited.read_bytes() == NOTEBOOKS[0].read_bytes()
    assert sorted(target.iterdir()) == [target / p.name for p in NOTEBOOKS]


def test_notebooks_copy_onto_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "mine"
    target.write_text("not a folder")
    assert main(["notebooks", "copy", str(target)]) == 2
    assert capsys.readouterr().err.startswith(f"cjkit notebooks: error: {target} exists and is not a folder")
