"""helpers.figures.compare: traces of the comparison and growth charts, worked out by hand."""

import numpy as np

from helpers.figures.compare import (
    comparison_figure,
    gradient_growth_figure,
    update_comparison_figure,
)


def floats(a):
    return [float(v) for v in a]


def test_reference_line_spans_the_longest_series():
    fig = comparison_figure({"one layer": [0.5]}, reference=0.1)
    assert floats(fig.data[-1].x) == [1, 1] and floats(fig.data[-1].y) == [0.1, 0.1]
    fig = comparison_figure({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0, 4.0]}, reference=0.2)
    assert floats(fig.data[-1].x) == [1, 4]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"
    update_comparison_figure(fig, {"a": [1.0], "b": [2.0, 3.0]})  # reference left as it was
    assert floats(fig.data[-1].x) == [1, 4] and floats(fig.data[-1].y) == [0.2, 0.2]


def test_a_reference_given_to_a_figure_without_one_changes_no_series():
    fig = comparison_figure({"a": [1.0, np.inf], "b": [1.0, np.inf]})
    assert len(fig.data) == 6
    update_comparison_figure(fig, {"a": [1.0, np.inf], "b": [2.0, np.inf]}, reference=0.5)
    assert floats(fig.data[-1].x) == [2]  # b's overflow marker, not a reference line
    assert floats(fig.data[3].y) == [2.0, 20.0]


def test_flagged_points_are_named_per_series_in_the_subtitle():
    fig = comparison_figure({"a": [1.0, 0.0], "b": [1.0, 2.0]}, title="T")
    assert fig.layout.title.text.startswith("T<br><sup>a: ")
    assert fig.layout.title.text.count("<sup>") == 1
    assert fig.data[1].showlegend is True and fig.data[4].showlegend is False


def test_growth_chart_draws_one_shared_theory_curve_after_the_series():
    fig = gradient_growth_figure({"x": [1.0, 2.0], "y": [3.0, 4.0]}, [0.5, 0.25],
                                 title="t", x_title="l", y_title="g")
    assert len(fig.data) == 9
    assert floats(fig.data[0].y) == [1.0, 2.0] and floats(fig.data[3].y) == [3.0, 4.0]
    assert floats(fig.data[6].y) == [0.5, 0.25] and fig.data[6].visible is not False
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.exponentformat == "power"
    hidden = gradient_growth_figure({"x": [1.0, 2.0], "y": [3.0, 4.0]}, None,
                                    title="t", x_title="l", y_title="g")
    assert hidden.data[6].visible is False and hidden.data[3].visible is not False


def test_growth_chart_with_a_theory_per_series():
    fig = gradient_growth_figure({"x": [1.0, 2.0]}, {"x": [2.0, 8.0]}, title="t",
                                 x_title="l", y_title="g", labels={"x": "X"})
    assert len(fig.data) == 6 and fig.data[3].name == "X: theory"
    assert floats(fig.data[3].y) == [2.0, 8.0] and fig.data[3].line.dash is not None


def test_growth_chart_names_a_series_flagged_points_in_its_subtitle():
    fig = gradient_growth_figure({"x": [1.0, 0.0], "y": [1.0, 2.0]}, None, title="T",
                                 x_title="l", y_title="g")
    assert fig.layout.title.text.startswith("T<br><sup>x: 1 layer")
    assert fig.layout.title.text.count("<sup>") == 1
