"""CDR connectors on samples written the way each PBX writes them: Asterisk cdr_csv and cdr_custom,
FreeSWITCH mod_cdr_csv, and a mapped CSV export. Parsing is checked directly; every connector also
goes through ingest (real GX, real DuckDB) once, where read = loaded + quarantined must hold."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source
from contactqa.sources import IngestContext, asterisk_cdr, contact_lens, freeswitch_cdr, mapped_cdr, parse_file
from contactqa.sources.base import option_problems

DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Айгерим Нурланова,aigerim@bank.kz,Карты,sup.cards@bank.kz,ru,1001\n"
             "A002,John Smith,john@bank.kz,Billing,sup.billing@bank.kz,en,1002\n")
CTX = IngestContext(timezone="Asia/Almaty", agents_by_extension={"1001": "A001", "1002": "A002"})
TRUNK_IN = '"cards","77011234567","700","from-trunk","""Клиент"" <77011234567>","PJSIP/trunk-00000001"'

# cdr_csv with loguniqueid, loguserfield and newcdrcolumns (21 columns): a queue call that rang 1001
# (no answer) and was answered by 1002 - two legs of linkedid 1762059600.10 - then the second leg
# written twice, then a call of its own.
CDR_CSV_LEGS = "\n".join([
    f'{TRUNK_IN},"PJSIP/1001-00000002","Queue","cards,tT,,,300","2026-11-02 10:00:00","","2026-11-02 10:00:15",'
    '15,0,"NO ANSWER","DOCUMENTATION","1762059600.10","","","1762059600.10",1',
    f'{TRUNK_IN},"PJSIP/1002-00000003","Queue","cards,tT,,,300","2026-11-02 10:00:15","2026-11-02 10:00:20",'
    '"2026-11-02 10:04:20",245,240,"ANSWERED","DOCUMENTATION","1762059600.10","card_blocked","","1762059600.10",2',
    f'{TRUNK_IN},"PJSIP/1002-00000003","Queue","cards,tT,,,300","2026-11-02 10:00:15","2026-11-02 10:00:20",'
    '"2026-11-02 10:04:20",245,240,"ANSWERED","DOCUMENTATION","1762059600.10","card_blocked","","1762059600.10",2',
    f'{TRUNK_IN},"PJSIP/1001-00000005","Queue","cards","2026-11-02 11:00:00","2026-11-02 11:00:04",'
    '"2026-11-02 11:02:04",124,120,"ANSWERED","DOCUMENTATION","1762063200.20","","","1762063200.20",1',
]) + "\n"

# cdr_custom, the legacy Master.csv mapping: clid, src, dst, dcontext, channel, dstchannel, lastapp,
# lastdata, start, answer, end, duration, billsec, disposition, amaflags, accountcode, uniqueid, userfield, sequence
CDR_CUSTOM = "\n".join([
    # inbound, answered by 1001
    '"""Клиент"" <77011234567>","77011234567","700","from-trunk","PJSIP/trunk-0000001a","PJSIP/1001-0000001b",'
    '"Queue","cards,tT,,,300","2026-11-02 10:00:00","2026-11-02 10:00:12","2026-11-02 10:05:12","312","300",'
    '"ANSWERED","DOCUMENTATION","cards","1762059600.1","card_blocked",3',
    # outbound by 1002, customer busy
    '"""John Smith"" <1002>","1002","87015550000","from-internal","PJSIP/1002-0000001c","PJSIP/trunk-0000001d",'
    '"Dial","PJSIP/87015550000@trunk,60","2026-11-02 11:00:00","","2026-11-02 11:00:09","9","0","BUSY",'
    '"DOCUMENTATION","collections","1762063200.2","",4',
    # inbound, nobody answered (answer empty)
    '"""Клиент"" <77019876543>","77019876543","700","from-trunk","PJSIP/trunk-0000001e","PJSIP/1001-0000001f",'
    '"Queue","cards,tT,,,300","2026-11-02 11:30:00","","2026-11-02 11:30:30","30","0","NO ANSWER",'
    '"DOCUMENTATION","cards","1762065000.3","",5',
    # a time in the wrong format
    '"""Клиент"" <77011112233>","77011112233","700","from-trunk","PJSIP/trunk-00000020","PJSIP/1001-00000021",'
    '"Queue","cards","02.11.2026 12:00","2026-11-02 12:00:05","2026-11-02 12:01:00","60","55","ANSWERED",'
    '"DOCUMENTATION","cards","1762066800.4","",6',
    # cdr_csv's order by mistake (16 columns)
    '"cards","77011112234","700","from-trunk","","PJSIP/trunk-00000022","PJSIP/1001-00000023","Queue","cards",'
    '"2026-11-02 13:00:00","2026-11-02 13:00:05","2026-11-02 13:01:00",60,55,"ANSWERED","DOCUMENTATION"',
    # a disposition cdr_custom does not write
    '"""Клиент"" <77011112235>","77011112235","700","from-trunk","PJSIP/trunk-00000024","PJSIP/1001-00000025",'
    '"Queue","cards","2026-11-02 14:00:00","2026-11-02 14:00:05","2026-11-02 14:01:00","60","55","4",'
    '"DOCUMENTATION","cards","1762074000.6","",7',
]) + "\n"

