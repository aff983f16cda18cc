"""The service keeps each region's current values live: after uploads and restores it reads only
the unit-months that changed, and the result equals a full read (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
from sqlmodel import Session

from application import service
from store import queries, repo


def save(session: Session, unit: str, period: str, values: dict[str, float], at: datetime) -> None:
    repo.save_submission(
        session=session,
        records=[repo.RecordToSave(unit, period, values)],
        file_name=f"{unit}_{period}.xlsx",
        sha256=repo.content_sha(values),
        layout="A",
        submitted_by="t",
        submitted_at=at,
    )
    session.commit()


def as_plain(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.astype({k: "str" for k in keys}).sort_values(keys).reset_index(drop=True)
    return out


def test_incremental_refresh_equals_a_full_read(engine, monkeypatch):
    t1 = datetime(2023, 2, 5, tzinfo=UTC)
    t2 = datetime(2023, 3, 20, tzinfo=UTC)
    refreshes = []
    real_refresh = service._refresh
    monkeypatch.setattr(service, "_refresh", lambda *a, **k: refreshes.append(1) or real_refresh(*a, **k))
    service.clear_cache()
    with Session(engine) as s:
        save(s, "jingan", "2023-01", {"trainees": 10, "training_sessions": 1}, t1)
        save(s, "pudong", "2023-01", {"trainees": 30, "training_sessions": 2}, t1)
        first = service.region_values(session=s, region="shanghai")
        assert len(first) == 4 and refreshes == []
        # a correction (jingan 2023-01 revised), a new month, a new unit, and a restore
        save(s, "jingan", "2023-01", {"trainees": 12, "training_sessions": 1}, t2)
        save(s, "jingan", "2023-02", {"trainees": 5, "training_sessions": 1}, t2)
        save(s, "xuhui", "2023-02", {"trainees": 7, "training_sessions": 3}, t2)
        repo.restore_revision(session=s, unit="pudong", period="2023-01", revision_no=1, by="t")
        s.commit()
        save(s, "pudong", "2023-01", {"trainees": 31, "training_sessions": 2}, t2)
        live = service.region_values(session=s, region="shanghai")
        arrivals = service.region_arrivals(session=s, region="shanghai")
        assert refreshes == [1]  # the refresh, not a full read
        full = queries.current_values(session=s, region="shanghai")
        full_arrivals = queries.arrivals(session=s, region="shanghai")
    keys = ["unit", "period", "measure"]
    pd.testing.assert_frame_equal(as_plain(live, keys), as_plain(full, keys))
    pd.testing.assert_frame_equal(
        as_plain(arrivals, ["unit", "period"]), as_plain(full_arrivals, ["unit", "period"])
    )
    got = as_plain(live, keys).set_index(keys)["value"]
    # by hand: jingan 2023-01 corrected to 12; pudong 2023-01 last saved as 31; the rest as saved
    assert got[("jingan", "2023-01", "trainees")] == 12.0
    assert got[("pudong", "2023-01", "trainees")] == 31.0
    assert got[("xuhui", "2023-02", "training_sessions")] == 3.0
    assert len(got) == 8
    # arrivals: the first revision's time stays the first arrival after a correction
    arr = as_plain(arrivals, ["unit", "period"]).set_index(["unit", "period"])["first_received_at"]
    assert arr[("jingan", "2023-01")] == pd.Timestamp(t1) and arr[("xuhui", "2023-02")] == pd.Timestamp(t2)
    assert isinstance(live["unit"].dtype, pd.CategoricalDtype)


def test_views_after_uploads_come_from_the_dense_arrays_and_equal_a_full_read(engine, monkeypatch):
    """The indicator views compute from the region's dense arrays; uploads refresh them (the
    changed months' arrays copied and rewritten) while nobody asks for the long frame, and the
    figures and the frame built afterwards equal a full read's; so after an upload of a month not
    yet on the arrays (it gets its array)."""
    from indicators.engine import DenseValues, compute_indicators

    t1 = datetime(2023, 2, 5, tzinfo=UTC)
    t2 = datetime(2023, 3, 20, tzinfo=UTC)
    rebuilt = []
    real = DenseValues.from_frame
    monkeypatch.setattr(DenseValues, "from_frame", lambda frame: rebuilt.append(1) or real(frame))
    service.clear_cache()
    with Session(engine) as s:
        save(s, "jingan", "2023-01", {"trainees": 10, "training_sessions": 1}, t1)
        save(s, "jingan", "2023-02", {"trainees": 5, "training_sessions": 1}, t1)
        save(s, "pudong", "2023-01", {"trainees": 30, "training_sessions": 2}, t1)
        save(s, "xuhui", "2023-02", {"trainees": 7, "training_sessions": 3}, t1)
        before = service.indicator_table(session=s, region="shanghai", period="2023-02", window="ytd")
        assert rebuilt == [1]
        # two uploads, each followed by a view: the second refresh starts from the first's arrays
        save(s, "jingan", "2023-01", {"trainees": 12, "training_sessions": 1}, t2)
        service.indicator_table(session=s, region="shanghai", period="2023-02", window="ytd")
        save(s, "pudong", "2023-01", {"trainees": 31}, t2)  # training_sessions no longer reported
        after = service.indicator_table(session=s, region="shanghai", period="2023-02", window="ytd")
        save(s, "xuhui", "2023-03", {"trainees": 4}, t2)  # a month not yet on the arrays
        march = service.indicator_table(session=s, region="shanghai", period="2023-03", window="ytd")
        assert rebuilt == [1]  # refreshed three times, never rebuilt from a frame
        dense = service._live_region(s, "shanghai").dense()[0]
        live = service.region_values(session=s, region="shanghai")  # the frame, built now
        full = queries.current_values(session=s, region="shanghai")
        from_full = {
            period: compute_indicators(
                full,
                catalogue=service.default_catalogue(),
                units=service.region_units("shanghai"),
                period=period,
                window="ytd",
                arrivals=queries.arrivals(session=s, region="shanghai"),
                now=datetime.now(UTC),
            )
            for period in ("2023-02", "2023-03")
        }
    trainees = after[after["indicator"] == "trainees"].set_index("unit")["value"]
    # by hand, ytd 2023-02: jingan 12 + 5 (was 10 + 5), pudong 31 (was 30), xuhui 7
    assert trainees["jingan"] == 17.0 and trainees["pudong"] == 31.0 and trainees["xuhui"] == 7.0
    assert before[before["indicator"] == "trainees"].set_index("unit")["value"]["jingan"] == 15.0
    pd.testing.assert_frame_equal(after, from_full["2023-02"])
    pd.testing.assert_frame_equal(march, from_full["2023-03"])
    # by hand, ytd 2023-03 for xuhui: 7 (February) + 4 (March)
    assert march[march["indicator"] == "trainees"].set_index("unit")["value"]["xuhui"] == 11.0
    jan = dense.by_month[dense.months.get_loc("2023-01")]
    sessions = dense.measures.get_loc("training_sessions")
    assert jan[dense.units.get_loc("jingan"), sessions] == 1.0
    assert pd.isna(jan[dense.units.get_loc("pudong"), sessions])  # the new return left it out
    keys = ["unit", "period", "measure"]
    pd.testing.assert_frame_equal(as_plain(live, keys), as_plain(full, keys))
