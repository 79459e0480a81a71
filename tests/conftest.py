"""Shared fixtures: small input files written under tmp_path."""

import gzip

import pytest


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
