"""The schema is built by the Alembic migrations and the catalogue is mirrored into it."""

from sqlalchemy import inspect
from sqlmodel import Session, select

from store.db import current_revision, head_revision
from store.models import Measure, Unit


def test_migrations_reach_head_and_sync_catalogue(engine):
    assert current_revision(engine) == head_revision(engine) == "0004"
    tables = set(inspect(engine).get_table_names())
    assert {
        "unit",
        "measure",
        "submission",
        "revision",
        "measure_value",
        "unit_target",
        "period_lock",
        "task_version",
        "task_evidence",
    } <= tables
    with Session(engine) as s:
        units = s.exec(select(Unit)).all()
        # 17 Shanghai units + 16 Anhui cities (units_*.csv)
        assert len(units) == 33
        assert sum(u.region == "shanghai" for u in units) == 17
        assert len(s.exec(select(Measure)).all()) == 35
