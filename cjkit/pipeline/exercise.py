"""Exercises: questions in a solution notebook, the answer key, self-checks and the exercise build.

``solutions/NN_topic.ipynb`` is the single source of an exercise. A question is a Markdown
cell carrying ``{"cjkit": {"question": "q1", "points": 2, "hint": "..."}}`` in its metadata
(optional: ``tolerance``, a relative tolerance for numbers; ``ordered`` for tables whose
row order matters), followed by code whose answer goes between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` and is checked by name::

    check = cjkit.checker("01_journey_models", globals())   # once, after the start cell
    ...
    ### BEGIN SOLUTION
    answer = data.events["customer_id"].nunique()
    ### END SOLUTION
    check("q1", answer)

``check`` records the answer under the question's id (the grader reads it from the executed
notebook) and tells the student "correct" or "not yet", with a hint, by comparing with the
answer key: the solution notebook executed on the same parameters (same client, same
window), cached. It never shows the expected value. :func:`build_exercises` writes
``exercises/`` from ``solutions/`` with nbgrader's ClearSolutions (solution regions become
``# YOUR CODE HERE`` stubs) and no outputs; a test checks the committed copies are what a
fresh build writes.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Question", "Outcome", "questions", "score", "answer_key", "checker", "Checker", "build_exercises",
           "exercise_differences", "KEY_RUN_ENV", "GRADING_ENV"]

#: set while the answer key is computed: the solution's own checks only record
KEY_RUN_ENV = "CJKIT_ANSWER_KEY_RUN"
#: set in graded kernels: checks only record (the grader compares, outside the sandbox)
GRADING_ENV = "CJKIT_GRADING"
DEFAULT_TOLERANCE = 1e-6  # relative, for numbers, unless the question says otherwise


@dataclass(frozen=True)
class Question:
    """A question of a solution notebook (from its Markdown cell's ``cjkit`` metadata)."""

    id: str
    points: float
    text: str = ""
    hint: str = ""
    tolerance: float = DEFAULT_TOLERANCE
    ordered: bool = False


def questions(nb: Any) -> list[Question]:
    """The questions of a notebook (an nbformat node or a path), in order.

    Raises ValueError on a repeated id or a question without points.
    """
    import nbformat

    if not isinstance(nb, nbformat.NotebookNode):
        nb = nbformat.read(str(nb), as_version=4)
    found: list[Question] = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("cjkit", {})
        if "question" not in meta:
            continue
        qid = str(meta["question"])
        if not qid.isidentifier():
            raise ValueError(f"question id {qid!r} must be an identifier such as 'q1'")
        if any(q.id == qid for q in found):
            raise ValueError(f"question {qid!r} appears twice")
        if not isinstance(meta.get("points"), (int, float)) or meta["points"] <= 0:
            raise ValueError(f"question {qid!r} needs points > 0 in its cell metadata")
        found.append(Question(qid, float(meta["points"]), "".join(cell.source).strip(), str(meta.get("hint", "")),
                              float(meta.get("tolerance", DEFAULT_TOLERANCE)), bool(meta.get("ordered", False))))
    return found


# --- comparing an answer with the key --------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """Points for one answer and why, in words for the student (``reveal`` adds the key)."""

    question: str
    points: float
    max_points: float
    message: str

    @property
    def correct(self) -> bool:
        return self.points == self.max_points


def _is_number(v: Any) -> bool:
    from numbers import Real

    import numpy as np

    return isinstance(v, Real) and not isinstance(v, (bool, np.bool_))


def _close(a: Any, b: Any, tol: float) -> bool:
    if _is_number(a) and _is_number(b):
        if math.isnan(float(a)) or math.isnan(float(b)):
            return math.isnan(float(a)) and math.isnan(float(b))
        return math.isclose(float(a), float(b), rel_tol=tol, abs_tol=1e-9)
    if a is None or b is None:
        return a is None and b is None
    return str(a).strip() == str(b).strip()


def _table(value: Any) -> tuple[list[str], list[list[Any]]] | None:
    import pandas as pd

    if isinstance(value, pd.Series):
        value = value.reset_index() if value.index.name is not None or not isinstance(
            value.index, pd.RangeIndex) else value.to_frame()
    if isinstance(value, pd.DataFrame):
        if not isinstance(value.index, pd.RangeIndex) or value.index.name is not None:
            value = value.reset_index()
        from .records import make_record

        value = make_record("t", value)["value"]
    if isinstance(value, dict) and set(value) == {"columns", "data"}:
        return [str(c) for c in value["columns"]], [list(r) for r in value["data"]]
    return None


def score(question: Question, expected: Mapping[str, Any] | None, got: Any, *, reveal: bool = False) -> Outcome:
    """Compare an answer with the key's record for ``question``.

    Numbers match within the question's relative tolerance; text after stripping spaces;
    tables by value: the key's columns must be there (others are ignored), rows are
    matched in any order (in order when the question says ``ordered``), and partial credit
    is the share of the key's rows found, less the rows that match nothing.

    ``expected`` is the key's record (a dict with ``value`` and ``kind``), ``got`` the
    student's recorded value (a record dict or a plain value). With ``reveal`` the message
    shows the expected value (grader feedback); without, it never does (self-check).

    Examples
    --------
    >>> q = Question("q1", 2)
    >>> score(q, {"value": 0.25, "kind": "number"}, 0.2500000001).message
    'correct'
    >>> score(q, {"value": 0.25, "kind": "number"}, 0.3).message
    'not yet: your number is not the expected one'
    >>> key = {"kind": "table", "value": {"columns": ["event", "stage"], "data": [["a", "x"], ["b", "y"]]}}
    >>> o = score(q, key, {"columns": ["event", "stage"], "data": [["b", "y"], ["a", "z"]]}, reveal=True)
    >>> o.points, o.message
    (1.0, 'partly: 1 of 2 rows right (rows missing or different, e.g. event=a, stage=x)')
    """
    pts = question.points
    if expected is None:
        return Outcome(question.id, 0.0, pts, "no answer key for this question (the solution recorded none)")
    if isinstance(got, Mapping) and "value" in got and "kind" in got:
        got = got["value"]
    want = expected["value"]
    shown = f" (expected {want!r}, got {got!r})" if reveal else ""
    key_table = _table(want) if expected.get("kind") == "table" else None
    if key_table is not None:
        mine = _table(got)
        if mine is None:
            return Outcome(question.id, 0.0, pts, f"not yet: the answer is a table with columns "
                                                  f"{', '.join(key_table[0])}; yours is a {type(got).__name__}")
        return _score_table(question, key_table, mine, reveal)
    if _is_number(want) or want is None and expected.get("kind") in ("number", "estimate"):
        if not _is_number(got):
            return Outcome(question.id, 0.0, pts, f"not yet: the answer is a number; yours is a "
                                                  f"{type(got).__name__}{shown}")
        if _close(want, got, question.tolerance):
            return Outcome(question.id, pts, pts, "correct")
        return Outcome(question.id, 0.0, pts, f"not yet: your number is not the expected one{shown}")
    if isinstance(want, bool):
        import numpy as np

        if isinstance(got, (bool, np.bool_)) and bool(got) == want:
            return Outcome(question.id, pts, pts, "correct")
        return Outcome(question.id, 0.0, pts, f"not yet: the answer is True or False{shown}")
    if _close(want, got, question.tolerance):
        return Outcome(question.id, pts, pts, "correct")
    return Outcome(question.id, 0.0, pts, f"not yet: your answer is not the expected one{shown}")


def _score_table(question: Question, key: tuple[list[str], list[list[Any]]],
                 mine: tuple[list[str], list[list[Any]]], reveal: bool) -> Outcome:
    cols, rows = key
    my_cols, my_rows = mine
    missing = [c for c in cols if c not in my_cols]
    if missing:
        return Outcome(question.id, 0.0, question.points,
                       f"not yet: your table has no column {', '.join(missing)} (the answer has {', '.join(cols)})")
    pick = [my_cols.index(c) for c in cols]
    mine_rows = [[r[i] for i in pick] for r in my_rows]

    def same(a: list[Any], b: list[Any]) -> bool:
        return all(_close(x, y, question.tolerance) for x, y in zip(a, b))

    if question.ordered:
        matched = sum(1 for a, b in zip(rows, mine_rows) if same(a, b))
        unmatched = [r for r, m in zip(rows, mine_rows + [None] * len(rows)) if m is None or not same(r, m)]
    else:
        left = list(mine_rows)
        unmatched = []
        for r in rows:
            hit = next((i for i, m in enumerate(left) if same(r, m)), None)
            if hit is None:
                unmatched.append(r)
            else:
                left.pop(hit)
        matched = len(rows) - len(unmatched)
    extra = max(len(mine_rows) - len(rows), 0)  # rows beyond the key's count (a wrong row is only missing)
    share = max(matched - extra, 0) / len(rows) if rows else float(not mine_rows)
    pts = round(question.points * share, 4)
    if matched == len(rows) and not extra:
        return Outcome(question.id, question.points, question.points, "correct")
    what = f"{matched} of {len(rows)} rows right"
    if extra:
        what += f", {extra} row{'s' if extra > 1 else ''} too many"
    if reveal and unmatched:
        example = ", ".join(f"{c}={v}" for c, v in zip(cols, unmatched[0]))
        what += f" (rows missing or different, e.g. {example})"
    return Outcome(question.id, pts, question.points, ("partly: " if pts else "not yet: ") + what)


# --- the answer key: the solution notebook executed on the same parameters ------------------

def _key_cache_path(solution: Path, parameters: Mapping[str, Any]) -> Path | None:
    """Where a key is kept: keyed by the solution file, the parameters and the client's content."""
    from cjkit.contract.cache import cache_enabled, cache_key, cache_root

    if not cache_enabled():
        return None
    digest = hashlib.sha256(solution.read_bytes())
    digest.update(json.dumps(dict(parameters), sort_keys=True, default=str).encode())
    client = parameters.get("client")
    if client:
        try:
            from cjkit.contract.config import ClientConfig

            from .notebook import resolve_client

            digest.update(cache_key(ClientConfig.from_yaml(resolve_client(client))).encode())
        except Exception:  # an unreadable client: no cache, the run will say why
            return None
    return cache_root().parent / "keys" / f"{solution.stem}-{digest.hexdigest()[:24]}.json"


def answer_key(solution: str | Path, parameters: Mapping[str, Any], *, kernel_name: str | None = None,
               store: bool = True, timeout: float | None = 600) -> dict[str, dict[str, Any]]:
    """The solution notebook's recorded answers on ``parameters``: question id -> record dict.

    Runs the solution with papermill in a fresh kernel (its own checks only record), once per
    solution file, parameters and client content; with ``store`` the key is kept in the cache
    folder (``$CJKIT_CACHE_DIR/keys``) for the next check. The grader passes ``store=False``:
    its key never touches the disk.
    """
    import tempfile

    import papermill as pm

    from .kernels import ipc_kernel_manager_class
    from .records import records_from_notebook
    from .run import default_kernel

    solution = Path(solution)
    ids = {q.id for q in questions(solution)}
    path = _key_cache_path(solution, parameters) if store else None
    if path is not None and path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="cjkit-key-") as tmp:
        out = Path(tmp) / solution.name
        env_before = os.environ.get(KEY_RUN_ENV)
        os.environ[KEY_RUN_ENV] = "1"  # inherited by the kernel papermill starts
        try:
            nb = pm.execute_notebook(str(solution), str(out), parameters=dict(parameters),
                                     kernel_name=kernel_name or default_kernel(), progress_bar=False,
                                     log_output=False, execution_timeout=timeout,
                                     kernel_manager_class=ipc_kernel_manager_class(),
                                     extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                                     resources={"metadata": {"path": str(solution.parent)}})
        finally:
            if env_before is None:
                os.environ.pop(KEY_RUN_ENV, None)
            else:
                os.environ[KEY_RUN_ENV] = env_before
    records = records_from_notebook(nb, notebook=solution.stem)
    from .results import record_rows

    key = {r["name"]: r for r in record_rows(records) if r["name"] in ids}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp_path = path.with_suffix(f".{os.getpid()}.tmp")
        tmp_path.write_text(json.dumps(key, default=str), encoding="utf-8")
        os.replace(tmp_path, path)
    return key


