"""One table of records in CSV, XLSX or JSON, always stamped with as-of date, policy digest and store head.

CSV and XLSX cells hold a list as its items joined by "; "; JSON keeps lists. Every CSV row carries
the stamp in three trailing columns (a CSV has no other place a reader will not drop); an XLSX
workbook has one sheet per record type and an `about` sheet with the stamp.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from compliance.records.stamp import Stamp
from compliance.store.audit import spreadsheet_safe

STAMP_COLUMNS = ["as_of", "policy_digest", "store_head"]


@dataclass(frozen=True)
class RecordTable:
    name: str  # the record type: sheet name and JSON key, e.g. "records_of_processing"
    columns: list[str]
    rows: list[dict[str, Any]]


def cell(value: Any) -> Any:
    """A value as a spreadsheet cell: lists joined, None empty, bools kept."""
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if value is None:
        return ""
    return value


def to_json(tables: list[RecordTable], stamp: Stamp) -> str:
    body: dict[str, Any] = {**stamp.as_dict()}
    for table in tables:
        body[table.name] = [{c: row.get(c) for c in table.columns} for row in table.rows]
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def to_csv(table: RecordTable, stamp: Stamp) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*table.columns, *STAMP_COLUMNS])
    stamped = stamp.as_dict()
    for row in table.rows:
        values = [cell(row.get(c)) for c in table.columns]
        writer.writerow([spreadsheet_safe("yes" if v is True else "no" if v is False else v) for v in values]
                        + [stamped[c] for c in STAMP_COLUMNS])
    return out.getvalue()


def to_xlsx(tables: list[RecordTable], stamp: Stamp) -> bytes:
    """A workbook: per record type a sheet with a bold header row, frozen below it, and fitted widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.name[:31])
        sheet.append(table.columns)
        for header in sheet[1]:
            header.font = Font(bold=True)
        for row in table.rows:
            sheet.append([spreadsheet_safe(cell(row.get(c))) for c in table.columns])
        sheet.freeze_panes = "B2"  # header row and the feature/processor column stay in view
        for i, column in enumerate(table.columns, start=1):
            longest = max([len(column), *(len(str(cell(r.get(column)))) for r in table.rows)])
            sheet.column_dimensions[sheet.cell(1, i).column_letter].width = min(max(10, longest + 2), 80)
    about = book.create_sheet("about")
    about.append(["field", "value"])
    for key, value in stamp.as_dict().items():
        about.append([key, value])
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 70
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
