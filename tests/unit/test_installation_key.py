"""customer_key is a keyed hash (HMAC-SHA256) under a per-installation secret, never a public default."""

from __future__ import annotations

import hashlib
import hmac
import logging
import stat

import pytest

from contactqa import privacy
from contactqa.sources.base import customer_key


@pytest.fixture()
def key_file(tmp_path, monkeypatch):
    """A key file location of this test's own (the real home directory is never written)."""
    path = tmp_path / "config" / "contactqa" / "key"
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.delenv("CONTACTQA_KEY_SALT", raising=False)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(path))
    return path


def test_a_key_from_the_environment_makes_an_hmac_of_the_normalised_number(monkeypatch):
    secret = "a" * 64
    monkeypatch.setenv(privacy.KEY_ENV, secret)
    expected = hmac.new(secret.encode(), b"77011234567", hashlib.sha256).hexdigest()[:20]
    for spelling in ("+7 701 123 45 67", "87011234567", "77011234567", "+7 (701) 123-45-67"):
        assert customer_key(spelling) == expected
    monkeypatch.setenv(privacy.KEY_ENV, "b" * 64)
    assert customer_key("+7 701 123 45 67") != expected


def test_the_public_salt_no_longer_reproduces_a_key(key_file):
    # The old scheme: sha256("contactqa:<number>"), brute-forced from a key in 49 s.
    public = hashlib.sha256(b"contactqa:77011234567").hexdigest()[:20]
    assert customer_key("+77011234567") != public


def test_first_use_creates_a_private_key_file_and_warns_once(key_file, caplog, monkeypatch):
    monkeypatch.setattr(privacy, "_warned_new_key", False)
    with caplog.at_level(logging.WARNING, logger="contactqa.privacy"):
        first = customer_key("+77011234567")
        assert customer_key("+77011234567") == first  # the same key on the next call
    text = key_file.read_text().strip()
    assert len(text) == 64 and int(text, 16) >= 0  # 32 random bytes, hex
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(key_file) in warnings[0] and "back" in warnings[0].lower()
    assert "old and new customer keys" in warnings[0]
    assert first == hmac.new(text.encode(), b"77011234567", hashlib.sha256).hexdigest()[:20]


def test_two_installations_get_different_keys(tmp_path, key_file, monkeypatch):
    first = customer_key("+77011234567")
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(tmp_path / "other" / "key"))
    assert customer_key("+77011234567") != first


def test_an_existing_key_file_is_used_as_it_is(key_file):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("c" * 64 + "\n")
    assert customer_key("87011234567") == hmac.new(b"c" * 64, b"77011234567", hashlib.sha256).hexdigest()[:20]
    assert privacy.key_fingerprint() == hashlib.sha256(b"c" * 64).hexdigest()[:8]


def test_the_environment_key_wins_over_the_file(key_file, monkeypatch):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("c" * 64)
    monkeypatch.setenv(privacy.KEY_ENV, "d" * 64)
    assert privacy.key_fingerprint() == hashlib.sha256(b"d" * 64).hexdigest()[:8]


@pytest.mark.parametrize("weak", ["", "   ", "contactqa", "short-secret"])
def test_a_weak_or_empty_key_is_refused(key_file, monkeypatch, weak):
    monkeypatch.setenv(privacy.KEY_ENV, weak)
    with pytest.raises(privacy.InstallationKeyError, match="CONTACTQA_KEY"):
        customer_key("+77011234567")


def test_an_empty_key_file_is_refused_not_replaced(key_file):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("")
    with pytest.raises(privacy.InstallationKeyError, match=str(key_file)):
        customer_key("+77011234567")
    assert key_file.read_text() == ""  # an existing file is never overwritten


def test_the_sampling_plan_hashes_its_numbers_with_the_same_key(key_file):
    # marts.project_vars turns the plan's excluded numbers into keys through customer_key
    assert customer_key("+7 727 000 00 01") == privacy.keyed_hash("77270000001")


def test_a_key_file_others_can_read_is_used_with_a_warning(key_file, caplog):
    key_file.parent.mkdir(parents=True)
    key_file.write_text("e" * 64)
    key_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="contactqa.privacy"):
        assert privacy.key_fingerprint() == hashlib.sha256(b"e" * 64).hexdigest()[:8]
    assert any("chmod 600" in r.getMessage() and str(key_file) in r.getMessage() for r in caplog.records)
