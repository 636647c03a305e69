"""A source's options and timezone, as validate-config and ingest read them (issue 9, item 11)."""

from __future__ import annotations

import pytest

from contactqa.config import ConfigError, load_project, write_project_file
from contactqa.sources.base import CONNECTOR_MODULES, known_options, option_problems


def project_file(tmp_path, source: dict, **project):
    write_project_file(tmp_path / "contactqa.yml", {**project, "sources": [
        {"name": "directory", "type": "agent_directory", "location": "dir"}, source]})
    return tmp_path / "contactqa.yml"


def test_an_unknown_option_names_the_source_the_option_and_the_known_ones(tmp_path):
    path = project_file(tmp_path, {"name": "pbx", "type": "asterisk_cdr", "location": "cdr",
                                   "options": {"queue_number": ["600"]}})
    with pytest.raises(ConfigError) as raised:
        load_project(path).validate_all()
    said = str(raised.value)
    assert "sources[1].options: source 'pbx' (asterisk_cdr): unknown option 'queue_number'" in said
    assert "did you mean 'queue_numbers'?" in said
    assert "asterisk_cdr sources take: columns, extension_pattern, future_tolerance_hours, not_before, queue_numbers" \
        in said


def test_a_source_type_without_options_of_its_own_still_says_what_it_takes(tmp_path):
    assert option_problems("chat_jsonl", {"timezone": "Asia/Almaty"}) == [
        "unknown option 'timezone' (chat_jsonl sources take: future_tolerance_hours, not_before)"]


@pytest.mark.parametrize("source_type", sorted(CONNECTOR_MODULES))
def test_every_source_type_declares_its_options_and_takes_the_time_window(source_type):
    known = known_options(source_type)
    assert {"future_tolerance_hours", "not_before"} <= set(known)
    assert all(isinstance(why, str) and why for why in known.values())
    problems = option_problems(source_type, {"future_tolerance_hours": 48, "not_before": "2015-01-01"})
    assert not [p for p in problems if "future_tolerance_hours" in p or "not_before" in p]  # mapped_cdr wants columns


@pytest.mark.parametrize("source_type, options", [
    ("asterisk_cdr", {"columns": None, "queue_numbers": ["600"], "extension_pattern": r"^1\d{3}$"}),
    ("freeswitch_cdr", {"agent_field": "destination_number", "queue_numbers": [600]}),
    ("telegram", {"conversation_gap_hours": 2, "agent_sender_ids": ["user4242", 4243]}),
    ("telegram", {"agent_sender_ids": {"user4242": "A001"}}),
    ("recordings", {"agent_channel": 1, "vad_mode": 3}),
    ("evaluations", {"sheet": "Оценки"}),
])
def test_documented_options_are_accepted(source_type, options):
    assert option_problems(source_type, options) == []


@pytest.mark.parametrize("options, problem", [
    ({"future_tolerance_hours": "a day"}, "option future_tolerance_hours must be a number of hours"),
    ({"not_before": "01.01.2000"}, "option not_before must be a date like 2000-01-01"),
    ({"agent_sender_ids": [True]}, "option agent_sender_ids must list the centre's from_id values"),
    ({"conversation_gap_hours": 0}, "option conversation_gap_hours must be a number of hours above 0"),
])
def test_bad_option_values_are_named(options, problem):
    assert any(p.startswith(problem) for p in option_problems("telegram", options))


def test_a_source_without_timezone_is_in_the_projects_timezone(tmp_path):
    path = project_file(tmp_path, {"name": "chats", "type": "chat_jsonl", "location": "chats"},
                        timezone="Asia/Almaty")
    directory, chats = load_project(path).config.sources
    assert directory.timezone == chats.timezone == "Asia/Almaty"
    path = project_file(tmp_path, {"name": "chats", "type": "chat_jsonl", "location": "chats", "timezone": "UTC"},
                        timezone="Asia/Almaty")
    assert load_project(path).config.sources[1].timezone == "UTC"  # its own, when it says one
    assert load_project(project_file(tmp_path, {"name": "c", "type": "chat_jsonl", "location": "c"})
                        ).config.sources[1].timezone == "UTC"  # a project without one is in UTC


def test_a_wrong_project_timezone_is_reported_once(tmp_path):
    path = project_file(tmp_path, {"name": "chats", "type": "chat_jsonl", "location": "chats"}, timezone="Mars/Base")
    with pytest.raises(ConfigError) as raised:
        load_project(path)
    assert raised.value.problems == ["timezone: unknown timezone 'Mars/Base' (use an IANA name such as "
                                     "'Asia/Almaty' or 'UTC')"]
