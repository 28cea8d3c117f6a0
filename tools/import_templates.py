"""Write the import templates under ``docs/import/``: per kind, CSV and XLSX, English and Chinese headers.

``python -m tools.import_templates`` (``make import-templates``). The example rows load as they are,
in the order of ``KINDS``, into an empty database: a test imports them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List

from care_scheduler.dataio.catalog import KINDS
from care_scheduler.dataio.tables import TableWriter

OUT = Path(__file__).resolve().parent.parent / "docs" / "import"

EXAMPLES: Dict[str, List[List[str]]] = {
    "managers": [
        ["HQ-001", "钱建国", "139 0000 0001", "qian.jianguo@kam.example.cn", "集团公司", "", "集团", ""],
        ["ZJ-P01", "周敏", "+86-139-1000-0001", "zhou.min@kam.example.cn", "浙江省", "", "省", "HQ-001"],
        ["ZJ-HZ01", "林海燕", "13920000001", "lin.haiyan@kam.example.cn", "浙江省", "杭州", "地市", "ZJ-P01"],
    ],
    "customers": [
        ["CRM-000101", "杭州华信物流有限公司", "重要客户", "浙江省", "杭州", "ZJ-HZ01", "31", "电子邮件",
         "finance@hx-logistics.example.cn"],
        ["CRM-000102", "杭州市第一人民医院", "strategic", "浙江省", "杭州", "ZJ-HZ01", "15", "paper", ""],
    ],
    "contacts": [
        ["CRM-000101", "C-0001", "王伟", "信息中心主任", "138 0013 8000", "wang.wei@hx-logistics.example.cn",
         "1988-02-29", "solar", "zh", "钻石卡", "是", "否"],
        ["CRM-000101", "C-0002", "David Chen", "CIO", "+86 139 0013 9000", "", "08-15", "lunar", "en", "gold",
         "no", "no"],
        ["CRM-000102", "C-0003", "李娜", "院办主任", "008613700000003", "", "2020-04-15", "lunar-leap", "中文",
         "银卡", "yes", "no"],
    ],
    "circuits": [
        ["CRM-000101", "ZJ-2M-000101-1", "digital_2m", "2M", "正常", "金牌保障", "杭州华信大厦", "杭州数据中心"],
        ["CRM-000102", "ZJ-DIA-000102-1", "互联网专线", "1G", "active", "standard", "杭州市第一人民医院", ""],
    ],
    "usage": [
        ["CRM-000101", "2026-10", "3125", "182784", "1281", "9036.05", "9036.05"],
        ["CRM-000102", "2026-10", "12800", "512000", "4200", "28,650.00", "20,000.00"],
    ],
    "visits": [
        ["CRM-000101", "2026-10-12", "ZJ-HZ01", "C-0001、C-0002", "季度走访，了解专线使用情况", "11月初提交扩容方案"],
        ["CRM-000102", "2026年11月3日", "ZJ-HZ01", "C-0003", "年度服务回顾，确认续约意向", ""],
    ],
    "bill-deliveries": [
        ["CRM-000101", "2026-10", "email", "2026-11-01 09:00", "2026-11-01 10:12", ""],
        ["CRM-000102", "2026-10", "纸质", "2026-11-15 09:00", "", "2026-11-22 23:59:59"],
    ],
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, kind in KINDS.items():
        for suffix, headers in (("", [c.name for c in kind.columns]), (".zh", [c.zh for c in kind.columns])):
            for fmt in ("csv", "xlsx"):
                with TableWriter(OUT / f"{name}{suffix}.{fmt}", fmt, headers) as writer:
                    for row in EXAMPLES[name]:
                        writer.write_row(row)
    print(f"templates written to {OUT}")


if __name__ == "__main__":
    main()
