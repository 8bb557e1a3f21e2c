"""Check or fix slide metadata so that the live deck (jupyterlab-deck) shows every cell.

    python -m tools.slide_metadata notebooks/*.ipynb          # report, exit 1 if any
    python -m tools.slide_metadata --fix notebooks/*.ipynb    # rewrite in place

jupyterlab-deck 0.2.0 hides cells whose slide_type is "-". JupyterLab 4's own property
inspector stores "-" as no slide_type at all, and nbconvert reads a missing slide_type as
"-", so removing the key changes nothing for the static decks.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def dash_cells(nb: dict) -> list[int]:
    return [i for i, c in enumerate(nb["cells"])
            if c.get("metadata", {}).get("slideshow", {}).get("slide_type") == "-"]


def fix(nb: dict) -> int:
    cells = dash_cells(nb)
    for i in cells:
        del nb["cells"][i]["metadata"]["slideshow"]["slide_type"]
    return len(cells)


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
                print(f"{path}: removed slide_type '-' from {n} cells")
        else:
            n = len(dash_cells(nb))
            if n:
                bad += 1
                print(f"{path}: {n} cells with slide_type '-'")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