# mod_cdr_csv "example" template
FS_A = "0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000001"
FS_B = "0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000002"
FREESWITCH = "\n".join([
    # inbound straight to 1001, answered
    f'"Клиент","77011234567","1001","public","2026-11-02 10:00:00","2026-11-02 10:00:10","2026-11-02 10:05:10",'
    f'"310","300","NORMAL_CLEARING","{FS_A}","","cards","PCMA","PCMA"',
    # outbound by 1002, answered
    '"John Smith","1002","87015550000","default","2026-11-02 12:00:00","2026-11-02 12:00:05","2026-11-02 12:03:05",'
    '"185","180","NORMAL_CLEARING","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000003","","collections","PCMA","PCMA"',
    # inbound to 1001, the caller hung up while it rang
    '"Клиент","77019876543","1001","public","2026-11-02 13:00:00","","2026-11-02 13:00:20","20","0",'
    '"ORIGINATOR_CANCEL","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000004","","","PCMA","PCMA"',
    # outbound by 1002, busy
    '"John Smith","1002","87015551111","default","2026-11-02 13:10:00","","2026-11-02 13:10:04","4","0",'
    '"USER_BUSY","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000005","","","PCMA","PCMA"',
    # outbound by 1002, rejected by the carrier
    '"John Smith","1002","87015552222","default","2026-11-02 13:20:00","","2026-11-02 13:20:01","1","0",'
    '"CALL_REJECTED","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000006","","","PCMA","PCMA"',
    # a custom template with fewer fields
    '"John Smith","1002","87015553333","default","2026-11-02 13:30:00","","2026-11-02 13:30:01","1","0",'
    '"CALL_REJECTED","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000007","","PCMA","PCMA"',
    # epoch instead of a stamp
    '"John Smith","1002","87015554444","default","1762070400","","1762070401","1","0",'
    '"CALL_REJECTED","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000008","","","PCMA","PCMA"',
]) + "\n"
# legs="ab": the a-leg to queue 700, bridged (bleg_uuid) to the b-leg that rang extension 1002
FS_BRIDGED = "\n".join([
    f'"Клиент","77011234599","700","public","2026-11-02 14:00:00","2026-11-02 14:00:02","2026-11-02 14:05:10",'
    f'"310","308","NORMAL_CLEARING","{FS_A[:-1]}9","{FS_B}","cards","PCMA","PCMA"',
    f'"Клиент","77011234599","1002","default","2026-11-02 14:00:01","2026-11-02 14:00:10","2026-11-02 14:05:10",'
    f'"309","300","NORMAL_CLEARING","{FS_B}","","cards","PCMA","PCMA"',
]) + "\n"

