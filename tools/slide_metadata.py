"""Check or fix slide metadata so that the live deck never has a key press that shows nothing.

    python -m tools.slide_metadata notebooks/*.ipynb          # report, exit 1 if any
    python -m tools.slide_metadata --fix notebooks/*.ipynb    # rewrite in place

The live deck (jupyterlab-slideshow, docs/teaching.md) stops at every cell that is not
`skip` or `notes`. A cell that continues a slide (slide type "-" or none) is such a stop
with nothing new on screen, so the presenter presses a key and nothing happens; and the
left arrow does nothing on a sub-slide that follows one. So the course's lessons use only
`slide`, `fragment` (the next cell of the same slide, shown on the next key press),
`skip` and `notes`: every key press shows something, in the live deck and in the static
reveal.js deck alike. `--fix` turns "-" and missing types into `fragment` and `subslide`
into `slide`; the first cell is always a `slide`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ALLOWED = ("slide", "fragment", "skip", "notes")


def problems(nb: dict) -> list[str]:
    """One line per cell whose slide type the live deck would mishandle."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        kind = cell.get("metadata", {}).get("slideshow", {}).get("slide_type")
        if i == 0 and kind != "slide":
            found.append(f"cell 0: slide type {kind!r}, the title must be a 'slide'")
        elif kind not in ALLOWED:
            found.append(f"cell {i}: slide type {kind!r}, not one of {', '.join(ALLOWED)}")
    return found


def fix(nb: dict) -> int:
    """Rewrite the slide types in place (see the module docstring); return how many changed."""
    changed = 0
    for i, cell in enumerate(nb["cells"]):
        show = cell.setdefault("metadata", {}).setdefault("slideshow", {})
        kind = show.get("slide_type")
        new = "slide" if i == 0 or kind == "subslide" else kind
        if new not in ALLOWED:
            new = "fragment"
        if new != kind:
            show["slide_type"] = new
            changed += 1
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--fix", action="store_true", help="rewrite the notebooks in place")
    args = parser.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        nb = json.loads(path.read_text())
        if args.fix:
            n = fix(nb)
            if n:
                # nbformat's layout: indent 1, a final newline, non-ASCII kept
                path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
                print(f"{path}: changed the slide type of {n} cells")
        else:
            found = problems(nb)
            if found:
                bad += 1
                print(f"{path}: " + "; ".join(found[:5]) + (" ..." if len(found) > 5 else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
