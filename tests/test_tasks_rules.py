"""Plan tasks: the catalogue shipped from the seeds, deadline forms, owner links, and the state of a
task on a date at every edge (hand-computed: D = 2025-06-15 throughout)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from foundation.catalogue import default_catalogue, default_task_catalogue
from foundation.tasks import (
    DateFormError,
    linked_units,
    owner_units,
    parse_date,
    split_owners,
    task_state,
)

UNITS = default_catalogue().units_of("shanghai")
DISTRICTS = [u.code for u in UNITS if u.kind == "district"]
D = date(2025, 6, 15)


def test_seed_003_ships_its_25_tasks_with_the_seed_deadlines() -> None:
    cat = default_task_catalogue()
    seed003 = [t for t in cat.tasks.values() if t.plan == "003"]
    assert len(seed003) == 25
    by_deadline: dict[str, int] = {}
    for task in seed003:
        by_deadline[task.deadline_value] = by_deadline.get(task.deadline_value, 0) + 1
    # the seed: 2 due by the end of 2024, 13 by the end of 2025, 10 持续推进
    assert by_deadline == {"2024-12-31": 2, "2025-12-31": 13, "ongoing": 10}
    # seven name district governments or zones as owners
    with_units = [t.task for t in seed003 if linked_units(t.owners, UNITS)]
    assert with_units == ["003-01", "003-02", "003-03", "003-05", "003-06", "003-16", "003-19"]
    first = cat.tasks["003-01"]
    assert first.lead == "上海市知识产权局" and first.owners[0] == first.lead
    assert linked_units(first.owners, UNITS) == ["pudong", "lingang"]
    assert cat.tasks["003-07"].indicators == ("aid_workstations", "mediation_success_rate")
    assert linked_units(cat.tasks["003-19"].owners, UNITS) == ["xuhui"]
    assert cat.source(first) == "沪府办〔2023〕34号 一、1"


def test_recurring_reports_become_one_task_per_year() -> None:
    cat = default_task_catalogue()
    tasks = {t.task: t for t in cat.all_tasks([2024, 2025])}
    assert tasks["001-R1-2024"].deadline == date(2024, 3, 20)
    assert tasks["001-R2-2025"].deadline == date(2025, 6, 20)
    assert tasks["001-R3-2025"].deadline == date(2025, 11, 20)
    assert tasks["001-R3-2025"].title == "2025年报送年度工作总结"
    assert linked_units(tasks["001-R1-2024"].owners, UNITS) == DISTRICTS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-12-31", date(2025, 12, 31)),
        ("2025-2-3", date(2025, 2, 3)),
        ("2025年12月31日", date(2025, 12, 31)),
        ("２０２５年１２月３１日", date(2025, 12, 31)),  # full-width digits
        ("2025年12月底", date(2025, 12, 31)),
        ("2025年2月", date(2025, 2, 28)),  # the month's last day
        ("2024年2月", date(2024, 2, 29)),  # leap year
        ("2025年底", date(2025, 12, 31)),
        ("持续推进", None),
        ("长期", None),
        (datetime(2025, 7, 1, 0, 0), date(2025, 7, 1)),  # an Excel date cell
    ],
)
def test_deadline_forms(text: object, expected: date | None) -> None:
    assert parse_date(text, allow_ongoing=True) == expected


@pytest.mark.parametrize("text", ["2025-13-01", "明年", "2025年2月30日", "2025/12/31", "", "12月底"])
def test_not_a_date_form(text: str) -> None:
    with pytest.raises(DateFormError):
        parse_date(text, allow_ongoing=True)


def test_ongoing_is_no_completion_date() -> None:
    with pytest.raises(DateFormError):
        parse_date("持续推进", allow_ongoing=False)


def test_owner_names_link_units() -> None:
    assert split_owners("浦东新区政府、市经济信息化委，徐汇区;临港新片区管委会,静安") == [
        "浦东新区政府",
        "市经济信息化委",
        "徐汇区",
        "临港新片区管委会",
        "静安",
    ]
    assert owner_units("浦东新区政府", UNITS) == ["pudong"]
    assert owner_units("静安区知识产权局", UNITS) == ["jingan"]
    assert owner_units("jingan", UNITS) == ["jingan"]
    assert owner_units("各区政府", UNITS) == DISTRICTS
    assert owner_units("市经济信息化委", UNITS) == []
    assert owner_units("国家知识产权局保护司", UNITS) == []


@pytest.mark.parametrize(
    ("deadline", "progress", "done_on", "last_update", "state", "colour", "days"),
    [
        # not done, deadline passed: red, days overdue D − deadline
        (date(2025, 6, 14), "in_progress", None, D, "overdue", "red", 1),
        (date(2024, 12, 31), "not_started", None, None, "overdue", "red", 166),
        # deadline = D is not yet overdue: due soon
        (D, "in_progress", None, D, "due_soon", "yellow", None),
        (date(2025, 7, 15), "in_progress", None, D, "due_soon", "yellow", None),  # D + 30
        (date(2025, 7, 16), "in_progress", None, D, "in_progress", "green", None),  # D + 31
        (date(2025, 7, 16), "not_started", None, None, "not_started", "green", None),
        # done on the deadline: done; a day late: done_late
        (date(2025, 3, 31), "done", date(2025, 3, 31), D, "done", "green", None),
        (date(2025, 3, 31), "done", date(2025, 4, 1), D, "done_late", "yellow", None),
        # ongoing: done any time is done; stale after 183 days without an update
        (None, "done", date(2025, 1, 1), D, "done", "green", None),
        (None, "in_progress", None, date(2024, 12, 14), "in_progress", "green", None),  # 183 days ago
        (None, "in_progress", None, date(2024, 12, 13), "stale", "yellow", None),  # 184 days ago
        (None, "not_started", None, None, "stale", "yellow", None),  # never updated
    ],
)
def test_state_on_a_date(deadline, progress, done_on, last_update, state, colour, days) -> None:  # noqa: ANN001
    standing = task_state(
        deadline=deadline, progress=progress, done_on=done_on, last_update=last_update, on=D
    )
    assert (standing.state, standing.colour, standing.days_overdue) == (state, colour, days)
    assert (D - date(2024, 12, 14)).days == 183  # the edge above, counted by hand
