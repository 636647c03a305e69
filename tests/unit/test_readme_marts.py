"""The README documents every mart and every column BI users read, as the dbt project declares them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _marts() -> dict[str, list[str]]:
    marts: dict[str, list[str]] = {}
    for path in (ROOT / "dbt_project" / "models" / "marts").rglob("*.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
            marts[model["name"]] = [c["name"] for c in model.get("columns", [])]
    return marts


def test_every_mart_and_column_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^### `marts\.(\w+)`\n(.*?)(?=^### |^## )", readme, flags=re.S | re.M))
    marts = _marts()
    assert set(marts) == set(sections), "README's marts section is out of step with dbt_project/models/marts"
    for name, columns in marts.items():
        documented = re.findall(r"^\| `(\w+)` \|", sections[name], flags=re.M)
        assert documented == columns, f"{name}: README lists {documented}, the model has {columns}"
