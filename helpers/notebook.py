"""Notebook set-up: ``setup()`` and ``md()``.

``setup()`` is the one call at the top of every lesson: it makes Plotly figures render
both live in JupyterLab and in static HTML/slides, and keeps PyTorch to one thread so
that sliders stay responsive on small machines (and, with glibc, keeps freed memory
for reuse: ``retain_freed_memory``).
"""

from __future__ import annotations

import ctypes
import platform

PLOTLY_RENDERER = "plotly_mimetype+notebook"  # live in JupyterLab, and embedded HTML elsewhere
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (glibc's malloc.h)
_memory_retained: bool | None = None


def retain_freed_memory() -> bool:
    """Let this process keep memory it frees for reuse (glibc only; once per process).

    Each widget update allocates and frees the same tens of MB (the activations and
    gradients of up to 100 layers). With glibc's default settings freed memory is handed
    back to the OS at once and the next update page-faults it in again: measured at depth
    50, width 64, batch 256, float64: ~6,000 page faults and ~19 ms of CPU time in a
    74 ms update. With higher thresholds the pages stay mapped and are reused: freed
    memory up to 128 MB stays in the process, and single blocks above 32 MB are still
    returned at once. Returns whether the setting was applied.
    """
    global _memory_retained
    if _memory_retained is None:
        _memory_retained = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL("libc.so.6")
                _memory_retained = bool(libc.mallopt(_M_MMAP_THRESHOLD, 32 * 2**20)
                                        and libc.mallopt(_M_TRIM_THRESHOLD, 128 * 2**20))
            except (OSError, AttributeError):
                pass
    return _memory_retained


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
    retain_freed_memory()  # widget updates reuse memory instead of page-faulting it in again
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
