"""Ctrl-C is never lost: a SIGINT is remembered even when a library catches the KeyboardInterrupt.

DuckDB turns a KeyboardInterrupt raised during a query into its own "Query interrupted" error, and
code that catches broad exceptions may swallow either. ``watch()`` installs a handler that records
the signal before raising; ``check()`` (called before every commit) raises again when one arrived,
and the CLI exits with 130 whenever ``requested()`` is true, whatever happened in between.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_state = {"requested": False}


def _handler(signum: int, frame: object) -> None:
    _state["requested"] = True
    raise KeyboardInterrupt


def requested() -> bool:
    """True when a SIGINT arrived while ``watch()`` was active."""
    return _state["requested"]


def check() -> None:
    """Raise KeyboardInterrupt when a SIGINT arrived, even if something swallowed it since."""
    if _state["requested"]:
        raise KeyboardInterrupt


@contextlib.contextmanager
def watch() -> Iterator[None]:
    """Record SIGINTs for the duration (main thread only; elsewhere a no-op)."""
    _state["requested"] = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
