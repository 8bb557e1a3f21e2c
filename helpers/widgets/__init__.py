"""Widgets: ipywidgets controls driving one ``plotly.graph_objects.FigureWidget`` each.

``base`` holds ``LiveFigure``, the pattern every explorer follows (controls, one figure,
one ``batch_update()`` per change, errors shown in the notebook, a static snapshot for
viewers without a kernel). ``explorer`` holds the Gradient Flow Explorer.
"""
