"""Faults during a load or a run: Ctrl-C, kill -9, two loads at once, a file changed under the read,
a full disk, a read-only output. Each leaves the store and the outputs as they were (or whole), with
exit 130 for an interrupt and one ``error:`` line with exit 2 for the rest.

The signal cases run the CLI in a subprocess on a 100,000-row ACLED file; the point of the signal is
chosen by watching for the private snapshot directory the ingest makes when it starts reading.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from fuzz_harness import (
    ENTANGLE,
    FIXTURES,
    REPO,
    assert_accounted,
    assert_refused,
    big_acled,
    invoke,
    spawn,
    store_state,
)

ROWS = 40_000


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    return big_acled(tmp_path_factory.mktemp("big") / "acled_big.csv", ROWS)


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [*ENTANGLE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
    )


def _wait_for_snapshot(tmp: Path, proc: subprocess.Popen, timeout: float = 60) -> bool:
    """True once the ingest has started reading (its snapshot folder exists)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.name.startswith("entangle-snapshot-") for p in tmp.iterdir()):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def _env(tmp_path: Path, store: Path) -> dict[str, str]:
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    return {"ENTANGLE_STORE": str(store), "TMPDIR": str(tmp), "ENTANGLE_OFFLINE": "1"}


def _seed(store: Path, env: dict[str, str]) -> tuple:
    """A store holding one small file already, so 'unchanged' is not the trivial empty store."""
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    with open_store(store) as db:
        ingest(db, "acled", FIXTURES / "acled_current_schema.csv")
    return store_state(store)


def _load_whole(store: Path, path: Path) -> None:
    """After the fault the store is usable and the file loads whole (in-process, for speed)."""
    from entangle.sources.ingest import ingest
    from entangle.store import open_store

    with open_store(store) as db:
        result = ingest(db, "acled", path)
    assert "already in the store; nothing changed" in result.notes or result.rows_loaded == ROWS
    assert_accounted(store)
    con = duckdb.connect(str(store), read_only=True)
    try:
        assert (
            con.execute("SELECT count(*) FROM events WHERE event_id LIKE 'acled:MLX%'").fetchone()[0] == ROWS
        )
    finally:
        con.close()


AFTER_COMMIT = "error: interrupted after a commit (what was committed is in the store, whole)"


