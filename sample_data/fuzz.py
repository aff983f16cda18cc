"""The project's own seeded fuzzer of uploads (issue 10): what a hostile or careless sender might send.

``make_inputs(folder, n, seed)`` writes ``n`` files named ``00000_<mutation>.xlsx``… (loaded in that
order) and returns one ``FuzzCase`` each: the unit and month the file is for, and what the store
must hold for it if it is accepted — ``expected`` values, or ``MUST_REJECT`` when accepting it
would store a wrong value (an Excel error value read as 0, a superscript read as a digit…).

Cell-level mutations edit one value (or row) of a valid return's sheet XML: huge, tiny, NaN/inf
text, negative, unicode digits and look-alikes, formulas with and without a cached value, error
cells, dates, long strings, swapped labels, duplicated/deleted rows, an extra sheet. Byte- and
zip-level mutations damage the container: truncation, flipped bytes, broken XML, wrong content
types, many entries, entity expansion, external entities, a part given twice, a duplicated
attribute. The same seed gives the same files (``random.Random(seed)``; zip timestamps fixed).

``check_contract`` states the contract for one load result (see ``bench/fuzz_load.py`` and
``tests/test_fuzz.py``): status accepted/unchanged/rejected, every rejection with at least one
Chinese error naming the file (and the cell, where it has one), never 系统内部错误.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from etl.writers import write_return
from foundation.catalogue import Catalogue, default_catalogue

SHEET = "xl/worksheets/sheet1.xml"
MUST_REJECT: dict[str, float] = {}  # sentinel: accepting this file would store a wrong value
_DATE = (2024, 1, 1, 0, 0, 0)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class FuzzCase:
    path: Path
    mutation: str
    unit: str
    period: str
    expected: dict[str, float]  # values if accepted; MUST_REJECT: must not be accepted
    base: dict[str, float]

    @property
    def must_reject(self) -> bool:
        return self.expected is MUST_REJECT


def base_values(rng: random.Random, catalogue: Catalogue) -> dict[str, float]:
    """Values that pass every rule of a return (closed ≤ accepted and the like)."""
    v: dict[str, float] = {}
    for m in catalogue.monthly_measures():
        v[m.code] = round(rng.uniform(0, 5000), 2) if m.dtype == "decimal" else float(rng.randint(0, 9))
    v.update(
        adjudication_accepted=10.0 + rng.randint(0, 20),
        adjudication_closed=float(rng.randint(0, 10)),
        enforcement_filed=10.0 + rng.randint(0, 20),
        enforcement_closed=float(rng.randint(0, 10)),
        closed_cases_disclosed=float(rng.randint(0, 4)),
        abnormal_patent_notified=10.0,
        abnormal_patent_withdrawn=float(rng.randint(0, 10)),
        mediation_accepted=10.0,
        mediation_succeeded=float(rng.randint(0, 10)),
        malicious_tm_leads=6.0,
        malicious_tm_leads_handled=float(rng.randint(0, 6)),
        complaints_received=9.0,
        complaints_closed=float(rng.randint(0, 9)),
    )
    return {k: val for k, val in v.items() if k in catalogue.measures}


# --- sheet XML helpers ----------------------------------------------------------------------------------


def _parts(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return [(i.filename, archive.read(i)) for i in archive.infolist()]


def _zip(parts: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, body in parts:
            archive.writestr(zipfile.ZipInfo(name, _DATE), body, compress_type=method)
    return out.getvalue()


def _normalise(data: bytes) -> bytes:
    """Fixed zip timestamps and document dates: the same seed gives the same bytes."""
    stamp = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
    return _zip(
        [
            (n, stamp.sub(b"2024-01-01T00:00:00Z", b) if n.startswith("docProps/") else b)
            for n, b in _parts(data)
        ]
    )


def _edit(data: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    return _zip([(n, change(b) if n == name else b) for n, b in _parts(data)])


def _value_cell(xml: bytes, row: int) -> re.Match[bytes]:
    match = re.search(rb'<c r="E%d"[^>]*?(?:/>|>.*?</c>)' % row, xml, re.S)
    assert match is not None
    return match


def _set_cell(data: bytes, row: int, cell_xml: str) -> bytes:
    def change(xml: bytes) -> bytes:
        m = _value_cell(xml, row)
        return xml[: m.start()] + cell_xml.encode() + xml[m.end() :]

    return _edit(data, SHEET, change)


def _inline(row: int, text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<c r="E{row}" t="inlineStr"><is><t>{escaped}</t></is></c>'


# --- mutations -------------------------------------------------------------------------------------------
# Each takes (data, rng, ctx) and returns (bytes, expected) where expected is the values if accepted,
# MUST_REJECT, or None for "the base values".

Mutation = Callable[[bytes, random.Random, dict[str, Any]], tuple[bytes, dict[str, float] | None]]


def _pick(rng: random.Random, ctx: dict[str, Any], dtype: str | None = None) -> tuple[str, int]:
    codes = [c for c in ctx["rows"] if dtype is None or ctx["catalogue"].measures[c].dtype == dtype]
    code = rng.choice(codes)
    return code, ctx["rows"][code]


def _text_value(texts: list[str]) -> Mutation:
    def mutate(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
        code, row = _pick(rng, ctx, "int")
        return _set_cell(data, row, _inline(row, rng.choice(texts))), MUST_REJECT

    return mutate


def _number_value(numbers: list[str]) -> Mutation:
    def mutate(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
        code, row = _pick(rng, ctx)
        return _set_cell(data, row, f'<c r="E{row}" t="n"><v>{rng.choice(numbers)}</v></c>'), MUST_REJECT

    return mutate


def _tiny(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
    """Below the float-noise tolerance a value reads as 0; 0.000001 is too many decimals for a decimal."""
    code, row = _pick(rng, ctx)
    text = rng.choice(["1e-300", "5e-324", "0.000001"])
    return _set_cell(data, row, f'<c r="E{row}" t="n"><v>{text}</v></c>'), {**ctx["values"], code: 0.0}


def _full_width(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    code, row = _pick(rng, ctx, "int")
    n = rng.randint(0, 999)
    wide = "".join(chr(0xFF10 + int(d)) for d in str(n))
    return _set_cell(data, row, _inline(row, wide)), {**ctx["values"], code: float(n)}


def _formula_cached(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    code, row = _pick(rng, ctx, "int")
    n = rng.randint(0, 9)
    return _set_cell(data, row, f'<c r="E{row}"><f>{n}+0</f><v>{n}</v></c>'), {
        **ctx["values"],
        code: float(n),
    }


def _formula_uncached(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    _code, row = _pick(rng, ctx)
    return _set_cell(data, row, f'<c r="E{row}"><f>SUM(A1:A3)</f></c>'), MUST_REJECT


def _error_cell(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    _code, row = _pick(rng, ctx)
    err = rng.choice(["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!"])
    formula = f"<f>{rng.choice(['1/0', 'A1+#REF!'])}</f>" if rng.random() < 0.5 else ""
    return _set_cell(data, row, f'<c r="E{row}" t="e">{formula}<v>{err}</v></c>'), MUST_REJECT


def _date_cell(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
    _code, row = _pick(rng, ctx)
    return _set_cell(
        data, row, f'<c r="E{row}" t="d"><v>2023-06-{rng.randint(1, 28):02d}T00:00:00</v></c>'
    ), MUST_REJECT


def _swap_labels(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    """Codes and names of two rows exchanged: the values now belong to the other measure."""
    (a, ra), (b, rb) = rng.sample(sorted(ctx["rows"].items()), 2)

    def change(xml: bytes) -> bytes:
        spans = []
        for col in (b"B", b"C"):
            for row, other in ((ra, rb), (rb, ra)):
                m = re.search(rb'<c r="%s%d"[^>]*>.*?</c>' % (col, other), xml, re.S)
                assert m is not None
                # the other row's cell content under this row's reference
                cell = m.group(0).replace(b'r="%s%d"' % (col, other), b'r="%s%d"' % (col, row), 1)
                here = re.search(rb'<c r="%s%d"[^>]*>.*?</c>' % (col, row), xml, re.S)
                assert here is not None
                spans.append((here.start(), here.end(), cell))
        for start, end, cell in sorted(spans, reverse=True):
            xml = xml[:start] + cell + xml[end:]
        return xml

    values = dict(ctx["values"])
    values[a], values[b] = ctx["values"][b], ctx["values"][a]
    return _edit(data, SHEET, change), values


def _row_element(xml: bytes, row: int) -> re.Match[bytes]:
    m = re.search(rb'<row r="%d"[^>]*>.*?</row>' % row, xml, re.S)
    assert m is not None
    return m


def _delete_row(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    _code, row = _pick(rng, ctx)

    def change(xml: bytes) -> bytes:
        m = _row_element(xml, row)
        return xml[: m.start()] + xml[m.end() :]

    return _edit(data, SHEET, change), MUST_REJECT  # a required measure is missing


def _duplicate_row(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    _code, row = _pick(rng, ctx)
    last = max(ctx["rows"].values())
    new = last + 1 + rng.randint(0, 3)

    def change(xml: bytes) -> bytes:
        m = _row_element(xml, row)
        copy = re.sub(rb'r="([A-Z]+)%d"' % row, lambda c: b'r="%s%d"' % (c.group(1), new), m.group(0))
        copy = copy.replace(b'<row r="%d"' % row, b'<row r="%d"' % new, 1)
        tail = _row_element(xml, last)
        return xml[: tail.end()] + copy + xml[tail.end() :]

    return _edit(data, SHEET, change), MUST_REJECT  # the same measure twice


def _extra_sheet(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    """A third sheet of scribbles (a note, numbers without labels): the return is read as before."""
    parts = dict(_parts(data))
    junk = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>备注{r}</t></is></c><c r="B{r}"><v>{rng.randint(0, 99)}</v></c></row>'
        for r in range(1, rng.randint(2, 6))
    )
    parts["xl/worksheets/sheet9.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + junk.encode() + b"</sheetData></worksheet>"
    )
    parts["xl/workbook.xml"] = parts["xl/workbook.xml"].replace(
        b"</sheets>",
        b'<sheet xmlns:rr="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        b'name="\xe8\x8d\x89\xe7\xa8\xbf" sheetId="9" rr:id="rIdFuzz9"/></sheets>',
    )
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdFuzz9" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        b'Target="worksheets/sheet9.xml"/></Relationships>',
    )
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"</Types>",
        b'<Override PartName="/xl/worksheets/sheet9.xml" '
        b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    )
    return _zip(list(parts.items())), None


def _truncate(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
    return data[: rng.randint(0, len(data) - 1)], None


def _flip(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 8])):
        out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out), None


def _broken_xml(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    def change(xml: bytes) -> bytes:
        spots = [i for i, ch in enumerate(xml) if ch in b"<>"]
        i = rng.choice(spots)
        return xml[:i] + xml[i + 1 :]

    return _edit(data, SHEET, change), None


def _duplicate_attribute(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    _code, row = _pick(rng, ctx)
    return _edit(
        data, SHEET, lambda xml: xml.replace(b'<c r="E%d"' % row, b'<c r="E%d" r="E1"' % row, 1)
    ), None


def _content_types(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    def change(xml: bytes) -> bytes:
        return xml.replace(
            b"spreadsheetml.worksheet+xml", rng.choice([b"wordprocessingml.document.main+xml", b"x"]), 1
        )

    return _edit(data, "[Content_Types].xml", change), None


def _many_entries(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    extra = [(f"customXml/item{i}.bin", b"\x00") for i in range(rng.choice([50, 2500]))]
    return _zip(_parts(data) + extra), None


_LOL = (
    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">'
    + b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&%s;" % bytes([97 + i])) * 10) for i in range(8))
    + b"]>"
)
_XXE = b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'


def _doctype(prefix: bytes, entity: bytes) -> Mutation:
    def mutate(data: bytes, rng: random.Random, ctx: dict[str, Any]) -> tuple[bytes, dict[str, float] | None]:
        _code, row = _pick(rng, ctx, "int")

        def change(xml: bytes) -> bytes:
            body = xml[xml.index(b"<worksheet") :]
            m = _value_cell(body, row)
            cell = b'<c r="E%d" t="inlineStr"><is><t>%s</t></is></c>' % (row, entity)
            return prefix + body[: m.start()] + cell + body[m.end() :]

        return _edit(data, SHEET, change), MUST_REJECT

    return mutate


def _twice_in_zip(
    data: bytes, rng: random.Random, ctx: dict[str, Any]
) -> tuple[bytes, dict[str, float] | None]:
    code, row = _pick(rng, ctx, "int")
    parts = _parts(data)
    sheet = dict(parts)[SHEET]
    m = _value_cell(sheet, row)
    other = sheet[: m.start()] + f'<c r="E{row}" t="n"><v>777</v></c>'.encode() + sheet[m.end() :]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Duplicate name": exactly the point
            for name, body in [*parts, (SHEET, other)]:
                archive.writestr(zipfile.ZipInfo(name, _DATE), body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue(), MUST_REJECT


MUTATIONS: dict[str, Mutation] = {
    "none": lambda data, rng, ctx: (data, None),
    "huge_text": _text_value(["9" * 309, "9" * 400, "1" + "0" * 20, "1e400"]),
    "huge_number": _number_value(["1e308", "1.8e306", "1.7976931348623157e308", "1e16"]),
    "tiny": _tiny,
    "nan_inf_text": _text_value(["nan", "NaN", "inf", "-inf", "Infinity", "1e999"]),
    "negative": _number_value(["-1", "-0.5", "-1e10"]),
    "unicode_digits": _text_value(["²³", "①②", "٣", "𝟐𝟑", "2³", "४२", "Ⅻ"]),
    "look_alikes": _text_value(["O", "l2", "1O", "1٫5", "١٢", "12件", "1 2 3.4.5", "０x1F", "1e5e"]),
    "full_width": _full_width,
    "formula_cached": _formula_cached,
    "formula_uncached": _formula_uncached,
    "error_cell": _error_cell,
    "date": _date_cell,
    "long_string": _text_value(["长" * 5000, "x" * 40000]),
    "swapped_labels": _swap_labels,
    "duplicated_row": _duplicate_row,
    "deleted_row": _delete_row,
    "extra_sheet": _extra_sheet,
    "truncated": _truncate,
    "flipped_bytes": _flip,
    "broken_xml": _broken_xml,
    "duplicated_attribute": _duplicate_attribute,
    "content_types": _content_types,
    "many_entries": _many_entries,
    "entity_expansion": _doctype(_LOL, b"&i;"),
    "external_entity": _doctype(_XXE, b"&x;"),
    "part_twice": _twice_in_zip,
}


def make_inputs(
    folder: Path, n: int, *, seed: int = 10, catalogue: Catalogue | None = None
) -> list[FuzzCase]:
    """``n`` seeded inputs in ``folder``, mutations taken in turn so every kind appears."""
    cat = catalogue or default_catalogue()
    rng = random.Random(seed)
    units = [u for u in cat.units_of("shanghai")]
    periods = [f"{y}-{m:02d}" for y in (2022, 2023) for m in range(1, 13)]
    names = list(MUTATIONS)
    folder.mkdir(parents=True, exist_ok=True)
    rows = {m.code: 6 + i for i, m in enumerate(cat.monthly_measures())}
    cases = []
    for i in range(n):
        name = names[i % len(names)]
        unit = rng.choice(units)
        period = rng.choice(periods)
        values = base_values(rng, cat)
        buffer = io.BytesIO()
        write_return(buffer, unit=unit, period=period, catalogue=cat, values=values)
        data = _normalise(buffer.getvalue())
        ctx = {"rows": rows, "values": values, "catalogue": cat}
        mutated, expected = MUTATIONS[name](data, rng, ctx)
        path = folder / f"{i:05d}_{name}.xlsx"
        path.write_bytes(mutated)
        cases.append(
            FuzzCase(path, name, unit.code, period, values if expected is None else expected, values)
        )
    return cases


def check_contract(result: dict[str, Any], case: FuzzCase) -> list[str]:
    """What is wrong with one ``ipdash load --json`` result for this input (empty: nothing)."""
    problems = []
    status = result.get("status")
    if status not in ("accepted", "unchanged", "rejected"):
        problems.append(f"status {status!r}")
    if status in ("accepted", "unchanged") and case.must_reject:
        problems.append(f"{case.mutation}: accepted a file that holds a wrong value")
    if status == "accepted" and (result.get("unit"), result.get("periods")) != (case.unit, [case.period]):
        problems.append(
            f"accepted for {result.get('unit')} {result.get('periods')}, not {case.unit} {case.period}"
        )
    if status == "rejected":
        if not result.get("errors"):
            problems.append("rejected without an error")
        for err in result.get("errors", []):
            message = err.get("message", "")
            if "系统内部错误" in message:
                problems.append(f"internal error: {message}")
            if not _CJK.search(message):
                problems.append(f"not Chinese: {message}")
            if case.path.name not in message:
                problems.append(f"file not named: {message}")
            if err.get("cell") and err["cell"] not in message:
                problems.append(f"cell {err['cell']} not named: {message}")
    return problems


def expected_store(
    cases: list[FuzzCase], results: list[dict[str, Any]]
) -> dict[tuple[str, str], dict[str, float]]:
    """(unit, month) → the values the store must hold: those of the last accepted file for it."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    for case, result in zip(cases, results, strict=True):
        if result["status"] in ("accepted", "unchanged"):  # unchanged: the same values were current
            out[(case.unit, case.period)] = case.expected
    return out
