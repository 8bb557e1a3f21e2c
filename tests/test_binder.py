"""The Binder configuration: what repo2docker reads, and that it matches the local install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def read_pins(path: Path) -> dict[str, Version]:
    """Map each pinned package name in a requirements file to its version."""
    pins = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):  # options such as -e . or --extra-index-url
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"{path.name}: not pinned: {raw!r}"
        pins[canonicalize_name(req.name)] = Version(specs[0].version)
    return pins


def test_runtime_is_python_311():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_binder_torch_is_the_cpu_build():
    text = (BINDER / "requirements.txt").read_text()
    assert f"--extra-index-url {CPU_INDEX}" in text
    torch = read_pins(BINDER / "requirements.txt")["torch"]
    assert torch.local == "cpu", f"torch must be the +cpu build on Binder, got {torch}"
    assert not re.search(r"\bcu\d+", text), "a CUDA build of torch is referenced"
    assert "nvidia" not in text.lower()


def test_binder_pins_the_same_versions_as_the_root_requirements():
    root = read_pins(ROOT / "requirements.txt")
    binder = read_pins(BINDER / "requirements.txt")
    missing = sorted(set(root) - set(binder))
    assert not missing, f"in requirements.txt but not in binder/requirements.txt: {missing}"
    # the local label (+cpu) names the build, not the version: compare public versions
    differ = {
        name: (str(root[name]), str(binder[name]))
        for name in set(root) & set(binder)
        if root[name].public != binder[name].public
    }
    assert not differ, f"versions differ (root, binder): {differ}"


def test_postbuild_installs_the_course_package():
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable"
    assert re.search(r"pip install .*-e \.", post.read_text())


def _repo2docker() -> list[str] | None:
    exe = Path(sys.executable).with_name("jupyter-repo2docker")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("jupyter-repo2docker")
    return [found] if found else None


@pytest.fixture(scope="module")
def dockerfile() -> str:
    cmd = _repo2docker()
    if cmd is None:
        pytest.skip("jupyter-repo2docker is not installed (pip install jupyter-repo2docker)")
    # repo2docker reads the working tree; --no-build prints the Dockerfile, no Docker needed
    proc = subprocess.run(
        [*cmd, "--no-build", "--debug", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_repo2docker_uses_the_binder_folder(dockerfile):
    # the conda lock file for the chosen Python; its path is escaped in the build context
    assert re.search(r"environment(\.|-2e)py(-|-2d)3(\.|-2e)11(-|-2d)linux", dockerfile), (
        "repo2docker did not pick Python 3.11"
    )
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    assert "RUN ./binder/postBuild" in dockerfile
    # the root requirements.txt (with its `-e .`) must not be used instead of binder/
    assert 'install --no-cache-dir -r "requirements.txt"' not in dockerfile
