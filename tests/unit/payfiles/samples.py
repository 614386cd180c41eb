"""The payment-file samples under tests/data/{valid,invalid}/payfiles, generated from code.

Run ``python -m tests.unit.payfiles.samples`` to rewrite them; ``test_samples_are_generated``
checks that the committed files are exactly what this module makes. ISO 20022 samples are
rendered by :func:`cardbatch.payfiles.iso20022.render`, so they are the "generated fixtures"
that must validate against the XSDs shipped in ``sepaxml``.
"""

from __future__ import annotations

import io
import sys
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl

from cardbatch.payfiles import iso20022, parse_batch_file, pre_check_rows, render_returns, tabular
from cardbatch.payfiles.model import BatchFile, BatchRow, RowResult, row_failure, row_success
from cardbatch.payfiles.reasons import reason_by_key

DATA = Path(__file__).resolve().parents[2] / "data"
VALID = DATA / "valid" / "payfiles"
INVALID = DATA / "invalid" / "payfiles"
EXPECTED = DATA / "expected" / "payfiles"
STAMP_DATE = date(2024, 4, 15)

PIPE_GBK_PAYROLL = [
    "1|1|20090906|1046|1|1|5|12900.50|",
    "01|客户01|300.00|1000123800020|1046|1|1|01|",
    "02|客户02|300.00|1000124600023|1046|1|1|01|",
    "03|李　四|5000.00|1000125100017|1046|1|1|01|",
    "04|王五|4200.50|1000125900019|1046|1|1|01|",
    "05|赵六|3100.00|1000126700011|1046|1|1|01|",
]
PIPE_UTF8_COLLECTION = [
    "1|1|20240415|2088|1|1|4|236.50|",
    "01|陈一|58.00|6222020000000001|2088|1|1|02|",
    "02|周二|58.00|6222020000000002|2088|1|1|02|",
    "03|吴三|120.50|6222020000000003|2088|1|1|02|",
    "04|郑四|0.00|6222020000000004|2088|1|1|02|",
]
CSV_ZH_GBK_PAYROLL = [
    "账号,户名,金额,用途",
    "1000123800020,客户01,8000.00,四月工资",
    "1000124600023,客户02,7500.00,四月工资",
    "1000125100017,ＬＩ　Ｌｅｉ,6200.00,四月工资",
    "合计,3,21700.00,20240415",
]
CSV_EN_UTF8_COLLECTION = [
    "account,name,amount,memo,mandate_id",
    "6222020000000001,Chen Yi,30.00,=1+2,MD-0001",
    '6222020000000002,Zhou Er,45.50,"@SUM(A1:A9)",MD-0002',
    "6222020000000003,Wu San,12.00,+86 water fee,MD-0003",
    "6222020000000004,Zheng Si,99.00,-refund,MD-0004",
]
CSV_EN_DECLARED = (4, 18650)


def _pipe(lines: list[str], newline: str, encoding: str) -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


def _csv(lines: list[str], newline: str, encoding: str) -> bytes:
    return (newline.join(lines) + newline).encode(encoding)


