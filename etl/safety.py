"""Gatekeeping before a workbook is parsed: size, container type, encryption, zip bombs.

Nothing here opens a workbook: the gate looks at the file's bytes and container directory,
then inflates every part of a zip itself — in chunks, with a running limit on the total, so an
archive whose directory understates a part's size costs no more than the limit — checks that
every XML part is well formed (no DTD: Excel never writes one; that also closes entity
expansion and external entities), and hands the reader a re-packed, uncompressed copy of
exactly the parts it checked. A flipped byte in a compressed part, a sheet with a tag broken
or a cell given twice is refused as a damaged file before any value is read.

- .xlsx / .xlsm are zip files holding ``xl/workbook.xml`` (``.xlsb``: ``xl/workbook.bin``);
- .xls is an OLE2 compound file holding a ``Workbook`` (or BIFF5 ``Book``) stream;
- a password-protected .xlsx is an OLE2 file holding ``EncryptionInfo`` + ``EncryptedPackage``;
  a password-protected .xls carries a FILEPASS record (found by msoffcrypto-tool).
"""

from __future__ import annotations

import io
import lzma
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from xml.etree import ElementTree
from xml.parsers import expat

from etl.formulas import SheetScan, at_word_start, scan_sheet_xml, sheet_parts
from etl.issues import error, size_text
from etl.records import Issue, Reason
from foundation.i18n import t
from foundation.settings import BUILT_IN, Settings

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

Container = Literal["xlsx", "xlsb", "xls", ""]

# calamine materialises a sheet as a dense grid between its first and last cell: a file with
# one cell in A1 and one in XFD1048576 asks for 17 billion cells and aborts the process. No
# return or ledger comes near this many cells per sheet.
MAX_SHEET_CELLS = 2_000_000
# ``\br="…"``: the word boundary is checked beside the expression (``at_word_start``), which then
# starts with a literal and is searched fast (twice as fast on a return's sheet).
_CELL_REF = re.compile(rb'r="([A-Z]{1,3})([0-9]{1,7})"')
_SPACED_CELL_REF = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')
# A workbook has a few dozen parts; thousands of entries are an attack on the directory.
MAX_ZIP_ENTRIES = 2_000
_CHUNK = 64 * 1024
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_INFLATE_ERRORS = (
    zipfile.BadZipFile,  # bad CRC, bad local header
    zlib.error,  # a damaged deflate stream
    lzma.LZMAError,
    EOFError,  # a stream cut short
    RuntimeError,  # an encrypted zip entry; NotImplementedError (a subclass): an unknown compression method
    ValueError,
    OSError,  # bz2 and others
)


@dataclass
class Gate:
    """What the gate found: the bytes (when readable) and the container kind, or the issues."""

    data: bytes = b""
    container: Container = ""
    issues: list[Issue] = field(default_factory=list)
    stat_size: int = 0  # size on disk when the file was refused without reading it
    # What the reader opens: for a zip, the checked parts re-packed uncompressed; else ``data``.
    workbook: bytes = b""
    # Sheet name → formula and error cells of an .xlsx/.xlsm (None for other containers).
    scans: dict[str, SheetScan] | None = None

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def size(self) -> int:
        return len(self.data) or self.stat_size


def load_source(source: str | Path | bytes, *, file_name: str, settings: Settings = BUILT_IN) -> Gate:
    """Read the bytes of an upload, refusing an oversized file before reading it all."""
    limit = settings.max_file_bytes
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > limit:
                return Gate(stat_size=size, issues=[_too_large(file_name, size, limit)])
            with path.open("rb") as fh:
                # Read one byte past the size found: a file growing after stat() is still caught
                # (read on up to one byte past the limit). Asking for limit + 1 bytes at once
                # would allocate the whole limit (10 MB) for every small file.
                data = fh.read(size + 1)
                if len(data) > size:
                    data += fh.read(limit + 1 - len(data))
        except OSError as exc:
            return Gate(
                issues=[
                    error(
                        Reason.UNREADABLE,
                        "etl.unreadable",
                        file=file_name,
                        detail=exc.strerror or exc.__class__.__name__,
                    )
                ]
            )
    if len(data) > limit:
        return Gate(data=data, issues=[_too_large(file_name, len(data), limit)])
    return check_bytes(data, file_name=file_name, settings=settings)


def check_bytes(data: bytes, *, file_name: str, settings: Settings = BUILT_IN) -> Gate:
    """Container checks on bytes already in memory (size has been checked)."""
    if data[:4] in ZIP_MAGIC:
        return _check_zip(data, file_name, settings.max_expanded_bytes)
    if data[:8] == OLE_MAGIC:
        return _check_ole(data, file_name)
    return Gate(
        data=data,
        issues=[error(Reason.NOT_EXCEL, "etl.not_excel", file=file_name, detected=_sniff(data))],
    )


