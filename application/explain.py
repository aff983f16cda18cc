"""Why did a unit's rank move: this window against the previous comparable one (the 环比 window).

The scores of both windows come from ``service.score_table`` (the figures ``ipdash score`` shows);
the split is ``indicators.explain.explain_change``. ``ipdash explain``, the unit page and the 通报
all ask here and word it with ``explanation_lines`` / ``explanation_sentence``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from application.display import format_score
from foundation.calendar import Window, previous_window_end
from foundation.catalogue import Catalogue, default_catalogue
from foundation.i18n import t
from foundation.settings import BUILT_IN, Settings
from indicators.explain import Explanation, explain_change, rounded_contributions
from indicators.scoring import Scheme, ScoreResult


def previous_period(period: str, window: Window) -> str | None:
    """End month of the window a rank change is measured against (环比); None when there is none."""
    return previous_window_end(period, window)


def explain_from_scores(now: ScoreResult, before: ScoreResult, unit: str) -> Explanation:
    return explain_change(now, before, unit)


def rank_explanation(
    *,
    session: Session,
    region: str,
    unit: str,
    period: str,
    window: Window,
    scheme: Scheme | None = None,
    as_of: datetime | None = None,
    catalogue: Catalogue | None = None,
    settings: Settings = BUILT_IN,
) -> Explanation | None:
    """The explanation of ``unit``'s change from the previous window to ``period``'s; None when the
    window has no previous one (ytd in January). KeyError for a unit not in ``region``."""
    from application import service

    previous = previous_window_end(period, window)
    if previous is None:
        return None
    common: dict[str, Any] = dict(
        session=session,
        region=region,
        window=window,
        scheme=scheme,
        as_of=as_of,
        catalogue=catalogue,
        settings=settings,
    )
    now = service.score_table(period=period, **common)
    before = service.score_table(period=previous, **common)
    return explain_change(now, before, unit)


# --- words ------------------------------------------------------------------------------------------


def _name(code: str, catalogue: Catalogue) -> str:
    unit = catalogue.units.get(code)
    return unit.short_zh or unit.name_zh if unit else code


def _signed(value: float) -> str:
    text = f"{value:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def move_text(explanation: Explanation) -> str:
    change = explanation.rank_change
    if change is None:
        return t("explain.rank_na")
    if change > 0:
        return t("explain.move.up", n=change)
    if change < 0:
        return t("explain.move.down", n=-change)
    return t("explain.move.same")


def explanation_records(explanation: Explanation, *, period: str, previous: str) -> dict[str, Any]:
    """The machine form (``ipdash explain --format json``): full precision, None for NA."""
    return {
        "unit": explanation.unit,
        "period": period,
        "previous_period": previous,
        "composite_before": explanation.composite_before,
        "composite_now": explanation.composite_now,
        "change": explanation.change,
        "rank_before": explanation.rank_before,
        "rank_now": explanation.rank_now,
        "rank_change": explanation.rank_change,
        "contributions": [
            {
                "indicator": c.indicator,
                "score_before": c.score_before,
                "score_now": c.score_now,
                "weight_before": c.weight_before,
                "weight_now": c.weight_now,
                "contribution": c.contribution,
                "score_part": c.score_part,
                "weight_part": c.weight_part,
            }
            for c in explanation.contributions
        ],
        "overtook_it": explanation.overtook_it,
        "overtaken": explanation.overtaken,
    }


def contribution_rows(explanation: Explanation, catalogue: Catalogue | None = None) -> list[list[str]]:
    """Display rows (indicator, scores, weights, contribution and its parts), largest first; the
    contributions are rounded so that they add up to the shown change."""
    cat = catalogue or default_catalogue()
    shown: dict[str, float] = {}
    if explanation.composite_now is not None and explanation.composite_before is not None:
        shown, _ = rounded_contributions(explanation)
    rows = []
    for c in explanation.contributions:
        # the score part shown is what remains of the shown contribution after the weight part
        # shown, so every row adds up too
        weight_part = round(c.weight_part, 2)
        score_part = shown.get(c.indicator, c.contribution) - weight_part if shown else c.score_part
        rows.append(
            [
                cat.indicators[c.indicator].name_zh,
                format_score(c.score_before),
                format_score(c.score_now),
                format_score(c.weight_before),
                format_score(c.weight_now),
                _signed(shown.get(c.indicator, c.contribution)),
                _signed(score_part),
                _signed(weight_part),
            ]
        )
    return rows


def contribution_header() -> list[str]:
    return [
        t(f"explain.col.{k}")
        for k in (
            "indicator",
            "score_before",
            "score_now",
            "weight_before",
            "weight_now",
            "contribution",
            "score_part",
            "weight_part",
        )
    ]


def summary_line(explanation: Explanation) -> str:
    shown_change = (
        _signed(rounded_contributions(explanation)[1])
        if explanation.composite_now is not None and explanation.composite_before is not None
        else t("na")
    )
    return t(
        "explain.summary",
        before=format_score(explanation.composite_before),
        now=format_score(explanation.composite_now),
        change=shown_change,
        rank_before=explanation.rank_before if explanation.rank_before is not None else t("explain.rank_na"),
        rank_now=explanation.rank_now if explanation.rank_now is not None else t("explain.rank_na"),
        move=move_text(explanation),
    )


def overtaking_lines(explanation: Explanation, catalogue: Catalogue | None = None) -> list[str]:
    cat = catalogue or default_catalogue()

    def names(codes: list[str]) -> str:
        return "、".join(_name(c, cat) for c in codes) or t("explain.nobody")

    return [
        t("explain.overtook_it", units=names(explanation.overtook_it)),
        t("explain.overtaken", units=names(explanation.overtaken)),
    ]


def explanation_sentence(explanation: Explanation, catalogue: Catalogue | None = None, top: int = 2) -> str:
    """One sentence for the 通报: the change, the move, and the largest contributions in the
    direction of the composite's change (when the rank moved the other way than the score, the
    sentence says the others moved more)."""
    cat = catalogue or default_catalogue()
    shown, change = rounded_contributions(explanation)
    rank_up = (explanation.rank_change or 0) > 0
    sign = 1 if change > 0 else -1 if change < 0 else 0
    moving = [c for c in explanation.contributions if shown[c.indicator] * sign > 0][:top]
    reasons = "、".join(
        t(
            "explain.sentence_reason",
            indicator=cat.indicators[c.indicator].name_zh,
            effect=_signed(shown[c.indicator]),
        )
        for c in moving
    )
    if sign == 0:
        why = t("explain.sentence_why_none")
    elif (sign > 0) == rank_up:
        why = t("explain.sentence_why", reasons=reasons)
    else:
        why = t("explain.sentence_why_others", reasons=reasons)
    sentence = t(
        "explain.sentence",
        unit=_name(explanation.unit, cat),
        score=format_score(explanation.composite_now),
        change=_signed(change),
        rank_before=explanation.rank_before,
        rank_now=explanation.rank_now,
        move_verb=t("explain.move_verb.up" if rank_up else "explain.move_verb.down"),
        why=why,
    )
    extra = []
    if explanation.overtook_it:
        extra.append(
            t("explain.sentence_overtook_it", units="、".join(_name(c, cat) for c in explanation.overtook_it))
        )
    if explanation.overtaken:
        extra.append(
            t("explain.sentence_overtaken", units="、".join(_name(c, cat) for c in explanation.overtaken))
        )
    return sentence + ("，".join(extra) + "。" if extra else "")
