"""The malformed-input corpus (tests/corpus): each file's exact outcome, and nothing ever lost."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
import yaml

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
    outcome = ingest_case(case, base, tmp_path / "case")
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
