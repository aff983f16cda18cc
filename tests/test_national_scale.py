"""Issue 13, goal 4 (national scale): what was changed for speed gives the same figures.

- the region-wide read through PostgreSQL's binary COPY returns exactly the rows of the query it
  replaces (hand-worked store, SQLite and PostgreSQL);
- a trend computed in one pass (``engine.compute_series``) equals the engine run window by window,
  and hand-computed values;
- a snapshot of the live frames round-trips exactly; a new process starting from one catches up
  with uploads made after it (serves the fresh figure); a snapshot of another history, another
  catalogue, from the future or damaged is ignored (a full read).
Speed itself is measured by ``bench/bench_national.py``, never asserted here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session
from test_indicators_engine import CAT, NOW, UNITS, store_arrivals, store_values
from test_service_live import save

from application import service
from application.snapshots import DirectorySnapshots, Snapshot, decode, encode, snapshot_key
from foundation.catalogue import CITY
from indicators.engine import compute_indicators, compute_series
from store import queries

T1 = datetime(2023, 2, 5, tzinfo=UTC)
T2 = datetime(2023, 3, 20, tzinfo=UTC)


def plain(frame: pd.DataFrame) -> list[tuple]:
    return sorted(
        (str(u), str(p), str(m), float(v))
        for u, p, m, v in zip(frame["unit"], frame["period"], frame["measure"], frame["value"], strict=True)
    )


# --- the region read ---------------------------------------------------------------------------


def test_region_read_returns_the_current_rows_of_the_region(engine) -> None:
    with Session(engine) as s:
        assert plain(queries.current_values(session=s, region="shanghai", categorical=True)) == []
        save(s, "jingan", "2023-01", {"trainees": 10, "training_sessions": 1}, T1)
        save(s, "jingan", "2023-01", {"trainees": 12, "training_sessions": 1}, T2)  # a correction
        save(s, "pudong", "2023-02", {"trainees": 3.5}, T2)
        save(s, "pudong", "2023", {"satisfaction_score": 81.25}, T2)  # an annual value
        save(s, "hefei", "2023-01", {"trainees": 99}, T1)  # another region
        got = queries.current_values(session=s, region="shanghai", categorical=True)
        old_query = queries.current_values(session=s, region="shanghai")  # the plain SELECT
    # by hand: jingan's current revision is the correction; hefei is Anhui's
    expected = [
        ("jingan", "2023-01", "trainees", 12.0),
        ("jingan", "2023-01", "training_sessions", 1.0),
        ("pudong", "2023", "satisfaction_score", 81.25),
        ("pudong", "2023-02", "trainees", 3.5),
    ]
    assert plain(got) == expected
    assert plain(old_query) == expected
    for column in ("unit", "period", "measure"):
        assert isinstance(got[column].dtype, pd.CategoricalDtype)
        assert list(got[column].cat.categories) == sorted(
            {row[("unit", "period", "measure").index(column)] for row in expected}
        )
    assert got["value"].dtype == np.float64


def test_postgresql_copy_reader_equals_the_select(pg_url: str) -> None:
    from store.db import open_engine

    engine = open_engine(pg_url)
    try:
        with Session(engine) as s:
            assert s.connection().dialect.name == "postgresql"
            empty = queries._region_values_copy(s, "shanghai")
            assert list(empty.columns) == ["unit", "period", "measure", "value"] and empty.empty
            save(s, "xuhui", "2023-03", {"trainees": 7, "abnormal_patent_notified": 0.5}, T1)
            save(s, "jingan", "2023-03", {"trainees": 1e15}, T1)  # the largest value a return may hold
            save(s, "jingan", "2023-03", {"trainees": -0.0, "training_sessions": 2}, T2)
            copied = queries._region_values_copy(s, "shanghai")
            selected = queries.current_values(session=s, region="shanghai")
    finally:
        engine.dispose()
    assert (
        plain(copied)
        == plain(selected)
        == [
            ("jingan", "2023-03", "trainees", 0.0),
            ("jingan", "2023-03", "training_sessions", 2.0),
            ("xuhui", "2023-03", "abnormal_patent_notified", 0.5),
            ("xuhui", "2023-03", "trainees", 7.0),
        ]
    )


# --- a trend in one pass -------------------------------------------------------------------------

TREND_MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04"]


def series(window: str, indicators: list[str]) -> pd.DataFrame:
    return compute_series(
        store_values(),
        catalogue=CAT,
        units=UNITS,
        periods=TREND_MONTHS,
        window=window,  # type: ignore[arg-type]
        indicators=indicators,
        arrivals=store_arrivals(),
        now=NOW.to_pydatetime(),
    )


@pytest.mark.parametrize("window", ["month", "quarter", "ytd", "year", "rolling12"])
def test_series_equals_the_engine_window_by_window(window: str) -> None:
    indicators = list(CAT.indicators)
    got = series(window, indicators)
    expected = pd.concat(
        [
            compute_indicators(
                store_values(),
                catalogue=CAT,
                units=UNITS,
                period=month,
                window=window,  # type: ignore[arg-type]
                arrivals=store_arrivals(),
                indicators=indicators,
                now=NOW.to_pydatetime(),
            )[["unit", "indicator", "period", "value", "coverage", "incomplete"]]
            for month in TREND_MONTHS
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_series_hand_computed() -> None:
    got = series("month", ["mediation_success_rate"]).set_index(["unit", "period"])
    # mediation succeeded / accepted, month by month (test_indicators_engine's store):
    # a 9/10, 8/10, 7/10, 8/10; c 2/4, not reported, 1/2, 2/4; city pooled (a+b+c)
    assert got.loc[("a", "2024-01"), "value"] == 0.9
    assert got.loc[("a", "2024-03"), "value"] == 0.7
    assert got.loc[("c", "2024-01"), "value"] == 0.5
    assert np.isnan(got.loc[("c", "2024-02"), "value"])
    assert bool(got.loc[("c", "2024-02"), "incomplete"]) is True
    assert bool(got.loc[("c", "2024-03"), "incomplete"]) is False
    assert got.loc[(CITY, "2024-01"), "value"] == pytest.approx((9 + 3 + 2) / (10 + 5 + 4), rel=1e-15)
    # February: c missing, the city pools a and b only: (8 + 3) / (10 + 5); coverage 2 of 3 units
    assert got.loc[(CITY, "2024-02"), "value"] == pytest.approx(11 / 15, rel=1e-15)
    assert got.loc[(CITY, "2024-02"), "coverage"] == pytest.approx(2 / 3, rel=1e-15)
    timely = series("ytd", ["timeliness_rate"]).set_index(["unit", "period"])["value"]
    # b: Jan on time (02-10 12:00), Feb late (03-11 00:00), Mar and Apr on time → 1/1, 1/2, 2/3, 3/4
    assert [timely[("b", m)] for m in TREND_MONTHS] == [1.0, 0.5, 2 / 3, 0.75]
    # a: every return on time, Mar's at 04-10 23:59:59 included → 1/1 … 4/4
    assert [timely[("a", m)] for m in TREND_MONTHS] == [1.0, 1.0, 1.0, 1.0]


def test_service_series_equals_indicator_tables(engine) -> None:
    service.clear_cache()
    with Session(engine) as s:
        save(s, "jingan", "2023-01", {"mediation_accepted": 4, "mediation_succeeded": 3}, T1)
        save(s, "jingan", "2023-02", {"mediation_accepted": 6, "mediation_succeeded": 6}, T2)
        save(s, "pudong", "2023-02", {"mediation_accepted": 2, "mediation_succeeded": 1}, T2)
        got = service.indicator_series(
            session=s,
            region="shanghai",
            periods=["2023-01", "2023-02"],
            window="ytd",
            indicators=["mediation_success_rate"],
        )
        tables = [
            service.indicator_table(
                session=s, region="shanghai", period=p, window="ytd", indicators=["mediation_success_rate"]
            )
            for p in ("2023-01", "2023-02")
        ]
    expected = pd.concat(tables, ignore_index=True)[
        ["unit", "indicator", "period", "value", "coverage", "incomplete"]
    ]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    by_unit = got.set_index(["unit", "period"])["value"]
    # by hand: jingan ytd Feb (3 + 6) / (4 + 6) = 0.9; pudong 1/2; city (9 + 1) / (10 + 2)
    assert by_unit[("jingan", "2023-02")] == 0.9
    assert by_unit[("pudong", "2023-02")] == 0.5
    assert by_unit[(CITY, "2023-02")] == pytest.approx(10 / 12, rel=1e-15)


# --- snapshots -----------------------------------------------------------------------------------


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    values = pd.DataFrame(
        {
            "unit": pd.Series(["jingan", "pudong", "jingan"], dtype="str").astype("category"),
            "period": pd.Series(["2023-01", "2023-01", "2023"], dtype="str").astype("category"),
            "measure": pd.Series(["trainees", "trainees", "satisfaction_score"], dtype="str").astype(
                "category"
            ),
            "value": [12.0, 3.5, 81.25],
        }
    )
    arrivals = pd.DataFrame(
        {
            "unit": pd.Series(["jingan", "pudong"], dtype="str"),
            "period": pd.Series(["2023-01", "2023-01"], dtype="str"),
            "first_received_at": pd.to_datetime(pd.Series([T1, T2], dtype=object), utc=True),
        }
    )
    return values, arrivals


def test_snapshot_round_trip_is_exact(tmp_path: Path) -> None:
    values, arrivals = frames()
    store = DirectorySnapshots(tmp_path / "snapshots")
    assert store.get("k") is None
    store.set("k", encode(Snapshot(7, "2023-03-20T00:00:00+00:00", "digest", values, arrivals)))
    back = decode(store.get("k") or b"")
    assert back is not None
    assert (back.last_id, back.marker, back.units) == (7, "2023-03-20T00:00:00+00:00", "digest")
    pd.testing.assert_frame_equal(back.values, values, check_exact=True)
    pd.testing.assert_frame_equal(back.arrivals, arrivals, check_exact=True)
    assert decode(b"not a snapshot") is None
    assert [p.name for p in (tmp_path / "snapshots").iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def snapshots(tmp_path: Path):
    store = DirectorySnapshots(tmp_path / "snapshots")
    service.use_snapshots(store)
    service.clear_cache()
    try:
        yield store
    finally:
        service.use_snapshots(None)
        service.clear_cache()


def full_read(s: Session) -> list[tuple]:
    return plain(queries.current_values(session=s, region="shanghai"))


def test_a_new_process_starts_from_the_snapshot_and_serves_what_came_after(
    engine, snapshots, monkeypatch
) -> None:
    reads: list[str] = []
    real_read, real_refresh = queries.current_values, service._refresh
    monkeypatch.setattr(  # counts the reads, each then done for real
        queries,
        "current_values",
        lambda **kw: reads.append("since" if kw.get("since_revision") else "full") or real_read(**kw),
    )
    monkeypatch.setattr(service, "_refresh", lambda *a, **k: reads.append("refresh") or real_refresh(*a, **k))
    with Session(engine) as s:
        save(s, "jingan", "2023-01", {"mediation_accepted": 4, "mediation_succeeded": 3}, T1)
        before = service.indicator_table(session=s, region="shanghai", period="2023-01", window="month")
        assert reads == ["full"]  # the first read, which wrote the snapshot
        key = snapshot_key(service._database_key(s), "shanghai")
        assert snapshots.get(key) is not None
        # an upload after the snapshot, then a new process (nothing in memory)
        save(s, "jingan", "2023-01", {"mediation_accepted": 4, "mediation_succeeded": 1}, T2)
        service.clear_cache()
        reads.clear()
        after = service.indicator_table(session=s, region="shanghai", period="2023-01", window="month")
        assert reads == ["refresh", "since"]  # the snapshot, then only the unit-month revised since
        live = plain(service.region_values(session=s, region="shanghai"))
        assert live == full_read(s)
    rate = "mediation_success_rate"
    assert before.set_index(["indicator", "unit"]).loc[(rate, "jingan"), "value"] == 0.75  # 3 / 4
    assert (
        after.set_index(["indicator", "unit"]).loc[(rate, "jingan"), "value"] == 0.25
    )  # 1 / 4, the fresh figure


@pytest.mark.parametrize("spoil", ["another history", "another catalogue", "from the future", "damaged"])
def test_a_snapshot_that_does_not_belong_is_ignored(engine, snapshots, spoil: str) -> None:
    with Session(engine) as s:
        save(s, "jingan", "2023-01", {"trainees": 10}, T1)
        service.region_values(session=s, region="shanghai")
        key = snapshot_key(service._database_key(s), "shanghai")
        good = decode(snapshots.get(key) or b"")
        assert good is not None and good.last_id == 1
        values, arrivals = frames()  # other figures than the database's
        bad = {
            "another history": Snapshot(1, "1999-01-01T00:00:00+00:00", good.units, values, arrivals),
            "another catalogue": Snapshot(1, good.marker, "0" * 64, values, arrivals),
            "from the future": Snapshot(5, good.marker, good.units, values, arrivals),
        }
        snapshots.set(key, encode(bad[spoil]) if spoil in bad else b"PK\x03\x04 damaged")
        service.clear_cache()
        assert plain(service.region_values(session=s, region="shanghai")) == [
            ("jingan", "2023-01", "trainees", 10.0)
        ]


# --- a server started after an upload --------------------------------------------------------------


def rankings_value(base: str, unit: str) -> float | None:
    """The value of ``unit`` in the rankings grid (mediation success, 2023-01, month), as a leader
    signed in through the real form sees it."""
    import json

    from test_serve import get, signed_in
    from test_web_concurrency import post

    opener, headers = signed_in(base, "leader1")
    deps = json.loads(get(base + "/_dash-dependencies", opener)[1])
    (callback,) = [c for c in deps if c["output"].startswith("..rk-graph.figure")]
    values = {"filter-region": "shanghai", "filter-window": "month", "filter-period": "2023-01"}

    def fill(items: list[dict]) -> list[dict]:
        out = []
        for dep in items:
            ident = json.loads(dep["id"]) if dep["id"].startswith("{") else dep["id"]
            value = values.get(dep["id"], "mediation_success_rate" if '"indicator"' in dep["id"] else None)
            out.append({"id": ident, "property": dep["property"], "value": value})
        return out

    outputs = [
        dict(zip(("id", "property"), p.rsplit(".", 1), strict=True))
        for p in callback["output"].strip(".").split("...")
    ]
    payload = {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": fill(callback["inputs"]),
        "changedPropIds": [],
        "state": fill(callback["state"]),
    }
    status, body = post(opener, headers, base + "/_dash-update-component", payload)
    assert status == 200, body[:500]
    rows = json.loads(body)["response"]["rk-grid"]["rowData"]
    return next(r["value"] for r in rows if r["unit"] == unit)


def serve_with_snapshots(url: str, tmp_path: Path, snapshot_dir: Path):  # noqa: ANN201 - a context manager
    """``ipdash serve --workers 2`` (test_serve's runner) keeping its snapshots in ``snapshot_dir``."""
    from test_serve import running_server

    return running_server(
        url, tmp_path, "--workers", "2", settings={"IPDASH_SNAPSHOT_DIR": str(snapshot_dir)}
    )


def test_a_server_started_after_an_upload_serves_the_fresh_figure(db_url: str, tmp_path: Path) -> None:
    from auth_support import make_accounts

    from store.db import open_engine

    make_accounts(db_url)
    engine = open_engine(db_url)
    snapshot_dir = tmp_path / "snapshots"
    try:
        with Session(engine) as s:
            save(s, "jingan", "2023-01", {"mediation_accepted": 4, "mediation_succeeded": 3}, T1)
        with serve_with_snapshots(db_url, tmp_path, snapshot_dir) as (base, _proc):
            assert rankings_value(base, "jingan") == 0.75  # 3 / 4
        assert len(list(snapshot_dir.glob("*.npz"))) == 1  # the master's warm-up wrote one
        with Session(engine) as s:  # an upload while no server runs: the snapshot is now behind
            save(s, "jingan", "2023-01", {"mediation_accepted": 4, "mediation_succeeded": 1}, T2)
        with serve_with_snapshots(db_url, tmp_path, snapshot_dir) as (base, _proc):
            assert rankings_value(base, "jingan") == 0.25  # 1 / 4: the snapshot, caught up
    finally:
        engine.dispose()
