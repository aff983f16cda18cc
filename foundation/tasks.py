"""Plan tasks (督查督办): the tasks the plans in the seeds set, with owners and deadlines, and the
rules that say where a task stands on a date.

The catalogue of tasks is data (``catalogue_data/tasks_<plan>.csv``, one file per plan, quoted from
the seeds, read and checked with the rest of the catalogue folder by ``foundation.catalogue``; ``tasks_recurring.csv`` holds the reports every plan year asks for, on a month and day).
This module is pure: it parses deadlines as people write them, links owner names to units, and
computes a task's state on a date from what was known then. The store keeps the reported progress
and its history; ``application/tasks.py`` joins the two.

Decisions (where the seeds or the issue leave a choice):
- Owner names link to a unit when, after dropping an office suffix (区政府, 知识产权局, 管委会,
  市场监管局), they are a unit's full name, short name or code: 浦东新区政府 → pudong,
  临港新片区管委会 → lingang, 静安区知识产权局 → jingan. 各区政府 / 各区知识产权局 / 各有关区政府
  link every district of the region (the seed addresses all of them). Other names (市局各处室,
  国家知识产权局各司) are kept as departments.
- Seed 000 states no deadline per task: the plan year's end (2023年底) is used. Seed 004's
  construction period is one year from 2023-05-11 (2024年5月); its mid-term check half-way (2023年11月).
- The recurring reports of seed 001 (3月20日 plan, 6月20日 half-year and 11月20日 annual summary,
  districts to the city) are tasks of the city bureau, one per year: ``001-R1-2024`` and so on.
"""

from __future__ import annotations

import calendar as _calendar
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Literal, Protocol

from foundation.i18n import t


