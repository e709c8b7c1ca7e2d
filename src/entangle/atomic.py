"""Write files so that a reader never sees a half-written one, and check before any work that they
can be written at all."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600 files; give outputs the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        tmp_path.chmod(0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    """Atomically write ``text`` (UTF-8) to ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def check_writable_dir(folder: str | os.PathLike[str], what: str = "output directory") -> Path:
    """Refuse (one ``EnvironmentFailure`` line) a directory that cannot be created or written: a part of
    the path is a regular file, the path is a file, or the nearest existing folder is read-only.
    Called before a command starts its work, so a long run never fails at its last step."""
    from entangle.errors import EnvironmentFailure

    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise EnvironmentFailure(str(folder), f"the {what} is a file, not a directory", "choose a directory")
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        raise EnvironmentFailure(
            str(folder), f"{existing} is a file, so the {what} cannot be created", "choose another path"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        read_only = _read_only(existing)
        raise EnvironmentFailure(
            str(existing),
            "read-only file system" if read_only else "permission denied",
            f"write the {what} somewhere writable",
        )
    return folder


def check_writable_file(target: str | os.PathLike[str], what: str = "output file") -> Path:
    """Refuse an output file path that names a directory or lies under one that cannot be written."""
    from entangle.errors import EnvironmentFailure

    target = Path(target)
    if target.is_dir():
        raise EnvironmentFailure(str(target), f"the {what} is a directory", "give a file name")
    check_writable_dir(target.parent, f"folder of the {what}")
    return target


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError as exc:
        return exc.errno == errno.EROFS
