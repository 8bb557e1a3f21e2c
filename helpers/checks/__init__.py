"""Exercise checks: compare a student's answer with a reference and explain the result.

``helpers.checks.core`` holds the machinery (``check_function``, ``check_value``,
``CheckResult``); one module per lesson (``lesson00`` ... ``lesson10``) holds that
lesson's checks, e.g. ``from helpers.checks.lesson01 import check_sigmoid_derivative``.
"""
