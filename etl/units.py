"""Recognising a reporting unit in a file (DOMAIN.md "Reporting units").

A unit is known by its code, admin code, Chinese name, short name or English name, after
trimming spaces and folding full-width characters. An unknown label gets the closest units
named in the error, so a typo (静安新区) is fixed in one go.
"""

from __future__ import annotations

import difflib

from etl.cells import cell_text
from foundation.catalogue import Catalogue, Unit, normalise_label
from foundation.i18n import t


def unit_key(raw: object) -> str:
    """The matching key of a cell: admin code 310106 typed as a number reads as '310106'."""
    return normalise_label(cell_text(raw)).lower()


class UnitMatcher:
    """Unit lookup for one catalogue and region, built once per file."""

    def __init__(self, catalogue: Catalogue, region: str | None = None) -> None:
        self.index = catalogue.unit_index(region)
        self.units = [u for u in catalogue.units.values() if not region or u.region == region]

    def match(self, raw: object) -> Unit | None:
        return self.index.get(unit_key(raw))

    def closest(self, raw: object, n: int = 3) -> list[Unit]:
        """Units whose names look most like the label (difflib ratio, containment counts)."""
        key = unit_key(raw)
        if not key:
            return []
        scored: list[tuple[float, int, Unit]] = []
        for order, unit in enumerate(self.units):
            best = 0.0
            for alias in unit.aliases:
                alias_key = normalise_label(alias).lower()
                ratio = difflib.SequenceMatcher(None, key, alias_key).ratio()
                # 静安新区 vs 静安: one name inside the other is a strong hint.
                if alias_key and (alias_key in key or key in alias_key):
                    ratio = max(ratio, 0.8)
                best = max(best, ratio)
            if best >= 0.4:
                scored.append((best, -order, unit))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [unit for _, _, unit in scored[:n]]

    def closest_text(self, raw: object) -> str:
        """'静安区(jingan)、…' or, with nothing close, the full list of valid units."""
        close = self.closest(raw)
        if close:
            return "、".join(describe_unit(u) for u in close)
        return t("etl.no_close_unit", units="、".join(describe_unit(u) for u in self.units))


def describe_unit(unit: Unit) -> str:
    return f"{unit.name_zh}({unit.code})"
