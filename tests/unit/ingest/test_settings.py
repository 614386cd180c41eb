"""Import settings: declared once, documented in docs/ingest.md, overridable by environment."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from cardbatch.ingest.settings import SETTINGS_HELP, IngestSettings, settings_from_env

DOC = Path(__file__).resolve().parents[3] / "docs" / "ingest.md"


def test_docs_list_every_setting_with_its_default_and_unit() -> None:
    text = DOC.read_text(encoding="utf-8")
    defaults = IngestSettings()
    for item in fields(IngestSettings):
        unit = SETTINGS_HELP[item.name][0]
        pattern = rf"\| `{item.name}` \| {getattr(defaults, item.name)} \| {unit} \|"
        assert re.search(pattern, text), item.name
    assert set(SETTINGS_HELP) == {item.name for item in fields(IngestSettings)}


def test_environment_overrides() -> None:
    settings = settings_from_env({"CARDBATCH_IMPORT_CHUNK_ROWS": "7"})
    assert settings.chunk_rows == 7
    with pytest.raises(ValueError, match="CHUNK_ROWS"):
        settings_from_env({"CARDBATCH_IMPORT_CHUNK_ROWS": "0"})
