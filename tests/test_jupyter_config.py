"""The course's Jupyter configuration (jupyter-config/): what it sets, and that it is installed."""

from __future__ import annotations

import json
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "jupyter-config"
NEWS_PLUGIN = "@jupyterlab/apputils-extension:notification"


def shared_data() -> dict[str, str]:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]


def test_server_starts_as_root_and_serves_the_folder_it_starts_in():
    server = json.loads((CONFIG / "jupyter_server_config.json").read_text())["ServerApp"]
    assert server == {"allow_root": True, "root_dir": "."}


def test_jupyterlab_reads_the_news_setting_from_the_config_path(monkeypatch):
    from jupyterlab_server.settings_utils import _get_overrides

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(CONFIG))
    overrides, error = _get_overrides(str(ROOT / "no-such-app-settings-dir"))
    assert not error
    assert overrides[NEWS_PLUGIN] == {"fetchNews": "false", "checkForUpdates": False}


def test_the_package_installs_every_config_file_into_the_environment():
    files = {p.relative_to(ROOT).as_posix() for p in CONFIG.rglob("*.json")}
    mapping = shared_data()
    assert set(mapping) == files
    for source, target in mapping.items():
        assert target == "etc/jupyter/" + source.removeprefix("jupyter-config/")


def _installed_from_this_checkout() -> bool:
    try:
        dist = metadata.distribution("vanishing-gradients-course")
    except metadata.PackageNotFoundError:
        return False
    url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")
    return url.rstrip("/") == ROOT.as_uri()


@pytest.mark.skipif(not _installed_from_this_checkout(),
                    reason="the course package in this environment is not this checkout")
def test_the_environment_holds_the_config():
    for source, target in shared_data().items():
        installed = Path(sys.prefix, target)
        assert installed.is_file(), f"{installed} missing: pip install -e . again"
        assert json.loads(installed.read_text()) == json.loads((ROOT / source).read_text())