# A cloud PBX's export, mapped through options: semicolons, Russian headers, dd.mm.yyyy, clock durations.
MAPPED = ("ID звонка;Начало;Ответ;Конец;Длительность;Разговор;Оператор;Номер клиента;Статус;Очередь\n"
          "c-001;02.11.2026 10:00:00;02.11.2026 10:00:07;02.11.2026 10:05:07;0:05:07;0:05:00;1001;+7 701 123 45 67;"
          "Отвечен;cards\n"
          "c-002;02.11.2026 11:00:00;;02.11.2026 11:00:40;0:00:40;0:00:00;1002;87019876543;Пропущен;billing\n"
          "c-003;2026-11-02 12:00;02.11.2026 12:00:07;02.11.2026 12:05:07;0:05:07;0:05:00;1001;87011112233;"
          "Отвечен;cards\n"
          "c-004;02.11.2026 13:00:00;02.11.2026 13:00:07;02.11.2026 13:05:07;0:05:07;0:05:00;1001;87011112234;"
          "Переведён;cards\n")
MAPPED_OPTIONS = {
    "columns": {"contact_id": "ID звонка", "started_at": "Начало", "answered_at": "Ответ", "ended_at": "Конец",
                "duration_s": "Длительность", "talk_s": "Разговор", "agent": "Оператор",
                "customer_number": "Номер клиента", "disposition": "Статус", "queue": "Очередь"},
    "date_format": "%d.%m.%Y %H:%M:%S",
    "disposition_map": {"Отвечен": "answered", "Пропущен": "no_answer", "Занято": "busy"},
}


def parse(source_type: str, text: str, tmp_path: Path, *, options: dict | None = None,
          filename: str = "Master.csv"):
    path = tmp_path / filename
    path.write_text(text, encoding="utf-8")
    ctx = IngestContext(timezone=CTX.timezone, agents_by_extension=CTX.agents_by_extension, options=options or {})
    return parse_file(source_type, path, filename, ctx)


def reasons(parsed) -> dict[str, str]:
    return {r.locator: r.reason for r in parsed.rejects}


def contacts(parsed) -> dict[str, dict]:
    return {row["contact_id"]: row for row in parsed.tables.get("contacts", [])}


# --- Asterisk cdr_csv: legs of one linkedid are one contact ------------------------------------------

def test_cdr_csv_legs_of_one_linkedid_become_one_contact_answered_by_the_agent_leg(tmp_path):
    parsed = parse("asterisk_cdr", CDR_CSV_LEGS, tmp_path)
    assert parsed.records_read == 4 and not parsed.rejects
    rows = parsed.tables["contacts"]
    call = rows[0]
    assert call["contact_id"] == "1762059600.10" and call["record_locator"] == "lines 1, 2"
    assert (call["agent_id"], call["disposition"], call["topic"], call["queue"]) == ("A002", "answered", "card_blocked",
                                                                                     "cards")
    assert call["started_at"] == datetime(2026, 11, 2, 5, 0, 0)  # the first leg's start, Asia/Almaty is UTC+5
    assert call["answered_at"] == datetime(2026, 11, 2, 5, 0, 20)
    assert call["ended_at"] == datetime(2026, 11, 2, 5, 4, 20)
    assert (call["duration_s"], call["talk_s"]) == (260.0, 240.0)
    assert parsed.merged == {"lines 1, 2": 1}
    # the leg written twice is not a third leg: it stays a row for ingest to quarantine as a duplicate
    assert [(r["contact_id"], r["record_locator"]) for r in rows[1:]] == [
        ("1762059600.10", "line 3"), ("1762063200.20", "line 4")]
    assert sum(parsed.records_in(r) for r in rows) == parsed.records_read


