"""Loading files into the store: read → validate (file rules, locks, cross-period checks) → save.

``check_file`` does everything but write (the upload page's preview uses it); ``load_file`` also
saves, in the caller's session, and the caller commits once per file; ``load_paths`` is the
batch entry point of ``ipdash load``: each file in its own transaction, so a bad file writes
nothing and never stops the others. A batch may read its files ahead on every core
(``etl.batch.ReadAhead``): reading is pure, and the checks against the store and the writes stay
here, one file after the other in file order, so the outcome is that of a serial run.
"""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from etl.batch import ReadAhead, ReadFault
from etl.batch import expand_paths as expand_paths  # where it used to live
from etl.checks import cross_period_warnings
from etl.readers import read_file
from etl.records import Issue, ParsedFile, Reason
from foundation.catalogue import Catalogue, default_catalogue
from foundation.i18n import t
from foundation.incidents import record_incident
from foundation.settings import BUILT_IN, Settings
from store import repo

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

ReceivedAt = datetime | Callable[[ParsedFile], datetime | None] | None


@dataclass
class LoadResult:
    file: str
    status: str  # accepted | unchanged | rejected
    units: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    submission_id: int | None = None
    new_revisions: list[tuple[str, str, int]] = field(default_factory=list)
    tasks: list[tuple[str, int]] = field(default_factory=list)  # layout C: task, new version no
    tasks_unchanged: list[str] = field(default_factory=list)
    outcome: repo.SaveOutcome | None = field(default=None, repr=False)
    parsed: ParsedFile | None = field(default=None, repr=False)

    @property
    def unit(self) -> str:
        return ",".join(self.units)

    def to_dict(self) -> dict[str, Any]:
        keep = ("sheet", "cell", "measure", "value", "message", "reason", "unit", "period")
        return {
            "file": self.file,
            "status": self.status,
            "unit": self.unit,
            "periods": self.periods,
            "errors": [{k: v for k, v in e.to_dict().items() if k in keep} for e in self.errors],
            "warnings": [{k: v for k, v in w.to_dict().items() if k in keep} for w in self.warnings],
            "revisions": [{"unit": u, "period": p, "revision": n} for u, p, n in self.new_revisions],
            "tasks": [{"task": task, "version": n} for task, n in self.tasks],
            "tasks_unchanged": self.tasks_unchanged,
        }


def _history_for(parsed: ParsedFile, *, session: Session) -> pd.DataFrame:
    """Stored current values the cross-period checks need: the same units, the file's years,
    and the month before the earliest month."""
    import pandas as pd

    from store import queries

    months = sorted(p for p in parsed.periods if len(p) == 7)
    if not months:
        return pd.DataFrame(columns=queries.VALUE_COLUMNS)
    y, m = map(int, months[0].split("-"))
    before = f"{y - 1:04d}-12" if m == 1 else f"{y:04d}-{m - 1:02d}"
    wanted = {before}
    for year in {p[:4] for p in months}:
        wanted.update(f"{year}-{mm:02d}" for mm in range(1, 13))
    return queries.current_values(session=session, periods=sorted(wanted), units=parsed.units)


def _lock_errors(parsed: ParsedFile, *, session: Session) -> list[Issue]:
    locks = repo.lock_holders(session=session, periods=parsed.periods)
    return [
        Issue(
            severity="error",
            reason=Reason.PERIOD_LOCKED,
            message=t("load.period_locked", file=parsed.file, period=p, by=by),
            file=parsed.file,
            period=p,
        )
        for p, by in sorted(locks.items())
    ]


