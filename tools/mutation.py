"""Mutation testing of one ``helpers`` module against its own fast unit tests (mutmut).

Usage::

    python -m tools.mutation theory                         # tests/test_theory.py
    python -m tools.mutation topics.normalization tests/test_topics_normalization.py \
        tests/test_checks_lesson06.py
    python -m tools.mutation theory --timeout 900 --show-survivors
    python -m tools.mutation theory --only 'helpers.theory.x_chi1*'   # some mutants only
    python -m tools.mutation models tests/test_models.py tests/test_capture.py \
        --deselect tests/test_capture.py::test_built_mlps_still_compile_with_torchscript

The base configuration is ``[tool.mutmut]`` in ``pyproject.toml``. This script copies the
project into ``mutation-runs/<module>/`` (ignored by git), restricts mutmut there to the one
module (``only_mutate``) and to the named test files, runs it with one worker under a wall
clock bound, and prints the kill rate. Running module by module keeps each run short and
its tests fast; a whole-package run would execute the whole suite once per mutant's callers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COPIED = ("helpers", "tests", "tools", "solutions")  # checks tests read solutions/


def _toml_value(value) -> str:
    """The TOML spelling of the scalars and string lists the mutmut table uses."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def module_path(module: str) -> Path:
    """``helpers/figures/chain.py`` for ``figures.chain``."""
    return Path("helpers", *module.split(".")).with_suffix(".py")


def prepare(module: str, tests: list[str], workdir: Path, deselect=()) -> None:
    """Copy the project into ``workdir`` with a pyproject restricted to ``module``."""
    path = module_path(module)
    if not (ROOT / path).is_file():
        sys.exit(f"no module {path} under {ROOT}")
    for test in tests:
        if not (ROOT / test).is_file():
            sys.exit(f"no test file {test}")
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    config = {**base, "only_mutate": [path.as_posix()],
              "pytest_add_cli_args": [*base.get("pytest_add_cli_args", []),
                                      *(f"--deselect={node}" for node in deselect)],
              "pytest_add_cli_args_test_selection": tests}
    workdir.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.rmtree(workdir / name, ignore_errors=True)
        shutil.copytree(ROOT / name, workdir / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    lines = ["[tool.mutmut]"] + [f"{k} = {_toml_value(v)}" for k, v in config.items()]
    (workdir / "pyproject.toml").write_text("\n".join(lines) + "\n")
    # Which tests call which function: recorded afresh on every run. A record left by an
    # earlier run does not know the tests added since, and mutmut would not try them.
    (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)


def summary(workdir: Path) -> dict:
    """Counts from mutmut's own stats file (written at the end of a run)."""
    stats = workdir / "mutants" / "mutmut-cicd-stats.json"
    return json.loads(stats.read_text()) if stats.is_file() else {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", help="module under helpers/, e.g. theory or figures.chain")
    parser.add_argument("tests", nargs="*",
                        help="test files (default tests/test_<module>.py, dots as underscores)")
    parser.add_argument("--timeout", type=int, default=900, help="wall-clock bound, seconds")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="mutant names or globs to run, e.g. 'helpers.theory.x_chi1*'")
    parser.add_argument("--deselect", nargs="+", default=[], metavar="NODEID",
                        help="tests to leave out, e.g. one that compiles the module with "
                             "TorchScript (mutmut's wrappers do not compile)")
    parser.add_argument("--show-survivors", action="store_true",
                        help="print the diff of every surviving mutant")
    args = parser.parse_args(argv)
    tests = args.tests or [f"tests/test_{args.module.replace('.', '_')}.py"]
    workdir = ROOT / "mutation-runs" / args.module
    prepare(args.module, tests, workdir, args.deselect)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # mutmut sets sys.path
    mutmut = [sys.executable, "-m", "mutmut"]
    log = workdir / "mutmut-run.log"  # mutmut's progress display, kept out of the terminal
    print(f"mutating helpers/{args.module} against {' '.join(tests)} (log: {log})", flush=True)
    try:
        with open(log, "w") as out:
            subprocess.run([*mutmut, "run", "--max-children", "1", *args.only], cwd=workdir,
                           env=env, stdout=out, stderr=subprocess.STDOUT,
                           timeout=args.timeout, check=False)
    except subprocess.TimeoutExpired:
        print(f"stopped after {args.timeout} s; the counts cover the mutants run so far "
              "(run the same command again to go on where it stopped)")
    results = subprocess.run([*mutmut, "results", "--all", "true"], cwd=workdir, env=env,
                             capture_output=True, text=True, check=False).stdout
    counts: dict[str, int] = {}
    survivors = []
    for line in results.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name:
            counts[status] = counts.get(status, 0) + 1
            if status == "survived":
                survivors.append(name)
    killed, survived = counts.get("killed", 0), counts.get("survived", 0)
    tested = killed + survived + counts.get("timeout", 0)
    rate = 100 * (tested - survived) / tested if tested else float("nan")
    print(f"helpers/{args.module}: {dict(sorted(counts.items()))}; kill rate {rate:.1f}% of "
          f"{tested} mutants tested")
    for name in survivors:
        print(f"survived: {name}")
    if args.show_survivors and survivors:
        print(show(workdir, env, module_path(args.module), survivors), flush=True)
    return 0


# One process prints every diff: ``mutmut show NAME`` per survivor starts Python and
# searches every mutated file each time, minutes for a module with hundreds of survivors.
_SHOW = """
import sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
path = sys.argv[1]
for name in sys.argv[2:]:
    print(f"# {name}: survived")
    print(get_diff_for_mutant(name, path=path))
    print()
"""


def show(workdir: Path, env: dict, path: Path, names: list[str]) -> str:
    """The diff of each named mutant of the module at ``path`` (mutmut's own diff)."""
    done = subprocess.run([sys.executable, "-c", _SHOW, path.as_posix(), *names], cwd=workdir,
                          env=env, capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


if __name__ == "__main__":
    raise SystemExit(main())
