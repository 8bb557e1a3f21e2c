"""A real JupyterLab server for browser tests, and helpers to drive its page.

The server runs on 127.0.0.1 with a random token on a free port, with its own
settings, workspaces and runtime directories, and serves a temporary copy of the
notebooks so that running them never writes outputs into the repository.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

# Settings written for the test server: no news pop-up, no update check, no autosave
# (the served files are copies anyway), and no "kernel busy" dialogs on close.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autosave": False,
    },
}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """Start `jupyter lab` in a subprocess; `stop()` always terminates its process group."""

    def __init__(self, root_dir: Path, work_dir: Path, extra_args: list[str] | None = None):
        self.root_dir = Path(root_dir)
        self.work_dir = Path(work_dir)
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen | None = None
        self.log_path = self.work_dir / "jupyterlab.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """Full URL of a server path with the token attached."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def start(self, timeout: float = 90) -> LabServer:
        settings = self.work_dir / "settings"
        for rel, content in LAB_SETTINGS.items():
            target = settings / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(content))
        for sub in ("workspaces", "runtime", "config", "data"):
            (self.work_dir / sub).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(self.work_dir / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(self.work_dir / "runtime"),
            JUPYTER_CONFIG_DIR=str(self.work_dir / "config"),
            # kernels compute on the CPU; keep them from fighting over the two cores
            OMP_NUM_THREADS=env.get("OMP_NUM_THREADS", "1"),
            PYTHONUNBUFFERED="1",
        )
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.open_browser=False",
            "--LabApp.news_url=",
            # window.jupyterapp lets the tests run commands as the menus would
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            *self.extra_args,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # containers and CI often run as root
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.root_dir,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() also ends the kernels
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        # kernels started by the server share its process group; make sure none is left
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc = None
        self._log.close()


def copy_tree_for_serving(src_notebooks: list[Path], dest: Path) -> None:
    """Copy notebooks (and the repo's data folders they may read) into `dest/notebooks`."""
    nb_dir = dest / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    for nb in src_notebooks:
        shutil.copy2(nb, nb_dir / nb.name)


# --- page helpers -------------------------------------------------------------

JS_RUN_ALL = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

# State of the current notebook panel, read from the DOM and the app model.
JS_NOTEBOOK_STATE = """
() => {
  const app = window.jupyterapp;
  const w = app && app.shell.currentWidget;
  const status = document.querySelector('.jp-DebuggerBugButton') ? null : null;
  if (!w || !w.content || !w.sessionContext) return null;
  const cells = w.content.widgets.map(c => ({
    type: c.model.type,
    count: c.model.type === 'code' ? c.model.executionCount : null,
    prompt: c.node.querySelector('.jp-InputPrompt')?.textContent.trim() ?? '',
    tags: c.model.getMetadata ? (c.model.getMetadata('tags') || []) : [],
  }));
  const kernel = w.sessionContext.session?.kernel;
  return {
    path: w.context.path,
    kernel: kernel ? kernel.status : 'none',
    cells,
  };
}
"""

# Error outputs in the current notebook: one entry per error output, with its cell's tags.
JS_ERRORS = """
() => {
  const w = window.jupyterapp.shell.currentWidget;
  const out = [];
  w.content.widgets.forEach((c, i) => {
    if (c.model.type !== 'code') return;
    const outputs = c.model.outputs;
    for (let j = 0; j < outputs.length; j++) {
      const o = outputs.get(j).toJSON();
      if (o.output_type === 'error') {
        out.push({cell: i, ename: o.ename, evalue: o.evalue,
                  tags: c.model.getMetadata('tags') || []});
      } else if (o.output_type === 'stream' && o.name === 'stderr'
                 && /Traceback \\(most recent call last\\)/.test(o.text)) {
        out.push({cell: i, ename: 'stderr traceback', evalue: String(o.text).slice(-400),
                  tags: c.model.getMetadata('tags') || []});
      }
    }
  });
  return out;
}
"""

