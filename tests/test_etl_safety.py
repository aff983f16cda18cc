"""Files that are not readable workbooks are refused before they are inflated or handed to calamine,
with a message the sender can act on.

"Refused early" is tested by what was done, never by seconds (a busy machine makes any timing
assertion flaky): the ``spy`` fixture counts the bytes Python's zipfile inflated and the workbooks
python-calamine was asked to open.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from factories import make_return

from etl.readers import read_file
from etl.records import Reason
from etl.safety import check_bytes, load_source
from foundation.settings import get_settings

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return make_return(tmp_path / "jingan_2023-06.xlsx")


class Spy:
    """What reading a file cost: bytes inflated by zipfile, workbooks opened by calamine."""

    def __init__(self) -> None:
        self.inflated = 0
        self.calamine_opens = 0


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    import etl.readers

    counts = Spy()
    real_read = zipfile.ZipExtFile.read
    real_read1 = zipfile.ZipExtFile.read1

    def read(self: zipfile.ZipExtFile, n: int | None = -1) -> bytes:
        data = real_read(self, n)
        counts.inflated += len(data)
        return data

    def read1(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = real_read1(self, n)
        counts.inflated += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", read)
    monkeypatch.setattr(zipfile.ZipExtFile, "read1", read1)
    monkeypatch.setattr(etl.readers, "CalamineWorkbook", _counting(etl.readers.CalamineWorkbook, counts))
    return counts


def _counting(real: type, counts: Spy) -> type:
    """A stand-in for CalamineWorkbook whose constructors count calls and return the real thing."""

    class Counting:
        @staticmethod
        def from_filelike(*args: object, **kwargs: object) -> object:
            counts.calamine_opens += 1
            return real.from_filelike(*args, **kwargs)  # type: ignore[attr-defined]

    return Counting


def _only_error(source: object, file_name: str) -> tuple[Reason, str]:
    parsed = read_file(source, file_name=file_name)  # type: ignore[arg-type]
    assert parsed.records == []
    assert len(parsed.errors) == 1, [e.message for e in parsed.errors]
    issue = parsed.errors[0]
    assert issue.severity == "error"
    assert issue.file == file_name
    return issue.reason, issue.message


def test_the_spy_sees_a_good_read(good: Path, spy: Spy) -> None:
    """The counters the refusals below rely on are not blind: a good return is inflated (its sheet
    parts, by the gate's grid check) and opened by calamine once."""
    parsed = read_file(good, file_name=good.name)
    assert parsed.errors == []
    assert spy.calamine_opens == 1
    assert spy.inflated > 1000


def test_good_file_passes_the_gate(good: Path) -> None:
    gate = load_source(good, file_name=good.name)
    assert gate.ok
    assert gate.container == "xlsx"
    assert gate.size == good.stat().st_size


@pytest.mark.parametrize(
    ("content", "detected"),
    [
        (b"unit,period\njingan,2023-06\n", "纯文本（如 CSV）"),
        ("单位,报告期\n静安区,2023-06\n".encode("gb18030"), "纯文本（如 CSV）"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "PDF 文件"),
        (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "网页或 XML 文本"),
        (b"", "空文件"),
        (b"\x00\x01\x02\x03binary", "无法识别的格式"),
    ],
)
def test_not_excel(content: bytes, detected: str, spy: Spy) -> None:
    reason, message = _only_error(content, "renamed.xlsx")
    assert reason == Reason.NOT_EXCEL
    assert message.startswith("文件 renamed.xlsx：不是 Excel 工作簿")
    assert detected in message
    assert (spy.inflated, spy.calamine_opens) == (0, 0)


def test_a_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
        archive.writestr("[Content_Types].xml", "<Types/>")
    reason, message = _only_error(buf.getvalue(), "report.xlsx")
    assert reason == Reason.NOT_EXCEL
    assert "Word 文档（.docx）" in message


def test_too_large_is_refused_without_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "big.xlsx"
    # A sparse 11 MB file: refused from its size alone, so its content (zeros) never matters.
    with big.open("wb") as fh:
        fh.truncate(11 * 1024 * 1024)
    opened: list[str] = []
    real_open = Path.open

    def spy(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        opened.append(self.name)
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", spy)
    reason, message = _only_error(big, "big.xlsx")
    assert reason == Reason.TOO_LARGE
    assert (
        message == "文件 big.xlsx：文件大小 11 MB，超过上限 10 MB，已拒收；请删除无关的工作表、图片后重新上传"
    )
    assert opened == []
    parsed = read_file(big)
    assert parsed.size_bytes == 11 * 1024 * 1024
    assert parsed.sha256 == ""


def test_too_large_bytes() -> None:
    limit = get_settings().max_file_bytes
    reason, _ = _only_error(b"PK\x03\x04" + b"\0" * limit, "big.xlsx")
    assert reason == Reason.TOO_LARGE


@pytest.fixture(scope="module")
def zip_bomb() -> Iterator[bytes]:
    """A valid return plus a sheet part of 300 MB of zeros (1.3 MB compressed)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        base = make_return(Path(tmp) / "r.xlsx").read_bytes()
    buf = io.BytesIO(base)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("xl/worksheets/sheet9.xml", "w", force_zip64=True) as part:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):
                part.write(chunk)
    yield buf.getvalue()


def test_zip_bomb_is_refused_from_the_directory(zip_bomb: bytes, spy: Spy) -> None:
    assert len(zip_bomb) < get_settings().max_file_bytes
    reason, message = _only_error(zip_bomb, "bomb.xlsx")
    assert reason == Reason.TOO_EXPANDED
    assert "解压后大小为 30" in message  # 300 MB and some
    assert "超过安全上限 200 MB" in message
    # refused from the zip directory: not one byte inflated, calamine never asked
    assert (spy.inflated, spy.calamine_opens) == (0, 0)


def test_declared_size_alone_is_enough(good: Path) -> None:
    """A central directory that declares 400 MB is refused even if the data is small."""
    data = bytearray(good.read_bytes())
    pos = data.find(b"PK\x01\x02")  # first central-directory entry
    data[pos + 24 : pos + 28] = (400 * 1024 * 1024).to_bytes(4, "little")
    reason, _ = _only_error(bytes(data), "lying.xlsx")
    assert reason == Reason.TOO_EXPANDED


def test_encrypted_xlsx_is_refused(spy: Spy) -> None:
    reason, message = _only_error(FIXTURES / "encrypted.xlsx", "encrypted.xlsx")
    assert reason == Reason.ENCRYPTED
    assert (
        message
        == "文件 encrypted.xlsx：文件设置了打开密码（已加密），无法读取；请在 Excel 中取消密码后重新上传"
    )
    assert spy.calamine_opens == 0


@pytest.mark.parametrize("cut", [100, 2000])
def test_truncated_workbook_is_unreadable(good: Path, cut: int, spy: Spy) -> None:
    reason, message = _only_error(good.read_bytes()[:cut], "cut.xlsx")
    assert reason == Reason.UNREADABLE
    assert message.startswith("文件 cut.xlsx：无法读取，文件可能已损坏（")
    assert spy.calamine_opens == 0


def test_workbook_with_a_broken_part_is_unreadable() -> None:
    """The container is fine but the workbook XML is garbage: calamine's error becomes an Issue."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "this is not xml <<<")
    reason, message = _only_error(buf.getvalue(), "broken.xlsx")
    assert reason == Reason.UNREADABLE
    assert "无法读取" in message


def test_damaged_ole_file_is_unreadable() -> None:
    data = (FIXTURES / "return.xls").read_bytes()[:1500]
    reason, _ = _only_error(data, "cut.xls")
    assert reason == Reason.UNREADABLE


def test_missing_file_is_an_issue_not_a_traceback(tmp_path: Path) -> None:
    reason, message = _only_error(tmp_path / "nowhere.xlsx", "nowhere.xlsx")
    assert reason == Reason.UNREADABLE
    assert "nowhere.xlsx" in message


def test_xls_passes_the_gate() -> None:
    gate = check_bytes((FIXTURES / "return.xls").read_bytes(), file_name="return.xls")
    assert gate.ok
    assert gate.container == "xls"


def test_far_away_cell_is_refused_before_calamine_allocates_the_grid(tmp_path: Path, spy: Spy) -> None:
    """One cell in XFD1048576 makes calamine allocate 17 billion cells and abort the process."""
    import openpyxl

    path = tmp_path / "far.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "填报单位"  # type: ignore[index]
    wb.active["XFD1048576"] = 1  # type: ignore[index]
    wb.save(path)
    reason, message = _only_error(path, "far.xlsx")
    assert reason == Reason.TOO_EXPANDED
    assert "1048576 行 × 16384 列" in message
    assert spy.calamine_opens == 0  # the grid limit is checked on the sheet XML first
    assert spy.inflated < 10_000  # the small sheet parts only


def test_sheet_extent_and_grid_limit() -> None:
    from etl.safety import MAX_SHEET_CELLS, check_grid_size, sheet_extent

    xml = b'<row r="3"><c r="C3" t="s"><v>0</v></c><c r="AA12"><v>1</v></c></row><mergeCell ref="A1:F1"/>'
    assert sheet_extent(xml) == (12, 27)
    assert sheet_extent(b"<sheetData/>") == (0, 0)
    # r="…" counts where it starts a word (\\br="…"), however it is preceded: a tab or a newline
    # counts (D40 → 40 rows × 4 columns), an attribute that merely ends in r (xr="ZZ99") does not.
    assert sheet_extent(b'<c r="B2"/><c\tr="D40"/><c\nr="C3"/><x xr="ZZ99"/>') == (40, 4)
    assert sheet_extent(b'<c r="B2"/><x xr="ZZ99"/>') == (2, 2)
    assert check_grid_size(1000, 2000, file_name="x.xls") is None  # exactly the limit
    assert 1000 * 2000 == MAX_SHEET_CELLS
    issue = check_grid_size(1001, 2000, file_name="x.xls")
    assert issue is not None and issue.reason == Reason.TOO_EXPANDED


def test_an_unknown_compression_method_is_damaged_not_an_internal_error(good: Path, spy: Spy) -> None:
    """zipfile raises NotImplementedError for a compression method it does not know (here 99, set in
    the local header and the central directory of the sheet part): the gate reports the file as
    unreadable at the file, and calamine is never asked."""
    import struct

    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    struct.pack_into("<H", data, info.header_offset + 8, 99)  # local header: compression method
    central = data.find(b"xl/worksheets/sheet1.xml", data.find(b"PK\x01\x02")) - 46
    struct.pack_into("<H", data, central + 10, 99)  # central directory: compression method
    reason, message = _only_error(bytes(data), "method.xlsx")
    assert reason == Reason.UNREADABLE
    assert message.startswith("文件 method.xlsx：")
    assert spy.calamine_opens == 0


def test_formula_and_error_markers_are_found_where_they_start_a_name() -> None:
    """The cheap pre-check of a sheet part: a formula element (``<f>``, ``<x:f …>``) or an error
    cell (``t="e"``/``t='e'`` as an attribute of its own) sends the part to the full scan; text
    that merely contains those letters does not."""
    from etl.formulas import has_markers

    assert has_markers(b'<c r="A1"><f>SUM(A2:A3)</f></c>')
    assert has_markers(b'<x:c r="A1"><x:f t="shared" si="0"/></x:c>')
    assert has_markers(b'<c r="A1" t="e"><v>#REF!</v></c>')
    assert has_markers(b"<c r='A1' t='e'><v>#N/A</v></c>")
    assert not has_markers(b'<c r="A1" t="s"><v>0</v></c><font/><fmt t="e2"/>')
    assert not has_markers(b'<c r="A1" xt="e"/><c r="A2" at=\'e\'/>')  # t= inside another name
