"""Shared test setup: no telemetry, no network, quiet logs."""

from contactqa.runtime import apply_defaults

apply_defaults()
