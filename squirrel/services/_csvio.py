"""The registry's CSV format: Setpoint, Readback, Device, Description; every other column is a tag group.

A tag cell may list several tags separated by ';' or ','. Pure functions, no I/O.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

import msgspec

from squirrel.errors import ValidationError

KNOWN = ("Setpoint", "Readback", "Device", "Description")
REQUIRED = "Setpoint"
_TAG_SPLIT = re.compile(r"[;,]")
MAX_NAME = 255


class CsvRow(msgspec.Struct):
    line: int
    setpoint: str | None
    readback: str | None
    device: str | None
    description: str | None
    tags: dict[str, list[str]]  # group name (as in the header) -> tag names


def decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            f"the CSV is not valid UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} ({exc.reason})"
        ) from None
    nul = data.find(b"\x00")
    if nul >= 0:  # PostgreSQL text cannot hold NUL; usually a UTF-16 file
        raise ValidationError(f"the CSV contains a NUL byte at offset {nul} (is it UTF-16? send UTF-8)")
    return text


def _header(cells: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """Known column indexes by canonical name, tag group column indexes by group name."""
    known: dict[str, int] = {}
    groups: dict[str, int] = {}
    seen: set[str] = set()
    canonical = {k.lower(): k for k in KNOWN}
    for index, raw in enumerate(cells):
        name = raw.strip()
        if not name:
            raise ValidationError(f"CSV header: column {index + 1} has no name")
        if len(name) > MAX_NAME:
            raise ValidationError(f"CSV header: column {index + 1} name is longer than {MAX_NAME} characters")
        if name.lower() in seen:
            raise ValidationError(f"CSV header: column {name!r} appears twice")
        seen.add(name.lower())
        if name.lower() in canonical:
            known[canonical[name.lower()]] = index
        else:
            groups[name] = index
    if REQUIRED not in known:
        got = ", ".join(c.strip() for c in cells) or "(nothing)"
        raise ValidationError(
            f"CSV header must have a {REQUIRED!r} column (known columns: {', '.join(KNOWN)}; "
            f"others are tag groups); got: {got}",
            header=[c.strip() for c in cells],
        )
    return known, groups


def _cell(row: list[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    value = row[index].strip()
    return value or None


def split_tags(cell: str | None, line: int, group: str) -> list[str]:
    if not cell:
        return []
    names = [t.strip() for t in _TAG_SPLIT.split(cell)]
    out = [t for t in names if t]
    for name in out:
        if len(name) > MAX_NAME:
            raise ValidationError(f"CSV line {line}: a tag in column {group!r} is longer than {MAX_NAME} characters")
    return out


def parse(text: str) -> list[CsvRow]:
    """Rows of a registry CSV; blank lines are skipped. Raises ValidationError naming the line."""
    return _parse(text, None)


def parse_collect(text: str) -> tuple[list[CsvRow], list[tuple[int, str]]]:
    """Rows of a registry CSV and every row error as (line, detail) instead of stopping at the first.
    A bad header or a broken quote still raises: nothing after it can be read."""
    errors: list[tuple[int, str]] = []
    return _parse(text, errors), errors


def _parse(text: str, errors: list[tuple[int, str]] | None) -> list[CsvRow]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ValidationError("the CSV is empty: a header line is required")
        known, groups = _header(header)
        rows: list[CsvRow] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            try:
                rows.append(_row(cells, reader.line_num, len(header), known, groups))
            except ValidationError as exc:
                if errors is None:
                    raise
                errors.append((reader.line_num, exc.detail))
    except csv.Error as exc:
        raise ValidationError(f"CSV line {reader.line_num}: {exc}") from None
    return rows


def _row(cells: list[str], line: int, width: int, known: dict[str, int], groups: dict[str, int]) -> CsvRow:
    # Trailing empty cells (spreadsheet exports) are harmless; extra values are not.
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        raise ValidationError(f"CSV line {line} has {len(cells)} fields but the header has {width}")
    tags = {g: split_tags(_cell(cells, i), line, g) for g, i in groups.items()}
    return CsvRow(
        line=line,
        setpoint=_cell(cells, known.get("Setpoint")),
        readback=_cell(cells, known.get("Readback")),
        device=_cell(cells, known.get("Device")),
        description=_cell(cells, known.get("Description")),
        tags={g: t for g, t in tags.items() if t},
    )


def format_csv(groups: list[str], rows: Iterable[tuple[list[str | None], dict[str, list[str]]]]) -> str:
    """The export: the four known columns, then one column per tag group (tags joined by ';')."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*KNOWN, *groups])
    for fields, tags in rows:
        writer.writerow([*(f or "" for f in fields), *(";".join(tags.get(g, [])) for g in groups)])
    return out.getvalue()
