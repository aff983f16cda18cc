"""Mirror the catalogue registry's units and measures into the store, so foreign keys hold."""

from __future__ import annotations

from sqlmodel import Session, select

from foundation.catalogue import Catalogue, default_catalogue
from store.models import Measure, Unit


def sync_catalogue(*, session: Session, catalogue: Catalogue | None = None) -> None:
    cat = catalogue or default_catalogue()
    have_units = {u.code: u for u in session.exec(select(Unit)).all()}
    for u in cat.units.values():
        row = have_units.get(u.code) or Unit(
            code=u.code, name_zh="", short_zh="", name_en="", kind="", region=""
        )
        row.admin_code, row.name_zh, row.short_zh = u.admin_code, u.name_zh, u.short_zh
        row.name_en, row.kind, row.region = u.name_en, u.kind, u.region
        session.add(row)
    have_measures = {m.code: m for m in session.exec(select(Measure)).all()}
    for m in cat.measures.values():
        mrow = have_measures.get(m.code) or Measure(
            code=m.code, name_zh="", name_en="", category="", kind="", unit="", dtype=""
        )
        mrow.name_zh, mrow.name_en, mrow.category = m.name_zh, m.name_en, m.category
        mrow.kind, mrow.unit, mrow.dtype, mrow.max = m.kind, m.unit, m.dtype, m.max
        session.add(mrow)
