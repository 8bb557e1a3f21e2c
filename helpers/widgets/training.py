"""The training dashboard: configure a deep MLP, Start / Stop / Clear, watch it learn.

Training runs ``helpers.training.train`` in one worker thread, so the kernel's main thread
keeps handling widget messages: Stop (and any other widget) takes effect while a run is in
progress. ``train`` calls back after every record (every ``RECORD_EVERY`` steps); the callback
updates the progress line, asks for a redraw at most ``MAX_DRAWS_PER_SECOND`` times a
second, and returns ``True`` once Stop was pressed. Redraws are paced by
``helpers.widgets.pacing.PacedRedraw``: on the kernel's event loop, and only once the browser
has shown the previous one. Only one run exists per dashboard, and creating a new dashboard
stops the runs of earlier ones (re-running the cell leaves no orphaned loop).
"""

from __future__ import annotations

import html
import math
import threading
import time
import weakref

import ipywidgets as widgets

from helpers.figures import training as charts
from helpers.models import INITS, MLPConfig, build_mlp
from helpers.topics import training as topic
from helpers.training import OPTIMIZERS, decision_grid, train
from helpers.widgets.base import (
    LiveFigure,
    PacedRedraw,
    activation_dropdown,
    norm_dropdown,
    norm_value,
)

RECORD_EVERY = 5
# Measured: ~6 redraws/s cost ~12% of training speed in the kernel, and in JupyterLab on a
# loaded machine the browser fell 10-25 s behind the kernel's messages (so a click on Stop
# reached the kernel that late). So redraws are capped, and once a browser has shown the
# chart, the next redraw waits for the browser's answer to the last one (read by
# helpers.widgets.pacing.BrowserAnswers), at most LiveFigure.ACK_TIMEOUT s
# (benchmarks/latency.py).
MAX_DRAWS_PER_SECOND = 3
MAX_PROGRESS_PER_SECOND = 2
GRID_POINTS = 30
_DASHBOARDS: weakref.WeakSet = weakref.WeakSet()


