"""The malformed-input corpus (tests/corpus): each file's exact outcome, and nothing ever lost."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pytest
import yaml

from contactqa.sources.base import customer_key
from corpus_runner import CORPUS, build_base, ingest_case

CASES = yaml.safe_load((CORPUS / "cases.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("bases")
    return {"full": build_base(root, True), "empty": build_base(root, False)}


def test_corpus_is_complete():
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*") if p.is_file() and p.name != "cases.yml"}
    assert files == set(CASES), "every corpus file needs its expected outcome in cases.yml, and vice versa"
    assert len(files) >= 30


@pytest.mark.parametrize("case", sorted(CASES))
def test_corpus_case(case, bases, tmp_path):
    expected = CASES[case]
    base = bases["empty"] if case.startswith("agent_directory/") else bases["full"]
    outcome = ingest_case(case, base, tmp_path / "case", options=expected.get("options"))
    assert (outcome.read, outcome.loaded, outcome.quarantined) == (
        expected["read"], expected["loaded"], expected["quarantined"]), outcome.reasons
    assert outcome.read == outcome.loaded + outcome.quarantined
    for wanted, got in zip(expected.get("reasons", []), outcome.reasons):
        assert wanted in got
    assert len(outcome.reasons) == expected["quarantined"]
    if "note" in expected:
        assert any(expected["note"] in note for note in outcome.notes), outcome.notes


def test_cyrillic_survives_cp1251_and_bom(bases, tmp_path):
    outcome = ingest_case("agent_directory/cp1251_semicolon.csv", bases["empty"], tmp_path / "a")
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        assert con.execute("SELECT full_name, team FROM raw.agents").fetchall() == [("Айгерим Нурланова", "Карты")]
    outcome = ingest_case("asterisk_cdr/utf8_bom.csv", bases["full"], tmp_path / "b")
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        assert con.execute("SELECT queue FROM raw.contacts WHERE contact_id = '1762063200.7'").fetchall() == [("cards",)]


def test_html_in_chat_is_kept_verbatim_for_escaping_at_output(bases, tmp_path):
    outcome = ingest_case("chat_jsonl/html_script.jsonl", bases["full"], tmp_path / "c")
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        texts = [t for (t,) in con.execute("SELECT text FROM raw.utterances ORDER BY seq").fetchall()]
    assert texts[1] == '<script>alert("x")</script><b>карта</b>'


def test_telegram_entities_are_flattened(bases, tmp_path):
    outcome = ingest_case("telegram/text_entities_mix.json", bases["full"], tmp_path / "t")
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        text = con.execute("SELECT text FROM raw.utterances WHERE speaker = 'agent'").fetchone()[0]
    assert text == "Здравствуйте! Ваша карта **** 6789 заблокирована. https://bank.kz"


def test_a_10_mb_single_message_is_quarantined_not_crashing(bases, tmp_path):
    def line(text, sent, sender="agent"):
        return json.dumps({"conversation_id": "chat-big", "agent_id": "A001", "sender": sender,
                           "sent_at": sent, "text": text}, ensure_ascii=False)
    data = "\n".join([line("Здравствуйте!", "2026-11-02T10:00:00+05:00"),
                      line("я" * 10_000_000, "2026-11-02T10:01:00+05:00", "customer")]).encode()
    outcome = ingest_case("chat_jsonl/big.jsonl", bases["full"], tmp_path / "big", data=data)
    assert (outcome.read, outcome.loaded, outcome.quarantined) == (2, 1, 1)
    assert "longer than 100,000 characters" in outcome.reasons[0]
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        stored = con.execute("SELECT length(raw_record) FROM raw.quarantine WHERE run_id = 'case'").fetchone()[0]
    assert stored <= 10_000  # the raw record is kept, truncated, not the whole 10 MB


# --- issue 9: what the cases above must also leave in the warehouse ---------------------------------

def rows(outcome, sql):
    with duckdb.connect(str(outcome.warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_missed_queue_and_ring_group_calls_land_without_an_agent(bases, tmp_path):
    case = "asterisk_cdr/missed_queue_calls.csv"
    outcome = ingest_case(case, bases["full"], tmp_path / "a", options=CASES[case]["options"])
    landed = {r[0]: r[1:] for r in rows(outcome, "SELECT contact_id, agent_id, disposition, queue FROM raw.contacts "
                                                 "WHERE source_file LIKE '%missed_queue_calls.csv'")}
    assert landed == {
        "1762060200.41": (None, "no_answer", "601"),  # the ring group rang, nobody picked up
        "1762060800.43": (None, "abandoned", "600"),  # Queue() answered, the caller gave up on hold
        "1762061400.45": (None, "no_answer", "600"),  # rang 1999, which no agent has yet
        "1762062000.47": ("A001", "answered", "600"),
    }
    case = "freeswitch_cdr/missed_queue_calls.csv"
    outcome = ingest_case(case, bases["full"], tmp_path / "f", options=CASES[case]["options"])
    assert sorted(rows(outcome, "SELECT agent_id, disposition FROM raw.contacts WHERE source_system = 'freeswitch'"),
                  key=str) == sorted([(None, "no_answer"), (None, "abandoned"), ("A002", "answered")], key=str)


def test_telegram_customer_is_never_taken_for_the_agent(bases, tmp_path):
    outcome = ingest_case("telegram/chat_id_matches_no_sender.json", bases["full"], tmp_path / "t")
    assert rows(outcome, "SELECT speaker FROM raw.utterances WHERE contact_id = 'tg-4477-101' ORDER BY seq") == [
        ("customer",), ("agent",), ("customer",)]
    assert rows(outcome, "SELECT agent_id, customer_key FROM raw.contacts WHERE contact_id = 'tg-4477-101'") == [
        ("A001", customer_key("user7788"))]
    case = "telegram/shared_business_account.json"
    outcome = ingest_case(case, bases["full"], tmp_path / "s", options=CASES[case]["options"])
    assert rows(outcome, "SELECT agent_id FROM raw.contacts WHERE contact_id = 'tg-4479-301'") == [("A002",)]
    assert rows(outcome, "SELECT speaker FROM raw.utterances WHERE contact_id = 'tg-4479-301' ORDER BY seq") == [
        ("customer",), ("agent",), ("customer",)]


def test_a_message_dated_years_ahead_does_not_stretch_its_conversation(bases, tmp_path):
    outcome = ingest_case("chat_jsonl/message_five_years_ahead.jsonl", bases["full"], tmp_path / "c")
    assert rows(outcome, "SELECT ended_at, duration_s FROM raw.contacts WHERE contact_id = 'chat-90'") == [
        (datetime(2026, 11, 2, 5, 1), 60.0)]


def test_the_future_tolerance_is_an_option(bases, tmp_path):
    ahead = (datetime.now(timezone.utc) + timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    data = (json.dumps({"conversation_id": "chat-t", "agent_id": "A001", "sender": "agent",
                        "sent_at": "2026-11-02T10:00:00+05:00", "text": "Здравствуйте!"}) + "\n"
            + json.dumps({"conversation_id": "chat-t", "agent_id": "A001", "sender": "customer",
                          "sent_at": ahead, "text": "Спасибо"}) + "\n").encode()
    strict = ingest_case("chat_jsonl/ahead.jsonl", bases["full"], tmp_path / "d", data=data)
    assert (strict.loaded, strict.quarantined) == (1, 1) and "dated in the future" in strict.reasons[0]
    lenient = ingest_case("chat_jsonl/ahead.jsonl", bases["full"], tmp_path / "l", data=data,
                          options={"future_tolerance_hours": 48})
    assert (lenient.loaded, lenient.quarantined) == (2, 0)


def test_the_ledger_says_how_a_file_was_decoded_and_how_many_bytes_were_replaced(bases, tmp_path):
    outcome = ingest_case("asterisk_cdr/stray_byte_in_clid.csv", bases["full"], tmp_path / "b")
    assert rows(outcome, "SELECT message FROM raw.ingest_ledger WHERE run_id = 'case'")[0][0].startswith(
        "encoding: utf-8 (detected), bytes replaced: 1; 1 undecodable byte(s) for utf-8")
    # ...and in columns a BI tool can filter on, per file and per run
    assert rows(outcome, "SELECT encoding, bytes_replaced FROM raw.ingest_ledger WHERE run_id = 'case'") == [("utf-8", 1)]
    assert rows(outcome, "SELECT bytes_replaced, files_quarantined FROM raw.ingest_runs WHERE run_id = 'case'") == [(1, 0)]
    outcome = ingest_case("agent_directory/cp1251_semicolon.csv", bases["empty"], tmp_path / "d")
    assert rows(outcome, "SELECT message, encoding, bytes_replaced FROM raw.ingest_ledger WHERE run_id = 'case'") == [
        ("encoding: cp1251 (detected), bytes replaced: 0", "cp1251", 0)]
