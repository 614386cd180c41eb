"""ISO 20022 batch files: pain.001.001.03 (payroll) and pain.008.001.02 (collections) in,
pain.002.001.03 status reports out.

Input is parsed with lxml with entity resolution, DTD loading and network access off, and any
document with a DOCTYPE is refused (XXE and entity expansion both need one). Input is then
validated against the official XSDs shipped inside the ``sepaxml`` package. Amounts are read as
yuan text into integer fen (more than two decimals is refused); the currency must be CNY.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from lxml import etree

from cardbatch.money import format_fen
from cardbatch.payfiles import textio
from cardbatch.payfiles.model import (
    ERRORS_MAX,
    ROWS_MAX,
    BatchFile,
    BatchRow,
    FileError,
    FileProblem,
    Format,
    Kind,
    file_error,
)

CURRENCY = "CNY"
NS_PAIN001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
NS_PAIN008 = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"
NS_PAIN002 = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"
MESSAGE_NAMES: dict[str, str] = {"pain.001": "pain.001.001.03", "pain.008": "pain.008.001.02"}
_NAMESPACES: dict[str, Format] = {NS_PAIN001: "pain.001", NS_PAIN008: "pain.008"}
_KIND_OF: dict[str, Kind] = {"pain.001": "payroll", "pain.008": "collection"}
NOT_PROVIDED = "NOTPROVIDED"


def safe_parser() -> Any:
    """An lxml parser that never resolves entities, loads DTDs or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


@cache
def schema(fmt: str) -> Any:
    """The official XSD of ``fmt`` ("pain.001" or "pain.008") from the sepaxml package."""
    xsd = resources.files("sepaxml").joinpath("schemas", f"{MESSAGE_NAMES[fmt]}.xsd")
    with resources.as_file(xsd) as path:
        return etree.XMLSchema(etree.parse(str(path), safe_parser()))


