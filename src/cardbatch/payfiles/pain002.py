"""ISO 20022 pain.002.001.03 customer payment status reports: render (our return file for an
ISO 20022 input) and parse (to check them, and to read reports that other banks send).

Group status: ACCP when every transaction succeeded, RJCT when none did (or the file was refused
as a whole), PART otherwise. Transaction status: ACSC or RJCT with StsRsnInf/Rsn/Cd (the ISO
reason code) and AddtlInf (the Chinese reason). NbOfTxsPerSts carries count and sum per status.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from lxml import etree

from cardbatch.money import MoneyError, format_fen, parse_yuan
from cardbatch.payfiles.iso20022 import MESSAGE_NAMES, NS_PAIN002, parse_xml
from cardbatch.payfiles.model import BatchFile, FileProblem, RowResult, file_error

MESSAGE_NAME = "pain.002.001.03"
TX_ACCEPTED, TX_REJECTED = "ACSC", "RJCT"
GROUP_ACCEPTED, GROUP_PARTIAL, GROUP_REJECTED = "ACCP", "PART", "RJCT"
_ADDITIONAL_INFO_CHARS_MAX = 105


class TxStatus(NamedTuple):
    """One TxInfAndSts of a status report."""

    end_to_end_id: str
    instruction_id: str
    status: str
    reason_code: str
    reason_text: str
    amount_fen: int | None


class StatusReport(NamedTuple):
    """A parsed pain.002: group status, the original message's identity and totals, and the
    per-status counts and sums and transaction statuses it reports."""

    message_id: str
    created_at: str
    original_message_id: str
    original_message_name: str
    original_count: int | None
    original_total_fen: int | None
    group_status: str
    group_reason_codes: tuple[str, ...]
    count_by_status: dict[str, int]
    total_fen_by_status: dict[str, int]
    transactions: tuple[TxStatus, ...]


def report_message_id(original_message_id: str) -> str:
    """A deterministic MsgId (at most 35 characters) for the report on a message."""
    digest = hashlib.sha256(original_message_id.encode()).hexdigest()[:24].upper()
    return f"STS-{digest}"


def group_status(results: Sequence[RowResult]) -> str:
    """ACCP if every row succeeded, RJCT if none did, PART otherwise."""
    successes = sum(1 for result in results if result.ok)
    if results and successes == len(results):
        return GROUP_ACCEPTED
    return GROUP_REJECTED if successes == 0 else GROUP_PARTIAL


# ---------------------------------------------------------------- render


def _el(parent: Any, tag: str, text: str | None = None, **attributes: str) -> Any:
    element = etree.SubElement(parent, f"{{{NS_PAIN002}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _new_report(message_id: str, created_at: datetime, initiating_party: str) -> Any:
    root = etree.Element(f"{{{NS_PAIN002}}}Document", nsmap={None: NS_PAIN002})
    report = _el(root, "CstmrPmtStsRpt")
    header = _el(report, "GrpHdr")
    _el(header, "MsgId", message_id)
    _el(header, "CreDtTm", created_at.strftime("%Y-%m-%dT%H:%M:%S"))
    if initiating_party:
        _el(_el(header, "InitgPty"), "Nm", initiating_party)
    return root, report


def _reason(parent: Any, code: str, text: str) -> None:
    info = _el(parent, "StsRsnInf")
    _el(_el(info, "Rsn"), "Cd", code)
    if text:
        _el(info, "AddtlInf", text[:_ADDITIONAL_INFO_CHARS_MAX])


def _per_status(parent: Any, results: Sequence[RowResult]) -> None:
    for status, wanted in ((TX_ACCEPTED, True), (TX_REJECTED, False)):
        amounts = [result.row.amount_fen for result in results if result.ok is wanted]
        if amounts:
            per_status = _el(parent, "NbOfTxsPerSts")
            _el(per_status, "DtldNbOfTxs", str(len(amounts)))
            _el(per_status, "DtldSts", status)
            _el(per_status, "DtldCtrlSum", format_fen(sum(amounts), grouping=False))


def _to_bytes(root: Any) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def render_status_report(
    batch: BatchFile, results: Sequence[RowResult], created_at: datetime
) -> bytes:
    """The pain.002 for an ISO 20022 ``batch`` whose rows ended as ``results`` (same order)."""
    assert batch.format in MESSAGE_NAMES and batch.message_id, "pain.002 needs an ISO input"
    root, report = _new_report(
        report_message_id(batch.message_id), created_at, batch.party_name or ""
    )
    original = _el(report, "OrgnlGrpInfAndSts")
    _el(original, "OrgnlMsgId", batch.message_id)
    _el(original, "OrgnlMsgNmId", MESSAGE_NAMES[batch.format])
    if batch.created_at:
        _el(original, "OrgnlCreDtTm", batch.created_at)
    _el(original, "OrgnlNbOfTxs", str(len(batch.rows)))
    _el(original, "OrgnlCtrlSum", format_fen(batch.total_fen, grouping=False))
    _el(original, "GrpSts", group_status(results))
    _per_status(original, results)
    for group_id in dict.fromkeys(result.row.group_id for result in results):
        group = [result for result in results if result.row.group_id == group_id]
        _render_payment_group(report, batch, group_id, group)
    return _to_bytes(root)


def _render_payment_group(
    report: Any, batch: BatchFile, group_id: str, results: Sequence[RowResult]
) -> None:
    payment = _el(report, "OrgnlPmtInfAndSts")
    _el(payment, "OrgnlPmtInfId", group_id)
    _el(payment, "OrgnlNbOfTxs", str(len(results)))
    total_fen = sum(result.row.amount_fen for result in results)
    _el(payment, "OrgnlCtrlSum", format_fen(total_fen, grouping=False))
    _el(payment, "PmtInfSts", group_status(results))
    for result in results:
        tx = _el(payment, "TxInfAndSts")
        if result.row.seq:
            _el(tx, "OrgnlInstrId", result.row.seq)
        _el(tx, "OrgnlEndToEndId", result.row.end_to_end_id)
        _el(tx, "TxSts", TX_ACCEPTED if result.ok else TX_REJECTED)
        if not result.ok:
            _reason(tx, result.iso_code, result.reason_cn)
        amount = format_fen(result.row.amount_fen, grouping=False)
        _el(_el(_el(tx, "OrgnlTxRef"), "Amt"), "InstdAmt", amount, Ccy=batch.currency)


def render_group_rejection(
    *,
    original_message_id: str,
    original_message_name: str,
    problem: FileProblem,
    created_at: datetime,
    original_count: int | None = None,
    original_total_fen: int | None = None,
) -> bytes:
    """A pain.002 refusing a whole message (GrpSts RJCT with the problem's ISO reason code)."""
    root, report = _new_report(report_message_id(original_message_id), created_at, "")
    original = _el(report, "OrgnlGrpInfAndSts")
    _el(original, "OrgnlMsgId", original_message_id)
    _el(original, "OrgnlMsgNmId", original_message_name)
    if original_count is not None:
        _el(original, "OrgnlNbOfTxs", str(original_count))
    if original_total_fen is not None:
        _el(original, "OrgnlCtrlSum", format_fen(original_total_fen, grouping=False))
    _el(original, "GrpSts", GROUP_REJECTED)
    _reason(original, problem.iso_code, problem.reason)
    return _to_bytes(root)


# ---------------------------------------------------------------- parse


def parse_status_report(data: bytes, source: str = "pain.002") -> StatusReport:
    """Read a pain.002.001.03 back into a :class:`StatusReport` (safe parser, no DTDs)."""
    root = parse_xml(data, source).getroot()
    if etree.QName(root).namespace != NS_PAIN002:
        raise file_error(
            source, root.sourceline, "namespace", "", "not a pain.002.001.03", "wrong_message"
        )
    ns = {"p": NS_PAIN002}
    report = root.find("p:CstmrPmtStsRpt", ns)
    original = report.find("p:OrgnlGrpInfAndSts", ns)
    counts: dict[str, int] = {}
    totals: dict[str, int] = {}
    for per_status in original.iterfind("p:NbOfTxsPerSts", ns):
        status = str(per_status.findtext("p:DtldSts", "", ns))
        counts[status] = int(per_status.findtext("p:DtldNbOfTxs", "0", ns))
        totals[status] = _fen(per_status.findtext("p:DtldCtrlSum", None, ns), source) or 0
    count_text = original.findtext("p:OrgnlNbOfTxs", None, ns)
    return StatusReport(
        message_id=str(report.findtext("p:GrpHdr/p:MsgId", "", ns)),
        created_at=str(report.findtext("p:GrpHdr/p:CreDtTm", "", ns)),
        original_message_id=str(original.findtext("p:OrgnlMsgId", "", ns)),
        original_message_name=str(original.findtext("p:OrgnlMsgNmId", "", ns)),
        original_count=int(count_text) if count_text is not None else None,
        original_total_fen=_fen(original.findtext("p:OrgnlCtrlSum", None, ns), source),
        group_status=str(original.findtext("p:GrpSts", "", ns)),
        group_reason_codes=tuple(
            str(code) for code in original.xpath("p:StsRsnInf/p:Rsn/p:Cd/text()", namespaces=ns)
        ),
        count_by_status=counts,
        total_fen_by_status=totals,
        transactions=tuple(
            _tx_status(tx, ns, source)
            for tx in report.iterfind("p:OrgnlPmtInfAndSts/p:TxInfAndSts", ns)
        ),
    )


def _tx_status(tx: Any, ns: dict[str, str], source: str) -> TxStatus:
    return TxStatus(
        end_to_end_id=str(tx.findtext("p:OrgnlEndToEndId", "", ns)),
        instruction_id=str(tx.findtext("p:OrgnlInstrId", "", ns)),
        status=str(tx.findtext("p:TxSts", "", ns)),
        reason_code=str(tx.findtext("p:StsRsnInf/p:Rsn/p:Cd", "", ns)),
        reason_text=str(tx.findtext("p:StsRsnInf/p:AddtlInf", "", ns)),
        amount_fen=_fen(tx.findtext("p:OrgnlTxRef/p:Amt/p:InstdAmt", None, ns), source),
    )


def _fen(text: str | None, source: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_yuan(text)
    except MoneyError as exc:
        raise file_error(source, None, "amount", text, str(exc), "bad_amount") from None
