"""Cell-value rules (etl/cells.py): what people type, and what it reads as."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.cells import (
    CellKind,
    a1,
    clean_value,
    column_letter,
    parse_date_text,
    parse_number,
    parse_period,
    parse_year,
    previous_month,
    value_problem,
)
from etl.records import Reason
from foundation.catalogue import default_catalogue

CAT = default_catalogue()
INT = CAT.measures["adjudication_closed"]
DECIMAL = CAT.measures["amount_involved"]
SCORE = CAT.measures["satisfaction_score"]  # decimal, max 100


@pytest.mark.parametrize(
    ("raw", "kind", "value"),
    [
        (12, CellKind.NUMBER, 12.0),
        (12.5, CellKind.NUMBER, 12.5),
        ("12", CellKind.NUMBER, 12.0),
        (" 12 ", CellKind.NUMBER, 12.0),
        ("１２，３４５．６", CellKind.NUMBER, 12345.6),  # full-width digits, comma and point
        ("1,234", CellKind.NUMBER, 1234.0),
        ("1,234,567.89", CellKind.NUMBER, 1234567.89),
        ("1\u3000234", CellKind.NUMBER, 1234.0),  # ideographic space inside
        ("\u00a012\u00a0", CellKind.NUMBER, 12.0),  # NBSP around
        ("1 234", CellKind.NUMBER, 1234.0),
        ("０", CellKind.NUMBER, 0.0),
        (".5", CellKind.NUMBER, 0.5),
        ("-3", CellKind.NUMBER, -3.0),  # a number; negative is judged by value_problem
        ("", CellKind.EMPTY, 0.0),
        ("   ", CellKind.EMPTY, 0.0),
        ("\u3000", CellKind.EMPTY, 0.0),
        ("—", CellKind.BLANK, 0.0),
        ("——", CellKind.BLANK, 0.0),
        ("-", CellKind.BLANK, 0.0),
        ("－", CellKind.BLANK, 0.0),  # full-width hyphen
        ("/", CellKind.BLANK, 0.0),
        ("无", CellKind.BLANK, 0.0),
        (" 无 ", CellKind.BLANK, 0.0),
        ("abc", CellKind.BAD, 0.0),
        ("12件", CellKind.BAD, 0.0),
        ("1,2", CellKind.BAD, 0.0),  # not a thousands grouping: ambiguous, refused
        ("12,34", CellKind.BAD, 0.0),
        ("1.2.3", CellKind.BAD, 0.0),
        (True, CellKind.BAD, 0.0),
        (date(2023, 6, 1), CellKind.BAD, 0.0),
        (float("nan"), CellKind.BAD, 0.0),
    ],
)
def test_parse_number(raw: object, kind: CellKind, value: float) -> None:
    cell = parse_number(raw)
    assert cell.kind == kind
    assert cell.value == value


def test_parse_number_keeps_the_text_found() -> None:
    assert parse_number(" abc ").text == "abc"
    assert parse_number(12.0).text == "12"
    assert parse_number(12.5).text == "12.5"


@pytest.mark.parametrize(
    ("value", "measure", "problem"),
    [
        (0, INT, None),
        (12, INT, None),
        (12.0000000001, INT, None),  # float noise from a formula is still whole
        (-1, INT, Reason.NEGATIVE),
        (-0.5, DECIMAL, Reason.NEGATIVE),
        (1.5, INT, Reason.NOT_WHOLE),
        (12345.67, DECIMAL, None),
        (0.1 + 0.2, DECIMAL, None),  # 0.30000000000000004
        (12345.678, DECIMAL, Reason.TOO_MANY_DECIMALS),
        (0.001, DECIMAL, Reason.TOO_MANY_DECIMALS),
        (100, SCORE, None),
        (100.01, SCORE, Reason.ABOVE_MAX),
        (82.04, SCORE, None),
    ],
)
def test_value_problem(value: float, measure, problem: Reason | None) -> None:  # type: ignore[no-untyped-def]
    assert value_problem(value, measure) == problem


def test_clean_value_strips_float_noise() -> None:
    assert clean_value(0.1 + 0.2, DECIMAL) == 0.3
    assert clean_value(12.0000000001, INT) == 12.0


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=99))
def test_two_decimal_numbers_as_text_read_exactly(whole: int, cents: int) -> None:
    text = f"{whole:,}.{cents:02d}"
    cell = parse_number(text)
    assert cell.kind == CellKind.NUMBER
    assert value_problem(cell.value, DECIMAL) is None
    assert clean_value(cell.value, DECIMAL) == round(whole + cents / 100, 2)


@pytest.mark.parametrize(
    ("raw", "period"),
    [
        ("2023-06", "2023-06"),
        ("2023-6", "2023-06"),
        ("2023年6月", "2023-06"),
        ("2023年06月", "2023-06"),
        ("2023年6月份", "2023-06"),
        ("２０２３年６月", "2023-06"),
        ("2023.06", "2023-06"),
        ("2023/6", "2023-06"),
        ("202306", "2023-06"),
        (202306, "2023-06"),
        (202306.0, "2023-06"),
        (2023.06, "2023-06"),
        (2023.1, "2023-01"),  # what the cell shows
        ("2023-06-30", "2023-06"),
        ("2023年6月30日", "2023-06"),
        (date(2023, 6, 1), "2023-06"),
        (datetime(2023, 6, 30, 12, 0), "2023-06"),
        (" 2023 - 06 ", "2023-06"),
        ("2023-13", None),
        ("2023-00", None),
        ("2023", None),
        ("June 2023", None),
        ("", None),
        (True, None),
        ("1899-12", None),
    ],
)
def test_parse_period(raw: object, period: str | None) -> None:
    assert parse_period(raw) == period


@pytest.mark.parametrize(
    ("raw", "year"),
    [("2023", "2023"), ("2023年", "2023"), ("2023年度", "2023"), (2023, "2023"), ("２０２３", "2023")]
    + [("2023-06", None), ("23", None), (2023.5, None), ("abc", None)],
)
def test_parse_year(raw: object, year: str | None) -> None:
    assert parse_year(raw) == year


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (date(2023, 7, 5), "2023-07-05"),
        (datetime(2023, 7, 5, 9, 30), "2023-07-05"),
        ("2023年7月5日", "2023-07-05"),
        ("2023/7/5", "2023-07-05"),
        ("七月五日", "七月五日"),
        ("2023-02-30", "2023-02-30"),  # not a date: kept as typed
    ],
)
def test_parse_date_text(raw: object, text: str) -> None:
    assert parse_date_text(raw) == text


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (4, "E"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ")]
)
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


def test_a1_is_one_based() -> None:
    assert a1(0, 0) == "A1"
    assert a1(11, 4) == "E12"


def test_previous_month() -> None:
    assert previous_month("2023-01") == "2022-12"
    assert previous_month("2023-07") == "2023-06"
