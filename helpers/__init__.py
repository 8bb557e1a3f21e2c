"""Helpers for the course on vanishing and exploding gradients.

One module per concept; import what you need explicitly, e.g.
``from helpers.capture import gradient_profile``. Importing ``helpers`` itself loads
nothing heavy and has no side effects.

Reusable core (any lesson, any model):
    activations         registry of activation functions, NumPy values and analytic
                        derivatives, saturation (NumPy only: never loads torch)
    activation_modules  the registry's torch side: ``get_activation``, ``activation_name``,
                        ``dead_unit_mask``
    models              ``MLPConfig``, ``build_mlp``, ``trace_layers``, ``preserved_buffers``
    model_cache         ``ModelCache``: recent networks re-initialised in place
    capture             ``gradient_profile``: per-weight gradient and activation statistics,
                        for any model
    recorder            ``capture_pass``: one pass of any model, keeping each weight's tensors
    layer_stats         statistics of a captured pass (norms, saturation, histograms)
    model_io            model inputs (tensor, tuple, dict) and losses
    norm_layers         BatchNorm and LayerNorm from scratch, forward and backward, as
                        PyTorch computes them (NumPy only)
    norms               L2 norms that never under- or overflow (scaled as LAPACK's nrm2)
    monitor             ``GradientMonitor``: statistics recorded during training
    monitor_history     ``MonitorHistory``: what the monitor recorded (NumPy only)
    theory              analytic results: derivative bounds, mean-field signal propagation
                        (NumPy only)
    jacobians           random square networks and their input-output Jacobians, one
                        convention for every lesson, and the log singular values of a
                        product of Jacobians without forming it (NumPy only)
    growth              per-layer growth of a gradient profile, with a named estimator
                        (NumPy only)
    data                small data sets (spirals, circles, teacher network, digits) and
                        ``lesson_data``, the batch the lessons share
    training            ``train`` with per-layer gradient and update statistics
    validation          one validator per kind of argument (NumPy only)
    notebook            ``setup()`` for a lesson's kernel, ``md()`` for computed sentences
    recurrent           ``RecurrentConfig``, ``build_recurrent`` (RNN, LSTM, GRU),
                        ``through_time_profile`` (the gradient at every time step)
    catalogue           what can go wrong with gradients: thresholds, causes, fixes, lessons
    findings            measurements compared with the catalogue; lesson 10's checklist
    diagnose            ``diagnose(model, inputs, targets)``: names what is wrong, for any model

Lesson layers, one file name per topic in each (see ``helpers.topics``):
    topics    compute: the measurements a lesson draws
    figures   draw: plain data in, ``plotly.graph_objects.Figure`` out
    widgets   make it live: controls and one ``FigureWidget``
    checks    exercise checks, one module per lesson (``lesson01`` ... ``lesson10``), and
              ``core``, the check machinery they share
"""

__version__ = "0.1.0"
