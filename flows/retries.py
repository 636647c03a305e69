"""When a task may try again: only after an I/O error that can pass (a dropped connection, a timeout).

A wrong configuration, bad data or a missing file fails the same way every time: retrying it only
makes the user wait (the feedback task's two retries once added 70 s to a typo in routing.yml).
"""

from __future__ import annotations

import smtplib
from typing import Any

# Errors of the OSError family that asking again does not cure: the file is missing or forbidden,
# or the mail server answered with a refusal (bad password, recipient rejected).
_LASTING = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError, NotADirectoryError,
            smtplib.SMTPResponseException)
_PASSING = (ConnectionError, TimeoutError, smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


def is_passing(error: BaseException) -> bool:
    if isinstance(error, _PASSING):
        return True
    return isinstance(error, OSError) and not isinstance(error, _LASTING)


def io_errors_only(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect `retry_condition_fn`: retry a failed task run only if its error may pass."""
    error = state.data
    if not isinstance(error, BaseException):
        try:
            error = state.result(raise_on_failure=False)
        except Exception:
            return False
    return isinstance(error, BaseException) and is_passing(error)
