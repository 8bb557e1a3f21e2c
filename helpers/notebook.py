"""Notebook set-up and exercise plumbing.

``setup()`` is the one call at the top of every lesson: it makes Plotly figures render
both live in JupyterLab and in static HTML/slides, and keeps PyTorch to one thread so
that sliders stay responsive on small machines.
"""

from __future__ import annotations

import json
from pathlib import Path

EXERCISE_TAG = "exercise"
PLOTLY_RENDERER = "plotly_mimetype+notebook"  # live in JupyterLab, and embedded HTML elsewhere


def setup(threads: int = 1, seed: int | None = None) -> dict:
    """Configure a lesson's kernel; returns what it set (shown as the cell's output).

    Args:
        threads: PyTorch CPU threads. One is as fast at the course's sizes and keeps
            worst-case latency low when the browser shares the CPU.
        seed: if given, seeds PyTorch's and NumPy's global generators (functions in
            ``helpers`` take their own ``seed=`` and do not need this).
    """
    import numpy as np
    import plotly.io as pio
    import torch

    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    pio.renderers.default = PLOTLY_RENDERER
    # Emit plotly.js once, here, so that static HTML and slides built from the executed
    # notebook can draw every later figure (they reference it instead of embedding it).
    activate = getattr(pio.renderers, "_activate_pending_renderers", None)
    if activate is not None:
        activate()
    torch.set_num_threads(threads)
    if seed is not None:
        torch.manual_seed(seed)
        np.random.seed(seed)
    return {"plotly renderer": PLOTLY_RENDERER, "torch threads": threads,
            "torch": torch.__version__}


def md(text: str) -> None:
    """Show ``text`` as Markdown in the cell's output.

    The way a lesson puts a computed number into a sentence: the cell that computes the
    value writes the sentence, e.g. ``md(f"The gradient shrinks by {orders:.1f} orders of
    magnitude.")``, so no number in the prose is ever typed by hand.
    """
    from IPython.display import Markdown, display

    if not isinstance(text, str):
        raise TypeError(f"md takes the Markdown text as a str, got {type(text).__name__}")
    display(Markdown(text))


def exercise_cells(nb: dict) -> list[int]:
    """Indices of the cells tagged ``exercise`` in a notebook (as loaded JSON or nbformat)."""
    return [i for i, c in enumerate(nb["cells"])
            if EXERCISE_TAG in c.get("metadata", {}).get("tags", [])]


def load_solutions(path) -> dict[str, str]:
    """Read a solutions file: blocks that start with a line ``# %% Exercise N.M``.

    Returns ``{"N.M": code}``.
    """
    blocks: dict[str, list[str]] = {}
    current = None
    for line in Path(path).read_text().splitlines():
        if line.startswith("# %% Exercise "):
            current = line[len("# %% Exercise "):].split()[0].rstrip(":")
            blocks[current] = []
        elif current is not None:
            blocks[current].append(line)
    return {k: "\n".join(v).strip() + "\n" for k, v in blocks.items()}


def exercise_id(source: str) -> str | None:
    """The ``N.M`` of an exercise cell whose first line is ``# Exercise N.M: ...``."""
    first = source.lstrip().splitlines()[0] if source.strip() else ""
    if first.startswith("# Exercise "):
        return first[len("# Exercise "):].split()[0].rstrip(":")
    return None


def fill_solutions(nb: dict, solutions: dict[str, str]) -> dict:
    """A copy of ``nb`` whose exercise cells are replaced by their solutions.

    Raises ``ValueError`` if an exercise has no solution or a solution no exercise.
    """
    nb = json.loads(json.dumps(nb))  # deep copy that works for dicts and nbformat nodes
    used = set()
    for i in exercise_cells(nb):
        cell = nb["cells"][i]
        src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        key = exercise_id(src)
        if key is None or key not in solutions:
            raise ValueError(f"exercise cell {i} ({key or 'no id'}) has no solution")
        first = src.lstrip().splitlines()[0]
        cell["source"] = first + "\n" + solutions[key]
        used.add(key)
    extra = set(solutions) - used
    if extra:
        raise ValueError(f"solutions without an exercise cell: {sorted(extra)}")
    return nb