@pytest.mark.parametrize("tail, expected", [
    ('"DOCUMENTATION"', {}),  # plain cdr_csv: 16 columns, no id of its own
    ('"DOCUMENTATION","1762059600.1"', {"uniqueid": "1762059600.1"}),
    ('"DOCUMENTATION","card_blocked"', {"topic": "card_blocked"}),
    ('"DOCUMENTATION","","1762059600.1",1', {"contact_id": "1762059600.1"}),  # newcdrcolumns only
    ('"DOCUMENTATION","1762059600.2","","1762059600.1",2', {"contact_id": "1762059600.1"}),
])
def test_cdr_csv_layout_follows_the_logged_columns(tmp_path, tail, expected):
    line = (f'{TRUNK_IN},"PJSIP/1001-00000002","Queue","cards","2026-11-02 10:00:00","2026-11-02 10:00:05",'
            f'"2026-11-02 10:01:00",60,55,"ANSWERED",{tail}\n')
    parsed = parse("asterisk_cdr", line, tmp_path)
    [row] = parsed.tables["contacts"]
    if "uniqueid" in expected:
        assert row["contact_id"] == expected["uniqueid"] and row["topic"] is None
    if "topic" in expected:
        assert row["topic"] == "card_blocked" and row["contact_id"].endswith("Master.csv:1")
    if "contact_id" in expected:
        assert row["contact_id"] == expected["contact_id"]
    assert row["agent_id"] == "A001"


# --- Asterisk cdr_custom ---------------------------------------------------------------------------

def test_cdr_custom_legacy_mapping_directions_dispositions_and_utc(tmp_path):
    parsed = parse("asterisk_cdr_custom", CDR_CUSTOM, tmp_path)
    rows = contacts(parsed)
    inbound, busy, missed = rows["1762059600.1"], rows["1762063200.2"], rows["1762065000.3"]
    assert (inbound["agent_id"], inbound["direction"], inbound["disposition"]) == ("A001", "inbound", "answered")
    assert (inbound["queue"], inbound["topic"], inbound["source_system"]) == ("cards", "card_blocked", "asterisk")
    assert (inbound["started_at"], inbound["answered_at"]) == (
        datetime(2026, 11, 2, 5), datetime(2026, 11, 2, 5, 0, 12))
    assert (inbound["duration_s"], inbound["talk_s"]) == (312.0, 300.0)
    assert (busy["agent_id"], busy["direction"], busy["disposition"], busy["answered_at"]) == (
        "A002", "outbound", "busy", None)
    assert (missed["disposition"], missed["answered_at"], missed["talk_s"]) == ("no_answer", None, 0.0)
    assert inbound["customer_key"] != busy["customer_key"] and "7701" not in inbound["customer_key"]
    assert reasons(parsed) == {
        "line 4": "unreadable time (time data '02.11.2026 12:00' does not match format '%Y-%m-%d %H:%M:%S') "
                  "in start; expected YYYY-MM-DD HH:MM:SS",
        "line 5": "expected 18 or 19 cdr_custom columns (the legacy Master.csv mapping: clid, src, dst, ... "
                  "uniqueid, userfield[, sequence]), found 16",
        "line 6": "disposition '4' is not one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION",
    }


# --- FreeSWITCH mod_cdr_csv ------------------------------------------------------------------------

def test_freeswitch_example_template_agents_and_hangup_causes(tmp_path):
    parsed = parse("freeswitch_cdr", FREESWITCH, tmp_path)
    rows = contacts(parsed)
    call = rows[FS_A]
    assert (call["agent_id"], call["direction"], call["disposition"], call["queue"]) == (
        "A001", "inbound", "answered", "cards")
    assert call["started_at"] == datetime(2026, 11, 2, 5, 0) and call["answered_at"] == datetime(2026, 11, 2, 5, 0, 10)
    assert (call["duration_s"], call["talk_s"], call["source_system"]) == (310.0, 300.0, "freeswitch")
    outbound = rows["0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000003"]
    assert (outbound["agent_id"], outbound["direction"], outbound["disposition"]) == ("A002", "outbound", "answered")
    assert [rows[f"0b5c6f0e-2a4b-4d1e-9a51-7d0c1e00000{i}"]["disposition"] for i in (4, 5, 6)] == [
        "no_answer", "busy", "failed"]
    assert rows["0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000004"]["answered_at"] is None
    assert reasons(parsed) == {
        "line 6": "expected 15 columns (mod_cdr_csv example template), found 14",
        "line 7": "unreadable time (time data '1762070400' does not match format '%Y-%m-%d %H:%M:%S') "
                  "in start_stamp; expected YYYY-MM-DD HH:MM:SS",
    }


