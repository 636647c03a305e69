"""Personal data on the way in: masked before it lands (quarantine included), the kind of disclosure kept
for AutoQA, and customer keys made only under this installation's key."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from contactqa import privacy
from contactqa.autoqa.engine import run_autoqa
from contactqa.config import DEFAULT_PROJECT_FILE, load_project, write_project_file
from contactqa.ingest import SourceConfigError, ingest_source
from pii_scan import personal_data_in, scan_warehouse

DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Айгерим Нурланова,aigerim@bank.kz,Карты,sup.cards@bank.kz,ru,1001\n")

CARD, IIN, PHONE = "4400 1234 5678 9013", "870412300129", "+7 701 234 56 78"  # Luhn-valid, valid IIN


def message(seconds: int, sender: str, text: str, conversation: str = "chat-1", **extra) -> str:
    record = {"conversation_id": conversation, "agent_id": "A001", "sender": sender,
              "sent_at": f"2026-11-02T10:{seconds // 60:02d}:{seconds % 60:02d}+05:00", "text": text,
              "customer_id": "+7 701 555 00 11", **extra}
    return json.dumps(record, ensure_ascii=False)


CHATS = "\n".join([
    message(0, "customer", f"Здравствуйте, мой номер {PHONE}, карта {CARD}"),
    message(30, "agent", "Добрый день, меня зовут Айгерим. Назовите ИИН, пожалуйста."),
    message(60, "customer", f"ИИН {IIN}"),
    message(90, "agent", "Ваша карта четыре четыре ноль ноль один два три четыре пять шесть семь восемь девять "
                         "ноль один три, верно?"),
    message(120, "agent", f"И ИИН {IIN[:3]} {IIN[3:6]} {IIN[6:9]} {IIN[9:]}, перезвоню на 7012345678."),
    # quarantined whole: the agent is unknown (the row's values go to raw.quarantine as JSON)
    message(0, "agent", f"Ваша карта {CARD}", conversation="chat-2", agent_id="A404"),
    # not JSON at all: the line itself goes to raw.quarantine
    '{"conversation_id": "chat-3", "sender": "agent", "text": "карта 4400.1234.5678.9013, ИИН 870412300129',
    # a check fails on a long text: the failing value is shown in the reason, masked before it is cut
    message(0, "agent", "x" * 66 + f" {CARD} " + "y" * 100_001, conversation="chat-4"),
]) + "\n"

ACTIONS = ("contact_id,agent_id,at,action,detail\n"
           f"chat-1,A001,2026-11-02T10:01:00+05:00,verify-identity,iin={IIN}\n"
           f"chat-1,A001,2026-11-02T10:02:00+05:00,unblock-card,card={CARD}\n")

EVALUATIONS = ("evaluation_id,contact_id,evaluator_id,criterion_id,result,points,comment,evaluated_at,"
               "calibration_session_id,is_reference\n"
               f"ev1,chat-1,E01,PII_DISCLOSURE,fail,0,назвала карту {CARD} и ИИН {IIN},"
               "2026-11-03T10:00:00+05:00,,false\n")


@pytest.fixture()
def key(tmp_path, monkeypatch):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(tmp_path / "key" / "key"))
    return privacy.key_fingerprint()


@pytest.fixture()
def project(tmp_path: Path, key):
    files = {"directory/agents.csv": DIRECTORY, "chats/chats.jsonl": CHATS, "actions/actions.csv": ACTIONS,
             "evaluations/evaluations.csv": EVALUATIONS}
    for name, text in files.items():
        (tmp_path / "landing" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "landing" / name).write_text(text, encoding="utf-8")
    sources = [
        {"name": "directory", "type": "agent_directory", "location": "landing/directory", "glob": "*.csv"},
        {"name": "chats", "type": "chat_jsonl", "location": "landing/chats", "glob": "*.jsonl"},
        {"name": "actions", "type": "agent_actions", "location": "landing/actions", "glob": "*.csv"},
        {"name": "evaluations", "type": "evaluations", "location": "landing/evaluations", "glob": "*.csv"},
    ]
    write_project_file(tmp_path / "contactqa.yml", {"warehouse": "wh.duckdb", "sources": sources})
    return load_project(tmp_path / "contactqa.yml")


def ingest_all(project, run_id="run-1"):
    return {s.name: ingest_source(project.warehouse_path, project, s, run_id) for s in project.config.sources}


def query(project, sql, params=None):
    with duckdb.connect(str(project.warehouse_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_utterances_are_stored_masked_with_what_they_disclosed(project):
    ingest_all(project)
    rows = query(project, "SELECT speaker, text, pii_kinds FROM raw.utterances WHERE contact_id = 'chat-1' ORDER BY seq")
    assert rows == [
        ("customer", "Здравствуйте, мой номер +7 *** *** ** 78, карта **** **** **** 9013", "card_number"),
        ("agent", "Добрый день, меня зовут Айгерим. Назовите ИИН, пожалуйста.", None),
        ("customer", "ИИН ************", "national_id"),
        ("agent", "Ваша карта **** **** **** 9013, верно?", "card_number"),
        ("agent", "И ИИН ************, перезвоню на ********78.", "national_id"),
    ]


def test_the_quarantine_keeps_records_and_reasons_masked(project):
    summaries = ingest_all(project)
    assert summaries["chats"].rows_quarantined == 3
    rows = query(project, "SELECT record_locator, raw_record, reasons FROM raw.quarantine WHERE source = 'chats' "
                          "ORDER BY record_locator")
    assert len(rows) == 3
    for locator, raw_record, reasons in rows:
        assert personal_data_in(raw_record) == [] and personal_data_in(reasons) == [], (locator, raw_record, reasons)
        assert "9013" in raw_record or "9013" in reasons  # the record is kept, only the number hidden
    long_text = next(reasons for _, _, reasons in rows if "longer than 100,000 characters" in reasons)
    assert "4400" not in long_text and "**** *" in long_text  # masked, then cut to 80 characters


def test_evaluator_comments_and_action_details_are_masked(project):
    ingest_all(project)
    assert query(project, "SELECT comment FROM raw.evaluations") == [
        ("назвала карту **** **** **** 9013 и ИИН ************",)]
    assert query(project, "SELECT detail FROM raw.agent_actions ORDER BY \"at\"") == [
        ("iin=************",), ("card=**** **** **** 9013",)]


def test_no_full_number_is_left_in_any_table(project):
    ingest_all(project)
    assert scan_warehouse(project.warehouse_path) == {}


def test_autoqa_fails_the_disclosure_quoting_the_masked_text(project):
    ingest_all(project)
    default = load_project(DEFAULT_PROJECT_FILE)
    run_autoqa(project.warehouse_path, default.scorecards(), default.error_catalogue(), "run-qa", timezone="Asia/Almaty",
               close_after_days=3, as_of=date(2026, 12, 1))
    found = query(project, "SELECT result, evidence_quote, evidence_speaker, evidence_offset_ms, evidence_detail "
                           "FROM autoqa.findings WHERE contact_id = 'chat-1' AND criterion_id = 'PII_DISCLOSURE'")
    assert found == [("fail", "Ваша карта **** **** **** 9013, верно?", "agent", 90_000,
                      "full card number disclosed: **** **** **** 9013")]


# Agents' and customers' messages as real chats carry them: links (with and without a scheme),
# order, ticket and tracking ids, IBANs and timestamps — digits that are no card and no IIN.
LINKS_AND_IDS = [
    ("customer", "Hi, my order #112-7743921-5521346 never came, see web.archive.org/web/20190815123456/https://kenbank.kz/terms 1234"),
    ("agent", "Sorry about that! Your ticket 4000123456789 is open, tracking 1Z999AA10123456784."),
    ("agent", "The old tariffs: https://web.archive.org/web/20190815123456/https://kenbank.kz/tariffs and t.co/8XyZ12AbC3"),
    ("agent", "Заказ № 2019081512345678 от 2019-08-15T12:34:56Z, реквизиты KZ86125KZT5004100100, запрос 1565874896123"),
    ("agent", "Письмо отправлено на refunds.20190815123456@example.com, 20190815123456 1234"),
]


def test_links_ids_and_timestamps_are_stored_as_written_and_fail_nothing(project):
    (project.resolve("landing/chats") / "links.jsonl").write_text("\n".join(
        message(30 * n, sender, text, conversation="chat-links") for n, (sender, text) in enumerate(LINKS_AND_IDS)
    ) + "\n", encoding="utf-8")
    ingest_all(project)
    rows = query(project, "SELECT text, pii_kinds FROM raw.utterances WHERE contact_id = 'chat-links' ORDER BY seq")
    stored = [text for _, text in LINKS_AND_IDS]
    stored[-1] = stored[-1].replace("refunds.20190815123456@", "r***@")  # an e-mail address is masked
    assert rows == [(text, None) for text in stored]  # the digits kept as written, nothing disclosed
    default = load_project(DEFAULT_PROJECT_FILE)
    run_autoqa(project.warehouse_path, default.scorecards(), default.error_catalogue(), "run-qa", timezone="Asia/Almaty",
               close_after_days=3, as_of=date(2026, 12, 1))
    assert query(project, "SELECT result FROM autoqa.findings "
                          "WHERE contact_id = 'chat-links' AND criterion_id = 'PII_DISCLOSURE'") == [("pass",)]


def test_the_key_fingerprint_is_recorded_and_a_changed_key_refused(project, key, monkeypatch):
    ingest_all(project)
    assert query(project, "SELECT value, run_id FROM raw.installation WHERE key = 'customer_key_fingerprint'") == [
        (key, "run-1")]
    keys_before = query(project, "SELECT customer_key FROM raw.contacts ORDER BY contact_id")
    assert keys_before and all(k and len(k) == 20 for (k,) in keys_before)

    monkeypatch.setenv(privacy.KEY_ENV, "another-installation-key-" + "0" * 40)
    (project.resolve("landing/chats") / "more.jsonl").write_text(
        message(0, "customer", "Здравствуйте", conversation="chat-9") + "\n", encoding="utf-8")
    with pytest.raises(SourceConfigError) as refused:
        ingest_source(project.warehouse_path, project, project.config.sources[1], "run-2")
    said = str(refused.value)
    assert "key changed" in said and key in said and privacy.key_fingerprint() in said
    assert privacy.KEY_ENV in said  # where the key in use comes from
    assert query(project, "SELECT count(*) FROM raw.contacts WHERE contact_id = 'chat-9'") == [(0,)]

    monkeypatch.delenv(privacy.KEY_ENV)  # the original key again: ingest goes on
    ingest_source(project.warehouse_path, project, project.config.sources[1], "run-3")
    assert query(project, "SELECT count(*) FROM raw.contacts WHERE contact_id = 'chat-9'") == [(1,)]


def test_an_unusable_key_is_a_configuration_error(project, monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, "too-short")
    with pytest.raises(SourceConfigError, match=privacy.KEY_ENV):
        ingest_source(project.warehouse_path, project, project.config.sources[0], "run-1")
