"""One function per rule type: a contact in, an outcome with its evidence out.

Outcomes: pass, fail, na (the criterion does not apply), unverifiable (the data needed is
missing — never counted as a pass) and manual (only a human can judge it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from contactqa.autoqa.language import PhraseMatcher, Utterance, compile_phrase
from contactqa.autoqa.sensitive import disclosures, find_passwords
from contactqa.config import (
    ActionOrderRule, CallingHoursRule, ContactFrequencyRule, Criterion, ForbiddenPhraseRule, InterruptionsRule,
    ManualRule, RecordingNoticeRule, RequiredActionsRule, RequiredInformationRule, RequiredPhraseRule,
    ResolutionRule, ResponseTimeRule, SensitiveDataRule, SilenceRule,
)
from contactqa.privacy import masked_excerpt


@dataclass
class Contact:
    contact_id: str
    channel: str
    agent_id: str | None
    agent_names: tuple[str, ...]
    topic: str | None
    disposition: str | None
    utterances: list[Utterance] = field(default_factory=list)
    actions: list[tuple[datetime, str]] = field(default_factory=list)
    has_action_log: bool = False
    direction: str | None = None
    queue: str | None = None
    started_at: datetime | None = None  # UTC
    ended_at: datetime | None = None  # UTC
    hold_s: float | None = None
    # From the recording (voice activity detection) or Contact Lens, when there is one.
    metrics: dict | None = None
    # Across contacts (computed in SQL for the whole warehouse): outbound calls to this customer
    # on the same local day / in the 7 days up to this one, and the customer's next contact on
    # the same topic.
    outbound_same_day: int | None = None
    outbound_same_week: int | None = None
    has_customer: bool = False
    next_same_topic_contact_id: str | None = None
    next_same_topic_after_s: float | None = None

    @property
    def agent_turns(self) -> list[Utterance]:
        return [u for u in self.utterances if u.speaker == "agent"]


@dataclass
class Outcome:
    result: str
    quote: str | None = None
    speaker: str | None = None
    offset_ms: int | None = None
    detail: str | None = None


def _clock(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _quote(u: Utterance, limit: int = 300) -> str:
    """The turn as evidence: masked first, then cut, so a number across the cut is not left half-shown."""
    return masked_excerpt(u.text, limit)


_matchers: dict[tuple, PhraseMatcher] = {}


def _matcher(sets: dict[str, list[str]], threshold: int, contact: Contact) -> PhraseMatcher:
    """The phrases of every language (agents switch languages mid-contact), names filled in; cached."""
    templated = any("{agent_first_name}" in text for texts in sets.values() for text in texts)
    names = contact.agent_names if templated else ()
    key = (tuple((language, tuple(texts)) for language, texts in sets.items()), threshold, names)
    if key not in _matchers:
        texts: list[str] = []
        for phrases in sets.values():
            for text in phrases:
                if "{agent_first_name}" in text:
                    texts.extend(text.replace("{agent_first_name}", name) for name in names)
                else:
                    texts.append(text)
        _matchers[key] = PhraseMatcher([compile_phrase(t) for t in dict.fromkeys(texts)], threshold)
    return _matchers[key]


def _no_transcript(contact: Contact) -> Outcome | None:
    if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if not contact.utterances:
        return Outcome("unverifiable", detail="no transcript or messages for this contact")
    return None


def required_phrase(rule: RequiredPhraseRule, contact: Contact) -> Outcome:
    if contact.disposition in rule.skip_if_disposition:
        return Outcome("na", detail=f"not required when the contact is {contact.disposition}")
    missing = _no_transcript(contact)
    if missing:
        return missing
    turns = contact.agent_turns if rule.speaker == "agent" else list(contact.utterances)
    if not turns:
        return Outcome("na", detail="the agent wrote or said nothing")
    where = "anywhere"
    if rule.within_first_turns:
        turns, where = turns[: rule.within_first_turns], f"in the first {rule.within_first_turns} agent turns"
    elif rule.within_last_turns:
        turns, where = turns[-rule.within_last_turns:], f"in the last {rule.within_last_turns} agent turns"
    hit = _matcher(rule.phrases, rule.fuzzy_threshold, contact).first_match(turns)
    if hit:
        u, phrase = hit
        return Outcome("pass", _quote(u), u.speaker, u.offset_ms, f"matched “{phrase.text}” {where}")
    shown = turns[0] if rule.within_first_turns or not rule.within_last_turns else turns[-1]
    return Outcome("fail", _quote(shown), shown.speaker, shown.offset_ms, f"none of the required phrases {where}")


def forbidden_phrase(rule: ForbiddenPhraseRule, contact: Contact) -> Outcome:
    missing = _no_transcript(contact)
    if missing:
        return missing
    hit = _matcher(rule.phrases, rule.fuzzy_threshold, contact).first_match(contact.agent_turns)
    if hit:
        u, phrase = hit
        return Outcome("fail", _quote(u), u.speaker, u.offset_ms, f"forbidden phrase “{phrase.text}”")
    return Outcome("pass", detail=f"{len(contact.agent_turns)} agent turns checked")


def max_silence(rule: SilenceRule, contact: Contact) -> Outcome:
    if contact.disposition not in (None, "answered", "transferred"):
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if rule.max_hold_seconds is not None and contact.hold_s is not None and contact.hold_s > rule.max_hold_seconds:
        return Outcome("fail", detail=f"on hold {contact.hold_s:.0f} s (limit {rule.max_hold_seconds:.0f} s), from the CDR")
    if contact.utterances:
        longest, at, after, non_talk = _silences(contact.utterances)
        source = "transcript"
    elif contact.metrics and contact.metrics.get("longest_silence_s") is not None:
        m = contact.metrics
        longest, at, after = m["longest_silence_s"] * 1000, m.get("longest_silence_at_ms") or 0, None
        non_talk = (m.get("non_talk_s") or 0) * 1000
        source = "recording" if m.get("metrics_source") == "vad" else m.get("metrics_source", "recording")
    elif rule.max_hold_seconds is not None and contact.hold_s is not None:
        return Outcome("pass", detail=f"on hold {contact.hold_s:.0f} s (limit {rule.max_hold_seconds:.0f} s), from the CDR")
    else:
        return Outcome("unverifiable", detail="no transcript, recording measurements or hold time for this call")
    detail = f"longest silence {longest / 1000:.0f} s (limit {rule.max_seconds:.0f} s), from the {source}"
    if longest > rule.max_seconds * 1000:
        if after is not None:
            return Outcome("fail", _quote(after), after.speaker, at, f"{detail}, from {_clock(at)}")
        return Outcome("fail", offset_ms=int(at), detail=f"{detail}, from {_clock(int(at))}")
    limit = rule.max_total_non_talk_seconds
    if limit is not None and non_talk > limit * 1000:
        return Outcome("fail", detail=f"{non_talk / 1000:.0f} s without talk in all (limit {limit:.0f} s), "
                                      f"from the {source}")
    return Outcome("pass", detail=detail)


def _silences(utterances: list[Utterance]) -> tuple[int, int, Utterance | None, int]:
    """Longest gap (ms), where it starts, the turn that ends it, and all gaps together."""
    ordered = sorted(utterances, key=lambda u: u.offset_ms)
    longest, at, after, total = 0, 0, None, 0
    spoken_until = ordered[0].end_offset_ms
    for u in ordered[1:]:
        gap = u.offset_ms - spoken_until
        if gap > 0:
            total += gap
        if gap > longest:
            longest, at, after = gap, spoken_until, u
        spoken_until = max(spoken_until, u.end_offset_ms)
    return longest, at, after, total


def response_time(rule: ResponseTimeRule, contact: Contact) -> Outcome:
    if not contact.utterances:
        return Outcome("unverifiable", detail="no messages for this contact")
    if not contact.agent_turns:
        return Outcome("na", detail="no agent reply (abandoned before an agent joined)")
    waiting_since: int | None = None
    first_reply: int | None = None
    worst = (0, None)
    for u in sorted(contact.utterances, key=lambda u: (u.offset_ms, u.seq)):
        if u.speaker == "customer" and waiting_since is None:
            waiting_since = u.offset_ms
        elif u.speaker == "agent":
            if waiting_since is not None:
                wait = u.offset_ms - waiting_since
                if first_reply is None:
                    first_reply = wait
                if wait > worst[0]:
                    worst = (wait, u)
            waiting_since = None
    wait_ms, reply = worst
    detail = (f"first reply {((first_reply or 0) / 1000):.0f} s (limit {rule.first_reply_max_seconds:.0f} s), "
              f"longest customer wait {wait_ms / 1000:.0f} s (limit {rule.max_customer_wait_seconds:.0f} s)")
    late_first = first_reply is not None and first_reply > rule.first_reply_max_seconds * 1000
    if (late_first or wait_ms > rule.max_customer_wait_seconds * 1000) and reply is not None:
        return Outcome("fail", _quote(reply), reply.speaker, reply.offset_ms, detail)
    return Outcome("pass", detail=detail)


def action_order(rule: ActionOrderRule, contact: Contact) -> Outcome:
    if not contact.has_action_log:
        if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
            return Outcome("na", detail=f"not answered ({contact.disposition})")
        return Outcome("unverifiable", detail="the action log has no rows for this contact")
    sequence = " → ".join(action for _, action in contact.actions)
    guarded = [(at, a) for at, a in contact.actions if a in rule.guarded_actions]
    if not guarded:
        return Outcome("na", detail=f"no account action in this contact ({sequence})")
    first_guarded = min(at for at, _ in guarded)
    verified = [at for at, a in contact.actions if a == rule.required_before]
    if verified and min(verified) <= first_guarded:
        return Outcome("pass", detail=f"actions: {sequence}")
    why = "after" if verified else "without"
    return Outcome("fail", detail=f"{guarded[0][1]} {why} {rule.required_before}; actions: {sequence}")


def sensitive_data(rule: SensitiveDataRule, contact: Contact) -> Outcome:
    missing = _no_transcript(contact)
    if missing:
        return missing
    for u in contact.agent_turns:
        # Stored text is masked: what it disclosed was recorded at ingest (pii_kinds); text that was
        # not masked (loaded by an earlier version) is still read.
        disclosed = set(u.pii_kinds) | set(disclosures(u.text))
        if "card_number" in rule.detect and "card_number" in disclosed:
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "full card number disclosed")
        if "national_id" in rule.detect and "national_id" in disclosed:
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "full national ID (IIN) disclosed")
        if "password" in rule.detect and find_passwords(u.text):
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "password or PIN disclosed")
    return Outcome("pass", detail=f"{len(contact.agent_turns)} agent turns checked")


def required_information(rule: RequiredInformationRule, contact: Contact) -> Outcome:
    facts = rule.topics.get(contact.topic or "")
    if facts is None:
        return Outcome("na", detail=f"no required information for topic {contact.topic}")
    missing = _no_transcript(contact)
    if missing:
        return missing
    said, absent = [], []
    for fact, phrases in facts.items():
        hit = _matcher(phrases, rule.fuzzy_threshold, contact).first_match(contact.agent_turns)
        (said if hit else absent).append((fact, hit))
    if absent:
        names = ", ".join(fact for fact, _ in absent)
        return Outcome("fail", detail=f"topic {contact.topic}: the agent did not state {names}")
    u = max((hit[0] for _, hit in said), key=lambda u: u.offset_ms)
    return Outcome("pass", _quote(u), u.speaker, u.offset_ms,
                   f"topic {contact.topic}: stated {', '.join(f for f, _ in said)}")


def recording_notice(rule: RecordingNoticeRule, contact: Contact) -> Outcome:
    if contact.queue and contact.queue in rule.announced_by_ivr_queues and contact.direction != "outbound":
        return Outcome("pass", detail=f"announced by the IVR of queue {contact.queue}")
    missing = _no_transcript(contact)
    if missing:
        return missing
    turns = contact.utterances[: rule.within_first_turns + 2]  # the IVR/system turn may come first
    hit = _matcher(rule.phrases, rule.fuzzy_threshold, contact).first_match(turns)
    if hit:
        u, phrase = hit
        return Outcome("pass", _quote(u), u.speaker, u.offset_ms, f"notice given: “{phrase.text}”")
    first = contact.utterances[0]
    return Outcome("fail", _quote(first), first.speaker, first.offset_ms,
                   f"no recording notice in the first {rule.within_first_turns} turns")


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def calling_hours(rule: CallingHoursRule, contact: Contact) -> Outcome:
    if contact.direction != "outbound":
        return Outcome("na", detail="inbound contact")
    if contact.started_at is None:
        return Outcome("unverifiable", detail="no start time")
    local = contact.started_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(rule.customer_timezone))
    weekend = local.weekday() >= 5
    earliest = _hhmm((rule.weekend_earliest if weekend else None) or rule.earliest)
    latest = _hhmm((rule.weekend_latest if weekend else None) or rule.latest)
    detail = (f"called at {local:%H:%M} {'on a weekend' if weekend else ''} customer's local time "
              f"({rule.customer_timezone}; allowed {earliest:%H:%M}–{latest:%H:%M})").replace("  ", " ")
    if not earliest <= local.time() <= latest:
        return Outcome("fail", detail=detail)
    return Outcome("pass", detail=detail)


def contact_frequency(rule: ContactFrequencyRule, contact: Contact) -> Outcome:
    if contact.direction != "outbound":
        return Outcome("na", detail="inbound contact")
    if not contact.has_customer or contact.outbound_same_day is None:
        return Outcome("unverifiable", detail="the customer's number is unknown")
    detail = f"call {contact.outbound_same_day} to this customer that day, {contact.outbound_same_week} in 7 days"
    if rule.max_per_day is not None and contact.outbound_same_day > rule.max_per_day:
        return Outcome("fail", detail=f"{detail} (limit {rule.max_per_day} a day)")
    if rule.max_per_week is not None and (contact.outbound_same_week or 0) > rule.max_per_week:
        return Outcome("fail", detail=f"{detail} (limit {rule.max_per_week} a week)")
    return Outcome("pass", detail=detail)


def interruptions(rule: InterruptionsRule, contact: Contact) -> Outcome:
    if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if contact.utterances and any(u.end_offset_ms > u.offset_ms for u in contact.utterances):
        ordered = sorted(contact.utterances, key=lambda u: u.offset_ms)
        cut_ins = []
        for previous, current in zip(ordered, ordered[1:]):
            if (current.speaker == "agent" and previous.speaker == "customer"
                    and current.offset_ms < previous.end_offset_ms):
                cut_ins.append(current)
        count, source, first = len(cut_ins), "transcript timings", (cut_ins[0] if cut_ins else None)
    elif contact.metrics and contact.metrics.get("interruptions") is not None:
        count, source, first = int(contact.metrics["interruptions"]), "recording", None
    else:
        return Outcome("unverifiable", detail="no timed transcript or recording measurements")
    detail = f"the agent talked over the customer {count} time(s) (limit {rule.max_count}), from the {source}"
    if count > rule.max_count:
        if first is not None:
            return Outcome("fail", _quote(first), first.speaker, first.offset_ms, detail)
        return Outcome("fail", detail=detail)
    return Outcome("pass", detail=detail)


def required_actions(rule: RequiredActionsRule, contact: Contact) -> Outcome:
    required = rule.topics.get(contact.topic or "")
    if required is None:
        return Outcome("na", detail=f"no required actions for topic {contact.topic}")
    if not contact.has_action_log:
        return Outcome("unverifiable", detail="the action log has no rows for this contact")
    seen = [action for _, action in contact.actions]
    sequence = " → ".join(seen) or "none"
    missing = [a for a in required if a not in seen]
    if missing:
        return Outcome("fail", detail=f"missing {', '.join(missing)}; actions: {sequence}")
    positions = [seen.index(a) for a in required]
    if positions != sorted(positions):
        return Outcome("fail", detail=f"out of order (required {' → '.join(required)}); actions: {sequence}")
    if rule.max_seconds_after_end is not None and contact.ended_at is not None:
        limit = contact.ended_at + timedelta(seconds=rule.max_seconds_after_end)
        late = [a for at, a in contact.actions if a in required and at > limit]
        if late:
            return Outcome("fail", detail=f"late: {', '.join(late)} more than {rule.max_seconds_after_end:.0f} s "
                                          f"after the contact ended; actions: {sequence}")
    return Outcome("pass", detail=f"actions: {sequence}")


def resolution(rule: ResolutionRule, contact: Contact) -> Outcome:
    if contact.disposition in rule.failing_dispositions:
        return Outcome("fail", detail=f"the contact was {contact.disposition}")
    if contact.disposition not in (None, "answered"):
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if not contact.has_customer or not contact.topic:
        return Outcome("unverifiable", detail="the customer or the topic is unknown")
    after = contact.next_same_topic_after_s
    if after is not None and after <= rule.repeat_within_days * 86400:
        return Outcome("fail", detail=f"the customer came back on {contact.topic} after {after / 3600:.0f} h "
                                      f"(contact {contact.next_same_topic_contact_id}): not resolved first time")
    return Outcome("pass", detail=f"no repeat contact on {contact.topic} within {rule.repeat_within_days:g} days")


def manual(rule: ManualRule, contact: Contact) -> Outcome:
    return Outcome("manual", detail="judged by a human evaluator")


RULES = {
    "required_phrase": required_phrase,
    "forbidden_phrase": forbidden_phrase,
    "max_silence": max_silence,
    "response_time": response_time,
    "action_order": action_order,
    "sensitive_data": sensitive_data,
    "manual": manual,
    "required_information": required_information,
    "recording_notice": recording_notice,
    "calling_hours": calling_hours,
    "contact_frequency": contact_frequency,
    "interruptions": interruptions,
    "required_actions": required_actions,
    "resolution": resolution,
}


def evaluate(criterion: Criterion, contact: Contact) -> Outcome:
    if contact.channel not in criterion.channels:
        return Outcome("na", detail=f"not applied to {contact.channel} contacts")
    if criterion.topics is not None and contact.topic not in criterion.topics:
        return Outcome("na", detail=f"not applied to topic {contact.topic}")
    return RULES[criterion.rule.type](criterion.rule, contact)
