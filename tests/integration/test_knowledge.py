"""The centre's own documents behind findings: the real config/ regulations and knowledge base,
indexed into a real DuckDB file with the fts extension, searched the way customers ask; an article
only when it is relevant (to the customer's question, or to what a finding found)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
import yaml

from contactqa.autoqa.engine import run_autoqa
from contactqa.autoqa.knowledge import (
    IndexSummary, KnowledgeError, index_documents, load_fts, match_contacts, search,
)
from contactqa.config import DEFAULT_PROJECT_FILE, load_project
from contactqa.privacy import disclosures, mask_pii
from contactqa.warehouse import column_names, connect

CONFIG = Path(__file__).resolve().parents[2] / "config"
REGULATIONS, KB = CONFIG / "regulations", CONFIG / "kb"


def offline_connection(path: Path, extension_dir: Path) -> duckdb.DuckDBPyConnection:
    """A connection that cannot get the fts extension from anywhere but the pip package: an empty
    extension folder, no auto-install or auto-load, and an extension repository nobody listens on."""
    extension_dir.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), config={
        "extension_directory": str(extension_dir),
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "custom_extension_repository": "http://127.0.0.1:9/no-network",
    })


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[duckdb.DuckDBPyConnection, IndexSummary]:
    base = tmp_path_factory.mktemp("knowledge")
    con = offline_connection(base / "warehouse.duckdb", base / "extensions")
    summary = index_documents(con, REGULATIONS, KB)
    yield con, summary
    con.close()


def test_works_offline_from_the_packaged_extension(tmp_path: Path) -> None:
    con = offline_connection(tmp_path / "w.duckdb", tmp_path / "extensions")
    with pytest.raises(duckdb.Error):
        con.execute("LOAD fts")  # not installed here, and nothing may be downloaded
    load_fts(con)
    assert con.execute("SELECT stem('charges', 'english')").fetchone() == ("charg",)
    assert not any((tmp_path / "extensions").rglob("*.duckdb_extension"))  # loaded, not installed
    summary = index_documents(con, REGULATIONS, KB)
    assert summary.articles >= 10 and search(con, "двойное списание")[0].doc_id == "billing-charges"


def test_every_clause_and_article_is_indexed(indexed) -> None:
    con, summary = indexed
    assert summary.problems == []
    assert summary.regulation_files == 1 and summary.kb_files == summary.articles
    assert 10 <= summary.articles <= 20
    clauses = dict(con.execute("SELECT clause_id, title FROM autoqa.regulation_clauses").fetchall())
    # every clause the scorecard cites is there
    assert {"SR-2.1", "SR-2.2", "SR-3.1", "SR-3.3", "SR-3.4", "SR-4.1", "SR-4.2", "SR-5.1", "SR-6.1"} <= set(clauses)
    assert clauses["SR-4.1"] == "Identification before account changes / Идентификация до изменений"
    text, source = con.execute(
        "SELECT text, source_file FROM autoqa.regulation_clauses WHERE clause_id = 'SR-4.1'").fetchone()
    assert "identity is verified" in text and "Личность клиента проверяется" in text
    assert "##" not in text and source == "regulations/service-rules.md"
    title, text = con.execute("SELECT title, text FROM autoqa.kb_articles WHERE article_id = 'card-reissue'").fetchone()
    assert title == "Card reissue: terms and fees / Перевыпуск карты: сроки и стоимость"
    assert "5 working days" in text and "5 рабочих дней" in text and "1 000 tenge" in text
    # every article is written in both languages
    for article_id, text in con.execute("SELECT article_id, text FROM autoqa.kb_articles").fetchall():
        assert "English" in text and "Русский" in text, article_id


@pytest.mark.parametrize(("question", "article"), [
    # Russian, inflected the way customers speak
    ("заблокировали карту", "card-blocked"),
    ("Карту заблокировали, не могу расплатиться в магазине", "card-blocked"),
    ("перевыпуск карты сколько дней", "card-reissue"),
    ("сколько стоит перевыпустить карту", "card-reissue"),
    ("карта просрочена нужна новая", "card-reissue"),
    ("Я потеряла карту, заблокируйте срочно", "card-lost-stolen"),
    ("хочу оспорить операцию, я её не совершал", "disputes-chargeback"),
    ("Я переехал, нужно поменять адрес", "address-change"),
    ("хочу перейти на другой тариф", "tariff-change"),
    ("у меня просрочка по кредиту, можно отсрочку", "collections-payment-arrangement"),
    ("не могу войти в мобильное приложение, не приходит смс", "mobile-app-login"),
    ("какой дневной лимит на снятие наличных", "card-limits"),
    ("какая ставка по депозиту на год", "deposits"),
    ("перевод не дошёл до получателя", "transfer-not-received"),
    ("хочу оставить жалобу на сотрудника отделения", "complaints"),
    # English
    ("double charge on my card", "billing-charges"),
    ("I was charged twice for the same purchase", "billing-charges"),
    ("I want to dispute a payment I didn't make", "disputes-chargeback"),
    ("my card expired, how long until I get the new one", "card-reissue"),
    ("can I switch to a cheaper plan", "tariff-change"),
    ("I forgot my password for the app", "mobile-app-login"),
    # speech-recognition slips
    ("the guard stopped working in terminals can i get it reissued", "card-reissue"),
    ("перевыпуск карты скока дней", "card-reissue"),
])
def test_customer_questions_find_the_right_article(indexed, question: str, article: str) -> None:
    con, _ = indexed
    hits = search(con, question)
    assert hits and hits[0].doc_id == article, (question, hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_inflected_forms_find_the_same_article(indexed) -> None:
    con, _ = indexed
    forms = ["заблокировали карту", "карта заблокирована", "карту заблокируют", "блокировка карты, разблокируйте"]
    assert {search(con, q)[0].doc_id for q in forms} == {"card-blocked"}


@pytest.mark.parametrize(("question", "clause"), [
    ("оператор назвал полный номер карты клиента", "SR-4.2"),
    ("the agent was rude to the customer", "SR-3.1"),
    ("пауза в разговоре больше 30 секунд без предупреждения", "SR-3.3"),
    ("identity check before unblocking a card", "SR-4.1"),
    ("оператор не представился", "SR-2.2"),
])
def test_questions_find_the_regulation_clause(indexed, question: str, clause: str) -> None:
    con, _ = indexed
    assert search(con, question, kind="regulations")[0].doc_id == clause


def test_reindexing_replaces_rows(indexed) -> None:
    con, summary = indexed
    again = index_documents(con, REGULATIONS, KB)
    assert (again.clauses, again.articles) == (summary.clauses, summary.articles)
    assert con.execute("SELECT count(*), count(DISTINCT article_id) FROM autoqa.kb_articles").fetchone() == (
        summary.articles, summary.articles)


def test_bad_documents_are_reported_and_the_rest_indexed(tmp_path: Path) -> None:
    regulations, kb = tmp_path / "regulations", tmp_path / "kb"
    regulations.mkdir()
    kb.mkdir()
    (regulations / "a.md").write_text(
        "# Rules\n\n## Scope\nWho this applies to.\n\n## QA-1.1 Greeting\nSay hello.\n\n## QA-1.2 Empty\n\n",
        encoding="utf-8")
    (regulations / "b.md").write_text("## QA-1.1 Greeting again\nA second copy.\n", encoding="utf-8")
    (kb / "good.md").write_text("# Card blocked\nUnblock it after the identity check.\n", encoding="utf-8")
    (kb / "no-title.md").write_text("Just text, no heading.\n", encoding="utf-8")
    (kb / "latin1.md").write_bytes("# Карта\nтекст".encode("cp1251"))
    con = duckdb.connect()

    summary = index_documents(con, regulations, kb)

    assert (summary.clauses, summary.articles) == (1, 1)
    problems = [str(p) for p in summary.problems]
    assert "regulations/a.md:3: section 'Scope' has no clause ID (write it as '## SR-4.1 Title'); not indexed" in problems
    assert "regulations/a.md:9: clause QA-1.2 has no text" in problems
    assert any(p.startswith("regulations/b.md: clause QA-1.1 is already defined in regulations/a.md") for p in problems)
    assert "kb/no-title.md:1: a knowledge-base article must start with a '# Title' line" in problems
    assert any(p.startswith("kb/latin1.md: not UTF-8 text") for p in problems)
    assert search(con, "card blocked")[0].doc_id == "good"


def test_missing_folders_index_nothing(tmp_path: Path) -> None:
    con = duckdb.connect()
    summary = index_documents(con, tmp_path / "none", tmp_path / "nothing")
    assert (summary.clauses, summary.articles) == (0, 0)
    assert len(summary.problems) == 2 and "does not exist" in str(summary.problems[0])
    assert search(con, "карта") == []


def test_search_before_indexing_says_what_to_do() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA autoqa")
    with pytest.raises(KnowledgeError, match="run index_documents first"):
        search(con, "карта")


# --- matching contacts -----------------------------------------------------------------------------

START = datetime(2026, 11, 2, 9, 0)
# contact -> (channel, topic, [(speaker, text)])
CONTACTS = {
    "C-RU-BLOCKED": ("voice", None, [
        ("agent", "Добрый день, банк, меня зовут Айгерим, чем могу помочь?"),
        ("customer", "Алло, здравствуйте"),
        ("customer", "у меня заблокировали карту, не могу расплатиться"),
        ("agent", "Назовите, пожалуйста, дату рождения и кодовое слово."),
        ("customer", "1 июля 1979, кодовое слово ромашка"),
    ]),
    "C-EN-DOUBLE": ("chat", "billing", [
        ("customer", "Hello"),
        ("customer", "I was charged twice for one purchase at Magnum, 5 400 tenge"),
    ]),
    # an outbound collection call: the customer says nearly nothing, the topic tells what it is about
    "C-COLLECTIONS": ("voice", "collections", [
        ("agent", "Звоню по поводу просроченной задолженности по кредиту."),
        ("customer", "Алло"),
        ("customer", "Да, это я"),
    ]),
    # only the agent mentions a reissue: the customer's own words are what is matched
    "C-AGENT-ONLY": ("voice", None, [
        ("agent", "Перевыпуск карты занимает пять рабочих дней."),
        ("customer", "Ага"),
    ]),
    "C-NOTHING": ("voice", None, []),
    "C-ONE-QUESTION": ("chat", None, [("customer", "перевыпуск карты сколько дней")]),
}


def _warehouse(path: Path) -> None:
    with connect(path) as con:
        contacts, utterances = [], []
        for n, (contact_id, (channel, topic, turns)) in enumerate(CONTACTS.items()):
            at = START + timedelta(minutes=10 * n)
            contacts.append({"contact_id": contact_id, "channel": channel, "agent_id": "A1", "topic": topic,
                             "started_at": at, "ended_at": at + timedelta(minutes=5)})
            utterances += [{"contact_id": contact_id, "seq": seq, "speaker": speaker, "offset_ms": 1000 * seq,
                            "end_offset_ms": 1000 * seq + 900, "text": text}
                           for seq, (speaker, text) in enumerate(turns, start=1)]
        for table, rows in (("contacts", contacts), ("utterances", utterances)):
            names = column_names(table)
            con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join('?' for _ in names)})",
                            [[row.get(name) for name in names] for row in rows])


@pytest.fixture()
def matched(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    path = tmp_path / "warehouse.duckdb"
    _warehouse(path)
    con = offline_connection(path, tmp_path / "extensions")
    index_documents(con, REGULATIONS, KB)
    assert match_contacts(con, "2026.11-1") > 0
    yield con
    con.close()


def _top(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for contact_id, article_id in con.execute(
            "SELECT contact_id, article_id FROM autoqa.contact_knowledge ORDER BY contact_id, rank").fetchall():
        found.setdefault(contact_id, []).append(article_id)
    return found


def test_each_contact_gets_the_articles_its_customer_needs(matched) -> None:
    top = _top(matched)
    assert top["C-RU-BLOCKED"][0] == "card-blocked"
    assert top["C-EN-DOUBLE"][0] == "billing-charges"
    assert top["C-COLLECTIONS"][0] == "collections-payment-arrangement"
    assert top["C-ONE-QUESTION"][0] == "card-reissue"
    assert "C-AGENT-ONLY" not in top and "C-NOTHING" not in top
    assert all(1 <= len(articles) <= 3 for articles in top.values())
    rows = matched.execute("""SELECT contact_id, rank, score, title, scorecard_version
                              FROM autoqa.contact_knowledge ORDER BY contact_id, rank""").fetchall()
    for contact_id in top:
        mine = [r for r in rows if r[0] == contact_id]
        assert [r[1] for r in mine] == list(range(1, len(mine) + 1))
        assert [r[2] for r in mine] == sorted((r[2] for r in mine), reverse=True)
    assert {r[4] for r in rows} == {"2026.11-1"}
    assert ("C-RU-BLOCKED", 1) in {(r[0], r[1]) for r in rows if r[3].startswith("Card blocked")}


def test_scores_are_the_index_bm25(matched) -> None:
    # one customer turn, no topic: every word weighs 1, so the batch score is match_bm25's exactly
    batch = dict(matched.execute("SELECT article_id, score FROM autoqa.contact_knowledge "
                                 "WHERE contact_id = 'C-ONE-QUESTION'").fetchall())
    single = {h.doc_id: h.score for h in search(matched, "перевыпуск карты сколько дней")}
    assert batch.keys() == {"card-reissue"} and len(single) == 3  # the others fall below the relevance floor
    for article_id, score in batch.items():
        assert score == pytest.approx(single[article_id], rel=1e-9)


def test_rematching_replaces_the_rows(matched) -> None:
    before = matched.execute("SELECT * EXCLUDE (matched_at) FROM autoqa.contact_knowledge ORDER BY ALL").fetchall()
    again = match_contacts(matched, "2026.12-1", batch_size=2)  # several batches, same answer
    after = matched.execute("SELECT * EXCLUDE (matched_at) FROM autoqa.contact_knowledge ORDER BY ALL").fetchall()
    assert again == len(before)
    assert [r[:4] for r in after] == [r[:4] for r in before]
    assert [r[4] for r in after] == pytest.approx([r[4] for r in before])
    assert {r[5] for r in after} == {"2026.12-1"}


def test_an_empty_knowledge_base_clears_old_matches(matched, tmp_path: Path) -> None:
    index_documents(matched, REGULATIONS, tmp_path / "no-kb")
    assert match_contacts(matched, "2026.11-1") == 0
    assert matched.execute("SELECT count(*) FROM autoqa.contact_knowledge").fetchone() == (0,)


# --- a relevance floor: an article only when the knowledge base has the answer ----------------------

RELEVANCE = yaml.safe_load((Path(__file__).parent / "kb_relevance.yml").read_text(encoding="utf-8"))


def _contacts_warehouse(path: Path, cases: dict[str, tuple[str | None, list[str]]]) -> None:
    """Chats with only their customers' turns: contact -> (topic, turns)."""
    with connect(path) as con:
        contacts, utterances = [], []
        for n, (contact_id, (topic, turns)) in enumerate(cases.items()):
            at = START + timedelta(minutes=n)
            contacts.append({"contact_id": contact_id, "channel": "chat", "agent_id": "A1", "topic": topic,
                             "started_at": at, "ended_at": at + timedelta(minutes=5)})
            utterances += [{"contact_id": contact_id, "seq": seq, "speaker": "customer", "offset_ms": 1000 * seq,
                            "end_offset_ms": 1000 * seq + 900, "text": text} for seq, text in enumerate(turns, start=1)]
        for table, rows in (("contacts", contacts), ("utterances", utterances)):
            names = column_names(table)
            con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join('?' for _ in names)})",
                            [[row.get(name) for name in names] for row in rows])


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[str]]]:
    """Each measurement case's articles, best first, by section: section -> contact -> articles."""
    base = tmp_path_factory.mktemp("relevance")
    cases = {f"{section}-{n}": (case.get("topic"), case["turns"])
             for section in ("relevant", "hard", "irrelevant") for n, case in enumerate(RELEVANCE[section])}
    _contacts_warehouse(base / "w.duckdb", cases)
    con = offline_connection(base / "w.duckdb", base / "extensions")
    index_documents(con, REGULATIONS, KB)
    match_contacts(con, "2026.11-1")
    top = _top(con)
    con.close()
    return {section: {f"{section}-{n}": top.get(f"{section}-{n}", []) for n in range(len(RELEVANCE[section]))}
            for section in ("relevant", "hard", "irrelevant")}


