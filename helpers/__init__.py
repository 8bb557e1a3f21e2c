"""Helpers for the course on vanishing and exploding gradients.

One module per concept; import what you need explicitly, e.g.
``from helpers.capture import gradient_profile``. Importing ``helpers`` itself loads
nothing heavy and has no side effects.

Modules:
    activations  registry of activation functions and their analytic derivatives
    models       ``MLPConfig`` and ``build_mlp``
    capture      ``gradient_profile`` and ``GradientMonitor``
    recorder     ``capture_pass``: one pass of any model, keeping each weight's tensors
    layer_stats  statistics of a captured pass (norms, saturation, histograms)
    model_io     model inputs (tensor, tuple, dict) and losses
    norms        L2 norms that never under- or overflow (scaled as LAPACK's nrm2)
    monitor      ``GradientMonitor``: statistics over many training steps
    theory       analytic results: derivative bounds, mean-field signal propagation
    data         small data sets (spirals, circles, teacher network, digits)
    training     ``train`` with per-layer gradient and update statistics
"""

__version__ = "0.1.0"
