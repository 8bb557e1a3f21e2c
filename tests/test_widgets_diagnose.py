"""helpers.widgets.diagnose: moving the depth redraws both profiles with the right numbers."""

import numpy as np
import pytest

from helpers.topics.diagnose import ffn_grad_norms, sequence_task, transformer_stack
from helpers.widgets.diagnose import make_norm_position_explorer


def test_depth_change_redraws_the_measured_profiles():
    w = make_norm_position_explorer(depth=4)
    assert len(w.figure.data[0].y) == 4 and w.error is None
    w.depth.value = 6
    assert w.error is None and w.updates == 2
    X, y = sequence_task()
    for i, pre in enumerate((False, True)):
        expected = ffn_grad_norms(transformer_stack(6, pre), X, y)
        np.testing.assert_allclose(w.figure.data[3 * i].y, expected, rtol=1e-6)
        assert list(w.figure.data[3 * i].x) == [1, 2, 3, 4, 5, 6]
    assert "6 layers" in w.figure.layout.title.text and "post-norm" in w.status.value


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="between 2 and 24"):
        make_norm_position_explorer(depth=40)
    with pytest.raises(ValueError, match="seed"):
        make_norm_position_explorer(seed=-1)


def test_static_snapshot():
    w = make_norm_position_explorer(depth=3)
    bundle = w._repr_mimebundle_()
    assert "plotly-graph-div" in bundle["text/html"] and "JupyterLab" in bundle["text/html"]
