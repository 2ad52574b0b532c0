"""The ``cjkit`` command: run, validate, init-client, render, records.

Exit codes: 0 all good; 1 something failed (a notebook, or data errors for
``validate``); 2 a usage error found before any kernel starts (unknown or mistyped
parameter, missing file).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from collections.abc import Sequence

__all__ = ["main", "build_parser"]


class UsageError(Exception):
    """A problem with the command line itself (exit code 2)."""


def _params(items: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-p expects name=value, got {item!r}")
        out[name.strip()] = value
    return out


def _cmd_run(args: argparse.Namespace) -> int:
    from .run import run_suite

    result = run_suite(args.client, notebooks_glob=args.notebooks, out_dir=args.out, params=_params(args.param),
                       jobs=args.jobs, mode=args.mode, progress=not args.quiet, cache=not args.no_cache,
                       fresh_kernels=args.fresh_kernels, timeout=args.timeout)
    for res in result.results:
        if res.status != "ok":
            where = f" at cell {res.cell}" if res.cell is not None else ""
            print(f"{res.client}/{res.notebook}: {res.status}{where}: {res.error}", file=sys.stderr)
    for name, folder in result.out_dirs.items():
        print(f"{name}: {folder / 'index.html'}")
    if len(result.out_dirs) > 1:
        print(f"all clients: {result.out_root / 'index.html'}")
    failed = sum(r.status == "failed" for r in result.results)
    if failed:
        print(f"{failed} of {len(result.results)} notebooks failed", file=sys.stderr)
    return 1 if failed else 0


def _cmd_validate(args: argparse.Namespace) -> int:
    path = Path(args.client)
    if not path.is_file():
        raise FileNotFoundError(f"client file not found: {path}")
    from cjkit.contract.load import validate_client

    report = validate_client(path, cache=not args.no_cache)
    print(str(report))
    return 0 if report.ok else 1


def _cmd_init(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} exists; pass --force to overwrite it")
    files = [Path(f) for f in args.files]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"file not found: {', '.join(missing)}")
    from cjkit.contract.draft import draft_client_yaml

    text = draft_client_yaml(files, out=out, name=args.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}: review every line marked GUESS, then run: cjkit validate --client {out}")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from .render import write_html

    path = Path(args.notebook)
    if not path.is_file():
        raise FileNotFoundError(f"notebook not found: {path}")
    print(write_html(path, args.out, mode=args.mode))
    return 0


def _cmd_records(args: argparse.Namespace) -> int:
    import json

    import pandas as pd

    from .records import format_value, read_records
    from .results import flat_records, record_rows

    table = read_records(args.notebook)
    rows = record_rows(table)
    if args.format == "json":
        print(json.dumps(rows, indent=2, ensure_ascii=False, default=str))
    elif args.format == "csv":
        flat_records(rows).to_csv(sys.stdout, index=False)
    else:
        shown = table.drop(columns="estimate").assign(
            value=[format_value(v, k, u, e) if k in ("table", "estimate") else v
                   for v, k, u, e in zip(table["value"], table["kind"], table["unit"], table["estimate"])])
        with pd.option_context("display.max_rows", None, "display.max_colwidth", 60, "display.width", 200):
            print(shown.to_string(index=False) if len(shown) else "no records")
    return 0


def _cmd_notebooks_copy(args: argparse.Namespace) -> int:
    import shlex

    from cjkit.resources import copy_notebooks

    try:
        written = copy_notebooks(args.dir, force=args.force, exercises=getattr(args, "exercises", False))
    except FileExistsError as exc:
        raise UsageError(f"{exc}; nothing copied. Pass --force to overwrite, or choose another folder") from None
    for path in written:
        print(f"wrote {path}")
    print(f"open them with: jupyter lab {shlex.quote(str(args.dir))}")
    from jupyter_client.kernelspec import KernelSpecManager

    if "cjkit" not in KernelSpecManager().find_kernel_specs():  # the notebooks ask for the kernel "cjkit"
        print("they run in the kernel \"Python (cjkit)\"; register it once with: "
              f"{shlex.quote(sys.executable)} -m ipykernel install --user --name cjkit --display-name 'Python (cjkit)'")
    return 0


def _cmd_exercises(args: argparse.Namespace) -> int:
    from .exercise import build_exercises, exercise_differences

    if args.action == "copy":
        args.exercises = True
        return _cmd_notebooks_copy(args)
    if args.check:
        problems = exercise_differences(args.solutions, args.out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print(f"run: cjkit exercises build --solutions {args.solutions} --out {args.out}", file=sys.stderr)
        return 1 if problems else 0
    for path in build_exercises(args.solutions, args.out):
        print(f"wrote {path}")
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from .grade import grade

    memory = int(float(args.memory) * 1024**3)
    book, results = grade(args.submissions, args.key, out=args.out, client=args.client, parameters=_params(args.param),
                          timeout=args.timeout, jobs=args.jobs, memory=memory)
    for row in book.itertuples():
        print(f"{row.student}: {row.total:.2f} of {row.max:g}".replace(".00 of", " of"))
    print(f"gradebook: {Path(args.out) / 'gradebook.csv'}; feedback: {Path(args.out) / 'feedback'}/<student>.html")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``cjkit`` command."""
    from cjkit.resources import notebooks_glob  # light: `cjkit --help` imports no pandas

    parser = argparse.ArgumentParser(prog="cjkit", description="Customer-journey analytics kit.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute the notebooks on one or more clients and write HTML reports")
    run.add_argument("--client", action="append", required=True, metavar="PATH",
                     help="client YAML file or a folder of them (repeat for several clients)")
    run.add_argument("--notebooks", default=notebooks_glob(), metavar="GLOB",
                     help="notebooks to run (default: the kit's own numbered notebooks, from any folder; "
                          "`cjkit notebooks copy DIR` gives you copies to edit)")
    run.add_argument("--out", default=None, metavar="DIR",
                     help="output folder (default reports/<client>; with one client, DIR itself)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="notebook parameter, parsed to its declared type (repeatable)")
    run.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks run in parallel")
    run.add_argument("--mode", choices=("report", "teaching"), default="report",
                     help="report: code hidden; teaching: code shown")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.add_argument("--no-cache", action="store_true",
                     help="read and check the client's files afresh, without the load cache "
                          "($CJKIT_CACHE_DIR, default ~/.cache/cjkit)")
    run.add_argument("--fresh-kernels", action="store_true",
                     help="start a new kernel for every notebook (default: each job's kernel runs its "
                          "notebooks in turn, with a clean namespace for each)")
    run.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                     help="a cell running longer fails its notebook (default: no limit)")
    run.set_defaults(func=_cmd_run)

    val = sub.add_parser("validate", help="load a client and print what was read, kept, fixed and every problem")
    val.add_argument("--client", required=True, metavar="PATH")
    val.add_argument("--no-cache", action="store_true", help="read the files afresh, without the load cache")
    val.set_defaults(func=_cmd_validate)

    init = sub.add_parser("init-client", help="draft a client YAML from data files, marking every guess")
    init.add_argument("files", nargs="+", metavar="FILE", help="CSV, Parquet or Excel files")
    init.add_argument("--out", default="client.yaml", metavar="PATH")
    init.add_argument("--name", default=None, help="client name (default: from the files' folder)")
    init.add_argument("--force", action="store_true", help="overwrite an existing --out file")
    init.set_defaults(func=_cmd_init)

    ren = sub.add_parser("render", help="render an executed notebook to a self-contained HTML page")
    ren.add_argument("notebook", metavar="NOTEBOOK.ipynb")
    ren.add_argument("--mode", choices=("report", "teaching"), default="report")
    ren.add_argument("--out", default=None, metavar="PATH", help="default: next to the notebook")
    ren.set_defaults(func=_cmd_render)

    rec = sub.add_parser("records", help="print the records of an executed notebook or its HTML")
    rec.add_argument("notebook", metavar="NOTEBOOK.ipynb|.html")
    rec.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rec.set_defaults(func=_cmd_records)

    exe = sub.add_parser("exercises", help="exercise notebooks: build them from the solutions, or copy them")
    exe_sub = exe.add_subparsers(dest="action", required=True)
    build = exe_sub.add_parser("build", help="write exercises/ from solutions/ (solutions replaced by stubs)")
    build.add_argument("--solutions", default="solutions", metavar="DIR", help="default: solutions")
    build.add_argument("--out", default="exercises", metavar="DIR", help="default: exercises")
    build.add_argument("--check", action="store_true", help="write nothing; exit 1 if DIR differs from a fresh build")
    build.set_defaults(func=_cmd_exercises)
    ecopy = exe_sub.add_parser("copy", help="copy the exercise notebooks into DIR, to work on in JupyterLab")
    ecopy.add_argument("dir", metavar="DIR")
    ecopy.add_argument("--force", action="store_true", help="overwrite notebooks already in DIR")
    ecopy.set_defaults(func=_cmd_exercises)

    grd = sub.add_parser("grade", help="re-execute students' notebooks on a dataset and score their answers")
    grd.add_argument("submissions", metavar="SUBMISSIONS", help="folder with one folder per student")
    grd.add_argument("--key", required=True, metavar="DIR", help="the solution notebooks (e.g. solutions/)")
    grd.add_argument("--client", default=None, metavar="PATH",
                     help="client to grade on (default: each solution's own); one the students never saw")
    grd.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                     help="notebook parameter for the key and every submission (repeatable)")
    grd.add_argument("--out", default="grades", metavar="DIR", help="gradebook.csv and feedback/ (default: grades)")
    grd.add_argument("--timeout", type=float, default=120, metavar="S", help="seconds per cell (default 120)")
    grd.add_argument("--memory", type=float, default=2, metavar="GB", help="memory per submission (default 2)")
    grd.add_argument("--jobs", type=int, default=1, metavar="N", help="submissions graded at once")
    grd.set_defaults(func=_cmd_grade)

    nbs = sub.add_parser("notebooks", help="the kit's numbered notebooks: make your own copy")
    nbs_sub = nbs.add_subparsers(dest="action", required=True)
    copy = nbs_sub.add_parser("copy", help="copy the numbered notebooks (no outputs) into DIR, to open in JupyterLab")
    copy.add_argument("dir", metavar="DIR", help="folder to copy into (created if missing)")
    copy.add_argument("--force", action="store_true", help="overwrite notebooks already in DIR")
    copy.set_defaults(func=_cmd_notebooks_copy)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cjkit`` command; returns the exit code.

    Examples
    --------
    >>> main(["run", "--client", "no/such/client.yaml"])
    2
    """
    args = build_parser().parse_args(argv)  # --help ends here, before any heavy import
    # jsonschema (imported by nbformat) compiles rfc3987-syntax's grammar on import, 0.9 s of
    # CPU, for an "iri" format check that notebook schemas never use: not in this command.
    sys.modules.setdefault("rfc3987_syntax", None)
    try:
        return args.func(args)
    except (UsageError, FileNotFoundError, ValueError) as exc:
        from .params import ParameterError  # imports pandas: only once something went wrong

        if type(exc).__name__ in ("ClientDataError", "RecordError") and not isinstance(exc, ParameterError):
            print(f"cjkit {args.command}: {exc}", file=sys.stderr)
            return 1
        print(f"cjkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
