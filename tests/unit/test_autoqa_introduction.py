"""INTRODUCTION on openings written the way agents really open (issue 9, A and C).

The agent's name counts in an introduction form ("меня зовут Айгерим", "May speaking", "менің атым
Айгерім"), or on its own as a capitalised word in the first agent turn (in caseless ASR text, where
case tells nothing, as written — if it is no ordinary word); never as an ordinary word ("may I have
your name?"), a company's name ("банк Аврора") or someone else's; and an agent the directory has no
name for is unverifiable, not failed.
"""

from __future__ import annotations

import pytest

from contactqa.autoqa.engine import agent_names
from contactqa.autoqa.language import Utterance
from contactqa.autoqa.rules import Contact, evaluate, is_common_word_name
from contactqa.config import DEFAULT_PROJECT_FILE, load_project

INTRODUCTION = next(c for c in load_project(DEFAULT_PROJECT_FILE).scorecard().criteria() if c.id == "INTRODUCTION")


def opening(full_name: str | None, *agent_turns: str, channel: str = "chat", customer: str = "Здравствуйте"):
    """A contact: the customer writes first, then the agent's turns with a customer reply between them."""
    turns = [("customer", customer)]
    for text in agent_turns:
        turns += [("agent", text), ("customer", "Да")]
    utterances = [Utterance(i, speaker, i * 20_000, i * 20_000 + 5_000, text)
                  for i, (speaker, text) in enumerate(turns, start=1)]
    return Contact("C-1", channel, "A001", agent_names(full_name), "billing", "answered", utterances)


def introduction(full_name: str | None, *agent_turns: str, **kwargs):
    return evaluate(INTRODUCTION, opening(full_name, *agent_turns, **kwargs))


@pytest.mark.parametrize("full_name, turns, words", [
    # the agent asks for the customer's name: "May" is the verb
    ("May Collins", ["Good afternoon, KenBank card services. May I have your full name and date of birth, please?",
                     "Thank you. I can see the payment on the 14th.", "It should clear by Friday."], "May is a word"),
    # "will" is the auxiliary
    ("Will Turner", ["Hello and thanks for calling KenBank. I will check the status of your transfer now.",
                     "I can see it left our side yesterday at 16:05."], "Will is a word"),
    # "this is [the] bill" reads as the form "this is Bill" once a filler word is allowed between
    ("Bill Hughes", ["Hello! I see this is the bill from March, the one paid twice.", "I have refunded it."],
     "Bill is a word"),
    # "дано" is read as a form of «дана»: "это было дано" holds the form "это Дана"
    ("Дана Ахметова", ["Добрый день! Это было дано вам в SMS при подключении услуги.",
                       "Пароль можно сменить в приложении."], "Дана, dana are words"),
    # «надежда» the word, from an agent who never gave her name
    ("Надежда Козлова", ["Добрый день, КенБанк, слушаю вас.", "Надежда есть: платёж ещё в обработке, его можно отозвать."],
     "Надежда, nadezhda are words"),
])
def test_a_name_that_is_also_a_word_is_not_an_introduction(full_name, turns, words):
    outcome = introduction(full_name, *turns)
    assert outcome.result == "fail", outcome.detail
    assert outcome.detail.startswith("none of the required phrases in the first 3 agent turns (the agent's name: ")
    assert outcome.detail.endswith(f"; {words} as well, so only an introduction counts)")
    assert outcome.quote == turns[0]


@pytest.mark.parametrize("full_name, text, said", [
    ("May Collins", "Good afternoon, my name is May, how can I help you today?", "my name is May"),
    ("May Collins", "Good afternoon, KenBank, May speaking. How can I help?", "May speaking"),
    ("Will Turner", "Hello, this is Will from KenBank, how can I help?", "this is Will"),
    ("Вера Смирнова", "Здравствуйте, меня зовут Вера, чем могу помочь?", "меня зовут Вера"),
    ("Дана Ахметова", "Здравствуйте! Это Дана, КенБанк. Чем могу помочь?", "это Дана"),
    ("Бақыт Сейтқалиева", "Сәлеметсіз бе! Бақыт сізді тыңдап тұр.", "Бақыт сізді тыңдап тұр"),
    # lowercase ASR: a form that names the agent still counts, as the word itself
    ("May Collins", "good afternoon my name is may how can i help you", "my name is May"),
])
def test_a_name_that_is_also_a_word_counts_in_an_introduction(full_name, text, said):
    outcome = introduction(full_name, text, channel="voice")
    assert outcome.result == "pass", outcome.detail
    assert outcome.detail == f"matched “{said}” in the first 3 agent turns" and outcome.quote == text