def test_every_relevant_contact_keeps_its_article(measured) -> None:
    expected = {f"relevant-{n}": case["article"] for n, case in enumerate(RELEVANCE["relevant"])}
    wrong = {cid: (expected[cid], found) for cid, found in measured["relevant"].items()
             if found[:1] != [expected[cid]]}
    assert wrong == {}, f"{len(wrong)} of {len(expected)} relevant contacts lost their article"


def test_contacts_about_nothing_the_knowledge_base_covers_get_no_article(measured) -> None:
    matched = {cid: found for cid, found in measured["irrelevant"].items() if found}
    # measured: 1 of 44 ("I received a call from this number"), against 26 of 44 with no floor
    assert len(matched) <= 1, matched
    texts = {f"irrelevant-{n}": " ".join(case["turns"]) for n, case in enumerate(RELEVANCE["irrelevant"])}
    for cid, text in texts.items():
        if "weather" in text or "погода" in text or "wrong number" in text or "ошибся номером" in text:
            assert measured["irrelevant"][cid] == [], text


def test_hard_questions_are_counted(measured) -> None:
    expected = {f"hard-{n}": case["article"] for n, case in enumerate(RELEVANCE["hard"])}
    kept = [cid for cid, found in measured["hard"].items() if found[:1] == [expected[cid]]]
    wrong = [cid for cid, found in measured["hard"].items() if found and found[:1] != [expected[cid]]]
    assert len(kept) >= 1 and wrong == []  # dropped (too vague for the floor) is allowed, a wrong article is not


