"""Evidence files: type by content (signatures, the zip's directory, OLE streams), not by name; the
10 MB limit; SHA-256 of exactly the bytes. Real files: a workbook saved by openpyxl, a zip with
Word's parts, PDF/PNG/JPEG signatures. (No writer of legacy .doc/.xls is at hand: a broken OLE
file is shown refused; the accepted legacy forms are not covered by a test.)"""

from __future__ import annotations

import hashlib
import io
import zipfile

import openpyxl
import pytest

from application.evidence import MAX_EVIDENCE_BYTES, EvidenceError, check_evidence, sniff

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


def xlsx() -> bytes:
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    return buf.getvalue()


def docx() -> bytes:
    """The parts Word needs to name a document: [Content_Types].xml and word/document.xml."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_accepted_kinds_by_content() -> None:
    assert check_evidence("会议纪要.pdf", PDF).media_type == "application/pdf"
    assert check_evidence("现场.PNG", PNG).kind == "png"
    assert check_evidence("现场.jpeg", JPEG).kind == "jpeg"
    assert check_evidence("台账.xlsx", xlsx()).kind == "xlsx"
    assert check_evidence("方案.docx", docx()).kind == "docx"
    ev = check_evidence("C:\\Users\\a\\会议纪要.pdf", PDF)
    assert ev.file_name == "会议纪要.pdf" and ev.sha256 == hashlib.sha256(PDF).hexdigest()


def test_refused_by_content_whatever_the_name() -> None:
    with pytest.raises(EvidenceError, match="内容不是可接收的格式"):
        check_evidence("报告.pdf", b"MZ\x90\x00 an executable")  # a program called .pdf
    with pytest.raises(EvidenceError, match="内容不是可接收的格式"):
        check_evidence("报告.docx", b"PK\x03\x04 not really a zip")
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as z:
        z.writestr("payload.txt", "x")
    with pytest.raises(EvidenceError, match="内容不是可接收的格式"):
        check_evidence("材料.xlsx", plain_zip.getvalue())  # a zip, but no workbook
    with pytest.raises(EvidenceError, match="内容不是可接收的格式"):
        check_evidence("材料.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)  # broken OLE
    with pytest.raises(EvidenceError, match="与文件名的扩展名不符"):
        check_evidence("材料.docx", PDF)  # a real PDF under a Word name
    with pytest.raises(EvidenceError, match="空文件"):
        check_evidence("空.pdf", b"")
    assert sniff(b"<html><script>") is None


def test_size_limit_is_ten_megabytes() -> None:
    assert MAX_EVIDENCE_BYTES == 10_485_760
    at_limit = PDF + b"\x00" * (MAX_EVIDENCE_BYTES - len(PDF))
    assert check_evidence("大.pdf", at_limit).media_type == "application/pdf"
    with pytest.raises(EvidenceError, match="超过 10 MB"):
        check_evidence("大.pdf", at_limit + b"\x00")


def test_zip_directory_only_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deciding a zip's kind opens no member (a bomb inflates nothing here)."""
    workbook = xlsx()
    opened: list[str] = []
    original = zipfile.ZipFile.open

    def spy(self, name, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
        opened.append(str(name))
        return original(self, name, *a, **kw)

    monkeypatch.setattr(zipfile.ZipFile, "open", spy)
    assert check_evidence("台账.xlsx", workbook).kind == "xlsx"
    assert opened == []
