"""One function per rule type: a contact in, an outcome with its evidence out.

Outcomes: pass, fail, na (the criterion does not apply), unverifiable (the data needed is
missing — never counted as a pass) and manual (only a human can judge it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from contactqa.autoqa.language import PhraseMatcher, Utterance, _morph, compile_phrase, lemma, tokens
from contactqa.autoqa.sensitive import card_numbers_shown, disclosures, find_passwords
from contactqa.config import (
    AGENT_NAME_SLOT, ActionOrderRule, CallingHoursRule, ContactFrequencyRule, Criterion, ForbiddenPhraseRule,
    InterruptionsRule, ManualRule, RecordingNoticeRule, RequiredActionsRule, RequiredInformationRule,
    RequiredPhraseRule, ResolutionRule, ResponseTimeRule, SensitiveDataRule, SilenceRule,
)
from contactqa.privacy import masked_excerpt, stale_card_masks


@dataclass
class Contact:
    contact_id: str
    channel: str
    agent_id: str | None
    agent_names: tuple[str, ...]
    topic: str | None
    disposition: str | None
    utterances: list[Utterance] = field(default_factory=list)
    actions: list[tuple[datetime, str]] = field(default_factory=list)
    has_action_log: bool = False
    direction: str | None = None
    queue: str | None = None
    started_at: datetime | None = None  # UTC
    ended_at: datetime | None = None  # UTC
    hold_s: float | None = None
    # From the recording (voice activity detection) or Contact Lens, when there is one.
    metrics: dict | None = None
    # Across contacts (computed in SQL for the whole warehouse): outbound calls to this customer
    # on the same local day / in the 7 days up to this one, and the customer's next contact on
    # the same topic.
    outbound_same_day: int | None = None
    outbound_same_week: int | None = None
    has_customer: bool = False
    next_same_topic_contact_id: str | None = None
    next_same_topic_after_s: float | None = None
    source_system: str | None = None  # the connector that landed it: asterisk, telegram, chat_jsonl, ...

    @property
    def agent_turns(self) -> list[Utterance]:
        return [u for u in self.utterances if u.speaker == "agent"]

    @property
    def scope_queue(self) -> str | None:
        """The queue a criterion's `queues` and `exclude_queues` see: the export's, else the source type
        (a Telegram export names no queue: its chats are in queue `telegram`)."""
        return self.queue or self.source_system


@dataclass
class Outcome:
    result: str
    quote: str | None = None
    speaker: str | None = None
    offset_ms: int | None = None
    detail: str | None = None


def _clock(ms: int) -> str:
    seconds = ms // 1000
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def _quote(u: Utterance, limit: int = 300) -> str:
    """The turn as evidence: masked first, then cut, so a number across the cut is not left half-shown."""
    return masked_excerpt(u.text, limit)


_matchers: dict[tuple, PhraseMatcher] = {}
_phrase_keys: dict[int, tuple[dict, tuple]] = {}  # id of a rule's phrase sets -> (the sets, kept alive; their key)


def _phrases_key(sets: dict[str, list[str]]) -> tuple:
    known = _phrase_keys.get(id(sets))
    if known is None or known[0] is not sets:
        known = _phrase_keys[id(sets)] = (sets, tuple((language, tuple(texts)) for language, texts in sets.items()))
    return known[1]


def _phrase_matcher(sets: dict[str, list[str]], threshold: int, names: tuple[str, ...] = ()) -> PhraseMatcher:
    """The phrases of every language (agents switch languages mid-contact), each phrase that names the
    agent once per name given (none: such phrases drop out); cached."""
    key = (_phrases_key(sets), threshold, names)
    if key not in _matchers:
        texts: list[str] = []
        for phrases in sets.values():
            for text in phrases:
                if text.strip() == AGENT_NAME_SLOT:
                    continue  # the bare name is not a phrase: see _bare_name
                if AGENT_NAME_SLOT in text:
                    texts.extend(text.replace(AGENT_NAME_SLOT, name) for name in names)
                else:
                    texts.append(text)
        _matchers[key] = PhraseMatcher([compile_phrase(t) for t in dict.fromkeys(texts)], threshold)
    return _matchers[key]


def _matcher(sets: dict[str, list[str]], threshold: int, contact: Contact) -> PhraseMatcher:
    """A rule's phrases with the agent's names (every spelling the directory gives) filled in."""
    templated = any(AGENT_NAME_SLOT in text for texts in sets.values() for text in texts)
    return _phrase_matcher(sets, threshold, contact.agent_names if templated else ())


_UNANSWERED = ("no_answer", "busy", "failed", "congestion")


def _no_transcript(contact: Contact) -> Outcome | None:
    if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if not contact.utterances:
        return Outcome("unverifiable", detail="no transcript or messages for this contact")
    return None


def _no_agent_turn(contact: Contact) -> Outcome | None:
    """A conversation the agent never spoke or wrote in is not scored, as the marts do not score it
    (contact_status no_agent_turn, or abandoned when the customer left before an agent replied)."""
    if not contact.utterances or contact.agent_turns:
        return None
    speakers = ", ".join(sorted({u.speaker for u in contact.utterances}))
    if contact.disposition == "abandoned":
        return Outcome("na", detail=f"not scored: abandoned before an agent replied (only {speakers} turns)")
    return Outcome("na", detail=f"not scored: the agent never spoke or wrote in this contact "
                                f"(no agent turn; only {speakers} turns)")


def _window(rule: RequiredPhraseRule, turns: list[Utterance]) -> tuple[list[Utterance], str]:
    """The turns a phrase counts in, and how to say where that is."""
    if rule.within_first_turns:
        return turns[: rule.within_first_turns], f"in the first {rule.within_first_turns} agent turns"
    skip = rule.not_within_first_turns or 0
    later = turns[skip:]
    if rule.within_last_turns:
        after = f" after the first {skip}" if skip else ""
        return later[-rule.within_last_turns:], f"in the last {rule.within_last_turns} agent turns{after}"
    return later, f"after the first {skip} agent turns" if skip else "anywhere"


def required_phrase(rule: RequiredPhraseRule, contact: Contact) -> Outcome:
    if contact.disposition in rule.skip_if_disposition:
        return Outcome("na", detail=f"not required when the contact is {contact.disposition}")
    missing = _no_transcript(contact) or (_no_agent_turn(contact) if rule.speaker == "agent" else None)
    if missing:
        return missing
    turns = contact.agent_turns if rule.speaker == "agent" else list(contact.utterances)
    window, where = _window(rule, turns)
    if not window:
        return Outcome("na", detail=f"all {len(turns)} agent turns are within the first {rule.not_within_first_turns} "
                                    f"(the opening), so there is no later turn to check")
    if rule.names_the_agent():
        return _introduction(rule, contact, window, where)
    hit = _matcher(rule.phrases, rule.fuzzy_threshold, contact).first_match(window)
    if hit:
        u, phrase = hit
        return Outcome("pass", _quote(u), u.speaker, u.offset_ms, f"matched “{phrase.text}” {where}")
    return _none_said(rule, window, where)


def _none_said(rule: RequiredPhraseRule, window: list[Utterance], where: str, why: str = "") -> Outcome:
    # Evidence: the turn a QA lead would look at for it — the opening's first, the closing's last.
    late = not rule.within_first_turns and (rule.within_last_turns or rule.not_within_first_turns)
    shown = window[-1] if late else window[0]
    return Outcome("fail", _quote(shown), shown.speaker, shown.offset_ms, f"none of the required phrases {where}{why}")


# --- the agent's name -----------------------------------------------------------------------------

# Names that are also ordinary words of English, Russian or Kazakh. Said on their own they tell nothing
# about who speaks ("may I have your name?", "I will check", "бақыт"), so they never count bare, and in
# an introduction only as the word itself, capitalised where the text has capitals. Russian names the
# dictionary knows mostly as words (Вера, Слава, Роман; Дана, read as «дана» from дать) need no listing:
# see is_common_word_name. English and Kazakh have no dictionary here, so this list is theirs.
COMMON_WORD_NAMES: frozenset[str] = frozenset("""
    may will grace hope mark bill rose faith grant joy dawn june april august summer autumn winter hunter
    chase chance crystal amber ruby pearl jade iris ivy holly daisy lily heather violet olive hazel ginger
    honey candy cherry penny patience prudence charity harmony melody destiny trinity angel precious sky
    river rain storm sunny misty dusty rusty sandy art rob bob sue pat frank ray jack jean kit guy drew
    cliff dale glen heath lane wade miles max rich skip earl duke king prince major page sage gene don
    nick bud brook forest robin eve justice earnest noble star
    smith brown green white black grey gray young hill wood cook baker walker carter cooper hall fox
    bird bell stone price banks law love moon cash
    вера надежда любовь роза лев слава мир лилия мая майя лада злата дана рада мила ада эра мира лиана
    ирис лука том весна заря
    бақыт бахыт бакыт жан ай нұр нур күн кун гүл гуль гул алтын ару жұлдыз жулдыз сәуле сауле самал
    шолпан мейір мейир әсем асем бота ақ береке бейбіт бейбит жанар мөлдір молдир ләззат ляззат сабыр
    қуаныш куаныш
