"""Revision rules of DOMAIN.md "Submissions and revisions", on SQLite and PostgreSQL."""

from datetime import UTC, datetime

from sqlmodel import Session, select

from store import queries, repo
from store.models import MeasureValue, Revision, Submission


def _save(session, values, *, unit="jingan", period="2023-06", name="a.xlsx", at=None):
    return repo.save_submission(
        session=session,
        records=[repo.RecordToSave(unit, period, values)],
        file_name=name,
        sha256=repo.content_sha(values) + name[:0],
        layout="A",
        submitted_by="tester",
        submitted_at=at,
        content=b"bytes of " + name.encode(),
    )


def _counts(session):
    return (
        len(session.exec(select(Submission)).all()),
        len(session.exec(select(Revision)).all()),
        len(session.exec(select(MeasureValue)).all()),
    )


def test_new_revision_becomes_current_and_old_stays(engine):
    with Session(engine) as s:
        first = _save(s, {"trainees": 10, "training_sessions": 1}, name="v1.xlsx")
        s.commit()
        assert first.status == "accepted" and first.new_revisions == [("jingan", "2023-06", 1)]
        second = _save(s, {"trainees": 12, "training_sessions": 1}, name="v2.xlsx")
        s.commit()
        assert second.new_revisions == [("jingan", "2023-06", 2)]
        revs = repo.list_revisions(session=s, unit="jingan", period="2023-06")
        assert [(r["revision_no"], r["is_current"], r["file_name"]) for r in revs] == [
            (1, False, "v1.xlsx"),
            (2, True, "v2.xlsx"),
        ]
        cur = queries.current_values(session=s)
        assert dict(zip(cur["measure"], cur["value"], strict=True)) == {
            "trainees": 12.0,
            "training_sessions": 1.0,
        }


def test_identical_content_is_unchanged_and_writes_nothing(engine):
    with Session(engine) as s:
        _save(s, {"trainees": 10, "training_sessions": 1})
        s.commit()
        before = _counts(s)
        # same values, int vs float form and another file name: still the same content
        again = _save(s, {"training_sessions": 1.0, "trainees": 10.0}, name="copy.xlsx")
        s.commit()
        assert again.status == "unchanged" and again.submission_id is None
        assert again.unchanged == [("jingan", "2023-06")]
        assert _counts(s) == before == (1, 1, 2)


def test_restore_writes_a_copy_and_makes_it_current(engine):
    with Session(engine) as s:
        _save(s, {"trainees": 10}, name="v1.xlsx")
        _save(s, {"trainees": 99}, name="v2.xlsx")
        s.commit()
        out = repo.restore_revision(session=s, unit="jingan", period="2023-06", revision_no=1, by="analyst")
        s.commit()
        assert out.status == "accepted" and out.new_revisions == [("jingan", "2023-06", 3)]
        revs = repo.list_revisions(session=s, unit="jingan", period="2023-06")
        assert [(r["revision_no"], r["is_current"], r["restored_from"]) for r in revs] == [
            (1, False, None),
            (2, False, None),
            (3, True, 1),
        ]
        assert queries.current_values(session=s)["value"].tolist() == [10.0]
        # restoring what is already current adds nothing; a missing revision is reported as None
        assert (
            repo.restore_revision(session=s, unit="jingan", period="2023-06", revision_no=3, by="a").status
            == "unchanged"
        )
        assert (
            repo.restore_revision(session=s, unit="jingan", period="2023-06", revision_no=9, by="a") is None
        )


def test_as_of_gives_the_revision_current_then(engine):
    t1 = datetime(2023, 7, 5, 8, 0, tzinfo=UTC)
    t2 = datetime(2023, 7, 20, 8, 0, tzinfo=UTC)
    with Session(engine) as s:
        _save(s, {"trainees": 10}, name="v1.xlsx", at=t1)
        _save(s, {"trainees": 25}, name="v2.xlsx", at=t2)
        s.commit()
        between = datetime(2023, 7, 10, tzinfo=UTC)
        assert queries.current_values(session=s, as_of=between)["value"].tolist() == [10.0]
        assert queries.current_values(session=s)["value"].tolist() == [25.0]
        assert queries.current_values(session=s, as_of=datetime(2023, 7, 1, tzinfo=UTC)).empty
        arr = queries.arrivals(session=s)
        # timeliness looks at the FIRST accepted revision's arrival
        assert arr["first_received_at"].tolist() == [t1]


def test_uncommitted_save_leaves_nothing(engine):
    with Session(engine) as s:
        _save(s, {"trainees": 10})
        s.rollback()
        assert _counts(s) == (0, 0, 0)


def test_locks(engine):
    with Session(engine) as s:
        assert repo.lock_period(session=s, period="2023-06", by="analyst") is True
        assert repo.lock_period(session=s, period="2023-06", by="analyst") is False
        s.commit()
        assert set(repo.locked_periods(session=s, periods=["2023-06", "2023-07"])) == {"2023-06"}
        assert repo.unlock_period(session=s, period="2023-06") is True
        s.commit()
        assert repo.locked_periods(session=s) == {}
