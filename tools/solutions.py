"""Exercise plumbing for the tests and the site build: read solutions, fill them in.

A lesson's exercise cells are tagged ``exercise`` and start with ``# Exercise N.M: ...``;
``solutions/NN_name.py`` holds one block per exercise, starting ``# %% Exercise N.M``.
"""

from __future__ import annotations

import json
from pathlib import Path

EXERCISE_TAG = "exercise"


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