""".split())
# Words a directory puts in a shared account's name ("KenBank Support"): never a person's name.
NOT_PERSONAL_NAMES: frozenset[str] = frozenset("""
    support service team operator agent admin bot helpdesk desk manager contact center centre info
    оператор поддержка служба сервис команда менеджер специалист консультант администратор бот инфо
    кеңесші қолдау
""".split())

# A word right before a name that makes it a company's ("from KenBank", "банк Аврора"), and right
# after one ("Ally Bank", "Халык банк"), with nothing but spaces between.
_COMPANY_BEFORE = frozenset({"from", "at", "bank", "банк", "банка", "банке", "банком", "банкі", "из",
                             "компания", "компании", "company", "ао", "тоо", "jsc", "llp"})
_COMPANY_AFTER = frozenset({"bank", "банк", "банкі"})
# Around a name that is someone else's: a colleague's ("мой коллега Дмитрий"), the customer's when the
# agent addresses them ("Айгерим, вы указали…", "Айгерім ханым", "Анна Сергеевна"), a product's
# («Дәулет» депозиті).
_OTHER_BEFORE = frozenset({"коллега", "коллеги", "colleague", "әріптесім", "әріптесіміз", "mr", "mrs", "ms", "miss",
                           "dear", "господин", "госпожа", "уважаемый", "уважаемая", "құрметті"})
# (a pronoun of address, not "ваш"/"your": "я Тимур, ваш менеджер" is an introduction)
_ADDRESSED_AFTER = frozenset({"вы", "вам", "ты", "тебе", "you", "сіз", "сізге", "ханым", "мырза", "апай", "әпке"})
_PATRONYMIC = ("овна", "евна", "ична", "ович", "евич", "қызы", "ұлы", "кызы", "улы")
_QUOTES_OPEN, _QUOTES_CLOSE = "«\"“„'", "»\"”'"
_KAZAKH_I_AM = ("мын", "мін", "бын", "бін", "пын", "пін")  # "Жұлдызбын", "мен Нұрмын": I am Жұлдыз, Нұр
_PROPER_NOUN = frozenset({"Name", "Surn", "Patr", "Geox", "Orgn", "Trad"})
_RUSSIAN_WORD = re.compile(r"[а-я]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")

_CYR_TO_LAT = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
                       ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
                        "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya",
                        "a", "g", "k", "n", "o", "u", "u", "h", "i"]))


_TO_LATIN = str.maketrans(_CYR_TO_LAT)


def transliterate(name: str) -> str:
    return name.lower().translate(_TO_LATIN)


def _fold(word: str) -> str:
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=100_000)
def _name_key(word: str) -> str:
    """One name however it is written: any case, Cyrillic or Latin, Russian or Kazakh letters (Айгерім)."""
    return transliterate(_fold(word))


@lru_cache(maxsize=10_000)
def _text_key(text: str) -> str:
    return transliterate(_fold(text))


@lru_cache(maxsize=10_000)
def _words(text: str) -> tuple[tuple[str, int, int, str], ...]:
    """The turn's words as written: (word, start, end, name key)."""
    return tuple((m.group(), m.start(), m.end(), _name_key(m.group())) for m in _WORD.finditer(text))