class StoreCache:
    """What a batch of loads knows of the store: current values and revision numbers per unit
    and month, fetched once per unit and year and kept up to date as files are committed.

    ``ipdash load`` of a folder asks the database once per unit-year instead of several times per
    file (see bench/bench_load.py). Its values only feed the cross-period warnings: revision
    numbers and the `unchanged` test are always read under the store's per unit-month lock
    (``repo.lock_unit_periods``), so another process writing the same months meanwhile is
    serialised, never a collision.
    """

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], dict[str, float]] = {}
        self.revisions: dict[tuple[str, str], tuple[int, int, str]] = {}
        self._years: set[tuple[str, str]] = set()
        # unit → its periods in ``values``: a file's history is found without scanning every unit
        self._periods: dict[str, set[str]] = {}

    def ensure(self, units: Iterable[str], years: Iterable[str], *, session: Session) -> None:
        missing = sorted({(u, y) for u in units for y in years} - self._years)
        if not missing:
            return
        periods = sorted({f"{y}-{m:02d}" for _, y in missing for m in range(1, 13)} | {y for _, y in missing})
        state = repo.stored_state(session=session, units=sorted({u for u, _ in missing}), periods=periods)
        for key, (rid, no, sha, vals) in state.items():
            if (key[0], key[1][:4]) in missing:
                self.revisions[key] = (rid, no, sha)
                self.values[key] = vals
                self._periods.setdefault(key[0], set()).add(key[1])
        self._years.update(missing)

    def history_for(self, parsed: ParsedFile, *, session: Session) -> dict[tuple[str, str], dict[str, float]]:
        years = _years_needed(parsed)
        units = set(parsed.units)
        self.ensure(units, years, session=session)
        return {
            (unit, period): self.values[(unit, period)]
            for unit in sorted(units)
            for period in sorted(self._periods.get(unit, ()))
            if period[:4] in years
        }

    def committed(self, parsed: ParsedFile, outcome: repo.SaveOutcome) -> None:
        by_key = {(r.unit, r.period): r for r in parsed.records}
        for (unit, period, no), rid, sha in zip(
            outcome.new_revisions, outcome.revision_ids, outcome.content_shas, strict=True
        ):
            self.revisions[(unit, period)] = (rid, no, sha)
            self.values[(unit, period)] = dict(by_key[(unit, period)].values)
            self._periods.setdefault(unit, set()).add(period)

    def clear(self) -> None:
        self.values.clear()
        self.revisions.clear()
        self._years.clear()
        self._periods.clear()


def _years_needed(parsed: ParsedFile) -> set[str]:
    """The file's years, and the year before when it holds a January (whose previous month is December)."""
    years = {p[:4] for p in parsed.periods}
    years |= {str(int(p[:4]) - 1) for p in parsed.periods if p.endswith("-01")}
    return years


def check_file(
    source: str | Path | bytes,
    *,
    session: Session,
    file_name: str | None = None,
    as_unit: str | None = None,
    catalogue: Catalogue | None = None,
    region: str | None = None,
    cache: StoreCache | None = None,
    settings: Settings = BUILT_IN,
) -> ParsedFile:
    """Read and validate without writing; ``parsed.errors`` empty means it would be accepted."""
    cat = catalogue or default_catalogue()
    parsed = read_file(
        source, file_name=file_name, catalogue=cat, region=region, as_unit=as_unit, settings=settings
    )
    return _check_against_store(
        parsed, session=session, catalogue=cat, region=region, as_unit=as_unit, cache=cache, settings=settings
    )


def _check_against_store(
    parsed: ParsedFile,
    *,
    session: Session,
    catalogue: Catalogue,
    region: str | None,
    as_unit: str | None,
    cache: StoreCache | None,
    settings: Settings,
) -> ParsedFile:
    """The checks of a file read (``read_file``) that need the store: locks, tasks, cross-period."""
    cat = catalogue
    if parsed.errors:
        return parsed
    if parsed.layout == "C":
        _check_tasks(
            parsed, session=session, catalogue=cat, region=region, as_unit=as_unit, settings=settings
        )
        return parsed
    parsed.errors.extend(_lock_errors(parsed, session=session))
    if not parsed.errors:
        history: pd.DataFrame | dict[tuple[str, str], dict[str, float]]
        if cache is not None:
            history = cache.history_for(parsed, session=session)
        else:
            history = _history_for(parsed, session=session)
        parsed.warnings.extend(
            cross_period_warnings(parsed, history, catalogue=cat, stock_jump_ratio=settings.stock_jump_ratio)
        )
    return parsed


