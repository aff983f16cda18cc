"""The indicator engine on a small store whose every figure is computed by hand below.

Store: units a, b, c; months 2023-04 (for 同比), 2024-01 .. 2024-04. Unit c did not report
2024-02 (missing, never zero). The main table is the ytd window ending 2024-04 (Jan..Apr 2024);
同比 is ytd ending 2023-04 (only April 2023 reported), 环比 ytd ending 2024-03 (Jan..Mar).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from foundation.catalogue import default_catalogue
from indicators.engine import CITY, OUTPUT_COLUMNS, compute_indicators

CAT = default_catalogue()
UNITS = ["a", "b", "c"]
MONTHS = ["2023-04", "2024-01", "2024-02", "2024-03", "2024-04"]
_ = None  # not reported (unit c, 2024-02)

# measure: {unit: values for MONTHS}
MONTHLY: dict[str, dict[str, list]] = {
    "adjudication_closed": {"a": [2, 1, 2, 1, 2], "b": [1, 0, 1, 1, 0], "c": [0, 1, _, 0, 1]},
    "enforcement_closed": {"a": [2, 2, 1, 2, 1], "b": [1, 1, 0, 1, 0], "c": [1, 0, _, 1, 1]},
    "adjudication_pending": {"a": [3, 4, 3, 2, 2], "b": [1, 1, 1, 0, 0], "c": [2, 3, _, 1, 1]},
    "enforcement_pending": {"a": [1, 2, 2, 2, 2], "b": [0, 0, 0, 0, 0], "c": [0, 1, _, 2, 3]},
    "closed_case_days": {"a": [100, 50, 60, 40, 90], "b": [30, 20, 30, 40, 0], "c": [50, 10, _, 20, 30]},
    "closed_cases_disclosed": {"a": [4, 3, 3, 3, 3], "b": [2, 1, 1, 1, 1], "c": [1, 1, _, 0, 1]},
    "aid_workstations": {"a": [2, 2, 3, 3, 3], "b": [1, 1, 1, 1, 1], "c": [0, 1, _, 2, 2]},
    "mediation_accepted": {"a": [10, 10, 10, 10, 10], "b": [5, 5, 5, 5, 5], "c": [2, 4, _, 2, 4]},
    "mediation_succeeded": {"a": [8, 9, 8, 7, 8], "b": [4, 3, 3, 4, 4], "c": [1, 2, _, 1, 2]},
    "complaints_received": {"a": [3, 3, 3, 3, 3], "b": [2, 2, 2, 2, 2], "c": [1, 0, _, 0, 0]},
    "complaints_closed": {"a": [3, 3, 2, 3, 3], "b": [2, 2, 1, 2, 2], "c": [1, 0, _, 0, 0]},
    "malicious_tm_leads": {"a": [1, 1, 1, 1, 1], "b": [2, 2, 2, 2, 2], "c": [1, 3, _, 1, 1]},
    "malicious_tm_leads_handled": {"a": [1, 1, 1, 1, 1], "b": [1, 2, 1, 2, 1], "c": [1, 1, _, 1, 1]},
    "abnormal_patent_notified": {"a": [5, 2, 3, 0, 5], "b": [0, 0, 0, 0, 0], "c": [2, 6, _, 4, 10]},
    "abnormal_patent_withdrawn": {"a": [3, 1, 2, 0, 4], "b": [0, 0, 0, 0, 0], "c": [1, 3, _, 1, 1]},
    "enforcement_filed": {"a": [4, 5, 5, 5, 5], "b": [3, 2, 3, 4, 5], "c": [1, 1, _, 1, 1]},
    "criminal_transfers": {"a": [0, 0, 1, 0, 0], "b": [0, 0, 0, 0, 0], "c": [1, 0, _, 0, 0]},
    "standardized_markets": {"a": [1, 1, 1, 1, 2], "b": [0, 0, 0, 0, 0], "c": [3, 3, _, 3, 3]},
    "ecommerce_leads_handled": {"a": [10, 10, 10, 10, 10], "b": [0, 0, 5, 5, 5], "c": [20, 10, _, 10, 10]},
    "trainees": {"a": [0, 100, 0, 50, 50], "b": [40, 10, 20, 30, 40], "c": [0, 0, _, 0, 200]},
    "typical_cases_reported": {"a": [1, 0, 1, 0, 1], "b": [0, 1, 1, 1, 0], "c": [0, 0, _, 1, 0]},
}
ANNUAL = {"satisfaction_score": {"2023": {"a": 80, "b": 82, "c": 78}, "2024": {"a": 81.5, "b": 83}}}

# First arrival of each return (Asia/Shanghai local time; None = never sent). Due: 10th of M+1
# 24:00 local, i.e. on time iff before the 11th 00:00.
ARRIVALS = {
    "a": [
        "2023-05-08 09:00",
        "2024-02-05 09:00",
        "2024-03-08 09:00",
        "2024-04-10 23:59:59",
        "2024-05-09 09:00",
    ],
    "b": [
        "2023-05-15 09:00",
        "2024-02-10 12:00",
        "2024-03-11 00:00:00",
        "2024-04-01 09:00",
        "2024-05-02 09:00",
    ],
    "c": ["2023-05-04 09:00", "2024-02-01 09:00", None, "2024-04-20 09:00", "2024-05-06 09:00"],
}
NOW = pd.Timestamp("2024-06-01", tz="UTC")  # every return of the store is due


def store_values() -> pd.DataFrame:
    rows = []
    for measure, per_unit in MONTHLY.items():
        for unit, series in per_unit.items():
            rows += [
                (unit, m, measure, float(v)) for m, v in zip(MONTHS, series, strict=True) if v is not None
            ]
    for measure, per_year in ANNUAL.items():
        for year, per_unit in per_year.items():
            rows += [(unit, year, measure, float(v)) for unit, v in per_unit.items()]
    return pd.DataFrame(rows, columns=["unit", "period", "measure", "value"])


def store_arrivals() -> pd.DataFrame:
    rows = [
        (unit, month, pd.Timestamp(at, tz="Asia/Shanghai").tz_convert("UTC"))
        for unit, stamps in ARRIVALS.items()
        for month, at in zip(MONTHS, stamps, strict=True)
        if at is not None
    ]
    return pd.DataFrame(rows, columns=["unit", "period", "first_received_at"])


def compute(period: str = "2024-04", window: str = "ytd", now: pd.Timestamp = NOW, **kw) -> pd.DataFrame:
    return compute_indicators(
        store_values(),
        catalogue=CAT,
        units=UNITS,
        period=period,
        window=window,  # type: ignore[arg-type]
        arrivals=store_arrivals(),
        now=now.to_pydatetime(),
        **kw,
    )


def row(frame: pd.DataFrame, indicator: str, unit: str) -> pd.Series:
    match = frame[(frame["indicator"] == indicator) & (frame["unit"] == unit)]
    assert len(match) == 1, (indicator, unit)
    return match.iloc[0]


def same(actual: object, expected: object) -> bool:
    """Equal, NA equal to NA (None stands for NA), floats to 1e-12."""
    if expected is None:
        return actual is None or actual is pd.NA or (isinstance(actual, float) and math.isnan(actual))
    if actual is None or actual is pd.NA or (isinstance(actual, float) and math.isnan(actual)):
        return False
    if isinstance(expected, bool):
        return bool(actual) is expected
    return math.isclose(float(actual), float(expected), rel_tol=1e-12, abs_tol=1e-12)  # type: ignore[arg-type]


NA = None

# ytd ending 2024-04 (Jan..Apr 2024): indicator → unit → (numerator, denominator, value).
# c has no 2024-02. Sums below list Jan + Feb + Mar + Apr.
HAND_CASES: dict[str, dict[str, tuple]] = {
    "abnormal_withdrawal_rate": {
        "a": (7, 10, 0.7),  # withdrawn 1+2+0+4 / notified 2+3+0+5
        "b": (0, 0, NA),  # nothing notified: denominator 0 → NA, never 0
        "c": (5, 20, 0.25),  # 3+1+1 / 6+4+10
        CITY: (12, 30, 0.4),  # pooled over a and c: (7+5)/(10+20); b is not applicable
    },
    "case_completion_rate": {
        "a": (12, 16, 0.75),  # closed adj 1+2+1+2 + enf 2+1+2+1 = 12; + pending at Apr 2 + 2
        "b": (4, 4, 1.0),  # closed 2 + 2; pending 0 + 0
        "c": (4, 8, 0.5),  # closed (1+0+1) + (0+1+1); pending at Apr 1 + 3
        CITY: (20, 28, 20 / 28),  # pooled 0.714…; the mean of the rates is 0.75
    },
    "avg_handling_days": {
        "a": (240, 12, 20.0),  # days 50+60+40+90 / closed 12
        "b": (90, 4, 22.5),  # 20+30+40+0 / 4
        "c": (60, 4, 15.0),  # 10+20+30 / 4
        CITY: (390, 20, 19.5),
    },
    "disclosure_rate": {
        "a": (12, 12, 1.0),  # 3+3+3+3 / 12
        "b": (4, 4, 1.0),
        "c": (2, 4, 0.5),  # 1+0+1 / 4
        CITY: (18, 20, 0.9),
    },
    "aid_workstations": {
        "a": (3, NA, 3.0),  # stock at April
        "b": (1, NA, 1.0),
        "c": (2, NA, 2.0),
        CITY: (6, NA, 6.0),  # level: the sum over units
    },
    "mediation_success_rate": {
        "a": (32, 40, 0.8),  # 9+8+7+8 / 10×4
        "b": (14, 20, 0.7),  # 3+3+4+4 / 5×4
        "c": (5, 10, 0.5),  # 2+1+2 / 4+2+4
        CITY: (51, 70, 51 / 70),
    },
    "complaint_closure_rate": {
        "a": (11, 12, 11 / 12),  # 3+2+3+3 / 3×4
        "b": (7, 8, 0.875),  # 2+1+2+2 / 2×4
        "c": (0, 0, NA),  # nothing received in 2024
        CITY: (18, 20, 0.9),
    },
    "malicious_tm_handling_rate": {
        "a": (4, 4, 1.0),
        "b": (6, 8, 0.75),  # 2+1+2+1 / 2×4
        "c": (3, 5, 0.6),  # 1+1+1 / 3+1+1
        CITY: (13, 17, 13 / 17),
    },
    "adjudication_volume": {
        "a": (6, NA, 6.0),  # 1+2+1+2
        "b": (2, NA, 2.0),
        "c": (2, NA, 2.0),
        CITY: (10, NA, 10.0),
    },
    "enforcement_volume": {
        "a": (20, NA, 20.0),  # 5×4
        "b": (14, NA, 14.0),  # 2+3+4+5
        "c": (3, NA, 3.0),  # 1+1+1
        CITY: (37, NA, 37.0),
    },
    "criminal_transfers": {
        "a": (1, NA, 1.0),
        "b": (0, NA, 0.0),  # a level of 0 is a value, not NA
        "c": (0, NA, 0.0),
        CITY: (1, NA, 1.0),
    },
    "standardized_markets": {
        "a": (2, NA, 2.0),
        "b": (0, NA, 0.0),
        "c": (3, NA, 3.0),
        CITY: (5, NA, 5.0),
    },
    "ecommerce_leads": {
        "a": (40, NA, 40.0),
        "b": (15, NA, 15.0),  # 0+5+5+5
        "c": (30, NA, 30.0),  # 10+10+10
        CITY: (85, NA, 85.0),
    },
    "trainees": {
        "a": (200, NA, 200.0),  # 100+0+50+50
        "b": (100, NA, 100.0),  # 10+20+30+40
        "c": (200, NA, 200.0),  # 0+0+200
        CITY: (500, NA, 500.0),
    },
    "typical_cases": {
        "a": (2, NA, 2.0),  # 0+1+0+1
        "b": (3, NA, 3.0),
        "c": (1, NA, 1.0),
        CITY: (6, NA, 6.0),
    },
    "satisfaction_score": {
        "a": (81.5, NA, 81.5),  # the 2024 value
        "b": (83, NA, 83.0),
        "c": (NA, NA, NA),  # no 2024 score
        CITY: (82.25, NA, 82.25),  # a score: the unweighted mean (81.5 + 83) / 2, not a sum
    },
    "timeliness_rate": {
        "a": (4, 4, 1.0),  # Mar arrived 04-10 23:59:59 local: on time
        "b": (3, 4, 0.75),  # Feb arrived 03-11 00:00 local: late
        "c": (2, 4, 0.5),  # Feb never sent (late), Mar 04-20 late
        CITY: (9, 12, 0.75),
    },
}


def test_output_columns_and_rows():
    frame = compute()
    assert list(frame.columns) == OUTPUT_COLUMNS
    # one row per (indicator, unit) plus a city row per indicator, indicators in registry order
    assert len(frame) == len(CAT.indicators) * 4
    assert list(frame["unit"][:4]) == ["a", "b", "c", CITY]
    assert list(pd.unique(frame["indicator"])) == list(CAT.indicators)
    assert str(frame["rank"].dtype) == "Int64"
    assert str(frame["meets_benchmark"].dtype) == "boolean"
    assert str(frame["small_denominator"].dtype) == "boolean"


@pytest.mark.parametrize("indicator", list(HAND_CASES))
def test_hand_computed_ytd(indicator):
    frame = compute()
    for unit, (numerator, denominator, value) in HAND_CASES[indicator].items():
        r = row(frame, indicator, unit)
        assert same(r["numerator"], numerator), (indicator, unit, "numerator", r["numerator"])
        assert same(r["denominator"], denominator), (indicator, unit, "denominator", r["denominator"])
        assert same(r["value"], value), (indicator, unit, "value", r["value"])
        assert same(r["city_value"], HAND_CASES[indicator][CITY][2])


def test_every_registered_indicator_has_a_hand_computed_case_and_documentation():
    assert set(HAND_CASES) == set(CAT.indicators)
    doc = (Path(__file__).parents[1] / "docs" / "indicators.md").read_text(encoding="utf-8")
    sections = {line[3:].strip() for line in doc.splitlines() if line.startswith("## ")}
    missing = [code for code in CAT.indicators if code not in sections]
    assert not missing, f"docs/indicators.md lacks a section for {missing}"


def test_pooled_city_value_differs_from_the_mean_of_rates():
    r = row(compute(), "case_completion_rate", CITY)
    # pooled (12+4+4)/(16+4+8) = 20/28 = 0.714…; mean of rates (0.75+1+0.5)/3 = 0.75; median 0.75
    assert r["value"] == pytest.approx(20 / 28)
    assert r["city_mean"] == pytest.approx(0.75)
    assert r["city_median"] == pytest.approx(0.75)
    assert r["value"] != pytest.approx(r["city_mean"])
    assert r["benchmark"] == pytest.approx(20 / 28)  # the benchmark is the pooled value


def test_na_on_zero_denominator_is_not_ranked_and_not_in_the_pool():
    frame = compute()
    b = row(frame, "abnormal_withdrawal_rate", "b")
    assert math.isnan(b["value"]) and b["denominator"] == 0
    assert b["rank"] is pd.NA and b["meets_benchmark"] is pd.NA
    assert same(b["small_denominator"], False)  # 0 is not "small"
    city = row(frame, "abnormal_withdrawal_rate", CITY)
    assert city["city_mean"] == pytest.approx((0.7 + 0.25) / 2)  # over units with a value


def test_coverage_with_a_missing_month():
    frame = compute()
    for indicator in ("mediation_success_rate", "enforcement_volume", "aid_workstations"):
        assert row(frame, indicator, "a")["coverage"] == 1.0
        c = row(frame, indicator, "c")
        assert (c["months_reported"], c["months_in_window"], c["coverage"]) == (3, 4, 0.75)
        assert bool(c["incomplete"]) is True
        city = row(frame, indicator, CITY)
        # unit-months reported / (units × months): (4 + 4 + 3) / (3 × 4)
        assert (city["months_reported"], city["months_in_window"]) == (11, 12)
        assert city["coverage"] == pytest.approx(11 / 12)
    # annual indicators: 1 or 0; the city: units with a value / units
    assert row(frame, "satisfaction_score", "c")["coverage"] == 0
    assert row(frame, "satisfaction_score", CITY)["coverage"] == pytest.approx(2 / 3)
    # timeliness: every month of the window is due, for every unit
    assert row(frame, "timeliness_rate", "c")["coverage"] == 1.0


# (indicator, unit) → (benchmark, diff, meets, rank, small_denominator)
COMPARISONS = [
    ("case_completion_rate", "a", 20 / 28, 0.75 - 20 / 28, True, 2, False),
    ("case_completion_rate", "b", 20 / 28, 1 - 20 / 28, True, 1, True),  # denominator 4 < 5
    ("case_completion_rate", "c", 20 / 28, 0.5 - 20 / 28, False, 3, False),
    ("avg_handling_days", "a", 19.5, 0.5, False, 2, False),  # lower is better: 20 > 19.5
    ("avg_handling_days", "b", 19.5, 3.0, False, 3, True),
    ("avg_handling_days", "c", 19.5, -4.5, True, 1, True),
    ("disclosure_rate", "a", 0.9, 0.1, True, 1, False),
    ("disclosure_rate", "b", 0.9, 0.1, True, 1, True),  # ties share the rank …
    ("disclosure_rate", "c", 0.9, -0.4, False, 3, True),  # … and the next is skipped
    ("aid_workstations", "a", 2.0, 1.0, True, 1, False),  # level benchmark: mean (3+1+2)/3
    ("aid_workstations", "b", 2.0, -1.0, False, 3, False),
    ("aid_workstations", "c", 2.0, 0.0, True, 2, False),  # equality meets
    ("criminal_transfers", "b", 1 / 3, -1 / 3, False, 2, False),
    ("criminal_transfers", "c", 1 / 3, -1 / 3, False, 2, False),
    ("trainees", "a", 500 / 3, 200 - 500 / 3, True, 1, False),
    ("trainees", "c", 500 / 3, 200 - 500 / 3, True, 1, False),
    ("trainees", "b", 500 / 3, 100 - 500 / 3, False, 3, False),
    ("abnormal_withdrawal_rate", "a", 0.4, 0.3, True, 1, False),
    ("abnormal_withdrawal_rate", "c", 0.4, -0.15, False, 2, False),
    ("satisfaction_score", "a", 82.25, -0.75, False, 2, False),
    ("satisfaction_score", "b", 82.25, 0.75, True, 1, False),
    ("satisfaction_score", "c", 82.25, NA, NA, NA, False),
    ("timeliness_rate", "a", 0.75, 0.25, True, 1, True),  # 4 returns due: a small denominator
]


@pytest.mark.parametrize(("indicator", "unit", "benchmark", "diff", "meets", "rank", "small"), COMPARISONS)
def test_benchmark_rank_and_flags(indicator, unit, benchmark, diff, meets, rank, small):
    r = row(compute(), indicator, unit)
    assert same(r["benchmark"], benchmark)
    assert same(r["diff_benchmark"], diff)
    assert same(r["meets_benchmark"], meets)
    assert same(r["rank"], rank)
    assert same(r["small_denominator"], small)


def test_city_row_has_no_rank_or_meets():
    city = compute()[lambda f: f["unit"] == CITY]
    assert city["rank"].isna().all()
    assert city["meets_benchmark"].isna().all()
    assert city["diff_benchmark"].isna().all()


# 同比: ytd ending 2023-04 (only April 2023 reported); 环比: ytd ending 2024-03 (Jan..Mar 2024).
# Rates/days/scores: differences; levels: (x − p)/p.
YOY_POP = [
    # case completion 2023: a (2+2)/(4+3+1) = 0.5, b 2/(2+1+0) = 2/3, c 1/(1+2+0) = 1/3
    # Jan..Mar 2024: a 9/(9+2+2) = 9/13, b 4/4 = 1, c 2/(2+1+2) = 0.4
    ("case_completion_rate", "a", 0.5, 0.75 - 0.5, 9 / 13, 0.75 - 9 / 13),
    ("case_completion_rate", "b", 2 / 3, 1 - 2 / 3, 1.0, 0.0),
    ("case_completion_rate", "c", 1 / 3, 0.5 - 1 / 3, 0.4, 0.1),
    ("case_completion_rate", CITY, 7 / 14, 20 / 28 - 0.5, 15 / 22, 20 / 28 - 15 / 22),
    # days: 2023-04 a 100/4 = 25; Jan..Mar 2024 a 150/9
    ("avg_handling_days", "a", 25.0, -5.0, 150 / 9, 20 - 150 / 9),
    # stocks: April 2023 a 2, c 0 (p = 0 → NA); end of March 2024 a 3, c 2
    ("aid_workstations", "a", 2.0, 0.5, 3.0, 0.0),
    ("aid_workstations", "c", 0.0, NA, 2.0, 0.0),
    ("aid_workstations", CITY, 3.0, 1.0, 6.0, 0.0),  # (6 − 3)/3
    # flows (levels): a 2023 4, Jan..Mar 15 → (20−4)/4, (20−15)/15
    ("enforcement_volume", "a", 4.0, 4.0, 15.0, 1 / 3),
    ("enforcement_volume", "b", 3.0, 11 / 3, 9.0, 5 / 9),
    ("enforcement_volume", CITY, 8.0, 29 / 8, 26.0, 11 / 26),
    ("criminal_transfers", "a", 0.0, NA, 1.0, 0.0),  # from 0: relative change NA
    # NA now → NA change; the previous value is still shown
    ("complaint_closure_rate", "c", 1.0, NA, NA, NA),
    # scores: same year → 环比 0; 同比 a 81.5 − 80; city mean 82.25 − mean(80, 82, 78)
    ("satisfaction_score", "a", 80.0, 1.5, 81.5, 0.0),
    ("satisfaction_score", CITY, 80.0, 2.25, 82.25, 0.0),
    # timeliness: Jan..Mar 2023 precede the first return ever (2023-04) and are not counted;
    # April 2023: a on time, b late (05-15), c on time
    ("timeliness_rate", "a", 1.0, 0.0, 1.0, 0.0),
    ("timeliness_rate", "b", 0.0, 0.75, 2 / 3, 0.75 - 2 / 3),
    ("timeliness_rate", "c", 1.0, -0.5, 1 / 3, 0.5 - 1 / 3),
    ("timeliness_rate", CITY, 2 / 3, 0.75 - 2 / 3, 6 / 9, 0.75 - 6 / 9),
]


@pytest.mark.parametrize(("indicator", "unit", "prev_year", "yoy", "prev_window", "pop"), YOY_POP)
def test_yoy_and_pop(indicator, unit, prev_year, yoy, prev_window, pop):
    r = row(compute(), indicator, unit)
    assert same(r["prev_year_value"], prev_year)
    assert same(r["yoy"], yoy)
    assert same(r["prev_window_value"], prev_window)
    assert same(r["pop"], pop)


def test_pop_is_na_for_ytd_in_january():
    frame = compute(period="2024-01", window="ytd")
    assert frame["pop"].isna().all()
    assert frame["prev_window_value"].isna().all()


# Every window: (period, window, indicator, {unit: value}, {unit: coverage})
WINDOW_CASES = [
    # month [2024-03]: mediation 7/10, 4/5, 1/2
    ("2024-03", "month", "mediation_success_rate", {"a": 0.7, "b": 0.8, "c": 0.5}, {"a": 1, "c": 1}),
    # quarter Jan..Mar: a (9+8+7)/30, b (3+3+4)/15, c (2+1)/(4+2) with Feb missing
    (
        "2024-03",
        "quarter",
        "mediation_success_rate",
        {"a": 0.8, "b": 10 / 15, "c": 0.5},
        {"a": 1, "c": 2 / 3},
    ),
    ("2024-03", "ytd", "mediation_success_rate", {"a": 0.8, "b": 10 / 15, "c": 0.5}, {"a": 1, "c": 2 / 3}),
    # quarter to date in Q2 ending April: [2024-04]
    ("2024-04", "quarter", "mediation_success_rate", {"a": 0.8, "b": 0.8, "c": 0.5}, {"a": 1, "c": 1}),
    # year 2024: Jan..Dec, 4 (c: 3) of 12 months reported
    ("2024-04", "year", "mediation_success_rate", {"a": 0.8, "b": 0.7, "c": 0.5}, {"a": 4 / 12, "c": 3 / 12}),
    # rolling12 ending 2024-03: Apr 2023..Mar 2024: a (8+9+8+7)/40, b (4+3+3+4)/20, c (1+2+1)/(2+4+2)
    (
        "2024-03",
        "rolling12",
        "mediation_success_rate",
        {"a": 0.8, "b": 0.7, "c": 0.5},
        {"a": 4 / 12, "c": 3 / 12},
    ),
    # rolling12 ending 2024-04: May 2023..Apr 2024: a (9+8+7+8)/40, c (2+1+2)/(4+2+4)
    (
        "2024-04",
        "rolling12",
        "mediation_success_rate",
        {"a": 0.8, "b": 0.7, "c": 0.5},
        {"a": 4 / 12, "c": 3 / 12},
    ),
    # a month not reported: NA, coverage 0
    ("2024-02", "month", "mediation_success_rate", {"a": 0.8, "b": 0.6, "c": NA}, {"a": 1, "c": 0}),
    # stocks at the window's end …
    ("2024-03", "month", "aid_workstations", {"a": 3, "b": 1, "c": 2}, {"a": 1, "c": 1}),
    ("2024-02", "month", "aid_workstations", {"a": 3, "b": 1, "c": NA}, {"a": 1, "c": 0}),
    # … or the latest reported month inside the window: c's Feb is missing → January's 1
    ("2024-02", "ytd", "aid_workstations", {"a": 3, "b": 1, "c": 1}, {"a": 1, "c": 0.5}),
    # year 2024: December not reported yet → April
    ("2024-04", "year", "aid_workstations", {"a": 3, "b": 1, "c": 2}, {"a": 4 / 12, "c": 3 / 12}),
    ("2024-03", "rolling12", "aid_workstations", {"a": 3, "b": 1, "c": 2}, {"a": 4 / 12, "c": 3 / 12}),
    # flows summed: enforcement filed
    ("2024-03", "quarter", "enforcement_volume", {"a": 15, "b": 9, "c": 2}, {"a": 1, "c": 2 / 3}),
    ("2024-03", "rolling12", "enforcement_volume", {"a": 19, "b": 12, "c": 3}, {"a": 4 / 12, "c": 3 / 12}),
    ("2024-04", "year", "enforcement_volume", {"a": 20, "b": 14, "c": 3}, {"a": 4 / 12, "c": 3 / 12}),
    # annual measures take the year of the window's end month
    ("2023-04", "month", "satisfaction_score", {"a": 80, "b": 82, "c": 78}, {"a": 1, "c": 1}),
    ("2024-03", "rolling12", "satisfaction_score", {"a": 81.5, "b": 83, "c": NA}, {"a": 1, "c": 0}),
]


@pytest.mark.parametrize(("period", "window", "indicator", "values", "coverage"), WINDOW_CASES)
def test_every_window(period, window, indicator, values, coverage):
    frame = compute(period=period, window=window)
    for unit, expected in values.items():
        assert same(row(frame, indicator, unit)["value"], expected), (
            unit,
            row(frame, indicator, unit)["value"],
        )
    for unit, expected in coverage.items():
        assert row(frame, indicator, unit)["coverage"] == pytest.approx(expected)


def test_return_not_yet_due_is_not_counted():
    # now = 2024-05-05 (UTC): April's returns are due by 2024-05-10 24:00 local.
    # a's April return arrives 05-09, after now: not counted yet → 3/3 (Jan..Mar)
    # b's April return arrived 05-02: on time whatever happens → Jan ✓, Feb ✗, Mar ✓, Apr ✓ = 3/4
    # c's April return arrives 05-06, after now: not counted → Jan ✓, Feb never ✗, Mar ✗ = 1/3
    frame = compute(now=pd.Timestamp("2024-05-05", tz="UTC"))
    assert (row(frame, "timeliness_rate", "a")[["numerator", "denominator"]] == [3, 3]).all()
    assert (row(frame, "timeliness_rate", "b")[["numerator", "denominator"]] == [3, 4]).all()
    assert (row(frame, "timeliness_rate", "c")[["numerator", "denominator"]] == [1, 3]).all()
    assert row(frame, "timeliness_rate", "c")["coverage"] == pytest.approx(3 / 4)


def test_timeliness_without_arrivals_is_na():
    frame = compute_indicators(
        store_values(), catalogue=CAT, units=UNITS, period="2024-04", indicators=["timeliness_rate"]
    )
    assert frame["value"].isna().all()
    assert (frame["coverage"] == 0).all()


def test_due_day_setting_moves_the_deadline():
    # due day 11: b's February return (03-11 00:00 local) is now on time → 4/4
    frame = compute(due_day=11)
    assert row(frame, "timeliness_rate", "b")["value"] == 1.0


def test_small_denominator_threshold_is_a_parameter():
    frame = compute(small_denominator=2)
    # case completion b: denominator 4 is not < 2
    assert bool(row(frame, "case_completion_rate", "b")["small_denominator"]) is False


def test_units_outside_the_list_and_unknown_measures_are_ignored():
    extra = pd.DataFrame(
        [("zz", "2024-04", "mediation_accepted", 1000.0), ("a", "2024-04", "not_a_measure", 5.0)],
        columns=["unit", "period", "measure", "value"],
    )
    values = pd.concat([store_values(), extra], ignore_index=True)
    frame = compute_indicators(
        values, catalogue=CAT, units=UNITS, period="2024-04", indicators=["mediation_success_rate"]
    )
    assert row(frame, "mediation_success_rate", CITY)["value"] == pytest.approx(51 / 70)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        compute_indicators(store_values(), catalogue=CAT, units=["a", CITY], period="2024-04")
    with pytest.raises(ValueError):
        compute_indicators(store_values(), catalogue=CAT, units=UNITS, period="2024-04", indicators=["nope"])
    with pytest.raises(ValueError):
        compute_indicators(store_values(), catalogue=CAT, units=UNITS, period="2024-13")


def test_empty_store_gives_na_everywhere():
    empty = pd.DataFrame(columns=["unit", "period", "measure", "value"])
    frame = compute_indicators(empty, catalogue=CAT, units=UNITS, period="2024-04", arrivals=None)
    assert frame["value"].isna().all()
    assert (frame["coverage"] == 0).all()


def test_dense_values_give_what_the_frame_gives():
    """``DenseValues``/``DenseArrivals`` (the service's per-region arrays) in place of the frames:
    the same output for every window, for a trend, with rows of a unit outside the list and of an
    unknown measure, with ``now`` before some arrivals (they are ignored) and before any (then
    collection has not begun)."""
    from indicators.engine import DenseArrivals, DenseValues, compute_series

    extra = pd.DataFrame(
        [("zz", "2024-04", "mediation_accepted", 1000.0), ("a", "2024-04", "not_a_measure", 5.0)],
        columns=["unit", "period", "measure", "value"],
    )
    values = pd.concat([store_values(), extra], ignore_index=True)
    dense, dense_arrivals = DenseValues.from_frame(values), DenseArrivals.from_frame(store_arrivals())
    cases = [("2024-04", "ytd"), ("2024-03", "month"), ("2024-04", "rolling12"), ("2024-02", "year")]
    for now in (NOW, pd.Timestamp("2024-03-05", tz="UTC"), pd.Timestamp("2023-01-01", tz="UTC")):
        for period, window in cases:
            kw = {
                "catalogue": CAT,
                "units": UNITS,
                "period": period,
                "window": window,
                "now": now.to_pydatetime(),
            }
            pd.testing.assert_frame_equal(
                compute_indicators(dense, arrivals=dense_arrivals, **kw),  # type: ignore[arg-type]
                compute_indicators(values, arrivals=store_arrivals(), **kw),  # type: ignore[arg-type]
            )
        kw = {
            "catalogue": CAT,
            "units": UNITS,
            "periods": MONTHS[1:],
            "window": "ytd",
            "now": now.to_pydatetime(),
        }
        pd.testing.assert_frame_equal(
            compute_series(dense, arrivals=dense_arrivals, **kw),  # type: ignore[arg-type]
            compute_series(values, arrivals=store_arrivals(), **kw),  # type: ignore[arg-type]
        )
    # by hand, at 2024-03-05 (returns of 2024-02 due 2024-03-10): b's (sent 03-11) and a's (sent
    # 03-08, after now: ignored) have neither arrived nor fallen due, so they are left out: NA;
    # for 2024-01 (due 02-10) a's came 02-05: on time, 1 of 1
    mid = compute_indicators(
        dense,
        arrivals=dense_arrivals,
        catalogue=CAT,
        units=UNITS,
        period="2024-02",
        window="month",
        now=pd.Timestamp("2024-03-05", tz="UTC").to_pydatetime(),
    )
    assert math.isnan(row(mid, "timeliness_rate", "b")["value"])
    assert math.isnan(row(mid, "timeliness_rate", "a")["value"])
    jan = compute_indicators(
        dense,
        arrivals=dense_arrivals,
        catalogue=CAT,
        units=UNITS,
        period="2024-01",
        window="month",
        now=pd.Timestamp("2024-03-05", tz="UTC").to_pydatetime(),
    )
    assert row(jan, "timeliness_rate", "a")["value"] == 1.0


def test_dense_values_replaced_unit_months():
    """``replaced``: the pairs hold exactly the new rows (a measure not sent again is gone); the
    original is untouched; a new month gets its array; a new unit gives None (the caller reads it
    all)."""
    from indicators.engine import DenseArrivals, DenseValues

    dense = DenseValues.from_frame(store_values())
    fresh = pd.DataFrame(
        [("a", "2024-04", "mediation_accepted", 30.0), ("a", "2024-04", "mediation_succeeded", 6.0)],
        columns=["unit", "period", "measure", "value"],
    )
    after = dense.replaced({("a", "2024-04")}, fresh)
    assert after is not None

    def rate(d: DenseValues) -> float:
        frame = compute_indicators(d, catalogue=CAT, units=UNITS, period="2024-04", now=NOW.to_pydatetime())
        return float(row(frame, "mediation_success_rate", "a")["value"])

    # by hand, ytd 2024-04 for a: (9 + 8 + 7 + 8) / (4 × 10) = 0.8 before; (9 + 8 + 7 + 6) / (30 + 30) after
    assert rate(dense) == pytest.approx(0.8)
    assert rate(after) == pytest.approx(0.5)
    april, a = after.months.get_loc("2024-04"), after.units.get_loc("a")
    assert np.isnan(after.by_month[april][a, after.measures.get_loc("adjudication_closed")])
    assert dense.by_month[april][a, dense.measures.get_loc("adjudication_closed")] == 2.0
    assert after.by_month[0] is dense.by_month[0]  # an unchanged month's array is shared
    # a month not yet on the arrays gets its array: the same as building them from the whole frame
    may = fresh.assign(period="2024-05")
    grown = dense.replaced({("a", "2024-05")}, may)
    assert grown is not None and list(grown.months) == [*MONTHS, "2024-05"]
    whole = DenseValues.from_frame(pd.concat([store_values(), may], ignore_index=True))
    for d in (grown, whole):
        frame = compute_indicators(d, catalogue=CAT, units=UNITS, period="2024-05", now=NOW.to_pydatetime())
        # by hand, ytd 2024-05 for a: (9 + 8 + 7 + 8 + 6) / (10 + 10 + 10 + 10 + 30) = 38 / 70
        assert float(row(frame, "mediation_success_rate", "a")["value"]) == pytest.approx(38 / 70)
    a_may = DenseArrivals.from_frame(store_arrivals()).replaced(
        {("a", "2024-05")}, pd.DataFrame({"unit": ["a"], "period": ["2024-05"], "first_received_at": [NOW]})
    )
    assert a_may is not None and a_may.received[a_may.units.get_loc("a"), -1] == np.datetime64("2024-06-01")
    assert np.isnat(a_may.received[a_may.units.get_loc("b"), -1])  # b sent nothing for May
    # a unit not on the arrays: None (the service builds them again from the frame)
    assert dense.replaced({("zz", "2024-04")}, fresh.assign(unit="zz")) is None
