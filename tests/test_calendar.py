"""Window months and the 同比/环比 windows (DOMAIN.md "Precise rules")."""

from __future__ import annotations

import pytest

from foundation.calendar import periods_needed, previous_window_end, window_months, year_ago_end


@pytest.mark.parametrize(
    ("period", "window", "first", "last", "count"),
    [
        ("2024-05", "month", "2024-05", "2024-05", 1),
        ("2024-05", "quarter", "2024-04", "2024-05", 2),  # quarter to date
        ("2024-03", "quarter", "2024-01", "2024-03", 3),
        ("2024-12", "quarter", "2024-10", "2024-12", 3),
        ("2024-05", "ytd", "2024-01", "2024-05", 5),
        ("2024-05", "year", "2024-01", "2024-12", 12),  # the full calendar year
        ("2024-05", "rolling12", "2023-06", "2024-05", 12),  # M−11 .. M
        ("2024-12", "rolling12", "2024-01", "2024-12", 12),
    ],
)
def test_window_months(period, window, first, last, count):
    months = window_months(period, window)
    assert (months[0], months[-1], len(months)) == (first, last, count)
    assert months == sorted(months)


@pytest.mark.parametrize(
    ("period", "window", "expected"),
    [
        ("2024-05", "month", "2024-04"),
        ("2024-01", "month", "2023-12"),
        ("2024-05", "quarter", "2024-03"),  # end of the previous quarter
        ("2024-02", "quarter", "2023-12"),
        ("2024-05", "year", "2023-12"),  # December of the previous year
        ("2024-05", "ytd", "2024-04"),  # M−1 in the same year …
        ("2024-01", "ytd", None),  # … none in January
        ("2024-05", "rolling12", "2024-04"),
    ],
)
def test_previous_window_end(period, window, expected):
    assert previous_window_end(period, window) == expected


def test_year_ago_and_periods_needed():
    assert year_ago_end("2024-03") == "2023-03"
    # ytd ending 2024-03 reads Jan..Mar 2024 (current), Jan..Mar 2023 (同比), Jan..Feb 2024 (环比)
    assert periods_needed("2024-03", "ytd") == [
        "2023-01",
        "2023-02",
        "2023-03",
        "2024-01",
        "2024-02",
        "2024-03",
        "2023",
        "2024",
    ]


@pytest.mark.parametrize("bad", ["2024-13", "2024-1", "24-01", "2024"])
def test_bad_period(bad):
    with pytest.raises(ValueError):
        window_months(bad, "month")
