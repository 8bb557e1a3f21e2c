"""Every lesson notebook: clean when committed, runs top to bottom unsolved and solved."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools.solutions import exercise_cells, exercise_id, fill_solutions, load_solutions

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}
CELL_TIMEOUT = 300


def solutions_for(nb_path: Path) -> Path:
    return ROOT / "solutions" / (nb_path.stem + ".py")


def execute(nb, nb_path: Path, strict: bool):
    env_before = os.environ.get("COURSE_STRICT_CHECKS")
    os.environ["COURSE_STRICT_CHECKS"] = "1" if strict else "0"
    try:
        client = NotebookClient(
            nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=not strict,
            store_widget_state=False, resources={"metadata": {"path": str(nb_path.parent)}},
        )
        client.execute()
    finally:
        if env_before is None:
            os.environ.pop("COURSE_STRICT_CHECKS", None)
        else:
            os.environ["COURSE_STRICT_CHECKS"] = env_before
    return nb


def errors(nb) -> list[tuple[int, str]]:
    out = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                out.append((i, f"{o['ename']}: {o['evalue']}"))
    return out


def test_there_are_lessons():
    assert NOTEBOOKS, "no notebooks found in notebooks/"
    assert NOTEBOOKS[0].name == "00_start_here.ipynb"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_clean(nb_path):
    """No outputs or execution counts are committed; every cell has slide metadata."""
    nb = json.loads(nb_path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"cell {i} has committed outputs"
            assert cell.get("execution_count") is None, f"cell {i} has an execution count"
        meta = cell.get("metadata", {})
        assert "slideshow" in meta, f"cell {i} lacks slideshow metadata"
        # No slide_type means "-" (continue the slide), as JupyterLab 4 stores it.
        slide = meta["slideshow"].get("slide_type", "-")
        assert slide in SLIDE_TYPES, f"cell {i} has an unknown slide_type {slide!r}"
    assert nb["cells"][0]["cell_type"] == "markdown" and nb["cells"][0]["source"], "needs a title"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercises_have_tested_solutions(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    ids = [exercise_id(nb.cells[i].source) for i in exercise_cells(nb)]
    if nb_path.name == "00_start_here.ipynb" and not ids:
        return
    assert 2 <= len(ids) <= 4 or nb_path.name.startswith("00"), f"{len(ids)} exercises"
    assert all(ids), "every exercise cell starts with '# Exercise N.M: ...'"
    for i in exercise_cells(nb):
        assert "NotImplementedError" in nb.cells[i].source, "the stub raises NotImplementedError"
    solutions = load_solutions(solutions_for(nb_path))
    assert sorted(solutions) == sorted(ids)
    for i in exercise_cells(nb):
        assert "NotImplementedError" not in solutions[exercise_id(nb.cells[i].source)]


@pytest.mark.notebook
@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_unsolved(nb_path, static_build):
    """The student's version runs; only exercise cells may raise, and checks say 'TODO'.

    The run is the static edition's (``static_build`` in conftest.py: one run per lesson and
    session, shared with the site tests). It differs from a student's kernel only in how
    charts render; the browser tests run every lesson in JupyterLab as a student does.
    """
    executed = static_build["executed"] / nb_path.name
    assert executed.exists(), f"{nb_path.name} did not run:\n{static_build['log']}"
    nb = nbformat.read(executed, as_version=4)
    allowed = set(exercise_cells(nb))
    bad = [(i, e) for i, e in errors(nb) if i not in allowed]
    assert not bad, f"errors outside exercise cells: {bad}"
    for i, e in errors(nb):
        assert e.startswith("NotImplementedError"), f"exercise cell {i} raised {e}"
    # Every check prints one CheckResult (its repr starts "[TODO] Exercise N.M: ..."; see
    # helpers/checks/core.py). Unsolved, each exercise's check must report not-done, once.
    reports = []
    for i, cell in enumerate(nb.cells):
        for o in cell.get("outputs", []):
            text = o.get("text", "") if o.get("output_type") == "stream" else \
                o.get("data", {}).get("text/plain", "")
            reports += [(i, *m) for m in re.findall(
                r"^\[(PASS|FAIL|TODO|ERROR)\] Exercise (\d+\.\d+):", text, flags=re.M)]
    not_todo = [r for r in reports if r[1] != "TODO"]
    assert not not_todo, f"unsolved checks that did not report not-done: {not_todo}"
    ids = sorted(exercise_id(nb.cells[i].source) for i in exercise_cells(nb))
    assert sorted(r[2] for r in reports) == ids, f"checks reported {reports}, exercises {ids}"


@pytest.mark.notebook
@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_solved(nb_path):
    """With the solutions filled in, every cell runs and every check passes (strict mode)."""
    nb = nbformat.read(nb_path, as_version=4)
    if exercise_cells(nb):
        nb = nbformat.from_dict(fill_solutions(nb, load_solutions(solutions_for(nb_path))))
    try:
        nb = execute(nb, nb_path, strict=True)
    except CellExecutionError as exc:
        pytest.fail(f"{nb_path.name} failed with solutions filled in:\n{str(exc)[-3000:]}")
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "[FAIL]" not in text and "[TODO]" not in text and "[ERROR]" not in text
