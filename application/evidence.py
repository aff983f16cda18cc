"""Evidence files of a task report: what a file *is*, judged by its content, never by its name.

Accepted: PDF (``%PDF-``), Word and Excel (Office Open XML: a zip whose central directory lists
``[Content_Types].xml`` and ``word/document.xml`` / ``xl/workbook.xml``; the legacy binary forms:
an OLE compound file holding a ``WordDocument`` / ``Workbook`` stream), and images (PNG, JPEG,
GIF, WebP by their signatures). At most ``max_bytes`` (10 MB) each. Only the zip's directory is
read (nothing is inflated), so a zip bomb costs nothing here. A name whose extension says another
type than the content is refused too (a PDF called .docx would open in the wrong program).
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from foundation.i18n import t

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000

# kind → (media type, extensions a name of that kind may have)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pdf": ("application/pdf", (".pdf",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx", ".xlsm")),
    "doc": ("application/msword", (".doc",)),
    "xls": ("application/vnd.ms-excel", (".xls",)),
    "png": ("image/png", (".png",)),
    "jpeg": ("image/jpeg", (".jpg", ".jpeg")),
    "gif": ("image/gif", (".gif",)),
    "webp": ("image/webp", (".webp",)),
}
ALLOWED_TEXT = "PDF、Word（.docx/.doc）、Excel（.xlsx/.xls）、图片（PNG/JPEG/GIF/WebP）"


class EvidenceError(ValueError):
    """A file that may not be attached; the message is for the user."""


@dataclass(frozen=True)
class Evidence:
    file_name: str
    kind: str
    media_type: str
    sha256: str
    content: bytes


def _zip_kind(content: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()  # the central directory only
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if len(infos) > MAX_ZIP_MEMBERS:
        return None
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def _ole_kind(content: bytes) -> str | None:
    import olefile  # comes with msoffcrypto-tool

    try:
        ole = olefile.OleFileIO(io.BytesIO(content))
    except Exception:  # olefile raises OSError and its own errors on a broken file
        return None
    try:
        if ole.exists("WordDocument"):
            return "doc"
        if ole.exists("Workbook") or ole.exists("Book"):
            return "xls"
        return None  # an encrypted Office file (EncryptedPackage) or another compound file
    finally:
        ole.close()


def sniff(content: bytes) -> str | None:
    """The kind of ``content`` by its bytes, or None when it is none of the accepted kinds."""
    head = content[:16]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(content)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(content)
    return None


def check_evidence(file_name: str, content: bytes, *, max_bytes: int = MAX_EVIDENCE_BYTES) -> Evidence:
    """An accepted evidence file, or ``EvidenceError`` saying why not."""
    name = PurePath(file_name.replace("\\", "/")).name or "evidence"
    if len(content) > max_bytes:
        raise EvidenceError(
            t("tasks.evidence.too_big", file=name, size=len(content), limit=max_bytes // (1024 * 1024))
        )
    if not content:
        raise EvidenceError(t("tasks.evidence.empty", file=name))
    kind = sniff(content)
    if kind is None:
        raise EvidenceError(t("tasks.evidence.bad_type", file=name, allowed=ALLOWED_TEXT))
    media_type, extensions = KINDS[kind]
    if PurePath(name).suffix.lower() not in extensions:
        raise EvidenceError(t("tasks.evidence.name_mismatch", file=name, kind=extensions[0]))
    return Evidence(name, kind, media_type, hashlib.sha256(content).hexdigest(), content)
