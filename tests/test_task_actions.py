"""The browser's writes on plan tasks, at the application layer: owners report progress with
evidence, analysts create, edit and close; each refusal per role proven (nothing written), each
action in the audit log; evidence downloadable only by those who may see the task."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import pytest
from auth_support import make_accounts
from sqlmodel import Session, select
from test_task_evidence import PDF

from application import audit
from application.accounts import get_user
from application.tasks import (
    TaskError,
    TaskFields,
    close_task,
    create_task,
    edit_task,
    evidence_download,
    report_progress,
    statuses_for,
    task_history,
)
from foundation.calendar import today as beijing_today
from store.db import open_engine
from store.models import TaskEvidence, TaskVersion

TODAY = date(2025, 6, 15)
# 003-03: 各区政府 among its owners → every district, 静安 and 浦东 included.
# 004-08: 静安's mid-term check (静安区知识产权局 alone).


@pytest.fixture
def env(db_url: str) -> Any:
    make_accounts(db_url)
    engine = open_engine(db_url)
    with Session(engine) as session:
        people = {n: get_user(session=session, username=n) for n in
                  ("admin1", "analyst1", "leader1", "clerk_jingan", "clerk_pudong")}  # fmt: skip
    yield engine, people
    engine.dispose()


def _count(engine: Any, model: Any) -> int:
    with Session(engine) as session:
        return len(session.exec(select(model)).all())


def test_clerk_reports_with_evidence_and_others_are_refused(env: Any) -> None:
    engine, who = env
    with Session(engine) as session:
        no = report_progress(
            session=session, account=who["clerk_jingan"], task="004-08", progress="in_progress",
            note="中期检查材料已汇总", done_on=None, files=[("中期检查.pdf", PDF)], today=TODAY,
        )  # fmt: skip
        session.commit()
    assert no == 1
    with Session(engine) as session:
        (version,) = session.exec(select(TaskVersion)).all()
        (evidence,) = session.exec(select(TaskEvidence)).all()
        events = audit.events(session=session, kind="task")
    assert (version.progress, version.note, version.updated_on, version.action) == (
        "in_progress", "中期检查材料已汇总", TODAY, "report",
    )  # fmt: skip
    assert version.recorded_by == "clerk_jingan（clerk_jingan）"
    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest() and evidence.media_type == "application/pdf"
    assert evidence.version_id == version.id and bytes(evidence.content) == PDF
    assert (
        events[0].detail["action"] == "report" and events[0].detail["files"][0]["sha256"] == evidence.sha256
    )
    # 浦东's clerk may not report on 静安's task; a leader and an admin report on nothing.
    for name in ("clerk_pudong", "leader1", "admin1"):
        with Session(engine) as session, pytest.raises(PermissionError):
            report_progress(
                session=session, account=who[name], task="004-08", progress="done", note="",
                done_on=TODAY, today=TODAY,
            )  # fmt: skip
    # A bad file: refused with its reason, nothing written.
    with Session(engine) as session, pytest.raises(TaskError, match="内容不是可接收的格式"):
        report_progress(
            session=session, account=who["clerk_jingan"], task="004-08", progress="done", note="已完成",
            done_on=TODAY, files=[("纪要.pdf", b"MZ not a pdf")], today=TODAY,
        )  # fmt: skip
    with Session(engine) as session, pytest.raises(TaskError, match="完成日期"):
        report_progress(
            session=session, account=who["clerk_jingan"], task="004-08", progress="done", note="",
            done_on=None, today=TODAY,
        )  # fmt: skip
    assert _count(engine, TaskVersion) == 1 and _count(engine, TaskEvidence) == 1


def test_evidence_only_for_those_who_may_see_the_task(env: Any) -> None:
    engine, who = env
    with Session(engine) as session:
        report_progress(
            session=session, account=who["clerk_jingan"], task="004-08", progress="in_progress",
            note="材料", done_on=None, files=[("材料.pdf", PDF)], today=TODAY,
        )  # fmt: skip
        session.commit()
        (evidence,) = session.exec(select(TaskEvidence)).all()
        evidence_id = int(evidence.id or 0)
    for name in ("analyst1", "leader1", "admin1", "clerk_jingan"):
        with Session(engine) as session:
            assert evidence_download(who[name], evidence_id, session=session)[2] == PDF
            session.commit()
    for name, eid in (("clerk_pudong", evidence_id), ("analyst1", evidence_id + 99), (None, evidence_id)):
        with Session(engine) as session, pytest.raises(PermissionError):
            evidence_download(who.get(name or ""), eid, session=session)
    with Session(engine) as session:
        assert len(audit.events(session=session, kind="evidence")) == 4
        with pytest.raises(PermissionError):
            task_history(who["clerk_pudong"], "004-08", session=session)
        versions, files = task_history(who["clerk_jingan"], "004-08", session=session)
    assert [v.version_no for v in versions] == [1] and [f.file_name for f in files] == ["材料.pdf"]


def test_analysts_create_edit_and_close(env: Any) -> None:
    engine, who = env
    fields = TaskFields("专利侵权纠纷快处试点", "上海市知识产权局", "静安区知识产权局", "2025年底")
    for name in ("clerk_jingan", "leader1", "admin1"):
        with Session(engine) as session, pytest.raises(PermissionError):
            create_task(session=session, account=who[name], task="X-01", fields=fields)
    with Session(engine) as session:
        create_task(session=session, account=who["analyst1"], task="X-01", fields=fields)
        session.commit()
    with Session(engine) as session, pytest.raises(TaskError, match="已存在"):
        create_task(session=session, account=who["analyst1"], task="003-01", fields=fields)
    with Session(engine) as session:
        # (as of today: the task was created now, so an earlier day does not know it)
        jingan = {s.task for s in statuses_for(who["clerk_jingan"], session=session, as_of=beijing_today())}
        pudong = {s.task for s in statuses_for(who["clerk_pudong"], session=session, as_of=beijing_today())}
    assert "X-01" in jingan and "X-01" not in pudong and "004-08" in jingan and "004-08" not in pudong
    moved = TaskFields("专利侵权纠纷快处试点", "上海市知识产权局", "静安区知识产权局", "2026年6月")
    with Session(engine) as session:
        assert edit_task(session=session, account=who["analyst1"], task="X-01", fields=moved)
        with pytest.raises(TaskError, match="原因"):
            close_task(session=session, account=who["analyst1"], task="X-01", reason=" ")
        assert close_task(session=session, account=who["analyst1"], task="X-01", reason="并入 003-03")
        session.commit()
    with Session(engine) as session:
        versions, _ = task_history(who["analyst1"], "X-01", session=session)
        listed = {s.task for s in statuses_for(who["analyst1"], session=session, as_of=beijing_today())}
        actions = [e.detail["action"] for e in audit.events(session=session, kind="task")]
    assert [v.action for v in versions] == ["create", "edit", "close"]
    assert versions[1].changes == {
        "deadline": ["2025-12-31", "2026-06-30"],
        "deadline_text": ["2025年底", "2026年6月"],
    }
    assert versions[2].changes["reason"] == "并入 003-03"
    assert "X-01" not in listed  # a closed task is no longer chased
    assert actions == ["close", "edit", "create"]  # newest first


def test_an_edit_to_the_same_text_changes_nothing(env: Any) -> None:
    """003-02 as the catalogue states it, sent back through the form: no version, no audit row."""
    from application.tasks import task_fields

    engine, who = env
    with Session(engine) as session:
        same = task_fields("003-02", session=session)
        assert same is not None and same.deadline == "2024年12月底" and same.lead == "上海市知识产权局"
        assert not edit_task(session=session, account=who["analyst1"], task="003-02", fields=same)
        session.commit()
        assert audit.events(session=session, kind="task") == []
    assert _count(engine, TaskVersion) == 0
