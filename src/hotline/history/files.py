"""Reading an import file into rows, each with the line a person finds it on: the physical line
of JSON Lines, the line of CSV (the header is line 1), the row of the first Excel sheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".xlsx": "xlsx"}


class FileRefused(ValueError):
    """The file as a whole cannot be read (its kind, its encoding, its header)."""


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Unreadable:
    """A line that is not a row at all (JSON Lines: not a JSON object)."""

    line: int
    problem: str


def read(path: Path, known: Collection[str]) -> Iterator[Row | Unreadable]:
    """The file's rows in order. Raises FileRefused for an unknown kind, or a header (CSV,
    Excel) without ``content`` or with a column not in ``known``: once, not on every row."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise FileRefused(f"{path.name}: not .jsonl, .csv or .xlsx")
    if kind == "jsonl":
        return _jsonl(_text(path))
    if kind == "csv":
        return _csv(_text(path), known)
    return _xlsx(path, known)


def _text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # Excel writes UTF-8 CSV with a BOM
    except UnicodeDecodeError:
        pass
    try:
        # Chinese Excel's "CSV" is GB 18030 (GBK); a file that decodes as neither is refused.
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{path.name}: neither UTF-8 nor GB 18030 text") from exc


def _jsonl(text: str) -> Iterator[Row | Unreadable]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            values = json.loads(line)
        except ValueError as exc:
            yield Unreadable(number, f"not JSON: {exc.args[0] if exc.args else exc}")
            continue
        if isinstance(values, dict):
            yield Row(number, values)
        else:
            yield Unreadable(number, "not a JSON object")


def _header(names: list[Any], known: Collection[str]) -> list[str]:
    header = [str(n).strip() if n is not None else "" for n in names]
    if "content" not in header:
        raise FileRefused("line 1 is not a header naming the columns (content, category, …)")
    unknown = [n for n in header if n and n not in known]
    if unknown:
        raise FileRefused(
            f"line 1: unknown column(s) {', '.join(unknown)} (known: {', '.join(known)})"
        )
    return header


def _csv(text: str, known: Collection[str]) -> Iterator[Row | Unreadable]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = _header(next(reader), known)
    except StopIteration:
        return
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        # reader.line_num is the line the row ends on; a quoted multi-line cell starts earlier.
        yield Row(reader.line_num, _named(header, values))


def _xlsx(path: Path, known: Collection[str]) -> Iterator[Row | Unreadable]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, InvalidFileException …
        raise FileRefused(f"{path.name}: not an Excel workbook ({exc})") from exc
    try:
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        try:
            header = _header(list(next(rows)), known)
        except StopIteration:
            return
        for number, values in enumerate(rows, start=2):
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue
            yield Row(number, _named(header, [_cell(v) for v in values]))
    finally:
        book.close()


def _named(header: list[str], values: list[Any]) -> dict[str, Any]:
    """Cells by column name; empty cells are absent, as in a JSON object that omits them."""
    named: dict[str, Any] = {}
    for name, value in zip(header, values, strict=False):
        if name and value is not None and value != "":
            named[name] = value
    return named


def _cell(value: Any) -> Any:
    """Excel's cells as text would give them: dates stay dates (naive: the county's zone), a
    whole number is an integer (an external id typed as a number)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time())
    return value