@pytest.mark.parametrize("delay", [0.0, 0.7, 1.5])
def test_sigint_during_ingest(tmp_path, big, delay):
    store = tmp_path / "s.duckdb"
    env = _env(tmp_path, store)
    before = _seed(store, env)
    proc = _start(["ingest", "acled", str(big)], env)
    started = _wait_for_snapshot(tmp_path / "tmp", proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    if proc.returncode == 0:  # the load finished before the signal arrived: it is whole
        assert not started or delay > 0
        assert_accounted(store)
        return
    assert proc.returncode == 130, (proc.returncode, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert not list((tmp_path / "tmp").glob("entangle-snapshot-*"))  # the private copy is gone
    if lines == [AFTER_COMMIT]:  # the signal came during or after the commit: the load is whole
        assert_accounted(store)
        return
    assert lines == ["error: interrupted"], err
    assert store_state(store) == before
    _load_whole(store, big)


@pytest.mark.parametrize("delay", [0.2, 1.2])
def test_kill_9_during_ingest(tmp_path, big, delay):
    store = tmp_path / "s.duckdb"
    env = _env(tmp_path, store)
    before = _seed(store, env)
    proc = _start(["ingest", "acled", str(big)], env)
    _wait_for_snapshot(tmp_path / "tmp", proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    state = store_state(store)
    if proc.returncode == -signal.SIGKILL and state != before:
        assert_accounted(store)  # killed after the commit: the load is whole
    else:
        assert state == before
    _load_whole(store, big)


def test_concurrent_ingest(tmp_path, big):
    store = tmp_path / "s.duckdb"
    env = _env(tmp_path, store)
    _seed(store, env)
    first = _start(["ingest", "acled", str(big)], env)
    _wait_for_snapshot(tmp_path / "tmp", first)
    second = spawn("ingest", "acled", FIXTURES / "acled_old_schema.csv", env=env)
    _, err = first.communicate(timeout=180)
    assert first.returncode == 0, err
    # The second either waited its turn and loaded, or was refused because the store was locked.
    if second.code != 0:
        assert_refused(second, "store")
    assert_accounted(store)


def _hooked_sha256(action):
    """A sha256 whose first update runs ``action``: another process changing the file mid-read."""
    real = hashlib.sha256

    class Hooked:
        def __init__(self):
            self.inner, self.done = real(), False

        def update(self, data):
            if not self.done:
                self.done = True
                action()
            self.inner.update(data)

        def hexdigest(self):
            return self.inner.hexdigest()

    return Hooked


@pytest.mark.parametrize("change", ["truncate", "grow", "replace"])
def test_file_changed_during_ingest(tmp_path, capsys, monkeypatch, store, change):
    data = big_acled(tmp_path / "acled.csv", 60_000).read_bytes()  # > one 4 MB read
    path = tmp_path / "acled.csv"
    before = store_state(store)

    def act():
        if change == "truncate":
            with open(path, "r+b") as handle:
                handle.truncate(len(data) // 3)
        elif change == "grow":
            with open(path, "ab") as handle:
                handle.write(data.splitlines(keepends=True)[1].replace(b"MLX0,", b"MLY0,"))
        else:
            (tmp_path / "new.csv").write_bytes(data)
            os.replace(tmp_path / "new.csv", path)

    import entangle.sources.readers as readers

    monkeypatch.setattr(readers.hashlib, "sha256", _hooked_sha256(act))
    result = invoke(capsys, "ingest", "acled", path)
    assert_refused(result, "changed while it was read", "nothing was loaded")
    assert store_state(store) == before
    monkeypatch.undo()
    # The intact file loads afterwards: nothing recorded the half-read one.
    store.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("ENTANGLE_STORE", str(store))
    path.write_bytes(data)
    loaded = invoke(capsys, "ingest", "acled", path)
    assert loaded.code == 0, loaded.err
    assert "60000 rows in, 60000 loaded" in loaded.out
    assert_accounted(store)


# --- a full and a read-only file system ----------------------------------------------------------
@pytest.fixture
def small_fs(tmp_path):
    """A 1 MB tmpfs (root may mount one); skipped where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_disk_during_ingest(tmp_path, big, small_fs):
    store = small_fs / "s.duckdb"
    env = {"ENTANGLE_STORE": str(store), "ENTANGLE_OFFLINE": "1"}
    result = spawn("ingest", "acled", big, env=env)
    line = assert_refused(result, "no space left")
    assert "cannot rollback" not in line and "internal" not in line
    assert store_state(store)[1] == ()  # no file recorded
    # After space is freed the store works and the load is whole.
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_fs)], check=True)
    again = spawn("ingest", "acled", big, env=env)
    assert again.code == 0, again.err
    assert_accounted(store)


def test_full_disk_for_the_snapshot(tmp_path, big, small_fs):
    store = tmp_path / "s.duckdb"
    result = spawn("ingest", "acled", big, env={"ENTANGLE_STORE": str(store), "TMPDIR": str(small_fs)})
    assert_refused(result, "no space left")
    assert store_state(store)[1] == ()
    assert not list(small_fs.glob("entangle-snapshot-*"))


@pytest.mark.parametrize(
    "command",
    [
        ["simulate", "--units", "100", "--periods", "24", "--out", "{ro}/sim.parquet"],
        ["simulate", "--units", "4000", "--periods", "240", "--out", "{full}/sim.parquet"],
        ["registry", "network", "--at", "2018-01-01", "--out", "{ro}/g.graphml"],
        ["ingest", "acled", str(FIXTURES / "acled_current_schema.csv"), "--store", "{ro}/s.duckdb"],
        ["run", "--out", "{ro}/out"],
    ],
    ids=["simulate-readonly", "simulate-full", "network-readonly", "ingest-readonly-store", "run-readonly"],
)
def test_read_only_and_full_outputs(tmp_path, small_fs, command):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro_mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(ro)], capture_output=True
    )
    assert ro_mount.returncode == 0
    try:
        args = [a.format(ro=ro, full=small_fs) for a in command]
        env = {"ENTANGLE_CACHE": str(tmp_path / "cache"), "ENTANGLE_OFFLINE": "1"}
        result = spawn(*args, env=env, timeout=300)
        assert_refused(result)
        assert any(w in result.lines[0] for w in ("read-only", "no space left")), result.lines[0]
        assert not any(p.name.endswith(".tmp") for p in small_fs.iterdir())  # no half-written file left
        assert list(ro.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(ro)], capture_output=True)


def test_sigint_during_run(tmp_path):
    out = tmp_path / "out"
    env = {"ENTANGLE_CACHE": str(tmp_path / "cache"), "ENTANGLE_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    proc = _start(["run", "--out", str(out)], env)
    deadline = time.monotonic() + 120
    # Interrupt once the run has started its first stage (its cache folder appears).
    while time.monotonic() < deadline and not (tmp_path / "cache" / "runs").exists():
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, err
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 130, err
    assert [line for line in err.splitlines() if line.startswith("error:")] in (
        ["error: interrupted"],
        [AFTER_COMMIT],
    )
    assert not out.exists() or sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) in (
        [],
        sorted(["report.html", "panel.parquet", "estimates.json", "network.graphml", "provenance.json"]),
    )
    assert not any(p.name.endswith(".tmp") for p in out.rglob("*")) if out.exists() else True


def test_no_interpreter_noise(tmp_path):
    """The subprocess entry point itself prints one line for bad input."""
    result = spawn("ingest", "acled", tmp_path / "missing.csv", env={"ENTANGLE_STORE": str(tmp_path / "s")})
    assert_refused(result, "no such file")
    assert sys.executable
