"""Exercises, self-checks and the grader, on a small solution notebook written for these tests
(``tests/fixtures/solutions/01_mini.ipynb``: a number, a table, a text and a True/False question,
6 points) and on every solution notebook of the kit.

One grading run on the tiny client covers a class of made-up students, each submission
planted to test one thing; the expected points are worked out here by hand.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from cjkit.pipeline.exercise import (GRADING_ENV, KEY_RUN_ENV, Question, build_exercises, exercise_differences,
                                     questions, score)
from cjkit.pipeline.grade import grade
from cjkit.pipeline.sandbox import bwrap_available
from conftest import REPO

MINI = Path(__file__).resolve().parent / "fixtures" / "solutions"
TINY = REPO / "datasets" / "tiny" / "client.yaml"
NEED_BWRAP = os.environ.get("CJKIT_REQUIRE_BWRAP") == "1"


def _with_cells(source: Path, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook with the code cell checking each question replaced by new code."""
    nb = nbformat.read(str(source), as_version=4)
    for cell in nb.cells:
        for qid, code in replace.items():
            if cell.cell_type == "code" and f'check("{qid}"' in cell.source:
                cell.source = code
    return nb


def _demo_answers() -> dict[str, object]:
    from cjkit.contract.load import load_client

    d = load_client(REPO / "datasets" / "demo" / "client.yaml")
    top = d.orders.groupby("customer_id")["amount"].sum().nlargest(3)
    return {"q1": len(d.orders), "q2": list(zip(top.index, top.round(2))),
            "q3": str(d.events["channel"].value_counts().idxmax()), "q4": bool(d.orders["is_return"].mean() > 0.03)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    subs, key = root / "submissions", root / "key"
    shutil.copytree(MINI, key)
    students: dict[str, nbformat.NotebookNode] = {}
    students["solution"] = nbformat.read(str(MINI / "01_mini.ipynb"), as_version=4)
    build_exercises(MINI, root / "built")
    students["blank"] = nbformat.read(str(root / "built" / "01_mini.ipynb"), as_version=4)
    students["partial"] = _with_cells(MINI / "01_mini.ipynb", {
        "q2": ('answer = data.orders.groupby("customer_id")["amount"].sum().nlargest(3).rename("revenue").reset_index()\n'
               'answer.loc[2, "revenue"] += 1  # one row of three wrong\ncheck("q2", answer)'),
        "q3": 'check("q3", "nowhere")',
        "q4": 'answer = 1 / 0\ncheck("q4", answer)'})
    demo = _demo_answers()
    students["hardcoded"] = _with_cells(MINI / "01_mini.ipynb", {
        "q1": f'check("q1", {demo["q1"]})',
        "q2": f'import pandas as pd\ncheck("q2", pd.DataFrame({demo["q2"]!r}, columns=["customer_id", "revenue"]))',
        "q3": f'check("q3", {demo["q3"]!r})', "q4": f'check("q4", {demo["q4"]!r})'})
    students["loop"] = _with_cells(MINI / "01_mini.ipynb", {"q1": 'while True:\n    pass\ncheck("q1", 0)'})
    students["memory"] = _with_cells(MINI / "01_mini.ipynb", {
        "q2": 'bomb = bytearray(10**11)  # 100 GB\ncheck("q2", len(bomb))'})
    other = subs / "solution" / "01_mini.ipynb"
    students["deleter"] = _with_cells(MINI / "01_mini.ipynb", {"q3": f'''import os, shutil, urllib.request
seen = os.listdir({str(key)!r}) if os.path.isdir({str(key)!r}) else []
cjkit.record("saw_key", len(seen))
cjkit.record("neighbours", len(os.listdir(os.path.dirname(os.getcwd()))))  # working folders next to its own
shutil.rmtree({str(key)!r}, ignore_errors=True)
try:
    os.remove({str(other)!r})
except OSError as exc:
    cjkit.record("remove_error", type(exc).__name__)
try:
    open({str(REPO / "PLANTED_BY_A_SUBMISSION")!r}, "w").write("x")
    cjkit.record("wrote_outside", True)
except OSError:
    cjkit.record("wrote_outside", False)
try:
    urllib.request.urlopen("http://pypi.org", timeout=5)
    cjkit.record("network", True)
except OSError:
    cjkit.record("network", False)
check("q3", str(data.events["channel"].value_counts().idxmax()))'''})
    for name, nb in students.items():
        (subs / name).mkdir(parents=True)
        nbformat.write(nb, str(subs / name / "01_mini.ipynb"))
    (subs / "absent").mkdir()  # a student who submitted nothing
    book, results = grade(subs, key, out=root / "grades", client=str(TINY), timeout=8, jobs=2)
    return root, book.set_index("student"), {r.student: r for r in results}


@pytest.mark.notebook
def test_the_solution_scores_full_marks_and_the_exercise_zero(graded):
    _, book, _ = graded
    assert book.loc["solution", "total"] == book.loc["solution", "max"] == 6
    assert book.loc["blank", "total"] == 0 and book.loc["absent", "total"] == 0


@pytest.mark.notebook
def test_partial_credit_and_a_failing_cell_costs_only_its_question(graded):
    _, book, results = graded
    # q1 right (2); q2 two rows of three right: 2 x 2/3; q3 wrong; q4 raised
    assert book.loc["partial", ["01_mini:q1", "01_mini:q2", "01_mini:q3", "01_mini:q4"]].tolist() == \
        pytest.approx([2, 2 * 2 / 3, 0, 0], abs=1e-4)
    why = {o.question: o.message for o in results["partial"].outcomes}
    assert why["q2"].startswith("partly: 2 of 3 rows right (rows missing or different, e.g. customer_id=")
    assert why["q3"] == "not yet: your answer is not the expected one (expected 'search', got 'nowhere')"
    assert why["q4"] == "no answer recorded: its cell raised ZeroDivisionError: division by zero"


@pytest.mark.notebook
def test_answers_hard_coded_from_the_demo_fail_on_the_hidden_client(graded):
    _, book, _ = graded
    # the counts and the top customers differ on tiny; the busiest channel (search) and
    # "more than 3% returns" (True) happen to be the same on both clients
    assert book.loc["hardcoded", ["01_mini:q1", "01_mini:q2", "01_mini:q3", "01_mini:q4"]].tolist() == [0, 0, 1, 1]


@pytest.mark.notebook
def test_an_endless_loop_and_a_memory_hog_cost_their_own_questions(graded):
    _, book, results = graded
    assert book.loc["loop", ["01_mini:q1", "total"]].tolist() == [0, 4]
    assert any("KeyboardInterrupt" in e or "CellTimeoutError" in e for e in results["loop"].errors), results["loop"].errors
    assert book.loc["memory", ["01_mini:q2", "total"]].tolist() == [0, 4]
    assert any("MemoryError" in e for e in results["memory"].errors), results["memory"].errors


@pytest.mark.notebook
def test_a_submission_cannot_touch_the_key_other_students_or_the_machine(graded):
    root, book, results = graded
    assert (root / "key" / "01_mini.ipynb").is_file()  # the key survives
    assert (root / "submissions" / "solution" / "01_mini.ipynb").is_file()  # and the other students
    assert not (REPO / "PLANTED_BY_A_SUBMISSION").exists()
    assert book.loc["deleter", "01_mini:q3"] == 1  # its own answer still counts
    if not bwrap_available():
        if NEED_BWRAP:
            pytest.fail("bubblewrap (bwrap) is required here: apt-get install bubblewrap")
        pytest.skip("without bubblewrap the submission runs unsandboxed (its own folder, no key on disk)")
    rec = {k: v["value"] for k, v in results["deleter"].records.items()}
    assert rec["saw_key"] == 0  # the key folder is an empty one inside the sandbox
    assert rec["neighbours"] == 1  # graded at the same time, the others' working folders are out of sight
    # the other students' folder is an empty one in there: their file is not even visible
    assert rec["remove_error"] == "FileNotFoundError" and rec["wrote_outside"] is False and rec["network"] is False


@pytest.mark.notebook
def test_gradebook_and_feedback_pages(graded):
    root, _, _ = graded
    book = pd.read_csv(root / "grades" / "gradebook.csv")
    assert list(book.columns) == ["student", "01_mini:q1", "01_mini:q2", "01_mini:q3", "01_mini:q4", "total", "max"]
    assert book["student"].tolist() == ["absent", "blank", "deleter", "hardcoded", "loop", "memory", "partial",
                                        "solution"]
    page = (root / "grades" / "feedback" / "partial.html").read_text()
    assert "<title>Feedback: partial</title>" in page and "3.33 of 6 points" in page
    assert "no answer recorded: its cell raised ZeroDivisionError: division by zero" in page
    assert "not submitted" in (root / "grades" / "feedback" / "absent.html").read_text()
    assert not list((root / "grades").rglob(".*.tmp"))  # written atomically: no temporary file left


# --- self-check ------------------------------------------------------------------------------

@pytest.mark.notebook
def test_check_says_correct_or_not_yet_without_the_answer(tmp_path, monkeypatch):
    import papermill

    monkeypatch.setenv("CJKIT_SOLUTIONS_DIR", str(MINI))
    monkeypatch.setenv("CJKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(KEY_RUN_ENV, raising=False)
    monkeypatch.delenv(GRADING_ENV, raising=False)
    nb = _with_cells(MINI / "01_mini.ipynb", {"q1": 'check("q1", len(data.orders) + 1)', "q3": 'check("q3", "tv")'})
    nbformat.write(nb, str(tmp_path / "mine.ipynb"))
    papermill.execute_notebook(str(tmp_path / "mine.ipynb"), str(tmp_path / "out.ipynb"),
                               parameters={"client": str(TINY)}, kernel_name="cjkit", progress_bar=False)
    shown = [o["data"]["text/plain"] for c in nbformat.read(str(tmp_path / "out.ipynb"), as_version=4).cells
             if c.cell_type == "code" for o in c.outputs
             if o.get("output_type") == "display_data" and "cjkit-check" in o["data"].get("text/html", "")]
    assert shown == ["\u2718 q1: not yet: your number is not the expected one Hint: len() of a DataFrame",
                     "\u2714 q2: correct", "\u2718 q3: not yet: your answer is not the expected one Hint: value_counts",
                     "\u2714 q4: correct"]
    assert not any("564" in s or "direct" in s for s in shown)  # the key's values are never shown
    assert len(list((tmp_path / "cache" / "keys").glob("01_mini-*.json"))) == 1  # computed once, kept


def test_score_by_hand():
    q = Question("q", 4, tolerance=0.01)
    assert score(q, {"value": 0.4167, "kind": "number"}, 0.417).points == 4  # within 1%
    assert score(q, {"value": 0.4167, "kind": "number"}, 0.43).points == 0
    assert score(q, {"value": 3, "kind": "number"}, "3").message == "not yet: the answer is a number; yours is a str"
    key = {"kind": "table", "value": {"columns": ["event", "stage"],
                                      "data": [["a", "x"], ["b", "y"], ["c", "z"], ["d", "w"]]}}
    assert score(q, key, pd.DataFrame({"stage": ["y", "x", "z", "w"], "event": ["b", "a", "c", "d"],
                                       "extra": 1})).points == 4  # any order; extra columns ignored
    got = pd.DataFrame({"event": ["a", "b", "c", "d", "e"], "stage": ["x", "y", "q", "w", "v"]})
    # 3 of the key's 4 rows right (c is wrong), and one row more than the key has: (3 - 1) / 4 of 4 points
    assert score(q, key, got).points == 2
    assert score(q, key, got).message == "partly: 3 of 4 rows right, 1 row too many"
    assert score(Question("q", 1, ordered=True), key, got.iloc[[1, 0, 2, 3]]).points == 0.25  # only d in place
    assert score(q, {"value": True, "kind": "bool"}, True).points == 4
    import numpy as np  # what pandas hands a student: numpy scalars count like Python ones

    assert score(q, {"value": 5, "kind": "number"}, np.int64(5)).points == 4
    assert score(q, {"value": True, "kind": "bool"}, np.bool_(True)).points == 4


# --- the exercise build --------------------------------------------------------------------------

def test_the_build_replaces_solutions_with_stubs_and_keeps_the_rest(tmp_path):
    [path] = build_exercises(MINI, tmp_path)
    text = path.read_text()
    nb = nbformat.reads(text, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "BEGIN SOLUTION" not in text
    assert not any("nlargest" in c.source for c in nb.cells if c.cell_type == "code")  # the hint may name it
    assert code[0].startswith("# Parameters (cjkit)") and 'cjkit.checker("01_mini", globals())' in code[1]
    assert code[2:] == [f'# YOUR CODE HERE\nraise NotImplementedError()\ncheck("{q}", answer)'
                        for q in ("q1", "q2", "q3", "q4")]
    assert [q.id for q in questions(nb)] == ["q1", "q2", "q3", "q4"]  # questions and points kept
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert nb.metadata["cjkit"]["exercise_of"] == "solutions/01_mini.ipynb"
    assert build_exercises(MINI, tmp_path) == [path] and path.read_text() == text  # deterministic


def test_committed_exercises_are_a_fresh_build_of_the_solutions():
    assert exercise_differences(REPO / "solutions", REPO / "exercises") == []


def test_every_solution_has_well_formed_questions():
    for solution in sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb")):
        qs = questions(solution)
        assert 3 <= len(qs) <= 6, solution.name
        text = solution.read_text()
        for q in qs:
            assert f'check(\\"{q.id}\\", answer)' in text, (solution.name, q.id)
        assert f'cjkit.checker(\\"{solution.stem}\\", globals())' in text


@pytest.mark.notebook
def test_every_solution_scores_full_marks_and_its_exercise_zero_on_tiny(tmp_path):
    solutions = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert solutions, "no solution notebooks"
    for student, folder in (("solutions", REPO / "solutions"), ("exercises", REPO / "exercises")):
        (tmp_path / "subs" / student).mkdir(parents=True)
        for path in solutions:
            shutil.copy(folder / path.name, tmp_path / "subs" / student / path.name)
    book, _ = grade(tmp_path / "subs", REPO / "solutions", out=tmp_path / "grades", client=str(TINY), jobs=2)
    book = book.set_index("student")
    assert book.loc["solutions", "total"] == book.loc["solutions", "max"] > 0
    assert book.loc["exercises", "total"] == 0
    assert json.loads(json.dumps(list(book.columns)))[-2:] == ["total", "max"]
