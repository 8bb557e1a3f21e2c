"""tools/mutation_stats.py: mutmut tries a mutant against every test that reads a cached
fixture's result, not only the first test that computed it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SOURCE = "def double(x):\n    return 2 * x\n"
TESTS = '''import pytest

from pkg.calc import double


@pytest.fixture(scope="module")
def value():
    return double(3)


def test_first_reads_nothing(value):
    assert value is not None


def test_second_checks_the_value(value):
    assert value == 6
'''


def _mutate(tmp_path: Path, with_plugin: bool) -> tuple[dict, list]:
    """Run mutmut on a one-function package whose only checking test comes second."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "calc.py").write_text(SOURCE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_calc.py").write_text(TESTS)
    conftest = "import sys\n"
    if with_plugin:  # what tests/conftest.py does, with the project's tools importable
        conftest += (f"sys.path.insert(0, {str(ROOT)!r})\n"
                     "if 'mutmut' in sys.modules:\n"
                     "    pytest_plugins = ['tools.mutation_stats']\n")
    (tmp_path / "tests" / "conftest.py").write_text(conftest)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.mutmut]\nsource_paths = ["pkg"]\n'
        'pytest_add_cli_args = ["-q", "-p", "no:cacheprovider", "-p", "no:xdist"]\n')
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "run", "--max-children", "1"], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    results = subprocess.run([*mutmut, "results", "--all", "true"], cwd=tmp_path, check=True,
                             capture_output=True, text=True, timeout=120).stdout
    stats = json.loads((tmp_path / "mutants" / "mutmut-stats.json").read_text())
    statuses = [line.rpartition(": ")[2] for line in results.splitlines() if ": " in line]
    return stats["tests_by_mangled_function_name"], statuses


@pytest.mark.parametrize("with_plugin", [False, True])
def test_a_cached_fixtures_calls_are_credited_to_every_test_using_it(tmp_path, with_plugin):
    tests, statuses = _mutate(tmp_path, with_plugin)
    credited = {name.rpartition("::")[2] for name in tests["pkg.calc.x_double"]}
    assert statuses and len(statuses) >= 2
    if with_plugin:
        assert credited == {"test_first_reads_nothing", "test_second_checks_the_value"}
        assert set(statuses) == {"killed"}
    else:  # mutmut alone: the first test is the only one tried, and every mutant survives
        assert credited == {"test_first_reads_nothing"}
        assert set(statuses) == {"survived"}
        # --show-survivors prints each one's diff, all from one process
        from tools.mutation import show

        names = [f"pkg.calc.x_double__mutmut_{i}" for i in range(1, len(statuses) + 1)]
        diffs = show(tmp_path, {}, Path("pkg/calc.py"), names)
        assert diffs.count(": survived\n") == len(names), diffs
        assert diffs.count("\n-    return 2 * x\n") == len(names), diffs
        assert "Traceback" not in diffs


def test_prepare_drops_the_record_of_which_tests_call_what(tmp_path):
    """A rerun must learn the tests added since the last run: prepare() removes mutmut's
    record of which tests call which function, and keeps the mutants' results."""
    from tools.mutation import prepare

    stats = tmp_path / "mutants" / "mutmut-stats.json"
    meta = tmp_path / "mutants" / "helpers" / "growth.py.meta"
    meta.parent.mkdir(parents=True)
    stats.write_text("{}")
    meta.write_text("{}")
    prepare("growth", ["tests/test_growth.py"], tmp_path)
    assert not stats.exists() and meta.exists()
    assert (tmp_path / "helpers" / "growth.py").is_file()
    assert 'pytest_add_cli_args_test_selection = ["tests/test_growth.py"]' in (
        tmp_path / "pyproject.toml").read_text()
