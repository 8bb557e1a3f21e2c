"""Lesson topics: the measurements each lesson draws, one module per topic.

A topic has the same file name in every layer: ``helpers/topics/<topic>.py`` computes,
``helpers/figures/<topic>.py`` draws and ``helpers/widgets/<topic>.py`` makes it live.
Reusable core (activations, models, capture, monitor, theory, data, training) lives at the
top of ``helpers``.

Modules:
    neuron               lesson 1: one neuron ``phi(w x + b)``, how often inputs saturate it
    chain                lesson 2: a chain of scalar neurons, products of layer Jacobians
    gradient_flow        lesson 3: one configuration's gradient profile, as the explorer
                         measures it
    activation_families  lesson 4: dead units, per-layer gradient factors, E[phi'(z)^2],
                         activations compared
    initialization       lesson 5: forward variances and backward gradients against the
                         mean-field theory, the phase diagram's grid, Jacobian spectra
    normalization        lesson 6: BatchNorm and LayerNorm from scratch, their measurements
    residual             lesson 7: the gradient at each block output, plain vs residual
    training             lesson 8: the lesson's data splits, configurations trained and
                         compared over seeds, verdicts, decision boundaries
    recurrent            lesson 9: gradients through time in RNN, LSTM and GRU cells
    diagnose             lesson 10: a digits CNN, Transformer stacks by norm position,
                         the mystery models to diagnose
"""