def _too_large(file_name: str, size: int, limit: int) -> Issue:
    return error(
        Reason.TOO_LARGE,
        "etl.too_large",
        file=file_name,
        value=str(size),
        size=size_text(size),
        limit=size_text(limit),
    )


def _check_zip(data: bytes, file_name: str, limit: int) -> Gate:
    try:
        # Opening a ZipFile reads only the central directory; nothing is inflated here.
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        return Gate(
            data=data,
            issues=[error(Reason.UNREADABLE, "etl.unreadable", file=file_name, detail=_detail(exc))],
        )
    with archive:
        return _check_archive(archive, data, file_name, limit)


def _check_archive(archive: zipfile.ZipFile, data: bytes, file_name: str, limit: int) -> Gate:
    infos = archive.infolist()
    names = {info.filename for info in infos}
    if "xl/workbook.xml" in names:
        container: Container = "xlsx"
    elif "xl/workbook.bin" in names:
        container = "xlsb"
    else:
        detected = _zip_kind(names)
        return Gate(
            data=data,
            issues=[error(Reason.NOT_EXCEL, "etl.not_excel", file=file_name, detected=detected)],
        )
    expanded = sum(info.file_size for info in infos)
    if expanded > limit:  # what the directory declares; the running limit below checks the truth
        return Gate(data=data, issues=[_expanded_error(file_name, expanded, limit)])
    if len(infos) > MAX_ZIP_ENTRIES:
        return Gate(data=data, issues=[_damaged(file_name, f"{len(infos)} zip entries")])
    return _inflate_and_check(archive, data, infos, container, file_name, limit)


def _damaged(file_name: str, detail: str) -> Issue:
    return error(Reason.UNREADABLE, "etl.unreadable", file=file_name, detail=detail[:200])


def _inflate_and_check(
    archive: zipfile.ZipFile,
    data: bytes,
    infos: list[zipfile.ZipInfo],
    container: Container,
    file_name: str,
    limit: int,
) -> Gate:
    """Inflate every part under a running limit, check the XML parts, re-pack them stored."""
    parts: dict[str, bytes] = {}
    total = 0
    # Sheet parts first: a sheet spanning too many cells is refused before anything else inflates.
    ordered = sorted(infos, key=lambda info: not _is_sheet_part(info.filename))
    try:
        for info in ordered:
            if info.is_dir():
                continue
            if info.filename in parts:
                return Gate(data=data, issues=[_damaged(file_name, f"{info.filename}: twice in the zip")])
            chunks = []
            with archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        issue = _expanded_error(file_name, total, limit, key="etl.too_expanded_running")
                        return Gate(data=data, issues=[issue])
                    chunks.append(chunk)
            parts[info.filename] = body = b"".join(chunks)
            if _is_sheet_part(info.filename):
                rows, cols = sheet_extent(body)
                if rows * cols > MAX_SHEET_CELLS:
                    return Gate(data=data, issues=[_sheet_too_big(file_name, rows, cols)])
    except _INFLATE_ERRORS as exc:
        return Gate(data=data, issues=[_damaged(file_name, _detail(exc))])
    for name, body in parts.items():
        if not name.lower().endswith(_XML_SUFFIXES):
            continue
        # expat in C, no tree and no Python callback but the DTD refusal: well formed or not.
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = _refuse_doctype
        try:
            parser.Parse(body, True)
        except _DtdFound:
            return Gate(data=data, issues=[error(Reason.UNREADABLE, "etl.dtd", file=file_name, part=name)])
        except expat.ExpatError as exc:
            return Gate(data=data, issues=[_damaged(file_name, f"{name}: {exc}")])
    scans: dict[str, SheetScan] | None = None
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as packed:
        for name, body in parts.items():
            packed.writestr(name, body)
    workbook = out.getvalue()
    if container == "xlsx":
        try:
            by_part = sheet_parts(parts)  # the parts just re-packed, as calamine will read them
        except (KeyError, ElementTree.ParseError):
            by_part = {}  # calamine will say what is missing
        scans = {}
        for sheet, part in by_part.items():
            if part in parts:
                scan = scan_sheet_xml(parts[part])
                if scan.duplicate:
                    issue = error(
                        Reason.UNREADABLE,
                        "etl.duplicate_cell",
                        file=file_name,
                        sheet=sheet,
                        cell=scan.duplicate,
                    )
                    return Gate(data=data, issues=[issue])
                scans[sheet] = scan
    return Gate(data=data, container=container, workbook=workbook, scans=scans)


def _is_sheet_part(name: str) -> bool:
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


class _DtdFound(Exception):
    pass


