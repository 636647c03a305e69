"""The centre's own documents behind every finding: regulation clauses and knowledge-base articles.

`index_documents` reads the Markdown the QA team keeps in `config/` — regulations
(`## SR-4.1 Title` sections, cited by the scorecard's `regulation:`) and knowledge-base
articles (one `# Title` file each) — into `autoqa.regulation_clauses` and `autoqa.kb_articles`,
and builds DuckDB full-text (BM25) indexes over them. `match_contacts` then finds, for every
contact, up to three articles that answer what the customer asked (`autoqa.contact_knowledge`),
and for every failed finding the one article about what went wrong (`autoqa.finding_knowledge`):
a card number read out cites the confidential-data article, an account changed without the
identity check the identity-verification one, a greeting left out nothing at all.

Relevance has a floor, so an article is cited only when it is about the thing. BM25 alone cannot
say that: a wrong-number chat ("sorry, wrong number") scores higher against the app-login article
("wrong password", "phone number") than "заблокировали карту" against the card-blocked one. What tells
them apart is the title, which says what an article is about: a query word in an article's title
adds the most BM25 could give it, (k1 + 1) x IDF. The floors were measured on config/kb
(tests/integration/kb_relevance.yml):
- a contact's article needs BM25 + title bonus >= CONTACT_MIN_RELEVANCE (2.0): there all 36
  relevant contacts keep their article and 43 of 44 wrong numbers, weather questions and pizza
  orders get none (without the floor 26 of them got up to three); 3 of 5 very short or vague
  questions ("where is my money") fall below it too. 1.8 lets a second wrong number in, 2.2
  drops two relevant contacts;
- a finding's article needs the finding's own names — criterion title, error title, clause title —
  in its title, worth >= FINDING_MIN_TITLE_MATCH (2.0): the identity and confidential-data
  articles score 2.8 and 12 for their findings, the best chance match ("limits", "service") 1.2.
  An article that cites the finding's clause ("Related clause: SR-4.2") qualifies as well: its
  authors said so. Among those, the finding's words (its names, its detail, the clause text at
  CLAUSE_WEIGHT) pick the best by BM25. Criteria that judge the answer to the customer's
  question (QUESTION_RULES: required information, required actions, resolution, manual) cite
  the contact's first article instead: the one that answers that question.

Words are normalised the way the AutoQA rules see them (`contactqa.autoqa.language`): Russian
reduced to its lemma and then to a Snowball stem, so "заблокировали карту" finds "карта
заблокирована"; English left to the index's Snowball English stemmer ("charged" = "charges").
Articles are bilingual, so one index serves questions in either language.

Everything runs offline: the fts extension is loaded from the pip package `duckdb-extension-fts`
when DuckDB has not installed it (`INSTALL fts` would download it).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import duckdb
import pandas as pd
from rapidfuzz import fuzz, process

from contactqa.autoqa.language import _morph, lemma, tokens  # _morph: the one MorphAnalyzer the rules use

TOP_ARTICLES = 3
# Relevance floors, measured on config/kb (see the module docstring).
CONTACT_MIN_RELEVANCE = 2.0
FINDING_MIN_TITLE_MATCH = 2.0
# A finding's clause text names many things beside the finding's subject: it weighs less than its names.
CLAUSE_WEIGHT = 0.3
QUESTION_RULES = frozenset({"required_information", "required_actions", "resolution", "manual"})
# Contacts matched per SQL statement: memory follows the batch, not the warehouse.
MATCH_BATCH = 25_000
# BM25 parameters, the fts extension's defaults (match_bm25 uses the same).
BM25_K1 = 1.2
BM25_B = 0.75
# Query words: the customer's first turns say what they need; the rest mostly answer the agent.
QUESTION_TURNS = 3
LATER_TURN_WEIGHT = 0.4
TOPIC_WEIGHT = 2.0
# Spelling correction towards the documents' words (rapidfuzz ratio, 0-100).
_CORRECTION_CUTOFF = 88
_MIN_CORRECTED_LENGTH = 5

KB_INDEX = "fts_autoqa_kb_articles"
REGULATION_INDEX = "fts_autoqa_regulation_clauses"

_DDL = """
CREATE SCHEMA IF NOT EXISTS autoqa;
CREATE TABLE IF NOT EXISTS autoqa.regulation_clauses (
    clause_id VARCHAR, title VARCHAR, text VARCHAR, source_file VARCHAR,
    search_text VARCHAR, indexed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS autoqa.kb_articles (
    article_id VARCHAR, title VARCHAR, text VARCHAR, source_file VARCHAR,
    search_text VARCHAR, indexed_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS autoqa.contact_knowledge (
    contact_id VARCHAR, rank INTEGER, article_id VARCHAR, title VARCHAR, score DOUBLE,
    scorecard_version VARCHAR, matched_at TIMESTAMP
);
-- The article each failed finding of a contact's current check cites (none when none is relevant).
CREATE TABLE IF NOT EXISTS autoqa.finding_knowledge (
    contact_id VARCHAR, criterion_id VARCHAR, article_id VARCHAR, title VARCHAR, score DOUBLE,
    matched_on VARCHAR, scorecard_version VARCHAR, run_id VARCHAR, matched_at TIMESTAMP
);
"""

# The index tokenizer keeps Cyrillic (and Kazakh) letters; the extension's default keeps a-z only.
_INDEX_IGNORE = r"(\\.|[^a-z0-9а-яёәғқңөұүһі])+"
_KAZAKH = re.compile(r"[әғқңөұүһі]")
_CYRILLIC = re.compile(r"[а-яё]")
_LATIN = re.compile(r"[a-z]")

# Words that say nothing about what the customer needs: function words, greetings, fillers and
# the verbs of asking. Russian ones are lemmas (they are compared after lemmatisation).
_STOPWORDS_RU = frozenset("""
    а без более бы быть в вам вас ваш весь во вот вы где да даже для до его ее если есть еще же за
    здесь и из или им их к как какой когда кто ли либо мне меня мой мы на над наш не него нее нет ни
    ничто но ну о об около он она они оно от очень по под после при про раз с сам свой себя со так
    также такой там те тем то тогда тоже только тот ты у уж уже хоть чем через что чтобы чей это этот
    я ой ага угу алло ладно хорошо ок окей спасибо пожалуйста здравствуйте здравствуй привет
    добрый свидание всего вообще просто вроде наверное можно нужно надо мочь хотеть сказать подсказать
    говорить знать понять звонить позвонить написать обращаться обратиться вопрос слушать девушка
    мужчина сейчас сегодня вчера тут почему зачем ещё ничего ничто никто никуда нигде
    никак поэтому потому потом значит типа короче сразу
""".split())
_STOPWORDS_EN = frozenset("""
    a about above after again all am an and any are as at be been before being below between both but
    by can could did didn do does doesn doing don down during each few for from further had hadn has
    hasn have haven having he her here hers herself him himself his how i if in into is isn it its
    itself just ll me more most my myself no nor not now of off on once only or other our ours out
    over own re s same she should so some such t than that the their theirs them themselves then
    there these they this those through to too under until up very ve was wasn we were weren what
    when where which while who whom why will with won would wouldn you your yours yourself
    hello hi hey thanks thank please yes yeah ok okay well sorry like want need tell know call calling
    get got let may might also today yesterday anything something nothing everything anyone someone
    everyone first called calls said say thing things
""".split())

_CLAUSE_HEADING = re.compile(r"^##\s+(?P<id>[^\s]+)\s+(?P<title>.+?)\s*#*\s*$")
_CLAUSE_ID = re.compile(r"^[\w][\w.\-/]*\d[\w.\-/]*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


class KnowledgeError(RuntimeError):
    """The knowledge base cannot be searched (the fts extension is missing, or nothing was indexed)."""


@dataclass(frozen=True)
class Problem:
    """A document (or part of one) that was not indexed, and why."""

    source_file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.source_file}:{self.line}" if self.line else self.source_file
        return f"{where}: {self.message}"


@dataclass
class IndexSummary:
    clauses: int = 0
    articles: int = 0
    regulation_files: int = 0
    kb_files: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    def __str__(self) -> str:
        text = (f"knowledge: {self.clauses} regulation clauses from {self.regulation_files} file(s), "
                f"{self.articles} knowledge-base articles from {self.kb_files} file(s) indexed")
        for problem in self.problems:
            text += f"\n  skipped {problem}"
        return text


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    title: str
    score: float


@dataclass(frozen=True)
class _Document:
    doc_id: str
    title: str
    text: str
    source_file: str


# --- the fts extension, offline -----------------------------------------------------------------

def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's fts extension without the network.

    `LOAD fts` works once DuckDB has it installed; otherwise the copy shipped inside the
    `duckdb-extension-fts` package (pinned to this DuckDB version) is loaded from its file.
    """
    try:
        con.execute("LOAD fts")
        return
    except duckdb.Error:
        pass
    path = _packaged_fts(con)
    try:
        con.execute(f"LOAD '{str(path).replace(chr(39), chr(39) * 2)}'")
    except duckdb.Error as exc:
        raise KnowledgeError(f"could not load DuckDB's fts extension from {path}: {exc}") from None


def _packaged_fts(con: duckdb.DuckDBPyConnection) -> Path:
    try:
        import duckdb_extension_fts
    except ImportError:
        raise KnowledgeError(
            "DuckDB's fts extension is not installed and the package duckdb-extension-fts is missing "
            "(pip install duckdb-extension-fts==<your duckdb version>)") from None
    version = con.execute("PRAGMA version").fetchone()[0]
    package = Path(duckdb_extension_fts.__file__).parent
    for candidate in (package / "extensions" / version / "fts.duckdb_extension", package / "fts.duckdb_extension"):
        if candidate.is_file():
            return candidate
    raise KnowledgeError(f"duckdb-extension-fts in {package} has no fts extension for DuckDB {version}")


# --- Markdown -------------------------------------------------------------------------------------

def _plain(lines: list[str]) -> str:
    """Markdown body -> readable plain text: wrapped lines joined, one line per paragraph or list item."""
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for raw in lines:
        line = _EMPHASIS.sub("", _LINK.sub(r"\1", raw)).strip()
        if not line:
            flush()
            continue
        if line.startswith("#"):
            flush()
            paragraphs.append(line.lstrip("#").strip())
            continue
        if _LIST_ITEM.match(raw) or line.startswith(">"):
            flush()
        current.append(line.lstrip("> ").strip() if line.startswith(">") else line)
    flush()
    return "\n".join(p for p in paragraphs if p)


def _read(path: Path, problems: list[Problem], shown: str) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        problems.append(Problem(shown, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"))
    except OSError as exc:
        problems.append(Problem(shown, None, f"cannot be read ({exc.strerror or exc})"))
    return None


def _shown(path: Path, base: Path) -> str:
    """The path a QA specialist recognises: relative to the folder above the documents' folder."""
    try:
        return path.relative_to(base.parent).as_posix()
    except ValueError:
        return str(path)


def parse_regulations(path: Path, problems: list[Problem], base: Path | None = None) -> list[_Document]:
    """One document per `## <clause id> <title>` section; text runs to the next `#`/`##` heading."""
    shown = _shown(path, base or path.parent)
    lines = _read(path, problems, shown)
    if lines is None:
        return []
    clauses: list[_Document] = []
    heading: tuple[int, str, str] | None = None
    body: list[str] = []

    def close() -> None:
        if heading is None:
            return
        line_no, clause_id, title = heading
        text = _plain(body)
        if not text:
            problems.append(Problem(shown, line_no, f"clause {clause_id} has no text"))
            return
        clauses.append(_Document(clause_id, title, text, shown))

    for number, line in enumerate(lines, start=1):
        if line.startswith("## ") or line.startswith("# ") or line.rstrip() in ("#", "##"):
            close()
            heading, body = None, []
            match = _CLAUSE_HEADING.match(line)
            if line.startswith("## ") and match and _CLAUSE_ID.match(match["id"]):
                heading = (number, match["id"], match["title"])
            elif line.startswith("## "):
                problems.append(Problem(shown, number, f"section {line[3:].strip()!r} has no clause ID "
                                                       "(write it as '## SR-4.1 Title'); not indexed"))
        elif heading is not None:
            body.append(line)
    close()
    return clauses


def parse_article(path: Path, problems: list[Problem], base: Path | None = None) -> _Document | None:
    """A knowledge-base article: its file name (without .md) is its ID, its `# ` line its title."""
    shown = _shown(path, base or path.parent)
    lines = _read(path, problems, shown)
    if lines is None:
        return None
    for number, line in enumerate(lines):
        if line.startswith("# "):
            title = line[2:].strip().rstrip("#").strip()
            text = _plain(lines[number + 1:])
            if not title:
                break
            if not text:
                problems.append(Problem(shown, number + 1, "the article has a title but no text"))
                return None
            return _Document(path.stem, title, text, shown)
        if line.strip():
            break  # text before the title: the file does not start with one
    problems.append(Problem(shown, 1, "a knowledge-base article must start with a '# Title' line"))
    return None


# --- words as the index sees them -----------------------------------------------------------------

def _split(token: str) -> list[str]:
    # "didn't" -> "didn", "t": the index tokenizer splits at the apostrophe too.
    return [part for part in token.split("'") if part]


def _normal_forms(con: duckdb.DuckDBPyConnection, words: Iterable[str],
                  vocabulary: Iterable[str] = ()) -> dict[str, str]:
    """Each word -> the text the index should see ('' for a stopword).

    Russian: lemma (pymorphy, as the AutoQA rules use) then the Snowball Russian stem of the lemma,
    which also joins forms pymorphy keeps apart ("лимит" and "лимиты" become one term). English and
    Kazakh: the word as it is; the index applies the Snowball English stemmer to documents and
    queries alike. A word that cannot be right as written (a typo or a speech-recognition slip:
    "терминлах", "nmber") is first corrected to the closest word of `vocabulary` (the documents'
    own words) when one is close enough.
    """
    words = list(dict.fromkeys(words))
    corrected = _spelling_corrections(words, vocabulary)
    morph = _morph()
    pieces: dict[str, list[tuple[bool, str]]] = {}  # word -> [(is_russian_lemma, text)]
    for word in words:
        kept: list[tuple[bool, str]] = []
        for part in _split(word):
            part = corrected.get(part, part)
            if part.isdigit() or len(part) < 2:
                continue
            if _CYRILLIC.search(part) and not _KAZAKH.search(part):
                # pymorphy's guess for a word it does not know (a name, a slip) is slow and no better
                # than the stemmer's, so only known words are lemmatised
                base = lemma(part) if morph.word_is_known(part) else part
                if base not in _STOPWORDS_RU and part not in _STOPWORDS_RU:
                    kept.append((True, base))
            elif part not in _STOPWORDS_EN:
                kept.append((False, part))
        pieces[word] = kept
    lemmas = sorted({text for kept in pieces.values() for is_lemma, text in kept if is_lemma})
    stems = dict(con.execute("SELECT l, stem(l, 'russian') FROM (SELECT unnest(?::VARCHAR[]) AS l)",
                             [lemmas]).fetchall()) if lemmas else {}
    return {word: " ".join(stems[text] if is_lemma else text for is_lemma, text in kept)
            for word, kept in pieces.items()}


def _spelling_corrections(words: list[str], vocabulary: Iterable[str]) -> dict[str, str]:
    """Misspelt words -> the vocabulary word they most resemble (rapidfuzz ratio >= the cutoff).

    Only words that cannot be right as they are: Russian words pymorphy does not know, English
    words the documents do not use. Short words are left alone: one letter changes them too much.
    """
    known = set(vocabulary)
    if not known:
        return {}
    morph = _morph()
    russian = [w for w in known if _CYRILLIC.search(w) and not _KAZAKH.search(w)]
    english = [w for w in known if _LATIN.search(w) and not _CYRILLIC.search(w)]
    candidates: dict[bool, list[str]] = {True: [], False: []}
    for word in words:
        for part in _split(word):
            if len(part) < _MIN_CORRECTED_LENGTH or part in known or part.isdigit():
                continue
            if _CYRILLIC.search(part) and not _KAZAKH.search(part):
                if not morph.word_is_known(part):
                    candidates[True].append(part)
            elif _LATIN.search(part) and part not in _STOPWORDS_EN:
                candidates[False].append(part)
    corrections: dict[str, str] = {}
    for is_russian, unknown in candidates.items():
        choices = russian if is_russian else english
        if not unknown or not choices:
            continue
        unknown = list(dict.fromkeys(unknown))
        for start in range(0, len(unknown), 4096):  # bounded memory: a 4096 x vocabulary score matrix
            chunk = unknown[start:start + 4096]
            scores = process.cdist(chunk, choices, scorer=fuzz.ratio, score_cutoff=_CORRECTION_CUTOFF,
                                   dtype="uint8", workers=-1)
            best = scores.argmax(axis=1)
            for row, word in enumerate(chunk):
                if scores[row, best[row]]:
                    corrections[word] = choices[best[row]]
    return corrections


def normalise(con: duckdb.DuckDBPyConnection, text: str, vocabulary: Iterable[str] = ()) -> str:
    """Text as the index stores it (before the index's own English stemming)."""
    words = tokens(text or "")
    forms = _normal_forms(con, words, vocabulary)
    return " ".join(f for f in (forms[w] for w in words) if f)


def document_words(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Every word the indexed documents use, as written: what misspelt query words are corrected to."""
    return {part for title, text in con.execute(f"SELECT title, text FROM {table}").fetchall()
            for word in tokens(f"{title}\n{text}") for part in _split(word)}


# --- indexing -------------------------------------------------------------------------------------

def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def index_documents(con: duckdb.DuckDBPyConnection, regulations_dir: Path, kb_dir: Path) -> IndexSummary:
    """Read every regulation and knowledge-base Markdown file, replace the tables, rebuild both indexes.

    A file or section that cannot be indexed is skipped and reported in `IndexSummary.problems`
    (file, line, why); the others are indexed. Missing folders index nothing.
    """
    started = time.perf_counter()
    summary = IndexSummary()
    ensure_tables(con)
    load_fts(con)

    clauses: list[_Document] = []
    seen_clauses: dict[str, str] = {}
    regulations_dir, kb_dir = Path(regulations_dir), Path(kb_dir)
    for path in _markdown_files(regulations_dir, "regulations", summary):
        summary.regulation_files += 1
        for clause in parse_regulations(path, summary.problems, regulations_dir):
            if clause.doc_id in seen_clauses:
                summary.problems.append(Problem(clause.source_file, None,
                                                f"clause {clause.doc_id} is already defined in "
                                                f"{seen_clauses[clause.doc_id]}; this copy is not indexed"))
                continue
            seen_clauses[clause.doc_id] = clause.source_file
            clauses.append(clause)

    articles: list[_Document] = []
    seen_articles: dict[str, str] = {}
    for path in _markdown_files(kb_dir, "knowledge base", summary):
        summary.kb_files += 1
        article = parse_article(path, summary.problems, kb_dir)
        if article is None:
            continue
        if article.doc_id in seen_articles:
            summary.problems.append(Problem(article.source_file, None,
                                            f"article ID {article.doc_id!r} is already used by "
                                            f"{seen_articles[article.doc_id]}; rename one of the files"))
            continue
        seen_articles[article.doc_id] = article.source_file
        articles.append(article)

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        _replace(con, "autoqa.regulation_clauses", "clause_id", clauses, now)
        _replace(con, "autoqa.kb_articles", "article_id", articles, now)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    for table, key in (("autoqa.regulation_clauses", "clause_id"), ("autoqa.kb_articles", "article_id")):
        con.execute(f"PRAGMA create_fts_index('{table}', '{key}', 'search_text', stemmer = 'english', "
                    f"stopwords = 'none', ignore = '{_INDEX_IGNORE}', strip_accents = 1, lower = 1, "
                    "overwrite = 1)")
    summary.clauses, summary.articles = len(clauses), len(articles)
    summary.seconds = time.perf_counter() - started
    return summary


def regulation_clauses(regulations_dir: Path) -> tuple[list[str], list[str]]:
    """The clause IDs the regulations define, read exactly as `index_documents` reads them (in file order),
    and the problems that kept a section or file out (a clause without text, a missing folder)."""
    summary = IndexSummary()
    regulations_dir = Path(regulations_dir)
    clauses: list[str] = []
    for path in _markdown_files(regulations_dir, "regulations", summary):
        clauses += [c.doc_id for c in parse_regulations(path, summary.problems, regulations_dir)
                    if c.doc_id not in clauses]
    return clauses, [str(p) for p in summary.problems]


def _markdown_files(folder: Path, what: str, summary: IndexSummary) -> list[Path]:
    if not folder.is_dir():
        summary.problems.append(Problem(str(folder), None, f"the {what} folder does not exist; nothing indexed from it"))
        return []
    return sorted(p for p in folder.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def _replace(con: duckdb.DuckDBPyConnection, table: str, key: str, docs: list[_Document], now: datetime) -> None:
    forms = _normal_forms(con, {w for d in docs for w in tokens(f"{d.title}\n{d.text}")})
    rows = [(d.doc_id, d.title, d.text, d.source_file,
             " ".join(f for f in (forms[w] for w in tokens(f"{d.title}\n{d.text}")) if f), now) for d in docs]
    con.execute(f"DELETE FROM {table}")
    if rows:
        con.executemany(f"INSERT INTO {table} ({key}, title, text, source_file, search_text, indexed_at) "
                        "VALUES (?, ?, ?, ?, ?, ?)", rows)


# --- searching ------------------------------------------------------------------------------------

def _index_exists(con: duckdb.DuckDBPyConnection, index_schema: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?",
                            [index_schema]).fetchone()[0])


def search(con: duckdb.DuckDBPyConnection, query: str, *, kind: str = "kb", limit: int = TOP_ARTICLES) -> list[SearchHit]:
    """The best-matching knowledge-base articles (kind='kb') or regulation clauses (kind='regulations')."""
    if kind == "kb":
        table, key, index = "autoqa.kb_articles", "article_id", KB_INDEX
    elif kind == "regulations":
        table, key, index = "autoqa.regulation_clauses", "clause_id", REGULATION_INDEX
    else:
        raise ValueError(f"kind must be 'kb' or 'regulations', not {kind!r}")
    load_fts(con)
    if not _index_exists(con, index):
        raise KnowledgeError(f"{table} has no full-text index yet: run index_documents first")
    terms = normalise(con, query, document_words(con, table))
    if not terms:
        return []
    found = con.execute(f"""
        SELECT {key}, title, score FROM (
            SELECT {key}, title, {index}.match_bm25({key}, ?) AS score FROM {table}
        ) WHERE score IS NOT NULL ORDER BY score DESC, {key} LIMIT ?""", [terms, int(limit)]).fetchall()
    return [SearchHit(doc_id, title, float(score)) for doc_id, title, score in found]


def match_contacts(con: duckdb.DuckDBPyConnection, scorecard_version: str, *,
                   batch_size: int = MATCH_BATCH) -> int:
    """For every contact, up to TOP_ARTICLES articles that answer its customer; for every failed
    finding of a contact's current check, the article about it (`autoqa.finding_knowledge`).

    The query is what the customer said plus the words of the contact's topic code
    ("card_blocked" -> card, blocked). Scores are the index's BM25 — with every query word at
    weight 1 exactly what `match_bm25` gives — but each word weighs what it tells: the customer's
    first QUESTION_TURNS turns 1, later turns LATER_TURN_WEIGHT, the topic's words TOPIC_WEIGHT.
    An article is kept only when its BM25 plus the title bonus reaches CONTACT_MIN_RELEVANCE, so
    a contact about nothing the knowledge base covers gets none. A whole batch of contacts is
    scored in one statement. The previous matches are replaced (one transaction: readers never
    see half a run); `scorecard_version` is stored with each row as the AutoQA run's label.
    Returns the number of rows written to `autoqa.contact_knowledge`.

    A failed finding of an agent's conduct (a criterion of any rule type but QUESTION_RULES) cites
    the article whose title carries the finding's names (criterion, error and clause titles) worth
    FINDING_MIN_TITLE_MATCH, or that cites the finding's clause; of those, the best by BM25 over the
    finding's names, its detail and (at CLAUSE_WEIGHT) the clause text, plus the title bonus
    (`matched_on` = 'criterion'). A finding about the answer to the customer's question cites the
    contact's first article (`matched_on` = 'question'). No row when nothing qualifies.
    """
    ensure_tables(con)
    load_fts(con)
    if not _index_exists(con, KB_INDEX):
        raise KnowledgeError("autoqa.kb_articles has no full-text index yet: run index_documents first")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    written = 0
    # DuckDB draws a progress bar on the terminal for long statements; the caller reports progress
    progress_bar = con.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]
    con.execute("SET enable_progress_bar = false")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM autoqa.contact_knowledge")
        con.execute("DELETE FROM autoqa.finding_knowledge")
        if con.execute("SELECT count(*) FROM autoqa.kb_articles").fetchone()[0]:
            vocabulary = document_words(con, "autoqa.kb_articles")
            _prepare_term_scores(con)
            _prepare_titles(con, vocabulary)
            con.execute("CREATE OR REPLACE TEMP TABLE _kb_vocab (token VARCHAR, termid BIGINT)")
            con.execute("""CREATE OR REPLACE TEMP TABLE _kb_contacts AS
                SELECT contact_id, topic, row_number() OVER (ORDER BY contact_id) AS n
                FROM raw.contacts""")
            total = con.execute("SELECT count(*) FROM _kb_contacts").fetchone()[0]
            for start in range(0, total, batch_size):
                written += _match_batch(con, start + 1, start + batch_size, vocabulary, scorecard_version, now)
            _match_findings(con, vocabulary, now)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    finally:
        for temp in ("_kb_vocab", "_kb_contacts", "_kb_tokens", "_kb_term_scores", "_kb_title_terms",
                     "_kb_findings", "_kb_criterion_terms", "_kb_eligible", "_kb_details", "_kb_detail_tokens",
                     "_kb_citing"):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
        con.execute(f"SET enable_progress_bar = {'true' if progress_bar else 'false'}")
    return written


# The words of a text, as language.tokens() finds them, in SQL.
_SQL_TOKENS = "unnest(regexp_extract_all(replace(lower({text}), 'ё', 'е'), '[0-9a-zа-яёәғқңөұүһі'']+'))"


def _prepare_term_scores(con: duckdb.DuckDBPyConnection) -> None:
    """Each index term's BM25 contribution to each article (match_bm25's formula, k1 and b).

    It depends on the term and the article only, so a query's score is a weighted sum of these.
    """
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_term_scores AS
        WITH term_tf AS (
            SELECT termid, docid, count(*) AS tf FROM {KB_INDEX}.terms GROUP BY termid, docid
        )
        SELECT term_tf.termid, docs.name AS article_id,
               log(((stats.num_docs - dict.df + 0.5) / (dict.df + 0.5)) + 1)
                 * (term_tf.tf * ({BM25_K1} + 1))
                 / (term_tf.tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * docs.len / stats.avgdl)) AS subscore
        FROM term_tf
        JOIN {KB_INDEX}.dict dict ON dict.termid = term_tf.termid
        JOIN {KB_INDEX}.docs docs ON docs.docid = term_tf.docid
        CROSS JOIN {KB_INDEX}.stats stats""")


def _index_terms(forms: str) -> str:
    """SQL over the relation `forms` (key, form): each key's index terms (the index's own tokenizer
    and stemmer finish what `_normal_forms` began, so terms match the index's exactly)."""
    return f"""
        SELECT DISTINCT f.key, dict.termid
        FROM (SELECT key, stem(unnest({KB_INDEX}.tokenize(form)), 'english') AS term FROM {forms}) f
        JOIN {KB_INDEX}.dict dict ON dict.term = f.term"""


def _prepare_titles(con: duckdb.DuckDBPyConnection, vocabulary: set[str]) -> None:
    """Each article's title terms with their bonus: the most a word can add in BM25, (k1 + 1) x IDF."""
    titles = con.execute("SELECT article_id, title FROM autoqa.kb_articles").fetchall()
    con.register("_kb_title_forms", pd.DataFrame(
        {"key": [a for a, _ in titles], "form": [normalise(con, t, vocabulary) for _, t in titles]}))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_title_terms AS
        SELECT t.key AS article_id, t.termid,
               ({BM25_K1} + 1) * log(((stats.num_docs - dict.df + 0.5) / (dict.df + 0.5)) + 1) AS bonus
        FROM ({_index_terms('_kb_title_forms')}) t
        JOIN {KB_INDEX}.dict dict USING (termid)
        CROSS JOIN {KB_INDEX}.stats stats""")
    con.unregister("_kb_title_forms")


def _learn_words(con: duckdb.DuckDBPyConnection, tokens_table: str, vocabulary: set[str]) -> None:
    """The words of `tokens_table` (a `token` column) no earlier step has seen -> the index terms they
    stand for, in `_kb_vocab` (Python lemmatises each distinct word once). A word with no term in
    the index is remembered with a NULL term."""
    new_words = [w for (w,) in con.execute(
        f"SELECT DISTINCT token FROM {tokens_table} WHERE token NOT IN (SELECT token FROM _kb_vocab)").fetchall()]
    if not new_words:
        return
    forms = _normal_forms(con, new_words, vocabulary)
    con.register("_kb_new_forms", pd.DataFrame({"key": list(forms), "form": list(forms.values())}))
    con.execute(f"""INSERT INTO _kb_vocab
        SELECT f.key, t.termid FROM _kb_new_forms f LEFT JOIN ({_index_terms('_kb_new_forms')}) t USING (key)""")
    con.unregister("_kb_new_forms")


def _match_batch(con: duckdb.DuckDBPyConnection, first: int, last: int, vocabulary: set[str],
                 scorecard_version: str, now: datetime) -> int:
    # 1. each contact's distinct words with a weight: the customer's first turns state the question;
    #    later turns mostly answer the agent's checks (identity, "any calls from strangers?").
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_tokens AS
        SELECT contact_id, token, max(weight) AS weight FROM (
            SELECT contact_id, {_SQL_TOKENS.format(text='text')} AS token,
                   CASE WHEN turn <= {QUESTION_TURNS} THEN 1.0 ELSE {LATER_TURN_WEIGHT} END AS weight
            FROM (
                SELECT u.contact_id, u.text,
                       row_number() OVER (PARTITION BY u.contact_id ORDER BY u.seq) AS turn
                FROM raw.utterances u JOIN _kb_contacts c USING (contact_id)
                WHERE c.n BETWEEN ? AND ? AND u.speaker = 'customer' AND u.text IS NOT NULL
            )
            UNION ALL
            SELECT contact_id, {_SQL_TOKENS.format(text='topic')}, {TOPIC_WEIGHT}
            FROM _kb_contacts WHERE n BETWEEN ? AND ? AND topic IS NOT NULL
        ) GROUP BY contact_id, token""", [first, last, first, last])
    # 2. the words no earlier batch has seen -> their index terms
    _learn_words(con, "_kb_tokens", vocabulary)
    # 3. BM25 for every contact of the batch at once; kept above the relevance floor
    return con.execute(f"""
        INSERT INTO autoqa.contact_knowledge
        WITH query_terms AS (
            SELECT t.contact_id, v.termid, max(t.weight) AS weight
            FROM _kb_tokens t JOIN _kb_vocab v USING (token)
            WHERE v.termid IS NOT NULL
            GROUP BY t.contact_id, v.termid
        ),
        scored AS (
            SELECT q.contact_id, s.article_id, sum(q.weight * s.subscore) AS score
            FROM query_terms q JOIN _kb_term_scores s USING (termid)
            GROUP BY q.contact_id, s.article_id
        ),
        titled AS (
            SELECT q.contact_id, t.article_id, sum(q.weight * t.bonus) AS bonus
            FROM query_terms q JOIN _kb_title_terms t USING (termid)
            GROUP BY q.contact_id, t.article_id
        ),
        ranked AS (
            SELECT contact_id, article_id, score,
                   row_number() OVER (PARTITION BY contact_id ORDER BY score DESC, article_id) AS rank
            FROM scored LEFT JOIN titled USING (contact_id, article_id)
            WHERE score + coalesce(bonus, 0) >= {CONTACT_MIN_RELEVANCE}
        )
        SELECT r.contact_id, r.rank::INTEGER, r.article_id, a.title, r.score, ?, ?
        FROM ranked r JOIN autoqa.kb_articles a USING (article_id)
        WHERE r.rank <= {TOP_ARTICLES}""", [scorecard_version, now]).fetchone()[0]


# --- the article a finding cites --------------------------------------------------------------------

def _tables_exist(con: duckdb.DuckDBPyConnection, *tables: str) -> bool:
    found = {f"{schema}.{name}" for schema, name in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
    return all(table in found for table in tables)


def _cited_clauses(text: str, clause_ids: Iterable[str]) -> list[str]:
    """The clause IDs an article's text names ("Related clause: SR-4.2"), not a longer one (SR-4.21)."""
    return [c for c in clause_ids if re.search(rf"(?<![\w.\-]){re.escape(c)}(?![\w\-]|\.\d)", text)]


def _match_findings(con: duckdb.DuckDBPyConnection, vocabulary: set[str], now: datetime) -> None:
    if not _tables_exist(con, "autoqa.findings", "autoqa.contact_checks", "autoqa.scorecard_criteria"):
        return  # AutoQA has not run on this warehouse: no findings to cite anything
    # 1. the failed findings of each contact's current check (its latest row in contact_checks), one
    #    per criterion (several failed rules give one finding, their details joined)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_findings AS
        WITH current_checks AS (
            SELECT contact_id, run_id, scorecard_version FROM (
                SELECT contact_id, run_id, scorecard_version,
                       row_number() OVER (PARTITION BY contact_id ORDER BY checked_at DESC, run_id DESC) AS n
                FROM autoqa.contact_checks)
            WHERE n = 1
        )
        SELECT f.contact_id, f.criterion_id, f.scorecard_version, f.run_id,
               bool_or(f.rule_type IN ({', '.join(f"'{r}'" for r in sorted(QUESTION_RULES))})) AS about_question,
               -- digits say nothing about the subject: details that differ only in them are one detail
               regexp_replace(string_agg(coalesce(f.evidence_detail, ''), ' ' ORDER BY f.rule_id), '[0-9]+', ' ', 'g')
                 AS detail
        FROM autoqa.findings f JOIN current_checks c USING (contact_id, run_id, scorecard_version)
        WHERE f.result = 'fail'
        GROUP BY f.contact_id, f.criterion_id, f.scorecard_version, f.run_id""")
    # 2. a question's finding: the contact's first article
    con.execute("""INSERT INTO autoqa.finding_knowledge
        SELECT f.contact_id, f.criterion_id, k.article_id, k.title, k.score, 'question', f.scorecard_version,
               f.run_id, ?
        FROM _kb_findings f JOIN autoqa.contact_knowledge k ON k.contact_id = f.contact_id AND k.rank = 1
        WHERE f.about_question""", [now])
    # 3. a conduct finding: each criterion's words, and the articles it may cite
    criteria = con.execute("""
        SELECT DISTINCT f.scorecard_version, f.criterion_id,
               concat_ws(chr(10), sc.title_en, sc.title_ru, e.title_en, e.title_ru, r.title) AS names,
               r.clause_id, r.text AS clause_text
        FROM _kb_findings f
        JOIN autoqa.scorecard_criteria sc USING (scorecard_version, criterion_id)
        LEFT JOIN autoqa.error_catalogue e ON e.error_code = sc.error_code
        LEFT JOIN autoqa.regulation_clauses r ON r.clause_id = sc.regulation_ref
        WHERE NOT f.about_question""").fetchall()
    if not criteria:
        return
    articles = con.execute("SELECT article_id, text FROM autoqa.kb_articles").fetchall()
    clause_ids = {clause_id for *_, clause_id, _ in criteria if clause_id}
    citing = {(clause_id, article_id) for article_id, text in articles for clause_id in _cited_clauses(text, clause_ids)}
    keys, forms, weights, names = [], [], [], []
    for version, criterion_id, name_text, clause_id, clause_text in criteria:
        for text, weight, is_name in ((name_text, 1.0, True), (clause_text, CLAUSE_WEIGHT, False)):
            if text:
                keys.append(f"{version}\x1f{criterion_id}\x1f{len(keys)}")
                forms.append(normalise(con, text, vocabulary))
                weights.append(weight)
                names.append(is_name)
    con.register("_kb_criterion_forms", pd.DataFrame({"key": keys, "form": forms}))
    con.register("_kb_criterion_parts", pd.DataFrame({"key": keys, "weight": weights, "is_name": names}))
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_criterion_terms AS
        SELECT split_part(t.key, chr(31), 1) AS scorecard_version, split_part(t.key, chr(31), 2) AS criterion_id,
               t.termid, max(p.weight) AS weight, bool_or(p.is_name) AS is_name
        FROM ({_index_terms('_kb_criterion_forms')}) t JOIN _kb_criterion_parts p USING (key)
        GROUP BY ALL""")
    con.unregister("_kb_criterion_forms")
    con.unregister("_kb_criterion_parts")
    con.execute("CREATE OR REPLACE TEMP TABLE _kb_citing (scorecard_version VARCHAR, criterion_id VARCHAR, "
                "article_id VARCHAR)")
    cites = [(version, criterion_id, article_id) for version, criterion_id, _, clause_id, _ in criteria
             for cited, article_id in citing if cited == clause_id]
    if cites:
        con.executemany("INSERT INTO _kb_citing VALUES (?, ?, ?)", cites)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_eligible AS
        WITH named AS (
            SELECT c.scorecard_version, c.criterion_id, t.article_id, sum(c.weight * t.bonus) AS bonus
            FROM _kb_criterion_terms c JOIN _kb_title_terms t USING (termid)
            WHERE c.is_name
            GROUP BY ALL
        ),
        candidates AS (
            SELECT scorecard_version, criterion_id, article_id FROM named WHERE bonus >= {FINDING_MIN_TITLE_MATCH}
            UNION
            SELECT scorecard_version, criterion_id, article_id FROM _kb_citing
        ),
        base AS (  -- the criterion's own words, by BM25 (the title bonus of its names is added below)
            SELECT c.scorecard_version, c.criterion_id, s.article_id, sum(c.weight * s.subscore) AS score
            FROM _kb_criterion_terms c JOIN _kb_term_scores s USING (termid)
            GROUP BY ALL
        )
        SELECT k.scorecard_version, k.criterion_id, k.article_id,
               coalesce(b.score, 0) + coalesce(n.bonus, 0) AS score
        FROM candidates k
        LEFT JOIN base b USING (scorecard_version, criterion_id, article_id)
        LEFT JOIN named n USING (scorecard_version, criterion_id, article_id)""")
    # 4. the detail's words pick among the candidates (each distinct detail once); a word already
    #    weighed as the criterion's adds only what it weighs beyond that
    con.execute("""CREATE OR REPLACE TEMP TABLE _kb_details AS
        SELECT DISTINCT scorecard_version, criterion_id, detail FROM _kb_findings f
        WHERE NOT about_question AND EXISTS (
            SELECT 1 FROM _kb_eligible e WHERE e.scorecard_version = f.scorecard_version
              AND e.criterion_id = f.criterion_id)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _kb_detail_tokens AS
        SELECT DISTINCT scorecard_version, criterion_id, detail, {_SQL_TOKENS.format(text='detail')} AS token
        FROM _kb_details""")
    _learn_words(con, "_kb_detail_tokens", vocabulary)
    con.execute(f"""INSERT INTO autoqa.finding_knowledge
        WITH detail_terms AS (
            SELECT DISTINCT d.scorecard_version, d.criterion_id, d.detail, v.termid
            FROM _kb_detail_tokens d JOIN _kb_vocab v USING (token)
            WHERE v.termid IS NOT NULL
        ),
        detail_scores AS (
            SELECT d.scorecard_version, d.criterion_id, d.detail, s.article_id,
                   sum((1 - coalesce(c.weight, 0)) * s.subscore) AS score
            FROM detail_terms d
            JOIN _kb_term_scores s USING (termid)
            LEFT JOIN _kb_criterion_terms c USING (scorecard_version, criterion_id, termid)
            GROUP BY ALL
        ),
        ranked AS (
            SELECT d.scorecard_version, d.criterion_id, d.detail, e.article_id,
                   e.score + coalesce(x.score, 0) AS score,
                   row_number() OVER (PARTITION BY d.scorecard_version, d.criterion_id, d.detail
                                      ORDER BY e.score + coalesce(x.score, 0) DESC, e.article_id) AS rank
            FROM _kb_details d
            JOIN _kb_eligible e USING (scorecard_version, criterion_id)
            LEFT JOIN detail_scores x USING (scorecard_version, criterion_id, detail, article_id)
        )
        SELECT f.contact_id, f.criterion_id, r.article_id, a.title, r.score, 'criterion', f.scorecard_version,
               f.run_id, ?
        FROM _kb_findings f
        JOIN ranked r USING (scorecard_version, criterion_id, detail)
        JOIN autoqa.kb_articles a USING (article_id)
        WHERE NOT f.about_question AND r.rank = 1""", [now])
