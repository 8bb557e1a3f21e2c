"""Lesson topics: the measurements each lesson draws, one module per topic.

A topic has the same file name in every layer: ``helpers/topics/<topic>.py`` computes,
``helpers/figures/<topic>.py`` draws and ``helpers/widgets/<topic>.py`` makes it live.
Reusable core (activations, models, capture, monitor, theory, data, training) lives at the
top of ``helpers``.
"""
