"""Building ``Issue`` records with their Chinese message from one place.

Every message starts with where the problem is (file, sheet, cell) and, for a cell, which
measure it holds; the template in ``foundation/i18n/zh_CN/etl.py`` says what was found and expected.
"""

from __future__ import annotations

from etl.records import Issue, Reason, Severity
from foundation.catalogue import Measure
from foundation.i18n import t


def where_text(file: str, sheet: str = "", cell: str = "") -> str:
    if sheet and cell:
        return t("etl.where.cell", file=file, sheet=sheet, cell=cell)
    if sheet:
        return t("etl.where.sheet", file=file, sheet=sheet)
    return t("etl.where.file", file=file)


def measure_text(measure: Measure | None) -> str:
    return t("etl.where.measure", code=measure.code, name=measure.name_zh) if measure else ""


def make_issue(
    severity: Severity,
    reason: Reason,
    key: str,
    *,
    file: str,
    sheet: str = "",
    cell: str = "",
    measure: Measure | None = None,
    value: str = "",
    unit: str = "",
    period: str = "",
    **fields: object,
) -> Issue:
    message = t(
        key,
        where=where_text(file, sheet, cell),
        measure=measure_text(measure),
        value=value,
        unit=unit,
        period=period,
        **fields,
    )
    return Issue(
        severity=severity,
        reason=reason,
        message=message,
        file=file,
        sheet=sheet,
        cell=cell,
        measure=measure.code if measure else "",
        value=value,
        unit=unit,
        period=period,
    )


def error(reason: Reason, key: str, **kwargs: object) -> Issue:
    return make_issue("error", reason, key, **kwargs)  # type: ignore[arg-type]


def warning(reason: Reason, key: str, **kwargs: object) -> Issue:
    return make_issue("warning", reason, key, **kwargs)  # type: ignore[arg-type]


def size_text(n: int) -> str:
    """Bytes as people say them: 10 MB, 512 KB."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"