def _refuse_doctype(name: str, *_args: object) -> None:
    """A document type declaration (entity expansion, external entities) is refused on sight."""
    raise _DtdFound(name)


def _expanded_error(file_name: str, expanded: int, limit: int, key: str = "etl.too_expanded") -> Issue:
    return error(
        Reason.TOO_EXPANDED,
        key,
        file=file_name,
        value=str(expanded),
        size=size_text(expanded),
        limit=size_text(limit),
    )


def sheet_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of the dense grid spanning every cell reference of a sheet part."""
    refs = _CELL_REF.findall(xml)
    if len(_SPACED_CELL_REF.findall(xml)) != len(refs):
        # Not every r="…" follows a space (the usual form, where all of them are references):
        # keep those at a word boundary, as \br="…" would.
        refs = [m.groups() for m in _CELL_REF.finditer(xml) if at_word_start(xml, m.start())]
    if not refs:
        return 0, 0
    # Work on the distinct row numbers and column letters only: a sheet has thousands of cells
    # but few distinct columns, and this runs for every file loaded.
    letters = {col for col, _row in refs}
    max_row = max(map(int, {row for _col, row in refs}))
    max_col = 0
    for col in letters:
        n = 0
        for ch in col:
            n = n * 26 + ch - 64
        max_col = max(max_col, n)
    # calamine keeps rows/columns from A1 when asked not to trim, so count from 1.
    return max_row, max_col


def check_grid_size(rows: int, cols: int, *, file_name: str) -> Issue | None:
    """The same limit for .xls/.xlsb sheets, checked on calamine's dimensions before to_python."""
    if rows * cols > MAX_SHEET_CELLS:
        return _sheet_too_big(file_name, rows, cols)
    return None


def _sheet_too_big(file_name: str, rows: int, cols: int) -> Issue:
    return error(
        Reason.TOO_EXPANDED,
        "etl.sheet_too_big",
        file=file_name,
        rows=rows,
        cols=cols,
        limit=f"{MAX_SHEET_CELLS:,}",
    )


def _zip_kind(names: set[str]) -> str:
    """A short guess of what a zip that is not a workbook is, for the message."""
    if "word/document.xml" in names:
        return t("etl.kind.docx")
    if "ppt/presentation.xml" in names:
        return t("etl.kind.pptx")
    if "content.xml" in names and "mimetype" in names:
        return t("etl.kind.opendocument")
    return t("etl.kind.zip")


def _check_ole(data: bytes, file_name: str) -> Gate:
    import olefile  # a dependency of msoffcrypto-tool; imported here to keep .xlsx reads lean

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
    except Exception as exc:  # olefile raises bare OSError/IndexError/etc. on damaged files
        return Gate(
            data=data,
            issues=[error(Reason.UNREADABLE, "etl.unreadable", file=file_name, detail=_detail(exc))],
        )
    lowered = {s.lower() for s in streams}
    if "encryptioninfo" in lowered and "encryptedpackage" in lowered:
        return Gate(data=data, issues=[error(Reason.ENCRYPTED, "etl.encrypted", file=file_name)])
    if "workbook" not in lowered and "book" not in lowered:
        detected = t("etl.kind.doc") if "worddocument" in lowered else t("etl.kind.ole")
        return Gate(
            data=data,
            issues=[error(Reason.NOT_EXCEL, "etl.not_excel", file=file_name, detected=detected)],
        )
    if _xls_encrypted(data):
        return Gate(data=data, issues=[error(Reason.ENCRYPTED, "etl.encrypted", file=file_name)])
    return Gate(data=data, container="xls", workbook=data)


def _xls_encrypted(data: bytes) -> bool:
    """A .xls with an opening password carries a FILEPASS record; msoffcrypto-tool finds it."""
    try:
        import msoffcrypto

        return bool(msoffcrypto.OfficeFile(io.BytesIO(data)).is_encrypted())
    except Exception:  # a damaged BIFF stream: let the reader report it as unreadable
        return False


def _sniff(data: bytes) -> str:
    """What the bytes look like, so the sender knows what they actually uploaded."""
    head = data[:1024].lstrip()
    if not data:
        return t("etl.kind.empty")
    if head.startswith(b"%PDF"):
        return t("etl.kind.pdf")
    if head[:5].lower() in (b"<html", b"<!doc") or head.startswith(b"<?xml"):
        return t("etl.kind.html")
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return t("etl.kind.image")
    if head.startswith(b"Rar!") or head.startswith(b"7z\xbc\xaf"):
        return t("etl.kind.archive")
    if b"\x00" not in head:
        return t("etl.kind.text")
    return t("etl.kind.unknown")


def _detail(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{exc.__class__.__name__}: {text}"[:200] if text else exc.__class__.__name__
