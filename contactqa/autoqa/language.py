"""Words as a rule sees them: normalised tokens, Russian reduced to lemmas.

"Доброго дня" and "добрый день" share lemmas, so a phrase written once in the scorecard
matches its inflected and spoken variants. English and Kazakh tokens are only normalised.

A phrase matches a turn when its lemmas occur in order with at most one filler word between
neighbours ("добрый ээ день"), or, for phrases of 8 characters or more, when a window of the
turn's words of about the phrase's length is within `fuzzy_threshold` (rapidfuzz ratio) of it
("добрый дент"). Two marks make a phrase a pattern, for wording no list can enumerate:
`word*` is any word that starts so ("здрав*": здравствуйте, здрасьте, здрасте; "рахмет*":
рахмет, рахметтен — Kazakh has no lemmatiser here, so its endings are left open this way), and
`...` between words allows up to four words between them ("я ... раз ... повторя*": "я вам уже
третий раз это повторяю"); `...2` allows up to two. Patterns are matched exactly, never fuzzily. `matches` says that for one turn and one phrase in the plainest way;
`PhraseMatcher` gives the same answers for many turns and phrases at once, fast enough for a
million contacts: a first-lemma index for the exact pass, a letter-count screen that rules out
almost every (window, phrase) pair before rapidfuzz compares the rest, and per-turn tokens and
lemmas computed once, on first use, and shared by every rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from bisect import bisect_left
from collections import Counter
from functools import cached_property, lru_cache
from typing import Sequence

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

_TOKEN = re.compile(r"[0-9a-zа-яёәғқңөұүһі']+", re.IGNORECASE)
_CYRILLIC = re.compile(r"[а-яё]")
_KAZAKH = re.compile(r"[әғқңөұүһі]")

MAX_GAP = 1  # filler words allowed between two words of a phrase ("добрый ээ день")
GAP_WORDS = 4  # words `...` allows between its neighbours in a pattern ("я ... повторяю")
_GAP_MARK = re.compile(r"(?:\.\.\.|…)(\d*)")
FUZZY_MIN_CHARS = 8  # shorter phrases ("hi", "bye") are exact-only: fuzzily they would match half the language


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=200_000)
def lemma(token: str) -> str:
    if _CYRILLIC.search(token) and not _KAZAKH.search(token):
        return _morph().parse(token)[0].normal_form.replace("ё", "е")
    return token.strip("'")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("ё", "е"))


@dataclass(frozen=True)
class Step:
    """One word of a pattern: the lemma (or, with `prefix`, the start) a turn's word must have, and
    how many other words may come between it and the step before."""

    word: str
    prefix: bool
    gap: int


@dataclass(frozen=True)
class Phrase:
    text: str
    lemmas: tuple[str, ...]
    normalised: str
    pattern: tuple[Step, ...] | None = None  # when the text uses `word*` or `...`


def compile_phrase(text: str) -> Phrase:
    toks = tokens(text)
    pattern = _compile_pattern(text) if ("*" in text or _GAP_MARK.search(text)) else None
    return Phrase(text, tuple(lemma(t) for t in toks), " ".join(toks), pattern)


def _compile_pattern(text: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    gap = MAX_GAP
    for part in text.split():
        mark = _GAP_MARK.fullmatch(part)
        if mark:
            gap = int(mark.group(1)) if mark.group(1) else GAP_WORDS
            continue
        words = tokens(part)
        for position, word in enumerate(words):
            prefix = part.rstrip(",.!?;:)»\"").endswith("*") and position == len(words) - 1
            steps.append(Step(word if prefix else lemma(word), prefix, gap))
            gap = MAX_GAP
    if not steps:
        raise ValueError(f"phrase {text!r} has no words")
    return tuple(steps)


def _step_matches(step: Step, word: str, word_lemma: str) -> bool:
    if step.prefix:
        return word.startswith(step.word) or word_lemma.startswith(step.word)
    return word_lemma == step.word or word == step.word


def _pattern_from(words: Sequence[str], lemmas: Sequence[str], pattern: tuple[Step, ...], index: int,
                  position: int) -> bool:
    """Do steps `index`.. match after the word at `position`, each within its gap (trying every fit)?"""
    step = pattern[index]
    for at in range(position + 1, min(len(words), position + 2 + step.gap)):
        if _step_matches(step, words[at], lemmas[at]) and (
                index + 1 == len(pattern) or _pattern_from(words, lemmas, pattern, index + 1, at)):
            return True
    return False


def pattern_in(words: Sequence[str], lemmas: Sequence[str], pattern: tuple[Step, ...]) -> bool:
    """Does the turn (its words and their lemmas) say the pattern?"""
    first = pattern[0]
    return any(_step_matches(first, words[start], lemmas[start])
               and (len(pattern) == 1 or _pattern_from(words, lemmas, pattern, 1, start))
               for start in range(len(words)))


def _fuzzy_widths(phrase: Phrase) -> frozenset[int]:
    """Window widths (in words) a phrase is compared with fuzzily: an ASR slip may split or merge a word."""
    size = len(phrase.lemmas)
    return frozenset({max(1, size - 1), size, size + 1})


@dataclass
class Utterance:
    """One turn. Its tokens and lemmas are computed on first use, then shared by every rule."""

    seq: int
    speaker: str
    offset_ms: int
    end_offset_ms: int
    text: str
    message_id: str | None = None
    # What the turn disclosed in full before ingest masked its text ('card_number', 'national_id').
    pii_kinds: tuple[str, ...] = ()

    @cached_property
    def tokens(self) -> list[str]:
        return tokens(self.text)

    @cached_property
    def lemmas(self) -> tuple[str, ...]:
        return tuple(map(lemma, self.tokens))

    @cached_property
    def _bigrams(self) -> set[str]:
        """The letter pairs of the turn's words, space-joined (for ruling phrases out before comparing)."""
        text = " ".join(self.tokens)
        return {text[i:i + 2] for i in range(len(text) - 1)}