@lru_cache(maxsize=20_000)
def is_common_word_name(name: str) -> bool:
    """Is this name also an ordinary word (listed, or a Russian dictionary word more often than a name)?"""
    folded = _fold(name)
    if folded in COMMON_WORD_NAMES:
        return True
    if not _RUSSIAN_WORD.fullmatch(folded):
        return False
    # Names are dictionary words too ("светлана"); a name is a common word when its readings as
    # something other than a name carry most of the weight (вера: faith 0.7, Вера 0.3).
    as_word = sum(p.score for p in _morph().parse(folded) if p.is_known and not _PROPER_NOUN & p.tag.grammemes)
    return as_word >= 0.5


@dataclass(frozen=True)
class _Naming:
    """What a rule says about the agent's name, read once per rule."""

    forms: list[str]  # its phrases with the name in them
    bare_turns: int  # the first agent turns the bare name counts in (0: never)
    company_keys: frozenset[str]  # the words of its company names (as _name_key spells them)


_namings: dict[int, tuple[RequiredPhraseRule, _Naming]] = {}


def _naming(rule: RequiredPhraseRule) -> _Naming:
    known = _namings.get(id(rule))
    if known is None or known[0] is not rule:
        texts = [t for texts in rule.phrases.values() for t in texts]
        # Older scorecards listed the bare name as a phrase; it means bare_name_within_first_turns: 1.
        legacy = any(t.strip() == AGENT_NAME_SLOT for t in texts)
        known = _namings[id(rule)] = (rule, _Naming(
            [t for t in texts if AGENT_NAME_SLOT in t and t.strip() != AGENT_NAME_SLOT],
            rule.bare_name_within_first_turns or (1 if legacy else 0),
            frozenset(_name_key(word) for company in rule.company_names for word in tokens(company))))
    return known[1]


def _personal_names(rule: RequiredPhraseRule, contact: Contact) -> tuple[str, ...]:
    """The agent's names that are a person's: not the company's (`company_names`), not a shared
    account's ("Support")."""
    companies = _naming(rule).company_keys
    return tuple(n for n in contact.agent_names if _name_key(n) not in companies and _fold(n) not in NOT_PERSONAL_NAMES)


