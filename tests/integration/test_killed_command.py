"""A command killed with SIGTERM or SIGINT stops its temporary Prefect server (issue 8, item 15).

Prefect runs flows without a configured API against a temporary server: a `python -m uvicorn ...
prefect.server.api.server:create_app` child process (prefect.server.api.server.SubprocessASGIServer),
stopped by an atexit hook. A signal that ends the process without running atexit hooks leaves the
server running, orphaned, holding a port and a database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from processes import children, gone_within, kill_if_alive
from tiny_project import make_tiny_project

SCRIPT = Path(sys.executable).parent / "contactqa"


def wait_for(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.mark.parametrize("signum, moment, to", [
    (signal.SIGTERM, "server starting", "process"),
    (signal.SIGTERM, "flow running", "process"),
    (signal.SIGINT, "server starting", "process"),
    (signal.SIGINT, "flow running", "process"),
    # Ctrl+C in a terminal: the whole foreground process group gets SIGINT, the server too unless kept apart
    (signal.SIGINT, "flow running", "process group"),
], ids=lambda value: value.name if isinstance(value, signal.Signals) else value)
def test_killed_command_leaves_no_prefect_server(signum, moment, to, tmp_path):
    config = make_tiny_project(tmp_path, days=5, calls_per_day=30)
    warehouse = tmp_path / "warehouse" / "contactqa.duckdb"
    with (tmp_path / "stderr.txt").open("w") as stderr:
        command = subprocess.Popen([str(SCRIPT), "ingest", "--config", str(config)], stdout=subprocess.DEVNULL,
                                   stderr=stderr, env={**os.environ, "COLUMNS": "400"},
                                   start_new_session=to == "process group")
    servers: list[int] = []
    try:
        servers = wait_for(lambda: [pid for pid, cmd in children(command.pid).items() if "uvicorn" in cmd],
                           180, "the temporary Prefect server")
        if moment == "flow running":
            wait_for(warehouse.exists, 120, "the ingest flow to create the warehouse")
        assert command.poll() is None, "the command ended before it could be killed"
        if to == "process group":
            os.killpg(command.pid, signum)
        else:
            command.send_signal(signum)
        returncode = command.wait(timeout=30)  # before: a minute of retries when the server died first
        assert returncode == 128 + signum, (tmp_path / "stderr.txt").read_text()
        assert gone_within(servers, 5), f"the temporary Prefect server {servers} outlived the killed command"
        said = " ".join((tmp_path / "stderr.txt").read_text().split())
        assert f"stopped by {signal.Signals(signum).name}" in said
    finally:
        kill_if_alive(command.pid, *servers)
