"""Ingest on small samples in the real export formats: real GX, real DuckDB, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source

DIRECTORY = ("agent_id;full_name;email;team;supervisor_email;locale;extension\n"
             "A001;Айгерим Нурланова;aigerim.nurlanova@bank.kz;Карты;sup.cards@bank.kz;ru;1001\n"
             "A002;John Smith;john.smith@bank.kz;Billing;sup.billing@bank.kz;en;1002\n")

CDR = "\n".join([
    # inbound, answered by extension 1001
    '"cards","77011234567","700","from-trunk","""Client"" <77011234567>","PJSIP/trunk-0000001a","PJSIP/1001-0000001b",'
    '"Queue","cards,tT,,,300","2026-11-02 10:00:00","2026-11-02 10:00:12","2026-11-02 10:05:12",312,300,"ANSWERED",'
    '"DOCUMENTATION","1762059600.1","card_blocked"',
    # unanswered: empty answer
    '"cards","77019876543","700","from-trunk","""X"" <77019876543>","PJSIP/trunk-0000001c","PJSIP/1001-0000001d",'
    '"Queue","cards,tT,,,300","2026-11-02 11:00:00","","2026-11-02 11:00:30",30,0,"NO ANSWER","DOCUMENTATION",'
    '"1762063200.2",""',
    # outbound by 1002
    '"collections","1002","87015550000","from-internal","""John"" <1002>","PJSIP/1002-0000001e",'
    '"PJSIP/trunk-0000001f","Dial","PJSIP/87015550000@trunk,60","2026-11-02 12:00:00","2026-11-02 12:00:05",'
    '"2026-11-02 12:03:05",185,180,"ANSWERED","DOCUMENTATION","1762066800.3","collections"',
    # end before start
    '"cards","77011112233","700","from-trunk","","PJSIP/trunk-00000020","PJSIP/1001-00000021","Queue","cards",'
    '"2026-11-02 13:00:00","2026-11-02 13:00:05","2026-11-02 12:59:00",10,5,"ANSWERED","DOCUMENTATION","1762070400.4",""',
    # unknown extension
    '"cards","77011112234","700","from-trunk","","PJSIP/trunk-00000022","PJSIP/1999-00000023","Queue","cards",'
    '"2026-11-02 14:00:00","2026-11-02 14:00:05","2026-11-02 14:01:00",60,55,"ANSWERED","DOCUMENTATION","1762074000.5",""',
    # too few columns
    '"cards","77011112235","700"',
]) + "\n"

TRANSCRIPTS = "\n".join(json.dumps(t, ensure_ascii=False) for t in [
    {"call_id": "1762059600.1", "language": "ru", "utterances": [
        {"speaker": "agent", "start_ms": 0, "end_ms": 2500, "text": "добрый день меня зовут айгерим"},
        {"speaker": "customer", "start_ms": 3000, "end_ms": 5000, "text": "здрасте у меня карту заблокировали"}]},
    {"call_id": "no-such-call", "language": "ru", "utterances": [
        {"speaker": "agent", "start_ms": 0, "end_ms": 100, "text": "алло"}]},
    {"call_id": "1762066800.3", "language": "en", "utterances": []},
]) + "\n{not json\n"

CHATS = "\n".join(json.dumps(m, ensure_ascii=False) for m in [
    {"conversation_id": "chat-1", "agent_id": None, "sender": "bot", "sent_at": "2026-11-02T09:00:00+05:00", "text": "Соединяем с оператором"},
    {"conversation_id": "chat-1", "agent_id": "A002", "sender": "agent", "sent_at": "2026-11-02T09:00:20+05:00", "text": "Hello, John here"},
    {"conversation_id": "chat-1", "sender": "customer", "sent_at": "2026-11-02T09:01:00+05:00", "text": "<script>alert(1)</script> my bill?", "topic": "billing"},
    {"conversation_id": "chat-1", "agent_id": "A002", "sender": "robot", "sent_at": "2026-11-02T09:02:00+05:00", "text": "?"},
    {"conversation_id": "chat-1", "agent_id": "A002", "sender": "agent", "sent_at": "2026-11-02T09:03:00+05:00", "text": ""},
]) + "\n"

