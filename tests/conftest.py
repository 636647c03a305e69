"""Shared test setup: no telemetry, no network, quiet logs; the pipeline-built warehouse."""

import os
import tempfile

import pytest

from contactqa.runtime import apply_defaults

apply_defaults()
# Customer keys are made under an installation key: the tests' own, never the real ~/.config/contactqa/key.
os.environ.setdefault("CONTACTQA_KEY_FILE", os.path.join(tempfile.mkdtemp(prefix="contactqa-test-key-"), "key"))


@pytest.fixture(scope="session")
def pipeline_centre(tmp_path_factory):
    """A small centre through ingest → AutoQA → dbt, built once per session (see pipeline_warehouse.py).
    Read it freely; copy it (`copy_to`) before writing to it."""
    from pipeline_warehouse import build_pipeline_warehouse  # the pipeline's imports are heavy: only when used

    return build_pipeline_warehouse(tmp_path_factory.mktemp("pipeline-centre"))