def _spellings(names: tuple[str, ...], window: list[Utterance]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The names a turn may introduce the agent by: (distinctive ones, ones that are also words).

    Not one said in these turns only where a company's name stands ("банк Аврора"). A name is a word in
    every script when it is one in any (Вера, so vera too).
    """
    as_company = {key: _only_as_company(window, key) for key in {_name_key(n) for n in names}}
    names = tuple(n for n in names if not as_company[_name_key(n)])
    words = {_name_key(n) for n in names if is_common_word_name(n)}
    return (tuple(n for n in names if _name_key(n) not in words),
            tuple(n for n in names if _name_key(n) in words))


def _has_capitals(text: str) -> bool:
    return text.lower() != text


def _occurrences(u: Utterance, key: str) -> list[tuple[str, str]]:
    """Each time the turn says the name (its _name_key): as written, and whose it reads as — the
    agent's ("name"), a company's ("company") or someone else's ("other")."""
    text = u.text
    if key not in _text_key(text):  # a quick look before reading the turn word by word
        return []
    words = _words(text)
    cased = _has_capitals(text)
    found = []
    for i, (word, start, end, word_key) in enumerate(words):
        if word_key != key:
            continue
        before = _fold(words[i - 1][0]) if i and not text[words[i - 1][2]:start].strip() else None
        after = words[i + 1] if i + 1 < len(words) else None
        next_word = _fold(after[0]) if after and not text[end:after[1]].strip(" ,") else None
        if before in _COMPANY_BEFORE or (cased and next_word in _COMPANY_AFTER and not text[end:after[1]].strip()):
            role = "company"  # "банк Аврора", "Ally Bank" (ASR has no commas to tell it from "светлана банк")
        elif (before in _OTHER_BEFORE or next_word in _ADDRESSED_AFTER or (next_word or "").endswith(_PATRONYMIC)
              or text[start - 1:start] in tuple(_QUOTES_OPEN) or text[end:end + 1] in tuple(_QUOTES_CLOSE)):
            role = "other"
        else:
            role = "name"
        found.append((word, role))
    return found


def _only_as_company(window: list[Utterance], key: str) -> bool:
    said = [role for u in window for _, role in _occurrences(u, key)]
    return bool(said) and all(role == "company" for role in said)


def _bare_name(u: Utterance, names: tuple[str, ...]) -> str | None:
    """The agent's name said on its own, as written: a capitalised word of its own, not a company's,
    a colleague's or the customer's. Speech recognition writes no capitals at all ("арман из банка
    кенбанк вам удобно говорить"): there a name that is no ordinary word (`names` are those) counts
    as written, since case says nothing; a name that is also a word never gets here."""
    caseless = not _has_capitals(u.text)
    for key in dict.fromkeys(_name_key(name) for name in names):
        for written, role in _occurrences(u, key):
            if (written[0].isupper() or caseless) and role == "name":
                return written
    return None


def _kazakh_i_am(u: Utterance, names: tuple[str, ...]) -> str | None:
    """"Жұлдызбын", "мен Нұрмын": the name with the Kazakh ending for "I am", as written."""
    keys = {_name_key(name) for name in names if len(name) > 2}
    for word, _, _, word_key in _words(u.text):
        for ending in _KAZAKH_I_AM:
            if _fold(word).endswith(ending) and word_key[:-len(_name_key(ending))] in keys:
                return word
    return None


def _names_said(u: Utterance, phrase: str, names: tuple[str, ...]) -> bool:
    """Does a turn a phrase with the agent's name matched (maybe fuzzily) hold one of the agent's names,
    or a slip of the phrase's ("айгирим")? Fuzzily "you're speaking with the complaints team" is close
    to "… with Emily"."""
    keys = {_name_key(name) for name in names}
    in_phrase = {key for *_, key in _words(phrase)} & keys
    if not in_phrase:
        return True  # a phrase without the name
    turn = {key for *_, key in _words(u.text)}
    return bool(keys & turn) or any(fuzz.ratio(word, name) >= 80 for word in turn for name in in_phrase)


@lru_cache(maxsize=1_000)
def _form_words(form: str) -> tuple[list[str], list[str]]:
    """The lemmas of an introduction form before the name and after it."""
    before, _, after = form.partition(AGENT_NAME_SLOT)
    return [lemma(t) for t in tokens(before)], [lemma(t) for t in tokens(after)]


def _said_strictly(u: Utterance, forms: list[str], name: str) -> str | None:
    """The first form that introduces by a name that is also a word: the form's words right around the
    name itself (no filler between: "this is the bill" is not "this is Bill"; no other inflection: "это
    дано" is not "это Дана"), capitalised where the turn has capitals ("you may from Monday")."""
    key = _name_key(name)
    if key not in _text_key(u.text):
        return None
    cased = _has_capitals(u.text)
    capitalised = {_fold(word) for word, *_ in _words(u.text) if word[0].isupper()}
    at = [i for i, word in enumerate(u.tokens) if _name_key(word) == key and (not cased or word in capitalised)]
    lemmas = u.lemmas
    for form in forms:
        pre, post = _form_words(form)
        if any(i >= len(pre) and list(lemmas[i - len(pre):i]) == pre and list(lemmas[i + 1:i + 1 + len(post)]) == post
               for i in at):
            return form
    return None


def _introduction(rule: RequiredPhraseRule, contact: Contact, window: list[Utterance], where: str) -> Outcome:
    """A rule that names the agent: a form with the name ("меня зовут Айгерим", "Bekzat speaking"), or, in
    the first turns, the bare name ("Светлана, банк Кенбанк, здравствуйте")."""
    personal = _personal_names(rule, contact)
    if not personal:
        hit = _phrase_matcher(rule.phrases, rule.fuzzy_threshold).first_match(window)  # phrases without the name
        if hit:
            u, phrase = hit
            return Outcome("pass", _quote(u), u.speaker, u.offset_ms, f"matched “{phrase.text}” {where}")
        if contact.agent_names:
            return Outcome("unverifiable", detail=f"the agent's name in the directory ({_listed(contact.agent_names)}) "
                                                  "is a company's or a shared account's, not a person's, so an "
                                                  "introduction cannot be checked")
        who = f"agent {contact.agent_id}" if contact.agent_id else "the contact names no agent"
        return Outcome("unverifiable", detail=f"the agent's name is not in the directory ({who}), "
                                              "so an introduction cannot be checked")
    distinctive, common = _spellings(personal, window)
    found: list[tuple[int, Utterance, str]] = []  # (turn in the window, the turn, the finding's detail)
    matcher = _phrase_matcher(rule.phrases, rule.fuzzy_threshold, distinctive)
    for position, u in enumerate(window):
        hit = matcher.first_match([u])
        if hit and _names_said(u, hit[1].text, distinctive):
            found.append((position, u, f"matched “{hit[1].text}” {where}"))
            break
    for position, u in enumerate(window):
        said = _kazakh_i_am(u, distinctive + common)
        if said:
            found.append((position, u, f"the agent's name in “{said}” (Kazakh: I am …) {where}"))
            break
    forms = _naming(rule).forms
    for name in common:
        for position, u in enumerate(window):
            form = _said_strictly(u, forms, name)
            if form:
                found.append((position, u, f"matched “{form.replace(AGENT_NAME_SLOT, name)}” {where}"))
                break
    bare_turns = _naming(rule).bare_turns
    for position, u in enumerate(window[:bare_turns] if distinctive else []):
        said = _bare_name(u, distinctive)
        if said:
            first = "first agent turn" if bare_turns == 1 else f"first {bare_turns} agent turns"
            found.append((position, u, f"the agent's name “{said}” said on its own in the {first}"))
            break
    if found:
        _, u, detail = min(found, key=lambda f: f[0])
        return Outcome("pass", _quote(u), u.speaker, u.offset_ms, detail)
    listed = _listed(personal)
    if common:
        words = _listed(common)
        listed += f"; {words} {'are words' if ', ' in words else 'is a word'} as well, so only an introduction counts"
    companies = _listed(tuple(n for n in personal if n not in distinctive + common))
    if companies:
        listed += f"; {companies} said only as a company's name"
    return _none_said(rule, window, where, f" (the agent's name: {listed})")


def _listed(names: tuple[str, ...]) -> str:
    """Names as first spelt, each once whatever its case."""
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(_fold(name), name)
    return ", ".join(first.values())


def forbidden_phrase(rule: ForbiddenPhraseRule, contact: Contact) -> Outcome:
    missing = _no_transcript(contact) or _no_agent_turn(contact)
    if missing:
        return missing
    hit = _matcher(rule.phrases, rule.fuzzy_threshold, contact).first_match(contact.agent_turns)
    if hit:
        u, phrase = hit
        return Outcome("fail", _quote(u), u.speaker, u.offset_ms, f"forbidden phrase “{phrase.text}”")
    return Outcome("pass", detail=f"{len(contact.agent_turns)} agent turns checked")


def max_silence(rule: SilenceRule, contact: Contact) -> Outcome:
    if contact.disposition not in (None, "answered", "transferred"):
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if rule.max_hold_seconds is not None and contact.hold_s is not None and contact.hold_s > rule.max_hold_seconds:
        return Outcome("fail", detail=f"on hold {contact.hold_s:.0f} s (limit {rule.max_hold_seconds:.0f} s), from the CDR")
    if contact.utterances:
        longest, at, after, non_talk = _silences(contact.utterances)
        source = "transcript"
    elif contact.metrics and contact.metrics.get("longest_silence_s") is not None:
        m = contact.metrics
        longest, at, after = m["longest_silence_s"] * 1000, m.get("longest_silence_at_ms") or 0, None
        non_talk = (m.get("non_talk_s") or 0) * 1000
        source = "recording" if m.get("metrics_source") == "vad" else m.get("metrics_source", "recording")
    elif rule.max_hold_seconds is not None and contact.hold_s is not None:
        return Outcome("pass", detail=f"on hold {contact.hold_s:.0f} s (limit {rule.max_hold_seconds:.0f} s), from the CDR")
    else:
        return Outcome("unverifiable", detail="no transcript, recording measurements or hold time for this call")
    detail = f"longest silence {longest / 1000:.0f} s (limit {rule.max_seconds:.0f} s), from the {source}"
    if longest > rule.max_seconds * 1000:
        if after is not None:
            return Outcome("fail", _quote(after), after.speaker, at, f"{detail}, from {_clock(at)}")
        return Outcome("fail", offset_ms=int(at), detail=f"{detail}, from {_clock(int(at))}")
    limit = rule.max_total_non_talk_seconds
    if limit is not None and non_talk > limit * 1000:
        return Outcome("fail", detail=f"{non_talk / 1000:.0f} s without talk in all (limit {limit:.0f} s), "
                                      f"from the {source}")
    return Outcome("pass", detail=detail)


def _silences(utterances: list[Utterance]) -> tuple[int, int, Utterance | None, int]:
    """Longest gap (ms), where it starts, the turn that ends it, and all gaps together."""
    ordered = sorted(utterances, key=lambda u: u.offset_ms)
    longest, at, after, total = 0, 0, None, 0
    spoken_until = ordered[0].end_offset_ms
    for u in ordered[1:]:
        gap = u.offset_ms - spoken_until
        if gap > 0:
            total += gap
        if gap > longest:
            longest, at, after = gap, spoken_until, u
        spoken_until = max(spoken_until, u.end_offset_ms)
    return longest, at, after, total


def response_time(rule: ResponseTimeRule, contact: Contact) -> Outcome:
    if not contact.utterances:
        return Outcome("unverifiable", detail="no messages for this contact")
    if not contact.agent_turns:
        return Outcome("na", detail="no agent reply (abandoned before an agent joined)")
    waiting_since: int | None = None
    first_reply: int | None = None
    worst = (0, None)
    for u in sorted(contact.utterances, key=lambda u: (u.offset_ms, u.seq)):
        if u.speaker == "customer" and waiting_since is None:
            waiting_since = u.offset_ms
        elif u.speaker == "agent":
            if waiting_since is not None:
                wait = u.offset_ms - waiting_since
                if first_reply is None:
                    first_reply = wait
                if wait > worst[0]:
                    worst = (wait, u)
            waiting_since = None
    wait_ms, reply = worst
    detail = (f"first reply {((first_reply or 0) / 1000):.0f} s (limit {rule.first_reply_max_seconds:.0f} s), "
              f"longest customer wait {wait_ms / 1000:.0f} s (limit {rule.max_customer_wait_seconds:.0f} s)")
    late_first = first_reply is not None and first_reply > rule.first_reply_max_seconds * 1000
    if (late_first or wait_ms > rule.max_customer_wait_seconds * 1000) and reply is not None:
        return Outcome("fail", _quote(reply), reply.speaker, reply.offset_ms, detail)
    return Outcome("pass", detail=detail)


def action_order(rule: ActionOrderRule, contact: Contact) -> Outcome:
    if not contact.has_action_log:
        if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
            return Outcome("na", detail=f"not answered ({contact.disposition})")
        return Outcome("unverifiable", detail="the action log has no rows for this contact")
    sequence = " → ".join(action for _, action in contact.actions)
    guarded = [(at, a) for at, a in contact.actions if a in rule.guarded_actions]
    if not guarded:
        return Outcome("na", detail=f"no account action in this contact ({sequence})")
    first_guarded = min(at for at, _ in guarded)
    verified = [at for at, a in contact.actions if a == rule.required_before]
    if verified and min(verified) <= first_guarded:
        return Outcome("pass", detail=f"actions: {sequence}")
    why = "after" if verified else "without"
    return Outcome("fail", detail=f"{guarded[0][1]} {why} {rule.required_before}; actions: {sequence}")


def sensitive_data(rule: SensitiveDataRule, contact: Contact) -> Outcome:
    missing = _no_transcript(contact)
    if missing:
        return missing

    for u in contact.agent_turns:
        # Stored text is masked: what it disclosed was recorded at ingest (pii_kinds); text that was
        # not masked (loaded by an earlier version) is still read.
        disclosed = set(u.pii_kinds) | set(disclosures(u.text))
        if "card_number" in disclosed and stale_card_masks(u.text) and "card_number" not in disclosures(u.text):
            # an earlier version took a link's digits for a card and masked them: not a disclosure
            disclosed.discard("card_number")
        if "card_number" in rule.detect and "card_number" in disclosed:
            # which digits it was, masked ("**** **** **** 9013"), so a reader can check the finding
            shown = card_numbers_shown(u.text)
            detail = "full card number disclosed" + (f": {', '.join(shown)}" if shown else "")
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, detail)
        if "national_id" in rule.detect and "national_id" in disclosed:
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "full national ID (IIN) disclosed")
        if "password" in rule.detect and find_passwords(u.text):
            return Outcome("fail", _quote(u), u.speaker, u.offset_ms, "password or PIN disclosed")
    return Outcome("pass", detail=f"{len(contact.agent_turns)} agent turns checked")


