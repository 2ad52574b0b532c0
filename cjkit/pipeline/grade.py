"""``cjkit grade``: re-execute every submission on a dataset of the instructor's choice and score it.

Layout: ``SUBMISSIONS/<student>/NN_topic.ipynb`` (a folder per student, notebooks named as the
exercises). For every solution notebook found by glob in the key folder:

1. the answer key: the solution executed on the chosen parameters (the ``--client`` the
   students never saw, by default the solution's own), held in memory only;
2. each student's notebook, copied alone into a fresh temporary folder, executed with the
   same parameters in its own kernel (:mod:`cjkit.pipeline.sandbox`: memory limit, no network
   under bubblewrap, the key and the other submissions out of sight), every cell run even
   after an error (a failing cell costs the questions that depend on it, not the rest), each
   cell bounded by ``timeout`` and the whole notebook by ``timeout`` x cells;
3. every recorded answer scored against the key (:func:`cjkit.pipeline.exercise.score`:
   numeric tolerance, tables by value, partial credit).

Writes ``gradebook.csv`` (a row per student, a column per question, total and maximum) and
``feedback/<student>.html`` (per question: points and why, expected against given, or the
error), each written to a temporary name and renamed into place. An answer hard-coded from
the demo's output scores nothing on another dataset.
"""
from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .exercise import Outcome, Question, answer_key, questions, score
from .records import MIME_TYPE
from .sandbox import DEFAULT_MEMORY, kernel_env, sandbox_kernel_manager

__all__ = ["Submission", "grade", "run_submission", "find_submissions"]


@dataclass
class Submission:
    """One student's notebook, executed and scored."""

    student: str
    notebook: str
    path: Path | None
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per failing cell, or why it did not run
    seconds: float = 0.0
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # everything the notebook recorded

    @property
    def points(self) -> float:
        return round(sum(o.points for o in self.outcomes), 4)


