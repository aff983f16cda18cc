"""What the sheet XML of an .xlsx/.xlsm says about its cells that python-calamine does not.

python-calamine gives '' both for a formula without a cached value (a file written by a program
that never calculated it) and for an Excel error value (``#REF!``, ``#DIV/0!``, ``#N/A``… — also
what paste-values leaves behind), which would otherwise read as a blank, i.e. 0. The gate
(``etl.safety``) parses every sheet part once with ElementTree (C expat, no DTD allowed) to check
that it is well formed; ``scan_sheet`` collects, in the same pass, the formula cells, the error
cells and the first cell reference that occurs twice. .xls and .xlsb are not scanned (binary
records); their empty and error cells read as blanks.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.etree import ElementTree

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class SheetScan:
    """Formula cells, error cells (ref → '#REF!') and the first duplicated reference of a sheet."""

    formulas: frozenset[str] = frozenset()
    errors: dict[str, str] = field(default_factory=dict)
    duplicate: str = ""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def scan_sheet(root: ElementTree.Element) -> SheetScan:
    """Walk ``sheetData`` of a parsed sheet part (cells without ``r=`` follow the previous one)."""
    formulas: set[str] = set()
    errors: dict[str, str] = {}
    seen: set[str] = set()
    duplicate = ""
    data = next((el for el in root if _local(el.tag) == "sheetData"), None)
    if data is None:
        return SheetScan()
    row_number = 0
    for row in data:
        if _local(row.tag) != "row":
            continue
        r = row.get("r")
        row_number = int(r) if r and r.isdigit() else row_number + 1
        col = 0
        for cell in row:
            if _local(cell.tag) != "c":
                continue
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                col = _column_number(letters) if letters.isalpha() and letters.isascii() else col + 1
            else:
                col += 1
                ref = f"{_column_letters(col)}{row_number}"
            if ref in seen and not duplicate:
                duplicate = ref
            seen.add(ref)
            children = {_local(child.tag): child for child in cell}
            if "f" in children:
                formulas.add(ref)
            if cell.get("t") == "e":
                value = children.get("v")
                errors[ref] = (value.text or "").strip() if value is not None else ""
    return SheetScan(frozenset(formulas), errors, duplicate)


_REF = re.compile(rb"""<(?:\w+:)?c\s[^>]*?\br=["']([A-Z]+[0-9]+)["']""")
# A formula element, or an error-typed cell: ``<f``/``<x:f`` or ``\bt="e"``. Two expressions that
# start with a literal are searched fast; one alternation of both was 5× slower (a sheet per file).
_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")
_ERROR_TYPE = re.compile(rb"""t=["']e["']""")
WORD_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")  # \w of bytes


def at_word_start(xml: bytes, start: int) -> bool:
    """``\b`` before a word character at ``start``: the byte before is not a word character."""
    return start == 0 or xml[start - 1] not in WORD_BYTES


def has_markers(xml: bytes) -> bool:
    """Whether a sheet part holds a formula or an error value anywhere."""
    if _FORMULA_TAG.search(xml):
        return True
    return any(at_word_start(xml, m.start()) for m in _ERROR_TYPE.finditer(xml))


def scan_sheet_xml(xml: bytes) -> SheetScan:
    """``scan_sheet`` for a well-formed sheet part, cheaply: a regular expression over the cell
    references finds a duplicate, and the tree is built only when the part holds a formula or an
    error value at all (most returns hold neither)."""
    if has_markers(xml):
        return scan_sheet(ElementTree.fromstring(xml))
    refs = _REF.findall(xml)
    if len(refs) != len(set(refs)):
        seen: set[bytes] = set()
        for ref in refs:
            if ref in seen:
                return SheetScan(duplicate=ref.decode("ascii"))
            seen.add(ref)
    return SheetScan()


class FormulaIndex:
    """Formula and error cells per sheet name, from the gate's scans of the sheet parts."""

    def __init__(self, scans_by_sheet: dict[str, SheetScan]) -> None:
        self._scans = scans_by_sheet

    def cells(self, sheet: str) -> frozenset[str]:
        scan = self._scans.get(sheet)
        return scan.formulas if scan else frozenset()

    def is_formula(self, sheet: str, ref: str) -> bool:
        return ref in self.cells(sheet)

    def error_value(self, sheet: str, ref: str) -> str | None:
        """The Excel error a cell holds ('#REF!'…), None when it holds none."""
        scan = self._scans.get(sheet)
        return scan.errors.get(ref) if scan else None


def sheet_parts(archive: zipfile.ZipFile | Mapping[str, bytes]) -> dict[str, str]:
    """Sheet name → zip part path, via xl/workbook.xml and its relationships (from a zip, or from
    its parts already inflated: name → bytes). A missing part is a KeyError."""
    read = archive.read if isinstance(archive, zipfile.ZipFile) else archive.__getitem__
    workbook = ElementTree.fromstring(read("xl/workbook.xml"))
    rels = ElementTree.fromstring(read("xl/_rels/workbook.xml.rels"))
    targets = {}
    for rel in rels.iter(f"{{{_NS_PKG_REL}}}Relationship"):
        target = rel.get("Target", "")
        # Targets are relative to xl/ unless absolute ("/xl/worksheets/sheet1.xml").
        targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    parts = {}
    for sheet in workbook.iter(f"{{{_NS_MAIN}}}sheet"):
        rid = sheet.get(f"{{{_NS_REL}}}id")
        name = sheet.get("name")
        if name is not None and rid in targets:
            parts[name] = targets[rid]
    return parts