def _for_topic(topics: dict, contact: Contact, what: str) -> tuple[object, Outcome | None]:
    """What the scorecard requires for the contact's topic, or the outcome when that cannot be said:
    unverifiable without a topic, na when the topic requires nothing."""
    if not contact.topic:
        return None, Outcome("unverifiable", detail=f"the contact has no topic, so the {what} its topic requires "
                                                    "cannot be checked")
    required = topics.get(contact.topic)
    if required is None:
        return None, Outcome("na", detail=f"the scorecard requires no {what} for topic {contact.topic}")
    return required, None


def required_information(rule: RequiredInformationRule, contact: Contact) -> Outcome:
    missing = _no_transcript(contact)
    if missing:
        return missing
    facts, cannot = _for_topic(rule.topics, contact, "information")
    if cannot:
        return cannot
    said, absent = [], []
    for fact, phrases in facts.items():
        hit = _matcher(phrases, rule.fuzzy_threshold, contact).first_match(contact.agent_turns)
        (said if hit else absent).append((fact, hit))
    if absent:
        names = ", ".join(fact for fact, _ in absent)
        return Outcome("fail", detail=f"topic {contact.topic}: the agent did not state {names}")
    u = max((hit[0] for _, hit in said), key=lambda u: u.offset_ms)
    return Outcome("pass", _quote(u), u.speaker, u.offset_ms,
                   f"topic {contact.topic}: stated {', '.join(f for f, _ in said)}")


