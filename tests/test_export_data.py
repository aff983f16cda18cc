"""Test data for the tracker, export and report-CLI tests: submissions written through
``store.repo.save_submission`` with chosen arrival times (the scenario below), and helpers to read
exported workbooks back.

Scenario (region shanghai, months 2023-01..2023-03; due: the 10th of the next month, 24:00
Beijing time = 16:00 UTC that day):

    unit      2023-01            2023-02                   2023-03
    huangpu   02-05 on time      03-10 23:59:59 on time    04-11 08:00 late (8 h)
    xuhui     02-01 on time      03-15 10:00 late          04-01 on time; revised 04-20
    jingan    02-03 on time      —                         04-02 on time, 2 warnings open
    pudong    02-08 on time      03-08 on time             04-09 on time
    others    —                  —                         —

plus satisfaction scores for 2023 (huangpu 80.61, pudong 82.04), sent 2023-04-30.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from foundation.catalogue import default_catalogue
from store import repo

CAT = default_catalogue()
MONTHLY = [m.code for m in CAT.monthly_measures()]
SH = ZoneInfo("Asia/Shanghai")


def beijing(*args: int) -> datetime:
    """A Beijing wall-clock time as aware UTC."""
    return datetime(*args, tzinfo=SH).astimezone(UTC)


def month_values(seed: int) -> dict[str, float]:
    """Every monthly measure; plausible (closed ≤ open …) and different per seed."""
    v = {code: float(seed % 7 + 1) for code in MONTHLY}
    v.update(
        adjudication_accepted=10 + seed,
        adjudication_closed=4 + seed % 5,
        adjudication_pending=12 + seed % 3,
        enforcement_filed=8 + seed,
        enforcement_closed=3 + seed % 4,
        enforcement_pending=10,
        closed_case_days=60 * (7 + seed % 9),
        closed_cases_disclosed=3 + seed % 4,
        abnormal_patent_notified=10 + seed % 6,
        abnormal_patent_withdrawn=6 + seed % 5,
        mediation_accepted=9 + seed % 4,
        mediation_succeeded=5 + seed % 4,
        malicious_tm_leads=6,
        malicious_tm_leads_handled=3 + seed % 4,
        complaints_received=9 + seed % 2,
        complaints_closed=8 + seed % 2,
        aid_workstations=1 + seed % 3,
        standardized_markets=2,
        amount_involved=12.34 + seed,
        fines_confiscations=1.5,
    )
    return v


# unit, period, arrival, seed, warnings (unit-specific messages)
ARRIVALS: list[tuple[str, str, datetime, int]] = [
    ("huangpu", "2023-01", beijing(2023, 2, 5, 9, 0), 1),
    ("huangpu", "2023-02", beijing(2023, 3, 10, 23, 59, 59), 2),
    ("huangpu", "2023-03", beijing(2023, 4, 11, 8, 0), 3),
    ("xuhui", "2023-01", beijing(2023, 2, 1, 9, 0), 4),
    ("xuhui", "2023-02", beijing(2023, 3, 15, 10, 0), 5),
    ("xuhui", "2023-03", beijing(2023, 4, 1, 9, 0), 6),
    ("jingan", "2023-01", beijing(2023, 2, 3, 9, 0), 7),
    ("jingan", "2023-03", beijing(2023, 4, 2, 9, 0), 8),
    ("pudong", "2023-01", beijing(2023, 2, 8, 9, 0), 9),
    ("pudong", "2023-02", beijing(2023, 3, 8, 9, 0), 10),
    ("pudong", "2023-03", beijing(2023, 4, 9, 9, 0), 11),
]
XUHUI_REVISION_AT = beijing(2023, 4, 20, 15, 0)
SATISFACTION_AT = beijing(2023, 4, 30, 12, 0)
JINGAN_WARNINGS = [
    {"unit": "jingan", "period": "2023-03", "reason": "stock_jump", "message": "静安 2023-03 存量跳变"},
    {"unit": "", "period": "", "reason": "unknown_row", "message": "文件中有未知行"},
    {"unit": "xuhui", "period": "2023-03", "reason": "stock_jump", "message": "不属于静安的警告"},
]


def save(
    session: Session,
    unit: str,
    period: str,
    values: dict[str, float],
    at: datetime | None,
    *,
    name: str | None = None,
    warnings: list[dict] | None = None,
) -> repo.SaveOutcome:
    file_name = name or f"{unit}_{period}.xlsx"
    return repo.save_submission(
        session=session,
        records=[repo.RecordToSave(unit, period, values)],
        file_name=file_name,
        sha256=repo.content_sha(values) + file_name[:0],
        layout="A",
        submitted_by=f"{unit}-staff",
        submitted_at=at,
        warnings=warnings,
        content=b"file " + file_name.encode(),
    )


def seed_scenario(engine: Engine) -> None:
    """Write the scenario of the module docstring (committed)."""
    with Session(engine) as session:
        for unit, period, at, seed in ARRIVALS:
            warnings = JINGAN_WARNINGS if (unit, period) == ("jingan", "2023-03") else None
            save(session, unit, period, month_values(seed), at, warnings=warnings)
        # a correction of xuhui's 2023-03 return: a second revision, first arrival unchanged
        save(
            session,
            "xuhui",
            "2023-03",
            month_values(6) | {"trainees": 99.0},
            XUHUI_REVISION_AT,
            name="xuhui_2023-03_更正.xlsx",
        )
        repo.save_submission(
            session=session,
            records=[
                repo.RecordToSave("huangpu", "2023", {"satisfaction_score": 80.61}),
                repo.RecordToSave("pudong", "2023", {"satisfaction_score": 82.04}),
            ],
            file_name="满意度.xlsx",
            sha256="s" * 64,
            layout="B",
            submitted_by="city",
            submitted_at=SATISFACTION_AT,
        )
        session.commit()


def sheet_rows(ws) -> list[list]:  # noqa: ANN001 - openpyxl worksheet
    """Every row of a sheet as a list of cell values (None for empty)."""
    return [list(row) for row in ws.iter_rows(values_only=True)]


def test_scenario_is_stored(engine) -> None:  # noqa: ANN001 - fixture
    from store import queries

    seed_scenario(engine)
    with Session(engine) as session:
        values = queries.current_values(session=session)
        arrivals = queries.arrivals(session=session)
    # 11 unit-months with every monthly measure, plus 2 satisfaction scores
    assert len(values) == 11 * len(MONTHLY) + 2
    assert len(arrivals) == 13
