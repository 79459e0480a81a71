"""The unit of work: one article read from an input, and the error raised for bad input."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Article:
    """One article: a unique ``id``, its ``text``, and where it came from.

    ``fields`` carries the other fields of its record (JSONL/CSV) unchanged,
    so that outputs can pass them through. ``source`` and ``line`` name the
    file and the 1-based line (record) it was read from, for error messages;
    ``line`` is 0 for a whole-file article (a ``.txt`` file) or an API call.
    """

    id: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    source: str = "<api>"
    line: int = 0


class InputError(ValueError):
    """Bad input: names the file and line (record) so a user can fix it.

    ``str(err)`` is one line: ``path:line: reason`` (or ``path: reason`` when
    the problem is the whole file). ``record`` is False when the problem is not one record's but
    the file's or the options' (a missing file, a wrong format, no text column): skipping bad
    records would not help.
    """

    def __init__(self, source: str, line: int, reason: str, *, record: bool = True) -> None:
        self.source = source
        self.line = line
        self.reason = reason
        self.record = record
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {reason}")


class InputChangedError(InputError):
    """An input read again (to write the kept records, to add them to an index) is not what the
    first read saw: changed, appended to, truncated, replaced or removed in between, or while
    it was read. Nothing that depends on both reads may be written."""
