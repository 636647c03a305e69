"""Names, the agent directory and the customer base.

Customers are never held in a table: a customer is a pure function of the run
seed and its index, so a million-contact run costs no memory for them while
every customer still keeps the same phone, name and language across contacts.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import lru_cache

from .rand import derive_seed, rng_for

# (first name, gender "f"/"m")
KAZAKH_FIRST: tuple[tuple[str, str], ...] = (
    ("Айгерим", "f"), ("Асель", "f"), ("Динара", "f"), ("Жанар", "f"), ("Гульнара", "f"),
    ("Алия", "f"), ("Мадина", "f"), ("Камила", "f"), ("Сауле", "f"), ("Аружан", "f"),
    ("Дана", "f"), ("Зарина", "f"), ("Назым", "f"), ("Акмарал", "f"), ("Жулдыз", "f"),
    ("Айжан", "f"), ("Томирис", "f"), ("Салтанат", "f"), ("Ботагоз", "f"), ("Индира", "f"),
    ("Данияр", "m"), ("Ержан", "m"), ("Нурлан", "m"), ("Асхат", "m"), ("Бауыржан", "m"),
    ("Ерлан", "m"), ("Арман", "m"), ("Тимур", "m"), ("Азамат", "m"), ("Руслан", "m"),
    ("Айдос", "m"), ("Санжар", "m"), ("Ерболат", "m"), ("Канат", "m"), ("Мирас", "m"),
    ("Дархан", "m"), ("Алмас", "m"), ("Жандос", "m"), ("Бекзат", "m"), ("Олжас", "m"),
)
# Male surname forms; the feminine adds "а" unless listed as invariable.
KAZAKH_LAST: tuple[str, ...] = (
    "Нурланов", "Ахметов", "Жумабаев", "Сериков", "Касымов", "Абдрахманов", "Бекмуханов",
    "Исмаилов", "Оспанов", "Тулегенов", "Садыков", "Искаков", "Мусин", "Жакупов", "Утепов",
    "Байжанов", "Кенжебаев", "Рахимов", "Есенов", "Амиров", "Сулейменов", "Токтаров",
    "Ким", "Пак", "Тен", "Нургалиев", "Мухамеджанов", "Калиев",
)
INVARIABLE_LAST: frozenset[str] = frozenset({"Ким", "Пак", "Тен", "Ли"})
RUSSIAN_FIRST: tuple[tuple[str, str], ...] = (
    ("Анна", "f"), ("Елена", "f"), ("Ольга", "f"), ("Наталья", "f"), ("Татьяна", "f"),
    ("Екатерина", "f"), ("Мария", "f"), ("Ирина", "f"), ("Светлана", "f"), ("Юлия", "f"),
    ("Анастасия", "f"), ("Дарья", "f"), ("Виктория", "f"), ("Ксения", "f"), ("Полина", "f"),
    ("Алексей", "m"), ("Дмитрий", "m"), ("Сергей", "m"), ("Андрей", "m"), ("Михаил", "m"),
    ("Иван", "m"), ("Максим", "m"), ("Артём", "m"), ("Николай", "m"), ("Владимир", "m"),
    ("Павел", "m"), ("Евгений", "m"), ("Игорь", "m"), ("Константин", "m"), ("Роман", "m"),
)
RUSSIAN_LAST: tuple[str, ...] = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Соколов", "Лебедев", "Козлов", "Новиков",
    "Морозов", "Петров", "Волков", "Соловьёв", "Васильев", "Зайцев", "Павлов", "Семёнов",
    "Голубев", "Виноградов", "Богданов", "Воробьёв", "Фёдоров", "Михайлов", "Беляев",
)
# English first names with the Cyrillic spelling an English-named agent uses
# when introducing themself in Russian.
ENGLISH_FIRST: tuple[tuple[str, str, str], ...] = (
    ("Emily", "f", "Эмили"), ("Sarah", "f", "Сара"), ("Jessica", "f", "Джессика"),
    ("Laura", "f", "Лора"), ("Hannah", "f", "Ханна"), ("Olivia", "f", "Оливия"),
    ("Emma", "f", "Эмма"), ("Sophie", "f", "Софи"), ("Rachel", "f", "Рейчел"),
    ("James", "m", "Джеймс"), ("Michael", "m", "Майкл"), ("David", "m", "Дэвид"),
    ("Daniel", "m", "Дэниел"), ("Thomas", "m", "Томас"), ("Robert", "m", "Роберт"),
    ("Andrew", "m", "Эндрю"), ("Mark", "m", "Марк"), ("Peter", "m", "Питер"),
)
ENGLISH_LAST: tuple[str, ...] = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Walker", "Wright",
    "Carter", "Clark", "Turner", "Hughes", "Green", "Baker", "Morgan", "Ellis", "Cooper",
)
RUSSIAN_PATRONYMIC_M: tuple[str, ...] = ("Сергеевич", "Александрович", "Викторович", "Нурланович", "Маратович", "Игоревич")
RUSSIAN_PATRONYMIC_F: tuple[str, ...] = ("Сергеевна", "Александровна", "Викторовна", "Нурлановна", "Маратовна", "Игоревна")

_TRANSLIT: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
}


def transliterate(text: str) -> str:
    out: list[str] = []
    for ch in text:
        low = ch.lower()
        if low in _TRANSLIT:
            rep = _TRANSLIT[low]
            out.append(rep.capitalize() if ch != low and rep else rep)
        else:
            out.append(ch)
    return "".join(out)


def feminine_surname(last: str) -> str:
    if last in INVARIABLE_LAST:
        return last
    return last + "а"


@dataclass(frozen=True)
class PersonName:
    first: str
    last: str
    female: bool
    origin: str  # "kz" | "ru" | "en"
    # How the first name is spoken in the other script (Latin for Cyrillic names and back).
    first_other_script: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"

    def spoken_first(self, language: str) -> str:
        latin = self.origin == "en"
        if (language == "en") == latin:
            return self.first
        return self.first_other_script


def random_name(rng: random.Random, origin: str) -> PersonName:
    if origin == "en":
        first, g, cyr = rng.choice(ENGLISH_FIRST)
        return PersonName(first, rng.choice(ENGLISH_LAST), g == "f", "en", cyr)
    pool_first = KAZAKH_FIRST if origin == "kz" else RUSSIAN_FIRST
    pool_last = KAZAKH_LAST if origin == "kz" else RUSSIAN_LAST
    first, g = rng.choice(pool_first)
    last = rng.choice(pool_last)
    female = g == "f"
    if female:
        last = feminine_surname(last)
    return PersonName(first, last, female, origin, transliterate(first))


@dataclass(frozen=True)
class Agent:
    index: int
    agent_id: str
    name: PersonName
    email: str
    team: str
    supervisor_email: str
    locale: str  # "ru" | "en": the language feedback is sent in; "en" agents also take English contacts
    extension: str
    tg_user_id: int

    @property
    def full_name(self) -> str:
        return self.name.full

    @property
    def female(self) -> bool:
        return self.name.female

    def speaks(self, language: str) -> bool:
        return language == "ru" and self.name.origin != "en" or language == "en" and self.locale == "en"


@dataclass(frozen=True)
class Team:
    name: str
    supervisor_name: str
    supervisor_email: str


def _email_local(name: PersonName) -> str:
    first = transliterate(name.first) if name.origin != "en" else name.first
    last = transliterate(name.last) if name.origin != "en" else name.last
    return f"{first}.{last}".lower().replace("'", "").replace(" ", "")


def english_capable_count(agents: int, russian_share: float) -> int:
    """How many agents take English contacts so that the English share can be met."""
    english_share = 1.0 - russian_share
    if english_share <= 0:
        return 0
    return min(agents, max(1, math.ceil(agents * min(1.0, english_share * 1.5))))


def build_directory(seed: int, agents: int, teams: int, russian_share: float, email_domain: str) -> tuple[list[Agent], list[Team]]:
    rng = rng_for(seed, "directory")
    used_emails: set[str] = set()
    used_names: set[str] = set()

    def unique_email(local: str) -> str:
        candidate, n = local, 1
        while candidate in used_emails:
            n += 1
            candidate = f"{local}{n}"
        used_emails.add(candidate)
        return f"{candidate}@{email_domain}"

    team_list: list[Team] = []
    for t in range(teams):
        sup = random_name(rng, rng.choice(("kz", "kz", "ru")))
        team_list.append(Team(f"team-{t + 1:02d}", sup.full, unique_email(_email_local(sup))))

    n_english = english_capable_count(agents, russian_share)
    english_idx = set(rng.sample(range(agents), n_english))
    only_english = russian_share <= 0.0
    result: list[Agent] = []
    for i in range(agents):
        locale = "en" if i in english_idx else "ru"
        # English-named agents only exist among English speakers; if nobody speaks Russian, nobody needs to.
        if locale == "en" and (only_english or rng.random() < 0.3):
            origin = "en"
        else:
            origin = "kz" if rng.random() < 0.6 else "ru"
        for attempt in range(60):
            name = random_name(rng, origin)
            if name.full not in used_names:
                break
        else:
            # Directories of thousands of agents exhaust first x last combinations: add an initial.
            initial = "АБВГДЕЖЗИКЛМНОПРСТ"[i % 18] if origin != "en" else "ABCDEFGHJKLMNPRST"[i % 17]
            name = PersonName(name.first, f"{initial}. {name.last}", name.female, name.origin, name.first_other_script)
            suffix = 2
            while name.full in used_names:
                name = PersonName(name.first, f"{name.last}{suffix}", name.female, name.origin, name.first_other_script)
                suffix += 1
        used_names.add(name.full)
        team = team_list[i % teams]
        width = max(3, len(str(agents)))
        result.append(
            Agent(
                index=i,
                agent_id=f"A{i + 1:0{width}d}",
                name=name,
                email=unique_email(_email_local(name)),
                team=team.name,
                supervisor_email=team.supervisor_email,
                locale=locale,
                extension=str(1001 + i),
                tg_user_id=5_000_000_000 + derive_seed(seed, "tg-agent", i) % 900_000_000,
            )
        )
    return result, team_list


# Mobile prefixes: Kazakhstan operators (7xx) and Russian ones (9xx) under the shared +7 code.
KZ_MOBILE: tuple[str, ...] = ("700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778")
RU_MOBILE: tuple[str, ...] = ("903", "905", "909", "915", "916", "925", "926", "965", "985", "999")

TG_DISPLAY_EMOJI: tuple[str, ...] = (" 🌸", " ✨", " 🇰🇿", "", "", "", "", "", "")


@dataclass(frozen=True)
class Customer:
    index: int
    customer_id: str
    name: PersonName
    patronymic: str
    language: str
    phone: str  # E.164 digits without "+", e.g. 77011234567
    phone_plus: bool  # how the trunk presents this number
    birth_date: tuple[int, int, int]
    iin: str
    tg_chat_id: int
    tg_display_name: str
    tg_deleted: bool

    @property
    def cli(self) -> str:
        return ("+" if self.phone_plus else "") + self.phone


@lru_cache(maxsize=4096)
def customer(seed: int, index: int, russian_share: float) -> Customer:
    rng = rng_for(seed, "customer", index)
    language = "ru" if rng.random() < russian_share else "en"
    if language == "ru":
        origin = "kz" if rng.random() < 0.6 else "ru"
    else:
        origin = "en" if rng.random() < 0.7 else rng.choice(("kz", "ru"))
    name = random_name(rng, origin)
    if origin == "en":
        patronymic = ""
    else:
        patronymic = rng.choice(RUSSIAN_PATRONYMIC_F if name.female else RUSSIAN_PATRONYMIC_M)
    if rng.random() < 0.85:
        phone = "7" + rng.choice(KZ_MOBILE) + f"{rng.randrange(10_000_000):07d}"
    else:
        phone = "7" + rng.choice(RU_MOBILE) + f"{rng.randrange(10_000_000):07d}"
    year, month, day = rng.randint(1960, 2004), rng.randint(1, 12), rng.randint(1, 28)
    # Kazakhstan IIN starts with the birth date YYMMDD; the remaining digits are not checked here.
    iin = f"{year % 100:02d}{month:02d}{day:02d}" + f"{rng.randrange(1_000_000):06d}"
    shown_first = name.first if language == "ru" or origin == "en" else name.first_other_script
    display = shown_first + (f" {name.last[0]}." if rng.random() < 0.3 else "") + rng.choice(TG_DISPLAY_EMOJI)
    return Customer(
        index=index,
        customer_id=f"C{index + 100000:07d}",
        name=name,
        patronymic=patronymic,
        language=language,
        phone=phone,
        phone_plus=rng.random() < 0.4,
        birth_date=(year, month, day),
        iin=iin,
        # Unique per customer: the stride leaves room for the hashed offset.
        tg_chat_id=400_000_000 + (index % 100_000_000) * 37 + derive_seed(seed, "tg", index) % 37,
        tg_display_name=display,
        tg_deleted=rng.random() < 0.02,
    )