def _windows(words: list[str], width: int) -> list[str]:
    """Every run of `width` consecutive words, space-joined; the whole turn when it has fewer words."""
    if len(words) <= width:
        return [" ".join(words)]
    return [" ".join(words[start:start + width]) for start in range(len(words) - width + 1)]


def _contains_at(lemmas: Sequence[str], start: int, phrase: tuple[str, ...], max_gap: int = MAX_GAP) -> bool:
    """The phrase's lemmas from `lemmas[start]` on, each next one within `max_gap` filler words (first fit)."""
    position = start
    for word in phrase[1:]:
        window = lemmas[position + 1: position + 2 + max_gap]
        if word not in window:
            return False
        position += 1 + window.index(word)
    return True


def _contains(lemmas: tuple[str, ...], phrase: tuple[str, ...], max_gap: int = MAX_GAP) -> bool:
    """The phrase's lemmas in order, allowing `max_gap` filler words between neighbours ("добрый ээ день")."""
    if not phrase:
        return False
    return any(word == phrase[0] and _contains_at(lemmas, start, phrase, max_gap)
               for start, word in enumerate(lemmas))


def matches(utterance: Utterance, phrase: Phrase, fuzzy_threshold: int) -> bool:
    """Does this one turn say this one phrase? (`PhraseMatcher` answers the same for many at once.)"""
    if phrase.pattern is not None:
        return pattern_in(utterance.tokens, utterance.lemmas, phrase.pattern)
    if _contains(utterance.lemmas, phrase.lemmas):
        return True
    # ASR slips ("добрый дент", "здрасте"): compare word windows of about the phrase's length fuzzily.
    if fuzzy_threshold >= 100 or len(phrase.normalised) < FUZZY_MIN_CHARS:
        return False
    return any(fuzz.ratio(window, phrase.normalised) >= fuzzy_threshold
               for width in _fuzzy_widths(phrase) for window in _windows(utterance.tokens, width))


