"""Hostile or damaged workbooks (issue 10): each ends in a clear error at its cell or "damaged
file", never in an internal error and never with a value silently changed."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from factories import ledger_rows, make_return, value_row, write_grid

from etl.readers import read_file
from etl.records import ParsedFile, Reason
from etl.safety import check_bytes

SHEET = "xl/worksheets/sheet1.xml"
SHARED = "xl/sharedStrings.xml"
_SST = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0">'


def read(path: Path) -> ParsedFile:
    return read_file(path, today=__import__("datetime").date(2024, 1, 15))


def errors(parsed: ParsedFile) -> list[tuple[Reason, str, str, str]]:
    return [(e.reason, e.sheet, e.cell, e.measure) for e in parsed.errors]


def rezip(path: Path, out: Path, edit: dict[str, bytes]) -> Path:
    """The same workbook with some parts replaced; zipfile writes valid checksums."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, edit.get(info.filename, src.read(info)))
    return out


# -- defect 1: overflow is "above the maximum" at the cell ------------------------------------------


def test_309_digit_text_is_above_the_maximum(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx", raw={"trainees": "9" * 309})
    parsed = read(path)
    row = value_row("trainees")
    assert errors(parsed) == [(Reason.ABOVE_MAX, "月报", f"E{row}", "trainees")]
    assert "超过上限 1000000000000000" in parsed.errors[0].message


def test_huge_decimal_number_is_above_the_maximum(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx", raw={"amount_involved": 1.8e306})
    parsed = read(path)
    assert errors(parsed) == [
        (Reason.ABOVE_MAX, "月报", f"E{value_row('amount_involved')}", "amount_involved")
    ]


def test_satisfaction_1e308_in_a_ledger_is_above_its_max_100(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": {"satisfaction_score": 1e308}}, measures=["satisfaction_score"])
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023": rows}))
    assert errors(parsed) == [(Reason.ABOVE_MAX, "2023", "B2", "satisfaction_score")]
    assert "超过上限 100" in parsed.errors[0].message


# -- defect 2: error cells, broken XML, duplicated cells, compatibility digits ----------------------


@pytest.mark.parametrize("code", ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NULL!", "#NUM!"])
def test_constant_excel_error_cell_is_an_error_at_its_cell(tmp_path: Path, code: str) -> None:
    path = make_return(tmp_path / "r.xlsx", raw={"trainees": code})  # openpyxl writes t="e"
    assert b't="e"' in zipfile.ZipFile(path).read(SHEET)
    parsed = read(path)
    assert errors(parsed) == [(Reason.NOT_A_NUMBER, "月报", f"E{value_row('trainees')}", "trainees")]
    assert f"Excel 错误值“{code}”" in parsed.errors[0].message


def test_error_value_cached_by_a_formula_is_an_error(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx", raw={"trainees": 1})
    row = value_row("trainees")
    xml = zipfile.ZipFile(path).read(SHEET)
    cell = f'<c r="E{row}" t="n"><v>1</v></c>'.encode()
    assert cell in xml
    broken = xml.replace(cell, f'<c r="E{row}" t="e"><f>1/0</f><v>#DIV/0!</v></c>'.encode())
    parsed = read(rezip(path, tmp_path / "f.xlsx", {SHEET: broken}))
    assert errors(parsed) == [(Reason.NOT_A_NUMBER, "月报", f"E{row}", "trainees")]


def _value_cell(path: Path, code: str, value: int) -> tuple[bytes, bytes]:
    xml = zipfile.ZipFile(path).read(SHEET)
    cell = f'<c r="E{value_row(code)}" t="n"><v>{value}</v></c>'.encode()
    assert cell in xml
    return xml, cell


@pytest.mark.parametrize(
    "mangle",
    [
        lambda cell: cell.replace(b"<v>", b"v>", 1),  # one '<' removed
        lambda cell: cell.replace(b"</v>", b"/v>", 1),
        lambda cell: cell.replace(b'" t="n">', b'" t="n"', 1),  # one '>' removed
        lambda cell: cell.replace(b'r="', b'r="E1" r="', 1),  # a duplicated r= attribute
    ],
    ids=["lt-open", "lt-close", "gt", "dup-attr"],
)
def test_broken_sheet_xml_is_refused_not_read_with_a_changed_value(tmp_path: Path, mangle) -> None:  # type: ignore[no-untyped-def]
    path = make_return(tmp_path / "r.xlsx", raw={"trainees": 599})
    xml, cell = _value_cell(path, "trainees", 599)
    parsed = read(rezip(path, tmp_path / "b.xlsx", {SHEET: xml.replace(cell, mangle(cell))}))
    assert parsed.records == []
    assert [e.reason for e in parsed.errors] == [Reason.UNREADABLE]
    assert "文件可能已损坏" in parsed.errors[0].message and SHEET in parsed.errors[0].message


def test_a_cell_given_twice_is_refused_naming_the_cell(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx", raw={"trainees": 599})
    xml, cell = _value_cell(path, "trainees", 599)
    twice = cell + cell.replace(b"599", b"0")
    parsed = read(rezip(path, tmp_path / "d.xlsx", {SHEET: xml.replace(cell, twice)}))
    assert errors(parsed) == [(Reason.UNREADABLE, "月报", f"E{value_row('trainees')}", "")]
    assert "同一单元格出现两次" in parsed.errors[0].message


@pytest.mark.parametrize("text", ["²³", "①②", "٣", "𝟐𝟑", "2³"])
def test_compatibility_digits_are_not_digits(tmp_path: Path, text: str) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", raw={"trainees": text}))
    assert errors(parsed) == [(Reason.NOT_A_NUMBER, "月报", f"E{value_row('trainees')}", "trainees")]


def test_full_width_digits_still_read(tmp_path: Path) -> None:
    parsed = read(
        make_return(tmp_path / "r.xlsx", raw={"trainees": "２３", "amount_involved": "１，２３４．５"})
    )
    assert parsed.errors == []
    assert parsed.records[0].values["trainees"] == 23.0
    assert parsed.records[0].values["amount_involved"] == 1234.5


# -- defect 1 (zlib) and 6 (memory): damaged or lying zips ---------------------------------------------


def _entry_data_span(data: bytes, name: str) -> tuple[int, int]:
    """(offset, length) of an entry's compressed bytes in a zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    start = info.header_offset
    name_len, extra_len = struct.unpack("<HH", data[start + 26 : start + 30])
    return start + 30 + name_len + extra_len, info.compress_size


def test_every_flipped_byte_in_the_compressed_sheet_is_damaged_or_harmless(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx")
    data = path.read_bytes()
    offset, length = _entry_data_span(data, SHEET)
    damaged = 0
    for i in range(offset, offset + length, max(1, length // 60)):
        mutated = bytearray(data)
        mutated[i] ^= 0x10
        parsed = read_file(bytes(mutated), file_name="flip.xlsx")
        # A flipped byte always breaks the deflate stream or the CRC: never a value read from it.
        assert [e.reason for e in parsed.errors] == [Reason.UNREADABLE], (i, parsed.errors)
        assert parsed.errors[0].message.startswith("文件 flip.xlsx：无法读取，文件可能已损坏")
        damaged += 1
    assert damaged >= 50


def test_zlib_error_is_damaged_not_internal(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx")
    data = bytearray(path.read_bytes())
    offset, _length = _entry_data_span(bytes(data), SHEET)
    data[offset] = 0xFF  # block type 3: "invalid block type" from zlib
    with pytest.raises(zlib.error):
        zlib.decompressobj(-15).decompress(bytes(data[offset : offset + 10]))
    gate = check_bytes(bytes(data), file_name="z.xlsx")
    assert [i.reason for i in gate.issues] == [Reason.UNREADABLE]
    assert "error" in gate.issues[0].message.lower()


def _understated_zip(path: Path, out: Path, pad_mb: int) -> Path:
    """A sharedStrings.xml part (which calamine reads) padded with ``pad_mb`` MB of spaces, written
    in streaming fashion, then its size in both zip directories set to 200 bytes."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        with dst.open(SHARED, "w") as stream:
            stream.write(_SST[:-1])
            for _ in range(pad_mb):
                stream.write(b" " * (1024 * 1024))
            stream.write(b"></sst>")
    data = bytearray(out.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(SHARED)
    assert info.file_size > pad_mb * 1024 * 1024
    # local header: uncompressed size at +22; central directory record (46 fixed bytes, then the
    # name): at +24
    struct.pack_into("<I", data, info.header_offset + 22, 200)
    central = data.find(SHARED.encode(), data.find(b"PK\x01\x02")) - 46
    assert struct.unpack_from("<I", data, central + 24)[0] == info.file_size
    struct.pack_into("<I", data, central + 24, 200)
    out.write_bytes(bytes(data))
    return out


def test_a_zip_understating_a_part_costs_no_more_than_its_limits(tmp_path: Path) -> None:
    """Before: calamine inflated the whole 600 MB part (718 MB resident). Now the gate inflates at
    most the declared size, finds the CRC wrong and never hands the part to calamine."""
    path = make_return(tmp_path / "r.xlsx")
    bomb = _understated_zip(path, tmp_path / "bomb.xlsx", pad_mb=600)
    assert bomb.stat().st_size < 10 * 1024 * 1024
    code = (
        "import json,sys\n"
        "from etl.readers import read_file\n"
        "p = read_file(sys.argv[1])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(json.dumps({'reasons': [e.reason for e in p.errors], 'rss_mb': int(hwm) / 1024}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(bomb)], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    assert found["reasons"] == ["unreadable"]
    # Python, pandas and calamine loaded cost ~120 MB here; 600 MB inflated would be far above.
    assert found["rss_mb"] < 300, found


def test_the_expanded_limit_is_the_settings_value(tmp_path: Path) -> None:
    """The declared sizes are checked first; zipfile never inflates past them (and the gate counts
    what it inflated against the same limit as it goes)."""
    from foundation.settings import Settings

    path = make_return(tmp_path / "r.xlsx")
    with zipfile.ZipFile(path) as archive:
        declared = sum(i.file_size for i in archive.infolist())
    today = __import__("datetime").date(2024, 1, 15)
    roomy = Settings.model_construct(max_expanded_bytes=declared + 10)
    assert read_file(path, today=today, settings=roomy).errors == []
    tight = Settings.model_construct(max_expanded_bytes=declared - 10)
    parsed = read_file(path, today=today, settings=tight)
    assert [e.reason for e in parsed.errors] == [Reason.TOO_EXPANDED]


def test_a_dtd_is_refused(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx")
    xml = zipfile.ZipFile(path).read(SHEET)
    lol = b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
    body = lol + xml[xml.index(b"<worksheet") :]
    parsed = read(rezip(path, tmp_path / "x.xlsx", {SHEET: body}))
    assert [e.reason for e in parsed.errors] == [Reason.UNREADABLE]
    assert "文档类型定义" in parsed.errors[0].message


def test_the_reader_gets_only_checked_parts_uncompressed(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx")
    gate = check_bytes(path.read_bytes(), file_name="r.xlsx")
    assert gate.ok
    with zipfile.ZipFile(io.BytesIO(gate.workbook)) as packed, zipfile.ZipFile(path) as original:
        assert {i.compress_type for i in packed.infolist()} == {zipfile.ZIP_STORED}
        assert {i.filename: packed.read(i) for i in packed.infolist()} == {
            i.filename: original.read(i) for i in original.infolist()
        }