def test_a_word_name_in_a_form_in_lowercase_asr_counts_as_the_word_itself():
    # Канат (also "rope") introduces himself on a call; ASR writes everything lowercase
    spoken = introduction("Канат Калиев", "добрый день кенбанк служба заботы о клиентах канат на линии", channel="voice")
    assert (spoken.result, spoken.detail) == ("pass", "matched “Канат на линии” in the first 3 agent turns")
    # the same turn with the name lowercase in typed text is the word, not the name
    typed = introduction("May Collins", "Good afternoon! You may from Monday use the new app.")
    assert typed.result == "fail"


def test_the_bare_name_counts_as_a_capitalised_word_in_the_first_turn():
    outcome = introduction("Светлана Иванова", "Светлана, банк КенБанк, здравствуйте!")
    assert outcome.result == "pass"
    assert outcome.detail == "the agent's name “Светлана” said on its own in the first agent turn"
    assert outcome.quote == "Светлана, банк КенБанк, здравствуйте!" and outcome.speaker == "agent"


def test_the_bare_name_counts_in_caseless_asr_only_when_it_is_no_ordinary_word():
    # speech recognition writes no capitals: case cannot tell a name there, the word list still can
    asr = introduction("Арман Тулегенов", "доброе утро арман из банка кенбанк вам удобно говорить", channel="voice")
    assert (asr.result, asr.detail) == ("pass", "the agent's name “арман” said on its own in the first agent turn")
    word = introduction("Вера Ли", "вера в лучшее есть всегда банк кенбанк здравствуйте", channel="voice")
    assert word.result == "fail"
    # ...nor when it is the customer's, addressed with a patronymic
    customer = introduction("Ирина Кузнецова", "здравствуйте ирина петровна это кенбанк", channel="voice")
    assert customer.result == "fail"


def test_the_bare_name_does_not_count_after_the_first_turn():
    later = introduction("Данияр Ахметов", "Здравствуйте! КенБанк, чем могу помочь?",
                         "Записываю: заявку принял Данияр, номер 4471.")
    assert later.result == "fail" and later.quote == "Здравствуйте! КенБанк, чем могу помочь?"


def test_a_word_name_never_counts_bare():
    outcome = introduction("Вера Смирнова", "Вера, банк КенБанк, здравствуйте!")
    assert outcome.result == "fail"
    assert "Вера, vera are words as well, so only an introduction counts" in outcome.detail


@pytest.mark.parametrize("full_name, text, names", [
    # a bank named like a person: the word after "банк" is the company's, even in "Аврора, слушаю вас"
    ("Аврора Ким", "Здравствуйте, банк Аврора, слушаю вас.",
     "Аврора, Ким, avrora, kim; Аврора, avrora said only as a company's name"),
    # "Ally Bank": the word before "Bank" is the company's
    ("Ally Thompson", "Thank you for calling Ally Bank, how can I help you today?",
     "Ally, Thompson; Ally said only as a company's name"),
])
def test_a_company_name_is_not_the_agents(full_name, text, names):
    outcome = introduction(full_name, text)
    assert outcome.result == "fail", outcome.detail
    assert outcome.detail == f"none of the required phrases in the first 3 agent turns (the agent's name: {names})"
    assert introduction(full_name, "Здравствуйте! Меня зовут " + full_name.split()[0] + ", банк Аврора.").result == "pass"


def test_a_shared_account_named_after_the_company_is_unverifiable():
    # A Telegram business account the directory lists as "KenBank Support"; KenBank is in company_names.
    outcome = introduction("KenBank Support", "Thanks for contacting KenBank Support! How can we help?")
    assert outcome.result == "unverifiable"
    assert outcome.detail == ("the agent's name in the directory (KenBank, Support) is a company's or a shared "
                              "account's, not a person's, so an introduction cannot be checked")


def test_an_agent_without_a_name_in_the_directory_is_unverifiable_not_failed():
    outcome = introduction(None, "Добрый день, КенБанк, чем могу помочь?", "Проверяю, одну минуту.")
    assert outcome.result == "unverifiable"
    assert outcome.detail == "the agent's name is not in the directory (agent A001), so an introduction cannot be checked"


@pytest.mark.parametrize("full_name, text, said", [
    ("Айгерим Нурланова", "Good morning, my name is Aigerim, how can I help you today?", "my name is aigerim"),
    ("Артём Морозов", "artyom here kenbank customer support how can i help", "artyom here"),
])
def test_an_agent_named_in_cyrillic_introduces_themselves_in_english(full_name, text, said):
    outcome = introduction(full_name, text)
    assert outcome.result == "pass"
    assert outcome.detail == f"matched “{said}” in the first 3 agent turns"


