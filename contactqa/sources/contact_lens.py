"""Amazon Connect Contact Lens post-call analysis output: one JSON file per voice contact.

Connect writes it to Analysis/Voice/<yyyy>/<mm>/<dd>/<ContactId>_analysis_<time>.json (Amazon
Transcribe Call Analytics writes the same schema). What is read:

    LanguageCode                          "ru-RU" -> the contact's language "ru"
    Participants[]                        ParticipantId, ParticipantRole (AGENT | CUSTOMER | SYSTEM)
    Transcript[]                          ParticipantId, Id, Content, BeginOffsetMillis, EndOffsetMillis
    ConversationCharacteristics           TotalConversationDurationMillis, TalkTime (TotalTimeMillis,
                                          DetailsByParticipant.<role or id>.TotalTimeMillis), NonTalkTime
                                          (TotalTimeMillis, Instances[]), Interruptions (TotalCount,
                                          TotalTimeMillis)
    CustomerMetadata                      ContactId, InputS3Uri (the recording)

Rows: the file is one `transcripts` record (it sets the contact's language), its turns become
`utterances` and its characteristics one `call_metrics` row (metrics_source contact_lens). They join
the CDR's contact by option `join_key`:
  contact_id (default)  CustomerMetadata.ContactId is our contact_id;
  file_name             the contact_id group of option `filename_pattern` on the file's name
                        (default: what precedes "_analysis", as Connect names the files);
  recording             the same pattern on the recording's file name in CustomerMetadata.InputS3Uri
                        (default: the name without its extension, e.g. Asterisk's 1762059600.1.wav).
Setting `filename_pattern` alone implies join_key file_name. Offsets are from the recording's start.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from contactqa.sources.base import IngestContext, ParsedFile, connector
from contactqa.sources.text import read_text

SPEAKERS = {"AGENT": "agent", "CUSTOMER": "customer", "SYSTEM": "system"}
DEFAULT_PATTERNS = {"file_name": r"^(?P<contact_id>.+?)_analysis", "recording": r"^(?P<contact_id>.+)\.[^.]+$"}
JOIN_KEYS = ("contact_id", "file_name", "recording")
OPTIONS = {"join_key": "how a file joins its call: contact_id (default), file_name or recording",
           "filename_pattern": "a regex with (?P<contact_id>...) on the file's or the recording's name"}
RECORD_UNIT = "analysis file"


class BadAnalysis(ValueError):
    """The file cannot become a transcript; the message is the quarantine reason."""


def _join(ctx: IngestContext) -> tuple[str, re.Pattern | None]:
    options = ctx.options
    join_key = options.get("join_key") or ("file_name" if options.get("filename_pattern") else "contact_id")
    if join_key not in JOIN_KEYS:
        raise BadAnalysis(f"option join_key must be one of {', '.join(JOIN_KEYS)}, not {join_key!r}")
    if join_key == "contact_id":
        return join_key, None
    source = options.get("filename_pattern") or DEFAULT_PATTERNS[join_key]
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise BadAnalysis(f"option filename_pattern {source!r} is not a valid regular expression: {exc}") from None
    if "contact_id" not in pattern.groupindex:
        raise BadAnalysis(f"option filename_pattern {source!r} has no (?P<contact_id>...) group")
    return join_key, pattern


def option_problems(options: dict) -> list[str]:
    """What is wrong with the source's options (for config validation); empty when they can work."""
    try:
        _join(IngestContext(options=options))
    except BadAnalysis as exc:
        return [str(exc)]
    return []


def _contact_id(doc: dict, path: Path, join_key: str, pattern: re.Pattern | None) -> str:
    metadata = doc.get("CustomerMetadata") if isinstance(doc.get("CustomerMetadata"), dict) else {}
    if join_key == "contact_id":
        contact_id = str(metadata.get("ContactId") or "").strip()
        if not contact_id:
            raise BadAnalysis("CustomerMetadata.ContactId is missing: set option join_key to file_name or recording "
                              "to take the contact id from a file name")
        return contact_id
    if join_key == "recording":
        uri = str(metadata.get("InputS3Uri") or "").strip()
        if not uri:
            raise BadAnalysis("CustomerMetadata.InputS3Uri is missing, so join_key recording has no file name")
        name = PurePosixPath(uri.split("?", 1)[0]).name
    else:
        name = path.name
    assert pattern is not None
    match = pattern.search(name)
    if not match or not match.group("contact_id"):
        raise BadAnalysis(f"file name {name!r} does not match option filename_pattern {pattern.pattern!r}")
    return match.group("contact_id")


