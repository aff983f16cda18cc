"""Plausibility warnings across periods (DOMAIN.md "Validation", warnings).

A file is judged together with what is already stored: the lead's loader passes the current
values of the same units for the same years and the month before the earliest. The file's own
records replace stored ones for the same unit and month (they would become current).

Rules, each a warning only (the file is accepted):
- closed above what could have been open: adjudication_closed > previous month's
  adjudication_pending + this month's adjudication_accepted (same for enforcement); only when the
  previous month is known;
- year to date (January .. the month, the months known): withdrawn above notified, succeeded
  above accepted, disclosed above closed (adjudication + enforcement), leads handled above leads,
  complaints closed above received. A year-to-date excess is reported at the first month of the
  file where it appears (and again only if it disappears and comes back), not at every later
  month of a ledger;
- a stock moving by more than ``stock_jump_ratio`` (50%) against the previous month. Only when
  the previous month is known and above 0: from 0 there is no ratio, and the first workstation
  of a district is news, not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

from etl.cells import cell_text, previous_month
from etl.issues import warning
from etl.records import Issue, ParsedFile, Reason
from etl.units import describe_unit
from foundation.calendar import months_of_year_to
from foundation.catalogue import Catalogue

if TYPE_CHECKING:
    import pandas as pd
Values = Mapping[str, float]

# closed, pending (stock at month end), inflow of the month
_OPEN_RULES = (
    ("adjudication_closed", "adjudication_pending", "adjudication_accepted"),
    ("enforcement_closed", "enforcement_pending", "enforcement_filed"),
)


@dataclass(frozen=True)
class _YtdRule:
    part: str
    whole: tuple[str, ...]
    reason: Reason


_YTD_RULES = (
    _YtdRule("abnormal_patent_withdrawn", ("abnormal_patent_notified",), Reason.WITHDRAWN_ABOVE_NOTIFIED),
    _YtdRule("mediation_succeeded", ("mediation_accepted",), Reason.SUCCEEDED_ABOVE_ACCEPTED),
    _YtdRule(
        "closed_cases_disclosed", ("adjudication_closed", "enforcement_closed"), Reason.DISCLOSED_ABOVE_CLOSED
    ),
    # Not named in the spec; the same kind of slip, so the same kind of warning.
    _YtdRule("malicious_tm_leads_handled", ("malicious_tm_leads",), Reason.CLOSED_ABOVE_OPEN),
    _YtdRule("complaints_closed", ("complaints_received",), Reason.CLOSED_ABOVE_OPEN),
)


History: TypeAlias = "pd.DataFrame | Mapping[tuple[str, str], Mapping[str, float]]"


def cross_period_warnings(
    parsed: ParsedFile, history: History, *, catalogue: Catalogue, stock_jump_ratio: float = 0.5
) -> list[Issue]:
    """Warnings for the file's monthly records, judged with ``history``: a DataFrame (unit, period,
    measure, value) or, from a batch loader's cache, a mapping (unit, period) → {measure: value}."""
    known = _combine(parsed, history)
    own = sorted({(r.unit, r.period) for r in parsed.records if len(r.period) == 7})
    cells = {(r.unit, r.period): r.cells for r in parsed.records}
    ratio = stock_jump_ratio
    stocks = [m.code for m in catalogue.measures.values() if m.kind == "stock"]
    issues: list[Issue] = []
    ytd_state: dict[tuple[str, str, str], bool] = {}  # (unit, year, rule part) → excess last seen

    def emit(reason: Reason, key: str, unit: str, period: str, measure: str, **fields: object) -> None:
        sheet, cell = cells.get((unit, period), {}).get(measure, ("", ""))
        unit_obj = catalogue.units.get(unit)
        issues.append(
            warning(
                reason,
                key,
                file=parsed.file,
                sheet=sheet,
                cell=cell,
                measure=catalogue.measures.get(measure),
                unit=unit,
                period=period,
                unit_name=describe_unit(unit_obj) if unit_obj else unit,
                **fields,
            )
        )

    for unit, period in own:
        this = known.get((unit, period), {})
        prev_period = previous_month(period)
        prev = known.get((unit, prev_period))

        if prev is not None:
            for closed, pending, inflow in _OPEN_RULES:
                if closed in this and pending in prev and inflow in this:
                    could = prev[pending] + this[inflow]
                    if this[closed] > could + 1e-9:
                        emit(
                            Reason.CLOSED_ABOVE_OPEN,
                            "etl.check.closed_above_open",
                            unit,
                            period,
                            closed,
                            value=_num(this[closed]),
                            prev_period=prev_period,
                            pending=pending,
                            pending_value=_num(prev[pending]),
                            inflow=inflow,
                            inflow_value=_num(this[inflow]),
                            could=_num(could),
                        )
            for stock in stocks:
                if stock in this and stock in prev and prev[stock] > 0:
                    change = (this[stock] - prev[stock]) / prev[stock]
                    if abs(change) > ratio + 1e-9:
                        emit(
                            Reason.STOCK_JUMP,
                            "etl.check.stock_jump",
                            unit,
                            period,
                            stock,
                            value=_num(this[stock]),
                            prev_period=prev_period,
                            prev_value=_num(prev[stock]),
                            change=f"{change:+.0%}",
                            limit=f"{ratio:.0%}",
                        )

        year = period[:4]
        months = months_of_year_to(period)
        for rule in _YTD_RULES:
            part_sum, whole_sum, used = 0.0, 0.0, 0
            for month in months:
                values = known.get((unit, month))
                if values is None or rule.part not in values or any(w not in values for w in rule.whole):
                    continue
                part_sum += values[rule.part]
                whole_sum += sum(values[w] for w in rule.whole)
                used += 1
            excess = used > 0 and part_sum > whole_sum + 1e-9
            state_key = (unit, year, rule.part)
            if excess and not ytd_state.get(state_key, False):
                emit(
                    rule.reason,
                    "etl.check.ytd_above",
                    unit,
                    period,
                    rule.part,
                    value=_num(part_sum),
                    part=rule.part,
                    whole="+".join(rule.whole),
                    whole_value=_num(whole_sum),
                    first=months[0],
                    months=used,
                )
            ytd_state[state_key] = excess
    return issues


def _combine(parsed: ParsedFile, history: History) -> dict[tuple[str, str], dict[str, float]]:
    """(unit, period) → {measure: value}; the file's records replace stored unit-months whole."""
    own = {(r.unit, r.period) for r in parsed.records}
    known: dict[tuple[str, str], dict[str, float]] = {}
    if isinstance(history, Mapping):
        known = {key: dict(vals) for key, vals in history.items() if key not in own}
    elif history is not None and not history.empty:
        frame = history.loc[:, ["unit", "period", "measure", "value"]].dropna(subset=["value"])
        for unit, period, measure, value in frame.itertuples(index=False, name=None):
            key = (str(unit), str(period))
            if key in own:
                continue
            known.setdefault(key, {})[str(measure)] = float(value)
    for record in parsed.records:
        known[(record.unit, record.period)] = dict(record.values)
    return known


def _num(value: float) -> str:
    return cell_text(round(value, 2))


def rule_measures() -> set[str]:
    """Every measure the rules read (a test checks they are all in the catalogue)."""
    found = {m for rule in _OPEN_RULES for m in rule}
    return found | {m for rule in _YTD_RULES for m in (rule.part, *rule.whole)}