def recording_notice(rule: RecordingNoticeRule, contact: Contact) -> Outcome:
    if contact.queue and contact.queue in rule.announced_by_ivr_queues and contact.direction != "outbound":
        return Outcome("pass", detail=f"announced by the IVR of queue {contact.queue}")
    missing = _no_transcript(contact)
    if missing:
        return missing
    turns = contact.utterances[: rule.within_first_turns + 2]  # the IVR/system turn may come first
    hit = _matcher(rule.phrases, rule.fuzzy_threshold, contact).first_match(turns)
    if hit:
        u, phrase = hit
        return Outcome("pass", _quote(u), u.speaker, u.offset_ms, f"notice given: “{phrase.text}”")
    first = contact.utterances[0]
    return Outcome("fail", _quote(first), first.speaker, first.offset_ms,
                   f"no recording notice in the first {rule.within_first_turns} turns")


def _hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def calling_hours(rule: CallingHoursRule, contact: Contact) -> Outcome:
    if contact.direction != "outbound":
        return Outcome("na", detail="inbound contact")
    if contact.started_at is None:
        return Outcome("unverifiable", detail="no start time")
    local = contact.started_at.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(rule.customer_timezone))
    weekend = local.weekday() >= 5
    earliest = _hhmm((rule.weekend_earliest if weekend else None) or rule.earliest)
    latest = _hhmm((rule.weekend_latest if weekend else None) or rule.latest)
    detail = (f"called at {local:%H:%M} {'on a weekend' if weekend else ''} customer's local time "
              f"({rule.customer_timezone}; allowed {earliest:%H:%M}–{latest:%H:%M})").replace("  ", " ")
    if not earliest <= local.time() <= latest:
        return Outcome("fail", detail=detail)
    return Outcome("pass", detail=detail)


