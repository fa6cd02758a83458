"""A report as files: the Excel workbook (one sheet per table, report.tables) and the CSV of the
unit table.

The workbook: a title row and a header row, both frozen (and the unit names beside them), Chinese
headers, rates as numbers formatted ``0.0%`` (so they sort and add as numbers), column widths
from the longest cell (a CJK character is two columns wide), pages landscape and one page wide
when printed. The CSV starts with a UTF-8 byte order mark, without which Excel reads Chinese as
GBK; its rates are written ``95.00%`` (exact to the report's four places, and Excel reads them
as percentages).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from hotline.report.tables import Table, tables

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
PERCENT = "0.0%"
CENTRED = frozenset({"类型", "等级", "状态"})
HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
THIN = Side(style="thin", color="A0A7B0")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def width(text: str) -> int:
    """Display columns: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "rate":
        return f"{value * 100:.1f}%"
    return str(value)


def _sheet(book: Workbook, table: Table, first: bool) -> None:
    sheet = book.active if first else book.create_sheet()
    assert sheet is not None
    sheet.title = table.sheet
    columns = len(table.headers)
    sheet.cell(1, 1, table.title).font = Font(bold=True, size=13)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    for col, header in enumerate(table.headers, 1):
        cell = sheet.cell(2, col, header)
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center")
    last = len(table.rows) + 2
    for r, row in enumerate(table.rows, 3):
        for col, (value, kind) in enumerate(zip(row, table.kinds, strict=True), 1):
            cell = sheet.cell(r, col, value)
            cell.border = BORDER
            if kind == "rate":
                cell.number_format = PERCENT
            elif table.headers[col - 1] in CENTRED:
                cell.alignment = Alignment(horizontal="center")
            if r == last and table.sheet == "单位考核":
                cell.font = Font(bold=True)  # the total row
    for col, header in enumerate(table.headers, 1):
        kind = table.kinds[col - 1]
        widest = max([width(header), *(width(_shown(row[col - 1], kind)) for row in table.rows)])
        sheet.column_dimensions[get_column_letter(col)].width = min(max(widest + 2, 6), 60)
    sheet.freeze_panes = f"{get_column_letter(table.frozen_columns + 1)}3"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:2"


def xlsx(report: dict[str, Any]) -> bytes:
    """The workbook of a report given as its JSON (``Report.model_dump(mode="json")``)."""
    book = Workbook()
    for n, table in enumerate(tables(report)):
        _sheet(book, table, first=n == 0)
    # The same report makes the same file's contents whenever it is written.
    made = datetime.fromisoformat(report["period"]["end"])
    book.properties.creator = "hotline"
    book.properties.title = report["title"]
    book.properties.created = made
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_text(report: dict[str, Any]) -> bytes:
    """The unit table (单位考核, the total row last) as CSV, UTF-8 with a byte order mark."""
    table = tables(report)[0]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(
            [
                "" if v is None else f"{v * 100:.2f}%" if kind == "rate" else v
                for v, kind in zip(row, table.kinds, strict=True)
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
