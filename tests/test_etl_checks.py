"""Cross-period plausibility warnings (etl/checks.py), each rule with hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from etl.checks import cross_period_warnings, rule_measures
from etl.records import ParsedFile, Reason, UnitPeriodValues
from foundation.catalogue import default_catalogue

CAT = default_catalogue()
ZEROS = {m.code: 0.0 for m in CAT.monthly_measures()}


def record(unit: str, period: str, **values: float) -> UnitPeriodValues:
    cells = {code: ("月报", f"E{6 + i}") for i, code in enumerate(ZEROS)}
    return UnitPeriodValues(unit=unit, period=period, values={**ZEROS, **values}, cells=cells)


def parsed(*records: UnitPeriodValues) -> ParsedFile:
    return ParsedFile(file="r.xlsx", sha256="", size_bytes=0, layout="A", records=list(records))


def history(*rows: tuple[str, str, dict[str, float]]) -> pd.DataFrame:
    """(unit, period, values) → the long frame the loader passes; unnamed measures are 0."""
    long = [(u, p, m, v) for u, p, vals in rows for m, v in {**ZEROS, **vals}.items()]
    return pd.DataFrame(long, columns=["unit", "period", "measure", "value"])


def found(issues: list) -> list[tuple[Reason, str, str, str]]:  # type: ignore[type-arg]
    return [(i.reason, i.unit, i.period, i.measure) for i in issues]


EMPTY = pd.DataFrame(columns=["unit", "period", "measure", "value"])


def test_rules_use_catalogue_measures() -> None:
    assert rule_measures() <= set(CAT.measures)


@pytest.mark.parametrize(
    ("prev_pending", "accepted", "closed", "warns"),
    [(3, 2, 6, True), (3, 2, 5, False), (0, 0, 1, True), (10, 0, 10, False)],
)
def test_adjudication_closed_above_what_could_be_open(
    prev_pending: float, accepted: float, closed: float, warns: bool
) -> None:
    # pending kept level so that the stock-jump rule stays out of the way
    this = record(
        "jingan",
        "2023-06",
        adjudication_accepted=accepted,
        adjudication_closed=closed,
        adjudication_pending=prev_pending,
    )
    file = parsed(this)
    hist = history(("jingan", "2023-05", {"adjudication_pending": prev_pending}))
    expected = [(Reason.CLOSED_ABOVE_OPEN, "jingan", "2023-06", "adjudication_closed")] if warns else []
    assert found(cross_period_warnings(file, hist, catalogue=CAT)) == expected


def test_closed_above_open_message_and_cell() -> None:
    file = parsed(
        record("jingan", "2023-06", adjudication_accepted=2, adjudication_closed=6, adjudication_pending=3)
    )
    hist = history(("jingan", "2023-05", {"adjudication_pending": 3}))
    [issue] = cross_period_warnings(file, hist, catalogue=CAT)
    assert issue.severity == "warning"
    assert (issue.sheet, issue.cell) == ("月报", "E7")
    assert issue.message == (
        "文件 r.xlsx 工作表「月报」单元格 E7（adjudication_closed 专利侵权纠纷行政裁决案件结案数）："
        "静安区(jingan) 2023-06 结案 6 件，超过可结案数 5（上月 2023-05 月末未结 adjudication_pending 3 "
        "+ 本月 adjudication_accepted 2），请核对"
    )


def test_enforcement_closed_above_open() -> None:
    file = parsed(
        record("jingan", "2023-06", enforcement_filed=1, enforcement_closed=9, enforcement_pending=4)
    )
    hist = history(("jingan", "2023-05", {"enforcement_pending": 4}))
    assert found(cross_period_warnings(file, hist, catalogue=CAT)) == [
        (Reason.CLOSED_ABOVE_OPEN, "jingan", "2023-06", "enforcement_closed")
    ]


def test_no_closed_check_without_the_previous_month() -> None:
    file = parsed(record("jingan", "2023-06", adjudication_closed=50))
    hist = history(("jingan", "2023-04", {"adjudication_pending": 0}))  # April is not May
    assert cross_period_warnings(file, hist, catalogue=CAT) == []


def test_previous_month_can_come_from_the_file_itself() -> None:
    file = parsed(
        record("jingan", "2023-05", adjudication_pending=1),
        record("jingan", "2023-06", adjudication_accepted=1, adjudication_closed=3, adjudication_pending=1),
    )
    assert found(cross_period_warnings(file, EMPTY, catalogue=CAT)) == [
        (Reason.CLOSED_ABOVE_OPEN, "jingan", "2023-06", "adjudication_closed")
    ]


def test_january_looks_at_december() -> None:
    file = parsed(record("jingan", "2024-01", adjudication_closed=3, adjudication_pending=2))
    hist = history(("jingan", "2023-12", {"adjudication_pending": 2}))
    assert found(cross_period_warnings(file, hist, catalogue=CAT)) == [
        (Reason.CLOSED_ABOVE_OPEN, "jingan", "2024-01", "adjudication_closed")
    ]


def test_file_replaces_stored_values_of_the_same_month() -> None:
    """The stored June says 1 withdrawn of 1 notified; the file's June (0 notified, 3 withdrawn) wins."""
    file = parsed(record("jingan", "2023-06", abnormal_patent_withdrawn=3))
    hist = history(("jingan", "2023-06", {"abnormal_patent_notified": 1, "abnormal_patent_withdrawn": 1}))
    assert found(cross_period_warnings(file, hist, catalogue=CAT)) == [
        (Reason.WITHDRAWN_ABOVE_NOTIFIED, "jingan", "2023-06", "abnormal_patent_withdrawn")
    ]


