from pathlib import Path

import pytest

from contactqa.config import DEFAULT_PROJECT_FILE, ConfigError, Scorecard, load_model, load_project


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
