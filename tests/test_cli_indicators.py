"""``ipdash indicators`` and ``ipdash score`` end to end, on SQLite and PostgreSQL.

Store (filled through the store models): three Shanghai units, ytd ending 2024-03.
- huangpu: Jan..Mar, mediation 10 accepted / 8 succeeded a month → 24/30 = 0.8
- xuhui: Jan..Mar, mediation 5 / 3 a month → 9/15 = 0.6; March's return arrived late (04-12)
- changning: Jan and Mar only, every measure 0 → mediation NA (denominator 0), coverage 2/3
City (pooled): (24 + 9) / (30 + 15) = 33/45. The other 14 districts sent nothing.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from application import service
from foundation.catalogue import default_catalogue
from ipdash.cli import main
from store.models import MeasureValue, Revision, Submission, UnitTarget

CAT = default_catalogue()
COLUMNS = "unit,indicator,value,numerator,denominator,coverage,city_value,meets_benchmark,rank,yoy,pop,small_denominator"


def add_return(session: Session, unit: str, period: str, values: dict[str, float], at: datetime) -> None:
    sub = Submission(
        file_name=f"{unit}-{period}.xlsx",
        sha256=f"{unit}{period}".ljust(64, "0"),
        submitted_by="test",
        submitted_at=at,
        layout="A",
    )
    session.add(sub)
    session.flush()
    rev = Revision(
        unit_code=unit,
        period=period,
        revision_no=1,
        content_sha="0" * 64,
        created_at=at,
        created_by="test",
        submission_id=sub.id,  # type: ignore[arg-type]
    )
    session.add(rev)
    session.flush()
    for measure, value in values.items():
        session.add(MeasureValue(revision_id=rev.id, measure_code=measure, value=value))  # type: ignore[arg-type]


def monthly(default: float, **overrides: float) -> dict[str, float]:
    values = {m.code: default for m in CAT.monthly_measures()}
    values.update(overrides)
    return values


@pytest.fixture
def filled(engine, db_url):
    service.clear_cache()
    with Session(engine) as s:
        for month, arrived in (
            ("2024-01", "2024-02-05"),
            ("2024-02", "2024-03-05"),
            ("2024-03", "2024-04-05"),
        ):
            at = datetime.fromisoformat(arrived).replace(tzinfo=UTC)
            add_return(s, "huangpu", month, monthly(1, mediation_accepted=10, mediation_succeeded=8), at)
            late = datetime(2024, 4, 12, tzinfo=UTC) if month == "2024-03" else at
            add_return(s, "xuhui", month, monthly(1, mediation_accepted=5, mediation_succeeded=3), late)
            if month != "2024-02":
                add_return(s, "changning", month, monthly(0), at)
        add_return(s, "huangpu", "2024", {"satisfaction_score": 80.0}, datetime(2024, 4, 1, tzinfo=UTC))
        add_return(s, "xuhui", "2024", {"satisfaction_score": 84.0}, datetime(2024, 4, 1, tzinfo=UTC))
        s.add(UnitTarget(unit_code="huangpu", year=2024, indicator="aid_workstations", target=2.0))
        s.commit()
    return db_url


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_indicators_csv(filled, capsys):
    code, out, _ = run(capsys, "indicators", "--period", "2024-03", "--format", "csv", "--db", filled)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == COLUMNS
    rows = list(csv.DictReader(io.StringIO(out)))
    # 17 Shanghai units + the city, for each of the 17 indicators
    assert len(rows) == 18 * len(CAT.indicators)
    by = {(r["unit"], r["indicator"]): r for r in rows}
    h = by[("huangpu", "mediation_success_rate")]
    assert (h["value"], h["numerator"], h["denominator"], h["coverage"]) == ("0.8", "24.0", "30.0", "1.0")
    assert float(h["city_value"]) == 33 / 45
    assert (h["meets_benchmark"], h["rank"], h["small_denominator"]) == ("true", "1", "false")
    assert (h["yoy"], h["pop"]) == ("", "0.0")  # no 2023 data; ytd to Feb was 16/20 = 0.8 too
    x = by[("xuhui", "mediation_success_rate")]
    assert (x["value"], x["meets_benchmark"], x["rank"]) == ("0.6", "false", "2")
    c = by[("changning", "mediation_success_rate")]
    # denominator 0 → NA: empty; not ranked; coverage 2 of 3 months
    assert (c["value"], c["denominator"], c["rank"], c["meets_benchmark"]) == ("", "0.0", "", "")
    assert float(c["coverage"]) == 2 / 3
    city = by[("city", "mediation_success_rate")]
    assert (city["numerator"], city["denominator"], city["rank"]) == ("33.0", "45.0", "")
    # timeliness: xuhui's March return arrived 04-12 → 2 of 3 on time
    t = by[("xuhui", "timeliness_rate")]
    assert (t["numerator"], t["denominator"], t["small_denominator"]) == ("2.0", "3.0", "true")
    # satisfaction: a score, city = mean (80 + 84) / 2
    assert by[("city", "satisfaction_score")]["value"] == "82.0"


def test_indicators_json_and_table(filled, capsys):
    code, out, _ = run(
        capsys, "indicators", "--period", "2024-03", "--window", "ytd", "--format", "json", "--db", filled
    )
    assert code == 0
    rows = json.loads(out)
    assert list(rows[0]) == COLUMNS.split(",")
    by = {(r["unit"], r["indicator"]): r for r in rows}
    c = by[("changning", "mediation_success_rate")]
    assert c["value"] is None and c["rank"] is None and c["meets_benchmark"] is None
    h = by[("huangpu", "mediation_success_rate")]
    assert h["value"] == 0.8 and h["rank"] == 1 and h["meets_benchmark"] is True
    assert h["small_denominator"] is False

    code, out, _ = run(capsys, "indicators", "--period", "2024-03", "--db", filled)
    assert code == 0
    assert "调解成功率" in out and "80.0%" in out and "—" in out and "全市" in out and "黄浦" in out
    # the same forms as the dashboard and the workbook (application/display.py): a score with two
    # decimals and its unit (黄浦 80 → "80.00分", as on screen), a rate's change in 个百分点
    # (黄浦 ytd to Feb 16/20 = ytd to Mar 24/30 = 80% → 环比 "0.0个百分点"), never "pp"
    huangpu_rows = [line for line in out.splitlines() if line.startswith("黄浦")]
    assert any("80.00分" in line for line in huangpu_rows)
    assert any("80.0%" in line and "0.0个百分点" in line for line in huangpu_rows)
    assert "pp" not in out


def test_indicators_month_window(filled, capsys):
    code, out, _ = run(
        capsys, "indicators", "--period", "2024-02", "--window", "month", "--format", "csv", "--db", filled
    )
    assert code == 0
    by = {(r["unit"], r["indicator"]): r for r in csv.DictReader(io.StringIO(out))}
    # February alone: huangpu 8/10; changning did not report: NA, coverage 0
    assert by[("huangpu", "mediation_success_rate")]["value"] == "0.8"
    assert by[("changning", "mediation_success_rate")]["coverage"] == "0.0"


def test_score_json(filled, capsys):
    code, out, _ = run(capsys, "score", "--period", "2024-03", "--format", "json", "--db", filled)
    assert code == 0
    rows = json.loads(out)
    assert len(rows) == 17
    assert all(set(r) == {"unit", "composite", "rank", "indicators"} for r in rows)
    scheme_codes = [line.split(",")[0] for line in CAT_SCHEME_LINES()]
    for r in rows:
        assert list(r["indicators"]) == scheme_codes
        assert all(set(v) == {"value", "score", "weight"} for v in r["indicators"].values())
        if r["composite"] is not None:
            assert 0 <= r["composite"] <= 100
            assert sum(v["weight"] for v in r["indicators"].values()) == pytest.approx(100)
        for v in r["indicators"].values():
            if v["score"] is None:
                assert v["weight"] == 0
    ranked = [r["rank"] for r in rows if r["rank"] is not None]
    assert ranked == sorted(ranked) and ranked[0] == 1
    h = next(r for r in rows if r["unit"] == "huangpu")
    # huangpu's workstation target is 2 and it has 1: min(1/2, 1)·100 = 50
    assert h["indicators"]["aid_workstations"]["score"] == pytest.approx(50)
    assert h["indicators"]["mediation_success_rate"]["value"] == 0.8


def CAT_SCHEME_LINES() -> list[str]:  # noqa: N802 - reads like the file it names
    from foundation.catalogue import default_scheme_path

    return default_scheme_path().read_text(encoding="utf-8").splitlines()[1:]


def test_score_csv_and_table(filled, capsys):
    code, out, _ = run(capsys, "score", "--period", "2024-03", "--format", "csv", "--db", filled)
    assert code == 0
    assert out.splitlines()[0] == "unit,composite,rank,indicator,value,method,score,weight"
    assert len(out.splitlines()) == 1 + 17 * 9
    code, out, _ = run(capsys, "score", "--period", "2024-03", "--db", filled)
    assert code == 0 and "综合得分" in out and "scheme_default" in out


def test_score_with_a_broken_scheme_names_the_problems(filled, capsys, tmp_path):
    scheme = tmp_path / "bad.csv"
    scheme.write_text(
        "indicator,weight,method,target,floor,ceiling,bands\nnope,50,target,1,,,\ndisclosure_rate,40,magic,,,,\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "score", "--period", "2024-03", "--scheme", str(scheme), "--db", filled)
    assert code == 1 and out == ""
    assert "未知指标 nope" in err and "magic" in err and "权重之和应为 100" in err


def test_service_cache_sees_new_data(filled, engine):
    with Session(engine) as s:
        first = service.indicator_table(session=s, region="shanghai", period="2024-03", window="ytd")
        again = service.indicator_table(session=s, region="shanghai", period="2024-03", window="ytd")
    assert first.equals(again)
    with Session(engine) as s:
        add_return(s, "jingan", "2024-03", monthly(2), datetime(2024, 4, 2, tzinfo=UTC))
        s.commit()
    with Session(engine) as s:
        fresh = service.indicator_table(session=s, region="shanghai", period="2024-03", window="ytd")
    jingan = fresh[(fresh["unit"] == "jingan") & (fresh["indicator"] == "mediation_success_rate")]
    assert jingan["value"].iloc[0] == 1.0  # 2/2: the new revision is seen, not the cached table