# y values of every Plotly chart in the page (visible or not), as plain lists.
JS_PLOT_DATA = """
() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => {
  const data = el._fullData || el.data || [];
  return data.map(t => {
    const pick = v => (v == null ? null : Array.from(v, x => (x === null ? null : +x)));
    return {x: pick(t.x), y: pick(t.y), z: t.z ? JSON.stringify(t.z).slice(0, 2000) : null,
            visible: t.visible};
  });
})
"""


JS_CLOSE_ALL = """
async () => {
  const app = window.jupyterapp;
  if (!app) return 0;
  if (document.body.dataset.jpDeckMode === 'presenting') {
    await app.commands.execute('deck:stop');
  }
  const docs = Array.from(app.shell.widgets('main')).filter(w => w.context);
  for (const w of docs) {
    if (w.sessionContext && w.sessionContext.session) await w.sessionContext.shutdown();
    w.context.model.dirty = false;  // no "save changes?" dialog: the served files are copies
    w.dispose();
  }
  return docs.length;
}
"""


def open_notebook(page, server: LabServer, rel_path: str, timeout_ms: int = 60_000) -> None:
    """Open a notebook in JupyterLab and wait until its cells are shown and its kernel is idle.

    The first call loads JupyterLab; later calls on the same page close the open notebooks
    (shutting their kernels down) and open the next one without reloading the page.
    """
    loaded = page.url.startswith(server.base_url) and page.evaluate("() => !!window.jupyterapp")
    if loaded:
        page.evaluate(JS_CLOSE_ALL)
        page.evaluate("""(path) => window.jupyterapp.commands
                         .execute('docmanager:open', {path}).then(() => null)""", rel_path)
    else:
        # ?reset: start from an empty workspace, so that nothing opened before is restored
        page.goto(server.url(f"lab/tree/{rel_path}?reset"), wait_until="domcontentloaded")
        page.wait_for_function("() => !!window.jupyterapp", timeout=timeout_ms)
        page.evaluate("() => window.jupyterapp.started.then(() => window.jupyterapp.restored)")
    page.wait_for_function(
        """(path) => {
          const w = window.jupyterapp.shell.currentWidget;
          return !!(w && w.context && w.context.path === path && w.content
                    && w.content.widgets && w.content.widgets.length > 0
                    && w.sessionContext && w.sessionContext.session
                    && w.sessionContext.session.kernel
                    && w.sessionContext.session.kernel.status === 'idle');
        }""",
        arg=rel_path,
        timeout=timeout_ms,
    )


def run_all_and_wait(page, timeout_ms: int = 180_000) -> dict:
    """Run every cell; wait until each code cell has an execution count and the kernel is idle."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.evaluate(JS_RUN_ALL)
    except PlaywrightError as exc:
        # The command's promise was once collected unsettled (one run of the suite, on
        # the training-dashboard notebook); the cells' state below is what decides
        if "garbage collected" not in str(exc):
            raise
    page.wait_for_function(
        f"""() => {{
          const s = ({JS_NOTEBOOK_STATE})();
          if (!s || s.kernel !== 'idle') return false;
          return s.cells.every(c => c.type !== 'code'
                               || (c.count !== null && !c.prompt.includes('*')));
        }}""",
        timeout=timeout_ms,
        polling=250,
    )
    return page.evaluate(JS_NOTEBOOK_STATE)


def run_to_first_chart(page, server: LabServer, rel_path: str):
    """Open ``rel_path``, run it, check the page logged no errors, and return the first
    output area that holds a chart, once the chart is drawn."""
    open_notebook(page, server, rel_path)
    run_all_and_wait(page)
    errors = page.evaluate(JS_ERRORS)
    assert not errors, errors
    area = page.locator(".jp-OutputArea-output").filter(has=page.locator(".js-plotly-plot")).first
    area.locator(".js-plotly-plot .main-svg").first.wait_for(state="attached")
    return area


def plot_data(page) -> list:
    return page.evaluate(JS_PLOT_DATA)
