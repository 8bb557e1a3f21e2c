"""Build the static edition of the course: an executed HTML page and a reveal.js deck per lesson.

    python -m tools.build_site                 # every notebooks/*.ipynb into build/
    python -m tools.build_site --out /tmp/site notebooks/03_*.ipynb

Everything the pages load is copied into `<out>/vendor/` (reveal.js, require.js, jQuery,
MathJax from `node_modules/`, installed with `npm ci` when missing; plotly.js from the
plotly Python package), so the pages work without a network. Charts are static: each
FigureWidget is drawn as a plain Plotly chart of its final state, and a banner on every
page says where to run the lesson live.

Exercise cells (tag `exercise`) raise NotImplementedError in the student notebooks; the
build lets exactly those cells fail with exactly that error and fails on any other error.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"

EXERCISE_TAG = "exercise"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PLOTLY_MIME = "application/vnd.plotly.v1+json"

# Paths inside <out>/vendor, relative to the pages (which sit at the top of <out>).
VENDOR = {
    "reveal": "vendor/reveal.js",
    "require": "vendor/require.js",
    "jquery": "vendor/jquery.min.js",
    "mathjax": "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe",
    "plotly": "vendor/plotly.min.js",
}

# Run first in the build's kernel (and removed from the pages): draw every FigureWidget
# as a static chart next to its widget view, because a page without a kernel cannot
# render widgets, and keep plotly's notebook renderer from embedding plotly.js (and a
# MathJax CDN link) into the outputs: the pages load one local plotly.js instead.
KERNEL_PRELUDE = r'''
def _static_edition():
    import ipywidgets
    import plotly.io as pio
    from plotly.basewidget import BaseFigureWidget
    from plotly.io._base_renderers import NotebookRenderer

    NotebookRenderer.activate = lambda self: None

    import plotly.graph_objects as go
    from helpers.figures.style import slide_layout

    # every static chart (widget snapshots included) is drawn with the slide layout and
    # follows the width of its slide
    to_html = pio.to_html

    def slide_html(fig, *args, **kwargs):
        kwargs.update(include_plotlyjs=False, full_html=False, include_mathjax=False,
                      config={"responsive": True})
        return to_html(slide_layout(go.Figure(fig)), *args, **kwargs)

    pio.to_html = slide_html

    def figures_in(w):
        if isinstance(w, BaseFigureWidget):
            return [w]
        found = []
        for child in getattr(w, "children", ()) or ():
            found += figures_in(child)
        return found

    def add_static(original):
        def _repr_mimebundle_(self, **kwargs):
            data = dict(original(self, **kwargs) or {})
            figs = figures_in(self)
            if figs:
                data["text/html"] = "\n".join(pio.to_html(f) for f in figs)
            return data
        return _repr_mimebundle_

    BaseFigureWidget._repr_mimebundle_ = add_static(BaseFigureWidget._repr_mimebundle_)
    ipywidgets.Widget._repr_mimebundle_ = add_static(ipywidgets.Widget._repr_mimebundle_)

_static_edition()
del _static_edition
'''

STATIC_CONTROL_NOTE = (
    '<p class="static-edition-note"><em>Interactive control: run this lesson live to use it.'
    "</em></p>"
)


@dataclass
class LessonResult:
    name: str
    html: Path
    slides: Path
    seconds: float
    exercise_errors: list[str] = field(default_factory=list)


# --- vendor files ----------------------------------------------------------------------


def ensure_node_modules(root: Path = ROOT) -> Path:
    """Return root/node_modules, running `npm ci` first if a package is missing."""
    nm = root / "node_modules"
    needed = ["reveal.js/dist/reveal.js", "requirejs/require.js", "jquery/dist/jquery.min.js",
              "mathjax/MathJax.js"]
    if not all((nm / n).exists() for n in needed):
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is needed once to fetch reveal.js, require.js, jQuery and "
                             "MathJax (package-lock.json): install Node.js, then run `npm ci`.")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=root, check=True)
    return nm


def copy_vendor(out: Path, nm: Path) -> None:
    """Copy the browser libraries the pages load into out/vendor."""
    import plotly

    vendor = out / "vendor"
    if vendor.exists():
        shutil.rmtree(vendor)
    vendor.mkdir(parents=True)
    reveal = vendor / "reveal.js"
    shutil.copytree(nm / "reveal.js/dist", reveal / "dist")
    shutil.copytree(nm / "reveal.js/plugin/notes", reveal / "plugin/notes")
    shutil.copy2(nm / "requirejs/require.js", vendor / "require.js")
    shutil.copy2(nm / "jquery/dist/jquery.min.js", vendor / "jquery.min.js")
    shutil.copy2(Path(plotly.__file__).parent / "package_data/plotly.min.js",
                 vendor / "plotly.min.js")
    # MathJax 2 (the API nbconvert's templates call), only what TeX-AMS_CHTML-full needs
    mj_src, mj = nm / "mathjax", vendor / "mathjax"
    mj.mkdir()
    shutil.copy2(mj_src / "MathJax.js", mj / "MathJax.js")
    (mj / "config").mkdir()
    for conf in ("TeX-AMS_CHTML-full.js", "Safe.js"):
        shutil.copy2(mj_src / "config" / conf, mj / "config")
    shutil.copytree(mj_src / "config/local", mj / "config/local")
    for sub in ["extensions", "jax/input/TeX", "jax/output/CommonHTML", "jax/element",
                "localization/en", "fonts/HTML-CSS/TeX/woff"]:
        shutil.copytree(mj_src / sub, mj / sub)


# --- notebook processing ------------------------------------------------------------------


def slide_type(cell) -> str | None:
    return cell.metadata.get("slideshow", {}).get("slide_type")


def binder_link(name: str) -> str | None:
    """A Binder URL for this lesson, from BINDER_URL or a GitHub `origin` remote."""
    base = os.environ.get("BINDER_URL")
    if not base:
        try:
            remote = subprocess.run(["git", "remote", "get-url", "origin"], cwd=ROOT,
                                    capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None
        m = re.match(r"(?:https://github\.com/|git@github\.com:)([^/]+/[^/]+?)(?:\.git)?$", remote)
        if not m:
            return None
        base = f"https://mybinder.org/v2/gh/{m.group(1)}/HEAD"
    return f"{base.rstrip('/')}?urlpath=lab/tree/notebooks/{name}"


def banner_cell(name: str):
    """The markdown banner that says the page is static and where to run it live."""
    link = binder_link(name)
    where = (f"or [launch it on Binder]({link})" if link
             else "or launch it on Binder (see the README)")
    cell = nbformat.v4.new_markdown_cell(
        f"> **Static edition.** This page was built from `notebooks/{name}` with every cell run "
        f"once. Its charts are fixed pictures and its sliders do not move. To use the live "
        f"widgets, open the notebook in JupyterLab (`jupyter lab notebooks/{name}`) {where}."
    )
    cell.metadata["tags"] = ["static-edition-banner"]
    return cell


def execute(nb, cwd: Path, timeout: int) -> list[str]:
    """Run the notebook in place; return the exercise errors, raise on any other error."""
    exercise_ids = set()
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and EXERCISE_TAG in tags:
            exercise_ids.add(id(cell))
            if "raises-exception" not in tags:
                # nbclient lets a cell with this tag fail and carries on with the next one
                cell.metadata["tags"] = [*tags, "raises-exception"]
    prelude = nbformat.v4.new_code_cell(KERNEL_PRELUDE)
    nb.cells.insert(0, prelude)
    sockets = tempfile.mkdtemp(prefix="kernel-")  # absolute: the kernel runs in `cwd`
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        store_widget_state=False,  # a few MB per FigureWidget, useless without a kernel
        resources={"metadata": {"path": str(cwd)}},
        # Unix sockets instead of TCP: no "Kernel is running over TCP without encryption"
        config=Config(KernelManager={"transport": "ipc", "ip": f"{sockets}/k"})
        if os.name == "posix" else None,
    )
    try:
        client.execute()
    finally:
        nb.cells.remove(prelude)
        shutil.rmtree(sockets, ignore_errors=True)
    exercise_errors, wrong = [], []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.output_type != "error":
                continue
            msg = f"cell {i}: {out.ename}: {out.evalue}"
            if id(cell) in exercise_ids and out.ename == "NotImplementedError":
                exercise_errors.append(msg)
            else:
                wrong.append(msg)
    if wrong:
        raise RuntimeError("errors outside the exercise stubs:\n" + "\n".join(wrong))
    return exercise_errors


def make_static(nb) -> None:
    """Turn widget and Plotly outputs into HTML that needs no kernel and no extension.

    Every chart gets the slide layout (`helpers.figures.style.slide_layout`): at most
    460 px tall, text of 16 px or more, so that it fits a 1280x720 slide.
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    from helpers.figures.style import slide_layout

    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if not data:
                continue
            if PLOTLY_MIME in data:
                fig = slide_layout(go.Figure(data.pop(PLOTLY_MIME)))
                data["text/html"] = pio.to_html(
                    fig, include_plotlyjs=False, full_html=False,
                    include_mathjax=False, validate=False, config={"responsive": True})
            if WIDGET_MIME in data:
                data.pop(WIDGET_MIME)
                data.setdefault("text/html", STATIC_CONTROL_NOTE)
            if "text/html" in data:
                data.pop("text/plain", None)