def test_freeswitch_b_leg_joins_its_a_leg(tmp_path):
    parsed = parse("freeswitch_cdr", FS_BRIDGED, tmp_path)
    [call] = parsed.tables["contacts"]  # keyed by the a-leg's uuid, the agent from the b-leg
    assert (call["contact_id"], call["agent_id"], call["record_locator"]) == (FS_A[:-1] + "9", "A002", "lines 1, 2")
    assert (call["started_at"], call["answered_at"]) == (datetime(2026, 11, 2, 9, 0), datetime(2026, 11, 2, 9, 0, 10))
    assert parsed.merged == {"lines 1, 2": 1}


def test_freeswitch_agent_field_option_and_its_mistakes(tmp_path):
    line = ('"Клиент","77011234567","700","public","2026-11-02 10:00:00","2026-11-02 10:00:02",'
            '"2026-11-02 10:01:00","60","58","NORMAL_CLEARING","0b5c6f0e-0000-4000-8000-000000000009","","1002",'
            '"PCMA","PCMA"\n')
    [row] = parse("freeswitch_cdr", line, tmp_path, options={"agent_field": "accountcode"}).tables["contacts"]
    assert (row["agent_id"], row["direction"]) == ("A002", "inbound")
    wrong = parse("freeswitch_cdr", line, tmp_path, options={"agent_field": "agent"})
    assert wrong.records_read == 1 and not wrong.tables
    assert wrong.rejects[0].reason.startswith("option agent_field 'agent' is not a field of the example template")
    unanswered = line.replace('"2026-11-02 10:00:02"', '""')
    bad_cause = parse("freeswitch_cdr", unanswered.replace("NORMAL_CLEARING", "hung up"), tmp_path)
    assert reasons(bad_cause) == {
        "line 1": "hangup_cause 'hung up' is not a FreeSWITCH hangup cause (like NO_ANSWER)"}


# --- mapped CDR ------------------------------------------------------------------------------------

def test_mapped_cdr_reads_an_export_through_its_column_mapping(tmp_path):
    parsed = parse("mapped_cdr", MAPPED, tmp_path, options=MAPPED_OPTIONS, filename="calls.csv")
    rows = contacts(parsed)
    answered, missed = rows["c-001"], rows["c-002"]
    assert (answered["agent_id"], answered["disposition"], answered["queue"], answered["direction"]) == (
        "A001", "answered", "cards", "inbound")
    assert (answered["started_at"], answered["ended_at"]) == (datetime(2026, 11, 2, 5), datetime(2026, 11, 2, 5, 5, 7))
    assert (answered["duration_s"], answered["talk_s"], answered["source_system"]) == (307.0, 300.0, "mapped_cdr")
    assert (missed["agent_id"], missed["disposition"], missed["answered_at"]) == ("A002", "no_answer", None)
    assert reasons(parsed) == {
        "line 4": "unreadable time (time data '2026-11-02 12:00' does not match format '%d.%m.%Y %H:%M:%S') "
                  "in started_at; expected a time like '%d.%m.%Y %H:%M:%S'",
        "line 5": "disposition 'Переведён' is neither in option disposition_map nor one of answered, no_answer, "
                  "busy, failed, congestion, abandoned, transferred",
    }


def test_mapped_cdr_without_header_and_agents_by_id(tmp_path):
    text = ("1762059600.1|2026-11-02T10:00:00+05:00|2026-11-02T10:05:00+05:00|A001|77011234567|out\n"
            "1762059600.2|2026-11-02T11:00:00|2026-11-02T11:01:00|A002|77011234568|in\n"
            "1762059600.3|2026-11-02T12:00:00|2026-11-02T12:01:00|A002\n")
    options = {"header": False, "delimiter": "|", "agent_from": "agent_id",
               "columns": ["contact_id", "started_at", "ended_at", "agent", "customer_number", "direction"]}
    parsed = parse("mapped_cdr", text, tmp_path, options=options, filename="calls.txt")
    rows = contacts(parsed)
    first, second = rows["1762059600.1"], rows["1762059600.2"]
    assert (first["agent_id"], first["direction"], first["started_at"]) == (
        "A001", "outbound", datetime(2026, 11, 2, 5))
    assert (second["direction"], second["started_at"], second["disposition"]) == (
        "inbound", datetime(2026, 11, 2, 6), "no_answer")
    assert reasons(parsed) == {"line 3": "expected 6 columns (option columns), found 4"}