def looks_like_xml(data: bytes) -> bool:
    """True when the bytes start (after a BOM and blanks) with ``<``."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


def message_format(data: bytes, source: str) -> Format:
    """Which pain message the document is: a quick look at its start, else a full parse."""
    head = data[:8192]
    for namespace, fmt in _NAMESPACES.items():
        if namespace.encode() in head:
            return fmt
    return _format_of(parse_xml(data, source).getroot(), source)


def _format_of(root: Any, source: str) -> Format:
    namespace = etree.QName(root).namespace or ""
    if namespace not in _NAMESPACES:
        raise file_error(
            source,
            root.sourceline,
            "namespace",
            namespace,
            "not a pain.001.001.03 or pain.008.001.02 document",
            "wrong_message",
        )
    return _NAMESPACES[namespace]


_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(rb"<[A-Za-z_]")


def _unsafe(source: str) -> FileError:
    reason = "a DOCTYPE is not allowed (entities and DTDs are refused)"
    return file_error(source, 1, "xml", "DOCTYPE", reason, "unsafe_xml")


def parse_xml(data: bytes, source: str) -> Any:
    """The XML tree of ``data``; malformed or DOCTYPE-bearing documents are a FileError.

    A DOCTYPE before the root element is refused before parsing (so entity expansion never
    starts); the parser itself resolves no entities and loads nothing, as a second guard.
    """
    doctype, root = _DOCTYPE.search(data), _FIRST_ELEMENT.search(data)
    if doctype and (root is None or doctype.start() < root.start()):
        raise _unsafe(source)
    try:
        tree = etree.parse(io.BytesIO(data), safe_parser())
    except etree.XMLSyntaxError as exc:
        raise file_error(
            source, exc.lineno, "xml", "", f"malformed XML: {exc.msg}", "malformed_xml"
        ) from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise _unsafe(source)
    return tree


def validate_xsd(tree: Any, fmt: Format, source: str) -> list[FileProblem]:
    """Every XSD violation of ``tree`` against the official schema of ``fmt``."""
    xml_schema = schema(fmt)
    if xml_schema.validate(tree):
        return []
    return [
        textio.problem(source, error.line, "xsd", "", str(error.message), "xsd_invalid")
        for error in list(xml_schema.error_log)[:ERRORS_MAX]
    ]


# ---------------------------------------------------------------- parse pain.001 / pain.008


class _Group(NamedTuple):
    group_id: str
    batch_date: date | None
    party_name: str
    party_account: str


def parse(
    data: bytes,
    *,
    source: str,
    kind: Kind,
    declared_count: int | None = None,
    declared_total_fen: int | None = None,
) -> BatchFile:
    """Parse and XSD-validate a pain.001 (payroll) or pain.008 (collection) document."""
    tree = parse_xml(data, source)
    fmt = _format_of(tree.getroot(), source)
    if _KIND_OF[fmt] != kind:
        raise file_error(
            source, None, "message", MESSAGE_NAMES[fmt], f"not a {kind} message", "wrong_message"
        )
    xsd_problems = validate_xsd(tree, fmt, source)
    if xsd_problems:
        raise FileError(xsd_problems)
    ns = {"p": NS_PAIN001 if fmt == "pain.001" else NS_PAIN008}
    document = tree.getroot()[0]
    header = document.find("p:GrpHdr", ns)
    problems: list[FileProblem] = []
    groups, rows = _payments(document, fmt, ns, source, problems)
    count, total = _control_totals(header, ns, source, declared_count, declared_total_fen, problems)
    if problems:
        raise FileError(problems[:ERRORS_MAX])
    return BatchFile(
        kind=kind,
        format=fmt,
        encoding="utf-8",
        source_name=source,
        content_sha256=textio.sha256_hex(data),
        batch_date=groups[0].batch_date,
        unit_no=None,
        message_id=str(header.findtext("p:MsgId", namespaces=ns)),
        declared_count=count,
        declared_total_fen=total,
        rows=tuple(rows),
        party_account=groups[0].party_account,
        party_name=groups[0].party_name,
        currency=CURRENCY,
        created_at=str(header.findtext("p:CreDtTm", namespaces=ns)),
    )


def _payments(
    document: Any, fmt: Format, ns: dict[str, str], source: str, problems: list[FileProblem]
) -> tuple[list[_Group], list[BatchRow]]:
    """The payment groups (PmtInf) and their transactions as rows, in document order."""
    groups: list[_Group] = []
    rows: list[BatchRow] = []
    tx_tag = "p:CdtTrfTxInf" if fmt == "pain.001" else "p:DrctDbtTxInf"
    for payment in document.iterfind("p:PmtInf", ns):
        group = _group(payment, fmt, ns, source, problems)
        groups.append(group)
        for tx in payment.iterfind(tx_tag, ns):
            rows.append(_row(tx, fmt, group.group_id, ns, source, problems))
            if len(rows) > ROWS_MAX:
                reason = f"more than {ROWS_MAX} rows"
                raise file_error(source, None, "rows", "", reason, "too_many_rows")
    _check_groups(groups, source, problems)
    return groups, rows


def _control_totals(
    header: Any,
    ns: dict[str, str],
    source: str,
    declared_count: int | None,
    declared_total_fen: int | None,
    problems: list[FileProblem],
) -> tuple[int | None, int | None]:
    """GrpHdr NbOfTxs and CtrlSum (optional in the XSD), merged with declared totals."""
    line_no = int(header.sourceline)
    count_text = str(header.findtext("p:NbOfTxs", "", ns))
    in_file_count = textio.parse_count(count_text, source, line_no, problems)
    sum_text = header.findtext("p:CtrlSum", None, ns)
    in_file_total = (
        textio.parse_amount(str(sum_text), source, line_no, problems, "total")
        if sum_text is not None
        else None
    )
    count = textio.merge_declared(in_file_count, declared_count, "count", source, problems)
    total = textio.merge_declared(in_file_total, declared_total_fen, "total", source, problems)
    if total is None:
        reason = "no GrpHdr/CtrlSum and no declared total"
        problems.append(textio.problem(source, line_no, "total", "", reason, "no_control", "AM10"))
    return count, total


def _account(element: Any, ns: dict[str, str]) -> str:
    """The account number of a CashAccount16: IBAN or Othr/Id."""
    if element is None:
        return ""
    iban = element.findtext("p:Id/p:IBAN", namespaces=ns)
    return str(iban if iban is not None else element.findtext("p:Id/p:Othr/p:Id", "", ns))


def _group(
    payment: Any, fmt: Format, ns: dict[str, str], source: str, problems: list[FileProblem]
) -> _Group:
    party = "Dbtr" if fmt == "pain.001" else "Cdtr"
    date_tag = "p:ReqdExctnDt" if fmt == "pain.001" else "p:ReqdColltnDt"
    date_text = str(payment.findtext(date_tag, "", ns))[:10]  # xs:date may carry a zone
    batch_date = textio.parse_compact_date(date_text, source, payment.sourceline, problems)
    return _Group(
        group_id=str(payment.findtext("p:PmtInfId", "", ns)),
        batch_date=batch_date,
        party_name=str(payment.findtext(f"p:{party}/p:Nm", "", ns)).strip(),
        party_account=_account(payment.find(f"p:{party}Acct", ns), ns).strip(),
    )


def _check_groups(groups: Sequence[_Group], source: str, problems: list[FileProblem]) -> None:
    """One file is one employer or biller on one date: all PmtInf must agree."""
    first = groups[0]
    for group in groups[1:]:
        if group.party_account != first.party_account:
            problems.append(
                textio.problem(
                    source,
                    None,
                    "account",
                    group.party_account,
                    "payment groups name different employer/biller accounts",
                    "unit_mismatch",
                    "NARR",
                )
            )
        if group.batch_date != first.batch_date:
            problems.append(
                textio.problem(
                    source,
                    None,
                    "date",
                    str(group.batch_date),
                    "payment groups have different dates",
                    "mixed_dates",
                    "DT01",
                )
            )


def _row(
    tx: Any,
    fmt: Format,
    group_id: str,
    ns: dict[str, str],
    source: str,
    problems: list[FileProblem],
) -> BatchRow:
    line_no = int(tx.sourceline)
    counterparty = "Cdtr" if fmt == "pain.001" else "Dbtr"
    amount_path = "p:Amt/p:InstdAmt" if fmt == "pain.001" else "p:InstdAmt"
    amount_element = tx.find(amount_path, ns)
    amount_fen = 0
    if amount_element is None:
        problems.append(textio.problem(source, line_no, "amount", "", "no InstdAmt", "bad_amount"))
    else:
        amount_fen = _amount(amount_element, source, problems)
    mandate = "p:DrctDbtTx/p:MndtRltdInf/"
    signed_text = str(tx.findtext(f"{mandate}p:DtOfSgntr", "", ns))[:10]
    memo = " ".join(str(text) for text in tx.xpath("p:RmtInf/p:Ustrd/text()", namespaces=ns))
    return BatchRow(
        line_no=line_no,
        seq=str(tx.findtext("p:PmtId/p:InstrId", "", ns)),
        name=textio.check_text(
            str(tx.findtext(f"p:{counterparty}/p:Nm", "", ns)), "name", source, line_no, problems
        ),
        account=textio.check_text(
            _account(tx.find(f"p:{counterparty}Acct", ns), ns),
            "account",
            source,
            line_no,
            problems,
        ),
        amount_fen=amount_fen,
        memo=memo.strip(),
        end_to_end_id=str(tx.findtext("p:PmtId/p:EndToEndId", "", ns)),
        mandate_id=str(tx.findtext(f"{mandate}p:MndtId", "", ns)),
        mandate_signed_on=(
            textio.parse_compact_date(signed_text, source, line_no, problems, "DtOfSgntr")
            if signed_text
            else None
        ),
        group_id=group_id,
    )


def _amount(element: Any, source: str, problems: list[FileProblem]) -> int:
    currency = element.get("Ccy")
    if currency != CURRENCY:
        problems.append(
            textio.problem(
                source,
                element.sourceline,
                "currency",
                str(currency),
                f"only {CURRENCY} is accepted",
                "bad_currency",
            )
        )
    return textio.parse_amount(str(element.text), source, int(element.sourceline), problems)


def validate(batch: BatchFile) -> list[FileProblem]:
    """Format rules beyond the XSD: EndToEndIds are unique within the message."""
    seen: dict[str, int] = {}
    problems: list[FileProblem] = []
    for row in batch.rows:
        first_line = seen.setdefault(row.end_to_end_id, row.line_no)
        if first_line != row.line_no and len(problems) < ERRORS_MAX:
            problems.append(
                textio.problem(
                    batch.source_name,
                    row.line_no,
                    "EndToEndId",
                    row.end_to_end_id,
                    f"EndToEndId already used on line {first_line}",
                    "duplicate_end_to_end_id",
                    "AM05",
                )
            )
    return problems


# ---------------------------------------------------------------- render pain.001 / pain.008


def _sub(parent: Any, tag: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{parent.nsmap[None]}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _party(parent: Any, tag: str, name: str) -> None:
    _sub(_sub(parent, tag), "Nm", name)


def _cash_account(parent: Any, tag: str, account: str) -> None:
    _sub(_sub(_sub(_sub(parent, tag), "Id"), "Othr"), "Id", account)


def _agent(parent: Any, tag: str) -> None:
    _sub(_sub(_sub(_sub(parent, tag), "FinInstnId"), "Othr"), "Id", NOT_PROVIDED)


def render(batch: BatchFile) -> bytes:
    """A pain.001 or pain.008 document for ``batch`` (used to generate and round-trip fixtures).

    One PmtInf per distinct ``group_id``; amounts as yuan with two decimals in CNY.
    """
    fmt = batch.format
    assert fmt in MESSAGE_NAMES, f"not an ISO 20022 batch: {fmt}"
    namespace = NS_PAIN001 if fmt == "pain.001" else NS_PAIN008
    root = etree.Element(f"{{{namespace}}}Document", nsmap={None: namespace})
    document = _sub(root, "CstmrCdtTrfInitn" if fmt == "pain.001" else "CstmrDrctDbtInitn")
    header = _sub(document, "GrpHdr")
    _sub(header, "MsgId", batch.message_id or "")
    _sub(header, "CreDtTm", batch.created_at or "")
    _sub(header, "NbOfTxs", str(_declared_count(batch)))
    _sub(header, "CtrlSum", format_fen(_declared_total(batch), grouping=False))
    _party(header, "InitgPty", batch.party_name or "")
    for group_id in dict.fromkeys(row.group_id for row in batch.rows):
        rows = [row for row in batch.rows if row.group_id == group_id]
        if fmt == "pain.001":
            _render_transfer_group(document, batch, group_id, rows)
        else:
            _render_debit_group(document, batch, group_id, rows)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def _declared_count(batch: BatchFile) -> int:
    return batch.declared_count if batch.declared_count is not None else len(batch.rows)


def _declared_total(batch: BatchFile) -> int:
    total = batch.declared_total_fen
    return total if total is not None else batch.total_fen


def _group_header(
    document: Any, batch: BatchFile, group_id: str, rows: Sequence[BatchRow], method: str
) -> Any:
    payment = _sub(document, "PmtInf")
    _sub(payment, "PmtInfId", group_id)
    _sub(payment, "PmtMtd", method)
    _sub(payment, "NbOfTxs", str(len(rows)))
    _sub(payment, "CtrlSum", format_fen(sum(row.amount_fen for row in rows), grouping=False))
    return payment


def _render_transfer_group(
    document: Any, batch: BatchFile, group_id: str, rows: Sequence[BatchRow]
) -> None:
    payment = _group_header(document, batch, group_id, rows, "TRF")
    _sub(payment, "ReqdExctnDt", batch.batch_date.isoformat() if batch.batch_date else "")
    _party(payment, "Dbtr", batch.party_name or "")
    _cash_account(payment, "DbtrAcct", batch.party_account or "")
    _agent(payment, "DbtrAgt")
    for row in rows:
        tx = _sub(payment, "CdtTrfTxInf")
        _payment_id(tx, row)
        amount = format_fen(row.amount_fen, grouping=False)
        _sub(_sub(tx, "Amt"), "InstdAmt", amount, Ccy=batch.currency)
        _party(tx, "Cdtr", row.name)
        _cash_account(tx, "CdtrAcct", row.account)
        _remittance(tx, row)


def _render_debit_group(
    document: Any, batch: BatchFile, group_id: str, rows: Sequence[BatchRow]
) -> None:
    payment = _group_header(document, batch, group_id, rows, "DD")
    _sub(_sub(payment, "PmtTpInf"), "SeqTp", "RCUR")
    _sub(payment, "ReqdColltnDt", batch.batch_date.isoformat() if batch.batch_date else "")
    _party(payment, "Cdtr", batch.party_name or "")
    _cash_account(payment, "CdtrAcct", batch.party_account or "")
    _agent(payment, "CdtrAgt")
    for row in rows:
        tx = _sub(payment, "DrctDbtTxInf")
        _payment_id(tx, row)
        _sub(tx, "InstdAmt", format_fen(row.amount_fen, grouping=False), Ccy=batch.currency)
        mandate = _sub(_sub(tx, "DrctDbtTx"), "MndtRltdInf")
        _sub(mandate, "MndtId", row.mandate_id)
        if row.mandate_signed_on:
            _sub(mandate, "DtOfSgntr", row.mandate_signed_on.isoformat())
        _agent(tx, "DbtrAgt")
        _party(tx, "Dbtr", row.name)
        _cash_account(tx, "DbtrAcct", row.account)
        _remittance(tx, row)


def _payment_id(tx: Any, row: BatchRow) -> None:
    payment_id = _sub(tx, "PmtId")
    if row.seq:
        _sub(payment_id, "InstrId", row.seq)
    _sub(payment_id, "EndToEndId", row.end_to_end_id)


def _remittance(tx: Any, row: BatchRow) -> None:
    if row.memo:
        _sub(_sub(tx, "RmtInf"), "Ustrd", row.memo)
