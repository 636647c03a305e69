"""What a feedback revision compares and says, and which periods a run emails (plain functions)."""

from __future__ import annotations

from datetime import date

from contactqa.delivery import DeliverySettings, plan_periods
from contactqa.delivery.revisions import build_snapshot, content_hash, describe_changes
from contactqa.periods import parse_period

AGENT = {"agent_id": "A1", "score_pct": 64.7, "score_ci_low_pct": 50.0, "score_ci_high_pct": 79.4,
         "contacts_scored": 2, "contacts_with_critical_error": 0, "sample_evaluations": 1, "sample_score_pct": 70.0,
         "sample_ci_low_pct": 70.0, "sample_ci_high_pct": 70.0, "evaluations_needed": 3,
         "is_sample_sufficient": False, "team": "Cards", "previous_score_pct": 60.0}
CONTACTS = [{"contact_id": "V-1", "score_pct": 80.0}, {"contact_id": "V-2", "score_pct": 49.4}]
RESULTS = [
    {"contact_id": "V-1", "criterion_id": "CLOSING", "result": "pass", "result_source": "auto",
     "points_earned": 10.0, "points_possible": 10.0, "evaluator_id": None, "evaluation_id": None},
    {"contact_id": "V-2", "criterion_id": "CLOSING", "result": "fail", "result_source": "manual",
     "points_earned": 0.0, "points_possible": 10.0, "evaluator_id": "E01", "evaluation_id": "EV-1"},
]


def _settings(**changes) -> DeliverySettings:
    return DeliverySettings(outbox_dir=".", close_after_days=3, **changes)


def test_the_hash_ignores_what_the_email_does_not_say_about_the_agent():
    base = content_hash(build_snapshot(AGENT, CONTACTS, RESULTS))
    # the team and the previous period are shown around the figures but are not the agent's to revise
    assert content_hash(build_snapshot({**AGENT, "team": "Loans", "previous_score_pct": 10.0}, CONTACTS, RESULTS)) == base
    assert content_hash(build_snapshot({**AGENT, "score_pct": 64.70000000001}, CONTACTS, RESULTS)) == base
    assert content_hash(build_snapshot({**AGENT, "score_pct": 63.6}, CONTACTS, RESULTS)) != base


def test_changes_name_the_score_the_criterion_and_the_evaluation():
    before = build_snapshot(AGENT, CONTACTS, RESULTS)
    changed = [dict(RESULTS[0], result="fail", result_source="manual", points_earned=0.0, evaluator_id="E01",
                    evaluation_id="EV-2"), RESULTS[1]]
    after = build_snapshot({**AGENT, "score_pct": 63.6}, [dict(CONTACTS[0], score_pct=70.0), CONTACTS[1]], changed)
    changes = describe_changes(before, after)
    assert changes[0] == {"kind": "figure", "field": "score_pct", "from": 64.7, "to": 63.6}
    assert {"kind": "criterion", "contact_id": "V-1", "criterion_id": "CLOSING",
            "from": {"result": "pass", "source": "auto", "points_earned": 10.0, "points_possible": 10.0,
                     "evaluator_id": None},
            "to": {"result": "fail", "source": "manual", "points_earned": 0.0, "points_possible": 10.0,
                   "evaluator_id": "E01"}} in changes
    assert {"kind": "evaluation_added", "contact_id": "V-1", "evaluation_ids": ["EV-2"]} in changes
    assert {"kind": "contact_score", "contact_id": "V-1", "from": 80.0, "to": 70.0} in changes
    assert all(c.get("contact_id") != "V-2" for c in changes)


def test_contacts_added_and_removed_and_an_unnamed_change_is_never_silent():
    before = build_snapshot(AGENT, CONTACTS, RESULTS)
    after = build_snapshot(AGENT, [CONTACTS[0], {"contact_id": "V-3", "score_pct": 90.0}], [RESULTS[0]])
    changes = describe_changes(before, after)
    assert {"kind": "contact_removed", "contact_id": "V-2", "score_pct": 49.4} in changes
    assert {"kind": "contact_added", "contact_id": "V-3", "score_pct": 90.0} in changes
    only_interval = build_snapshot({**AGENT, "score_ci_low_pct": 51.0}, CONTACTS, RESULTS)
    assert describe_changes(before, only_interval) == [{"kind": "recalculated"}]
    assert describe_changes(None, before) == [{"kind": "recalculated"}]


def test_plan_sends_closed_periods_in_the_ledger_and_the_latest_unsent_ones():
    available = [parse_period(k) for k in ("2026-08", "2026-09", "2026-10", "2026-11", "2026-W47", "2026-W48")]
    plan = plan_periods(available, {"2026-08"}, _settings(), date(2026, 11, 30))
    assert [t.period.key for t in plan.targets] == ["2026-08", "2026-10"]
    assert not any(t.is_preliminary for t in plan.targets)
    assert [(h.period, h.closes_on) for h in plan.held_back] == [("2026-11", date(2026, 12, 4))]
    assert plan.beyond_lookback == ["2026-09"]

    # a week once asked for by name is followed for corrections, though weeks are not configured
    followed = plan_periods(available, {"2026-W47"}, _settings(), date(2026, 11, 30))
    assert [t.period.key for t in followed.targets] == ["2026-10", "2026-W47"]
    assert [h.period for h in followed.held_back] == ["2026-11"]

    both = plan_periods(available, set(), _settings(feedback_periods=["week", "month"], lookback=2), date(2026, 11, 30))
    assert [t.period.key for t in both.targets] == ["2026-09", "2026-10", "2026-W47"]
    assert [h.period for h in both.held_back] == ["2026-W48", "2026-11"]


def test_a_period_asked_for_by_name_is_preliminary_only_while_open():
    november = parse_period("2026-11")
    (open_target,) = plan_periods([november], set(), _settings(), date(2026, 12, 3), november).targets
    (closed_target,) = plan_periods([november], set(), _settings(), date(2026, 12, 4), november).targets
    assert open_target.is_preliminary and not closed_target.is_preliminary
    assert open_target.closes_on == date(2026, 12, 4)
