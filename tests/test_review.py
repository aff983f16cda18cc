"""The monthly review loop (issue 9): 待审核 → 已通过 / 已退回 with a reason; a returned return stays
current until a correction, which is 待审核 again; 备注 stored per measure and shown beside the
value; a district's explanation of each warning; locks with reasons and a history that is never
deleted. On both databases, through the application and through the running app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from auth_support import csrf_headers, make_accounts, sign_in
from factories import make_return, value_row
from openpyxl import load_workbook
from sqlmodel import Session, select


def _with_notes(path: Path, notes: dict[str, str]) -> Path:
    wb = load_workbook(path)
    ws = wb["月报"]
    for code, note in notes.items():
        ws[f"F{value_row(code)}"] = note  # the factory's 备注 column
    wb.save(path)
    return path


def _load(url: str, path: Path, by: str = "静安填报员（clerk_jingan）") -> Any:
    from application.submissions import load_upload

    return load_upload(
        path.read_bytes(), url=url, file_name=path.name, submitted_by=by, as_unit="jingan", region="shanghai"
    )


def _account(session: Session, username: str) -> Any:
    from application.accounts import get_user

    found = get_user(session=session, username=username)
    assert found is not None
    return found


@pytest.fixture
def store(db_url: str) -> str:
    make_accounts(db_url)
    return db_url


def test_review_states_remarks_and_explanations(store: str, tmp_path: Path) -> None:
    from application import review
    from store.db import make_engine
    from store.models import Revision

    first = _with_notes(
        make_return(tmp_path / "jingan_2023-06.xlsx", raw={"trainees": None}),
        {"trainees": "本月培训延期至7月", "enforcement_filed": "含移送2件"},
    )
    assert _load(store, first).status == "accepted"
    engine = make_engine(store)
    with Session(engine) as session:
        (state,) = review.current_returns(session=session, units=["jingan"], periods=["2023-06"])
        assert state.state == "pending" and state.revision_no == 1
        assert state.warnings, "a blank cell gives the return a warning to explain"
        values = {
            code: (value, note)
            for code, value, note in review.values_with_notes(session=session, revision_id=state.revision_id)
        }
        assert (
            values["trainees"] == (0.0, "本月培训延期至7月") and values["enforcement_filed"][1] == "含移送2件"
        )
        assert [s.unit for s in review.queue(session=session, region="shanghai")] == ["jingan"]

        analyst, clerk = _account(session, "analyst1"), _account(session, "clerk_jingan")
        key = state.warnings[0]["key"]
        review.explain_warning(
            session=session, account=clerk, unit="jingan", period="2023-06", key=key, text="培训改期"
        )
        with pytest.raises(review.ReviewError, match="只能由本区县"):
            review.explain_warning(
                session=session, account=analyst, unit="jingan", period="2023-06", key=key, text="x"
            )
        with pytest.raises(review.ReviewError, match="必须填写原因"):
            review.decide(
                session=session,
                account=analyst,
                unit="jingan",
                period="2023-06",
                revision_id=state.revision_id,
                state="returned",
            )
        with pytest.raises(review.ReviewError, match="无权"):
            review.decide(
                session=session,
                account=clerk,
                unit="jingan",
                period="2023-06",
                revision_id=state.revision_id,
                state="approved",
            )
        review.decide(
            session=session,
            account=analyst,
            unit="jingan",
            period="2023-06",
            revision_id=state.revision_id,
            state="returned",
            reason="培训人数为空，请补报",
        )
        session.commit()
        (returned,) = review.current_returns(session=session, units=["jingan"], periods=["2023-06"])
        assert (returned.state, returned.reason) == ("returned", "培训人数为空，请补报")
        assert returned.warnings[0]["explanation"] == "培训改期"
        assert review.queue(session=session, region="shanghai") == []  # waiting for the district now
        # Still current: the figures keep using revision 1.
        assert session.exec(select(Revision.revision_no).where(Revision.is_current)).all() == [1]
    # The correction is a new revision, 待审核 again.
    correction = make_return(tmp_path / "jingan_2023-06_更正.xlsx", values=None)
    assert _load(store, correction).status == "accepted"
    with Session(engine) as session:
        (corrected,) = review.current_returns(session=session, units=["jingan"], periods=["2023-06"])
        assert (corrected.state, corrected.revision_no, corrected.reason) == ("pending", 2, "")
        analyst = _account(session, "analyst1")
        # A decision on the superseded revision is refused.
        with pytest.raises(review.ReviewError, match="已有更正"):
            review.decide(
                session=session,
                account=analyst,
                unit="jingan",
                period="2023-06",
                revision_id=state.revision_id,
                state="approved",
            )
        review.decide(
            session=session,
            account=analyst,
            unit="jingan",
            period="2023-06",
            revision_id=corrected.revision_id,
            state="approved",
        )
        session.commit()
        (approved,) = review.current_returns(session=session, units=["jingan"], periods=["2023-06"])
        assert approved.state == "approved"
        from application import audit

        kinds = [
            e.detail.get("state") or ("explain" if "explain" in e.detail else "")
            for e in audit.events(session=session, kind="review")
        ]
        assert kinds == ["approved", "returned", "explain"]
    engine.dispose()


def test_lock_needs_a_reason_lists_unapproved_and_keeps_history(store: str, tmp_path: Path) -> None:
    from application import review
    from store.db import make_engine

    assert _load(store, make_return(tmp_path / "a.xlsx", period="2023-06")).status == "accepted"
    engine = make_engine(store)
    with Session(engine) as session:
        analyst, leader = _account(session, "analyst1"), _account(session, "leader1")
        assert [(r.unit, r.state) for r in review.not_approved(session=session, period="2023-06")] == [
            ("jingan", "pending")
        ]
        with pytest.raises(review.ReviewError, match="必须填写原因"):
            review.lock(session=session, account=analyst, period="2023-06", reason=" ")
        with pytest.raises(review.ReviewError, match="无权"):
            review.lock(session=session, account=leader, period="2023-06", reason="考核")
        assert review.lock(session=session, account=analyst, period="2023-06", reason="年度考核取数")
        assert not review.lock(session=session, account=analyst, period="2023-06", reason="again")
        assert review.unlock(session=session, account=analyst, period="2023-06", reason="静安更正")
        session.commit()
        history = review.lock_history(session=session, period="2023-06")
        assert [(e.action, e.reason, e.by) for e in history] == [
            ("unlock", "静安更正", "analyst1（analyst1）"),
            ("lock", "年度考核取数", "analyst1（analyst1）"),
        ]
    from sqlalchemy import text

    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM period_lock_event"))
    engine.dispose()


def _json(response: Any) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_analyst_returns_a_return_and_the_district_sees_why(store: str, tmp_path: Path) -> None:
    from test_access import callback_body

    from dashboard.app import create_app

    path = _with_notes(
        make_return(tmp_path / "jingan_2023-06.xlsx", raw={"trainees": None}), {"trainees": "延期"}
    )
    assert _load(store, path).status == "accepted"
    app = create_app(store)
    app.server.test_client().get("/login")
    analyst = app.server.test_client()
    sign_in(analyst, "analyst1")
    headers = csrf_headers(analyst)

    def key_of(prefix: str) -> str:
        return next(k for k in app.callback_map if k.lstrip(".").startswith(prefix.lstrip(".")))

    queue = analyst.post(
        "/_dash-update-component",
        json=callback_body(app, key_of("..rv-queue"), {"filter-region.value": "shanghai"}),
        headers=headers,
    )
    options = queue.get_json()["response"]["rv-pick"]["options"]
    assert [o["label"] for o in options] == ["静安区 2023-06 第1版"]
    picked = options[0]["value"]
    detail = analyst.post(
        "/_dash-update-component",
        json=callback_body(app, key_of("..rv-detail"), {"rv-pick.value": picked}),
        headers=headers,
    )
    assert "延期" in _json(detail) and "待审核" in _json(detail)  # 备注 beside the value in review
    body = callback_body(
        app, key_of("..rv-result"), {"rv-pick.value": picked, "rv-reason.value": "培训人数为空"}
    )
    body["changedPropIds"] = ["rv-return.n_clicks"]
    decided = analyst.post("/_dash-update-component", json=body, headers=headers)
    assert "已退回" in _json(decided)

    clerk = app.server.test_client()
    sign_in(clerk, "clerk_jingan")
    own = clerk.post(
        "/_dash-update-component",
        json=callback_body(
            app, key_of("..unit-review"), {"filter-period.value": "2023-06", "unit-code.data": "jingan"}
        ),
        headers=csrf_headers(clerk),
    )
    assert "培训人数为空" in _json(own) and "延期" in _json(own)
    # A clerk cannot take a decision, even by forging the request.
    assert clerk.post("/_dash-update-component", json=body, headers=csrf_headers(clerk)).status_code == 403
