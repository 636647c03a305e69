"""Amazon Connect Contact Lens post-call analysis files (the documented output schema): transcript turns
become utterances, ConversationCharacteristics one call_metrics row, joined to a CDR contact."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import duckdb
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source
from contactqa.sources import IngestContext, parse_file

CONTACT_ID = "6f1a4c2e-8b7d-4e3a-9c5f-2d8e1b0a7c41"
AGENT, CUSTOMER = "f36a545d-67b2-4fd4-89fb-896136b609a7", "e9b36a6d-12aa-4c21-9745-1881648ecfc8"

ANALYSIS = {
    "Version": "1.1.0",
    "AccountId": "123456789012",
    "Channel": "VOICE",
    "ContentMetadata": {"Output": "Raw"},
    "JobStatus": "COMPLETED",
    "LanguageCode": "en-US",
    "Participants": [{"ParticipantId": CUSTOMER, "ParticipantRole": "CUSTOMER"},
                     {"ParticipantId": AGENT, "ParticipantRole": "AGENT"}],
    "Categories": {"MatchedCategories": ["Cancellation"],
                   "MatchedDetails": {"Cancellation": {"PointsOfInterest": [
                       {"BeginOffsetMillis": 7370, "EndOffsetMillis": 11190}]}}},
    "ConversationCharacteristics": {
        "TotalConversationDurationMillis": 32110,
        "Sentiment": {"OverallSentiment": {"AGENT": 0, "CUSTOMER": 3.1}},
        "Interruptions": {"InterruptionsByInterrupter": {"CUSTOMER": [
            {"BeginOffsetMillis": 10710, "DurationMillis": 3790, "EndOffsetMillis": 14500}]},
            "TotalCount": 1, "TotalTimeMillis": 3790},
        "NonTalkTime": {"TotalTimeMillis": 9300, "Instances": [
            {"BeginOffsetMillis": 6610, "DurationMillis": 760, "EndOffsetMillis": 7370},
            {"BeginOffsetMillis": 21820, "DurationMillis": 8540, "EndOffsetMillis": 30360}]},
        "TalkSpeed": {"DetailsByParticipant": {"AGENT": {"AverageWordsPerMinute": 239},
                                               "CUSTOMER": {"AverageWordsPerMinute": 163}}},
        "TalkTime": {"TotalTimeMillis": 19130, "DetailsByParticipant": {"AGENT": {"TotalTimeMillis": 10030},
                                                                         "CUSTOMER": {"TotalTimeMillis": 9100}}},
    },
    "CustomModels": [],
    "Transcript": [
        {"BeginOffsetMillis": 160, "Content": "Hello, thank you for calling. My name is John.", "EndOffsetMillis": 4640,
         "Id": "7b48ca3d-73d3-443a-bf34-a9e8fcc01747", "ParticipantId": AGENT, "Sentiment": "NEUTRAL",
         "LoudnessScore": [70.2, 73.1]},
        {"BeginOffsetMillis": 4640, "Content": "I need to cancel. I want to cancel my plan subscription.",
         "EndOffsetMillis": 6610, "Id": "75acb743-2154-486b-aaeb-c960ae290e88", "ParticipantId": CUSTOMER,
         "Sentiment": "NEGATIVE", "IssuesDetected": [{"CharacterOffsets": {"BeginOffsetChar": 0, "EndOffsetChar": 55},
                                                      "Text": "I need to cancel"}]},
        {"BeginOffsetMillis": 7370, "Content": "I can offer a 20% discount to make you stay with us.",
         "EndOffsetMillis": 21820, "Id": "121d1581-905f-4169-9804-b841bb4df04a", "ParticipantId": AGENT,
         "Sentiment": "NEUTRAL"},
        {"BeginOffsetMillis": 30360, "Content": "Thank you. Have a nice evening.", "EndOffsetMillis": 32110,
         "Id": "9a0c1b2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "ParticipantId": CUSTOMER, "Sentiment": "POSITIVE"},
    ],
    "CustomerMetadata": {"InputS3Uri": f"s3://connect-bucket/connect/acme/CallRecordings/2026/11/02/"
                                       f"{CONTACT_ID}_20261102T05:00_UTC.wav",
                         "InstanceId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "ContactId": CONTACT_ID},
}
FILE_NAME = f"{CONTACT_ID}_analysis_2026-11-02T05:05:12Z.json"


def analysis(**changes) -> dict:
    doc = copy.deepcopy(ANALYSIS)
    doc.update(changes)
    return doc


def parse(tmp_path: Path, doc, *, filename: str = FILE_NAME, options: dict | None = None):
    path = tmp_path / filename
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return parse_file("contact_lens", path, filename, IngestContext(options=options or {}))


def only_reason(parsed) -> str:
    assert parsed.records_read == 1 and not parsed.tables
    [reject] = parsed.rejects
    assert reject.locator == "$"
    return reject.reason


def test_turns_become_utterances_by_participant_role(tmp_path):
    parsed = parse(tmp_path, ANALYSIS)
    assert parsed.records_read == 1 and not parsed.rejects
    assert parsed.tables["transcripts"] == [{"contact_id": CONTACT_ID, "language": "en", "record_locator": "$",
                                             "source_file": FILE_NAME}]
    utterances = parsed.tables["utterances"]
    assert [(u["seq"], u["speaker"], u["offset_ms"], u["end_offset_ms"]) for u in utterances] == [
        (1, "agent", 160, 4640), (2, "customer", 4640, 6610), (3, "agent", 7370, 21820), (4, "customer", 30360, 32110)]
    assert utterances[1]["text"] == "I need to cancel. I want to cancel my plan subscription."
    assert utterances[1]["message_id"] == "75acb743-2154-486b-aaeb-c960ae290e88"
    assert utterances[2]["record_locator"] == "$.Transcript[2]"


def test_conversation_characteristics_become_call_metrics(tmp_path):
    [metrics] = parse(tmp_path, ANALYSIS).tables["call_metrics"]
    assert metrics == {
        "contact_id": CONTACT_ID, "metrics_source": "contact_lens",
        "recording_uri": ANALYSIS["CustomerMetadata"]["InputS3Uri"], "sample_rate_hz": None, "audio_channels": None,
        "duration_s": 32.11, "agent_talk_s": 10.03, "customer_talk_s": 9.1, "total_talk_s": 19.13,
        "longest_silence_s": 8.54, "longest_silence_at_ms": 21820, "non_talk_s": 9.3, "overtalk_s": 3.79,
        "interruptions": 1, "record_locator": "$.ConversationCharacteristics", "source_file": FILE_NAME,
    }


def test_older_files_key_talk_time_by_participant_id(tmp_path):
    doc = analysis()
    doc["ConversationCharacteristics"]["TalkTime"]["DetailsByParticipant"] = {
        AGENT: {"TotalTimeMillis": 10030}, CUSTOMER: {"TotalTimeMillis": 9100}}
    [metrics] = parse(tmp_path, doc).tables["call_metrics"]
    assert (metrics["agent_talk_s"], metrics["customer_talk_s"]) == (10.03, 9.1)


def test_contact_id_from_the_file_name_or_the_recording(tmp_path):
    doc = analysis(CustomerMetadata={"InputS3Uri": "s3://recordings/asterisk/2026/11/02/1762059600.1.wav"})
    by_name = parse(tmp_path, doc, options={"join_key": "file_name"})
    assert by_name.tables["transcripts"][0]["contact_id"] == CONTACT_ID  # what precedes "_analysis"
    pattern = parse(tmp_path, doc, filename="call-1762059600.1.json",
                    options={"filename_pattern": r"^call-(?P<contact_id>\d+\.\d+)\.json$"})
    assert pattern.tables["transcripts"][0]["contact_id"] == "1762059600.1"
    by_recording = parse(tmp_path, doc, options={"join_key": "recording"})
    assert {r["contact_id"] for rows in by_recording.tables.values() for r in rows} == {"1762059600.1"}


@pytest.mark.parametrize("doc, options, reason", [
    ("{\"Version\": \"1.1.0\", \"Transcript\": [", {}, "invalid JSON: Expecting value at line 1 column 37"),
    (analysis(Transcript=[]), {}, "Transcript is empty: nothing was transcribed"),
    (analysis(Transcript=[{**ANALYSIS["Transcript"][0], "ParticipantId": "SUPERVISOR"}]), {},
     f"Transcript[0]: ParticipantId 'SUPERVISOR' is not among the Participants ({CUSTOMER}, {AGENT})"),
    (analysis(Participants=[{"ParticipantId": AGENT, "ParticipantRole": "MANAGER"}]), {},
     "Participants[0]: ParticipantRole 'MANAGER' is not one of AGENT, CUSTOMER, SYSTEM"),
    (analysis(Transcript=[{**ANALYSIS["Transcript"][0], "BeginOffsetMillis": "0:00.160"}]), {},
     "Transcript[0].BeginOffsetMillis is '0:00.160', not a number of milliseconds"),
    (analysis(CustomerMetadata={"InputS3Uri": "s3://bucket/call.wav"}), {},
     "CustomerMetadata.ContactId is missing: set option join_key to file_name or recording"),
    (analysis(Channel="CHAT"), {}, "Channel is 'CHAT': only VOICE analyses are read"),
    (analysis(JobStatus="FAILED"), {}, "JobStatus is 'FAILED', not COMPLETED"),
    ([ANALYSIS], {}, "not a Contact Lens analysis: the file is not a JSON object"),
    ({"Version": "1.1.0"}, {}, "not a Contact Lens analysis: Participants is missing or empty"),
    (ANALYSIS, {"join_key": "ContactId"}, "option join_key must be one of contact_id, file_name, recording, "
                                          "not 'ContactId'"),
    (ANALYSIS, {"filename_pattern": r"^(?P<id>.+)_analysis"}, "option filename_pattern '^(?P<id>.+)_analysis' has "
                                                               "no (?P<contact_id>...) group"),
    (ANALYSIS, {"filename_pattern": r"^call-(?P<contact_id>.+)\.json$"},
     f"file name '{FILE_NAME}' does not match option filename_pattern"),
])
def test_a_file_that_cannot_be_read_is_one_quarantined_record_with_the_reason(tmp_path, doc, options, reason):
    assert only_reason(parse(tmp_path, doc, options=options)).startswith(reason)


# --- end to end: joined to the CDR's contact --------------------------------------------------------

DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Айгерим Нурланова,aigerim@bank.kz,Карты,sup.cards@bank.kz,ru,1001\n"
             "A002,John Smith,john@bank.kz,Billing,sup.billing@bank.kz,en,1002\n")
# Connect's contact records, exported to CSV and read through mapped_cdr.
CTR = ("ContactId,InitiationTimestamp,ConnectedToAgentTimestamp,DisconnectTimestamp,AgentUsername,CustomerEndpoint\n"
       f"{CONTACT_ID},2026-11-02T05:00:00Z,2026-11-02T05:00:05Z,2026-11-02T05:05:12Z,A002,+77011234567\n")
CTR_OPTIONS = {"agent_from": "agent_id", "columns": {
    "contact_id": "ContactId", "started_at": "InitiationTimestamp", "answered_at": "ConnectedToAgentTimestamp",
    "ended_at": "DisconnectTimestamp", "agent": "AgentUsername", "customer_number": "CustomerEndpoint"}}


@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    root = tmp_path_factory.mktemp("lens")
    orphan = analysis(CustomerMetadata={"ContactId": "00000000-0000-0000-0000-000000000000"})
    files = {"directory/agents.csv": DIRECTORY, "ctr/ctr.csv": CTR,
             f"lens/{FILE_NAME}": json.dumps(ANALYSIS),
             "lens/00000000-0000-0000-0000-000000000000_analysis_2026-11-02T06:00:00Z.json": json.dumps(orphan),
             "lens/broken_analysis.json": json.dumps(analysis(Transcript=[]))}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    sources = [{"name": "directory", "type": "agent_directory", "location": "directory"},
               {"name": "ctr", "type": "mapped_cdr", "location": "ctr", "options": CTR_OPTIONS},
               {"name": "lens", "type": "contact_lens", "location": "lens", "glob": "*.json"}]
    write_project_file(root / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": sources})
    project = load_project(root / "contactqa.yml")
    summaries = {s.name: ingest_source(project.warehouse_path, project, s, "run-1") for s in project.config.sources}
    return project, summaries


def query(project, sql):
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_contact_lens_joins_the_cdr_contact_and_nothing_is_lost(landed):
    project, summaries = landed
    lens = summaries["lens"]
    assert (lens.rows_read, lens.rows_loaded, lens.rows_quarantined) == (3, 1, 2)
    for outcome in lens.files:
        assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    assert query(project, f"SELECT agent_id, language FROM raw.contacts WHERE contact_id = '{CONTACT_ID}'") == [
        ("A002", "en")]
    assert query(project, "SELECT count(*), min(speaker), max(speaker) FROM raw.utterances") == [
        (4, "agent", "customer")]
    assert query(project, "SELECT contact_id, metrics_source, longest_silence_s, overtalk_s, interruptions "
                          "FROM raw.call_metrics") == [(CONTACT_ID, "contact_lens", 8.54, 3.79, 1)]
    reasons = sorted(r for (r,) in query(project, "SELECT reasons FROM raw.quarantine WHERE source = 'lens'"))
    assert reasons[0].startswith("Transcript is empty")
    assert ("no CDR row for this call_id (load the CDR first): "
            "contact_id='00000000-0000-0000-0000-000000000000'") in reasons[1]
