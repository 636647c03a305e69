"""Where a criterion looks and what it applies to (issue 9, B-D), on chats as agents write them.

B: the closing criteria never count a turn of the opening; MORE_HELP counts anywhere after it.
C: missing data is not a failure: no agent turn is not scored, no topic is unverifiable.
D: live chat and messenger/social chats have their own reply limits, chosen by queue.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from contactqa.autoqa.engine import agent_names, run_autoqa
from contactqa.autoqa.language import Utterance
from contactqa.autoqa.rules import Contact, evaluate
from contactqa.config import DEFAULT_PROJECT_FILE, load_project
from contactqa.warehouse import column_names, connect

PROJECT = load_project(DEFAULT_PROJECT_FILE)
CRITERIA = {c.id: c for c in PROJECT.scorecard().criteria()}


def chat(*turns: tuple[str, float, str], topic: str | None = "billing", queue: str | None = "cards",
         source_system: str | None = "chat_jsonl", disposition: str = "answered", channel: str = "chat") -> Contact:
    """turns: (speaker, seconds from the start, text)."""
    utterances = [Utterance(i, speaker, int(at * 1000), int(at * 1000), text)
                  for i, (speaker, at, text) in enumerate(turns, start=1)]
    contact = Contact("CH-1", channel, "A001", agent_names("Айгерим Нурланова"), topic, disposition, utterances,
                      source_system=source_system)
    contact.queue = queue
    return contact


def result(criterion_id: str, contact: Contact):
    return evaluate(CRITERIA[criterion_id], contact)


# --- B: the opening is not the closing ---------------------------------------------------------

SHORT_CHAT = (
    ("customer", 0, "Hi, I was charged twice for my phone bill"),
    ("agent", 40, "Hello! Thank you for contacting KenBank, my name is Aigerim. Let me check that for you."),
    ("agent", 130, "I can see the duplicate charge of 4,990 KZT; I've refunded it, it will be back within 3 days."),
    ("customer", 170, "ok great"),
    ("agent", 190, "You're welcome!"),
)


def test_a_greeting_in_a_short_chat_is_not_its_closing():
    # The agent's 3 turns: the old "last 3 agent turns" took the greeting's "thank you for contacting".
    outcome = result("CLOSING", chat(*SHORT_CHAT))
    assert outcome.result == "fail"
    assert outcome.detail == "none of the required phrases in the last 3 agent turns after the first 2"
    assert outcome.quote == "You're welcome!" and outcome.offset_ms == 190_000


def test_a_chat_that_is_all_opening_has_no_closing_to_judge():
    two_turns = chat(*SHORT_CHAT[:3])
    for criterion_id in ("CLOSING", "MORE_HELP"):
        outcome = result(criterion_id, two_turns)
        assert outcome.result == "na"
        assert outcome.detail == ("all 2 agent turns are within the first 2 (the opening), "
                                  "so there is no later turn to check")


LONG_CHAT = (
    ("customer", 0, "Здравствуйте, карту заблокировали, не могу расплатиться"),
    ("agent", 25, "Добрый день! Меня зовут Айгерим. Назовите, пожалуйста, кодовое слово."),
    ("customer", 70, "ромашка"),
    ("agent", 90, "Спасибо, проверяю."),
    ("agent", 180, "Карта разблокирована, можно пользоваться. Могу ещё чем-то помочь?"),
    ("customer", 240, "А сколько стоит перевыпуск, если что?"),
    ("agent", 260, "Перевыпуск по истечении срока бесплатный, в остальных случаях 1 000 тенге."),
    ("customer", 300, "Понятно, спасибо"),
    ("agent", 310, "Пожалуйста."),
    ("agent", 320, "Всего доброго, хорошего дня!"),
)


def test_an_offer_of_more_help_counts_before_the_last_turns():
    outcome = result("MORE_HELP", chat(*LONG_CHAT))
    assert outcome.result == "pass"
    assert outcome.detail == "matched “ещё ... помо*” after the first 2 agent turns"
    assert outcome.quote == "Карта разблокирована, можно пользоваться. Могу ещё чем-то помочь?"
    assert result("CLOSING", chat(*LONG_CHAT)).detail == (
        "matched “всего доброго” in the last 3 agent turns after the first 2")


def test_no_offer_of_more_help_fails_showing_the_last_turn():
    without = [t for t in LONG_CHAT if "помочь?" not in t[2]]
    outcome = result("MORE_HELP", chat(*without))
    assert outcome.result == "fail"
    assert outcome.detail == "none of the required phrases after the first 2 agent turns"
    assert outcome.quote == "Всего доброго, хорошего дня!"


@pytest.mark.parametrize("offer", ["Тағы қандай сұрағыңыз бар?", "Is there anything else I can help you with today?"])
def test_more_help_in_kazakh_and_english(offer):
    turns = list(LONG_CHAT)
    turns[4] = ("agent", 180, offer)
    assert result("MORE_HELP", chat(*turns)).result == "pass"


def test_more_help_is_in_the_closing_section_with_its_own_error_code():
    more_help = CRITERIA["MORE_HELP"]
    assert PROJECT.scorecard().section_of("MORE_HELP").id == "closing"
    assert (more_help.weight, more_help.channels, more_help.error_code, more_help.regulation) == (
        5, ["voice", "chat"], "CLOSE-02", "SR-5.1")
    assert "CLOSE-02" in PROJECT.error_catalogue().codes()


# --- C: missing data is not a failure ------------------------------------------------------------

BOT_ONLY = (
    ("bot", 0, "Здравствуйте! Я виртуальный помощник КенБанка. Опишите ваш вопрос."),
    ("customer", 20, "оператор"),
    ("system", 25, "Все операторы заняты. Мы ответим вам в рабочее время."),
)


@pytest.mark.parametrize("criterion_id", ["POLITENESS", "PII_DISCLOSURE", "GREETING", "RESPONSE_TIME", "CLOSING"])
def test_a_chat_the_agent_never_wrote_in_is_not_scored(criterion_id):
    outcome = result(criterion_id, chat(*BOT_ONLY))
    assert outcome.result == "na"
    assert outcome.detail == ("not scored: the agent never spoke or wrote in this contact "
                              "(no agent turn; only bot, customer, system turns)")


def test_a_chat_abandoned_before_an_agent_replied_is_not_scored():
    left = chat(("customer", 0, "Здравствуйте, когда придёт карта?"), ("customer", 300, "ау"), disposition="abandoned")
    outcome = result("POLITENESS", left)
    assert (outcome.result, outcome.detail) == ("na", "not scored: abandoned before an agent replied (only customer turns)")


def test_a_contact_without_a_topic_is_unverifiable_for_the_topics_requirements():
    untopiced = chat(*LONG_CHAT, topic=None)
    actions, information = result("ACTIONS_DONE", untopiced), result("INFO_COMPLETE", untopiced)
    assert (actions.result, actions.detail) == (
        "unverifiable", "the contact has no topic, so the actions its topic requires cannot be checked")
    assert (information.result, information.detail) == (
        "unverifiable", "the contact has no topic, so the information its topic requires cannot be checked")


def test_a_topic_without_requirements_is_not_applicable_in_words():
    billing = chat(*LONG_CHAT, topic="billing")
    assert result("ACTIONS_DONE", billing).detail == "the scorecard requires no actions for topic billing"
    assert result("INFO_COMPLETE", billing).detail == "the scorecard requires no information for topic billing"
    assert {result("ACTIONS_DONE", billing).result, result("INFO_COMPLETE", billing).result} == {"na"}


def test_a_topic_scoped_criterion_on_a_contact_without_a_topic():
    call = chat(("agent", 0, "Добрый день, это Айгерим из КенБанка, разговор записывается."), channel="voice",
                topic=None, queue="collections", source_system="asterisk")
    call.direction, call.has_customer, call.outbound_same_day, call.outbound_same_week = "outbound", True, 1, 1
    outcome = result("CALL_FREQUENCY", call)
    assert (outcome.result, outcome.detail) == (
        "unverifiable", "the contact has no topic, so whether this criterion applies (only to topics collections) "
                        "cannot be checked")
    call.direction = "inbound"  # out of the rule's own scope whatever the topic
    assert (result("CALL_FREQUENCY", call).result, result("CALL_FREQUENCY", call).detail) == ("na", "inbound contact")
    call.direction, call.topic = "outbound", "callback"
    assert result("CALL_FREQUENCY", call).detail == ("applies only to topics collections; "
                                                     "this contact's topic is callback")


# --- D: one service level per kind of chat ------------------------------------------------------

def slow_chat(**where) -> Contact:
    """The first reply after 10 minutes: far too slow for live chat, fine for a messenger."""
    return chat(("customer", 0, "Здравствуйте, не приходит код из SMS"), ("agent", 600, "Добрый день! Проверяю."),
                ("customer", 660, "жду"), ("agent", 720, "Код отправлен повторно, проверьте, пожалуйста."), **where)


def test_a_telegram_chat_is_held_to_the_messenger_limits():
    telegram = slow_chat(queue=None, source_system="telegram")  # a Telegram export names no queue
    live = result("RESPONSE_TIME", telegram)
    assert live.result == "na"
    assert live.detail == ("not applied to queues telegram, whatsapp, viber, messenger, facebook, instagram, vk, "
                           "social; this contact came through telegram (its export names no queue)")
    messenger = result("RESPONSE_TIME_MESSENGER", telegram)
    assert (messenger.result, messenger.detail) == (
        "pass", "first reply 600 s (limit 900 s), longest customer wait 600 s (limit 3600 s)")


def test_a_live_chat_is_held_to_the_live_chat_limits():
    live = result("RESPONSE_TIME", slow_chat(queue="cards"))
    assert live.result == "fail" and live.quote == "Добрый день! Проверяю."
    assert live.detail == "first reply 600 s (limit 120 s), longest customer wait 600 s (limit 180 s)"
    messenger = result("RESPONSE_TIME_MESSENGER", slow_chat(queue="cards"))
    assert (messenger.result, messenger.detail) == (
        "na", "applies only to queues telegram, whatsapp, viber, messenger, facebook, instagram, vk, social; "
              "this contact came through queue cards")


def test_a_whatsapp_reply_after_25_minutes_fails_the_messenger_limit():
    late = chat(("customer", 0, "Добрый вечер, можно ли увеличить лимит по карте?"),
                ("agent", 1500, "Добрый вечер! Да, лимит можно изменить в приложении, раздел «Карты»."),
                queue="whatsapp", source_system="chat_jsonl")
    outcome = result("RESPONSE_TIME_MESSENGER", late)
    assert outcome.result == "fail" and "first reply 1500 s (limit 900 s)" in outcome.detail
    assert outcome.quote.startswith("Добрый вечер! Да, лимит")


@pytest.mark.parametrize("queue, source", [("cards", "chat_jsonl"), (None, "chat_jsonl"), (None, "telegram"),
                                           ("instagram", "chat_jsonl"), (None, None)])
def test_every_chat_falls_under_exactly_one_reply_limit(queue, source):
    contact = slow_chat(queue=queue, source_system=source)
    judged = [c for c in ("RESPONSE_TIME", "RESPONSE_TIME_MESSENGER") if result(c, contact).result != "na"]
    assert len(judged) == 1


# --- through the engine: what the warehouse gives the rules ------------------------------------

def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    names = column_names(table)
    con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join('?' for _ in names)})",
                    [[row.get(name) for name in names] for row in rows])


def test_autoqa_reads_the_source_and_the_directory_as_the_rules_need(tmp_path: Path):
    """A Telegram chat (no queue) under the messenger limits; an agent the directory has no name for."""
    warehouse = tmp_path / "contactqa.duckdb"
    start = datetime(2026, 11, 2, 5)  # 10:00 in Almaty
    contacts = {"TG-1": ("telegram", None, "A1"), "WEB-1": ("chat_jsonl", "cards", "A2")}
    with connect(warehouse) as con:
        _insert(con, "agents", [dict(agent_id="A1", full_name="Айгерим Нурланова"), dict(agent_id="A2")])
        for contact_id, (source, queue, agent) in contacts.items():
            _insert(con, "contacts", [dict(contact_id=contact_id, channel="chat", source_system=source, agent_id=agent,
                                           queue=queue, topic="billing", direction="inbound", started_at=start,
                                           ended_at=start + timedelta(minutes=15), disposition="answered")])
            _insert(con, "utterances", [dict(contact_id=contact_id, seq=i, speaker=speaker, offset_ms=at * 1000,
                                             end_offset_ms=at * 1000, text=text)
                                        for i, (speaker, at, text) in enumerate(LONG_CHAT, start=1)])
    run_autoqa(warehouse, PROJECT.scorecards(), PROJECT.error_catalogue(), "run-1", timezone="Asia/Almaty",
               as_of=date(2026, 12, 2))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        found = {(c, k): (r, d) for c, k, r, d in con.execute(
            "SELECT contact_id, criterion_id, result, evidence_detail FROM autoqa.findings").fetchall()}
    assert found[("TG-1", "RESPONSE_TIME")][0] == "na" and found[("TG-1", "RESPONSE_TIME_MESSENGER")][0] == "pass"
    assert found[("WEB-1", "RESPONSE_TIME_MESSENGER")][0] == "na" and found[("WEB-1", "RESPONSE_TIME")][0] == "pass"
    assert found[("TG-1", "INTRODUCTION")] == ("pass", "matched “меня зовут Айгерим” in the first 3 agent turns")
    assert found[("WEB-1", "INTRODUCTION")] == (
        "unverifiable", "the agent's name is not in the directory (agent A2), so an introduction cannot be checked")


def test_the_rules_themselves_do_not_pass_a_contact_without_agent_turns():
    # Tools that call a rule directly (contactqa.autoqa.measure) get the same answer as evaluate().
    from contactqa.autoqa.rules import RULES

    for criterion_id in ("POLITENESS", "CLOSING", "MORE_HELP"):
        rule = CRITERIA[criterion_id].rule
        assert RULES[rule.type](rule, chat(*BOT_ONLY)).result == "na", criterion_id
