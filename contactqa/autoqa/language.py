"""Words as a rule sees them: normalised tokens, Russian reduced to lemmas.

"Доброго дня" and "добрый день" share lemmas, so a phrase written once in the scorecard
matches its inflected and spoken variants. English and Kazakh tokens are only normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

_TOKEN = re.compile(r"[0-9a-zа-яёәғқңөұүһі']+", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]")


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def lemma(token: str) -> str:
    if _CYRILLIC.search(token) and not re.search(r"[әғқңөұүһі]", token):
        return _morph().parse(token)[0].normal_form.replace("ё", "е")
    return token.strip("'")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("ё", "е"))


@dataclass(frozen=True)
class Phrase:
    text: str
    lemmas: tuple[str, ...]
    normalised: str


def compile_phrase(text: str) -> Phrase:
    toks = tokens(text)
    return Phrase(text, tuple(lemma(t) for t in toks), " ".join(toks))


@dataclass
class Utterance:
    """One turn, pre-processed once for all rules."""

    seq: int
    speaker: str
    offset_ms: int
    end_offset_ms: int
    text: str
    message_id: str | None = None

    def __post_init__(self) -> None:
        self.tokens = tokens(self.text)
        self.lemmas = tuple(lemma(t) for t in self.tokens)


def _contains(lemmas: tuple[str, ...], phrase: tuple[str, ...], max_gap: int = 1) -> bool:
    """The phrase's lemmas in order, allowing `max_gap` filler words between neighbours ("добрый ээ день")."""
    if not phrase:
        return False
    for start, word in enumerate(lemmas):
        if word != phrase[0]:
            continue
        position, matched = start, 1
        while matched < len(phrase):
            window = lemmas[position + 1: position + 2 + max_gap]
            if phrase[matched] not in window:
                break
            position += 1 + window.index(phrase[matched])
            matched += 1
        if matched == len(phrase):
            return True
    return False


def matches(utterance: Utterance, phrase: Phrase, fuzzy_threshold: int) -> bool:
    if _contains(utterance.lemmas, phrase.lemmas):
        return True
    # ASR slips ("добрый дент", "здрасте"): compare word windows of the phrase's length fuzzily.
    # Short phrases ("hi", "bye") are exact-only: fuzzily they would match half the language.
    if fuzzy_threshold >= 100 or len(phrase.normalised) < 8:
        return False
    size = len(phrase.lemmas)
    for width in {max(1, size - 1), size, size + 1}:
        for start in range(0, max(1, len(utterance.tokens) - width + 1)):
            window = " ".join(utterance.tokens[start:start + width])
            if fuzz.ratio(window, phrase.normalised) >= fuzzy_threshold:
                return True
    return False


class PhraseMatcher:
    """A set of phrases matched against turns: the one place rules ask "was any of these said?"."""

    def __init__(self, phrases: list[Phrase], fuzzy_threshold: int):
        self.phrases = phrases
        self.fuzzy_threshold = fuzzy_threshold

    def first_match(self, utterances: list[Utterance]) -> tuple[Utterance, Phrase] | None:
        """The first turn (in the given order) that says any phrase, with the phrase; None if none does."""
        for utterance in utterances:
            for phrase in self.phrases:
                if matches(utterance, phrase, self.fuzzy_threshold):
                    return utterance, phrase
        return None
