"""One writer at a time: the lock file beside the warehouse.

DuckDB lets one process write a database file, and refuses every other process meanwhile with a
lock error deep in whatever stage first opens it. The commands that write (run, ingest, autoqa,
rescore, build, send-feedback, demo) therefore hold `<warehouse>.lock` for their whole run; a second
command waits for it or stops at once, saying who holds it. Commands that only read (report) take
it shared: any number of them at once, none while a writer works.

The lock is `flock(2)` on that file, so the kernel releases it when its holder ends, however it
ends: a crashed or killed run leaves the file behind but never a stale lock. The holder writes its
PID, host, command and start time into the file for the next command's message.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

# Locks this process holds, so a command that runs another in-process (demo runs the pipeline
# twice) does not wait for itself: flock locks belong to open files, not to processes.
_held: dict[Path, bool] = {}
_POLL_SECONDS = 0.2


class WarehouseBusy(RuntimeError):
    """Another command holds the warehouse; the message says which one and what to do."""

    def __init__(self, warehouse: Path, holder: dict | None):
        self.warehouse = warehouse
        self.holder = holder
        super().__init__(f"the warehouse {warehouse} is in use by {describe_holder(holder)}; "
                         "wait for it or pass --wait 600")


def lock_path(warehouse: Path | str) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".lock")


def describe_holder(holder: dict | None) -> str:
    if not holder:
        return "another contactqa command (one reading it, or one just starting)"
    host = f" on {holder['host']}" if holder.get("host") and holder["host"] != socket.gethostname() else ""
    return f"PID {holder.get('pid', '?')}{host} ({holder.get('command', 'contactqa')}, started {holder.get('started', '?')})"


def read_holder(warehouse: Path | str) -> dict | None:
    """Who holds the warehouse, as its holder wrote it; None if no writer said (or it is not locked)."""
    try:
        text = lock_path(warehouse).read_text(encoding="utf-8")
        holder = json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return None
    if isinstance(holder, dict) and holder.get("host") == socket.gethostname() and not _alive(holder.get("pid")):
        return None  # a writer that was killed left its note; whoever holds the lock now is someone else
    return holder if isinstance(holder, dict) else None


def _alive(pid: object) -> bool:
    if not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def warehouse_lock(warehouse: Path | str, command: str, *, wait: float = 0, shared: bool = False,
                   on_wait: Callable[[WarehouseBusy], None] | None = None) -> Iterator[None]:
    """Hold the warehouse for `command` ("contactqa run"): exclusively to write, `shared` to read.

    Waits up to `wait` seconds for a holder to finish (calling `on_wait` once when it starts
    waiting), then raises WarehouseBusy.
    """
    path = lock_path(warehouse).resolve()
    if path in _held:
        yield
        return
    try:
        if not shared:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes (PEP 446)
    except OSError:
        if shared:  # a reader of a warehouse that does not exist, or on a read-only share: nothing to guard
            yield
            return
        raise
    try:
        _acquire(fd, Path(warehouse), wait, shared, on_wait)
        if not shared:
            holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
                      "started": datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)
        _held[path] = shared
        try:
            yield
        finally:
            del _held[path]
            if not shared:
                os.ftruncate(fd, 0)  # released: the next reader of the file finds no holder
    finally:
        os.close(fd)  # closing the last descriptor releases the flock


def _acquire(fd: int, warehouse: Path, wait: float, shared: bool,
             on_wait: Callable[[WarehouseBusy], None] | None) -> None:
    mode = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
        busy = WarehouseBusy(warehouse, read_holder(warehouse))
        if time.monotonic() >= deadline:
            raise busy
        if not waiting and on_wait:
            on_wait(busy)
        waiting = True
        time.sleep(min(_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
