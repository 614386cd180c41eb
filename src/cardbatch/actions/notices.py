"""Notice templates and their rendering (pure).

A template is a text file ``<name>.<channel>.txt`` (channel ``sms`` or
``letter``). Lines starting with ``#`` are its header; ``# select: ...`` says
which accounts get the notice:

- ``due_in_days N``: the due date is N days after the business date and something is due;
- ``bucket M1 [M2 ...]``: the account's days past due fall in one of these buckets;
- ``all``: every target account.

The body uses ``${field}`` placeholders from :data:`FIELDS` only; every personal
field is already masked, so no template can print a full number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template

FIELDS = (
    "name",
    "card",
    "card_last4",
    "phone",
    "account_id",
    "due_date",
    "amount_due",
    "minimum_due",
    "dpd",
    "bucket",
    "business_date",
)
CHANNELS = ("sms", "letter")
BUCKET_EDGES_DPD = (
    (0, "M0"),
    (30, "M1"),
    (60, "M2"),
    (90, "M3"),
    (120, "M4"),
    (150, "M5"),
    (180, "M6"),
)
SMS_CHARS_MAX = 500
_NAME_RE = re.compile(r"^[a-z0-9_]{1,48}$")


class TemplateError(ValueError):
    """A template file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Selection:
    kind: str  # due_in_days | bucket | all
    days: int = 0
    buckets: tuple[str, ...] = ()


@dataclass(frozen=True)
class NoticeTemplate:
    name: str
    channel: str
    selection: Selection
    body: str


def bucket_of(dpd: int) -> str:
    """M0 current; M1 1-30; ... M6 151-180; M7 181+ days past due (DOMAIN.md)."""
    for edge, bucket in BUCKET_EDGES_DPD:
        if dpd <= edge:
            return bucket
    return "M7"


def find_template(folder: Path, name: str) -> Path:
    if not _NAME_RE.match(name):
        raise TemplateError(f"template name {name!r}: lower-case letters, digits and _ only")
    found = [folder / f"{name}.{c}.txt" for c in CHANNELS if (folder / f"{name}.{c}.txt").is_file()]
    if len(found) != 1:
        raise TemplateError(f"no single template {name}.sms.txt or {name}.letter.txt in {folder}")
    return found[0]


def load_template(path: Path) -> NoticeTemplate:
    name, _, rest = path.name.partition(".")
    channel = rest.removesuffix(".txt")
    if channel not in CHANNELS:
        raise TemplateError(f"{path}: the name must end in .sms.txt or .letter.txt")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read ({exc})") from None
    header = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")).strip()
    selection = _selection(path, header)
    _check_body(path, body, channel)
    return NoticeTemplate(name, channel, selection, body)


def _selection(path: Path, header: list[str]) -> Selection:
    lines = [h.removeprefix("select:").split() for h in header if h.startswith("select:")]
    if len(lines) != 1 or not lines[0]:
        raise TemplateError(f"{path}: needs exactly one '# select: ...' header line")
    kind, *args = lines[0]
    if kind == "all" and not args:
        return Selection("all")
    if kind == "due_in_days" and len(args) == 1 and args[0].isdigit():
        return Selection("due_in_days", days=int(args[0]))
    known = {b for _, b in BUCKET_EDGES_DPD} | {"M7"}
    if kind == "bucket" and args and set(args) <= known:
        return Selection("bucket", buckets=tuple(args))
    raise TemplateError(f"{path}: select must be 'all', 'due_in_days N' or 'bucket M1 ...'")


def _check_body(path: Path, body: str, channel: str) -> None:
    template = Template(body)
    if not template.is_valid():
        raise TemplateError(f"{path}: a '$' is not followed by a field name; write $$ for '$'")
    unknown = sorted(set(template.get_identifiers()) - set(FIELDS))
    if unknown:
        raise TemplateError(
            f"{path}: unknown field(s) {', '.join(unknown)}; known: {', '.join(FIELDS)}"
        )
    if not body:
        raise TemplateError(f"{path}: the template has no text")
    if channel == "sms" and "\n" in body:
        raise TemplateError(f"{path}: an SMS template is one line")


def render(template: NoticeTemplate, values: dict[str, str]) -> str:
    text = Template(template.body).substitute({f: values.get(f, "-") for f in FIELDS})
    if template.channel == "sms" and len(text) > SMS_CHARS_MAX:
        raise TemplateError(f"template {template.name}: the SMS is over {SMS_CHARS_MAX} chars")
    return text


def selected(
    selection: Selection,
    business_date: date,
    due_date: date | None,
    amount_due_fen: int | None,
    dpd: int | None,
) -> str | None:
    """None when the account gets the notice, else the reason code for skipping it."""
    if selection.kind == "all":
        return None
    if selection.kind == "due_in_days":
        if due_date is None or (due_date - business_date).days != selection.days:
            return "not_due_in_window"
        return None if amount_due_fen and amount_due_fen > 0 else "nothing_due"
    if dpd is None:
        return "dpd_unknown"
    return None if bucket_of(dpd) in selection.buckets else "other_bucket"