@pytest.mark.parametrize("options, reason", [
    ({}, "option columns is required for mapped_cdr"),
    ({"columns": {"contact_id": "ID звонка", "agent": "Оператор", "ended_at": "Конец"}},
     "option columns has no column for started_at"),
    ({"columns": {"contact_id": "ID звонка", "started_at": "Начало", "agent": "Оператор"}},
     "option columns has no column for ended_at or duration_s"),
    ({**MAPPED_OPTIONS, "columns": {**MAPPED_OPTIONS["columns"], "operator": "Оператор"}},
     "option columns names unknown field(s) operator"),
    ({**MAPPED_OPTIONS, "disposition_map": {"Отвечен": "ok"}}, "option disposition_map maps 'Отвечен' to 'ok'"),
    ({**MAPPED_OPTIONS, "agent_from": "name"}, "option agent_from must be extension or agent_id, not 'name'"),
    ({**MAPPED_OPTIONS, "columns": {**MAPPED_OPTIONS["columns"], "queue": "Линия"}},
     "header lacks required column(s) линия"),
])
def test_mapped_cdr_a_mapping_that_cannot_work_rejects_the_file_naming_the_option(tmp_path, options, reason):
    parsed = parse("mapped_cdr", MAPPED, tmp_path, options=options, filename="calls.csv")
    assert parsed.records_read == 1 and not parsed.tables
    [reject] = parsed.rejects
    assert reject.reason.startswith(reason)


# --- end to end: ingest, GX, DuckDB ----------------------------------------------------------------

