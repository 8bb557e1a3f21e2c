"""helpers.checks.core: statuses, strict mode, comparison messages, display."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.checks import core
from helpers.checks.core import CheckResult, check_function, check_true, check_value, compare


def square(x):
    return np.asarray(x) ** 2


def stub(x):
    raise NotImplementedError("Exercise 9.9: square x")


def test_check_function_passes():
    r = check_function("9.9", lambda x: x * x, square, [1.0, (np.arange(3.0),)])
    assert r.passed and r.status == "passed" and "2 test input(s)" in r.message


def test_check_function_fails_with_hint_and_location():
    r = check_function("9.9", lambda x: x * 2, square, [np.array([2.0, 3.0])], hint="square it")
    assert r.status == "failed" and not r.passed
    assert "1 of 2 value(s) differ" in r.message and "index (1,)" in r.message
    assert "you gave 6" in r.message and "expected 9" in r.message
    assert r.hint == "square it"


def test_check_function_not_done_and_error():
    r = check_function("9.9", stub, square, [1.0], hint="h")
    assert r.status == "not done" and "NotImplementedError" in r.message
    r = check_function("9.9", lambda x: 1 / 0, square, [1.0])
    assert r.status == "error" and "ZeroDivisionError" in r.message
    r = check_function("9.9", 42, square, [1.0])
    assert r.status == "error" and "expected a function" in r.message


def test_strict_mode_raises_on_anything_but_pass(monkeypatch):
    monkeypatch.setenv("COURSE_STRICT_CHECKS", "1")
    with pytest.raises(AssertionError, match=r"\[FAIL\] Exercise 9.9"):
        check_function("9.9", lambda x: x, square, [3.0])
    with pytest.raises(AssertionError, match=r"\[TODO\]"):
        check_function("9.9", stub, square, [3.0])
    with pytest.raises(AssertionError, match=r"\[ERROR\]"):
        check_function("9.9", lambda x: {}[x], square, [3.0])
    with pytest.raises(AssertionError):
        check_true("9.9", False, "ok", "no")
    assert check_value("9.9", 2.0, 2.0).passed  # a pass never raises


def test_compare_messages():
    assert compare([1.0, 2.0], [1.0, 2.0], 1e-6, 0) is None
    assert compare(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), 1e-6, 0) is None
    assert compare(np.array([3.0]), 3.0, 1e-6, 0) is None  # one element vs a scalar
    assert compare(np.ones(3), np.ones(4), 1e-6, 0) == "expected shape (4,), got shape (3,)"
    assert "shape (2, 2)" in compare(np.ones((2, 2)), np.ones(4), 1e-6, 0)
    assert "contains NaN at 1 position(s)" in compare([1.0, np.nan], [1.0, 2.0], 1e-6, 0)
    assert compare([np.nan], [np.nan], 1e-6, 0) is None
    assert compare("abc", 1.0, 1e-6, 0).startswith("expected numbers")
    assert compare(1.1, 1.0, 1e-6, 0) == "1 of 1 value(s) differ; e.g. you gave 1.1, expected 1"


def test_check_value_and_check_true():
    assert check_value("9.1", 0.5, 0.5, what="the maximum").message == "correct: the maximum."
    r = check_value("9.1", 0.4, 0.5, hint="look at z = 0")
    assert r.status == "failed" and r.hint == "look at z = 0"
    assert check_true("9.2", True, "well done", "no").message == "well done"
    r = check_true("9.2", False, "well done", "not yet", "try again")
    assert (r.status, r.message, r.hint) == ("failed", "not yet", "try again")


def test_repr_and_html():
    ok = CheckResult("9.9", "passed", "correct.", hint="never shown")
    assert repr(ok) == "[PASS] Exercise 9.9: correct."
    assert "#009E73" in ok._repr_html_() and "Hint" not in ok._repr_html_()
    bad = CheckResult("9.9", "failed", "x < y", hint="use <b>")
    assert repr(bad) == "[FAIL] Exercise 9.9: x < y\n  Hint: use <b>"
    h = bad._repr_html_()
    assert "x &lt; y" in h and "use &lt;b&gt;" in h and "#D55E00" in h  # escaped, coloured
    assert repr(CheckResult("9.9", "not done", "m")).startswith("[TODO]")
    assert repr(CheckResult("9.9", "error", "m")).startswith("[ERROR]")
    assert "#E69F00" in CheckResult("9.9", "not done", "m")._repr_html_()


def test_run_student_returns_value_or_problem():
    assert core.run_student("9.9", lambda a, b=0: a + b, 1, b=2) == (3, None)
    value, problem = core.run_student("9.9", stub, 1)
    assert value is None and problem.status == "not done"


# --- no hidden reference, escalating hints -------------------------------------------------

def test_calling_a_forbidden_course_function_fails_the_check():
    from helpers.activations import derivative

    ns = {"derivative": derivative, "np": np}
    exec("def cheat(z):\n    return derivative('sigmoid')(z)\n", ns)
    exec("def honest(z):\n    s = 1 / (1 + np.exp(-z))\n    return s * (1 - s)\n", ns)
    ref = derivative("sigmoid")
    r = core.check_function("9.8", ns["cheat"], ref, [np.linspace(-3, 3, 7)], forbid=[derivative])
    assert r.status == "failed" and "`derivative`" in r.message and "course's own" in r.message
    assert ns["derivative"] is derivative  # restored afterwards
    import helpers.activations as acts
    assert acts.derivative is derivative
    assert core.check_function("9.8", ns["honest"], ref, [np.linspace(-3, 3, 7)],
                               forbid=[derivative]).passed


def test_forbid_catches_module_attribute_calls_and_leaves_libraries_alone():
    import helpers.activations as acts

    ns = {"helpers_acts": acts, "np": np}
    exec("def cheat(z):\n    return helpers_acts.derivative('tanh')(z)\n", ns)
    got, problem = core.run_student("9.7", ns["cheat"], np.zeros(3), forbid=[acts.derivative])
    assert got is None and problem.status == "failed"
    # a NumPy function as reference is never patched: np.square keeps working
    r = check_function("9.6", lambda x: np.square(x), np.square, [np.arange(3.0)])
    assert r.passed


def test_hints_escalate_and_are_hidden_while_not_done():
    levels = ("look at the sign", "sigma(-z) = 1 - sigma(z)", "return s * (1 - s)")
    r = check_value("9.5", 1.0, 2.0, hint=levels)
    assert r.hint.startswith("look at the sign") and "further hint" in r.hint
    r = check_value("9.5", 1.0, 2.0, hint=levels)
    assert "sigma(-z)" in r.hint and "return s" not in r.hint
    r = check_value("9.5", 1.0, 2.0, hint=levels)
    assert "return s * (1 - s)" in r.hint and "further hint" not in r.hint
    assert check_value("9.5", 2.0, 2.0, hint=levels).passed
    assert check_value("9.5", 1.0, 2.0, hint=levels).hint.startswith("look at the sign")
    r = check_function("9.4", stub, square, [1.0], hint=levels)
    assert r.status == "not done" and r.hint == "" and "Hint" not in repr(r)


# --- the pieces every check is built from ------------------------------------------------
def test_compare_uses_the_tolerances_it_is_given():
    assert compare(1.0 + 1e-4, 1.0, rtol=1e-3, atol=0.0) is None
    assert compare(1.0 + 1e-4, 1.0, rtol=1e-6, atol=0.0) is not None
    assert compare(1e-6, 0.0, rtol=0.0, atol=1e-5) is None
    assert compare(1e-6, 0.0, rtol=0.0, atol=1e-8) is not None


def test_check_function_default_tolerance_catches_small_absolute_errors():
    r = check_function("0.0", lambda x: x + 1e-6, lambda x: x, [np.zeros(3)])
    assert r.status == "failed" and "3 of 3 value(s) differ" in r.message


def test_course_functions_are_helpers_outside_the_checks():
    from helpers.theory import q_star

    assert core._course_function(q_star) and not core._course_function(np.mean)
    assert not core._course_function(compare) and not core._course_function(lambda: 0)
    assert not core._course_function(object())  # no module at all
    assert str(core.ReferenceCalled("q_star")) == "q_star"


@pytest.mark.parametrize("fn, status", [
    (3, "error"), (lambda: (_ for _ in ()).throw(NotImplementedError()), "not done"),
    (lambda: 1 / 0, "error")])
def test_run_student_results_name_the_exercise_and_carry_the_hint(fn, status):
    value, r = core.run_student("4.2", fn, hint="look at the sign")
    assert value is None and (r.exercise, r.status, r.hint) == ("4.2", status, "look at the sign")


def test_run_student_reports_a_forbidden_call_with_its_hint():
    from helpers.theory import q_star

    value, r = core.run_student("5.1", lambda: q_star("tanh", 1.0), hint="by hand", forbid=[q_star])
    assert value is None and (r.exercise, r.status, r.hint) == ("5.1", "failed", "by hand")
    assert "`q_star`" in r.message


def test_a_pass_resets_the_hint_levels():
    levels = ("first", "second")
    wrong = CheckResult("9.9", "failed", "no", levels)
    assert core.finish(wrong).hint.startswith("first")
    assert core.finish(wrong).hint.startswith("first second")
    core.finish(CheckResult("9.9", "passed", "yes", levels))
    assert core.finish(wrong).hint.startswith("first (try again")


def test_forbid_reaches_closures_skips_empty_cells_and_patches_only_the_callers_globals():
    """A forbidden function the student's function closes over is stood in for, and put
    back; an empty cell (a name assigned later in the enclosing function) is left alone; a
    forbidden object that is not a course function is stood in for in the caller's globals
    only, never in the course modules."""
    from helpers.activations import derivative

    def make():
        ref = derivative

        def closes_over(z):
            if z is None:
                return later(z)  # noqa: F821 (never called; its cell stays empty)
            return ref("tanh")(z)
        return closes_over
        later = None  # noqa: F841 (unreachable: makes `later` an empty cell)

    fn = make()
    got, problem = core.run_student("9.5", fn, np.zeros(3), forbid=[derivative])
    assert got is None and problem.status == "failed" and "`derivative`" in problem.message
    assert fn.__closure__[1].cell_contents is derivative  # restored
    assert fn(np.zeros(3)).tolist() == [1.0, 1.0, 1.0]

    def local_reference(z):
        return z

    ns = {"local_reference": local_reference}
    exec("def cheat(z):\n    return local_reference(z)\n", ns)
    import helpers.activations as acts

    before = dict(vars(acts))
    got, problem = core.run_student("9.4", ns["cheat"], 1.0, forbid=[local_reference])
    assert got is None and "`local_reference`" in problem.message
    assert ns["local_reference"] is local_reference and vars(acts) == before
