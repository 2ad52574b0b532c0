"""Where the kit's bundled files are: the numbered notebooks and the tiny and demo datasets.

The one place that knows. They are data of the package ``cjkit._bundle`` and are found
with importlib, the same way in a git checkout (the repository's own ``notebooks/`` and
``datasets/<name>/`` folders) and from an installed wheel (the copies the wheel carries);
see ``cjkit/_bundle/__init__.py`` and the packaging notes in pyproject.toml.

Light on purpose (no pandas): ``cjkit --help`` and every notebook kernel import it.

Examples
--------
>>> [p.name[:2] for p in notebook_paths()][:2]
['00', '01']
>>> dataset_client("tiny").relative_to(dataset_dir("tiny")).as_posix()
'client.yaml'
"""
from __future__ import annotations

import fnmatch
import glob
import importlib
import os
import shutil
from importlib import resources
from pathlib import Path

__all__ = ["NOTEBOOK_GLOB", "notebooks_dir", "notebook_paths", "notebooks_glob", "bundled_datasets",
           "dataset_dir", "dataset_client", "copy_notebooks", "solutions_dir", "exercises_dir"]

#: file names of the numbered notebooks (``00_start_here.ipynb``...), the kit's only list of them
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"

_NOTEBOOKS = "cjkit._bundle.notebooks"
_SOLUTIONS = "cjkit._bundle.solutions"
_EXERCISES = "cjkit._bundle.exercises"
_DATASETS = "cjkit._bundle.datasets"


def _folder(package: str) -> Path:
    """The folder of a bundled data package, as a plain path (papermill and glob need one).

    The data folders hold no ``__init__.py``: they are namespace packages, for which
    ``importlib.resources.files`` returns a MultiplexedPath over the folders on the
    package's ``__path__`` rather than a :class:`pathlib.Path`. The bundle has one.
    """
    try:
        found = resources.files(package)
    except ModuleNotFoundError:
        raise FileNotFoundError(f"cjkit's bundled files are missing ({package} not found): reinstall cjkit, "
                                "or work in a git checkout of it") from None
    if isinstance(found, Path):
        return found
    return next(Path(p) for p in importlib.import_module(package).__path__ if Path(p).is_dir())


def notebooks_dir() -> Path:
    """Folder of the numbered notebooks: the repository's ``notebooks/`` or the wheel's copy."""
    return _folder(_NOTEBOOKS)


def solutions_dir() -> Path:
    """Folder of the solution notebooks (the answer keys): ``$CJKIT_SOLUTIONS_DIR`` when set (a
    course's own), else the repository's ``solutions/`` or the wheel's copy."""
    if os.environ.get("CJKIT_SOLUTIONS_DIR"):
        return Path(os.environ["CJKIT_SOLUTIONS_DIR"])
    return _folder(_SOLUTIONS)


def exercises_dir() -> Path:
    """Folder of the exercise notebooks (built from the solutions): ``exercises/`` or the wheel's copy."""
    return _folder(_EXERCISES)


def notebook_paths(folder: Path | None = None) -> list[Path]:
    """The numbered notebooks (``NN_*.ipynb``) of ``folder`` (default: the lessons), in number order."""
    folder = folder if folder is not None else notebooks_dir()
    return sorted(p for p in folder.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, NOTEBOOK_GLOB))


def notebooks_glob() -> str:
    """Absolute glob of the numbered notebooks (``cjkit run``'s default ``--notebooks``)."""
    return os.path.join(glob.escape(str(notebooks_dir())), NOTEBOOK_GLOB)


def bundled_datasets() -> list[str]:
    """Names of the bundled datasets (folders with a ``client.yaml``), sorted.

    >>> {"demo", "tiny"} <= set(bundled_datasets())
    True
    """
    return sorted(p.name for p in _folder(_DATASETS).iterdir() if (p / "client.yaml").is_file())


def dataset_dir(name: str) -> Path:
    """Folder of the bundled dataset ``name`` (``demo`` or ``tiny``).

    Raises FileNotFoundError, naming the bundled datasets, for any other name.
    """
    if not name or name != Path(name).name or name.startswith("."):
        raise FileNotFoundError(f"{name!r} is not the name of a bundled dataset")
    folder = _folder(_DATASETS) / name
    if not (folder / "client.yaml").is_file():
        raise FileNotFoundError(f"no bundled dataset {name!r} (found: {bundled_datasets()}); a client of "
                                "your own is named by the path of its client.yaml")
    return folder


def dataset_client(name: str) -> Path:
    """The ``client.yaml`` of the bundled dataset ``name`` (what ``client="demo"`` means)."""
    return dataset_dir(name) / "client.yaml"


def copy_notebooks(target: str | os.PathLike, *, force: bool = False, exercises: bool = False) -> list[Path]:
    """Copy the numbered notebooks, byte for byte (as committed: no outputs), into ``target``.

    With ``exercises`` the exercise notebooks are copied instead (a student's work to do).

    The folder is created if needed. Nothing is written when a notebook of the same name
    is already there, unless ``force``: then FileExistsError names them.

    Returns
    -------
    list of Path
        The written files, in number order.
    """
    out = Path(target)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder")
    folder = exercises_dir() if exercises else notebooks_dir()
    sources = notebook_paths(folder)
    if not sources:
        raise FileNotFoundError(f"no notebooks {NOTEBOOK_GLOB} in {folder}")
    clash = [out / s.name for s in sources if (out / s.name).exists()]
    if clash and not force:
        more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
        raise FileExistsError(f"{clash[0]} exists{more}")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        shutil.copyfile(source, out / source.name)  # contents only: the copy is the student's, writable
        written.append(out / source.name)
    return written
