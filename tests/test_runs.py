"""dedup.deduplicate: what `dedup run` does, as one library call. It writes the folder the command
writes, raises the library's own errors (the command only turns them into one line), and leaves
the folder as it was when it fails."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import dedup
from dedup import cli
from dedup.index.run import HeldError
from dedup.runs import NothingReadError, deduplicate

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
OUTPUTS = ["clusters.jsonl", "deduplicated", "pairs.jsonl", "removed.jsonl", "summary.json"]


def _files(folder: Path) -> dict[str, str]:
    """Every file of a run folder but summary.json (its timings differ), by relative path."""
    return {
        str(p.relative_to(folder)): p.read_text()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "summary.json"
    }


def test_the_library_call_writes_what_the_command_writes(tmp_path):
    result = dedup.deduplicate([SEEDS], tmp_path / "lib")
    ran = CliRunner().invoke(cli.main, ["run", str(SEEDS), "--out", str(tmp_path / "cli"), "-q"])
    assert ran.exit_code == 0, ran.output
    assert sorted(p.name for p in (tmp_path / "lib").iterdir()) == OUTPUTS
    assert _files(tmp_path / "lib") == _files(tmp_path / "cli")
    summary = json.loads((tmp_path / "lib" / "summary.json").read_text())
    assert summary["clusters"] == len(result.clusters) == 1
    assert [c.members for c in result.clusters] == [["000_1bdcf60ae9970c12", "004_89cc63446ebde389"]]


def test_a_bad_record_is_passed_to_on_bad_and_kept_in_the_summary(tmp_path):
    dump = tmp_path / "dump.jsonl"
    rows = [{"id": p.stem, "text": p.read_text()} for p in sorted(SEEDS.glob("*.txt"))]
    lines = [json.dumps(r) for r in rows[:2]] + ['{"id": "x", "text": '] + [json.dumps(r) for r in rows[2:]]
    dump.write_text("\n".join(lines) + "\n")
    with pytest.raises(dedup.InputError, match=r"dump\.jsonl:3: "):
        deduplicate([dump], tmp_path / "stopped")
    assert not (tmp_path / "stopped").exists()
    seen: list[str] = []
    result = deduplicate([dump], tmp_path / "out", on_bad=lambda err: seen.append(str(err)))
    assert len(seen) == 1 and seen[0].startswith(f"{dump}:3: ")
    assert result.summary["warnings"] == seen and result.summary["articles"]["skipped_bad_input"] == 1


def test_nothing_readable_is_its_own_error_and_writes_nothing(tmp_path):
    dump = tmp_path / "bad.jsonl"
    dump.write_text("not json\n")
    with pytest.raises(NothingReadError, match="no article could be read"):
        deduplicate([dump], tmp_path / "out", on_bad=lambda err: None)
    assert not (tmp_path / "out").exists()


def test_against_an_index_the_index_keeps_its_parameters_and_gets_the_articles(tmp_path):
    db = tmp_path / "news.db"
    with dedup.Index.open(db, threshold=0.3) as index:
        index.add("held", (SEEDS / "000_1bdcf60ae9970c12.txt").read_text())
    result = deduplicate([SEEDS], tmp_path / "out", index=db)
    assert result.summary["params"]["threshold"] == 0.3
    assert result.summary["index"]["added"] == 5 and result.summary["index"]["held_after"] == 6
    [cluster] = result.clusters
    assert cluster.held == ["held"] and "004_89cc63446ebde389" in cluster.members
    with pytest.raises(HeldError, match="already"):  # (the seeds are held now: nothing written)
        deduplicate([SEEDS], tmp_path / "again", index=db)
    assert not (tmp_path / "again").exists()
    with pytest.raises(ValueError, match="give the parameters to the index"):
        deduplicate([SEEDS], tmp_path / "x", index=db, params=dedup.Params())