# --- the self-check a student calls ------------------------------------------------------------

class Checker:
    """``check(question, answer)`` for one exercise notebook (see the module docstring)."""

    def __init__(self, name: str, parameters: Mapping[str, Any]) -> None:
        self.name = name
        self.parameters = dict(parameters)
        self._key: dict[str, dict[str, Any]] | None = None
        self._questions: dict[str, Question] | None = None
        self._problem: str | None = None
        self.outcomes: dict[str, Outcome] = {}  # the latest verdict per question

    def _solution(self) -> Path | None:
        from cjkit.resources import solutions_dir

        try:
            path = solutions_dir() / f"{self.name}.ipynb"
        except FileNotFoundError:
            return None
        return path if path.is_file() else None

    def _load(self) -> None:
        if self._key is not None or self._problem is not None:
            return
        solution = self._solution()
        if solution is None:
            self._problem = ("no answer key here (the solution notebook is not installed): your answer is "
                             "recorded and the grader will check it")
            return
        self._questions = {q.id: q for q in questions(solution)}
        try:
            self._key = answer_key(solution, self.parameters)
        except Exception as exc:  # the check must not break the student's notebook
            self._problem = f"the answer key could not be computed ({type(exc).__name__}: {exc})"

    def __call__(self, question: str, answer: Any) -> None:
        from .records import RecordError, make_record, record

        try:
            make_record(question, answer)
        except RecordError as exc:
            raise RecordError(f"{exc}. Answer {question} with a number, text, True/False or a small table") \
                from None
        plain = make_record(question, answer)  # what the grader will read: numpy numbers become Python ones
        record(question, answer, label=f"Answer to {question}")
        if os.environ.get(KEY_RUN_ENV) or os.environ.get(GRADING_ENV):
            return None
        self._load()
        if self._problem is not None:
            _show(f"{question}: {self._problem}", "info")
            return None
        assert self._questions is not None and self._key is not None
        if question not in self._questions:
            raise KeyError(f"{self.name} has no question {question!r}; its questions: {', '.join(self._questions)}")
        q = self._questions[question]
        outcome = score(q, self._key.get(question), plain)
        hint = f" Hint: {q.hint}" if q.hint and not outcome.correct else ""
        _show(f"{question}: {outcome.message}{hint}", "ok" if outcome.correct else "try")
        self.outcomes[question] = outcome
        return None  # the cell shows the verdict line only


