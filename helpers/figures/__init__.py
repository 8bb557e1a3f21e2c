"""Figures: plain results in, ``plotly.graph_objects.Figure`` out (no widgets, no torch).

Lessons import from the module that defines a chart, e.g.
``from helpers.figures.profiles import gradient_norm_figure``.

Shared by every lesson:
    style      palette (one colour per meaning), layout, log-axis and title-note helpers
    profiles   per-layer charts of a ``GradientProfile`` and the log-axis series helper
    compare    several per-layer profiles on one log chart; measured against theory
               (``gradient_growth_figure``, lessons 5 and 6)
    curves     ``phi_dphi_figure``, the builder of every phi / phi' chart (lessons 0, 1, 4),
               and lesson 0's curves with a marked point

One module per topic, named as in ``helpers.topics``:
    neuron, chain, gradient_flow, activation_families, initialization, normalization,
    residual, training, recurrent, diagnose
"""