def expected_slide_count(nb) -> int:
    """Slides plus subslides reveal.js will show, as nbconvert groups the cells."""
    kinds = [slide_type(c) for c in nb.cells if slide_type(c) not in ("skip", "notes")]
    count = sum(k in ("slide", "subslide") for k in kinds)
    if kinds and kinds[0] not in ("slide", "subslide"):
        count += 1  # nbconvert starts the first slide at the first shown cell
    return count


def load_local_plotly(page: str) -> str:
    """Load the local plotly.js before require.js, so that it defines window.Plotly."""
    tag = f'<script src="{VENDOR["plotly"]}"></script>\n'
    head = page.index("<head>") + len("<head>")
    return page[:head] + "\n" + tag + page[head:]


def export(nb, name: str, out: Path) -> tuple[Path, Path]:
    from nbconvert import HTMLExporter, SlidesExporter

    common = dict(
        extra_template_basedirs=[str(TEMPLATES)],
    )
    html_exp = HTMLExporter(template_name="offline_lab", **common)
    slides_exp = SlidesExporter(template_name="offline_reveal", **common)
    for exp in (html_exp, slides_exp):
        exp.require_js_url = VENDOR["require"]
        exp.jquery_url = VENDOR["jquery"]
        exp.mathjax_url = VENDOR["mathjax"]
    slides_exp.reveal_url_prefix = VENDOR["reveal"]
    slides_exp.reveal_theme = "white"  # its fonts ship with reveal.js ("simple" loads Google Fonts)

    stem = Path(name).stem
    # the handout is read, not presented: speaker notes stay in the deck (press S)
    handout = copy.deepcopy(nb)
    handout.cells = [c for c in handout.cells if slide_type(c) != "notes"]
    page, _ = html_exp.from_notebook_node(handout, resources={"metadata": {"name": stem}})
    html_path = out / f"{stem}.html"
    html_path.write_text(load_local_plotly(page), encoding="utf-8")
    deck, _ = slides_exp.from_notebook_node(copy.deepcopy(nb),
                                            resources={"metadata": {"name": stem}})
    slides_path = out / f"{stem}.slides.html"
    slides_path.write_text(load_local_plotly(deck), encoding="utf-8")
    return html_path, slides_path


