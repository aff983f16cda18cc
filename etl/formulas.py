"""Which cells of an .xlsx/.xlsm sheet hold a formula, read from the sheet XML.

python-calamine gives '' for a formula without a cached value (a file written by a program
that never calculated it), which would otherwise read as a blank, i.e. 0. Only sheets with an
empty cell where a number belongs are scanned, and only with a regular expression over the
part's XML: opening the file in openpyxl would cost ~30x the whole parse.
.xls and .xlsb are not scanned (binary records); their empty cells read as blanks.
"""

from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree

_CELL = re.compile(rb"<(?:\w+:)?c\s([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


class FormulaIndex:
    """Formula cells per sheet name, computed on first use and cached."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._parts: dict[str, str] | None = None
        self._cache: dict[str, frozenset[str]] = {}

    def cells(self, sheet: str) -> frozenset[str]:
        if sheet not in self._cache:
            self._cache[sheet] = self._scan(sheet)
        return self._cache[sheet]

    def is_formula(self, sheet: str, ref: str) -> bool:
        return ref in self.cells(sheet)

    def _scan(self, sheet: str) -> frozenset[str]:
        try:
            with zipfile.ZipFile(io.BytesIO(self._data)) as archive:
                if self._parts is None:
                    self._parts = _sheet_parts(archive)
                part = self._parts.get(sheet)
                if part is None:
                    return frozenset()
                xml = archive.read(part)
        except (KeyError, zipfile.BadZipFile, OSError, ValueError, ElementTree.ParseError):
            # The workbook already opened in calamine; a part we cannot find is no formula.
            return frozenset()
        if b"<f" not in xml and b":f" not in xml:
            return frozenset()
        found = set()
        for match in _CELL.finditer(xml):
            inner = match.group(2)
            if inner and _FORMULA.search(inner):
                ref = _REF.search(match.group(1))
                if ref:
                    found.add(ref.group(1).decode("ascii"))
        return frozenset(found)


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → zip part path, via xl/workbook.xml and its relationships."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
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
