"""Which contacts a run must check, and with which scorecard version.

A contact is checked once per scorecard version and content. Its content hash covers everything
the rules read — the contact row, its turns, actions and recording metrics, the agent's name and
the facts across contacts (outbound calls to the customer, the customer's next contact on the same
topic) — so a late transcript, or a neighbour arriving later, re-checks it. Contacts of a closed
local week or month are frozen: they keep the version they were checked with, and are re-checked
(with that version) only when their content changes. `autoqa.contact_checks` is append-only; a
contact's current check is its latest row, and its current findings are those of that check's run.

All of it is set-based SQL over the whole warehouse; the plan lands in the temp table `_to_check`
(contact_id, scorecard_version, check_reason, n), which the engine reads in batches by `n`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import duckdb

from contactqa.autoqa.versions import StoredVersion, version_in_force
from contactqa.periods import Period, period_of

# The latest check of each contact: what dbt selects too (findings of this run_id are current).
CURRENT_CHECKS = """
SELECT contact_id, scorecard_version, content_hash, run_id, checked_at
FROM autoqa.contact_checks
QUALIFY row_number() OVER (PARTITION BY contact_id ORDER BY checked_at DESC, run_id DESC) = 1
"""

# One hash per contact over what the rules read. Each part is JSON, so NULL and '' differ, and
# rows are ordered by their key and then by the whole row, so equal content always hashes alike.
_CONTACT_FACTS = """
CREATE OR REPLACE TEMP TABLE _contact_facts AS
WITH contacts AS (
    SELECT contact_id, agent_id, customer_key, topic, direction, started_at,
           CAST((started_at AT TIME ZONE 'UTC') AT TIME ZONE $tz AS DATE) AS local_day,
           to_json(struct_pack(channel, agent_id, queue, topic, direction, started_at, answered_at, ended_at,
                               duration_s, talk_s, hold_s, disposition, customer_key))::VARCHAR AS fields
    FROM raw.contacts
),
agents AS (
    SELECT agent_id, string_agg(full_name, chr(30) ORDER BY full_name) AS full_name
    FROM raw.agents GROUP BY agent_id
),
utterances AS (
    SELECT contact_id, md5(string_agg(part, chr(30) ORDER BY seq, part)) AS hash
    FROM (SELECT contact_id, seq, to_json(struct_pack(seq, speaker, offset_ms, end_offset_ms, text,
                                                      message_id))::VARCHAR AS part
          FROM raw.utterances)
    GROUP BY contact_id
),
actions AS (
    SELECT contact_id, md5(string_agg(part, chr(30) ORDER BY "at", part)) AS hash
    FROM (SELECT contact_id, "at", to_json(struct_pack("at", action))::VARCHAR AS part
          FROM raw.agent_actions WHERE contact_id IS NOT NULL)
    GROUP BY contact_id
),
metrics AS (
    SELECT contact_id, md5(string_agg(part, chr(30) ORDER BY part)) AS hash
    FROM (SELECT contact_id, to_json(struct_pack(metrics_source, longest_silence_s, longest_silence_at_ms,
                                                 non_talk_s, overtalk_s, interruptions))::VARCHAR AS part
          FROM raw.call_metrics)
    GROUP BY contact_id
),
-- the customer's next contact on the same topic (context.py: strictly later; the first of equal times)
moments AS (
    SELECT customer_key, topic, started_at, min(contact_id) AS first_contact_id
    FROM raw.contacts
    WHERE customer_key IS NOT NULL AND topic IS NOT NULL AND started_at IS NOT NULL
    GROUP BY customer_key, topic, started_at
),
next_same_topic AS (
    SELECT customer_key, topic, started_at,
           lead(first_contact_id) OVER w AS next_contact_id, lead(started_at) OVER w AS next_started_at
    FROM moments
    WINDOW w AS (PARTITION BY customer_key, topic ORDER BY started_at)
),
-- outbound calls to the customer up to this one: the same local day, and the 7 days before it
outbound AS (
    SELECT contact_id,
           count(*) OVER (PARTITION BY customer_key, local_day ORDER BY started_at
                          RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS same_day,
           count(*) OVER (PARTITION BY customer_key ORDER BY started_at
                          RANGE BETWEEN INTERVAL '6 days 23:59:59.999999' PRECEDING AND CURRENT ROW) AS same_week
    FROM contacts
    WHERE direction = 'outbound' AND customer_key IS NOT NULL
)
SELECT c.contact_id, c.local_day,
       md5(to_json(struct_pack(fields := c.fields, full_name := a.full_name, utterances := u.hash,
                               actions := ac.hash, metrics := m.hash, next_contact_id := n.next_contact_id,
                               next_started_at := n.next_started_at, same_day := o.same_day,
                               same_week := o.same_week))::VARCHAR) AS content_hash
FROM contacts c
LEFT JOIN agents a ON a.agent_id = c.agent_id
LEFT JOIN utterances u ON u.contact_id = c.contact_id
LEFT JOIN actions ac ON ac.contact_id = c.contact_id
LEFT JOIN metrics m ON m.contact_id = c.contact_id
LEFT JOIN next_same_topic n ON n.customer_key = c.customer_key AND n.topic = c.topic AND n.started_at = c.started_at
LEFT JOIN outbound o ON o.contact_id = c.contact_id
"""

_PLAN = f"""
CREATE OR REPLACE TEMP TABLE _to_check AS
WITH last AS ({CURRENT_CHECKS}),
decided AS (
    SELECT f.contact_id,
           CASE WHEN l.contact_id IS NULL THEN d.in_force
                WHEN d.is_frozen THEN l.scorecard_version
                ELSE d.in_force END AS scorecard_version,
           CASE WHEN l.contact_id IS NULL THEN 'new'
                -- frozen: only a real change counts (a check backfilled without a hash keeps its findings)
                WHEN d.is_frozen THEN CASE WHEN l.content_hash <> f.content_hash THEN 'content_changed' END
                WHEN l.scorecard_version IS DISTINCT FROM d.in_force THEN 'version_changed'
                WHEN l.content_hash IS DISTINCT FROM f.content_hash THEN 'content_changed' END AS check_reason
    FROM _contact_facts f
    JOIN _days d ON d.local_day IS NOT DISTINCT FROM f.local_day
    LEFT JOIN last l ON l.contact_id = f.contact_id
)
SELECT contact_id, scorecard_version, check_reason, row_number() OVER (ORDER BY contact_id) AS n
FROM decided
-- a version no longer stored (removed by hand) cannot check anything: its contacts keep their findings
WHERE check_reason IS NOT NULL AND scorecard_version IN (SELECT scorecard_version FROM _versions)
"""

_PLAN_PERIOD = """
CREATE OR REPLACE TEMP TABLE _to_check AS
SELECT f.contact_id, coalesce($version, d.in_force) AS scorecard_version, 'rescore' AS check_reason,
       row_number() OVER (ORDER BY f.contact_id) AS n
FROM _contact_facts f
JOIN _days d ON d.local_day IS NOT DISTINCT FROM f.local_day
WHERE f.local_day BETWEEN $first AND $last
"""

# Findings written before contact_checks existed: one check per (contact, run, version), without a
# hash. Only runs with no check at all are looked at, so this costs a scan of run ids once done.
_BACKFILL = """
INSERT INTO autoqa.contact_checks
SELECT contact_id, scorecard_version, NULL, run_id, coalesce(max(evaluated_at), TIMESTAMP '1970-01-01'),
       'backfill', NULL
FROM autoqa.findings
WHERE run_id IN (SELECT DISTINCT run_id FROM autoqa.findings
                 EXCEPT SELECT DISTINCT run_id FROM autoqa.contact_checks)
GROUP BY contact_id, run_id, scorecard_version
"""


@dataclass
class CheckPlan:
    to_check: int = 0
    total: int = 0
    by_reason: Counter = field(default_factory=Counter)

    @property
    def skipped(self) -> int:
        return self.total - self.to_check


def backfill_checks(con: duckdb.DuckDBPyConnection) -> int:
    """Give findings that predate `autoqa.contact_checks` their check rows; returns rows added."""
    return con.execute(_BACKFILL).fetchone()[0]


def contact_facts(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Each contact's local start day and content hash, in the temp table `_contact_facts`."""
    con.execute(_CONTACT_FACTS, {"tz": timezone})


def is_frozen(day: date, as_of: date, close_after_days: int) -> bool:
    """Either closed period counts: a closed week's scores were reported even if its month is open."""
    return any(period_of(day, kind).is_closed(as_of, close_after_days) for kind in ("week", "month"))


def _days(con: duckdb.DuckDBPyConnection, versions: list[StoredVersion], as_of: date, close_after_days: int) -> None:
    """Per local day of the contacts: is it frozen, and which version is in force (temp table `_days`)."""
    days = [day for (day,) in con.execute("SELECT DISTINCT local_day FROM _contact_facts").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _days (local_day DATE, is_frozen BOOLEAN, in_force VARCHAR)")
    if days:  # an empty warehouse has none (and executemany refuses an empty list)
        # a contact without a start time belongs to no period: it is never frozen
        con.executemany("INSERT INTO _days VALUES (?, ?, ?)", [
            (day, day is not None and is_frozen(day, as_of, close_after_days), version_in_force(day, versions))
            for day in days])
    con.execute("CREATE OR REPLACE TEMP TABLE _versions (scorecard_version VARCHAR)")
    con.executemany("INSERT INTO _versions VALUES (?)", [(v.version,) for v in versions])


def _counted(con: duckdb.DuckDBPyConnection) -> CheckPlan:
    plan = CheckPlan(total=con.execute("SELECT count(*) FROM _contact_facts").fetchone()[0])
    plan.by_reason = Counter(dict(con.execute(
        "SELECT check_reason, count(*) FROM _to_check GROUP BY check_reason").fetchall()))
    plan.to_check = sum(plan.by_reason.values())
    return plan


def plan_checks(con: duckdb.DuckDBPyConnection, versions: list[StoredVersion], timezone: str, as_of: date,
                close_after_days: int) -> CheckPlan:
    """The contacts this run must check: new, changed, or (open periods) due for another version."""
    contact_facts(con, timezone)
    _days(con, versions, as_of, close_after_days)
    con.execute(_PLAN)
    return _counted(con)


def plan_period(con: duckdb.DuckDBPyConnection, versions: list[StoredVersion], timezone: str, period: Period,
                version: str | None, as_of: date, close_after_days: int) -> CheckPlan:
    """Every contact of a local period, with the given version or each one's version in force."""
    contact_facts(con, timezone)
    _days(con, versions, as_of, close_after_days)
    con.execute(_PLAN_PERIOD, {"version": version, "first": period.starts_on, "last": period.ends_on})
    return _counted(con)


def drop_plan(con: duckdb.DuckDBPyConnection) -> None:
    for temp in ("_to_check", "_contact_facts", "_days", "_versions"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
