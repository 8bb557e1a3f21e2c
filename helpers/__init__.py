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
    recurrent    ``RecurrentConfig``, ``build_recurrent`` (RNN/LSTM/GRU) and the gradient
                 through time, ``through_time_profile``
"""

__version__ = "0.1.0"
