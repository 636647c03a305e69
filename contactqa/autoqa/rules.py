"""One function per rule type: a contact in, an outcome with its evidence out.

Outcomes: pass, fail, na (the criterion does not apply), unverifiable (the data needed is
missing — never counted as a pass) and manual (only a human can judge it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from contactqa.autoqa.language import PhraseMatcher, Utterance, compile_phrase
from contactqa.autoqa.sensitive import find_card_numbers, find_national_ids
from contactqa.config import (
    ActionOrderRule, Criterion, ForbiddenPhraseRule, ManualRule, RequiredPhraseRule, ResponseTimeRule,
    SensitiveDataRule, SilenceRule,
)


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
    return u.text if len(u.text) <= limit else u.text[:limit] + "…"


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
    missing = _no_transcript(contact)
    if missing:
        return missing
    ordered = sorted(contact.utterances, key=lambda u: u.offset_ms)
    longest, at, after = 0, 0, None
    spoken_until = ordered[0].end_offset_ms
    for u in ordered[1:]:
        gap = u.offset_ms - spoken_until
        if gap > longest:
            longest, at, after = gap, spoken_until, u
        spoken_until = max(spoken_until, u.end_offset_ms)
    detail = f"longest silence {longest / 1000:.0f} s (limit {rule.max_seconds:.0f} s)"
    if longest > rule.max_seconds * 1000 and after is not None:
        return Outcome("fail", _quote(after), after.speaker, at, f"{detail}, from {_clock(at)}")
    return Outcome("pass", detail=detail)


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
        if "card_number" in rule.detect and find_card_numbers(u.text):
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "full card number disclosed")
        if "national_id" in rule.detect and find_national_ids(u.text):
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "full national ID (IIN) disclosed")
    return Outcome("pass", detail=f"{len(contact.agent_turns)} agent turns checked")


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
}


def evaluate(criterion: Criterion, contact: Contact) -> Outcome:
    if contact.channel not in criterion.channels:
        return Outcome("na", detail=f"not applied to {contact.channel} contacts")
    if criterion.topics is not None and contact.topic not in criterion.topics:
        return Outcome("na", detail=f"not applied to topic {contact.topic}")
    return RULES[criterion.rule.type](criterion.rule, contact)
