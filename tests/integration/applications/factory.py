"""Application files made on the fly: many valid applicants that the example policy approves."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from cardbatch.domain.identity import ric_check_char

REGIONS = ("110105", "310104", "440305", "330106", "510107")


def resident_id(index: int) -> str:
    """A valid resident ID, distinct per index, for a person about 30 years old in 2026."""
    birth = date(1995, 1, 1) + timedelta(days=index % 1500)
    region = REGIONS[(index // 1500) % len(REGIONS)]
    body = f"{region}{birth:%Y%m%d}{(index // 7500) % 1000:03d}"
    return body + ric_check_char(body)


def write_approvable(
    path: Path, count: int, first_index: int = 0, product: str = "standard"
) -> Path:
    """``count`` applications scoring 60 (income 20,000, age ~30, an employer): approved."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["name", "id_number", "phone", "employer", "monthly_income", "product", "address"]
        )
        for i in range(first_index, first_index + count):
            writer.writerow(
                [
                    f"申请人{chr(0x4E00 + i % 2000)}",
                    resident_id(i),
                    f"139{i:08d}",
                    "某公司",
                    "20000",
                    product,
                    f"测试路{i}号",
                ]
            )
    return path