class PhraseMatcher:
    """A set of phrases matched against turns: the one place rules ask "was any of these said?"."""

    MAX_CACHED_TURNS = 100_000  # per matcher; the cache of turns already read starts over when full

    def __init__(self, phrases: list[Phrase], fuzzy_threshold: int):
        self.phrases = phrases
        self.fuzzy_threshold = fuzzy_threshold
        # Exact pass: phrases by their first lemma, in phrase order, so a turn is read once.
        self._by_first_lemma: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        self._patterns: list[tuple[int, tuple[Step, ...]]] = []  # patterns are few: each is tried on every turn
        for index, phrase in enumerate(phrases):
            if phrase.pattern is not None:
                self._patterns.append((index, phrase.pattern))
            elif phrase.lemmas:
                self._by_first_lemma.setdefault(phrase.lemmas[0], []).append((index, phrase.lemmas))
        self._fuzzy = None
        eligible = [i for i, p in enumerate(phrases)
                    if p.pattern is None and len(p.normalised) >= FUZZY_MIN_CHARS]
        if fuzzy_threshold < 100 and eligible:
            self._fuzzy = _FuzzyIndex([phrases[i] for i in eligible], eligible, fuzzy_threshold)
        # What each turn said, by its text: (first phrase said exactly or None, phrases said fuzzily
        # before that one). Scripted turns ("одну минуту", "спасибо за ожидание") recur across contacts.
        self._turns: dict[str, tuple[int | None, tuple[int, ...]]] = {}

    def first_match(self, utterances: Sequence[Utterance]) -> tuple[Utterance, Phrase] | None:
        """The first turn (in the given order) that says any phrase, with the phrase; None if none does.

        Within a turn the earliest phrase in the list wins, whether it matched exactly or fuzzily.
        """
        utterances = list(utterances)
        said: list[tuple[int | None, tuple[int, ...]]] = []
        unread: list[int] = []
        for position, utterance in enumerate(utterances):
            known = self._turns.get(utterance.text)
            if known is None:
                known = (self._first_exact(utterance), ())
                unread.append(position)
            said.append(known)
            if known[0] is not None:
                break  # no later turn can come first
        if unread:
            if self._fuzzy is not None:
                # On a turn with an exact hit only earlier phrases can still come first.
                limits = [len(self.phrases) if said[p][0] is None else said[p][0] for p in unread]
                for position, fuzzy in zip(unread, self._fuzzy.said([utterances[p] for p in unread], limits)):
                    said[position] = (said[position][0], fuzzy)
            if len(self._turns) + len(unread) > self.MAX_CACHED_TURNS:
                self._turns.clear()
            for position in unread:
                self._turns[utterances[position].text] = said[position]
        for position, (exact, fuzzy) in enumerate(said):
            if fuzzy:
                return utterances[position], self.phrases[fuzzy[0]]  # fuzzy hits are all before `exact`
            if exact is not None:
                return utterances[position], self.phrases[exact]
        return None

    def _first_exact(self, utterance: Utterance) -> int | None:
        """The index of the first phrase (or pattern) the turn says exactly, or None."""
        lemmas = utterance.lemmas
        best = None
        for phrase_index, pattern in self._patterns:
            if best is not None and phrase_index >= best:
                break
            if pattern_in(utterance.tokens, lemmas, pattern):
                best = phrase_index
        index = self._by_first_lemma
        for start, word in enumerate(lemmas):
            candidates = index.get(word)
            if candidates is None:
                continue
            for phrase_index, phrase in candidates:
                if best is not None and phrase_index >= best:
                    break
                if _contains_at(lemmas, start, phrase):
                    best = phrase_index
                    break
        return best