TELEGRAM = {
    "about": "export",
    "chats": {"about": "chats", "list": [{
        "name": "Клиент", "type": "personal_chat", "id": 555,
        "messages": [
            {"id": 1, "type": "message", "date": "2026-11-02T10:00:00", "date_unixtime": "1762059600",
             "from": "Клиент", "from_id": "user555", "text": "Здравствуйте"},
            {"id": 2, "type": "message", "date": "2026-11-02T10:00:40", "date_unixtime": "1762059640",
             "from": "Айгерим Нурланова", "from_id": "user1", "text": ["Добрый день! ", {"type": "bold", "text": "Айгерим"}, ", слушаю"]},
            {"id": 3, "type": "service", "date": "2026-11-02T10:01:00", "date_unixtime": "1762059660",
             "actor": "Клиент", "actor_id": "user555", "action": "pin_message"},
            {"id": 4, "type": "message", "date": "2026-11-03T10:00:00", "date_unixtime": "1762146000",
             "from": None, "from_id": "user555", "text": "опять я"},
            {"id": 5, "type": "message", "date": "2026-11-03T10:01:00", "date_unixtime": "1762146060",
             "from": "Someone Unknown", "from_id": "user9", "text": "hi"},
        ]}]},
}

ACTIONS = ("contact_id,agent_id,at,action,detail\n"
           "1762059600.1,A001,2026-11-02T10:01:00+05:00,verify-identity,code word\n"
           "1762059600.1,A001,2026-11-02T10:02:00+05:00,unblock-card,\n"
           "1762059600.1,A999,2026-11-02T10:03:00+05:00,create-ticket,\n"
           "1762059600.1,A001,not-a-time,create-ticket,\n")

EVALUATIONS = ("evaluation_id,contact_id,evaluator_id,criterion_id,result,points,comment,evaluated_at,"
               "calibration_session_id,is_reference\n"
               "ev1,1762059600.1,E01,GREETING,pass,10,ok,2026-11-03T10:00:00+05:00,,false\n"
               "ev2,1762059600.1,E01,CLOSING,maybe,0,?,2026-11-03T10:00:00+05:00,,false\n")


@pytest.fixture()
def project(tmp_path: Path):
    landing = tmp_path / "landing"
    files = {
        "directory/agents.csv": DIRECTORY.encode("cp1251"),
        "cdr/Master.csv": CDR.encode(),
        "transcripts/2026-11-02.jsonl": TRANSCRIPTS.encode(),
        "chats/chats-2026-11-02.jsonl": CHATS.encode(),
        "telegram/result.json": json.dumps(TELEGRAM, ensure_ascii=False).encode(),
        "actions/actions.csv": ACTIONS.encode("utf-8-sig"),
        "evaluations/evaluations.csv": EVALUATIONS.encode(),
    }
    for name, data in files.items():
        (landing / name).parent.mkdir(parents=True, exist_ok=True)
        (landing / name).write_bytes(data)
    sources = [
        {"name": "directory", "type": "agent_directory", "location": "landing/directory", "glob": "*.csv"},
        {"name": "asterisk", "type": "asterisk_cdr", "location": "landing/cdr", "glob": "*.csv", "timezone": "Asia/Almaty"},
        {"name": "transcripts", "type": "transcripts", "location": "landing/transcripts", "glob": "*.jsonl"},
        {"name": "chats", "type": "chat_jsonl", "location": "landing/chats", "glob": "*.jsonl"},
        {"name": "telegram", "type": "telegram", "location": "landing/telegram", "glob": "*.json"},
        {"name": "actions", "type": "agent_actions", "location": "landing/actions", "glob": "*.csv"},
        {"name": "evaluations", "type": "evaluations", "location": "landing/evaluations", "glob": "*.csv"},
    ]
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": sources})
    return load_project(tmp_path / "contactqa.yml")


def ingest_all(project, run_id="run-1"):
    return {s.name: ingest_source(project.warehouse_path, project, s, run_id) for s in project.config.sources}


def query(project, sql):
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_file_balances_and_bad_rows_are_quarantined_with_reasons(project):
    summaries = ingest_all(project)
    for summary in summaries.values():
        for outcome in summary.files:
            assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined, outcome
    cdr = summaries["asterisk"]
    assert (cdr.rows_read, cdr.rows_loaded, cdr.rows_quarantined) == (6, 3, 3)
    reasons = dict(query(project, "SELECT record_locator, reasons FROM raw.quarantine WHERE source = 'asterisk'"))
    assert "ends before it starts" in reasons["line 4"]
    assert "not in the agent directory" in reasons["line 5"] and "ext:1999" in reasons["line 5"]
    assert "expected 16 to 21 cdr_csv columns, found 3" in reasons["line 6"]


def test_cdr_times_are_utc_and_agents_come_from_extensions(project):
    ingest_all(project)
    rows = dict((r[0], r[1:]) for r in query(project,
        "SELECT contact_id, agent_id, direction, started_at, answered_at, disposition FROM raw.contacts "
        "WHERE channel = 'voice'"))
    agent, direction, started, answered, disposition = rows["1762059600.1"]
    assert (agent, direction) == ("A001", "inbound")
    assert str(started) == "2026-11-02 05:00:00"  # Asia/Almaty is UTC+5
    assert rows["1762063200.2"][3] is None and rows["1762063200.2"][4] == "no_answer"
    assert rows["1762066800.3"][:2] == ("A002", "outbound")