@pytest.mark.parametrize("text, said", [
    ("Сәлеметсіз бе! Менің атым Айгерім, сізге қалай көмектесе аламын?", "менің атым Айгерим"),
    ("Қайырлы күн! Айгерім сізді тыңдап тұр.", "Айгерим сізді тыңдап тұр"),
])
def test_kazakh_introductions(text, said):
    outcome = introduction("Айгерим Нурланова", text)
    assert outcome.result == "pass", outcome.detail
    assert outcome.detail == f"matched “{said}” in the first 3 agent turns"


def test_an_introduction_after_a_greeting_turn_still_counts_in_the_third_turn():
    outcome = introduction("Тимур Касымов", "Здравствуйте!", "Одну секунду, открываю ваш профиль.",
                           "Меня Тимур зовут, я вижу ваш платёж.")
    assert outcome.result == "pass" and outcome.detail == "matched “меня Тимур зовут” in the first 3 agent turns"


@pytest.mark.parametrize("name, common", [
    ("Вера", True), ("Слава", True), ("Роман", True), ("Дана", True), ("May", True), ("Will", True),
    ("Бақыт", True), ("Нұр", True), ("Роза", True),
    ("Светлана", False), ("Айгерим", False), ("Максим", False), ("Ерлан", False), ("Bekzat", False),
])
def test_which_names_are_also_words(name, common):
    assert is_common_word_name(name) is common


def test_an_older_scorecard_listing_the_bare_name_as_a_phrase_gets_the_same_limits():
    # Version 2026.11-2 and before listed "{agent_first_name}" among the phrases: it matched any mention.
    rule = INTRODUCTION.rule
    phrases = {language: texts + ["{agent_first_name}"] for language, texts in rule.phrases.items()}
    legacy = INTRODUCTION.model_copy(update={"rule": rule.model_copy(update={
        "phrases": phrases, "bare_name_within_first_turns": None, "company_names": []})})
    may = opening("May Collins", "Good afternoon. May I have your full name, please?")
    assert evaluate(legacy, may).result == "fail"
    svetlana = opening("Светлана Иванова", "Светлана, банк КенБанк, здравствуйте!")
    assert evaluate(legacy, svetlana).detail == "the agent's name “Светлана” said on its own in the first agent turn"


@pytest.mark.parametrize("full_name, text", [
    # the agent addresses a customer who shares the name
    ("Айгерим Садыкова", "Айгерим, вы указали старый номер телефона, проверьте, пожалуйста."),
    ("Айгерим Садыкова", "Айгерім ханым, картаңыздың соңғы төрт санын айтыңызшы."),
    ("Анна Петрова", "Анна Сергеевна, добрый день! Звоню по поводу вашей заявки."),
    # a colleague's name, a product's name
    ("Дмитрий Соколов", "Вам перезвонит мой коллега Дмитрий из кредитного отдела."),
    ("Дәулет Сапаров", "«Дәулет» депозитіне онлайн жазылуға болады, сыйақы жылдық 14%."),
    # fuzzily close to "you're speaking with Emily", but no Emily in it
    ("Emily Turner", "Hello, you're speaking with the complaints team."),
])
def test_a_name_that_is_someone_elses_is_not_an_introduction(full_name, text):
    outcome = introduction(full_name, text)
    assert outcome.result == "fail", outcome.detail
    assert outcome.detail.startswith("none of the required phrases in the first 3 agent turns (the agent's name: ")


def test_a_bare_name_in_apposition_is_an_introduction():
    outcome = introduction("Тимур Ахметов", "Давайте познакомимся: я Тимур, ваш персональный менеджер.")
    assert (outcome.result, outcome.detail) == ("pass", "the agent's name “Тимур” said on its own in the first agent turn")


@pytest.mark.parametrize("full_name, text, word", [
    ("Дәулет Сапаров", "Сәлеметсіз бе! Дәулетпін, депозит бөлімі. Сізді тыңдаймын.", "Дәулетпін"),
    ("Нұр Ахмет", "Айтпақшы, мен Нұрмын — өтініш нөмірін жазып алыңыз.", "Нұрмын"),  # Нұр is also a word: "light"
])
def test_kazakh_i_am_ending_introduces(full_name, text, word):
    outcome = introduction(full_name, "Сәлеметсіз бе!", text)
    assert outcome.result == "pass"
    assert outcome.detail == f"the agent's name in “{word}” (Kazakh: I am …) in the first 3 agent turns"
