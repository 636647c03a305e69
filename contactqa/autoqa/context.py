"""What a rule needs to know beyond the contact itself, computed in SQL for a batch of contacts.

Regulators' limits and first-contact resolution look across contacts: how many outbound calls a
customer got that day and that week, and whether the customer came back on the same topic.
Recording measurements come from raw.call_metrics. One query each per batch, never per contact.
"""

from __future__ import annotations

import duckdb

from contactqa.autoqa.rules import Contact

_CONTACT_FIELDS = """
SELECT c.contact_id, c.direction, c.queue, c.started_at, c.ended_at, c.hold_s, c.customer_key IS NOT NULL
FROM raw.contacts c JOIN _ids USING (contact_id)
"""

_ACROSS_CONTACTS = """
WITH mine AS (
    SELECT c.contact_id, c.customer_key, c.topic, c.started_at, c.direction,
           CAST((c.started_at AT TIME ZONE 'UTC') AT TIME ZONE $tz AS DATE) AS local_day
    FROM raw.contacts c JOIN _ids USING (contact_id)
    WHERE c.customer_key IS NOT NULL
),
outbound AS (
    SELECT customer_key, started_at,
           CAST((started_at AT TIME ZONE 'UTC') AT TIME ZONE $tz AS DATE) AS local_day
    FROM raw.contacts
    WHERE direction = 'outbound' AND customer_key IN (SELECT customer_key FROM mine)
),
later AS (
    SELECT contact_id, customer_key, topic, started_at
    FROM raw.contacts
    WHERE topic IS NOT NULL AND customer_key IN (SELECT customer_key FROM mine)
)
SELECT m.contact_id,
       (SELECT count(*) FROM outbound o WHERE o.customer_key = m.customer_key AND o.local_day = m.local_day
            AND o.started_at <= m.started_at) AS same_day,
       (SELECT count(*) FROM outbound o WHERE o.customer_key = m.customer_key
            AND o.started_at > m.started_at - INTERVAL 7 DAY AND o.started_at <= m.started_at) AS same_week,
       (SELECT arg_min(l.contact_id, l.started_at) FROM later l WHERE l.customer_key = m.customer_key
            AND l.topic = m.topic AND l.started_at > m.started_at) AS next_contact_id,
       (SELECT min(l.started_at) FROM later l WHERE l.customer_key = m.customer_key
            AND l.topic = m.topic AND l.started_at > m.started_at) AS next_started_at,
       m.started_at
FROM mine m
"""

_METRICS = """
SELECT contact_id, arg_min(struct_pack(metrics_source, longest_silence_s, longest_silence_at_ms, non_talk_s,
                                       overtalk_s, interruptions),
                           CASE metrics_source WHEN 'vad' THEN 0 ELSE 1 END)
FROM raw.call_metrics JOIN _ids USING (contact_id)
GROUP BY contact_id
"""


def enrich(con: duckdb.DuckDBPyConnection, contacts: list[Contact], timezone: str) -> None:
    """Fill in the cross-contact and recording fields of a batch (the batch's ids are in view `_ids`)."""
    by_id = {c.contact_id: c for c in contacts}
    for cid, direction, queue, started, ended, hold, has_customer in con.execute(_CONTACT_FIELDS).fetchall():
        contact = by_id[cid]
        contact.direction, contact.queue, contact.started_at, contact.ended_at = direction, queue, started, ended
        contact.hold_s, contact.has_customer = hold, has_customer
    for cid, same_day, same_week, next_id, next_at, started in con.execute(
            _ACROSS_CONTACTS, {"tz": timezone}).fetchall():
        contact = by_id[cid]
        if contact.direction == "outbound":
            contact.outbound_same_day, contact.outbound_same_week = same_day, same_week
        contact.next_same_topic_contact_id = next_id
        contact.next_same_topic_after_s = (next_at - started).total_seconds() if next_at else None
    for cid, metrics in con.execute(_METRICS).fetchall():
        by_id[cid].metrics = metrics