def _check_tasks(
    parsed: ParsedFile,
    *,
    session: Session,
    catalogue: Catalogue,
    region: str | None,
    as_unit: str | None,
    settings: Settings,
) -> None:
    """A task ledger against the store: which tasks change, and the rows a district may not send."""
    from etl.task_load import plan_task_rows, resolve_unit
    from foundation.calendar import today as calendar_today
    from foundation.catalogue import default_task_catalogue
    from store import tasks as task_store

    ids = [row.task for row in parsed.tasks]
    stored = {
        k: task_store.content_of(v)
        for k, v in task_store.current_versions(session=session, tasks=ids).items()
    }
    plan = plan_task_rows(
        parsed.tasks,
        file=parsed.file,
        stored=stored,
        tasks=default_task_catalogue(),
        catalogue=catalogue,
        region=region or settings.region,
        scope_unit=resolve_unit(as_unit, catalogue) if as_unit else None,
        today=calendar_today(settings.timezone),
    )
    parsed.errors.extend(plan.errors)
    parsed.warnings.extend(plan.warnings)
    parsed.task_plan = plan


def _save_tasks(
    parsed: ParsedFile, result: LoadResult, *, session: Session, name: str, content: bytes,
    submitted_by: str, as_unit: str | None, when: datetime | None,
) -> LoadResult:  # fmt: skip
    from store import tasks as task_store

    plan = parsed.task_plan
    submission_id, written = task_store.save_task_ledger(
        session=session,
        changes=plan.changes,
        file_name=name,
        sha256=parsed.sha256,
        submitted_by=submitted_by,
        submitted_at=when,
        as_unit=as_unit,
        warnings=[w.to_dict() for w in parsed.warnings],
        content=content,
    )
    result.status = "accepted" if written else "unchanged"
    result.submission_id = submission_id
    result.tasks = written
    result.tasks_unchanged = sorted(
        set(plan.unchanged) | {c.task for c in plan.changes} - {t for t, _ in written}
    )
    result.parsed = parsed
    return result


def load_file(
    source: str | Path | bytes,
    *,
    session: Session,
    file_name: str | None = None,
    submitted_by: str | None = None,
    as_unit: str | None = None,
    received_at: ReceivedAt = None,
    catalogue: Catalogue | None = None,
    region: str | None = None,
    cache: StoreCache | None = None,
    settings: Settings = BUILT_IN,
    read: ParsedFile | None = None,
) -> LoadResult:
    """Check and, when there is no error, save in ``session`` (the caller commits).

    ``read``: the file already read and validated by ``read_file`` (a batch reads ahead in worker
    processes, ``etl.batch``); only the checks against the store are left to do here."""
    name = file_name or (Path(source).name if not isinstance(source, bytes) else "upload.xlsx")
    if read is None:
        parsed = check_file(
            source,
            session=session,
            file_name=name,
            as_unit=as_unit,
            catalogue=catalogue,
            region=region,
            cache=cache,
            settings=settings,
        )
    else:
        parsed = _check_against_store(
            read,
            session=session,
            catalogue=catalogue or default_catalogue(),
            region=region,
            as_unit=as_unit,
            cache=cache,
            settings=settings,
        )
    result = LoadResult(
        file=name,
        status="rejected",
        units=parsed.units,
        periods=parsed.periods,
        errors=parsed.errors,
        warnings=parsed.warnings,
    )
    if parsed.errors:
        return result
    content = source if isinstance(source, bytes) else Path(source).read_bytes()
    when = received_at(parsed) if callable(received_at) else received_at
    if parsed.layout == "C":
        by = submitted_by or default_user()
        return _save_tasks(
            parsed,
            result,
            session=session,
            name=name,
            content=content,
            submitted_by=by,
            as_unit=as_unit,
            when=when,
        )
    outcome = repo.save_submission(
        session=session,
        records=[repo.RecordToSave(r.unit, r.period, r.values, r.blanks, r.notes) for r in parsed.records],
        file_name=name,
        sha256=parsed.sha256,
        layout=parsed.layout or "A",
        submitted_by=submitted_by or default_user(),
        submitted_at=when,
        as_unit=as_unit,
        warnings=[w.to_dict() for w in parsed.warnings],
        content=content,
    )
    result.status = outcome.status
    result.submission_id = outcome.submission_id
    result.new_revisions = outcome.new_revisions
    result.outcome = outcome
    result.parsed = parsed
    return result


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): record that honestly
        return "unknown"


