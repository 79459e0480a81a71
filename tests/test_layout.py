"""The package's layout holds: no import circle, no private name taken from another module, and
each layer imports only the layers under it (docs/architecture.md draws them).

Imports are read from the source with ``ast`` (every import: at the top, in a function, under
``TYPE_CHECKING``), so a circle that only a late import or an annotation closes fails here too.
"""

from __future__ import annotations

import ast
import functools
import os
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dedup"

LAYERS: list[tuple[str, ...]] = [
    ("dedup.version",),  # the version string, read by pyproject.toml too
    ("dedup.runtime",),  # memory limit, processes, progress bars
    ("dedup.arrays",),  # hashed terms, key maps, spilled columns, sparse rows
    ("dedup.io",),  # articles in, results out, whole or not at all
    ("dedup.text",),  # tokens, language, numbers, paragraphs, fingerprints, embeddings
    ("dedup.sketch",),  # MinHash, LSH bands, the packed record of an article
    ("dedup.cluster",),  # linkage over scored pairs
    ("dedup.params",),  # every setting, validated in one place
    ("dedup.features", "dedup.featurize"),  # one article read into arrays; many, in worker processes
    ("dedup.score",),  # TF-IDF, sentence match, numbers, the decision
    ("dedup.result", "dedup.metrics"),  # what every engine returns; scoring against gold
    ("dedup.crosslingual",),  # groups linked across languages
    ("dedup.index",),  # the persistent index and its stores
    ("dedup.engines",),  # local and Spark
    ("dedup.api",),  # find_duplicates: engine and index chosen
    ("dedup.report",),  # alignment, boilerplate, reports and their renderings
    ("dedup.explain",),  # why two articles are (not) duplicates
    ("dedup.runs",),  # files in, a run folder out: what `dedup run` does
    ("dedup.cli", "dedup.__main__", "dedup"),  # the commands and the package's face
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@functools.cache
def imports(name: str) -> list[tuple[str, list[str], int]]:
    """``(module imported, names taken from it, line)`` for each import of ``dedup`` in ``name``."""
    tree = ast.parse(MODULES[name].read_text(), filename=str(MODULES[name]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name.split(".")[0] == "dedup"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "dedup":
            assert node.level == 0, f"{name}:{node.lineno}: a relative import"
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in MODULES:  # `from dedup.x import module`
                    found.append((sub, [], node.lineno))
                else:
                    found.append((node.module, [alias.name], node.lineno))
    return found


@functools.cache
def graph() -> dict[str, set[str]]:
    return {name: {target for target, _, _ in imports(name) if target != name} for name in MODULES}


def layer(name: str) -> int:
    best = None
    for k, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best[1])
            ):
                best = (k, prefix)
    assert best is not None, f"{name} is in no layer: add it to LAYERS and to docs/architecture.md"
    return best[0]


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), and self-imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_import_names_a_module_of_the_package():
    unknown = [(n, t, line) for n in MODULES for t, _, line in imports(n) if t not in MODULES]
    assert unknown == []


def test_no_import_circle():
    assert circles(graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{name}:{line} takes {n} from {target}"
        for name in MODULES
        for target, names, line in imports(name)
        for n in names
        if n.startswith("_") and not (n.startswith("__") and n.endswith("__")) and target != name
    ]
    assert private == []


def test_each_layer_imports_only_the_layers_under_it():
    upward = [
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)})"
        for name in MODULES
        for target in graph()[name]
        if layer(target) > layer(name)
    ]
    assert upward == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_over_500_lines_says_why_in_its_first_lines(name):
    lines = MODULES[name].read_text().splitlines()
    if len(lines) > 500:
        head = "\n".join(lines[:15]).lower()
        assert "over 500 lines" in head, f"{name}: {len(lines)} lines and no word on why"


def test_the_public_api_is_the_package_face():
    import types

    import dedup

    assert all(not isinstance(getattr(dedup, name), types.ModuleType) for name in dedup.__all__)
    assert callable(dedup.align) and callable(dedup.find_duplicates) and callable(dedup.deduplicate)
    assert dedup.Index.__module__ == "dedup.index.index" and dedup.Pair.__module__ == "dedup.result"


