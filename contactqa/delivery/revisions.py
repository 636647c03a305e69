"""What a feedback email says, as data: its snapshot, the snapshot's hash, and what changed.

The hash decides whether an agent gets a new revision, so it is taken from the figures the
email shows about that agent only — never from the rendered HTML (its Date and layout would
change it on every run) and never from the team average (one colleague's corrected evaluation
would otherwise send the whole team a revision).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Headline figures of fct_agent_scores the email shows; all of them go into the hash.
HEADLINE_FIGURES = (
    "score_pct", "score_ci_low_pct", "score_ci_high_pct", "contacts_scored", "contacts_with_critical_error",
    "sample_evaluations", "sample_score_pct", "sample_ci_low_pct", "sample_ci_high_pct", "evaluations_needed",
    "is_sample_sufficient",
)
# The ones a revision names when they move; the intervals follow the scores and would only repeat them.
NAMED_FIGURES = (
    "score_pct", "contacts_scored", "contacts_with_critical_error", "sample_score_pct", "sample_evaluations",
    "evaluations_needed", "is_sample_sufficient",
)


def build_snapshot(agent: dict[str, Any], contacts: list[dict[str, Any]],
                   criterion_results: list[dict[str, Any]]) -> dict[str, Any]:
    """The agent's figures and, per contact, its score and each criterion's
    [result, source, points earned, points possible, evaluator] — compact, stable JSON."""
    snapshot_contacts: dict[str, dict[str, Any]] = {
        c["contact_id"]: {"score_pct": _number(c.get("score_pct")), "criteria": {}, "evaluations": []}
        for c in contacts
    }
    for r in criterion_results:
        contact = snapshot_contacts.setdefault(
            r["contact_id"], {"score_pct": None, "criteria": {}, "evaluations": []})
        contact["criteria"][r["criterion_id"]] = [
            r.get("result"), r.get("result_source"), _number(r.get("points_earned"), 2),
            _number(r.get("points_possible"), 2), r.get("evaluator_id"),
        ]
        if r.get("evaluation_id") and r["evaluation_id"] not in contact["evaluations"]:
            contact["evaluations"].append(r["evaluation_id"])
    for contact in snapshot_contacts.values():
        contact["evaluations"].sort()
    return {
        "agent": {name: _plain(agent.get(name)) for name in HEADLINE_FIGURES},
        "contacts": snapshot_contacts,
    }


def snapshot_json(snapshot: dict[str, Any]) -> str:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(snapshot: dict[str, Any]) -> str:
    return hashlib.sha256(snapshot_json(snapshot).encode("utf-8")).hexdigest()


def describe_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """What differs between the snapshot revision n said and the one revision n+1 will say.

    Each change is a dict with a `kind` the templates turn into a sentence in the agent's
    language. Never empty when the hashes differ: a change the list cannot name (or a previous
    revision whose snapshot was not kept) becomes one `recalculated` line rather than silence.
    """
    if not before:
        return [{"kind": "recalculated"}]
    changes: list[dict[str, Any]] = []
    old_agent, new_agent = before.get("agent", {}), after["agent"]
    for name in NAMED_FIGURES:
        if old_agent.get(name) != new_agent.get(name):
            changes.append({"kind": "figure", "field": name, "from": old_agent.get(name), "to": new_agent.get(name)})
    old_contacts, new_contacts = before.get("contacts", {}), after["contacts"]
    for contact_id in sorted(set(old_contacts) | set(new_contacts)):
        changes.extend(_contact_changes(contact_id, old_contacts.get(contact_id), new_contacts.get(contact_id)))
    return changes or [{"kind": "recalculated"}]


def _contact_changes(contact_id: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[dict[str, Any]]:
    if old is None:
        return [{"kind": "contact_added", "contact_id": contact_id, "score_pct": new["score_pct"]}]  # type: ignore[index]
    if new is None:
        return [{"kind": "contact_removed", "contact_id": contact_id, "score_pct": old["score_pct"]}]
    changes: list[dict[str, Any]] = []
    old_criteria, new_criteria = old.get("criteria", {}), new.get("criteria", {})
    for criterion_id in sorted(set(old_criteria) | set(new_criteria)):
        was, now = old_criteria.get(criterion_id), new_criteria.get(criterion_id)
        if was != now:
            changes.append({"kind": "criterion", "contact_id": contact_id, "criterion_id": criterion_id,
                            "from": _criterion(was), "to": _criterion(now)})
    added = sorted(set(new.get("evaluations", [])) - set(old.get("evaluations", [])))
    removed = sorted(set(old.get("evaluations", [])) - set(new.get("evaluations", [])))
    if added:
        changes.append({"kind": "evaluation_added", "contact_id": contact_id, "evaluation_ids": added})
    if removed:
        changes.append({"kind": "evaluation_removed", "contact_id": contact_id, "evaluation_ids": removed})
    if old.get("score_pct") != new.get("score_pct"):
        changes.append({"kind": "contact_score", "contact_id": contact_id,
                        "from": old.get("score_pct"), "to": new.get("score_pct")})
    return changes


def _criterion(entry: list[Any] | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    result, source, earned, possible, evaluator = (list(entry) + [None] * 5)[:5]
    return {"result": result, "source": source, "points_earned": earned, "points_possible": possible,
            "evaluator_id": evaluator}


def _number(value: Any, digits: int = 1) -> float | None:
    # Rounded to what the email can show, so float noise from a rebuild never makes a revision.
    return None if value is None else round(float(value), digits)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    return _number(value)
