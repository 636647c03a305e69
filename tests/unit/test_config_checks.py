"""What validate_all refuses, and what it says when it falls back on a default (issue 8, items 12-13)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contactqa.config import DEFAULT_CONFIG_DIR, ConfigError, Scorecard, load_model, load_project, write_project_file

CARD = (DEFAULT_CONFIG_DIR / "scorecard.yml").read_text(encoding="utf-8")


def _project(tmp_path: Path, settings: dict | None = None, **files: str) -> Path:
    """A project using the repo's QA files except those given here as text (scorecard, sampling, routing)."""
    data = dict(settings or {})
    for key, text in files.items():
        (tmp_path / f"{key}.yml").write_text(text, encoding="utf-8")
        data[key] = f"{key}.yml"
    write_project_file(tmp_path / "contactqa.yml", data)
    return tmp_path / "contactqa.yml"


def test_duplicate_criterion_id_names_both_key_paths(tmp_path):
    # a later criterion takes the id of the first one
    assert CARD.count("- id: PII_DISCLOSURE") == 1
    path = tmp_path / "scorecard.yml"
    path.write_text(CARD.replace("- id: PII_DISCLOSURE", "- id: GREETING"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_model(Scorecard, path)
    message = str(caught.value)
    card = load_model(Scorecard, DEFAULT_CONFIG_DIR / "scorecard.yml")
    where = {c.id: f"sections[{i}].criteria[{j}].id" for i, s in enumerate(card.sections)
             for j, c in enumerate(s.criteria)}
    assert str(path) in message
    assert f"{where['PII_DISCLOSURE']}: criterion id 'GREETING' is used twice" in message
    assert f"first at {where['GREETING']}" in message
    assert "(top level)" not in message


def test_unknown_regulation_clause_is_refused_with_the_known_ones(tmp_path):
    config = _project(tmp_path, scorecard=CARD.replace('regulation: "SR-2.2"', 'regulation: "SR-9.9"'))
    card = load_model(Scorecard, tmp_path / "scorecard.yml")
    where = next(f"sections[{i}].criteria[{j}].regulation" for i, s in enumerate(card.sections)
                 for j, c in enumerate(s.criteria) if c.regulation == "SR-9.9")
    with pytest.raises(ConfigError) as caught:
        load_project(config).validate_all()
    message = str(caught.value)
    assert str(tmp_path / "scorecard.yml") in message
    assert f"{where}: clause 'SR-9.9' is not in" in message
    assert str(DEFAULT_CONFIG_DIR / "regulations") in message
    assert "known clauses: SR-2.1, SR-2.2, SR-3.1" in message and "SR-6.4" in message


def test_regulation_clauses_need_a_regulations_folder(tmp_path):
    config = _project(tmp_path, {"regulations_dir": str(tmp_path / "no-such-folder")})
    with pytest.raises(ConfigError) as caught:
        load_project(config).validate_all()
    assert "is not in" in str(caught.value) and "no-such-folder" in str(caught.value)
    assert "known clauses: none" in str(caught.value)


def test_the_default_project_cites_only_existing_clauses():
    lines = load_project(DEFAULT_CONFIG_DIR / "contactqa.yml").validate_all()
    assert any("regulations" in line and "15 clauses" in line for line in lines)


def test_defaults_used_for_seed_and_sender_are_said(tmp_path):
    config = _project(tmp_path, sampling="period: month\nquotas: {voice: 1, chat: 1}\n",
                      routing="cc_supervisor: true\n")
    project = load_project(config)
    said = "\n".join(project.validate_all())
    assert "no seed given: the default seed 20261101 is used" in said
    assert "no sender given: the default sender qa@contactqa.local is used" in said
    assert len(project.defaults_used()) == 2


def test_no_default_notes_when_seed_and_sender_are_given(tmp_path):
    project = load_project(_project(tmp_path, sampling="seed: 5\n", routing="sender: qa@bank.kz\n"))
    assert project.defaults_used() == []
    said = "\n".join(project.validate_all())
    assert "no seed given" not in said and "no sender given" not in said
