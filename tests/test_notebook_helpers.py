"""helpers.notebook: setup(), and the exercise/solution plumbing the notebook tests rely on."""

from __future__ import annotations

import nbformat
import plotly.io as pio
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers import notebook
from tools import solutions


@pytest.fixture
def restore_plotly_and_torch():
    renderer, threads = pio.renderers.default, torch.get_num_threads()
    yield
    pio.renderers.default = renderer
    torch.set_num_threads(threads)


def test_setup_sets_renderer_and_threads(restore_plotly_and_torch):
    pio.renderers.default = "json"
    info = notebook.setup()
    assert pio.renderers.default == notebook.PLOTLY_RENDERER
    assert torch.get_num_threads() == 1
    assert info == {"plotly renderer": notebook.PLOTLY_RENDERER, "torch threads": 1,
                    "torch": torch.__version__}


def test_setup_seed_makes_global_generators_repeatable(restore_plotly_and_torch):
    notebook.setup(seed=7)
    a = torch.rand(3)
    notebook.setup(seed=7)
    assert torch.equal(a, torch.rand(3))


@pytest.mark.parametrize("threads", [0, -1, 1.5, "2"])
def test_setup_rejects_bad_threads(threads, restore_plotly_and_torch):
    with pytest.raises(ValueError, match="threads"):
        notebook.setup(threads=threads)


def lesson(*exercise_sources):
    cells = [new_markdown_cell("# Title")]
    for src in exercise_sources:
        cells.append(new_code_cell(src, metadata={"tags": [solutions.EXERCISE_TAG]}))
        cells.append(new_code_cell("check(f)"))
    return new_notebook(cells=cells)


STUB_1 = '# Exercise 9.1: double it\ndef f(x):\n    raise NotImplementedError("Exercise 9.1")'
STUB_2 = "# Exercise 9.2: halve it\ndef g(x):\n    raise NotImplementedError"
SOLUTIONS = """\"\"\"Solutions.\"\"\"

# %% Exercise 9.1
def f(x):
    return 2 * x


# %% Exercise 9.2: optional words after the id
def g(x):
    return x / 2
"""


def test_exercise_id_and_cells():
    assert solutions.exercise_id(STUB_1) == "9.1"
    assert solutions.exercise_id("\n  # Exercise 3.2: task") == "3.2"
    assert solutions.exercise_id("x = 1") is None and solutions.exercise_id("") is None
    assert solutions.exercise_cells(lesson(STUB_1, STUB_2)) == [1, 3]


def test_load_and_fill_solutions_round_trip(tmp_path):
    path = tmp_path / "99_x.py"
    path.write_text(SOLUTIONS)
    sol = solutions.load_solutions(path)
    assert sol == {"9.1": "def f(x):\n    return 2 * x\n", "9.2": "def g(x):\n    return x / 2\n"}
    nb = lesson(STUB_1, STUB_2)
    filled = solutions.fill_solutions(nb, sol)
    assert filled["cells"][1]["source"] == "# Exercise 9.1: double it\n" + sol["9.1"]
    assert filled["cells"][3]["source"] == "# Exercise 9.2: halve it\n" + sol["9.2"]
    assert nb.cells[1].source == STUB_1, "the original notebook is not modified"
    nbformat.validate(nbformat.from_dict(filled))
    namespace = {}
    exec(filled["cells"][1]["source"], namespace)  # the filled cell is runnable code
    assert namespace["f"](4) == 8
    assert solutions.exercise_cells(filled) == [1, 3]  # tags survive


def test_fill_solutions_errors():
    with pytest.raises(ValueError, match=r"exercise cell 3 \(9.2\) has no solution"):
        solutions.fill_solutions(lesson(STUB_1, STUB_2), {"9.1": "def f(x): return x\n"})
    with pytest.raises(ValueError, match="no id"):
        solutions.fill_solutions(lesson("def f(x): pass"), {})
    with pytest.raises(ValueError, match=r"solutions without an exercise cell: \['9.3'\]"):
        solutions.fill_solutions(lesson(STUB_1), {"9.1": "pass\n", "9.3": "pass\n"})


def test_load_solutions_ignores_text_before_the_first_block(tmp_path):
    path = tmp_path / "s.py"
    path.write_text("import numpy\n\n# %% Exercise 1.1\nx = 1\n")
    assert solutions.load_solutions(path) == {"1.1": "x = 1\n"}


def test_md_displays_markdown(monkeypatch):
    import IPython.display

    import helpers.notebook as nbh

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    nbh.md(f"The ratio is {1 / 4:.2f}.")
    assert len(shown) == 1 and shown[0].data == "The ratio is 0.25."
    import pytest

    with pytest.raises(TypeError, match="md takes the Markdown text as a str"):
        nbh.md(0.25)