def _show(text: str, kind: str) -> None:
    import html

    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is None:
        return
    mark = {"ok": "\u2714 ", "try": "\u2718 ", "info": ""}[kind]
    display({"text/plain": mark + text,
             "text/html": f'<div class="cjkit-check cjkit-check-{kind}">{html.escape(mark + text)}</div>'}, raw=True)


def checker(name: str, namespace: Mapping[str, Any]) -> Checker:
    """The ``check`` function of exercise ``name``, on this notebook's parameters.

    The parameters are the declared ones of the parameters cell, as they are now in
    ``namespace`` (the notebook's ``globals()``): the key is computed on the same client and
    window as the student's answers.
    """
    from .notebook import find_parameters

    from .notebook import resolve_client

    history = namespace.get("In")
    declared = find_parameters(history)[0] if isinstance(history, list) else None
    names = list(declared["name"]) if declared is not None else ["client", "start", "end"]
    parameters = {n: namespace[n] for n in names if n in namespace}
    if isinstance(parameters.get("client"), str):  # the key runs in another folder: an absolute path
        parameters["client"] = str(resolve_client(parameters["client"]))
    return Checker(name, parameters)


# --- the exercise build --------------------------------------------------------------------------

def _exercise_of(solution: Path) -> Any:
    import nbformat
    from nbgrader.preprocessors import ClearOutput, ClearSolutions

    nb = nbformat.read(str(solution), as_version=4)
    questions(nb)  # a broken question is a build error, not a silent exercise
    nb, _ = ClearSolutions(enforce_metadata=False).preprocess(nb, {})
    nb, _ = ClearOutput().preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.execution_count = None
            cell.metadata.pop("execution", None)
    nb.metadata.pop("papermill", None)
    nb.metadata["cjkit"] = {**nb.metadata.get("cjkit", {}), "exercise_of": f"solutions/{solution.name}"}
    return nb