def build_lesson(path: Path, out: Path, timeout: int,
                 executed: Path | None = None) -> LessonResult:
    t0 = time.monotonic()
    nb = nbformat.read(path, as_version=4)
    try:
        exercise_errors = execute(nb, cwd=path.parent, timeout=timeout)
    finally:
        if executed is not None:  # the run as it went (even a failed one), before make_static
            nbformat.write(nb, executed / path.name)
    make_static(nb)
    nb.cells.insert(1 if nb.cells else 0, banner_cell(path.name))
    html_path, slides_path = export(nb, path.name, out)
    return LessonResult(path.name, html_path, slides_path, time.monotonic() - t0, exercise_errors)


def _build_or_error(path: Path, out: Path, timeout: int, executed: Path | None = None):
    """build_lesson for a worker process: errors come back as text (they may not pickle)."""
    try:
        return build_lesson(path, out, timeout, executed), None
    except (CellExecutionError, RuntimeError) as exc:
        return None, str(exc)


def write_index(out: Path, results: list[LessonResult]) -> None:
    rows = "\n".join(
        f'<li><a href="{r.html.name}">{html.escape(Path(r.name).stem)}</a> '
        f'(<a href="{r.slides.name}">slides</a>)</li>'
        for r in results
    )
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>The vanishing gradient problem: static edition</title></head>\n<body>\n"
        "<h1>The vanishing gradient problem</h1>\n"
        "<p>Static edition: every lesson run once, as a page and as a slide deck "
        "(press <kbd>S</kbd> in a deck for the speaker notes). Run the notebooks in "
        "JupyterLab to move the sliders.</p>\n"
        f"<ul>\n{rows}\n</ul>\n</body></html>\n",
        encoding="utf-8",
    )


def build(notebooks: list[Path], out: Path, timeout: int = 600, jobs: int = 1,
          executed: Path | None = None) -> list[LessonResult]:
    out.mkdir(parents=True, exist_ok=True)
    if executed is not None:
        executed.mkdir(parents=True, exist_ok=True)
    copy_vendor(out, ensure_node_modules())
    results, failures = [], []
    # each lesson runs in its own kernel; on a 2-core machine two at a time is the sweet spot
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {path: pool.submit(_build_or_error, path, out, timeout, executed)
                   for path in notebooks}
    for path, future in futures.items():
        r, error = future.result()
        if error:
            failures.append(f"{path.name}: {error}")
            print(f"FAILED {path.name}", file=sys.stderr)
            continue
        results.append(r)
        print(f"built {r.html.name} and {r.slides.name} in {r.seconds:.1f} s"
              + (f" ({len(r.exercise_errors)} exercise stubs)" if r.exercise_errors else ""))
    write_index(out, results)
    (out / "manifest.json").write_text(json.dumps(
        [{"notebook": r.name, "html": r.html.name, "slides": r.slides.name,
          "exercise_errors": r.exercise_errors} for r in results], indent=2))
    if failures:
        raise SystemExit("build failed:\n" + "\n\n".join(failures))
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to build (default: notebooks/*.ipynb)")
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="lessons run at the same time (default: 2, or 1 on one core)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="also save each executed notebook (outputs as run) to this folder")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise SystemExit("no notebooks to build")
    build([p.resolve() for p in notebooks], args.out.resolve(), args.timeout, args.jobs,
          args.executed.resolve() if args.executed else None)
    print(f"open {args.out / 'index.html'}")


if __name__ == "__main__":
    main()