class _FuzzyIndex:
    """The fuzzy pass of a matcher: which phrases is some word window of a turn close to?

    `matches` compares every window of about a phrase's length with every phrase. Almost all of
    those pairs are hopeless, and a turn can be ruled out for a phrase by its letter pairs alone:
    rapidfuzz's ratio is 100 * (1 - d / (len(window) + len(phrase))) with d the insertions and
    deletions that turn one into the other, so a window at ratio >= t is at most
    D = 2 * len(phrase) * (100 - t) / t edits from the phrase. Each edit breaks at most two of the
    phrase's letter pairs ("bigrams"), so at least len(phrase) - 1 - 2 * D of them occur in the
    window, and so in the turn. Turns and phrases that pass that count (a few in a hundred) are
    then compared exactly as `matches` does: every window of the phrase's widths, `cdist` to
    shortlist, `ratio` to decide.
    """

    def __init__(self, phrases: list[Phrase], indices: list[int], threshold: float):
        self.texts = [p.normalised for p in phrases]
        self.indices = indices  # position of each phrase in the matcher's list (ascending)
        self.threshold = threshold
        self.widths = [sorted(_fuzzy_widths(p)) for p in phrases]
        # A point of slack, so float rounding in rapidfuzz can never rule out a true match.
        self.screen = screen = max(threshold - 1.0, 1e-9)
        self.pairs = [[t[i:i + 2] for i in range(len(t) - 1)] for t in self.texts]
        self.needed = [len(t) - 1 - 4 * len(t) * (100 - screen) / screen for t in self.texts]
        # all phrases' bigrams: column per distinct bigram, occurrences per phrase
        self.columns: dict[str, int] = {}
        for pairs in self.pairs:
            for pair in pairs:
                self.columns.setdefault(pair, len(self.columns))
        self.occurrences = np.zeros((len(self.columns) + 1, len(phrases)), dtype=np.float32)  # last row: none
        for j, pairs in enumerate(self.pairs):
            for pair in pairs:
                self.occurrences[self.columns[pair], j] += 1
        self.needed_array = np.array(self.needed, dtype=np.float32)

    def _compared(self, phrase: int, width: int, turn_length: int) -> bool:
        """Is a window of `width` words of a turn of `turn_length` words compared with the phrase?"""
        if width < turn_length:
            return width in self.widths[phrase]
        return width == turn_length and self.widths[phrase][-1] >= turn_length

    def _candidates(self, utterances: list[Utterance], counts: list[int]) -> list[list[int]]:
        """Per turn, the phrases among its first `count` that enough of whose bigrams the turn has."""
        if max(counts) <= 4:
            return [[j for j in range(count) if sum([pair in u._bigrams for pair in self.pairs[j]]) >= self.needed[j]]
                    for u, count in zip(utterances, counts)]
        get = self.columns.get
        rows: list[int] = []
        starts: list[int] = []
        for utterance in utterances:
            starts.append(len(rows))
            rows += [get(pair, -1) for pair in utterance._bigrams]
            rows.append(-1)  # so no turn is empty
        found = np.add.reduceat(self.occurrences[rows], starts, axis=0) >= self.needed_array
        turns, phrases = np.nonzero(found)
        candidates: list[list[int]] = [[] for _ in utterances]
        for turn, j in zip(turns.tolist(), phrases.tolist()):
            if j < counts[turn] and utterances[turn].tokens:
                candidates[turn].append(j)
        return candidates

    def said(self, utterances: list[Utterance], limits: list[int]) -> list[tuple[int, ...]]:
        """Per turn, the phrases before its limit (positions in the matcher, ascending) that some window
        of the turn is close to."""
        windows: list[str] = []
        where: list[tuple[int, int, int]] = []  # turn, width, turn length
        counts = [bisect_left(self.indices, limit) for limit in limits]  # phrases 0..count-1 come before the limit
        candidates = self._candidates(utterances, counts)
        for turn, (utterance, phrases) in enumerate(zip(utterances, candidates)):
            words = utterance.tokens
            if phrases:
                widths = sorted({w for j in phrases for w in self.widths[j] if w < len(words)}
                                | ({len(words)} if any(self.widths[j][-1] >= len(words) for j in phrases) else set()))
                for width in widths:
                    for start in range(len(words) - width + 1):
                        windows.append(" ".join(words[start:start + width]))
                        where.append((turn, width, len(words)))
        found: list[set[int]] = [set() for _ in utterances]
        if windows:
            columns = sorted(set().union(*candidates))
            scores = cdist(windows, [self.texts[j] for j in columns], scorer=fuzz.ratio,
                           score_cutoff=self.screen, dtype=np.float32)
            for row, column in zip(*np.nonzero(scores >= self.screen)):
                turn, width, turn_length = where[row]
                j = columns[column]
                if j not in found[turn] and j in candidates[turn] and self._compared(j, width, turn_length) \
                        and fuzz.ratio(windows[row], self.texts[j]) >= self.threshold:
                    found[turn].add(j)
        return [tuple(self.indices[j] for j in sorted(phrases)) for phrases in found]
