"""In CI the suite never passes by skipping: with CI=true (or --require-all) a test skipped for
missing data, a missing service or a missing package fails, naming what is missing; a skip
that is a fact of the platform stays a skip; outside CI, skips say why (-rs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

INNER = """
import pytest

pytestmark = []

def test_needs_data():
    pytest.skip("dev data not found at /nowhere/wmt-variants-dev")

@pytest.mark.skipif(True, reason="platform: this file system makes no file without a name")
def test_platform_fact():
    pass

def test_runs():
    assert True
"""

MISSING_PACKAGE = """
import pytest
pytest.importorskip("no_such_package_here", reason="the extra is not installed (pip install 'x[y]')")

def test_never_collected():
    pass
"""


def inner_run(folder: Path, *args: str, ci: str | None = None) -> subprocess.CompletedProcess[str]:
    """pytest on ``folder`` (holding a copy of this suite's conftest), with ``CI`` set or unset."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    cmd = [sys.executable, "-m", "pytest", "-rs", "-p", "no:cacheprovider", str(folder), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=folder)


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text(encoding="utf-8"))
    (tmp_path / "test_inner.py").write_text(INNER)
    return tmp_path


def test_outside_ci_a_missing_requirement_skips_and_says_why(suite):
    done = inner_run(suite)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 2 skipped" in done.stdout
    assert "SKIPPED [1] test_inner.py:7: dev data not found at /nowhere/wmt-variants-dev" in done.stdout


@pytest.mark.parametrize(("ci", "args"), [("true", ()), ("1", ()), (None, ("--require-all",))])
def test_in_ci_a_missing_requirement_fails_naming_it(suite, ci, args):
    done = inner_run(suite, *args, ci=ci)
    assert done.returncode == 1, done.stdout
    assert "1 failed, 1 passed, 1 skipped" in done.stdout
    expected = "required here (CI=true or --require-all), but skipped: dev data not found at /nowhere/"
    assert expected + "wmt-variants-dev" in done.stdout
    # The platform's fact stays a skip, with its reason.
    assert "platform: this file system makes no file without a name" in done.stdout


def test_ci_set_to_false_is_not_ci(suite):
    assert inner_run(suite, ci="false").returncode == 0


def test_in_ci_a_module_skipped_for_a_missing_package_is_an_error(suite):
    (suite / "test_inner.py").write_text(MISSING_PACKAGE)
    (suite / "test_other.py").write_text("def test_runs():\n    pass\n")
    outside = inner_run(suite)
    assert outside.returncode == 0 and "1 passed, 1 skipped" in outside.stdout
    done = inner_run(suite, ci="true")
    assert done.returncode != 0, done.stdout
    assert "1 error" in done.stdout
    assert "but skipped: the extra is not installed (pip install 'x[y]')" in done.stdout


def test_the_quality_guards_fail_in_ci_without_the_data(tmp_path):
    """The issue's check: ``CI=true DEDUP_DATA=/nonexistent python -m pytest tests/test_quality.py``
    fails, naming the missing data."""
    env = {**os.environ, "CI": "true", "DEDUP_DATA": str(tmp_path / "nonexistent")}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", str(TESTS / "test_quality.py")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=TESTS.parent)
    assert done.returncode == 1, done.stdout
    missing = tmp_path / "nonexistent" / "wmt-variants-dev"
    assert f"but skipped: dev data not found at {missing}" in done.stdout
    assert " passed" not in done.stdout.splitlines()[-1]  # (nothing there runs without the data)