def find_submissions(folder: str | Path) -> dict[str, Path]:
    """Student name -> their folder (every sub-folder of ``folder``, sorted; hidden ones skipped)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder not found: {folder}")
    students = {p.name: p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith((".", "_"))}
    if not students:
        raise FileNotFoundError(f"no student folders in {folder}: expected {folder}/<student>/NN_topic.ipynb")
    return students


def _records(nb: Any) -> dict[str, dict[str, Any]]:
    """Recorded values by name (the last one wins: a student may re-run a check)."""
    found: dict[str, dict[str, Any]] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            rec = output.get("data", {}).get(MIME_TYPE)
            if rec is not None:
                rec = json.loads(rec) if isinstance(rec, str) else dict(rec)
                found[str(rec.get("name"))] = rec
    return found


def _cell_errors(nb: Any) -> list[tuple[int, str, str]]:
    """(cell number, source, "Name: value") of every cell whose output is an error."""
    out = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "error":
                out.append((i + 1, cell.source, f"{output.get('ename')}: {output.get('evalue')}"))
    return out


def run_submission(path: Path, parameters: Mapping[str, Any], *, kernel_name: str, timeout: float,
                   memory: int = DEFAULT_MEMORY, hide: Sequence[Path] = (), root: Path | None = None
                   ) -> tuple[Any | None, str | None]:
    """Execute one notebook in a fresh sandboxed kernel: ``(executed notebook, problem or None)``.

    ``problem`` is a one-line reason when the notebook could not run to its end (its kernel
    died, or it ran out of time); the cells executed until then still count. The working
    folder is made in ``root`` (a folder the sandbox hides: the other submissions' working
    folders live there too).
    """
    from nbclient import NotebookClient
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    work = Path(tempfile.mkdtemp(prefix="submission-", dir=root))
    km = None
    try:
        copy = work / path.name
        shutil.copyfile(path, copy)  # the submission alone: its folder holds nothing else
        nb = load_notebook_node(str(copy))  # papermill's reader: every cell gets its tags list
        nb = parameterize_notebook(nb, dict(parameters), kernel_name=kernel_name)
        km = sandbox_kernel_manager(kernel_name, work=work, memory=memory, hide=list(hide))
        client = NotebookClient(nb, km=km, kernel_name=kernel_name, timeout=timeout, allow_errors=True,
                                interrupt_on_timeout=True, startup_timeout=120,
                                resources={"metadata": {"path": str(work)}})
        deadline = timeout * max(len(nb.cells), 1) + 60
        problem: list[str] = []

        def watchdog(stop: threading.Event) -> None:
            if not stop.wait(deadline):
                problem.append(f"stopped after {deadline:.0f} s (the whole notebook's time limit)")
                try:  # the kernel (or bubblewrap around it, which takes the kernel with it)
                    if km.provisioner is not None and km.provisioner.process is not None:
                        km.provisioner.process.kill()
                except Exception:  # already gone
                    pass

        stop = threading.Event()
        guard = threading.Thread(target=watchdog, args=(stop,), daemon=True)
        guard.start()
        try:
            client.execute(env=kernel_env(work))
        except Exception as exc:  # the kernel died (memory, os._exit, the watchdog): keep what ran
            problem.append(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")
        finally:
            stop.set()
        return nb, (problem[0] if problem else None)
    except Exception as exc:  # an unreadable notebook costs its student, not the run
        return None, f"{type(exc).__name__}: {exc}"
    finally:
        if km is not None:
            try:
                from jupyter_core.utils import run_sync

                if km.has_kernel:
                    run_sync(km.shutdown_kernel)(now=True)
            except Exception:  # already dead
                pass
        shutil.rmtree(work, ignore_errors=True)


def _grade_one(student: str, notebook: str, path: Path | None, qs: list[Question], key: dict[str, dict],
               parameters: Mapping[str, Any], **run: Any) -> Submission:
    sub = Submission(student, notebook, path)
    started = time.perf_counter()
    if path is None:
        sub.outcomes = [Outcome(q.id, 0.0, q.points, "not submitted") for q in qs]
        return sub
    nb, problem = run_submission(path, parameters, **run)
    sub.seconds = time.perf_counter() - started
    if problem:
        sub.errors.append(problem)
    recorded = sub.records = _records(nb) if nb is not None else {}
    errors = _cell_errors(nb) if nb is not None else []
    sub.errors += [f"cell {n}: {message}" for n, _, message in errors]
    for q in qs:
        if q.id in recorded:
            sub.outcomes.append(score(q, key.get(q.id), recorded[q.id], reveal=True))
            continue
        failing = next((m for _, source, m in errors if f'"{q.id}"' in source or f"'{q.id}'" in source), None)
        why = (f"no answer recorded: its cell raised {failing}" if failing else
               f"no answer recorded ({problem})" if problem else f'no answer recorded (check("{q.id}", ...) did not run)')
        sub.outcomes.append(Outcome(q.id, 0.0, q.points, why))
    return sub


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _pts(x: float) -> str:
    """Points as people write them: 2, 1.5, 3.33."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _feedback_page(student: str, subs: list[Submission], parameters: Mapping[str, Any]) -> str:
    total = sum(s.points for s in subs)
    most = sum(o.max_points for s in subs for o in s.outcomes)
    parts = [f"<h1>Feedback: {html.escape(student)}</h1>",
             f"<p class='meta'>{_pts(total)} of {_pts(most)} points · graded on client "
             f"{html.escape(Path(str(parameters.get('client', ''))).parent.name or str(parameters.get('client')))}</p>"]
    for sub in subs:
        got = sub.points
        parts.append(f"<h2>{html.escape(sub.notebook)}: {_pts(got)} of {_pts(sum(o.max_points for o in sub.outcomes))}</h2>")
        parts.append("<table><thead><tr><th>Question</th><th>Points</th><th>Why</th></tr></thead><tbody>")
        for o in sub.outcomes:
            parts.append(f"<tr><td>{html.escape(o.question)}</td><td class='num'>{_pts(o.points)} / {_pts(o.max_points)}</td>"
                         f"<td>{html.escape(o.message)}</td></tr>")
        parts.append("</tbody></table>")
        if sub.errors:
            parts.append("<p>Errors while your notebook ran:</p><ul>" +
                         "".join(f"<li>{html.escape(e)}</li>" for e in sub.errors) + "</ul>")
    style = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em}"
             "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;"
             "border-bottom:1px solid #ddd;vertical-align:top}td.num{white-space:nowrap}.meta{color:#666}")
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Feedback: {html.escape(student)}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>\n")


