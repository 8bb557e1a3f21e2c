"""The Gradient Flow Explorer: change a network, see its gradients layer by layer."""

from __future__ import annotations

import math
from collections import OrderedDict

import ipywidgets as widgets

from helpers.capture import gradient_profile
from helpers.data import lesson_data
from helpers.figures.gradient_flow import explorer_figure, update_explorer_figure
from helpers.model_cache import ModelCache
from helpers.models import MLPConfig
from helpers.topics.gradient_flow import EXPLORER_INITS, config_title, flow_summary
from helpers.validation import check_choice, check_float, check_int
from helpers.widgets.base import LiveFigure, activation_dropdown, norm_dropdown, norm_value

DEPTH_RANGE, WIDTH_RANGE = (1, 100), (4, 512)  # the sliders' ranges
WEIGHT_STD_RANGE = (1e-3, 10.0)
MAX_SEED = 10**6


class GradientFlowExplorer(LiveFigure):
    """Controls for depth, width, activation, init (and weight std), norm, residual, seed
    and float precision; one dashboard of per-layer gradient norm, activation std,
    saturated/dead units and activation histograms; a status line with the first/last
    activation-gradient ratio, the weight-gradient ratio and the largest weight gradient.

    Models are cached by architecture and re-initialised in place when only the init or
    the seed changes, so an update costs one forward and backward pass plus statistics.
    While the controls are still (in JupyterLab), the profiles one depth up and one down
    are computed ahead, and the last few shown are kept, so that an arrow key on the depth
    slider shows its chart without waiting for the computation (``prefetch = False`` turns
    it off; a profile computed ahead is the same as one computed on the press). Networks of
    more than ``PREFETCH_MAX_WEIGHTS`` weights are not computed ahead.
    """

    PREFETCH_MAX_WEIGHTS = 500_000  # about twice the default network (depth 50, width 64)
    AHEAD = 4  # profiles kept from computing ahead

    def __init__(self, X=None, y=None, *, depth: int = 20, width: int = 64,
                 activation: str = "sigmoid", init: str = "default", weight_std: float = 0.1,
                 norm: str | None = None, residual: bool = False, seed: int = 0,
                 dtype: str = "float64", batch: int = 256):
        if (X is None) != (y is None):
            raise ValueError("give both X and y (inputs and labels), or neither for the "
                             "lesson's spirals")
        if X is None:
            X, y = lesson_data(check_int("batch", batch, 2, 100_000))
        # The controls would clamp values outside their ranges silently: refuse them here.
        depth = check_int("depth", depth, *DEPTH_RANGE)
        width = check_int("width", width, *WIDTH_RANGE)
        weight_std = check_float("weight_std", weight_std, *WEIGHT_STD_RANGE)
        seed = check_int("seed", seed, 0, MAX_SEED)
        MLPConfig(depth=depth, width=width, activation=activation, init=init, norm=norm,
                  residual=residual, seed=seed, dtype=dtype, weight_std=weight_std)  # validate
        check_choice("init", init, EXPLORER_INITS)
        self.X, self.y = X, y
        self.in_features = int(X.shape[1])
        self.out_features = int(y.max()) + 1
        self._models = ModelCache(maxsize=6)  # a few recent architectures, not unbounded
        self.profile = None
        self.config = None
        self.prefetch = True
        self._ahead: OrderedDict = OrderedDict()  # key -> profile computed ahead (used once)
        self._last_depth = depth
        self._shown_key = None
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="300px")
        controls = {
            "depth": widgets.IntSlider(depth, min=DEPTH_RANGE[0], max=DEPTH_RANGE[1],
                                       description="depth",
                                       continuous_update=True, style=style, layout=wide),
            "width": widgets.IntSlider(width, min=WIDTH_RANGE[0], max=WIDTH_RANGE[1], step=4,
                                       description="width",
                                       continuous_update=True, style=style, layout=wide),
            "activation": activation_dropdown(activation, layout=wide),
            "init": widgets.Dropdown(options=list(EXPLORER_INITS), value=init,
                                     description="init", style=style, layout=wide),
            "weight_std": widgets.FloatLogSlider(
                weight_std, base=10, min=-3, max=1, step=0.05, description="weight std",
                continuous_update=True, disabled=init != "normal", style=style, layout=wide,
                readout_format=".3g"),
            "norm": norm_dropdown(norm, layout=wide),
            "residual": widgets.Checkbox(residual, description="residual connections",
                                         indent=False, layout=wide),
            "seed": widgets.BoundedIntText(seed, min=0, max=MAX_SEED, description="seed",
                                           style=style, layout=wide),
            "dtype": widgets.ToggleButtons(options=["float64", "float32"], value=dtype,
                                           description="precision", style=style),
        }
        super().__init__(controls, explorer_figure())
        self.update()

    def _config(self, v: dict) -> MLPConfig:
        return MLPConfig(
            depth=v["depth"], width=v["width"], activation=v["activation"], init=v["init"],
            weight_std=v["weight_std"], norm=norm_value(v["norm"]), residual=v["residual"],
            seed=v["seed"],
            dtype=v["dtype"], in_features=self.in_features, out_features=self.out_features)

    def _key(self, config: MLPConfig) -> tuple:
        """What a profile depends on: the network and the data (as they are now)."""
        return config, id(self.X), self.X._version, id(self.y), self.y._version

    def _measure(self, config: MLPConfig):
        model = self._models(config)  # built once per architecture, in train mode
        return gradient_profile(model, self.X, self.y)

    def _compute(self):
        config = self._config(self.values())
        key = self._key(config)
        profile = self._ahead.pop(key, None) if self._reusing() else None  # used once
        return config, self._measure(config) if profile is None else profile, key

    def _reusing(self) -> bool:
        """Profiles are computed ahead and kept only live (in JupyterLab), if allowed."""
        return self.prefetch and self._live()

    def _keep(self, key, profile) -> None:
        self._ahead[key] = profile
        while len(self._ahead) > self.AHEAD:
            self._ahead.popitem(last=False)

    def _prefetch(self) -> bool:
        """Compute the profile one depth up and one down (the last move's way first)."""
        if not self._reusing() or self.config is None:
            return False
        c = self.config
        if c.depth * c.width ** 2 > self.PREFETCH_MAX_WEIGHTS:
            return False
        step = 1 if c.depth >= self._last_depth else -1
        for depth in (c.depth + step, c.depth - step):
            if not DEPTH_RANGE[0] <= depth <= DEPTH_RANGE[1]:
                continue
            config = c.replace(depth=depth)
            key = self._key(config)
            if key not in self._ahead:
                self._keep(key, self._measure(config))
                return True
        return False

    def _apply(self, state) -> str:
        config, p, key = state
        if self.config is not None:
            self._last_depth = self.config.depth
            if self._reusing():  # going back shows it again without computing
                self._keep(self._shown_key, self.profile)
        self.config, self.profile, self._shown_key = config, p, key
        self.controls["weight_std"].disabled = config.init != "normal"
        update_explorer_figure(self.figure, p, title=config_title(config))
        return status_sentence(p)