def _text(nb: Any) -> str:
    import nbformat

    return nbformat.writes(nb) + "\n"


def build_exercises(solutions: str | Path, out: str | Path) -> list[Path]:
    """Write ``out/NN_topic.ipynb`` for every ``solutions/NN_topic.ipynb`` (by glob); return them.

    Needs nbgrader (``pip install cjkit[instructor]``, included in the dev environment).
    """
    try:
        import nbgrader  # noqa: F401
    except ImportError:
        raise RuntimeError("building exercises needs nbgrader: pip install 'cjkit[instructor]'") from None
    from cjkit.resources import NOTEBOOK_GLOB

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for solution in sorted(Path(solutions).glob(NOTEBOOK_GLOB)):
        target = out / solution.name
        text = _text(_exercise_of(solution))
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            tmp = target.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, target)
        written.append(target)
    return written


def exercise_differences(solutions: str | Path, exercises: str | Path) -> list[str]:
    """What differs between ``exercises/`` and a fresh build from ``solutions/`` (empty: none)."""
    from cjkit.resources import NOTEBOOK_GLOB

    problems = []
    built = {s.name: _text(_exercise_of(s)) for s in sorted(Path(solutions).glob(NOTEBOOK_GLOB))}
    present = {p.name for p in Path(exercises).glob(NOTEBOOK_GLOB)}
    for name, text in built.items():
        path = Path(exercises) / name
        if not path.is_file():
            problems.append(f"exercises/{name} is missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"exercises/{name} differs from a fresh build of solutions/{name}")
    problems += [f"exercises/{name} has no solution notebook" for name in sorted(present - set(built))]
    return problems
