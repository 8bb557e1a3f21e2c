"""The package's layout holds: every module is listed in its package's docstring, a topic has
one name in every layer, and no module is long."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
PACKAGES = ["helpers", "helpers.topics", "helpers.figures", "helpers.widgets", "helpers.checks"]
MAX_LINES = 300


def modules(package: str) -> list[str]:
    folder = HELPERS.joinpath(*package.split(".")[1:])
    return sorted(p.stem for p in folder.glob("*.py") if p.stem != "__init__")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_listed_in_its_package_docstring(package):
    doc = importlib.import_module(package).__doc__ or ""
    if package == "helpers.checks":  # lesson01 ... lesson10 are named as a range
        names = [m for m in modules(package) if not re.fullmatch(r"lesson\d\d", m)]
    else:
        names = modules(package)
    missing = [m for m in names if not re.search(rf"\b{m}\b", doc)]
    assert not missing, f"{package}'s docstring does not list {missing}"


def test_each_topic_has_one_name_in_every_layer():
    topics = set(modules("helpers.topics"))
    for layer in ("figures", "widgets"):
        shared = {"style", "profiles", "compare", "curves"} if layer == "figures" else {
            "base", "pacing", "curves"}
        extra = set(modules(f"helpers.{layer}")) - topics - shared
        assert not extra, f"helpers/{layer} has modules that are not topics: {extra}"
    assert topics <= set(modules("helpers.figures")), topics - set(modules("helpers.figures"))


def test_no_module_is_long():
    long = {str(p.relative_to(HELPERS)): n for p in HELPERS.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"
