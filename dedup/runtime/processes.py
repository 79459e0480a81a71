"""A run's processes live and die together.

Two rules, so that a stopped run leaves nothing running and nothing behind:

- **Workers die with their parent** (:func:`die_with_parent`): a worker asks the kernel for
  SIGKILL when the process that started it ends, however it ends (SIGKILL included, where no
  code of the parent runs). Without it, a worker blocked on its task queue outlives a killed
  run for good, holding its memory and the input open.
- **SIGTERM stops a run as Ctrl-C does** (:func:`terminate_as_interrupt`): what ``timeout``,
  systemd and Kubernetes send raises :class:`Terminated` in the main thread, so that every
  ``finally`` and context manager runs (the spill folder and temporary files are removed, the
  workers are shut down) and the process exits with 143 (128 + SIGTERM), as a shell reports it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Terminated(SystemExit):
    """Raised in the main thread when the process receives SIGTERM; exits with 143."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def die_with_parent(parent: int) -> None:
    """End this process (SIGKILL) when process ``parent``, the run's main process, ends, however
    it ends.

    When ``parent`` started this process, the kernel is asked (``prctl(PR_SET_PDEATHSIG)``).
    A worker started by a fork server is the server's child, and the server outlives the run
    while its workers live (they hold its lifeline open, and the task queue's writing end): a
    thread then waits on ``parent`` (a pidfd, or a look every second where there is none) and
    ends the process when it is gone. Either way, a parent already gone ends it at once."""
    if os.getppid() == parent and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
                if not _alive(parent):  # (it ended before the request)
                    os._exit(1)
                return
    if not _alive(parent):
        os._exit(1)
    threading.Thread(target=_wait_for, args=(parent,), name="dedup-parent-watch", daemon=True).start()


def _wait_for(parent: int) -> None:
    """Block until process ``parent`` ends, then kill this process."""
    try:
        fd = os.pidfd_open(parent)
    except (OSError, AttributeError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])  # (a pidfd is readable once its process has ended)
    else:
        while _alive(parent):
            time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # (another user's process: alive)
        return True
    return True


def _raise_terminated(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # (once: the clean-up is not itself cut short)
    raise Terminated()


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread (and the previous
    handler is put back after it). Outside the main thread it does nothing: Python lets only the
    main thread set signal handlers. A second SIGTERM while the first one's clean-up runs is
    ignored (SIGKILL still ends the process; its workers die with it)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