def _orders(ratio: float) -> str:
    """'(20.8 orders of magnitude smaller)' for a ratio, or '' when it has no logarithm."""
    if not (math.isfinite(ratio) and ratio > 0):
        return ""
    orders = math.log10(ratio)
    return f" ({abs(orders):.1f} orders of magnitude {'smaller' if orders < 0 else 'larger'})"


def status_sentence(profile) -> str:
    """The explorer's status line (HTML): first/last hidden-layer ratio of ||dL/da|| (the
    headline), of ||dL/dW||, and the largest ||dL/dW|| of any layer (the absolute scale)."""
    s = flow_summary(profile)
    return (f"<b>||dL/da|| first / last hidden layer: {s.activation_ratio:.3g}</b>"
            f"{_orders(s.activation_ratio)}; ||dL/dW|| first / last: {s.weight_ratio:.3g}; "
            f"largest ||dL/dW|| of any layer: {s.largest_weight_grad:.3g}")


def ratio_sentence(grad_norms) -> str:
    """'First hidden layer's gradient is 10^-k times the last hidden layer's' as HTML."""
    first = float(grad_norms[0])
    last = float(grad_norms[-2] if len(grad_norms) > 1 else grad_norms[0])
    if not (math.isfinite(first) and math.isfinite(last)) or last == 0:
        return (f"<b>first / last hidden-layer gradient norm:</b> cannot be formed "
                f"(first = {first:.3g}, last = {last:.3g})")
    if first == 0:
        return ("<b>first / last hidden-layer gradient norm: 0</b> — the first layer's "
                "gradient underflowed to exactly zero (try float64)")
    ratio = first / last
    orders = math.log10(ratio)
    trend = "smaller" if ratio < 1 else "larger"
    return (f"<b>first / last hidden-layer gradient norm: {ratio:.3g}</b> "
            f"({abs(orders):.1f} orders of magnitude {trend})")


def make_gradient_flow_explorer(X=None, y=None, **settings) -> GradientFlowExplorer:
    """The course's central widget; ``settings`` are the initial control values."""
    return GradientFlowExplorer(X, y, **settings)
