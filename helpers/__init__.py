"""Helpers for the course on vanishing and exploding gradients.

One module per concept; import what you need explicitly, e.g.
``from helpers.capture import gradient_profile``. Importing ``helpers`` itself loads
nothing heavy and has no side effects.

Modules:
    activations  registry of activation functions and their analytic derivatives
    models       ``MLPConfig`` and ``build_mlp``
    capture      ``gradient_profile`` and ``GradientMonitor``
    theory       analytic results: derivative bounds, mean-field signal propagation
    data         small data sets (spirals, circles, teacher network, digits)
    training     ``train`` with per-layer gradient and update statistics
    findings     what can go wrong with gradients: thresholds, causes, fixes, lessons
    diagnose     ``diagnose(model, inputs, targets)``: names what is wrong, for any model
"""

__version__ = "0.1.0"