def contact_frequency(rule: ContactFrequencyRule, contact: Contact) -> Outcome:
    if contact.direction != "outbound":
        return Outcome("na", detail="inbound contact")
    if not contact.has_customer or contact.outbound_same_day is None:
        return Outcome("unverifiable", detail="the customer's number is unknown")
    detail = f"call {contact.outbound_same_day} to this customer that day, {contact.outbound_same_week} in 7 days"
    if rule.max_per_day is not None and contact.outbound_same_day > rule.max_per_day:
        return Outcome("fail", detail=f"{detail} (limit {rule.max_per_day} a day)")
    if rule.max_per_week is not None and (contact.outbound_same_week or 0) > rule.max_per_week:
        return Outcome("fail", detail=f"{detail} (limit {rule.max_per_week} a week)")
    return Outcome("pass", detail=detail)


def interruptions(rule: InterruptionsRule, contact: Contact) -> Outcome:
    if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if contact.utterances and any(u.end_offset_ms > u.offset_ms for u in contact.utterances):
        ordered = sorted(contact.utterances, key=lambda u: u.offset_ms)
        cut_ins = []
        for previous, current in zip(ordered, ordered[1:]):
            if (current.speaker == "agent" and previous.speaker == "customer"
                    and current.offset_ms < previous.end_offset_ms):
                cut_ins.append(current)
        count, source, first = len(cut_ins), "transcript timings", (cut_ins[0] if cut_ins else None)
    elif contact.metrics and contact.metrics.get("interruptions") is not None:
        count, source, first = int(contact.metrics["interruptions"]), "recording", None
    else:
        return Outcome("unverifiable", detail="no timed transcript or recording measurements")
    detail = f"the agent talked over the customer {count} time(s) (limit {rule.max_count}), from the {source}"
    if count > rule.max_count:
        if first is not None:
            return Outcome("fail", _quote(first), first.speaker, first.offset_ms, detail)
        return Outcome("fail", detail=detail)
    return Outcome("pass", detail=detail)


