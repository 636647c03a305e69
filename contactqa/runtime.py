"""Process-wide settings every entry point applies before Prefect, dbt or GX are imported.

Nothing may phone home here (no internet, and users' data stays theirs): usage tracking off
for Prefect, dbt and GX; the temporary Prefect server gets time to start on a busy machine.
"""

from __future__ import annotations

import os

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
