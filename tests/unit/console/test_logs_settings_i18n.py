"""JSON log lines with the run id, the settings table, and the page labels."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

from cardbatch.api.settings import SETTINGS, ConsoleSettings
from cardbatch.logs import JsonFormatter, bind_run
from cardbatch.web.i18n import LABELS, LANGS, translator

DOCS = Path(__file__).resolve().parents[3] / "docs" / "console.md"
TEMPLATES = Path(__file__).resolve().parents[3] / "src" / "cardbatch" / "web" / "templates"


def _logger(sink: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(sink)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("cardbatch.test.logs")
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False
    return log


def test_every_line_is_json_and_carries_the_run_id() -> None:
    sink = io.StringIO()
    log = _logger(sink)
    log.info("before any run")
    with bind_run("autopay:2026-04-23"):
        log.info("chunk done", extra={"items": 500})
        log.warning("declined for card %s", "6222021234567894")
    log.info("explicit", extra={"run_id": "payroll:2026-04-25"})
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert "run_id" not in lines[0]
    assert [x.get("run_id") for x in lines[1:]] == ["autopay:2026-04-23"] * 2 + [
        "payroll:2026-04-25"
    ]
    assert lines[1]["items"] == 500 and lines[2]["level"] == "warning"
    assert lines[2]["msg"] == "declined for card 622202******7894"


def test_settings_are_documented_and_read_from_the_environment() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert f"`{setting.name}`" in docs and f"CARDBATCH_{setting.name.upper()}" in docs
    env = {"CARDBATCH_UPLOAD_ROWS_MAX": "10", "CARDBATCH_COOKIE_SECURE": "true"}
    got = ConsoleSettings.from_env("sqlite:///x.db", env)
    assert got.upload_rows_max == 10 and got.cookie_secure is True
    assert ConsoleSettings.from_env("sqlite:///x.db", {}).upload_rows_max == 1_000_000


def test_labels_have_both_languages_and_templates_use_only_known_keys() -> None:
    assert LANGS == ("zh", "en")
    for key, (zh, en) in LABELS.items():
        assert (zh and en and zh != en) or key == "switch_lang", key
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+)'\)", template.read_text(encoding="utf-8")))
    assert used <= set(LABELS)
    assert translator("en")("transactions") == "Transaction details"
    assert translator("zh")("transactions") == "交易明细"
