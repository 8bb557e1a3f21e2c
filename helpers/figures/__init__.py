"""Figures: plain results in, ``plotly.graph_objects.Figure`` out (no widgets, no torch).

Modules: ``style`` (palette, log-axis helpers), ``curves`` (activation curves),
``profiles`` (per-layer gradient and activation charts, the explorer dashboard). Lessons
import from the module that defines a chart, e.g.
``from helpers.figures.profiles import gradient_norm_figure``.
"""
