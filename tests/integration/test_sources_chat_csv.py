"""The generic chat export as CSV (the JSONL export's fields), and the CSV reading every tabular export
shares: BOM headers, quoted multi-line messages, delimiters, and a wrong delimiter told apart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from contactqa.config import load_project, write_project_file
from contactqa.ingest import ingest_source
from contactqa.sources import IngestContext, parse_file

HEADER = "conversation_id,agent_id,sender,sent_at,text,queue,topic,customer_id\n"
CHATS = HEADER + (
    'chat-7,,bot,2026-11-02T09:00:00+05:00,"Здравствуйте! Соединяю с оператором",cards,,\n'
    'chat-7,A001,agent,2026-11-02T09:00:20+05:00,"Добрый день, меня зовут Айгерим.\n'
    'Чем могу помочь?",cards,card_blocked,c-555\n'
    'chat-7,,customer,2026-11-02 09:01:00,"Карта заблокирована, ""срочно""",,,c-555\n'
    'chat-7,A001,robot,2026-11-02T09:02:00+05:00,?,cards,,\n'
    'chat-7,A001,agent,вчера,Разблокировала,cards,,\n'
    ',A001,agent,2026-11-02T09:03:00+05:00,без разговора,cards,,\n'
    'chat-7,A001,agent,2026-11-02T09:04:00+05:00,Хорошего дня,cards\n'
)


def parse(tmp_path: Path, data: bytes, *, source_type: str = "chat_csv", encoding: str | None = None,
          filename: str = "chats.csv"):
    path = tmp_path / filename
    path.write_bytes(data)
    return parse_file(source_type, path, filename, IngestContext(timezone="Asia/Almaty", encoding=encoding))


def reasons(parsed) -> dict[str, str]:
    return {r.locator: r.reason for r in parsed.rejects}


def test_chat_csv_rows_become_one_conversation_with_multiline_messages(tmp_path):
    parsed = parse(tmp_path, CHATS.encode("utf-8"))
    assert parsed.records_read == 7
    [contact] = parsed.tables["contacts"]
    assert [contact[k] for k in ("contact_id", "agent_id", "queue", "topic", "source_system")] == [
        "chat-7", "A001", "cards", "card_blocked", "chat_csv"]
    assert contact["started_at"] == datetime(2026, 11, 2, 4, 0) and contact["customer_key"]
    utterances = parsed.tables["utterances"]
    assert [(u["speaker"], u["offset_ms"], u["record_locator"]) for u in utterances] == [
        ("bot", 0, "line 2"), ("agent", 20000, "line 3"), ("customer", 60000, "line 5")]
    assert utterances[1]["text"] == "Добрый день, меня зовут Айгерим.\nЧем могу помочь?"
    assert utterances[2]["text"] == 'Карта заблокирована, "срочно"'  # no offset: the source's timezone
    assert reasons(parsed) == {
        "line 6": "sender 'robot' is not one of ['agent', 'bot', 'customer', 'system']",
        "line 7": "sent_at 'вчера' is not an ISO-8601 time",
        "line 8": "missing conversation_id",
        "line 9": "expected 8 fields, found 6",
    }
    assert parsed.rejects[0].raw == "chat-7,A001,robot,2026-11-02T09:02:00+05:00,?,cards,,"


def test_excel_style_csv_semicolons_cp1251_or_a_bom_read_alike(tmp_path):
    semicolons = CHATS.replace(",", ";").replace('Карта заблокирована; ""срочно""', "Карта заблокирована")
    for data in (semicolons.encode("cp1251"), b"\xef\xbb\xbf" + semicolons.encode("utf-8")):
        parsed = parse(tmp_path, data)
        assert [u["speaker"] for u in parsed.tables["utterances"]] == ["bot", "agent", "customer"]
        assert parsed.tables["utterances"][2]["text"] == "Карта заблокирована"
    # a BOM stays in the text when the encoding is configured rather than detected: the header still matches
    parsed = parse(tmp_path, b"\xef\xbb\xbf" + CHATS.encode("utf-8"), encoding="utf-8")
    assert len(parsed.tables["utterances"]) == 3


def test_tab_separated_export_is_read(tmp_path):
    tsv = "conversation_id\tsender\tsent_at\ttext\nchat-9\tcustomer\t2026-11-02T10:00:00\tАлло?\n"
    parsed = parse(tmp_path, tsv.encode())
    assert [u["text"] for u in parsed.tables["utterances"]] == ["Алло?"]


@pytest.mark.parametrize("header, reason", [
    ("conversation_id,sender,sent_at\n",
     "header lacks required column(s) text; found conversation_id, sender, sent_at"),
    ('"conversation_id,agent_id,sender,sent_at,text"\n',
     "wrong delimiter: the header is one quoted field 'conversation_id,agent_id,sender,sent_at,text'; each line "
     "seems to be wrapped in quotes, so its commas do not separate the columns"),
    ("conversation_id|agent_id|sender|sent_at|text\n", "header lacks required column(s) conversation_id, sender"),
])
def test_a_header_that_cannot_be_used_rejects_the_whole_file(tmp_path, header, reason):
    parsed = parse(tmp_path, (header + "chat-1,A001,agent,2026-11-02T10:00:00,Алло\n").encode())
    assert parsed.records_read == 1 and not parsed.tables
    [reject] = parsed.rejects
    assert reject.locator == "line 1" and reject.reason.startswith(reason)


def test_wrong_delimiter_is_named_for_other_tabular_exports_too(tmp_path):
    actions = '"contact_id;agent_id;at;action"\n"1762059600.1;A001;2026-11-02T10:01:00;verify-identity"\n'
    parsed = parse(tmp_path, actions.encode(), source_type="agent_actions", filename="actions.csv")
    assert parsed.rejects[0].reason.startswith("wrong delimiter: the header is one quoted field "
                                               "'contact_id;agent_id;at;action'")


def test_chat_csv_through_ingest_balances(tmp_path):
    (tmp_path / "directory").mkdir()
    (tmp_path / "directory" / "agents.csv").write_text(
        "agent_id,full_name,email,team,supervisor_email,locale,extension\n"
        "A001,Айгерим Нурланова,aigerim@bank.kz,Карты,sup.cards@bank.kz,ru,1001\n", encoding="utf-8")
    (tmp_path / "chats").mkdir()
    (tmp_path / "chats" / "chats.csv").write_text(CHATS, encoding="utf-8")
    sources = [{"name": "directory", "type": "agent_directory", "location": "directory"},
               {"name": "chats", "type": "chat_csv", "location": "chats", "timezone": "Asia/Almaty"}]
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": sources})
    project = load_project(tmp_path / "contactqa.yml")
    summaries = [ingest_source(project.warehouse_path, project, s, "run-1") for s in project.config.sources]
    chats = summaries[1]
    assert (chats.rows_read, chats.rows_loaded, chats.rows_quarantined) == (7, 3, 4)
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT contact_id, agent_id, channel FROM raw.contacts").fetchall() == [
            ("chat-7", "A001", "chat")]
        assert con.execute("SELECT record_locator FROM raw.quarantine ORDER BY record_locator").fetchall() == [
            ("line 6",), ("line 7",), ("line 8",), ("line 9",)]
