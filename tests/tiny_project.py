"""A tiny project for command-line tests that need a real run but not a real centre.

One agent in the directory and a day of Asterisk CDRs (a few calls), pointed at the repo's own
scorecard, catalogue, regulations and knowledge base: ingest takes seconds and everything a
command reads exists. Pass `sampling`/`routing`/`scorecard` text to use files of the test's own.
"""

from __future__ import annotations

from pathlib import Path

from contactqa.config import write_project_file

DIRECTORY = ("agent_id,full_name,email,team,supervisor_email,locale,extension\n"
             "A001,Aigerim Nurlanova,aigerim@bank.kz,Cards,sup@bank.kz,en,1001\n")


def _cdr_line(day: int, n: int) -> str:
    start = f"2026-10-{day:02d} 10:{n:02d}:00"
    end = f"2026-10-{day:02d} 10:{n:02d}:50"
    return (f'"cards","7701{day}{n:06d}","700","from-trunk","","PJSIP/trunk-0000001a","PJSIP/1001-0000001b",'
            f'"Queue","cards","{start}","{start}","{end}",50,50,"ANSWERED","DOCUMENTATION","17620{day}{n:04d}.{n}",""')


def make_tiny_project(root: Path, *, days: int = 1, calls_per_day: int = 5, sampling: str | None = None,
                      routing: str | None = None, scorecard: str | None = None) -> Path:
    """Write the exports and contactqa.yml under `root`; returns the project file. The warehouse is
    `root/warehouse/contactqa.duckdb` and does not exist until a command creates it."""
    (root / "dir").mkdir(parents=True)
    (root / "dir" / "agents.csv").write_text(DIRECTORY, encoding="utf-8")
    (root / "cdr").mkdir()
    for day in range(5, 5 + days):
        lines = [_cdr_line(day, n) for n in range(calls_per_day)]
        (root / "cdr" / f"Master-2026-10-{day:02d}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data: dict = {"warehouse": "warehouse/contactqa.duckdb", "output_dir": "output", "timezone": "Asia/Almaty",
                  "sources": [{"name": "directory", "type": "agent_directory", "location": "dir"},
                              {"name": "asterisk", "type": "asterisk_cdr", "location": "cdr",
                               "timezone": "Asia/Almaty"}]}
    for key, text in (("sampling", sampling), ("routing", routing), ("scorecard", scorecard)):
        if text is not None:
            (root / f"{key}.yml").write_text(text, encoding="utf-8")
            data[key] = f"{key}.yml"
    write_project_file(root / "contactqa.yml", data)
    return root / "contactqa.yml"
