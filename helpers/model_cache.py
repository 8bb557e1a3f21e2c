"""``ModelCache``: the network an ``MLPConfig`` builds, re-initialised in place when only
its weights change (what a slider moving needs)."""

from __future__ import annotations

from collections import OrderedDict

from helpers.models import MLP, MLPConfig, build_mlp, init_weights
from helpers.validation import check_int


class ModelCache:
    """``build_mlp(config)`` for a few recent architectures, re-initialised in place.

    Building a deep or wide network costs several times more than re-initialising one
    (``init_weights`` gives the same weights as ``build_mlp``), which matters when a slider
    moves. The key is every field that shapes the network (not init, weight scales or
    seed); the ``maxsize`` most recently used models are kept. A network asked for again
    with the same config is not re-initialised if none of its parameters and buffers was
    written since (PyTorch's version counter of each tensor says so): a gradient
    measurement leaves them as they were, a training step or a BatchNorm update does not.
    """

    ARCHITECTURE = ("depth", "width", "activation", "norm", "residual", "norm_position",
                    "in_features", "out_features", "dtype")

    def __init__(self, maxsize: int = 2):
        self.maxsize = check_int("maxsize", maxsize, 1)
        self._models: OrderedDict = OrderedDict()

    def __call__(self, config: MLPConfig) -> MLP:
        """The network ``config`` builds, with exactly ``build_mlp(config)``'s weights."""
        key = tuple(getattr(config, f) for f in self.ARCHITECTURE)
        model, written = self._models.pop(key, (None, None))
        if model is None:
            model = build_mlp(config)
        elif not (model.config == config and written == _written(model)):
            model = init_weights(model, config)
        model.config = config
        self._models[key] = (model, _written(model))
        while len(self._models) > self.maxsize:
            self._models.popitem(last=False)
        return model

    def __len__(self) -> int:
        return len(self._models)


def _written(model: MLP) -> tuple:
    """Which storage each parameter and buffer of ``model`` uses and how often it was
    written in place: equal tuples mean no tensor of the model changed in between."""
    return tuple((t.data_ptr(), t._version)
                 for t in (*model.parameters(), *model.buffers()))
