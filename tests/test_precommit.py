"""The commit hooks (.pre-commit-config.yaml) use the tool versions the test suite uses."""

from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def dev_pins() -> dict[str, str]:
    pins = {}
    for raw in (ROOT / "requirements-dev.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            req = Requirement(line)
            pins[req.name.lower()] = str(req.specifier)
    return pins


def hooks() -> dict[str, dict]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return {h["id"]: h for repo in config["repos"] for h in repo["hooks"]}


def test_hooks_pin_the_versions_of_requirements_dev():
    pins = dev_pins()
    found = 0
    for hook in hooks().values():
        for dep in hook.get("additional_dependencies", []):
            req = Requirement(dep)
            assert pins.get(req.name.lower()) == str(req.specifier), (
                f"hook {hook['id']} pins {dep}, requirements-dev.txt has "
                f"{req.name}{pins.get(req.name.lower())}"
            )
            found += 1
    assert found >= 3


def test_the_project_checks_are_hooked():
    ids = hooks()
    assert {"ruff-check", "ruff-format", "nbstripout", "slide-metadata"} <= set(ids)
    assert "jupyter" in ids["ruff-check"]["types_or"]
    assert ids["slide-metadata"]["entry"] == "python -m tools.slide_metadata"
