"""Reports from the scoring marts: the monitoring report (HTML) and the shared jinja2 Environment."""

from contactqa.reporting.report import render_report
from contactqa.reporting.templates import environment, get_template, render

__all__ = ["render_report", "environment", "get_template", "render"]
