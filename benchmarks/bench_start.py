"""How fast the kit starts: the CLI's help, a kernel's imports, and a whole suite's CPU.

Everything is measured in one run, against the floor it cannot beat:

* ``cjkit --help`` and ``cjkit <command> --help``: wall time of the command (median of 5),
  against ``python -c pass`` (the interpreter's own start);
* kernel imports: wall time of importing what a notebook kernel imports, each in a fresh
  interpreter (median of 3);
* ``bare``: a kernel started, one empty cell run through papermill's engine, kernel shut
  down -- CPU of this process plus the kernel's (``RUSAGE_CHILDREN``), median of 3;
* ``cjkit run`` of every notebook on the tiny and the demo client, one job, as a command:
  wall and CPU (the command and every kernel it starts), per notebook, and the CPU per
  notebook over ``bare``; the target is at most 1.5 s.

The suite is run as the ``cjkit`` command so the same script measures any version of the
kit. Run: ``python benchmarks/bench_start.py [--clients tiny demo] [--markdown]``. Not a
test: it prints numbers and ratios, it asserts nothing. ``--markdown`` also prints the rows
of the README's speed table.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CJKIT = str(BIN / "cjkit")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def command(args: list[str], *, cwd: Path | None = None, env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and everything it started)."""
    cpu0, started = children_cpu(), time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, cwd=cwd, env=env)
    return time.perf_counter() - started, children_cpu() - cpu0


def median_command(args: list[str], repeat: int, **kwargs) -> tuple[float, float]:
    runs = [command(args, **kwargs) for _ in range(repeat)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def bare_kernel_cpu(kernel: str, folder: Path) -> tuple[float, float]:
    """A kernel running an empty one-cell notebook through papermill, in this process."""
    import nbformat
    import papermill as pm

    empty = folder / "empty.ipynb"
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")])
    book.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    nbformat.write(book, empty)
    pm.execute_notebook(str(empty), str(folder / "warm.ipynb"), kernel_name=kernel, progress_bar=False)
    runs = []
    for _ in range(3):
        cpu0, mine0, started = children_cpu(), own_cpu(), time.perf_counter()
        pm.execute_notebook(str(empty), str(folder / "out.ipynb"), kernel_name=kernel, progress_bar=False,
                            log_output=False)
        runs.append((time.perf_counter() - started, children_cpu() - cpu0 + own_cpu() - mine0))
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


KERNEL_IMPORTS = {
    "pandas": "import pandas",
    "matplotlib + seaborn": "import seaborn, matplotlib.pyplot",
    "statsmodels (proportions)": "import statsmodels.stats.proportion",
    "cjkit (import only)": "import cjkit",
    "cjkit.pipeline.notebook.start path": "import cjkit, cjkit.pipeline.notebook; cjkit.pipeline.notebook.start",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", nargs="+", default=["tiny", "demo"])
    parser.add_argument("--markdown", action="store_true", help="also print README speed-table rows")
    args = parser.parse_args()
    py = sys.executable
    rows: list[tuple[str, str]] = []

    t_py, _ = median_command([py, "-c", "pass"], 5)
    print(f"python -c pass: {t_py:.3f} s")
    helps = {"cjkit --help": [CJKIT, "--help"]}
    for sub in ("run", "validate", "init-client", "render", "records"):
        helps[f"cjkit {sub} --help"] = [CJKIT, sub, "--help"]
    worst = 0.0
    for label, argv in helps.items():
        t, _ = median_command(argv, 5)
        worst = max(worst, t)
        print(f"{label:<28} {t:6.3f} s  ({t / t_py:4.1f}x python -c pass)")
    rows.append(("`cjkit --help` and every `cjkit <command> --help`",
                 f"at most {worst:.2f} s ({worst / t_py:.1f}x a bare `python -c pass`, {t_py:.2f} s)"))

    print()
    for label, code in KERNEL_IMPORTS.items():
        t, _ = median_command([py, "-c", code], 3)
        print(f"import {label:<28} {t:6.2f} s (wall, fresh interpreter, includes {t_py:.2f} s start)")

    from jupyter_client.kernelspec import KernelSpecManager

    kernel = "cjkit" if "cjkit" in KernelSpecManager().find_kernel_specs() else "python3"
    tmp = Path(tempfile.mkdtemp(prefix="cjkit-bench-start-"))
    bare_wall, bare_cpu = bare_kernel_cpu(kernel, tmp)
    print(f"\nbare: kernel '{kernel}' running an empty notebook through papermill: "
          f"{bare_wall:.2f} s wall, {bare_cpu:.2f} s CPU")

    env = dict(os.environ, CJKIT_CACHE_DIR=str(tmp / "cache"))
    for name in args.clients:
        out = tmp / f"out-{name}"
        # a first run fills the load cache (where the kit has one); the measured runs reuse it,
        # as every later run on unchanged client files does
        command([CJKIT, "run", "--client", name, "--out", str(out), "--jobs", "1", "-q"], cwd=REPO, env=env)
        runs = []
        for _ in range(2):
            shutil.rmtree(out, ignore_errors=True)
            runs.append(command([CJKIT, "run", "--client", name, "--out", str(out), "--jobs", "1", "-q"],
                                cwd=REPO, env=env))
        wall, cpu = min(r[0] for r in runs), min(r[1] for r in runs)
        results = json.loads((out / "results.json").read_text())["notebooks"]
        n = len(results)
        status = ", ".join(f"{r['notebook']}: {r['status']}" for r in results if r["status"] != "ok") or "all ok"
        per_cpu = cpu / n
        print(f"{name}: cjkit run of {n} notebooks, 1 job: {wall:.1f} s wall, {cpu:.1f} s CPU ({status})")
        print(f"      per notebook {wall / n:.2f} s wall, {per_cpu:.2f} s CPU = {per_cpu / bare_cpu:.2f}x bare; "
              f"CPU over bare {per_cpu - bare_cpu:+.2f} s (target <= 1.5 s); "
              f"the whole suite = {wall / bare_wall:.1f}x one bare empty notebook (wall)")
        rows.append((f"`cjkit run`, {name} client, {n} notebooks, 1 job",
                     f"{wall:.1f} s wall; per notebook {per_cpu:.2f} s CPU, {per_cpu - bare_cpu:+.2f} s over a "
                     f"bare kernel running an empty notebook ({bare_cpu:.2f} s)"))
    shutil.rmtree(tmp, ignore_errors=True)
    if args.markdown:
        print("\n| what | measured |\n| --- | --- |")
        for what, value in rows:
            print(f"| {what} | {value} |")


if __name__ == "__main__":
    main()
