"""The report in a real browser: headless Chromium renders it, screenshots it, and its DOM holds the text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from contactqa.reporting import render_report
from pipeline_warehouse import CARD

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "", shutil.which("chromium-browser") or "")
                 if p and Path(p).exists()), None)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed "
                       "(apt-get install -y --no-install-recommends chromium)"),
]


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args],
        capture_output=True, timeout=60, check=False,
    )


@pytest.fixture(scope="module")
def report(pipeline_centre, tmp_path_factory) -> Path:
    return render_report(pipeline_centre.path, tmp_path_factory.mktemp("page"), language="ru", period="2026-11")


def test_screenshot_is_rendered(report, tmp_path):
    png = tmp_path / "report.png"
    result = _chromium(tmp_path / "profile", f"--screenshot={png}", "--window-size=1280,2400", report.as_uri())
    assert png.exists(), result.stderr.decode(errors="replace")[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank or error page compresses to a few kilobytes


def test_dom_holds_the_key_text(pipeline_centre, report, tmp_path):
    result = _chromium(tmp_path / "profile", "--dump-dom", report.as_uri())
    dom = result.stdout.decode("utf-8")
    names = {a["agent_id"]: a["full_name"] for a in pipeline_centre.agents()}
    assert "Отчёт о мониторинге качества" in dom
    # a name in Cyrillic and one with an apostrophe, as text
    assert names[pipeline_centre.russian_agent] in dom and names[pipeline_centre.english_agent] in dom
    assert "Оценки операторов" in dom and "Качество исходных данных" in dom
    assert "**** **** **** 5671" in dom and CARD not in dom
    # the quote's markup arrived as text: no script element was created from it
    assert "&lt;script&gt;alert" in dom
    assert "<script" not in dom
    assert dom.count("<svg") == 1 and dom.count("<rect") >= len(names)
