"""Two commands on one warehouse: one writer at a time, and a clear message for the other (issue 8, item 14).

Real processes: the holder is the `ingest` command itself, slowed down inside its stage with the
warehouse open for writing (as a long run has it); the second is the console script a user runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import children, kill_if_alive
from tiny_project import make_tiny_project

SCRIPT = Path(sys.executable).parent / "contactqa"
ENV = {**os.environ, "COLUMNS": "400"}  # one message, one line

# `contactqa ingest`, whose stage keeps the warehouse open for writing for argv[2] seconds once it has landed.
SLOW_INGEST = """
import sys, time
import contactqa.ingest as ingest
landed = ingest.ingest_source
def ingest_source(warehouse, *args, **kwargs):
    summary = landed(warehouse, *args, **kwargs)
    with ingest.connect(warehouse):
        print("holding", flush=True)
        time.sleep(float(sys.argv[2]))
    return summary
ingest.ingest_source = ingest_source
from contactqa.cli import app
app(["ingest", "--config", sys.argv[1]])
"""


@pytest.fixture
def project(tmp_path):
    config = make_tiny_project(tmp_path)
    return config, tmp_path / "warehouse" / "contactqa.duckdb"


def start_holder(config: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", SLOW_INGEST, str(config), str(seconds)], env=ENV,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    # its first source is the directory: "holding" comes once that has landed
    for line in holder.stdout:
        if line.strip() == "holding":
            return holder
    raise AssertionError(f"the holder ended (exit {holder.wait()}) before it held the warehouse")


def contactqa(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], env=ENV, capture_output=True, text=True, timeout=timeout)


def test_one_writer_at_a_time(project):
    config, warehouse = project
    holder = start_holder(config, 300)
    server = list(children(holder.pid))
    waiting = None
    try:
        started = time.monotonic()
        second = contactqa("autoqa", "--config", str(config), "--wait", "1")
        assert second.returncode == 1, second.stdout + second.stderr
        assert time.monotonic() - started < 30, "it waits as long as asked, not for the holder to finish"
        message = " ".join(second.stderr.split())
        assert (f"the warehouse {warehouse} is in use by PID {holder.pid} (contactqa ingest, started "
                in message), message
        assert "wait for it or pass --wait 600" in message
        assert "Traceback" not in second.stderr and "IOException" not in second.stderr

        reader = contactqa("report", "--config", str(config))  # a reader is told the same, not a DuckDB error
        assert reader.returncode == 1 and f"is in use by PID {holder.pid}" in " ".join(reader.stderr.split())

        waiting = subprocess.Popen([str(SCRIPT), "ingest", "--config", str(config), "--wait", "300"], env=ENV,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(4)
        assert waiting.poll() is None, "the waiting command must not run while the holder holds the warehouse"
        holder.send_signal(signal.SIGKILL)  # the holder crashes: none of its own cleanup runs
        holder.wait(timeout=10)
        assert (warehouse.parent / "contactqa.duckdb.lock").exists()  # left behind, but not locked
        out, errors = waiting.communicate(timeout=300)
        assert waiting.returncode == 0, out + errors
        said = " ".join((out + errors).split())
        assert f"waiting up to 300 s for PID {holder.pid} (contactqa ingest" in said
        assert "Nothing lost" in said
    finally:
        kill_if_alive(holder.pid, *server)
        if waiting is not None:
            kill_if_alive(waiting.pid, *children(waiting.pid))
