from pathlib import Path

import pytest

from contactqa.config import DEFAULT_CONFIG_DIR, DEFAULT_PROJECT_FILE, ConfigError, Scorecard, load_model, load_project


def test_default_project_and_its_files_are_valid():
    lines = load_project(DEFAULT_PROJECT_FILE).validate_all()
    assert any("scorecard" in line and "criteria" in line for line in lines)


def test_default_scorecard_exercises_every_rule_type():
    from contactqa.config import RULE_TYPES

    scorecard = load_project(DEFAULT_PROJECT_FILE).scorecard()
    assert {c.rule.type for c in scorecard.criteria()} == set(RULE_TYPES)


def _scorecard(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scorecard.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_error_names_the_file_the_key_and_the_problem(tmp_path):
    path = _scorecard(tmp_path, """
version: "1"
name: test
sections:
  - id: opening
    title: {en: Opening, ru: Начало}
    criteria:
      - id: GREETING
        title: {en: Greeting, ru: Приветствие}
        weight: -5
        error_code: OPEN-01
        rule: {type: required_phrase, phrases: {ru: [здравствуйте]}}
""")
    with pytest.raises(ConfigError) as caught:
        load_model(Scorecard, path)
    message = str(caught.value)
    assert str(path) in message
    assert "sections[0].criteria[0].weight" in message
    assert "greater than or equal to 0" in message


def test_unknown_rule_type_and_misspelt_key_are_reported(tmp_path):
    path = _scorecard(tmp_path, """
version: "1"
name: test
sections:
  - id: opening
    title: {en: Opening, ru: Начало}
    criteria:
      - id: GREETING
        title: {en: Greeting, ru: Приветствие}
        wieght: 5
        weight: 5
        error_code: OPEN-01
        rule: {type: telepathy}
""")
    with pytest.raises(ConfigError) as caught:
        load_model(Scorecard, path)
    message = str(caught.value)
    assert "wieght: unknown key" in message
    assert "sections[0].criteria[0].rule" in message and "telepathy" in message


def test_yaml_syntax_error_gives_line(tmp_path):
    path = _scorecard(tmp_path, "version: '1'\nsections: [\n  - id: x\n")
    with pytest.raises(ConfigError) as caught:
        load_model(Scorecard, path)
    assert "line" in str(caught.value) and "not valid YAML" in str(caught.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_project(tmp_path / "nope.yml")


def test_bad_timezone_in_a_source(tmp_path):
    path = tmp_path / "contactqa.yml"
    path.write_text("sources:\n  - {name: cdr, type: asterisk_cdr, location: x, timezone: Mars/Olympus}\n")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.timezone: unknown timezone 'Mars/Olympus'"):
        load_project(path)


def test_error_code_must_exist_in_catalogue(tmp_path):
    project = load_project(DEFAULT_PROJECT_FILE)
    text = Path(project.resolve(project.config.scorecard)).read_text(encoding="utf-8")
    scorecard = tmp_path / "scorecard.yml"
    scorecard.write_text(text.replace("error_code: OPEN-01", "error_code: NOPE-99"), encoding="utf-8")
    config = tmp_path / "contactqa.yml"
    config.write_text(f"scorecard: {scorecard}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="NOPE-99"):
        load_project(config).validate_all()


def test_source_options_are_checked_by_their_connector(tmp_path):
    path = tmp_path / "contactqa.yml"
    path.write_text("sources:\n  - {name: pbx, type: mapped_cdr, location: x, options: {header: true}}\n")
    with pytest.raises(ConfigError, match=r"sources\[0\]\.options: .*columns"):
        load_project(path).validate_all()


def test_sampling_plan_flags_reach_the_dbt_build(tmp_path):
    """Every flag of the plan file ends up in the vars dbt samples with; older keys still work,
    include_critical: false included (it used to be ignored)."""
    from contactqa.config import load_project, write_project_file
    from contactqa.marts import project_vars
    from contactqa.sources.base import customer_key

    (tmp_path / "sampling.yml").write_text(
        "seed: 7\nper_agent_per_channel: 5\ninclude_critical: false\nperiod: week\nspread_over_days: false\n"
        "exclusions: {min_talk_seconds: 12, queues: [test], customer_numbers: ['+7 (727) 000-00-01']}\n"
        "assignment: {evaluators: [{id: E1, team: North}], avoid_own_team: true}\n", encoding="utf-8")
    write_project_file(tmp_path / "contactqa.yml", {"timezone": "Asia/Almaty", "close_after_days": 5,
                                                   "sampling": "sampling.yml"})
    variables = project_vars(load_project(tmp_path / "contactqa.yml"), "2026-12-01")
    plan = variables["sampling_plan"]
    assert variables["timezone"] == "Asia/Almaty" and variables["close_after_days"] == 5
    assert variables["as_of_date"] == "2026-12-01"
    assert plan["quotas"] == {"voice": 5, "chat": 5, "email": 5}
    assert plan["targeted"]["triggers"]["autoqa_critical"] is False
    assert plan["period"] == "week" and plan["spread_over_days"] is False and plan["seed"] == "7"
    # internal numbers are keyed exactly as ingest keys customers, whatever the spelling
    assert plan["exclusions"]["customer_keys"] == [customer_key("87270000001")]
    assert plan["exclusions"]["min_talk_seconds"] == 12 and plan["exclusions"]["queues"] == ["test"]
    assert plan["assignment"] == {"evaluators": [{"id": "E1", "team": "North"}], "avoid_own_team": True}


def test_a_scorecard_list_needs_effective_dates(tmp_path):
    from contactqa.config import ConfigError, load_project, write_project_file

    card = (DEFAULT_CONFIG_DIR / "scorecard.yml").read_text(encoding="utf-8")
    (tmp_path / "a.yml").write_text(card, encoding="utf-8")
    (tmp_path / "b.yml").write_text(card.replace('version: "2026.12-1"', 'version: "2027.01-1"')
                                    .replace("effective_from: 2026-01-01", "effective_from: 2026-12-01"), encoding="utf-8")
    write_project_file(tmp_path / "contactqa.yml", {"scorecard": ["b.yml", "a.yml"]})
    project = load_project(tmp_path / "contactqa.yml")
    assert [c.version for c in project.scorecards()] == ["2026.12-1", "2027.01-1"]
    assert project.scorecard().version == "2027.01-1"
    (tmp_path / "b.yml").write_text(card, encoding="utf-8")  # the same version twice
    with pytest.raises(ConfigError, match="is also the version of"):
        project.scorecards()


def _criteria(tmp_path: Path, criterion: str) -> Path:
    return _scorecard(tmp_path, """
version: "1"
name: test
sections:
  - id: conduct
    title: {en: Conduct, ru: Ведение диалога}
    criteria:
""" + criterion)


def test_queues_scope_a_criterion_and_are_checked_like_channels(tmp_path):
    card = load_model(Scorecard, _criteria(tmp_path, """
      - id: RESPONSE_TIME_MESSENGER
        title: {en: Messenger replies, ru: Ответы в мессенджерах}
        weight: 10
        channels: [chat]
        queues: [telegram, whatsapp]
        error_code: CONDUCT-03
        rule: {type: response_time, first_reply_max_seconds: 900, max_customer_wait_seconds: 3600}
"""))
    assert card.criteria()[0].queues == ["telegram", "whatsapp"]
    path = _criteria(tmp_path, """
      - id: RESPONSE_TIME
        title: {en: Live chat replies, ru: Ответы в чате}
        weight: 10
        channels: [chat]
        queues: telegram
        exclude_queue: [cards]
        error_code: CONDUCT-03
        rule: {type: response_time, first_reply_max_seconds: 120, max_customer_wait_seconds: 180}
      - id: RESPONSE_TIME_SOCIAL
        title: {en: Social replies, ru: Ответы в соцсетях}
        weight: 10
        channels: [chat]
        queues: [instagram, instagram]
        error_code: CONDUCT-03
        rule: {type: response_time, first_reply_max_seconds: 900, max_customer_wait_seconds: 3600}
      - id: RESPONSE_TIME_ALL
        title: {en: All replies, ru: Все ответы}
        weight: 10
        channels: [chat]
        queues: [telegram]
        exclude_queues: [cards]
        error_code: CONDUCT-03
        rule: {type: response_time, first_reply_max_seconds: 900, max_customer_wait_seconds: 3600}
""")
    with pytest.raises(ConfigError) as caught:
        load_model(Scorecard, path)
    problems = caught.value.problems
    assert "sections[0].criteria[0].queues: Input should be a valid list (got 'telegram': write a list, " \
           "e.g. [telegram])" in problems
    assert "sections[0].criteria[0].exclude_queue: unknown key (check the spelling)" in problems
    assert "sections[0].criteria[1].queues: listed twice: instagram" in problems
    assert ("sections[0].criteria[2]: give queues (the only queues it applies to) or exclude_queues (every queue "
            "but these), not both") in problems


@pytest.mark.parametrize("rule, problem", [
    ("{type: required_phrase, within_last_turns: 3, not_within_first_turns: x, phrases: {en: [bye]}}",
     "rule.not_within_first_turns: Input should be a valid integer, unable to parse string as an integer"),
    ("{type: required_phrase, within_first_turns: 2, not_within_first_turns: 2, phrases: {en: [hello]}}",
     "rule: not_within_first_turns excludes the turns within_first_turns looks at: give one of them"),
    ("{type: required_phrase, within_first_turns: 3, within_last_turns: 3, phrases: {en: [hello]}}",
     "rule: give within_first_turns or within_last_turns, not both"),
    ("{type: required_phrase, within_first_turns: 2, bare_name_within_first_turns: 3, phrases: {en: [hello]}}",
     "rule: bare_name_within_first_turns (3) cannot exceed within_first_turns (2)"),
    ('{type: required_phrase, within_first_turns: 3, phrases: {en: ["my name is {agent_name}"]}}',
     "rule.phrases: phrase 'my name is {agent_name}': unknown placeholder {agent_name} "
     "(the only one is {agent_first_name})"),
    ("{type: required_phrase, phrases: {en: [bye]}, company_names: KenBank}",
     "rule.company_names: Input should be a valid list (got 'KenBank': write a list, e.g. [KenBank])"),
])
def test_phrase_windows_and_names_are_checked(tmp_path, rule, problem):
    path = _criteria(tmp_path, f"""
      - id: CLOSING
        title: {{en: Closing, ru: Завершение}}
        weight: 10
        error_code: CLOSE-01
        rule: {rule}
""")
    with pytest.raises(ConfigError) as caught:
        load_model(Scorecard, path)
    assert f"sections[0].criteria[0].{problem}" in caught.value.problems


def test_the_default_scorecard_states_its_windows_and_chat_limits():
    criteria = {c.id: c for c in load_project(DEFAULT_PROJECT_FILE).scorecard().criteria()}
    # the closing criteria never look at the opening (GREETING's window)
    assert criteria["CLOSING"].rule.not_within_first_turns == criteria["GREETING"].rule.within_first_turns == 2
    assert criteria["MORE_HELP"].rule.not_within_first_turns == 2 and criteria["MORE_HELP"].rule.within_last_turns is None
    assert criteria["INTRODUCTION"].rule.bare_name_within_first_turns == 1
    assert {"kk"} <= set(criteria["INTRODUCTION"].rule.phrases)
    # live chat and messenger limits split by the same list of queues, telegram among them
    live, messenger = criteria["RESPONSE_TIME"], criteria["RESPONSE_TIME_MESSENGER"]
    assert live.exclude_queues == messenger.queues and "telegram" in messenger.queues and live.queues is None
    assert messenger.rule.first_reply_max_seconds > live.rule.first_reply_max_seconds
