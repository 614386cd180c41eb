# ruff: noqa: E501  (sample file contents are kept as they appear in the files)
"""Writes the sample files under examples/ and tests/data/ (run once; the files are committed).

``python -m tests.data.make_samples`` rewrites them. Kept so that the binary and
GBK samples can be reproduced and reviewed as text here.
"""

from __future__ import annotations

import codecs
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
VALID = ROOT / "tests" / "data" / "valid"
INVALID = ROOT / "tests" / "data" / "invalid"
WHOLE = INVALID / "whole_file"

CUSTOMERS_HEADER = "customer_id,name,id_number,phone,city,credit_score"
CUSTOMERS = [
    ("C001", "张三", "11010519491231002X", "13800138000", "北京", "720"),
    ("C002", "李四", "360426199101010071", "13912345678", "南昌", "680"),
    ("C003", "王芳", "310101198503150029", "13700001111", "上海", ""),
    ("C004", "Zhang Wei", "440305199002020015", "", "深圳", "590"),
    ("C005", "陈静", "330106198807070023", "18612345678", "杭州", "810"),
]
DEPOSITS = """账号,户名,客户号,余额,状态,开户日期
D001,张三,C001,5000.00,正常,2020-01-05
D002,李四,C002,1200.50,正常,2021-06-30
D003,王芳,C003,0,正常,2022-02-01
D005,陈静,C005,300.00,冻结,2019-11-11
D900,某某科技有限公司,,1000000.00,正常,2018-01-01
"""
ACCOUNTS = """account_id,customer_id,card_number,product_code,credit_limit,statement_day,repayment_account_id,autopay_mode,status,opened_on
A001,C001,6222021000000005,gold,20000.00,5,D001,full,active,2024-01-10
A002,C002,6222021000000013,standard,10000.00,15,D002,minimum,active,2024-02-01
A003,C003,6222021000000021,standard,5000.00,28,,none,active,2024-02-15
A004,C005,6222021000000039,platinum,50000.00,10,D005,full,frozen,2023-12-01
A005,C004,6222021000000047,standard,8000,20,,,closed,2023-05-05
"""
TRANSACTIONS = """交易流水号,账号,卡号,交易类型,金额,交易日期,入账日期,摘要
T0001,A001,,消费,1000.00,2024-03-29,2024-03-30,超市购物
T0002,A002,,取现,500.00,2024-03-30,2024-03-30,ATM取现
T0003,A001,,退货,100.00,2024-03-30,2024-03-31,退货
T0004,A001,,还款,200.00,2024-03-31,2024-03-31,柜面还款
T0005,,6222021000000021,消费,88.80,2024-03-31,2024-03-31,咖啡
T0006,A004,6222021000000039,退货,66.00,2024-03-31,2024-03-31,书店退货
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def examples() -> None:
    rows = [",".join(row) for row in CUSTOMERS]
    write(EXAMPLES / "customers.csv", "\n".join([CUSTOMERS_HEADER, *rows]) + "\n")
    write(EXAMPLES / "deposits.csv", DEPOSITS)
    write(EXAMPLES / "accounts.csv", ACCOUNTS)
    write(EXAMPLES / "transactions.csv", TRANSACTIONS)


def valid() -> None:
    # GBK, Chinese headers in another order, an extra column, full-width and messy values.
    write(
        VALID / "customers_gbk_zh_messy.csv",
        """姓名,客户号,证件号码,手机号码,城市,信用评分,备注
"张 三",C001,１１０１０５１９４９１２３１００２ｘ,+86 138-0013-8000,北京　,720,老客户
李四,C002,360426199101010071,139 1234 5678,南昌,680,
王芳,C003,310101198503150029,0086-137-0000-1111,上海,,"备注,带逗号"
Zhang  Wei,Ｃ００４,440305199002020015,,深圳,590,
陈静,C005,330106198807070023,１８６１２３４５６７８,杭州,８１０,
""",
        "gbk",
    )
    # UTF-8 with BOM, tab-separated, English headers written the way people write them.
    write(VALID / "customers_utf8_bom_en.tsv", codecs.BOM_UTF8.decode() + "\n".join([
        "Customer ID\tName\tID Number\tPhone\tCity\tCredit-Score",
        *("\t".join(row) for row in CUSTOMERS),
    ]) + "\n")  # fmt: skip
    # GBK pipe file with a trailing delimiter, Chinese statuses and three date forms.
    write(
        VALID / "deposits_gbk_trailing_pipe.txt",
        """账号|户名|客户号|余额|状态|开户日期|