# --- the article a finding cites ---------------------------------------------------------------------

AGENT = "Айгерим Нурланова"
# contact -> (topic, [(speaker, text)], [actions]); text as ingest stores it (masked, what it disclosed kept)
FINDING_CONTACTS = {
    "F-CARD": ("card_blocked", [
        ("customer", "Здравствуйте, у меня заблокировали карту"),
        ("agent", "Добрый день, меня зовут Айгерим. Ваша карта 4400 1234 5678 9013, верно?"),
        ("customer", "Да"),
        ("agent", "Разблокировала, оплата пройдёт через 5 минут. Могу ещё чем-то помочь? Всего доброго!"),
    ], []),
    "F-UNBLOCK": ("card_blocked", [
        ("customer", "Hello, my card is blocked, I can't pay in the shop"),
        ("agent", "Good afternoon, my name is Aigerim. I have unblocked the card, it works again."),
        ("customer", "Thanks"),
        ("agent", "Anything else I can help with? Have a nice day!"),
    ], ["unblock-card"]),
    "F-REISSUE": ("card_reissue", [
        ("customer", "Здравствуйте, хочу перевыпустить карту, старая сломалась"),
        ("agent", "Здравствуйте, меня зовут Айгерим. Заказала перевыпуск, карту привезёт курьер."),
        ("customer", "Спасибо"),
        ("agent", "Могу ещё чем-то помочь? Всего доброго!"),
    ], ["verify-identity", "reissue-card"]),
    # the customer's question has an article; the greeting the agent left out has none
    "F-NO-GREETING": (None, [
        ("customer", "у меня заблокировали карту, не могу расплатиться"),
        ("agent", "Меня зовут Айгерим, сейчас посмотрю."),
        ("agent", "Разблокировала, оплата пройдёт через 5 минут. Могу ещё чем-то помочь? Всего доброго!"),
    ], ["verify-identity", "unblock-card"]),
    # the agent blames and lectures the customer: the courtesy article says how not to
    "F-RUDE": ("card_blocked", [
        ("customer", "Карту заблокировали, я ничего не делал!"),
        ("agent", "Здравствуйте, меня зовут Айгерим. Ну раз вы три раза ввели неверный пин, сами и виноваты."),
        ("customer", "Разблокируйте, пожалуйста"),
        ("agent", "Разблокировала. Могу ещё чем-то помочь? Всего доброго!"),
    ], ["verify-identity", "unblock-card"]),
    "F-WEATHER": (None, [
        ("customer", "Hi! What's the weather going to be like tomorrow in Almaty?"),
        ("agent", "I'm afraid I can't say."),
        ("customer", "I need to know if I should take an umbrella"),
    ], []),
    "F-WRONG-NUMBER": (None, [
        ("customer", "Hello, is this Dana's number?"),
        ("agent", "No."),
        ("customer", "Oh sorry, I must have dialled the wrong number"),
    ], []),
}