def test_the_package_says_it_is_typed_and_ships_its_licence():
    """PEP 561: ``py.typed`` in the package and in its wheel (package data), and the licence the
    metadata names beside it (issue 19)."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert (root / "dedup" / "py.typed").is_file()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["dedup"]
    assert project["project"]["license"] == "MIT"  # an SPDX expression (PEP 639), not the old table
    assert project["project"]["license-files"] == ["LICENSE"]
    assert (root / "LICENSE").read_text().startswith("MIT License")


def _tracked_files(root: Path) -> list[str]:
    import subprocess

    if not (root / ".git").exists():
        pytest.skip("platform: not a git checkout (an unpacked sdist), so there is no file list to compare")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


def test_the_sdist_carries_what_its_tests_need_and_they_pass_from_it(tmp_path):
    """The source distribution holds every file of the package, the seeds, the tests and the
    benchmark modules the tests import (MANIFEST.in; issue 19: it lacked seeds/), and a run and a
    test file work from the unpacked sdist alone."""
    import shutil
    import subprocess
    import sys
    import tarfile

    root = Path(__file__).resolve().parent.parent
    tracked = _tracked_files(root)
    source = tmp_path / "source"
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, source / name)
    build = "import sys, setuptools.build_meta as b; sys.stdout.write(b.build_sdist(sys.argv[1]))"
    made = subprocess.run(
        [sys.executable, "-c", build, str(tmp_path / "dist")],
        cwd=source,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    assert made.startswith("newsdedup-")
    with tarfile.open(tmp_path / "dist" / made) as tar:
        top = made.removesuffix(".tar.gz")
        members = {m.name.removeprefix(top + "/") for m in tar.getmembers() if m.isfile()}
        tar.extractall(tmp_path / "unpacked", filter="data")
    wanted = [n for n in tracked if not n.startswith(".")]
    assert [n for n in wanted if n not in members] == []
    assert not any(n.startswith("benchmarks/.cache") or "__pycache__" in n for n in members)

    unpacked = tmp_path / "unpacked" / top
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = str(unpacked)
    run = subprocess.run(
        [sys.executable, "-m", "dedup", "run", "seeds/", "--out", str(tmp_path / "out"), "--quiet"],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "clusters.jsonl").read_text().count("\n") == 1
    tests = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-o",
            "addopts=",
            "-p",
            "no:cacheprovider",
            "tests/test_normalize.py",
        ],
        cwd=unpacked,
        env=env,
        capture_output=True,
        text=True,
    )
    assert tests.returncode == 0, tests.stdout[-2000:]
    assert " passed" in tests.stdout and " failed" not in tests.stdout


def test_import_dedup_loads_no_numerical_library_until_a_name_is_used():
    """``import dedup`` loads its public names on first use (PEP 562), so a script or a command
    that needs little starts fast (issue 19: 1.5 s at import before); every name still resolves
    to the object its module defines."""
    import subprocess
    import sys

    probe = (
        "import sys, dedup\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'scipy', 'sklearn'})\n"
        "print(','.join(heavy) or '-')\n"
        "import dedup.params\n"
        "assert dedup.Params is dedup.params.Params and 'Params' in dir(dedup)\n"
        "print(sorted(set(dedup.__all__) - {'__version__'}) == sorted(dedup._HOMES))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["-", "True"]
    import dedup

    assert all(getattr(dedup, name) is not None for name in dedup.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = dedup.nothing


def test_the_command_line_loads_no_scipy_or_scikit_learn_until_a_command_runs():
    """``dedup --help`` and the parsing of any command need neither SciPy nor scikit-learn (0.5 s
    of imports on a 2-core machine): the modules that compute import them when they run."""
    import subprocess
    import sys

    probe = (
        "import sys, dedup.cli\n"
        "print(','.join(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sklearn'})) or '-')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "-"
