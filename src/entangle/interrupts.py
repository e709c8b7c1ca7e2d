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

_state = {"requested": False, "after_commit": False}


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


def after_commit() -> bool:
    """True when a commit completed in this command: a Ctrl-C after it (or during it, held back
    until it completed) leaves what it wrote whole."""
    return _state["after_commit"]


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT back while a commit runs (a commit cut in two would leave the store in doubt). A
    SIGINT that arrived meanwhile is not lost: it is raised once the commit has completed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    failed = True
    try:
        yield
        failed = False
    finally:
        pending = signal.SIGINT in signal.sigpending()
        if pending:
            signal.sigtimedwait({signal.SIGINT}, 0)  # taken here, reported below
            _state["requested"] = True
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if not failed:
        _state["after_commit"] = True
        if pending:
            raise KeyboardInterrupt


@contextlib.contextmanager
def watch() -> Iterator[None]:
    """Record SIGINTs for the duration (main thread only; elsewhere a no-op)."""
    _state["requested"] = _state["after_commit"] = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, _handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