def _millis(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise BadAnalysis(f"{where} is {value!r}, not a number of milliseconds")
    return int(value)


def _seconds(value: Any, where: str) -> float | None:
    millis = _millis(value, where)
    return None if millis is None else millis / 1000


def _section(parent: dict, key: str, where: str) -> dict:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadAnalysis(f"{where}.{key} is not an object")
    return value


@connector("contact_lens")
def parse(path: Path, name: str, ctx: IngestContext) -> ParsedFile:
    parsed = ParsedFile(name, primary="transcripts", records_read=1)
    text = parsed.read(read_text(path, ctx.encoding)).lstrip("\ufeff")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.reject("$", text, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return parsed
    try:
        _add_analysis(parsed, doc, path, ctx)
    except BadAnalysis as exc:
        parsed.tables.clear()
        parsed.reject("$", json.dumps(doc, ensure_ascii=False), str(exc))
    return parsed


def _participants(doc: dict) -> dict[str, str]:
    participants = doc.get("Participants")
    if not isinstance(participants, list) or not participants:
        raise BadAnalysis("not a Contact Lens analysis: Participants is missing or empty")
    roles: dict[str, str] = {}
    for i, participant in enumerate(participants):
        if not isinstance(participant, dict) or not participant.get("ParticipantId"):
            raise BadAnalysis(f"Participants[{i}] has no ParticipantId")
        role = str(participant.get("ParticipantRole") or "").upper()
        if role not in SPEAKERS:
            raise BadAnalysis(f"Participants[{i}]: ParticipantRole {participant.get('ParticipantRole')!r} is not "
                              f"one of {', '.join(SPEAKERS)}")
        roles[str(participant["ParticipantId"])] = role
    return roles


def _add_analysis(parsed: ParsedFile, doc: Any, path: Path, ctx: IngestContext) -> None:
    if not isinstance(doc, dict):
        raise BadAnalysis("not a Contact Lens analysis: the file is not a JSON object")
    join_key, pattern = _join(ctx)
    channel = doc.get("Channel")
    if channel not in (None, "VOICE"):
        raise BadAnalysis(f"Channel is {channel!r}: only VOICE analyses are read (chats come from chat exports)")
    status = doc.get("JobStatus")
    if status not in (None, "COMPLETED"):
        raise BadAnalysis(f"JobStatus is {status!r}, not COMPLETED: the analysis did not finish")
    roles = _participants(doc)
    turns = doc.get("Transcript")
    if not isinstance(turns, list):
        raise BadAnalysis("not a Contact Lens analysis: Transcript is missing")
    if not turns:
        raise BadAnalysis("Transcript is empty: nothing was transcribed")
    contact_id = _contact_id(doc, path, join_key, pattern)
    utterances = []
    for i, turn in enumerate(turns):
        where = f"Transcript[{i}]"
        if not isinstance(turn, dict):
            raise BadAnalysis(f"{where} is not an object")
        participant = str(turn.get("ParticipantId") or "")
        if participant not in roles:
            raise BadAnalysis(f"{where}: ParticipantId {participant!r} is not among the Participants "
                              f"({', '.join(roles)})")
        begin = _millis(turn.get("BeginOffsetMillis"), f"{where}.BeginOffsetMillis")
        end = _millis(turn.get("EndOffsetMillis"), f"{where}.EndOffsetMillis")
        if begin is None or end is None:
            raise BadAnalysis(f"{where} has no BeginOffsetMillis or EndOffsetMillis")
        content = turn.get("Content")
        if not isinstance(content, str):
            raise BadAnalysis(f"{where} has no Content")
        utterances.append({
            "contact_id": contact_id, "seq": i + 1, "speaker": SPEAKERS[roles[participant]],
            "offset_ms": begin, "end_offset_ms": end, "text": content,
            "message_id": str(turn["Id"]) if turn.get("Id") else None, "record_locator": f"$.{where}",
        })
    metrics = _call_metrics(doc, contact_id, roles, max(u["end_offset_ms"] for u in utterances))
    language = str(doc.get("LanguageCode") or "").split("-")[0].lower() or None
    parsed.add("transcripts", {"contact_id": contact_id, "language": language, "record_locator": "$"})
    for row in utterances:
        parsed.add("utterances", row)
    if metrics:
        parsed.add("call_metrics", metrics)


def _talk_by_role(talk: dict, roles: dict[str, str], role: str) -> float | None:
    """DetailsByParticipant is keyed by role in current files, by ParticipantId in older ones."""
    details = _section(talk, "DetailsByParticipant", "ConversationCharacteristics.TalkTime")
    keys = [role] if role in details else [pid for pid, r in roles.items() if r == role and pid in details]
    if not keys:
        return None
    total = 0.0
    for key in keys:
        entry = details[key]
        where = f"ConversationCharacteristics.TalkTime.DetailsByParticipant.{key}.TotalTimeMillis"
        seconds = _seconds(entry.get("TotalTimeMillis") if isinstance(entry, dict) else entry, where)
        total += seconds or 0.0
    return total


def _call_metrics(doc: dict, contact_id: str, roles: dict[str, str], last_speech_ms: int) -> dict[str, Any] | None:
    where = "ConversationCharacteristics"
    characteristics = _section(doc, where, "$")
    if not characteristics:
        return None
    talk = _section(characteristics, "TalkTime", where)
    non_talk = _section(characteristics, "NonTalkTime", where)
    interruptions = _section(characteristics, "Interruptions", where)
    longest_s = longest_at = None
    instances = non_talk.get("Instances")
    if instances is not None:
        if not isinstance(instances, list):
            raise BadAnalysis(f"{where}.NonTalkTime.Instances is not a list")
        longest_s = 0.0  # no instance: no silence worth reporting
        for i, instance in enumerate(instances):
            at = f"{where}.NonTalkTime.Instances[{i}]"
            if not isinstance(instance, dict):
                raise BadAnalysis(f"{at} is not an object")
            begin = _millis(instance.get("BeginOffsetMillis"), f"{at}.BeginOffsetMillis")
            end = _millis(instance.get("EndOffsetMillis"), f"{at}.EndOffsetMillis")
            duration = _millis(instance.get("DurationMillis"), f"{at}.DurationMillis")
            if duration is None:
                if begin is None or end is None:
                    raise BadAnalysis(f"{at} has neither DurationMillis nor Begin/EndOffsetMillis")
                duration = end - begin
            if duration / 1000 > longest_s:
                longest_s, longest_at = duration / 1000, begin
    count = interruptions.get("TotalCount")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise BadAnalysis(f"{where}.Interruptions.TotalCount is {count!r}, not a count")
    if count is None and isinstance(interruptions.get("InterruptionsByInterrupter"), dict):
        count = sum(len(v) for v in interruptions["InterruptionsByInterrupter"].values() if isinstance(v, list))
    metadata = doc.get("CustomerMetadata") if isinstance(doc.get("CustomerMetadata"), dict) else {}
    return {
        "contact_id": contact_id, "metrics_source": "contact_lens",
        "recording_uri": metadata.get("InputS3Uri") or None, "sample_rate_hz": None, "audio_channels": None,
        "duration_s": _seconds(characteristics.get("TotalConversationDurationMillis", last_speech_ms),
                               f"{where}.TotalConversationDurationMillis"),
        "agent_talk_s": _talk_by_role(talk, roles, "AGENT"),
        "customer_talk_s": _talk_by_role(talk, roles, "CUSTOMER"),
        "total_talk_s": _seconds(talk.get("TotalTimeMillis"), f"{where}.TalkTime.TotalTimeMillis"),
        "longest_silence_s": longest_s, "longest_silence_at_ms": longest_at,
        "non_talk_s": _seconds(non_talk.get("TotalTimeMillis"), f"{where}.NonTalkTime.TotalTimeMillis"),
        "overtalk_s": _seconds(interruptions.get("TotalTimeMillis"), f"{where}.Interruptions.TotalTimeMillis"),
        "interruptions": count, "record_locator": f"$.{where}",
    }