D001|张三|C001|5000.00|正常|2020/1/5|
D002|李四|C002|1200.5|正常|20210630|
D003|王芳|C003|0.00|正常|2022年2月1日|
D005|陈静|C005|￥300|冻结|2019.11.11|
D900|某某科技有限公司||1,000,000.00|正常|2018-01-01|
""",
        "gbk",
    )
    accounts_xlsx(VALID / "accounts_numeric_cells.xlsx")
    write(VALID / "transactions_gbk_fixed.dat", fixed_transactions(), "gbk")
    write(
        VALID / "transactions_utf8_en.csv",
        """txn_id,account_id,card_number,type,amount,txn_date,posting_date,description
T0001,A001,,purchase,"1,000.00",20240329,20240330,超市购物
T0002,A002,,cash,¥500,2024/3/30,2024/3/30,ATM取现
T0003,A001,,refund,100,2024-03-30,2024-03-31,退货
T0004,A001,,payment,200.0,2024-03-31,2024-03-31,柜面还款
T0005,,6222 0210 0000 0021,purchase,88.80,2024-03-31,2024-03-31,咖啡
T0006,A004,6222021000000039,refund,66.00,2024-03-31,2024-03-31,书店退货
""",
    )


def accounts_xlsx(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["账号", "客户号", "卡号", "产品", "信用额度", "账单日", "还款账号", "还款方式",
                  "状态", "开户日期"])  # fmt: skip
    sheet.append(["A001", "C001", "6222021000000005", "gold", 20000, 5, "D001", "全额", "正常",
                  datetime(2024, 1, 10)])  # fmt: skip
    sheet.append(["A002", "C002", "6222021000000013", "standard", 10000.0, 15, "D002", "最低",
                  "正常", date(2024, 2, 1)])  # fmt: skip
    sheet.append(["A003", "C003", "6222021000000021", "standard", 5000, 28, None, None, None,
                  "2024-02-15"])  # fmt: skip
    sheet.append([None] * 10)
    sheet.append(["A004", "C005", "6222021000000039", "platinum", 50000, 10, "D005", "full",
                  "冻结", "2023/12/1"])  # fmt: skip
    sheet.append(["A005", "C004", "6222021000000047", "standard", 8000, 20, None, None, "销户",
                  datetime(2023, 5, 5)])  # fmt: skip
    book.save(path)


FIXED_WIDTHS = (24, 20, 19, 12, 16, 10, 10, 40)


def fixed_record(*cells: str, encoding: str = "gbk") -> str:
    """Pad cells to their byte widths in ``encoding`` (amounts right-aligned)."""
    parts = []
    for index, (cell, width) in enumerate(zip(cells, FIXED_WIDTHS, strict=False)):
        pad = width - len(cell.encode(encoding)) + len(cell)
        parts.append(cell.rjust(pad) if index == 4 else cell.ljust(pad))
    return "".join(parts)


def fixed_transactions() -> str:
    rows = [
        ("T0001", "A001", "", "消费", "1000.00", "2024-03-29", "2024-03-30", "超市购物"),
        ("T0002", "A002", "", "取现", "500.00", "2024-03-30", "2024-03-30", "ATM取现"),
        ("T0003", "A001", "", "退货", "100.00", "2024-03-30", "2024-03-31", "退货"),
        ("T0004", "A001", "", "还款", "200.00", "2024-03-31", "2024-03-31", "柜面还款"),
        ("T0005", "", "6222021000000021", "消费", "88.80", "2024-03-31", "2024-03-31", "咖啡"),
        (
            "T0006",
            "A004",
            "6222021000000039",
            "退货",
            "66.00",
            "2024-03-31",
            "2024-03-31",
            "书店退货",
        ),
    ]
    return "".join(fixed_record(*row).rstrip() + "\r\n" for row in rows)


def invalid() -> None:
    write(
        INVALID / "customers_dirty_en.csv",
        """customer_id,name,id_number,phone,city,credit_score
C101,赵六,110105194912310021,13800000001,北京,
C102,钱七,110105194913310028,13800000002,北京,
C103,孙八,990105194912310023,13800000003,北京,
C104,周九,110105198001010016,1234567,北京,
C105,,110105198001010024,13800000005,北京,
C106,吴十,11010819750606003x,13800000006,北京,
C106,吴十一,110105198001010032,13800000007,北京,
C107,郑一,11010519491231002X,13800000008,北京,
C108,"=HYPERLINK(""http://x"")",12345,13800000009,北京,
C109,王二,110105198001010040,13800000010,北京,720,extra
C110,冯三,110105198001010059,13800000011,上海,1200
C111,陈四,11010819750606003X,13800000012,上海,
""",
    )
    accounts_dirty_xlsx(INVALID / "accounts_dirty.xlsx")
    write(
        INVALID / "deposits_dirty_gbk.txt",
        """账号|户名|客户号|余额|状态|