def xlsx_payroll() -> bytes:
    """An XLSX with Chinese headers, numeric amounts and a formula-like memo."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["账号", "户名", "金额", "用途"])
    sheet.append(["1000123800020", "客户01", 3000.5, "工资"])
    sheet.append(["1000124600023", "客户02", 4000, "工资"])
    sheet.append(["1000125100017", '=HYPERLINK("x")', 1500.25, "工资"])
    sheet.append(["合计", 3, "8500.75", "20240415"])
    sheet["B4"].data_type = "s"  # a text cell beginning with "=", not a formula
    buffer = io.BytesIO()
    book.save(buffer)
    return tabular.reproducible_xlsx(buffer.getvalue(), datetime(2024, 4, 15))


def _iso_batch(fmt: str) -> BatchFile:
    payroll = fmt == "pain.001"
    rows = []
    names = ["张三", "李四", "王五", "赵六", "钱七"]
    amounts = [850000, 920050, 700000, 660000, 1230099] if payroll else [5800, 12000, 3650, 9900]
    for index, amount_fen in enumerate(amounts):
        rows.append(
            BatchRow(
                line_no=0,
                seq=f"{index + 1:04d}",
                name=names[index],
                account=f"62220200000001{index + 1:02d}",
                amount_fen=amount_fen,
                memo="2024年4月工资" if payroll else "物业费 2024-04",
                end_to_end_id=f"{'PAY' if payroll else 'FEE'}-20240415-{index + 1:04d}",
                mandate_id="" if payroll else f"MNDT-{index + 1:04d}",
                mandate_signed_on=None if payroll else date(2023, 1, 10 + index),
                group_id=("PMT-A" if index < 3 else "PMT-B") if payroll else "PMT-DD-1",
            )
        )
    return BatchFile(
        kind="payroll" if payroll else "collection",
        format="pain.001" if payroll else "pain.008",
        encoding="utf-8",
        source_name="",
        content_sha256="",
        batch_date=STAMP_DATE,
        unit_no=None,
        message_id="PAYROLL-20240415-0001" if payroll else "FEES-20240415-0001",
        declared_count=None,
        declared_total_fen=None,
        rows=tuple(rows),
        party_account="1000999900001" if payroll else "1000888800001",
        party_name="华南精密制造有限公司" if payroll else "城东物业管理有限公司",
        created_at="2024-04-14T18:30:00",
    )


def pain001() -> bytes:
    return iso20022.render(_iso_batch("pain.001"))


def pain008() -> bytes:
    return iso20022.render(_iso_batch("pain.008"))


def valid_samples() -> dict[str, bytes]:
    return {
        "pipe_gbk_crlf_payroll_20090906.txt": _pipe(PIPE_GBK_PAYROLL, "\r\n", "gbk"),
        "pipe_utf8_collection_20240415.txt": _pipe(PIPE_UTF8_COLLECTION, "\n", "utf-8"),
        "csv_zh_headers_gbk_control_line_payroll.csv": _csv(CSV_ZH_GBK_PAYROLL, "\r\n", "gbk"),
        "csv_en_headers_utf8_declared_totals_collection.csv": _csv(
            CSV_EN_UTF8_COLLECTION, "\n", "utf-8"
        ),
        "xlsx_zh_headers_control_line_payroll.xlsx": xlsx_payroll(),
        "pain001_payroll_20240415.xml": pain001(),
        "pain008_collection_20240415.xml": pain008(),
    }


def _replace(data: bytes, old: str, new: str, count: int = 1) -> bytes:
    assert old.encode() in data, old
    return data.replace(old.encode(), new.encode(), count)


XXE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
)
LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE Document [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n'
        for n in range(1, 10)
    )
    + "]>\n"
)


def invalid_samples() -> dict[str, bytes]:
    p001, p008 = pain001(), pain008()
    body001 = p001.split(b"\n", 1)[1]
    body008 = p008.split(b"\n", 1)[1]
    pipe_utf8 = PIPE_UTF8_COLLECTION
    return {
        "pipe_gbk_count_mismatch_summary_says_6.txt": _pipe(
            [PIPE_GBK_PAYROLL[0].replace("|5|", "|6|"), *PIPE_GBK_PAYROLL[1:]], "\r\n", "gbk"
        ),
        "pipe_utf8_sum_mismatch_summary_says_300.txt": _pipe(
            [pipe_utf8[0].replace("236.50", "300.00"), *pipe_utf8[1:]], "\n", "utf-8"
        ),
        "pipe_utf8_bad_date_20240431.txt": _pipe(
            [pipe_utf8[0].replace("20240415", "20240431"), *pipe_utf8[1:]], "\n", "utf-8"
        ),
        "pipe_utf8_bad_amount_letter_o.txt": _pipe(
            [*pipe_utf8[:2], pipe_utf8[2].replace("58.00", "5O.00"), *pipe_utf8[3:]], "\n", "utf-8"
        ),
        "pipe_utf8_duplicate_row.txt": _pipe(
            [pipe_utf8[0].replace("|4|236.50|", "|5|294.50|"), *pipe_utf8[1:], pipe_utf8[1]],
            "\n",
            "utf-8",
        ),
        "pipe_utf8_detail_unit_differs.txt": _pipe(
            [*pipe_utf8[:3], pipe_utf8[3].replace("|2088|", "|2089|"), *pipe_utf8[4:]],
            "\n",
            "utf-8",
        ),
        "pipe_undecodable_bytes.txt": _pipe(PIPE_GBK_PAYROLL[:2], "\n", "gbk")
        + b"03|\xff\xfe|1.00|\n",
        "pipe_utf8_short_detail_line.txt": _pipe([*pipe_utf8[:2], "02|周二|58.00|"], "\n", "utf-8"),
        "csv_zh_sum_mismatch.csv": _csv(
            [*CSV_ZH_GBK_PAYROLL[:-1], "合计,3,21000.00,20240415"], "\n", "utf-8"
        ),
        "csv_en_count_mismatch.csv": _csv(
            [*CSV_EN_UTF8_COLLECTION[:4], "TOTAL,4,87.50"], "\n", "utf-8"
        ),
        "csv_en_bad_amount_three_decimals.csv": _csv(
            [
                *CSV_EN_UTF8_COLLECTION[:2],
                "6222020000000002,Zhou Er,45.505,fee,MD-2",
                "TOTAL,2,75.51",
            ],
            "\n",
            "utf-8",
        ),
        "csv_en_unknown_column.csv": _csv(
            ["account,name,amount,colour", "6222020000000001,Chen Yi,30.00,red", "TOTAL,1,30.00"],
            "\n",
            "utf-8",
        ),
        "csv_zh_no_control_line.csv": _csv(CSV_ZH_GBK_PAYROLL[:-1], "\n", "utf-8"),
        "csv_zh_bad_date_in_control_line.csv": _csv(
            [*CSV_ZH_GBK_PAYROLL[:-1], "合计,3,21700.00,2024-02-30"], "\n", "utf-8"
        ),
        "xlsx_not_a_zip.xlsx": b"PK\x03\x04 this is not really a workbook",
        "pain001_malformed_truncated.xml": p001[: len(p001) // 2],
        "pain001_xsd_invalid_no_debtor_agent.xml": _remove_between(p001, "<DbtrAgt>", "</DbtrAgt>"),
        "pain001_xsd_invalid_pmtmtd_chk.xml": _replace(
            p001, "<PmtMtd>TRF</PmtMtd>", "<PmtMtd>XXX</PmtMtd>"
        ),
        "pain001_xxe_external_entity.xml": XXE.encode()
        + _replace(body001, "<Nm>张三</Nm>", "<Nm>&xxe;</Nm>"),
        "pain008_billion_laughs.xml": LAUGHS.encode()
        + _replace(body008, "<Nm>张三</Nm>", "<Nm>&lol9;</Nm>"),
        "pain008_count_mismatch_nboftxs_5.xml": _replace(
            p008, "<NbOfTxs>4</NbOfTxs>", "<NbOfTxs>5</NbOfTxs>"
        ),
        "pain001_sum_mismatch_ctrlsum.xml": _replace(
            p001, "<CtrlSum>43601.49</CtrlSum>", "<CtrlSum>43600.00</CtrlSum>"
        ),
        "pain001_amount_three_decimals.xml": _replace(p001, ">8500.00<", ">8500.005<"),
        "pain001_currency_usd.xml": _replace(p001, 'Ccy="CNY"', 'Ccy="USD"'),
        "pain001_duplicate_end_to_end_id.xml": _replace(
            p001, "PAY-20240415-0002", "PAY-20240415-0001"
        ),
    }


def _remove_between(data: bytes, start: str, end: str) -> bytes:
    text = data.decode()
    head, rest = text.split(start, 1)
    return (head + rest.split(end, 1)[1]).encode()


LOAN_SCHEDULE_ZH = [
    "贷款编号,期数,账号,户名,还款日,金额",
    "L2024-0001,1,1000123800020,客户01,20240515,1520.33",
    "L2024-0001,2,1000123800020,客户01,20240615,1520.33",
    "L2024-0002,1,1000124600023,客户02,20240520,880.00",
]


def valid_loan_samples() -> dict[str, bytes]:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["loan_id", "account", "due_date", "amount"])
    sheet.append(["L2024-0003", "1000125100017", datetime(2024, 5, 25), 2000.5])
    buffer = io.BytesIO()
    book.save(buffer)
    return {
        "loan_schedule_zh_headers_gbk.csv": _csv(LOAN_SCHEDULE_ZH, "\r\n", "gbk"),
        "loan_schedule_en_headers.xlsx": tabular.reproducible_xlsx(
            buffer.getvalue(), datetime(2024, 4, 15)
        ),
    }


def invalid_loan_samples() -> dict[str, bytes]:
    rows = LOAN_SCHEDULE_ZH
    return {
        "loan_schedule_duplicate_instalment.csv": _csv([*rows, rows[1]], "\n", "utf-8"),
        "loan_schedule_bad_due_date.csv": _csv(
            [*rows[:2], rows[2].replace("20240615", "20240631")], "\n", "utf-8"
        ),
        "loan_schedule_zero_amount.csv": _csv(
            [*rows[:3], rows[3].replace("880.00", "0.00")], "\n", "utf-8"
        ),
    }


def write_all() -> None:
    valid = valid_samples() | valid_loan_samples()
    invalid = invalid_samples() | invalid_loan_samples()
    for folder, samples in ((VALID, valid), (INVALID, invalid)):
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in samples.items():
            (folder / name).write_bytes(data)
            print(folder / name, file=sys.stderr)


# ---------------------------------------------------------------- expected return files

OUTCOMES_FILE = EXPECTED / "outcomes.toml"


def outcomes() -> dict[str, Any]:
    with OUTCOMES_FILE.open("rb") as handle:
        return tomllib.load(handle)


def created_at() -> datetime:
    return datetime.fromisoformat(outcomes()["created_at"])


def parse_valid(name: str) -> BatchFile:
    spec = outcomes()[name]
    return parse_batch_file(
        VALID / name,
        spec["kind"],
        declared_count=spec.get("declared_count"),
        declared_total_fen=spec.get("declared_total_fen"),
    )


def fixed_results(batch: BatchFile, failures: dict[str, str]) -> list[RowResult]:
    """Per-row results: the pure checks first, then the fixed outcome list, else success."""
    results = []
    for row, pre in zip(batch.rows, pre_check_rows(batch), strict=True):
        key = row.end_to_end_id or str(row.line_no)
        if pre is not None:
            results.append(pre)
        elif key in failures:
            results.append(row_failure(row, reason_by_key(failures[key])))
        else:
            results.append(row_success(row))
    return results


def expected_returns(name: str) -> dict[str, bytes]:
    batch = parse_valid(name)
    results = fixed_results(batch, outcomes()[name]["failures"])
    return render_returns(batch, results, created_at())


def write_expected() -> None:
    for name in valid_samples():
        for out_name, data in expected_returns(name).items():
            (EXPECTED / out_name).write_bytes(data)
            print(EXPECTED / out_name, file=sys.stderr)


if __name__ == "__main__":
    write_all()
    write_expected()