class TrainingDashboard(LiveFigure):
    """Controls, Start / Stop / Clear, a progress line, one live figure and a results table.

    Drive it from Python as from the buttons: ``start()``, ``stop()``, ``wait()``,
    ``clear()``; ``runs`` lists the finished runs (dicts with the History and a status).
    """

    STATIC_NOTE = ("A static snapshot of the training dashboard: run this notebook in "
                   "JupyterLab to train with Start and Stop.")

    def __init__(self, *, data: str = "spirals", depth: int = 20, width: int = 32,
                 activation: str = "sigmoid", init: str = "default", norm: str | None = None,
                 residual: bool = False, norm_position: str = "pre", optimizer: str = "adam",
                 lr: float = 0.01, steps: int = 100, seed: int = 0, runs: dict | None = None):
        MLPConfig(depth=depth, width=width, activation=activation, init=init, norm=norm,
                  residual=residual, norm_position=norm_position, seed=seed)  # validate
        if data not in topic.DATASETS:
            raise ValueError(f"unknown data {data!r}; valid choices: {', '.join(topic.DATASETS)}")
        if optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; valid choices: "
                             f"{', '.join(OPTIMIZERS)}")
        for other in list(_DASHBOARDS):  # a re-run cell: end the old dashboard's loop
            other.stop(wait=2.0)
        _DASHBOARDS.add(self)
        style, wide = {"description_width": "initial"}, widgets.Layout(width="260px")
        controls = {
            "data": widgets.Dropdown(options=list(topic.DATASETS), value=data, description="data",
                                     style=style, layout=wide),
            "depth": widgets.IntSlider(depth, min=1, max=50, description="depth", style=style,
                                       continuous_update=False, layout=wide),
            "width": widgets.IntSlider(width, min=4, max=128, step=4, description="width",
                                       style=style, continuous_update=False, layout=wide),
            "activation": activation_dropdown(activation, layout=wide),
            "init": widgets.Dropdown(options=[i for i in INITS if i != "mean_field"], value=init,
                                     description="init", style=style, layout=wide),
            "norm": norm_dropdown(norm, layout=wide),
            "residual": widgets.Checkbox(residual, description="residual", indent=False,
                                         layout=widgets.Layout(width="120px")),
            "norm_position": widgets.Dropdown(options=["inside", "pre", "post"],
                                              value=norm_position, description="norm at",
                                              style=style, layout=widgets.Layout(width="140px")),
            "optimizer": widgets.ToggleButtons(options=list(OPTIMIZERS), value=optimizer,
                                               description="optimizer", style=style),
            "lr": widgets.FloatLogSlider(lr, base=10, min=-4, max=1, step=0.1, description="lr",
                                         readout_format=".3g", continuous_update=False,
                                         style=style, layout=wide),
            "steps": widgets.IntSlider(steps, min=10, max=2000, step=10, description="steps",
                                       continuous_update=False, style=style, layout=wide),
            "seed": widgets.BoundedIntText(seed, min=0, max=10**6, description="seed",
                                           style=style, layout=widgets.Layout(width="140px")),
        }
        super().__init__(controls, charts.dashboard_figure(), columns=4)
        self.buttons = {name: widgets.Button(description=name, button_style=kind,
                                             layout=widgets.Layout(width="90px"))
                        for name, kind in (("Start", "success"), ("Stop", "danger"),
                                           ("Clear", ""))}
        self.buttons["Start"].on_click(lambda _: self._guarded(self.start))
        self.buttons["Stop"].on_click(lambda _: self._guarded(self.stop))
        self.buttons["Clear"].on_click(lambda _: self._guarded(self.clear))
        self.progress = widgets.IntProgress(value=0, min=0, max=steps,
                                            layout=widgets.Layout(width="300px"))
        self.progress_text = widgets.HTML()
        self.table = widgets.HTML()
        rows = [widgets.HBox(list(self.controls.values())[i:i + 4]) for i in range(0, 12, 4)]
        bar = widgets.HBox([*self.buttons.values(), self.progress, self.progress_text])
        self.widget = widgets.VBox([*rows, bar, self.status, self.figure, self.table,
                                    self.output])
        self.runs: list[dict] = []
        self.history = None  # the live or last run's History
        self.draws = 0
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._splits: dict = {}
        self._redraw = PacedRedraw(self.answers, lambda grid, split: self._draw(grid, split),
                                   self._guarded, ack_timeout=self.ACK_TIMEOUT)
        for name, run in (runs or {}).items():  # finished runs shown at start (static edition)
            self._finish(run.history, name, run.config, run.optimizer, run.lr,
                         grid=run.grid)
        self._draw()

    # --- public API ----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Start a run with the current settings; ``False`` if one is already running."""
        with self._lock:
            if self.running:
                self.status.value = "<b>A run is already in progress</b>: Stop it first."
                return False
            v = self.values()
            split = self._split(v["data"])
            config = self._config(in_features=split.in_features, out_features=split.classes)
            self._stop = threading.Event()
            self._redraw.bind()
            self.progress.max, self.progress.value = v["steps"], 0
            self.history = None
            self.status.value = (f"training: {charts.describe_config(config)}, {v['optimizer']} "
                                 f"lr {v['lr']:.3g}")
            self._thread = threading.Thread(
                target=self._run, args=(config, split, v["optimizer"], float(v["lr"]),
                                        int(v["steps"]), self._stop),
                name="training-dashboard", daemon=True)
            self._thread.start()
            return True

    def stop(self, wait: float | None = None) -> None:
        """Ask the run to stop at its next record; with ``wait``, block up to that many s."""
        self._stop.set()
        if wait is not None:
            self.wait(wait)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (or ``timeout`` s); ``True`` if no run is left."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return not self.running

    def clear(self) -> None:
        """Stop any run, forget every finished run, empty the charts and the table."""
        self.stop(wait=5.0)
        with self._lock:
            self.runs.clear()
            self.history = None
            self.progress.value = 0
            self.progress_text.value = ""
            self.table.value = ""
            self.status.value = "cleared"
            self._draw()

    # --- the worker thread ------------------------------------------------------------
    def _run(self, config, split, optimizer, lr, steps, stop_event) -> None:
        try:
            model = build_mlp(config)
            start = time.perf_counter()
            last_draw, last_progress = [0.0], [0.0]

            def boundary():  # the decision boundary, for 2-D data
                return decision_grid(model, GRID_POINTS) if split.in_features == 2 else None

            def on_record(history) -> bool:
                self.history = history
                now = time.perf_counter()
                if now - last_progress[0] >= 1.0 / MAX_PROGRESS_PER_SECOND:
                    last_progress[0] = now
                    self._show_progress(int(history.steps[-1]) + 1, steps, now - start)
                if now - last_draw[0] >= 1.0 / MAX_DRAWS_PER_SECOND and self._redraw.ready(now):
                    last_draw[0] = now
                    self._redraw.request(boundary(), split)
                return stop_event.is_set()

            history = train(model, split.X_train, split.y_train, steps=steps, lr=lr,
                            optimizer=optimizer, seed=config.seed, record_every=RECORD_EVERY,
                            callback=on_record, eval_data=(split.X_test, split.y_test))
            grid = boundary()
            self._show_progress(int(history.steps[-1]) + 1, steps, history.seconds)
            with self._lock:
                name = charts.describe_config(config)
                self._finish(history, name, config, optimizer, lr, grid=grid)
            self._redraw.pending = False
            self._redraw.request(grid, split)
        except Exception as exc:  # shown in the notebook: a widget never fails silently
            self.show_error(exc, "Training failed")

    def _show_progress(self, step: int, steps: int, elapsed: float) -> None:
        rate = step / elapsed if elapsed > 0 else math.nan
        self.progress.value = step
        self.progress_text.value = (f"step {step} / {steps} &middot; {rate:.0f} steps/s "
                                    f"&middot; {max(steps - step, 0) / rate:.1f} s left"
                                    if rate > 0 else f"step {step} / {steps}")

    def _finish(self, history, name, config, optimizer, lr, grid=None) -> None:
        if history.diverged:
            status = f"diverged at step {int(history.steps[-1])}"
        elif history.stopped_early:
            status = f"stopped at step {int(history.steps[-1]) + 1}"
        else:
            status = "finished"
        reach = topic.first_step_at(history.steps, history.test_accuracy, topic.TARGET_ACCURACY)
        self.runs.append(dict(name=name, config=config, optimizer=optimizer, lr=lr,
                              history=history, status=status, grid=grid, steps_to_target=reach))
        self.history = history
        color = "#D55E00" if history.diverged else "#009E73"
        self.status.value = f'<span style="color:{color}"><b>{status}</b></span>: {name}'
        self.table.value = charts.runs_table_html(self.runs, topic.TARGET_ACCURACY)

    # --- drawing ------------------------------------------------------------------------
    def _draw(self, grid=None, split=None) -> None:
        with self._lock:
            finished = [r["history"] for r in self.runs if r["history"] is not self.history]
            if grid is None and self.runs and self.runs[-1]["history"] is self.history:
                grid = self.runs[-1]["grid"]
            if split is None and grid is not None:
                split = self._split("spirals")
            points = (split.X_test, split.y_test) if split is not None and grid is not None \
                else None
            title = "Press Start to train" if self.history is None else (
                self.runs[-1]["name"] if self.runs and self.runs[-1]["history"] is self.history
                else "training ...")
            with self.figure.batch_update():
                charts.update_dashboard_figure(self.figure, self.history, finished, grid=grid,
                                        points=points, title=title)
            self._redraw.drawn()
            self.draws += 1

    def _split(self, name: str):
        if name not in self._splits:
            self._splits[name] = topic.lesson_split(name)
        return self._splits[name]

    def _guarded(self, action) -> None:
        try:
            action()
        except Exception as exc:  # a button never fails silently
            self.show_error(exc, "Error")

    def _on_change(self, change) -> None:
        # settings apply to the next Start; the title says what Start will train
        if self.running:
            return
        try:
            v = self.values()
            config = self._config()
            self.figure.layout.title.text = (f"Next run: {charts.describe_config(config)}, "
                                             f"{v['data']}, {v['optimizer']} lr {v['lr']:.3g}, "
                                             f"{v['steps']} steps")
        except Exception as exc:  # e.g. an invalid combination: say so, never fail silently
            self.status.value = (f'<span style="color:#D55E00"><b>Invalid setting:</b> '
                                 f"{html.escape(str(exc))}</span>")

    def _config(self, **sizes) -> MLPConfig:
        """The network the controls describe (``sizes``: in/out features of the data)."""
        v = self.values()
        return MLPConfig(depth=v["depth"], width=v["width"], activation=v["activation"],
                         init=v["init"], norm=norm_value(v["norm"]),
                         residual=v["residual"], norm_position=v["norm_position"],
                         seed=v["seed"], **sizes)

    def _update(self) -> str:
        self._draw()
        return self.status.value

    def _static_extra(self) -> str:
        return self.table.value


def make_training_dashboard(**settings) -> TrainingDashboard:
    """The lesson's training dashboard; ``settings`` are the initial control values, and
    ``runs`` (a dict of ``helpers.topics.training.Run``) pre-fills finished runs."""
    return TrainingDashboard(**settings)