def required_actions(rule: RequiredActionsRule, contact: Contact) -> Outcome:
    if contact.disposition not in (None, "answered", "transferred") and not contact.utterances:
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    required, cannot = _for_topic(rule.topics, contact, "actions")
    if cannot:
        return cannot
    if not contact.has_action_log:
        return Outcome("unverifiable", detail="the action log has no rows for this contact")
    seen = [action for _, action in contact.actions]
    sequence = " → ".join(seen) or "none"
    missing = [a for a in required if a not in seen]
    if missing:
        return Outcome("fail", detail=f"missing {', '.join(missing)}; actions: {sequence}")
    positions = [seen.index(a) for a in required]
    if positions != sorted(positions):
        return Outcome("fail", detail=f"out of order (required {' → '.join(required)}); actions: {sequence}")
    if rule.max_seconds_after_end is not None and contact.ended_at is not None:
        limit = contact.ended_at + timedelta(seconds=rule.max_seconds_after_end)
        late = [a for at, a in contact.actions if a in required and at > limit]
        if late:
            return Outcome("fail", detail=f"late: {', '.join(late)} more than {rule.max_seconds_after_end:.0f} s "
                                          f"after the contact ended; actions: {sequence}")
    return Outcome("pass", detail=f"actions: {sequence}")


def resolution(rule: ResolutionRule, contact: Contact) -> Outcome:
    if contact.disposition in rule.failing_dispositions:
        return Outcome("fail", detail=f"the contact was {contact.disposition}")
    if contact.disposition not in (None, "answered"):
        return Outcome("na", detail=f"not answered ({contact.disposition})")
    if not contact.has_customer or not contact.topic:
        return Outcome("unverifiable", detail="the customer or the topic is unknown")
    after = contact.next_same_topic_after_s
    if after is not None and after <= rule.repeat_within_days * 86400:
        return Outcome("fail", detail=f"the customer came back on {contact.topic} after {after / 3600:.0f} h "
                                      f"(contact {contact.next_same_topic_contact_id}): not resolved first time")
    return Outcome("pass", detail=f"no repeat contact on {contact.topic} within {rule.repeat_within_days:g} days")


def manual(rule: ManualRule, contact: Contact) -> Outcome:
    return Outcome("manual", detail="judged by a human evaluator")


RULES = {
    "required_phrase": required_phrase,
    "forbidden_phrase": forbidden_phrase,
    "max_silence": max_silence,
    "response_time": response_time,
    "action_order": action_order,
    "sensitive_data": sensitive_data,
    "manual": manual,
    "required_information": required_information,
    "recording_notice": recording_notice,
    "calling_hours": calling_hours,
    "contact_frequency": contact_frequency,
    "interruptions": interruptions,
    "required_actions": required_actions,
    "resolution": resolution,
}


def _came_through(contact: Contact) -> str:
    if contact.queue:
        return f"queue {contact.queue}"
    if contact.source_system:
        return f"{contact.source_system} (its export names no queue)"
    return "no queue"


def evaluate(criterion: Criterion, contact: Contact) -> Outcome:
    """The criterion's outcome for the contact: na when the contact is out of the criterion's scope
    (channel, queue, topic) or not scored at all (no agent turn); unverifiable when the criterion is
    for some topics and the contact has none; else what its rule finds."""
    rule = RULES[criterion.rule.type]
    if contact.channel not in criterion.channels:
        return Outcome("na", detail=f"not applied to {contact.channel} contacts")
    queue = contact.scope_queue
    if criterion.queues is not None and queue not in criterion.queues:
        return Outcome("na", detail=f"applies only to queues {', '.join(criterion.queues)}; "
                                    f"this contact came through {_came_through(contact)}")
    if queue is not None and queue in criterion.exclude_queues:
        return Outcome("na", detail=f"not applied to queues {', '.join(criterion.exclude_queues)}; "
                                    f"this contact came through {_came_through(contact)}")
    if contact.disposition not in _UNANSWERED:
        silent = _no_agent_turn(contact)
        if silent:
            return silent
    if criterion.topics is not None and contact.topic not in criterion.topics:
        if contact.topic:
            return Outcome("na", detail=f"applies only to topics {', '.join(criterion.topics)}; "
                                        f"this contact's topic is {contact.topic}")
        outcome = rule(criterion.rule, contact)
        if outcome.result == "na":
            return outcome  # out of the rule's own scope anyway (an inbound call for a dialling rule, say)
        return Outcome("unverifiable", detail=f"the contact has no topic, so whether this criterion applies "
                                              f"(only to topics {', '.join(criterion.topics)}) cannot be checked")
    return rule(criterion.rule, contact)
