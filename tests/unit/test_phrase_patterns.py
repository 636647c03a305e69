"""Patterns in phrase lists: `word*` for open endings, `...` for words in between.

Real agents do not say the scorecard's phrases word for word: "я вам уже, понимаете, третий раз
это повторяю" is rude without any listed phrase in it, "здрасьте" is a greeting, and Kazakh
endings ("сау болыңыздар", "рахметтен") are many. These tests are turns of those kinds.
"""

from __future__ import annotations

import pytest

from contactqa.autoqa.language import PhraseMatcher, Utterance, compile_phrase, matches


def turn(text: str) -> Utterance:
    return Utterance(1, "agent", 0, 1000, text)


@pytest.mark.parametrize(("phrase", "text"), [
    ("уже ... раз* ... повтор*", "Я вам уже, понимаете, третий раз это повторяю."),
    ("уже ... раз* ... повтор*", "уже раз пятый повторяю одно и то же"),
    ("не ...2 мо* работ*", "Извините, но это вообще не моя работа."),
    ("здрав*", "Здрасьте! Слушаю вас"),
    ("сау бол*", "Жарайды, сау болыңыздар!"),
    ("have a ... weekend", "Cheers, have a really lovely weekend!"),
    ("сөйлес* ... жазыл*", "Ескерте кетейін, сөйлесуіміз жазылып жатыр."),
])
def test_a_pattern_hears_wording_no_list_spells_out(phrase: str, text: str) -> None:
    compiled = compile_phrase(phrase)
    assert compiled.pattern is not None
    assert matches(turn(text), compiled, 88)
    assert PhraseMatcher([compile_phrase("zzz qqq"), compiled], 88).first_match([turn(text)]) is not None


@pytest.mark.parametrize(("phrase", "text"), [
    # the gap is bounded: four words by default, `...2` two
    ("уже ... раз* ... повтор*", "уже завтра будет готово, в прошлый раз мы это тоже делали, и вам повторят"),
    ("не ...2 мо* работ*", "не волнуйтесь, для нас это моя работа"),
    # order counts
    ("have a ... weekend", "the weekend team will have a look"),
    # a prefix is a start of a word, not any part of it
    ("сау бол*", "денсаулығыңыз болсын"),
])
def test_a_pattern_does_not_hear_what_it_does_not_say(phrase: str, text: str) -> None:
    compiled = compile_phrase(phrase)
    assert not matches(turn(text), compiled, 88)
    assert PhraseMatcher([compiled], 88).first_match([turn(text)]) is None


def test_patterns_are_exact_never_fuzzy() -> None:
    """A fuzzy pass on a pattern would let "здрав*" hear any word close to "здрав"; it is exact only."""
    assert not matches(turn("добрый дент"), compile_phrase("добр* ден* утр*"), 50)
    assert matches(turn("добрый дент"), compile_phrase("добрый день"), 85)  # plain phrases stay fuzzy


def test_the_earliest_listed_phrase_wins_whether_plain_or_pattern() -> None:
    matcher = PhraseMatcher([compile_phrase("до свидания"), compile_phrase("сау бол*")], 88)
    hit = matcher.first_match([turn("Сау болыңыз, до свидания!")])
    assert hit is not None and hit[1].text == "до свидания"
    matcher = PhraseMatcher([compile_phrase("сау бол*"), compile_phrase("до свидания")], 88)
    assert matcher.first_match([turn("Сау болыңыз, до свидания!")])[1].text == "сау бол*"


def test_a_pattern_of_only_marks_is_refused() -> None:
    with pytest.raises(ValueError, match="no words"):
        compile_phrase("... *")
