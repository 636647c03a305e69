"""The feedback task retries a dropped connection, never a wrong configuration (issue 8, item 12)."""

from __future__ import annotations

import smtplib
import time

import pytest
from prefect.states import Failed

from contactqa.config import ConfigError, write_project_file
from contactqa.warehouse import connect
from flows.publish import feedback, feedback_flow


@pytest.mark.parametrize("error, retried", [
    (ConnectionRefusedError("smtp.bank.kz:587"), True),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), True),
    (TimeoutError("timed out"), True),
    (ConfigError("routing.yml", ["sendr: unknown key (check the spelling)"]), False),
    (ValueError("bad figure"), False),
    (FileNotFoundError("warehouse.duckdb"), False),
    (smtplib.SMTPAuthenticationError(535, b"bad password"), False),
])
def test_feedback_retries_only_io_errors(error, retried):
    assert feedback.retries == 2
    assert feedback.retry_condition_fn(feedback, None, Failed(data=error)) is retried


def test_a_configuration_error_fails_the_feedback_flow_at_once(tmp_path):
    """Before: two retries 10 s and 60 s apart, then the same error."""
    (tmp_path / "routing.yml").write_text("sendr: qa@bank.kz\n", encoding="utf-8")
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "routing": "routing.yml"})
    with connect(tmp_path / "wh.duckdb"):
        pass  # a warehouse with its landed tables, so the task gets as far as reading routing.yml
    started = time.monotonic()
    with pytest.raises(ConfigError, match="sendr: unknown key"):
        feedback_flow(str(tmp_path / "contactqa.yml"))
    assert time.monotonic() - started < 8