D101|赵钱|C001|100.00|正常|
D102|李四|C002|-5.00|正常|
D103|王芳|C003|10.00|挂失|
D104|无名|C999|1.00|正常|
D105|陈静|C005|20.00|正常|
D105|陈静|C005|20.00|正常|
D106|@SUM(A1)|||正常|
""",
        "gbk",
    )
    write(
        INVALID / "transactions_dirty.csv",
        """txn_id,account_id,card_number,txn_type,amount,txn_date,post_date,description
X001,A999,,purchase,10.00,2024-03-30,2024-03-30,x
X002,A001,,transfer,10.00,2024-03-30,2024-03-30,x
X003,A001,,purchase,0.00,2024-03-30,2024-03-30,x
X004,A001,,purchase,10.00,2024-03-30,2024-03-29,x
X005,A001,,purchase,10.00,2024-04-01,2024-04-01,x
X006,A001,,purchase,10.00,2024-02-30,2024-03-30,x
X007,A001,,purchase,12.50,2024-03-30,2024-03-30,ok
X007,A001,,purchase,12.50,2024-03-30,2024-03-30,ok
X008,A001,6222021000000013,purchase,5.00,2024-03-30,2024-03-30,x
X009,A005,,purchase,1.00,2024-03-30,2024-03-30,x
X010,,,purchase,1.00,2024-03-30,2024-03-30,x
X011,A001,,purchase,1.00,2024/3/30,20240330,-cmd
X012,A002,,payment,abc,2024-03-30,2024-03-30,x
T0001,A001,,purchase,999.00,2024-03-29,2024-03-30,超市购物
T0002,A002,,cash_advance,500.00,2024-03-30,2024-03-30,ATM取现
""",
    )
    # The 40-byte description ends in the middle of "中": a character cut by the boundary.
    split = fixed_record("X201", "A001", "", "消费", "10.00", "2024-03-30", "2024-03-30")
    split += "x" * 39 + "中文"
    write(INVALID / "transactions_split_fixed.dat", "\r\n".join([
        fixed_record("X200", "A001", "", "消费", "10.00", "2024-03-30", "2024-03-30", "ok"),
        split,
        fixed_record("X202", "A001", "", "消费", "12.3.4", "2024-03-30", "2024-03-30", "x"),
        fixed_record("X203", "A001"),
    ]) + "\r\n", "gbk")  # fmt: skip
    whole_file()


def accounts_dirty_xlsx(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["account_id", "customer_id", "card_number", "product_code", "credit_limit",
                  "statement_day", "repayment_account_id", "autopay_mode", "status"])  # fmt: skip
    sheet.append(["A101", "C999", "6222022000000003", "standard", 5000, 5, None, None, None])
    sheet.append(["A102", "C001", "6222022000000011", "standard", 5000, 31, None, None, None])
    sheet.append(["A103", "C002", "4367420000000018", "standard", 5000, 5, None, None, None])
    sheet.append(["A104", "C003", "6222022000000095", "standard", 5000, 5, None, None, None])
    sheet.append(["A105", "C003", "6222022000000029", "standard", 5000, 5, None, "full", None])
    sheet.append(["A106", "C005", "6222022000000037", "standard", "12.345", 5, None, None, None])
    sheet.append(["A107", "C001", "6222022000000095", "standard", 5000, 5, None, None, None])
    sheet.append(["A108", "C002", "6222022000000045", "standard", -100, 5, None, None, None])
    sheet.append(["A109", "C002", "6222022000000052", "standard", 100, 5, None, None, "挂失"])
    book.save(path)


def whole_file() -> None:
    write(
        WHOLE / "customers_missing_id_number.csv", "customer_id,name,phone\nC1,张三,13800138000\n"
    )
    (WHOLE / "customers_latin1.csv").write_bytes(
        b"customer_id,name,id_number\nC1,Jos\xe9,11010519491231002X\n"
    )
    (WHOLE / "customers_empty.csv").write_bytes(b"")
    write(WHOLE / "customers_header_only.csv", CUSTOMERS_HEADER + "\n")
    (WHOLE / "customers_utf16.csv").write_bytes(
        (CUSTOMERS_HEADER + "\nC1,张三,11010519491231002X,,,\n").encode("utf-16")
    )
    write(WHOLE / "customers_no_header.csv", "C1,张三,11010519491231002X,13800138000,北京,\n")
    write(WHOLE / "customers_duplicate_column.csv",
          "客户号,customer_id,name,id_number\nC1,C1,张三,11010519491231002X\n")  # fmt: skip


if __name__ == "__main__":
    examples()
    valid()
    invalid()