@pytest.mark.parametrize(
    ("rule", "jan", "feb", "reason"),
    [
        # year to date: Jan (stored) + Feb (file)
        (
            "withdrawn",
            {"abnormal_patent_notified": 5, "abnormal_patent_withdrawn": 1},
            {"abnormal_patent_withdrawn": 5},  # 6 > 5
            Reason.WITHDRAWN_ABOVE_NOTIFIED,
        ),
        (
            "mediation",
            {"mediation_accepted": 10, "mediation_succeeded": 8},
            {"mediation_accepted": 1, "mediation_succeeded": 4},  # 12 > 11
            Reason.SUCCEEDED_ABOVE_ACCEPTED,
        ),
        (
            "disclosed",
            {"adjudication_closed": 2, "enforcement_closed": 3, "closed_cases_disclosed": 5},
            {"closed_cases_disclosed": 1},  # 6 > 5
            Reason.DISCLOSED_ABOVE_CLOSED,
        ),
        (
            "leads",
            {"malicious_tm_leads": 2},
            {"malicious_tm_leads_handled": 3},  # 3 > 2
            Reason.CLOSED_ABOVE_OPEN,
        ),
        (
            "complaints",
            {"complaints_received": 4, "complaints_closed": 4},
            {"complaints_closed": 1},  # 5 > 4
            Reason.CLOSED_ABOVE_OPEN,
        ),
    ],
)
def test_year_to_date_rules(rule: str, jan: dict[str, float], feb: dict[str, float], reason: Reason) -> None:
    part = {
        "withdrawn": "abnormal_patent_withdrawn",
        "mediation": "mediation_succeeded",
        "disclosed": "closed_cases_disclosed",
        "leads": "malicious_tm_leads_handled",
        "complaints": "complaints_closed",
    }[rule]
    hist = history(("jingan", "2023-01", jan))
    file = parsed(record("jingan", "2023-02", **feb))
    # adjudication/enforcement closed in the disclosed case must not trip the open rule: no Jan pending
    got = [w for w in cross_period_warnings(file, hist, catalogue=CAT) if w.measure == part]
    assert found(got) == [(reason, "jingan", "2023-02", part)]
    # one less in February: exactly equal, no warning
    lower = {k: v - 1 if k == part else v for k, v in feb.items()}
    got = [
        w
        for w in cross_period_warnings(parsed(record("jingan", "2023-02", **lower)), hist, catalogue=CAT)
        if w.measure == part
    ]
    assert got == []


def test_year_to_date_ignores_last_year() -> None:
    hist = history(("jingan", "2022-12", {"abnormal_patent_notified": 0, "abnormal_patent_withdrawn": 9}))
    file = parsed(record("jingan", "2023-01", abnormal_patent_notified=1, abnormal_patent_withdrawn=1))
    assert cross_period_warnings(file, hist, catalogue=CAT) == []


def test_year_to_date_message() -> None:
    hist = history(("jingan", "2023-01", {"abnormal_patent_notified": 5, "abnormal_patent_withdrawn": 1}))
    file = parsed(record("jingan", "2023-02", abnormal_patent_withdrawn=5))
    [issue] = cross_period_warnings(file, hist, catalogue=CAT)
    assert issue.message == (
        "文件 r.xlsx 工作表「月报」单元格 E18（abnormal_patent_withdrawn 非正常专利申请主动撤回件数）："
        "静安区(jingan) 2023-01 至 2023-02 累计 abnormal_patent_withdrawn 为 6，"
        "超过累计 abnormal_patent_notified 5（按已知的 2 个月计），请核对"
    )


def test_year_to_date_excess_reported_once_per_run_in_a_ledger() -> None:
    file = parsed(
        record("jingan", "2023-01", mediation_succeeded=2),  # excess starts
        record("jingan", "2023-02", mediation_succeeded=1),  # still in excess: not repeated
        record("jingan", "2023-03", mediation_accepted=10),  # back to normal
        record("jingan", "2023-04", mediation_succeeded=20),  # excess again: reported
    )
    assert [w.period for w in cross_period_warnings(file, EMPTY, catalogue=CAT)] == ["2023-01", "2023-04"]


@pytest.mark.parametrize(
    ("prev", "this", "warns"),
    [(10, 16, True), (10, 15, False), (10, 4, True), (10, 5, False), (0, 5, False), (2, 0, True)],
)
def test_stock_jump(prev: float, this: float, warns: bool) -> None:
    hist = history(("jingan", "2023-05", {"aid_workstations": prev}))
    file = parsed(record("jingan", "2023-06", aid_workstations=this))
    expected = [(Reason.STOCK_JUMP, "jingan", "2023-06", "aid_workstations")] if warns else []
    assert found(cross_period_warnings(file, hist, catalogue=CAT)) == expected


def test_stock_jump_message() -> None:
    hist = history(("jingan", "2023-05", {"aid_workstations": 10}))
    [issue] = cross_period_warnings(
        parsed(record("jingan", "2023-06", aid_workstations=16)), hist, catalogue=CAT
    )
    assert issue.message.endswith(
        "静安区(jingan) 2023-06 月末数 16 较上月 2023-05 的 10 变化 +60%，超过 ±50%，请核对"
    )


def test_other_units_in_history_do_not_count() -> None:
    hist = history(("xuhui", "2023-05", {"aid_workstations": 1, "adjudication_pending": 0}))
    file = parsed(record("jingan", "2023-06", aid_workstations=9, adjudication_closed=9))
    assert cross_period_warnings(file, hist, catalogue=CAT) == []


def test_annual_records_and_empty_history_are_fine() -> None:
    file = parsed(UnitPeriodValues(unit="jingan", period="2023", values={"satisfaction_score": 80.0}))
    assert cross_period_warnings(file, EMPTY, catalogue=CAT) == []
    assert cross_period_warnings(file, pd.DataFrame(), catalogue=CAT) == []