def load_paths(
    paths: Iterable[Path],
    *,
    engine: Engine,
    submitted_by: str | None = None,
    as_unit: str | None = None,
    received_at: ReceivedAt = None,
    catalogue: Catalogue | None = None,
    region: str | None = None,
    settings: Settings = BUILT_IN,
    jobs: int | None = 1,
    reads: ReadAhead | None = None,
) -> Iterator[LoadResult]:
    """Load each file in its own transaction; yields one result per file, in order.

    ``jobs``: processes reading the files ahead (None: every usable core; 1: read here, one by
    one). ``reads``: a ``ReadAhead`` of exactly ``paths`` the caller started earlier (the CLI
    starts reading before it opens the database); it is closed when the batch ends."""
    cat = catalogue or default_catalogue()
    files = list(paths)
    if reads is None:
        reads = ReadAhead(files, jobs=jobs, as_unit=as_unit, catalogue=cat, region=region, settings=settings)
    elif reads.paths != files:
        raise ValueError("reads must be a ReadAhead of the same paths")
    with reads:
        yield from _load_read(
            files, reads, engine=engine, submitted_by=submitted_by, as_unit=as_unit,
            received_at=received_at, catalogue=cat, region=region, settings=settings,
        )  # fmt: skip


def _load_read(
    files: list[Path],
    reads: ReadAhead,
    *,
    engine: Engine,
    submitted_by: str | None,
    as_unit: str | None,
    received_at: ReceivedAt,
    catalogue: Catalogue,
    region: str | None,
    settings: Settings,
) -> Iterator[LoadResult]:
    cache = StoreCache()
    submitted_by = submitted_by or default_user()  # once: the login name is a passwd lookup
    for path, read in zip(files, reads, strict=True):
        with Session(engine) as session:
            if not path.exists():
                yield _rejected(path.name, t("load.file_not_found", file=str(path)))
                continue
            if isinstance(read, ReadFault):  # a bug while reading, logged by the reader
                cache.clear()
                message = t("load.internal_error", file=path.name, incident=read.incident, error=read.error)
                yield _rejected(path.name, message)
                continue
            try:
                result = load_file(
                    path,
                    session=session,
                    submitted_by=submitted_by,
                    as_unit=as_unit,
                    received_at=received_at,
                    catalogue=catalogue,
                    region=region,
                    cache=cache,
                    settings=settings,
                    read=read,
                )
                if result.status == "accepted":
                    session.commit()
                    assert result.parsed is not None
                    if result.outcome is not None:
                        cache.committed(result.parsed, result.outcome)
                else:
                    session.rollback()
            except Exception as exc:  # a fault of ours or the database's: report, keep going, write nothing
                session.rollback()
                cache.clear()
                incident = record_incident(f"loading {path}", exc)
                message = t(
                    "load.internal_error", file=path.name, incident=incident, error=exc.__class__.__name__
                )
                yield _rejected(path.name, message)
                continue
            yield result


def _rejected(name: str, message: str) -> LoadResult:
    return LoadResult(
        file=name,
        status="rejected",
        errors=[Issue(severity="error", reason=Reason.UNREADABLE, message=message, file=name)],
    )