def grade(submissions: str | Path, key: str | Path, *, out: str | Path, client: str | None = None,
          parameters: Mapping[str, Any] | None = None, timeout: float = 120, jobs: int = 1,
          memory: int = DEFAULT_MEMORY, kernel_name: str | None = None, progress: bool = False
          ) -> tuple[pd.DataFrame, list[Submission]]:
    """Grade every student's notebooks against every solution notebook in ``key``.

    Returns the gradebook (also written as ``out/gradebook.csv``) and the scored submissions.
    """
    from cjkit.contract.cache import cache_root
    from cjkit.resources import NOTEBOOK_GLOB

    from .notebook import resolve_client
    from .params import notebook_parameters
    from .run import default_kernel

    solutions = sorted(Path(key).glob(NOTEBOOK_GLOB))
    if not solutions:
        raise FileNotFoundError(f"no solution notebooks {NOTEBOOK_GLOB} in {key}")
    students = find_submissions(submissions)
    kernel = kernel_name or default_kernel()
    out = Path(out)
    per_nb: dict[str, tuple[list[Question], dict[str, dict], dict[str, Any]]] = {}
    for solution in solutions:
        declared = notebook_parameters(solution)
        params = dict(parameters or {})
        params = {k: v for k, v in params.items() if k in set(declared["name"])}
        chosen = client if client is not None else declared.set_index("name").loc["client", "default"]
        params["client"] = str(resolve_client(chosen))  # absolute: the kernels run elsewhere
        qs = questions(solution)
        per_nb[solution.stem] = (qs, answer_key(solution, params, kernel_name=kernel, store=False), params)
    run_root = Path(tempfile.mkdtemp(prefix="cjkit-grade-"))  # every submission's working folder, hidden
    hide = [Path(key).resolve(), Path(submissions).resolve(), out.resolve(), cache_root().parent / "keys", run_root]
    from cjkit.resources import solutions_dir

    try:
        hide.append(solutions_dir())
    except FileNotFoundError:
        pass
    tasks = [(student, name, folder / f"{name}.ipynb") for student, folder in students.items() for name in per_nb]
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(_grade_one, student, name, path if path.is_file() else None, per_nb[name][0],
                                   per_nb[name][1], per_nb[name][2], kernel_name=kernel, timeout=timeout,
                                   memory=memory, hide=hide, root=run_root)
                       for student, name, path in tasks]
            results = [f.result() for f in futures]
    finally:
        shutil.rmtree(run_root, ignore_errors=True)
    columns = [f"{name}:{q.id}" for name, (qs, _, _) in per_nb.items() for q in qs]
    rows = []
    for student in students:
        mine = [s for s in results if s.student == student]
        row: dict[str, Any] = {"student": student}
        for sub in mine:
            row.update({f"{sub.notebook}:{o.question}": o.points for o in sub.outcomes})
        row["total"] = round(sum(s.points for s in mine), 4)
        row["max"] = sum(o.max_points for s in mine for o in s.outcomes)
        rows.append(row)
        params = next(iter(per_nb.values()))[2]
        _atomic_write(out / "feedback" / f"{student}.html", _feedback_page(student, mine, params))
    book = pd.DataFrame(rows, columns=["student", *columns, "total", "max"])
    _atomic_write(out / "gradebook.csv", book.to_csv(index=False))
    return book, results