@pytest.fixture(scope="module")
def landed(tmp_path_factory):
    root = tmp_path_factory.mktemp("cdr")
    files = {"directory/agents.csv": DIRECTORY, "custom/Master.csv": CDR_CUSTOM, "fs/Master.csv": FREESWITCH,
             "mapped/calls.csv": MAPPED, "legs/Master.csv": CDR_CSV_LEGS, "fs_ab/Master.csv": FS_BRIDGED}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    sources = [
        {"name": "directory", "type": "agent_directory", "location": "directory"},
        {"name": "custom", "type": "asterisk_cdr_custom", "location": "custom", "timezone": "Asia/Almaty"},
        {"name": "fs", "type": "freeswitch_cdr", "location": "fs", "timezone": "Asia/Almaty"},
        {"name": "mapped", "type": "mapped_cdr", "location": "mapped", "timezone": "Asia/Almaty",
         "options": MAPPED_OPTIONS},
        {"name": "legs", "type": "asterisk_cdr", "location": "legs", "timezone": "Asia/Almaty"},
        {"name": "fs_ab", "type": "freeswitch_cdr", "location": "fs_ab", "timezone": "Asia/Almaty"},
    ]
    write_project_file(root / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": sources})
    project = load_project(root / "contactqa.yml")
    summaries = {s.name: ingest_source(project.warehouse_path, project, s, "run-1")
                 for s in project.config.sources if s.name not in ("legs", "fs_ab")}
    return project, summaries


def query(project, sql, *params):
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


@pytest.mark.parametrize("source, counts", [("custom", (6, 3, 3)), ("fs", (7, 5, 2)), ("mapped", (4, 2, 2))])
def test_each_cdr_file_balances_through_ingest(landed, source, counts):
    project, summaries = landed
    [outcome] = summaries[source].files
    assert (outcome.rows_read, outcome.rows_loaded, outcome.rows_quarantined) == counts
    assert outcome.rows_read == outcome.rows_loaded + outcome.rows_quarantined
    assert query(project, "SELECT count(*) FROM raw.quarantine WHERE source = ?", source) == [(counts[2],)]


def test_cdr_contacts_land_in_utc_with_their_agents(landed):
    project, _ = landed
    rows = {r[0]: r[1:] for r in query(
        project, "SELECT contact_id, source_system, agent_id, direction, disposition, started_at FROM raw.contacts")}
    assert rows["1762059600.1"] == ("asterisk", "A001", "inbound", "answered", datetime(2026, 11, 2, 5, 0))
    assert rows[FS_A] == ("freeswitch", "A001", "inbound", "answered", datetime(2026, 11, 2, 5, 0))
    assert rows["c-002"] == ("mapped_cdr", "A002", "inbound", "no_answer", datetime(2026, 11, 2, 6, 0))


def test_mapped_cdr_unknown_extension_is_quarantined_by_the_directory_check(landed, tmp_path):
    project, _ = landed
    folder = project.resolve("mapped")
    (folder / "calls-2.csv").write_text(MAPPED.splitlines()[0] + "\n" + MAPPED.splitlines()[1]
                                        .replace("c-001", "c-101").replace(";1001;", ";1999;") + "\n", encoding="utf-8")
    source = next(s for s in project.config.sources if s.name == "mapped")
    summary = ingest_source(project.warehouse_path, project, source, "run-2")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (1, 0, 1)
    [(reason,)] = query(project, "SELECT reasons FROM raw.quarantine WHERE run_id = 'run-2'")
    assert "the agent is not in the agent directory: agent_id='ext:1999'" in reason


def test_merged_legs_count_as_loaded_and_a_repeated_leg_as_a_duplicate(landed):
    project, _ = landed
    source = next(s for s in project.config.sources if s.name == "legs")
    summary = ingest_source(project.warehouse_path, project, source, "run-legs")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (4, 3, 1)
    assert query(project, "SELECT agent_id, record_locator FROM raw.contacts WHERE contact_id = '1762059600.10'") == [
        ("A002", "lines 1, 2")]
    [(locator, reason)] = query(project, "SELECT record_locator, reasons FROM raw.quarantine WHERE run_id = 'run-legs'")
    assert locator == "line 3" and "duplicate key (contact_id = 1762059600.10): first seen in" in reason
    assert reason.endswith("Master.csv lines 1, 2")
    bridged = next(s for s in project.config.sources if s.name == "fs_ab")
    summary = ingest_source(project.warehouse_path, project, bridged, "run-ab")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (2, 2, 0)
    # two legs answered on an extension the directory does not know: quarantined together, both counted
    unknown = "".join(line.replace("1762059600.10", "1762070000.30").replace("PJSIP/100", "PJSIP/199") + "\n"
                      for line in CDR_CSV_LEGS.splitlines()[:2])
    (project.resolve("legs") / "Master-2.csv").write_text(unknown, encoding="utf-8")
    summary = ingest_source(project.warehouse_path, project, source, "run-unknown")
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (2, 0, 2)
    [(locator, reason)] = query(project,
                                "SELECT record_locator, reasons FROM raw.quarantine WHERE run_id = 'run-unknown'")
    assert locator == "lines 1, 2" and "agent_id='ext:1992'" in reason


def test_cdr_csv_columns_option_states_the_layout_and_is_checked(tmp_path):
    line = ('"1762059600.1","cards","77011234567","700","PJSIP/trunk-00000001","PJSIP/1001-00000002","Queue","cards",'
            '"2026-11-02 10:00:00","2026-11-02 10:00:05","2026-11-02 10:01:00",60,55,"ANSWERED"\n')
    columns = ["uniqueid", "accountcode", "src", "dst", "channel", "dstchannel", "lastapp", "lastdata", "start",
               "answer", "end", "duration", "billsec", "disposition"]
    [row] = parse("asterisk_cdr", line, tmp_path, options={"columns": columns}).tables["contacts"]
    assert (row["contact_id"], row["agent_id"], row["talk_s"]) == ("1762059600.1", "A001", 55.0)
    wrong = parse("asterisk_cdr", line, tmp_path, options={"columns": columns[:-1] + ["status"]})
    assert [r.reason for r in wrong.rejects] == [
        f"option columns names unknown column(s) status; cdr_csv writes {', '.join(asterisk_cdr.COLUMNS)}; "
        "option columns lacks disposition"]


def test_option_problems_are_available_to_config_validation():
    assert mapped_cdr.option_problems(MAPPED_OPTIONS) == []
    assert mapped_cdr.option_problems({"columns": {"contact_id": "id"}}) == [
        "option columns has no column for started_at, agent, ended_at or duration_s"]
    assert freeswitch_cdr.option_problems({"agent_field": "destination_number"}) == []
    assert asterisk_cdr.option_problems({}) == [] and contact_lens.option_problems({"join_key": "recording"}) == []
    assert contact_lens.option_problems({"join_key": "uuid"}) == [
        "option join_key must be one of contact_id, file_name, recording, not 'uuid'"]


# --- issue 9: queues and ring groups are not agents --------------------------------------------------

QUEUE_OPTIONS = {"queue_numbers": ["600", 601], "extension_pattern": r"^1\d{3}$"}


def test_queue_numbers_and_extension_pattern_say_which_numbers_are_agents(tmp_path):
    fs = "\n".join([
        # mod_callcenter queue 600, the caller gave up while it rang
        '"Клиент","77011234567","600","public","2026-11-02 10:00:00","","2026-11-02 10:00:30","30","0",'
        '"ORIGINATOR_CANCEL","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000101","","","PCMA","PCMA"',
        # the IVR's number 500: not an agent's by extension_pattern (answered by the IVR, left there)
        '"Клиент","77011234568","500","public","2026-11-02 10:05:00","","2026-11-02 10:05:40","40","0",'
        '"NO_ANSWER","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000102","","","PCMA","PCMA"',
        # agent 1002 calls queue 601 (an internal call): the agent placed it
        '"John Smith","1002","601","default","2026-11-02 10:10:00","2026-11-02 10:10:05","2026-11-02 10:11:05","65",'
        '"60","NORMAL_CLEARING","0b5c6f0e-2a4b-4d1e-9a51-7d0c1e000103","","","PCMA","PCMA"',
    ]) + "\n"
    parsed = parse("freeswitch_cdr", fs, tmp_path, options=QUEUE_OPTIONS)
    rows = {c["contact_id"][-3:]: (c["agent_id"], c["direction"], c["disposition"], c["queue"])
            for c in parsed.tables["contacts"]}
    assert rows == {"101": (None, "inbound", "no_answer", "600"), "102": (None, "inbound", "no_answer", None),
                    "103": ("A002", "outbound", "answered", None)}
    # without the options, 600 looks like an agent's extension nobody has: unanswered, it still lands, no agent
    parsed = parse("freeswitch_cdr", fs.splitlines()[0] + "\n", tmp_path)
    assert parsed.tables["contacts"][0]["agent_id"] is None
    assert "600 (1)" in parsed.notes[0] and "option queue_numbers" in parsed.notes[0]


def test_an_outbound_call_from_an_unknown_extension_keeps_it_for_the_directory_check(tmp_path):
    line = ('"collections","1999","87015550000","from-internal","""X"" <1999>","PJSIP/1999-0000001e",'
            '"PJSIP/trunk-0000001f","Dial","PJSIP/87015550000@trunk,60","2026-11-02 12:00:00","",'
            '"2026-11-02 12:00:30",30,0,"NO ANSWER","DOCUMENTATION","1762066800.3","collections"\n')
    [row] = parse("asterisk_cdr", line, tmp_path).tables["contacts"]
    assert (row["agent_id"], row["direction"], row["disposition"]) == ("ext:1999", "outbound", "no_answer")


@pytest.mark.parametrize("options, problem", [
    ({"queue_numbers": {"600": "sales"}}, 'option queue_numbers must list numbers, like ["600", "601"]'),
    ({"extension_pattern": "^(1\\d{3}$"}, "option extension_pattern '^(1\\\\d{3}$' is not a valid regular expression"),
])
def test_number_options_are_checked(options, problem):
    for source_type in ("asterisk_cdr", "asterisk_cdr_custom", "freeswitch_cdr"):
        assert any(p.startswith(problem) for p in option_problems(source_type, options)), source_type