@pytest.fixture(scope="module")
def cited(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A real AutoQA run with the default scorecard over FINDING_CONTACTS, then the knowledge matched."""
    base = tmp_path_factory.mktemp("cited")
    path = base / "w.duckdb"
    with connect(path) as con:
        rows: dict[str, list[dict]] = {"agents": [{"agent_id": "A1", "full_name": AGENT, "locale": "ru"}],
                                       "contacts": [], "utterances": [], "agent_actions": []}
        for n, (contact_id, (topic, turns, actions)) in enumerate(FINDING_CONTACTS.items()):
            at = START + timedelta(minutes=10 * n)
            rows["contacts"].append({"contact_id": contact_id, "channel": "chat", "agent_id": "A1", "topic": topic,
                                     "direction": "inbound", "started_at": at, "ended_at": at + timedelta(minutes=2)})
            rows["utterances"] += [{"contact_id": contact_id, "seq": seq, "speaker": speaker, "offset_ms": 20_000 * seq,
                                    "end_offset_ms": 20_000 * seq + 900, "text": mask_pii(text),
                                    "pii_kinds": ",".join(disclosures(text)) or None}
                                   for seq, (speaker, text) in enumerate(turns, start=1)]
            rows["agent_actions"] += [{"contact_id": contact_id, "agent_id": "A1", "at": at + timedelta(seconds=30 + i),
                                       "action": action} for i, action in enumerate(actions)]
        for table, table_rows in rows.items():
            names = column_names(table)
            con.executemany(f"INSERT INTO raw.{table} VALUES ({', '.join('?' for _ in names)})",
                            [[row.get(name) for name in names] for row in table_rows])
    default = load_project(DEFAULT_PROJECT_FILE)
    run_autoqa(path, default.scorecards(), default.error_catalogue(), "run-1", timezone="Asia/Almaty",
               close_after_days=3, as_of=date(2026, 12, 1))
    con = offline_connection(path, base / "extensions")
    index_documents(con, REGULATIONS, KB)
    match_contacts(con, "run-1")
    yield con
    con.close()


def _citations(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, str]]:
    return {(c, k): (a, m) for c, k, a, m in con.execute(
        "SELECT contact_id, criterion_id, article_id, matched_on FROM autoqa.finding_knowledge").fetchall()}


def _failed(con: duckdb.DuckDBPyConnection, contact_id: str) -> set[str]:
    return {k for (k,) in con.execute("SELECT criterion_id FROM autoqa.findings WHERE contact_id = ? AND result = 'fail'",
                                      [contact_id]).fetchall()}


def test_a_card_number_breach_cites_the_confidential_data_article(cited) -> None:
    detail = cited.execute("SELECT evidence_detail FROM autoqa.findings WHERE contact_id = 'F-CARD' "
                           "AND criterion_id = 'PII_DISCLOSURE'").fetchone()
    assert detail == ("full card number disclosed: **** **** **** 9013",)
    assert _citations(cited)[("F-CARD", "PII_DISCLOSURE")] == ("confidential-data", "criterion")
    title = cited.execute("SELECT title FROM autoqa.finding_knowledge WHERE contact_id = 'F-CARD'").fetchone()[0]
    assert title.startswith("Confidential data")


def test_a_rude_reply_cites_the_courtesy_article(cited) -> None:
    assert "POLITENESS" in _failed(cited, "F-RUDE")
    assert _citations(cited)[("F-RUDE", "POLITENESS")] == ("courtesy", "criterion")


def test_an_account_change_without_the_identity_check_cites_the_identity_article(cited) -> None:
    assert "IDENTITY_VERIFIED" in _failed(cited, "F-UNBLOCK")
    assert _citations(cited)[("F-UNBLOCK", "IDENTITY_VERIFIED")] == ("identity-verification", "criterion")


def test_a_finding_about_the_answer_cites_the_article_that_answers_the_question(cited) -> None:
    assert "INFO_COMPLETE" in _failed(cited, "F-REISSUE")  # the agent did not say when the card is ready
    assert _citations(cited)[("F-REISSUE", "INFO_COMPLETE")] == ("card-reissue", "question")


def test_findings_about_manner_and_irrelevant_contacts_cite_nothing(cited) -> None:
    citations = _citations(cited)
    # a greeting, an introduction or a closing left out has no article in this knowledge base
    by_criterion = {k for (_, k), (_, on) in citations.items() if on == "criterion"}
    assert by_criterion <= {"PII_DISCLOSURE", "IDENTITY_VERIFIED", "POLITENESS"}, citations
    assert "GREETING" in _failed(cited, "F-NO-GREETING") and ("F-NO-GREETING", "GREETING") not in citations
    assert _top(cited)["F-NO-GREETING"][0] == "card-blocked"  # though the contact has its article
    for contact_id in ("F-WEATHER", "F-WRONG-NUMBER"):
        assert _failed(cited, contact_id)  # the agent failed plenty here ...
        assert not [key for key in citations if key[0] == contact_id]  # ... and no article is cited for any of it
        assert cited.execute("SELECT count(*) FROM autoqa.contact_knowledge WHERE contact_id = ?",
                             [contact_id]).fetchone() == (0,)
    # every citation belongs to a failed finding of the contact's current check
    for contact_id, criterion_id in citations:
        assert criterion_id in _failed(cited, contact_id)
