"""Phrase templates and the surface styles of speech (ASR) and typed chat.

Template syntax, kept tiny so the phrase banks stay readable:
  [a|b|c]      pick one alternative; an empty one makes the part optional; may nest
  {var}        a value from the context (agent name, last card digits, ...)
  {a:x|y}      agent's grammatical gender: x for a man, y for a woman
  {c:x|y}      the same for the customer
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping, Union

# --- templates -------------------------------------------------------------


@dataclass(frozen=True)
class _Var:
    name: str


@dataclass(frozen=True)
class _Gender:
    who: str  # "a" | "c"
    masc: str
    fem: str


@dataclass(frozen=True)
class _Choice:
    options: tuple["_Seq", ...]


_Part = Union[str, _Var, _Gender, _Choice]
_Seq = tuple[_Part, ...]


def _parse_seq(src: str, pos: int, in_choice: bool) -> tuple[_Seq, int]:
    parts: list[_Part] = []
    buf: list[str] = []
    while pos < len(src):
        ch = src[pos]
        if ch == "[":
            if buf:
                parts.append("".join(buf))
                buf = []
            options: list[_Seq] = []
            pos += 1
            while True:
                seq, pos = _parse_seq(src, pos, True)
                options.append(seq)
                if pos >= len(src):
                    raise ValueError(f"unclosed '[' in template {src!r}")
                if src[pos] == "|":
                    pos += 1
                    continue
                pos += 1  # the closing "]"
                break
            parts.append(_Choice(tuple(options)))
            continue
        if in_choice and ch in "|]":
            break
        if ch == "{":
            end = src.index("}", pos)
            body = src[pos + 1 : end]
            if body[:2] in ("a:", "c:"):
                masc, fem = body[2:].split("|", 1)
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(_Gender(body[0], masc, fem))
            else:
                if buf:
                    parts.append("".join(buf))
                    buf = []
                parts.append(_Var(body))
            pos = end + 1
            continue
        buf.append(ch)
        pos += 1
    if buf:
        parts.append("".join(buf))
    return tuple(parts), pos


@lru_cache(maxsize=None)
def parse_template(src: str) -> _Seq:
    seq, pos = _parse_seq(src, 0, False)
    if pos != len(src):
        raise ValueError(f"unbalanced template {src!r}")
    return seq


@dataclass(frozen=True)
class Voice:
    """Who is speaking, for gendered word forms."""

    agent_female: bool
    customer_female: bool


def _render_seq(seq: _Seq, rng: random.Random, ctx: Mapping[str, str], voice: Voice, out: list[str]) -> None:
    for part in seq:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, _Var):
            out.append(ctx[part.name])
        elif isinstance(part, _Gender):
            female = voice.agent_female if part.who == "a" else voice.customer_female
            out.append(part.fem if female else part.masc)
        else:
            _render_seq(rng.choice(part.options), rng, ctx, voice, out)


_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.!?…:;)])")
_DOUBLE_COMMA = re.compile(r",\s*,")
_LEADING_PUNCT = re.compile(r"^[\s,.;:]+")
_COMMA_BEFORE_END = re.compile(r",\s*([.!?])")
_COMMA_AFTER_END = re.compile(r"([.!?])\s*,")
_SPACED_PUNCT = (" ,", " .", " !", " ?", " …", " :", " ;", " )")
_COMMA_MESS = (",,", ",.", ",!", ",?", ".,", "!,", "?,")
_LEADING_JUNK = frozenset(" ,.;:")


def render(template: str, rng: random.Random, ctx: Mapping[str, str], voice: Voice, capitalize: bool = True) -> str:
    out: list[str] = []
    _render_seq(parse_template(template), rng, ctx, voice, out)
    text = "".join(out)
    # Cheap substring tests first: most renders need no clean-up and regexes dominate the run time.
    if "  " in text or "\n" in text:
        text = _SPACES.sub(" ", text)
    if any(p in text for p in _SPACED_PUNCT):
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    if any(p in text for p in _COMMA_MESS):
        text = _DOUBLE_COMMA.sub(",", text)
        text = _COMMA_BEFORE_END.sub(r"\1", text)
        text = _COMMA_AFTER_END.sub(r"\1", text)
    if text[:1] in _LEADING_JUNK:
        text = _LEADING_PUNCT.sub("", text)
    text = text.strip()
    if text.endswith(","):
        text = text[:-1]
    return capitalize_first(text) if capitalize else text


def capitalize_first(text: str) -> str:
    for i, ch in enumerate(text):
        if ch.isalpha():
            return text[:i] + ch.upper() + text[i + 1 :]
        if ch.isdigit():
            return text
    return text


_SENTENCE_START = re.compile(r"([.!?]\s+)(\w)")


def capitalize_sentences(text: str) -> str:
    return capitalize_first(_SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text))


# --- speech as an ASR engine writes it ------------------------------------

# Fillers that open a turn, and the hesitations that can fall inside one.
FILLERS = {
    "ru": ("ээ", "ну", "так", "вот", "эм", "ага", "да", "значит", "ну вот"),
    "en": ("uh", "um", "so", "well", "okay", "right", "yeah"),
}
MID_FILLERS = {"ru": ("ээ", "эм", "ну", "э"), "en": ("uh", "um", "er")}

# Misrecognitions an ASR engine really makes on these words.
ASR_SLIPS: dict[str, tuple[str, ...]] = {
    "здравствуйте": ("здрасте", "здравствуй те", "здраствуйте", "здрасьте"),
    "день": ("дент", "дня", "день"),
    "добрый": ("доброй", "добры"),
    "пожалуйста": ("пожалуста", "пожалста", "пожалуйсто"),
    "сейчас": ("щас", "сечас"),
    "подскажите": ("подскажите", "подскажете", "подскаж ите"),
    "спасибо": ("спасиба", "спасиб"),
    "карту": ("карта", "кару"),
    "карта": ("карто", "каре"),
    "заблокирована": ("заблокированно", "за блокирована"),
    "минуточку": ("минутачку", "минуточка"),
    "что": ("што", "чо"),
    "вообще": ("во обще", "вобще"),
    "конечно": ("конешно", "канечно"),
    "хорошо": ("харашо", "хорош"),
    "понятно": ("понятна", "поня тно"),
    "thank": ("thang", "think"),
    "you": ("ya", "you"),
    "card": ("car", "cart", "guard"),
    "blocked": ("block", "blocked it"),
    "address": ("a dress", "adress"),
    "help": ("health", "held"),
    "please": ("plea", "pleas"),
    "morning": ("mourning", "morning"),
    "statement": ("state meant", "statements"),
}

_ASR_STRIP = re.compile(r"[.,!;:«»\"“”()…—–]|(?<!\w)-(?!\w)")
_QUESTION = re.compile(r"\?")


def asr_style(
    text: str,
    language: str,
    rng: random.Random,
    protected: frozenset[str] = frozenset(),
    slips: bool = True,
    filler_rate: float = 0.25,
    generic_slips: bool = True,
) -> str:
    """Lowercase, little punctuation, fillers and the odd misrecognised word.

    Words in `protected` (names, digits of evidence) are left intact so that a
    slip never erases the very thing ground truth says is there. Turns QA
    rules key on (greeting, closing, ID questions) get only the known,
    dictionary slips, which stay recognisable ("здрасте", "добрый дент").
    """
    text = _ASR_STRIP.sub(" ", text.lower())
    if rng.random() < 0.85:
        text = _QUESTION.sub(" ", text)
    words = text.split()
    out: list[str] = []
    mid_fillers = MID_FILLERS[language]
    if words and rng.random() < filler_rate:
        out.append(rng.choice(FILLERS[language]))
    skip_next = False
    for i, word in enumerate(words):
        if skip_next:
            skip_next = False
            continue
        bare = word.rstrip("?")
        # Only plain words slip: digits, hyphenated forms and protected names stay as said.
        if slips and bare.isalpha() and bare not in protected:
            roll = rng.random()
            if bare in ASR_SLIPS:
                if roll < 0.06:
                    word = rng.choice(ASR_SLIPS[bare])
            elif not generic_slips:
                pass
            elif roll < 0.004 and len(bare) > 6:
                cut = rng.randint(3, len(bare) - 3)
                word = bare[:cut] + " " + bare[cut:]
            elif (
                roll < 0.009
                and i + 1 < len(words)
                and len(bare) <= 3
                and words[i + 1] not in protected
                and words[i + 1].isalpha()
            ):
                word = bare + words[i + 1]
                skip_next = True
            elif roll < 0.013 and len(bare) > 4:
                j = rng.randint(1, len(bare) - 2)
                word = bare[:j] + bare[j + 1 :]
        out.append(word)
        nxt = words[i + 1] if i + 1 < len(words) else None
        # Never hesitate inside a number or before a name: evidence must stay in one piece.
        if (
            slips
            and generic_slips
            and nxt is not None
            and nxt.isalpha()
            and word.isalpha()
            and nxt not in protected
            and len(words) > 6
            and rng.random() < filler_rate / 12
        ):
            out.append(rng.choice(mid_fillers))
    return " ".join(out)


# --- typed chat -------------------------------------------------------------

AGENT_EMOJI: tuple[str, ...] = ("😊", "🙂", "👍", "🙏")
CUSTOMER_EMOJI: tuple[str, ...] = ("🙏", "😊", "👍", "😢", "🤔", "😅", ")))", ")", "!!")
ANGRY_EMOJI: tuple[str, ...] = ("😡", "🤬", "😤", "!!!")
_TRAILING_DOT = re.compile(r"\.$")


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5 or not word.isalpha():
        return word
    j = rng.randint(1, len(word) - 3)
    kind = rng.random()
    if kind < 0.5:
        return word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    if kind < 0.8:
        return word[:j] + word[j + 1 :]
    return word[:j] + word[j] + word[j:]


def typed_style(
    text: str,
    speaker: str,
    rng: random.Random,
    protected: frozenset[str] = frozenset(),
    angry: bool = False,
    allow_typos: bool = True,
) -> str:
    """Agents type neatly with the odd emoji; customers drop capitals, dots and letters."""
    if speaker == "agent":
        if allow_typos and rng.random() < 0.04:
            text = _typo_in_sentence(text, rng, protected)
        if rng.random() < 0.06 and not text.endswith("?"):
            text = text + " " + rng.choice(AGENT_EMOJI)
        return text
    if rng.random() < 0.45:
        text = text.lower()
    if rng.random() < 0.6:
        text = _TRAILING_DOT.sub("", text)
    if allow_typos and rng.random() < 0.15:
        text = _typo_in_sentence(text, rng, protected)
    if angry and rng.random() < 0.15:
        text = text + " " + rng.choice(ANGRY_EMOJI)
    elif rng.random() < 0.08:
        text = text + " " + rng.choice(CUSTOMER_EMOJI)
    return text


def _typo_in_sentence(text: str, rng: random.Random, protected: frozenset[str]) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha() and w.lower().strip(",.!?") not in protected]
    if not candidates:
        return text
    i = rng.choice(candidates)
    words[i] = _typo(words[i], rng)
    return " ".join(words)


def word_count(text: str) -> int:
    return max(1, len(text.split()))
