"""Widgets: ipywidgets controls driving one ``plotly.graph_objects.FigureWidget`` each.

``base`` holds ``LiveFigure``, the pattern every explorer follows (controls, one figure,
one ``batch_update()`` per change, errors shown in the notebook, a static snapshot for
viewers without a kernel) and the shared controls (``activation_dropdown``, ``norm_dropdown``);
``pacing`` sends a chart only once the browser has drawn the last (``BrowserAnswers``), and
holds ``PacedRedraw``, for a figure that a worker thread keeps changing.

Modules, named as in ``helpers.topics`` and ``helpers.figures``:
    curves               a point on activation curves (lesson 0)
    neuron               the single-neuron explorer (lesson 1)
    chain                the chain explorer (lesson 2)
    gradient_flow        the Gradient Flow Explorer (lesson 3)
    activation_families  the activation picker (lesson 4)
    initialization       the order-to-chaos phase diagram (lesson 5)
    normalization        the normalization explorer (lesson 6)
    residual             the residual explorer (lesson 7)
    training             the training dashboard: Start, Stop, live charts (lesson 8)
    recurrent            the through-time explorer (lesson 9)
    diagnose             the norm-position explorer: post-norm vs pre-norm stacks (lesson 10)
"""
