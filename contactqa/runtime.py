"""Process-wide settings every entry point applies before Prefect, dbt or GX are imported.

Nothing may phone home here (no internet, and users' data stays theirs): usage tracking off
for Prefect, dbt and GX; the temporary Prefect server gets time to start on a busy machine, and
hears only the command that started it (`prefect_server_in_own_session`).
"""

from __future__ import annotations

import os
import subprocess
import types

QUIET_DEFAULTS = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
}


def apply_defaults(*, quiet_logs: bool = True) -> None:
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if quiet_logs:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


def new_run_id() -> str:
    """A sortable id for one run, stored with every row it quarantines and every finding it writes."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("run-%Y%m%dT%H%M%S%fZ")


class _SubprocessInOwnSession(types.ModuleType):
    """`subprocess` as prefect.server.api.server sees it: the processes it starts get a session of their own."""

    def __init__(self) -> None:
        super().__init__("subprocess")

    def __getattr__(self, name: str):
        return getattr(subprocess, name)

    def Popen(self, *args, **kwargs) -> subprocess.Popen:  # noqa: N802 - subprocess's name
        return subprocess.Popen(*args, **kwargs, start_new_session=True)


def prefect_server_in_own_session() -> None:
    """Keep Prefect's temporary server out of the terminal's signals: the command stops it on its way out.

    Flows run without PREFECT_API_URL against a temporary server, a `python -m uvicorn ...
    prefect.server.api.server:create_app` child (prefect.server.api.server.SubprocessASGIServer) that an
    atexit hook stops. Ctrl+C in a terminal signals the whole foreground process group: the server died
    at once, while the command was still telling it that its flow run crashed, and Prefect's client
    retried for a minute before the command could exit. Prefect 3.9 has no option for this, hence
    the substitute `subprocess` in that one module.
    """
    from prefect.server.api import server

    if not isinstance(server.subprocess, _SubprocessInOwnSession):
        server.subprocess = _SubprocessInOwnSession()
