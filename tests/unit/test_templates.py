"""The one jinja Environment: its mask filter, autoescape, language fallback and number formats."""

from __future__ import annotations

from contactqa.reporting.templates import environment, format_mmss, get_template


def test_one_environment_with_mask_filter_and_autoescape():
    env = environment()
    assert env is environment()
    template, used = get_template("report.html.j2", "ru_RU")
    assert used == "ru"
    html = env.from_string("{{ q|mask }}").render(q="<b>4111 1111 1111 1111</b>")
    assert html == "&lt;b&gt;**** **** **** 1111&lt;/b&gt;"
    text_template = env.from_string("{{ q|mask }}")  # strings default to escaped too
    assert "&lt;" in text_template.render(q="<")
    assert format_mmss(125_400) == "2:05" and format_mmss(3_725_000) == "1:02:05" and format_mmss(None) == "—"