def test_cp1251_semicolon_directory_loads_cyrillic(project):
    ingest_all(project)
    assert query(project, "SELECT full_name, team FROM raw.agents WHERE agent_id = 'A001'") == [
        ("Айгерим Нурланова", "Карты")]


def test_transcripts_need_their_call_and_utterances(project):
    summary = ingest_all(project)["transcripts"]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 1, 3)
    reasons = " | ".join(r for (r,) in query(project, "SELECT reasons FROM raw.quarantine WHERE source = 'transcripts'"))
    assert "no CDR row for this call_id" in reasons
    assert "transcript has no utterances" in reasons
    assert "invalid JSON" in reasons
    assert query(project, "SELECT language FROM raw.contacts WHERE contact_id = '1762059600.1'") == [("ru",)]


def test_chat_messages_bad_sender_and_empty_text_quarantined_rest_loads(project):
    summary = ingest_all(project)["chats"]
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (5, 3, 2)
    reasons = " | ".join(r for (r,) in query(project, "SELECT reasons FROM raw.quarantine WHERE source = 'chats'"))
    assert "sender 'robot'" in reasons and "empty text" in reasons
    assert query(project, "SELECT agent_id, topic, started_at FROM raw.contacts WHERE contact_id = 'chat-1'") == [
        ("A002", "billing", __import__("datetime").datetime(2026, 11, 2, 4, 0))]


def test_telegram_conversations_split_agents_by_name_and_unknown_sender_quarantined(project):
    summary = ingest_all(project)["telegram"]
    assert summary.rows_read == 5
    contacts = query(project, "SELECT contact_id, agent_id FROM raw.contacts WHERE source_system = 'telegram'")
    assert contacts == [("tg-555-1", "A001")]
    texts = [t for (t,) in query(project, "SELECT text FROM raw.utterances WHERE contact_id = 'tg-555-1' ORDER BY seq")]
    assert texts[1] == "Добрый день! Айгерим, слушаю"
    reasons = " | ".join(r for (r,) in query(project, "SELECT reasons FROM raw.quarantine WHERE source = 'telegram'"))
    assert "tg:Someone Unknown" in reasons
    assert summary.rows_loaded == 3 and summary.rows_quarantined == 2


def test_reingesting_the_same_files_adds_nothing(project):
    ingest_all(project)
    before = query(project, "SELECT (SELECT count(*) FROM raw.contacts), (SELECT count(*) FROM raw.utterances), "
                            "(SELECT count(*) FROM raw.quarantine)")
    summaries = ingest_all(project, "run-2")
    assert all(s.files_new == 0 for s in summaries.values())
    assert query(project, "SELECT (SELECT count(*) FROM raw.contacts), (SELECT count(*) FROM raw.utterances), "
                          "(SELECT count(*) FROM raw.quarantine)") == before


def test_renamed_copy_is_recognised_and_a_new_file_with_a_known_call_is_a_duplicate(project):
    ingest_all(project)
    cdr_dir = project.resolve("landing/cdr")
    (cdr_dir / "Master-copy.csv").write_bytes((cdr_dir / "Master.csv").read_bytes())
    (cdr_dir / "Master-2.csv").write_text(CDR.splitlines()[0] + "\n", encoding="utf-8")
    source = next(s for s in project.config.sources if s.name == "asterisk")
    summary = ingest_source(project.warehouse_path, project, source, "run-2")
    assert summary.files_new == 1
    assert (summary.rows_loaded, summary.rows_quarantined) == (0, 1)
    reasons = query(project, "SELECT reasons FROM raw.quarantine WHERE run_id = 'run-2'")[0][0]
    assert "already loaded from" in reasons and "Master.csv line 1" in reasons


def test_ingest_ledger_and_run_summary_are_stored(project):
    ingest_all(project)
    ledger = query(project, "SELECT source, rows_read, rows_loaded, rows_quarantined FROM raw.ingest_ledger ORDER BY source")
    assert ("asterisk", 6, 3, 3) in ledger
    runs = query(project, "SELECT source, top_reasons FROM raw.ingest_runs WHERE source = 'asterisk'")
    assert "ends before it starts" in runs[0][1]


def test_missing_source_folder_is_a_clear_error(project, tmp_path):
    source = project.config.sources[1].model_copy(update={"location": "nowhere"})
    with pytest.raises(FileNotFoundError, match="source 'asterisk': folder .*nowhere does not exist"):
        ingest_source(project.warehouse_path, project, source, "run-x")
