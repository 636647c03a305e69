"""How well the scorecard's phrase criteria hear real wording: precision and recall on labelled turns.

An evaluation set is JSON Lines, one agent turn per line, labelled by a person:

    {"id": "ru-0001", "lang": "ru", "agent_name": "Айгерим Садыкова",
     "text": "Здрасьте, Айгерим на связи", "labels": {"greeting": true, "introduction": true}}

A label names what the turn does; `LABELS` says which criterion of the scorecard judges it. A
label left out of a row is not judged for that row. Each turn is placed where its criterion looks
for it (the opening turn for a greeting, the last for a closing, the middle for an offer of more
help) among turns that say nothing, and judged by the criterion's own rule, with the agent's
name from the row, so the figures are the rules' as they run on contacts, not a separate model.

The sets that measure the default scorecard are in `bench/evalset/`: `dev.jsonl`, which the
phrase lists may be improved against, and `heldout.jsonl`, written apart from it and never used
to change them, so its figures say how the lists do on wording nobody tuned them for.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from contactqa.autoqa.engine import _agent_names as agent_names  # TODO: public name
from contactqa.autoqa.language import Utterance
from contactqa.autoqa.rules import RULES, Contact, Outcome
from contactqa.config import Criterion, Scorecard

# label -> (criterion id, where its turn goes, the result that means "the rule heard it")
LABELS: dict[str, tuple[str, str, str]] = {
    "greeting": ("GREETING", "first", "pass"),
    "introduction": ("INTRODUCTION", "first", "pass"),
    "recording_notice": ("RECORDING_NOTICE", "first", "pass"),
    "more_help": ("MORE_HELP", "middle", "pass"),
    "closing": ("CLOSING", "last", "pass"),
    "rude": ("POLITENESS", "middle", "fail"),
}
_QUIET = "…"  # a turn that says nothing any criterion listens for
_AROUND = 3  # quiet turns on each side of the turn being judged


class EvaluationSetError(ValueError):
    """A line of an evaluation set that cannot be read; the message names the file and the line."""


@dataclass(frozen=True)
class LabelledTurn:
    id: str
    lang: str
    agent_name: str | None
    text: str
    labels: dict[str, bool]


@dataclass
class Tally:
    positives: int = 0
    negatives: int = 0
    true_positives: int = 0
    false_positives: int = 0
    missed: list[LabelledTurn] = field(default_factory=list)
    false_alarms: list[tuple[LabelledTurn, str]] = field(default_factory=list)  # with what the rule heard

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.positives if self.positives else None


def read_set(path: Path) -> list[LabelledTurn]:
    turns = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                turns.append(LabelledTurn(str(row.get("id", f"line {number}")), str(row["lang"]), row.get("agent_name"),
                                          str(row["text"]), {k: bool(v) for k, v in row["labels"].items()}))
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                raise EvaluationSetError(
                    f"{path}, line {number}: not an evaluation row ({type(error).__name__}: {error}); expected "
                    'JSON with "lang", "text" and "labels" (and "agent_name" for introductions)') from error
    return turns


def _criteria(scorecard: Scorecard) -> dict[str, Criterion]:
    return {c.id: c for section in scorecard.sections for c in section.criteria}


def _contact(turn: LabelledTurn, criterion: Criterion, place: str) -> Contact:
    texts = {"first": [turn.text] + [_QUIET] * _AROUND,
             "middle": [_QUIET] * _AROUND + [turn.text] + [_QUIET] * _AROUND,
             "last": [_QUIET] * _AROUND + [turn.text]}[place]
    utterances = [Utterance(seq, "agent", seq * 10_000, seq * 10_000 + 5_000, text)
                  for seq, text in enumerate(texts, 1)]
    channel = "chat" if "chat" in criterion.channels else criterion.channels[0]
    return Contact(contact_id=turn.id, channel=channel, agent_id="measured", agent_names=agent_names(turn.agent_name),
                   topic=None, disposition="answered", utterances=utterances, direction="inbound")


def heard(criterion: Criterion, place: str, turn: LabelledTurn) -> Outcome:
    """The rule's outcome on the turn placed where the criterion looks for it."""
    return RULES[criterion.rule.type](criterion.rule, _contact(turn, criterion, place))


def measure(scorecard: Scorecard, turns: Iterable[LabelledTurn]) -> dict[tuple[str, str], Tally]:
    """Per (label, language): how many turns have it, and how many of those the criterion heard."""
    criteria = _criteria(scorecard)
    tallies: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for turn in turns:
        for label, truth in turn.labels.items():
            if label not in LABELS or LABELS[label][0] not in criteria:
                continue
            criterion_id, place, positive = LABELS[label]
            outcome = heard(criteria[criterion_id], place, turn)
            said = outcome.result == positive
            tally = tallies[(label, turn.lang)]
            if truth:
                tally.positives += 1
                tally.true_positives += said
                if not said:
                    tally.missed.append(turn)
            else:
                tally.negatives += 1
                tally.false_positives += said
                if said:
                    tally.false_alarms.append((turn, outcome.detail or ""))
    return dict(tallies)


def _figure(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def table(tallies: dict[tuple[str, str], Tally], title: str = "") -> str:
    """The figures as a Markdown table, criteria in scorecard order, languages ru, en, kk."""
    order = {label: i for i, label in enumerate(LABELS)}
    languages = {"ru": 0, "en": 1, "kk": 2}
    lines = [f"| {title or 'label'} | criterion | lang | positives | negatives | heard | false alarms | precision | recall |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for (label, lang), t in sorted(tallies.items(), key=lambda kv: (order[kv[0][0]], languages.get(kv[0][1], 9),
                                                                     kv[0][1])):
        lines.append(f"| {label} | {LABELS[label][0]} | {lang} | {t.positives} | {t.negatives} | {t.true_positives} "
                     f"| {t.false_positives} | {_figure(t.precision)} | {_figure(t.recall)} |")
    return "\n".join(lines)


def listing(tallies: dict[tuple[str, str], Tally]) -> list[str]:
    """Each turn a criterion missed, and each it heard wrongly with what it heard: what to read
    before changing a phrase list."""
    lines = []
    for (label, lang), tally in sorted(tallies.items()):
        lines += [f"missed  {label} {lang} {turn.id}: {turn.text}" for turn in tally.missed]
        lines += [f"flagged {label} {lang} {turn.id}: {turn.text} ({detail})" for turn, detail in tally.false_alarms]
    return lines
