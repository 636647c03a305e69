"""What AutoQA records beside the findings a test writes by hand: one check per contact and run (the
latest counts for scoring) and the scorecard versions, as contactqa.autoqa does."""

from __future__ import annotations

import duckdb


def record_checks(con: duckdb.DuckDBPyConnection, critical_effect: str = "contact") -> None:
    con.execute("""
        INSERT INTO autoqa.contact_checks (contact_id, scorecard_version, content_hash, run_id, checked_at, check_reason)
        SELECT contact_id, scorecard_version, NULL, run_id, max(evaluated_at), 'new'
        FROM autoqa.findings GROUP BY ALL""")
    con.execute("""
        INSERT INTO autoqa.scorecard_versions (scorecard_version, name, effective_from, critical_effect,
                                               definition_json, definition_hash, registered_at)
        SELECT DISTINCT scorecard_version, 'test', NULL, ?, '{}', scorecard_version, TIMESTAMP '2024-01-01 00:00:00'
        FROM autoqa.scorecard_criteria""", [critical_effect])