# What this module needs of the catalogue's units and registry (``foundation.catalogue`` reads the
# task files with the rest of the folder, so this module does not import it).
class Unit(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def aliases(self) -> tuple[str, ...]: ...


class Catalogue(Protocol):
    @property
    def units(self) -> Mapping[str, Unit]: ...
    @property
    def indicators(self) -> Mapping[str, object]: ...
    def units_of(self, region: str) -> Sequence[Unit]: ...
    def regions(self) -> list[str]: ...


Progress = Literal["not_started", "in_progress", "done"]
State = Literal["done", "done_late", "overdue", "due_soon", "stale", "in_progress", "not_started"]
Colour = Literal["green", "yellow", "red"]

ONGOING = "ongoing"
# 进展状态 as written in a ledger ↔ the machine word.
PROGRESS_LABELS: dict[str, Progress] = {"未启动": "not_started", "推进中": "in_progress", "已完成": "done"}
PROGRESS_TEXT = {v: k for k, v in PROGRESS_LABELS.items()}
DUE_SOON_DAYS = 30
STALE_DAYS = 183
COLOUR: dict[State, Colour] = {
    "done": "green",
    "done_late": "yellow",
    "overdue": "red",
    "due_soon": "yellow",
    "stale": "yellow",
    "in_progress": "green",
    "not_started": "green",
}
# Red first, then yellow, then green (the order a 督查督办 office chases in).
STATE_ORDER: tuple[State, ...] = (
    "overdue",
    "due_soon",
    "stale",
    "done_late",
    "in_progress",
    "not_started",
    "done",
)


@dataclass(frozen=True)
class Task:
    task: str
    plan: str
    clause: str
    title: str
    text: str
    lead: str
    owners: tuple[str, ...]  # every owner name, lead first
    deadline: date | None  # None: ongoing (持续推进)
    deadline_text: str  # as the plan states it
    indicators: tuple[str, ...] = ()

    @property
    def deadline_value(self) -> str:
        return self.deadline.isoformat() if self.deadline else ONGOING


# --- deadlines as people write them -----------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_CN_DAY = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_CN_MONTH = re.compile(r"^(\d{4})年(\d{1,2})月(底|末)?$")
_CN_YEAR_END = re.compile(r"^(\d{4})年(底|末)$")
_ONGOING_WORDS = {"持续推进", "长期", "长期推进", "持续"}


class DateFormError(ValueError):
    """A text that is none of the accepted date forms."""


@lru_cache(maxsize=4096)
def _normalise(text: str) -> str:
    # Cached: the owner names and unit aliases recur for every task (the catalogue check links
    # each owner of each task against every unit).
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def parse_date(value: object, *, allow_ongoing: bool) -> date | None:
    """An Excel date, ``2025-12-31``, ``2025年12月31日``, ``2025年12月底`` / ``2025年12月`` (the
    month's last day), ``2025年底`` (31 December), or — where ``allow_ongoing`` — ``持续推进`` /
    ``长期`` (None: ongoing). Anything else is a ``DateFormError``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise DateFormError(str(value))
    text = _normalise(value)
    if text in _ONGOING_WORDS:
        if allow_ongoing:
            return None
        raise DateFormError(value)
    try:
        if m := _ISO.match(text) or _CN_DAY.match(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _CN_MONTH.match(text):
            year, month = int(m.group(1)), int(m.group(2))
            return date(year, month, _calendar.monthrange(year, month)[1])
        if m := _CN_YEAR_END.match(text):
            return date(int(m.group(1)), 12, 31)
    except ValueError as exc:  # 2025-13-01, 2025年2月30日
        raise DateFormError(value) from exc
    raise DateFormError(value)


# --- owners and units -------------------------------------------------------------------------------

OWNER_SEPARATORS = re.compile(r"[、，,;；]")
_OFFICE_SUFFIXES = ("人民政府", "区政府", "政府", "知识产权局", "管委会", "市场监管局")
_ALL_DISTRICTS = {"各区政府", "各区知识产权局", "各有关区政府", "各区"}


def split_owners(text: str) -> list[str]:
    return [name.strip() for name in OWNER_SEPARATORS.split(text or "") if name.strip()]


def _unit_key(name: str) -> str:
    return _normalise(name)


def owner_units(name: str, units: Sequence[Unit]) -> list[str]:
    """The unit codes an owner name stands for ([] for a department that is no unit)."""
    key = _unit_key(name)
    if key in _ALL_DISTRICTS:
        return [u.code for u in units if u.kind == "district"]
    candidates = [key]
    for suffix in _OFFICE_SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            stem = key[: -len(suffix)]
            candidates += [stem, stem + "区"] if suffix == "区政府" else [stem]
    for unit in units:
        aliases = _alias_keys(unit.aliases)
        if any(c in aliases for c in candidates):
            return [unit.code]
    return []


@lru_cache(maxsize=8192)
def _alias_keys(aliases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_unit_key(a) for a in aliases)


def linked_units(owners: Iterable[str], units: Sequence[Unit]) -> list[str]:
    """Codes of the units any of ``owners`` stands for, in catalogue order, each once."""
    found = {code for name in owners for code in owner_units(name, units)}
    return [u.code for u in units if u.code in found]


# --- the catalogue of plan tasks --------------------------------------------------------------------


@dataclass(frozen=True)
class RecurringTask:
    task: str
    plan: str
    clause: str
    title: str
    text: str
    lead: str
    owners: tuple[str, ...]
    month_day: tuple[int, int]
    indicators: tuple[str, ...] = ()

    def for_year(self, year: int) -> Task:
        month, day = self.month_day
        return Task(
            task=f"{self.task}-{year}",
            plan=self.plan,
            clause=self.clause,
            title=f"{year}年{self.title}",
            text=self.text,
            lead=self.lead,
            owners=self.owners,
            deadline=date(year, month, day),
            deadline_text=f"{year}年{month}月{day}日",
            indicators=self.indicators,
        )


@dataclass(frozen=True)
class Plan:
    plan: str
    doc_no: str  # 发文字号, e.g. 沪府办〔2023〕34号
    title: str
    issued: date
    region: str


@dataclass
class TaskCatalogue:
    tasks: dict[str, Task] = field(default_factory=dict)
    recurring: list[RecurringTask] = field(default_factory=list)
    plans: dict[str, Plan] = field(default_factory=dict)

    def source(self, task: Task) -> str:
        """Where a task comes from, as a 督查 office cites it: 沪府办〔2023〕34号 一、1."""
        plan = self.plans.get(task.plan)
        doc = (plan.doc_no or plan.title) if plan else task.plan
        return f"{doc} {task.clause}".strip()

    def get(self, task_id: str) -> Task | None:
        """A plan task by id; a recurring report by ``<id>-<year>`` (``001-R1-2025``)."""
        if task_id in self.tasks:
            return self.tasks[task_id]
        stem, _, year = task_id.rpartition("-")
        if year.isdigit() and len(year) == 4:
            for r in self.recurring:
                if r.task == stem:
                    return r.for_year(int(year))
        return None

    def region_of(self, task: Task, default: str) -> str:
        plan = self.plans.get(task.plan)
        return plan.region if plan and plan.region else default

    def all_tasks(self, years: Iterable[int]) -> list[Task]:
        """The plans' tasks plus each recurring report for ``years``, in catalogue order."""
        out = list(self.tasks.values())
        for year in sorted(set(years)):
            out += [r.for_year(year) for r in self.recurring]
        return out


def _indicators(text: str) -> tuple[str, ...]:
    return tuple(code for code in (text or "").split(";") if code)


Report = Callable[[str, int | None, str | None, str], None]  # (file, line, column, message)
_CODE_LIKE = re.compile(r"^[a-z0-9_-]+$")


def read_task_files(
    plans: tuple[str, Sequence[tuple[int, dict[str, str]]]],
    tables: Sequence[tuple[str, Sequence[tuple[int, dict[str, str]]]]],
    *,
    catalogue: Catalogue,
    built_in: Callable[[], Catalogue] | None,
    only_catalogue_regions: bool,
    report: Report,
    doubtful: Callable[[str, str], bool] = lambda _kind, _code: False,
) -> TaskCatalogue:
    """The plan tasks from the rows of ``plans.csv`` and each ``tasks_*.csv`` (as
    ``foundation.catalogue`` read them: (file as shown, [(line, row)])), each problem reported with
    its file, line and column. ``only_catalogue_regions``: the built-in plans taken for a folder
    that has none of its own — only those of the catalogue's regions, with their tasks.
    ``built_in``: the shipped catalogue, to name an owner that was a unit there but is no unit here.
    ``doubtful(kind, code)``: a code the folder may have meant but that could not be registered
    (its file unreadable, its row wrong): not reported again as unknown."""
    result = TaskCatalogue()
    regions = set(catalogue.regions())
    plans_file, plan_rows = plans
    dropped: set[str] = set()
    for line, row in plan_rows:
        plan = row["plan"]
        if not plan:
            report(plans_file, line, "plan", t("catalogue.required"))
            continue
        if plan in result.plans or plan in dropped:
            report(plans_file, line, "plan", t("catalogue.duplicate_code", value=plan, first=plans_file))
            continue
        if row["region"] and row["region"] not in regions:
            if only_catalogue_regions:
                dropped.add(plan)
                continue
            report(plans_file, line, "region", t("catalogue.region_without_units", value=row["region"]))
        try:
            issued = date.fromisoformat(row["issued"])
        except ValueError:
            report(plans_file, line, "issued", t("catalogue.bad_date", value=row["issued"]))
            continue
        result.plans[plan] = Plan(plan, row["doc_no"], row["title"], issued, row["region"])
    seen: dict[str, str] = {}
    owner_problems: dict[tuple[str, str], str] = {}
    for file, rows in tables:
        for line, row in rows:
            if row["plan"] in dropped:
                continue
            task_id = row["task"]
            if not task_id:
                report(file, line, "task", t("catalogue.required"))
                continue
            if task_id in seen:
                report(file, line, "task", t("catalogue.duplicate_code", value=task_id, first=seen[task_id]))
                continue
            seen[task_id] = t("catalogue.at_line", file=file, line=line)
            ok = True
            found = result.plans.get(row["plan"])
            if found is None:
                report(file, line, "plan", t("catalogue.unknown_plan", value=row["plan"]))
                ok = False
            if not row["lead"]:
                report(file, line, "lead", t("catalogue.required"))
                ok = False
            indicators = _indicators(row["indicators"])
            for code in indicators:
                if code not in catalogue.indicators:
                    if not doubtful("indicators", code):
                        report(file, line, "indicators", t("catalogue.unknown_indicator", value=code))
                    ok = False
            owners = split_owners(row["owners"])
            region = found.region if found is not None else ""
            for column, names in (("lead", [row["lead"]] if row["lead"] else []), ("owners", owners)):
                for name in names:
                    key = (name, region)
                    if key not in owner_problems:  # the same offices own many tasks
                        owner_problems[key] = _owner_problem(name, region, catalogue, built_in, doubtful)
                    message = owner_problems[key]
                    if message:
                        report(file, line, column, message)
                        ok = False
            all_owners = tuple(dict.fromkeys([row["lead"], *owners]))
            if "month_day" in row:
                try:
                    month, day = (int(x) for x in row["month_day"].split("-"))
                    date(2024, month, day)  # a leap year: 02-29 is a day
                except ValueError:
                    report(file, line, "month_day", t("catalogue.bad_month_day", value=row["month_day"]))
                    continue
                if ok:
                    result.recurring.append(
                        RecurringTask(
                            task_id, row["plan"], row["clause"], row["title"], row["text"],
                            row["lead"], all_owners, (month, day), indicators,
                        )
                    )  # fmt: skip
                continue
            try:
                deadline = parse_date(row["deadline"], allow_ongoing=True)
            except DateFormError:
                report(file, line, "deadline", t("catalogue.bad_deadline", value=row["deadline"]))
                continue
            if ok:
                result.tasks[task_id] = Task(
                    task=task_id,
                    plan=row["plan"],
                    clause=row["clause"],
                    title=row["title"],
                    text=row["text"],
                    lead=row["lead"],
                    owners=all_owners,
                    deadline=deadline,
                    deadline_text=row["deadline"],
                    indicators=indicators,
                )
    return result


def _owner_problem(
    name: str,
    region: str,
    catalogue: Catalogue,
    built_in: Callable[[], Catalogue] | None,
    doubtful: Callable[[str, str], bool],
) -> str:
    """Why an owner name cannot stand as written ("" when it can): it links to a unit of another
    region than its plan's, to a shipped unit this catalogue no longer has, or it is written like a
    unit code that no unit has. Department names (市局各处室) link to nothing and are fine."""
    if _unit_key(name) in _ALL_DISTRICTS:
        return ""
    if _CODE_LIKE.match(name) and name not in catalogue.units:
        return "" if doubtful("units", name) else t("catalogue.owner_unknown_code", value=name)
    if not region:
        return ""
    if owner_units(name, catalogue.units_of(region)):
        return ""
    elsewhere = owner_units(name, list(catalogue.units.values()))
    if elsewhere:
        unit = catalogue.units[elsewhere[0]]
        return t(
            "catalogue.owner_other_region", value=name, unit=unit.code, unit_region=unit.region, region=region
        )
    if built_in is not None:
        shipped = owner_units(name, built_in().units_of(region))
        if shipped and not doubtful("units", shipped[0]):
            return t("catalogue.owner_not_in_catalogue", value=name, unit=shipped[0])
    return ""


# --- where a task stands on a date -------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    state: State
    colour: Colour
    days_overdue: int | None


def task_state(
    *,
    deadline: date | None,
    progress: Progress,
    done_on: date | None,
    last_update: date | None,
    on: date,
) -> Standing:
    """The state of a task on day ``on`` (D), from what was reported by then:

    - done: 已完成 and (ongoing or 完成日期 ≤ deadline) — green
    - done_late: 已完成 and 完成日期 > deadline — yellow
    - overdue: not 已完成 and deadline < D; days_overdue = D − deadline — red
    - due_soon: not 已完成 and D ≤ deadline ≤ D + 30 days — yellow
    - stale: ongoing, not 已完成, no update in the 183 days up to D (or never) — yellow
    - otherwise in_progress / not_started as reported — green
    """
    state: State
    if progress == "done":
        late = deadline is not None and done_on is not None and done_on > deadline
        state = "done_late" if late else "done"
        return Standing(state, COLOUR[state], None)
    if deadline is not None and deadline < on:
        return Standing("overdue", "red", (on - deadline).days)
    if deadline is not None and deadline <= on + timedelta(days=DUE_SOON_DAYS):
        return Standing("due_soon", "yellow", None)
    if deadline is None and (last_update is None or last_update < on - timedelta(days=STALE_DAYS)):
        return Standing("stale", "yellow", None)
    state = progress
    return Standing(state, COLOUR[state], None)
