"""Display formatting, URL state and identity: pure functions, hand-computed expectations."""

from __future__ import annotations

import math

import flask
import pandas as pd
import pytest

from application.display import (
    change_is_good,
    flag,
    format_change,
    format_coverage,
    format_number,
    format_value,
)
from dashboard.filters import Filters, build_query, clean_filters, parse_query, split_list
from dashboard.identity import current_user
from foundation.catalogue import default_catalogue

IND = default_catalogue().indicators
RATE, DAYS, SCORE, LEVEL = (
    IND["mediation_success_rate"],
    IND["avg_handling_days"],
    IND["satisfaction_score"],
    IND["adjudication_volume"],
)


@pytest.mark.parametrize(
    ("value", "indicator", "shown"),
    [
        (0.873, RATE, "87.3%"),
        (1.0, RATE, "100.0%"),
        (95.46, DAYS, "95.5天"),
        (81.25, SCORE, "81.25分"),
        (1234.0, LEVEL, "1,234件"),
        (2.5, LEVEL, "2.5件"),
        (math.nan, RATE, "—"),
        (None, LEVEL, "—"),
        (pd.NA, DAYS, "—"),
        (92.3727, None, "92.37"),  # the composite score
    ],
)
def test_format_value(value: object, indicator: object, shown: str) -> None:
    assert format_value(value, indicator) == shown  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "indicator", "shown", "good"),
    [
        (0.032, RATE, "+3.2个百分点", True),  # a difference, in percentage points
        (-0.0004, RATE, "0.0个百分点", None),  # too small to show: no sign, no colour
        (-1.54, DAYS, "-1.5天", True),  # fewer days is better
        (2.0, DAYS, "+2.0天", False),
        (0.5, SCORE, "+0.50分", True),
        (0.051, LEVEL, "+5.1%", True),  # counts: a relative change
        (-0.2, LEVEL, "-20.0%", False),
        (math.nan, LEVEL, "—", None),
    ],
)
def test_format_change(change: float, indicator: object, shown: str, good: bool | None) -> None:
    assert format_change(change, indicator) == shown  # type: ignore[arg-type]
    assert change_is_good(change, indicator) is good  # type: ignore[arg-type]


def test_numbers_coverage_and_flags() -> None:
    assert format_number(12345.0) == "12,345"
    assert format_number(1234.5) == "1,234.50"
    assert format_number(math.nan) == "—"
    assert format_coverage(11 / 12) == "92%"
    assert [flag(v) for v in (True, False, pd.NA, None)] == [True, False, False, False]


def test_query_round_trip_keeps_other_pages_params() -> None:
    query = parse_query("?region=shanghai&window=quarter&period=2023-06&units=jingan,pudong")
    assert query == {"region": "shanghai", "window": "quarter", "period": "2023-06", "units": "jingan,pudong"}
    assert split_list(query["units"]) == ["jingan", "pudong"]
    written = build_query({**query, "indicator": "case_completion_rate", "mode": None})
    assert (
        written
        == "?region=shanghai&window=quarter&period=2023-06&indicator=case_completion_rate&units=jingan,pudong"
    )
    assert build_query({}) == ""


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("", Filters("shanghai", "ytd", None)),
        ("?region=anhui&window=rolling12&period=2023-02", Filters("anhui", "rolling12", "2023-02")),
        (
            "?region=mars&window=decade&period=2023-13",
            Filters("shanghai", "ytd", None),
        ),  # bad values: defaults
    ],
)
def test_clean_filters(search: str, expected: Filters) -> None:
    got = clean_filters(parse_query(search), catalogue=default_catalogue(), default_region="shanghai")
    assert got == expected


def test_identity_is_the_signed_in_account_never_a_header(tmp_path) -> None:  # noqa: ANN001
    """Issue 9: who uploaded or exported is the signed-in account (显示名（用户名）); a header the
    client sends is not believed (single sign-on is off unless configured)."""
    from flask_login import login_user

    from application.access import Account, Role
    from dashboard.app import create_app
    from foundation.settings import Settings

    url = f"sqlite:///{tmp_path / 'never.db'}"
    app = create_app(url, settings=Settings(database_url=url, secret_key="k" * 32)).server
    with app.test_request_context(headers={"X-Remote-User": " 李四 "}):
        assert current_user() == "anonymous"  # nobody signed in: the header changes nothing
        login_user(Account(1, "zhang3", "张三", Role.CLERK, "jingan", True, "stamp"))
        assert current_user() == "张三（zhang3）"
    with flask.Flask(__name__).test_request_context():
        assert current_user() == "anonymous"  # outside the dashboard app


def test_distinct_values_show_enough_digits() -> None:
    from application.display import distinct_values

    rate = IND["abnormal_withdrawal_rate"]
    # 0.7314 and 0.7308 both read 73.1%: one more decimal tells them apart
    assert distinct_values(0.7314, 0.7308, rate) == ("73.14%", "73.08%")
    # 0.73104 vs 0.73096: 73.10% vs 73.10% still equal at two decimals → three
    assert distinct_values(0.73104, 0.73096, rate) == ("73.104%", "73.096%")
    # different already, equal, or NA: as format_value shows them
    assert distinct_values(0.75, 0.70, rate) == ("75.0%", "70.0%")
    assert distinct_values(0.731, 0.731, rate) == ("73.1%", "73.1%")
    assert distinct_values(math.nan, 0.731, rate) == ("—", "73.1%")
    days = IND["avg_handling_days"]
    assert distinct_values(55.34, 55.26, days) == ("55.34天", "55.26天")
    # a mean of a level 2.64 against 2.6: 2.6个 twice → 2.64个 | 2.60个
    assert distinct_values(2.64, 2.6, IND["aid_workstations"]) == ("2.64个", "2.60个")
