"""The 通报 (briefing document that goes to every district): a Word file built by rule.

Every figure comes from the same place as the assessment workbook: ``collect_assessment`` (which
asks ``service.indicator_table`` / ``service.score_table``, the figures ``ipdash indicators`` /
``ipdash score`` print), the submission tracker (``service.submission_status``, what ``ipdash
status`` prints) and ``application.explain`` for the units whose rank moved by 3 or more places.
Numbers read as on every other face (``application.display``).

Sections: title with a placeholder line for the document number, 一、报送情况, 二、主要指标,
三、综合排名 (table with the change of rank against the previous comparable window, the
explanation of units that moved ≥ 3 places, a chart), 四、各项指标 (first and last three units,
units below the benchmark; a chart for each scored indicator), 五、任务督办 (overdue and due-soon
plan tasks by lead owner, from the task ledger as known at the cut-off), 六、口径说明.

Print: A4 with the margins of GB/T 9704 (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm); the
body in a 仿宋-style font, headings in a 黑体-style one: the first of each list installed on this
machine (FangSong/仿宋 … else Noto Serif CJK SC; SimHei/黑体 … else Noto Sans CJK SC), named as
the East Asian font so Word and LibreOffice substitute their own when it is missing there; page
numbers (a PAGE field) in the footer; table rows never break across pages (``cantSplit``) and
header rows repeat (``tblHeader``). Charts are PNGs drawn here by matplotlib (Agg, offline) with
the same CJK font.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from sqlmodel import Session

from application.assessment import (
    AssessmentData,
    collect_assessment,
    format_as_of,
    formula_text,
    method_text,
)
from application.display import (
    benchmark_label,
    distinct_values,
    format_change,
    format_score,
    format_value,
    is_na,
)
from application.explain import explanation_sentence
from foundation.calendar import Window, local_minutes, previous_window_end, window_months
from foundation.catalogue import CITY, Catalogue, Indicator, default_catalogue
from foundation.i18n import t
from foundation.settings import BUILT_IN, Settings
from indicators.explain import Explanation, explain_change
from indicators.scoring import Scheme, ScoreResult

MOVE_THRESHOLD = 3  # units whose rank moved by this many places or more are explained
BODY_FONTS = ("FangSong", "仿宋", "FangSong_GB2312", "仿宋_GB2312", "Noto Serif CJK SC", "Noto Sans CJK SC")
HEADING_FONTS = ("SimHei", "黑体", "Noto Sans CJK SC", "Noto Serif CJK SC")
CHART_FONTS = ("Noto Sans CJK SC", "SimHei", "WenQuanYi Zen Hei", "Noto Serif CJK SC")


@lru_cache(maxsize=1)
def installed_fonts() -> frozenset[str]:
    from matplotlib import font_manager

    return frozenset(f.name for f in font_manager.fontManager.ttflist)


def pick_font(preferred: Sequence[str], installed: frozenset[str] | None = None) -> str:
    """The first of ``preferred`` installed here; the last one (named anyway) when none is."""
    have = installed if installed is not None else installed_fonts()
    return next((name for name in preferred if name in have), preferred[-1])


@dataclass
class BriefingData:
    assessment: AssessmentData  # indicators and scores: the workbook's figures
    previous: str | None  # end month of the previous comparable window
    previous_scores: ScoreResult | None
    tracker: pd.DataFrame  # service.submission_status for the window's months up to the period
    explanations: dict[str, Explanation] = field(default_factory=dict)  # units moved ≥ 3 places
    tasks: list[Any] = field(default_factory=list)  # application.tasks.TaskStatus as of the cut-off
    tasks_on: date | None = None  # the day (local) the task states are taken on

    @property
    def catalogue(self) -> Catalogue:
        return self.assessment.catalogue


def collect_briefing(
    *,
    session: Session,
    region: str,
    period: str,
    window: Window = "ytd",
    scheme: Scheme | None = None,
    as_of: datetime | None = None,
    generated_by: str | None = None,
    catalogue: Catalogue | None = None,
    now: datetime | None = None,
    settings: Settings = BUILT_IN,
) -> BriefingData:
    from application import service

    cat = catalogue or default_catalogue()
    data = collect_assessment(
        session=session,
        region=region,
        period=period,
        window=window,
        scheme=scheme,
        as_of=as_of,
        generated_by=generated_by,
        catalogue=cat,
        now=now,
        settings=settings,
    )
    previous = previous_window_end(period, window)
    previous_scores = None
    explanations: dict[str, Explanation] = {}
    if previous is not None:
        previous_scores = service.score_table(
            session=session,
            region=region,
            period=previous,
            window=window,
            scheme=data.scheme,
            as_of=data.as_of,
            settings=settings,
        )
        for unit in data.scores.composite["unit"]:
            e = explain_change(data.scores, previous_scores, str(unit))
            if e.rank_change is not None and abs(e.rank_change) >= MOVE_THRESHOLD:
                explanations[str(unit)] = e
    months = [m for m in window_months(period, window) if m <= period]
    tracker, _, _ = service.submission_status(
        session=session,
        region=region,
        months=months,
        now=data.as_of,
        as_of=data.as_of,
        catalogue=cat,
        settings=settings,
    )
    from application.tasks import task_statuses

    tasks_on = pd.Timestamp(data.as_of).tz_convert(data.tz).date()
    tasks = task_statuses(
        session=session, as_of=tasks_on, region=region, catalogue=cat, tz=data.tz, known_by=data.as_of
    )
    return BriefingData(
        assessment=data,
        previous=previous,
        previous_scores=previous_scores,
        tracker=tracker,
        explanations=explanations,
        tasks=tasks,
        tasks_on=tasks_on,
    )


# --- words ------------------------------------------------------------------------------------------


def period_range(period: str, window: Window) -> str:
    """2023年1—12月, 2023年6月, or 2022年7月—2023年6月 (a window across years)."""
    months = window_months(period, window)
    first, last = months[0], months[-1]
    if first == last:
        return t("briefing.range_month", year=int(last[:4]), month=int(last[5:]))
    if first[:4] == last[:4]:
        return t("briefing.range_months", year=int(last[:4]), first=int(first[5:]), last=int(last[5:]))
    return f"{int(first[:4])}年{int(first[5:])}月—{int(last[:4])}年{int(last[5:])}月"


def area_word(region: str) -> str:
    return t(f"briefing.area.{'province' if region == 'anhui' else 'city'}")


def change_words(change: Any, ind: Indicator, label: str) -> str:
    """同比提高3.2个百分点 / 环比缩短1.5天 / 同比增加5.1%: direction words by the indicator's kind."""
    if is_na(change):
        return t("briefing.change.na", label=label)
    amount = format_change(abs(float(change)), ind).lstrip("+")
    if amount.startswith("0") and not any(ch in "123456789" for ch in amount):
        return t("briefing.change.flat", label=label)
    up = float(change) > 0
    if ind.kind == "days":
        verb = "longer" if up else "shorter"
    elif ind.kind == "level":
        verb = "more" if up else "fewer"
    else:
        verb = "up" if up else "down"
    return t("briefing.change.text", label=label, verb=t(f"briefing.verb.{verb}"), amount=amount)


def unit_name(code: str, catalogue: Catalogue) -> str:
    if code == CITY:
        return t("unit.city")
    unit = catalogue.units.get(code)
    return unit.name_zh if unit else code


def ranked_units(frame: pd.DataFrame, indicator: str, units_order: Sequence[str]) -> list[tuple[str, float]]:
    """Units with a value of ``indicator`` in rank order (the engine's direction-aware rank; ties in
    catalogue order), as ``ipdash indicators`` ranks them."""
    rows = frame[(frame["indicator"] == indicator) & (frame["unit"] != CITY) & frame["rank"].notna()]
    position = {u: i for i, u in enumerate(units_order)}
    rows = rows.assign(_pos=rows["unit"].map(position)).sort_values(["rank", "_pos"], kind="stable")
    return list(zip(rows["unit"].astype(str), rows["value"].astype(float), strict=True))


def top_bottom(
    frame: pd.DataFrame, indicator: str, units_order: Sequence[str], n: int = 3
) -> tuple[list, list]:
    """(first n, last n) of ``ranked_units``: the last listed worst first."""
    ranked = ranked_units(frame, indicator, units_order)
    return ranked[:n], list(reversed(ranked[-n:])) if len(ranked) > n else list(reversed(ranked[n:]))


def below_benchmark(
    frame: pd.DataFrame, indicator: str, units_order: Sequence[str]
) -> list[tuple[str, float]]:
    """Units whose value does not meet the benchmark (``meets_benchmark`` False), worst first."""
    ranked = ranked_units(frame, indicator, units_order)
    rows = frame[(frame["indicator"] == indicator) & (frame["unit"] != CITY)].set_index("unit")
    misses = {u for u, m in rows["meets_benchmark"].items() if not is_na(m) and not bool(m)}
    return [item for item in reversed(ranked) if item[0] in misses]


def rank_changes(now: ScoreResult, before: ScoreResult | None) -> dict[str, int | None]:
    """Places gained since the previous window per unit (None: no rank in one of them)."""
    if before is None:
        return {str(u): None for u in now.composite["unit"]}
    previous = {str(u): r for u, r in zip(before.composite["unit"], before.composite["rank"], strict=True)}
    out: dict[str, int | None] = {}
    for unit, rank in zip(now.composite["unit"], now.composite["rank"], strict=True):
        old = previous.get(str(unit))
        out[str(unit)] = None if is_na(rank) or is_na(old) else int(old) - int(rank)  # type: ignore[arg-type]
    return out


def rank_change_text(change: int | None, has_rank: bool) -> str:
    if not has_rank:
        return t("briefing.s3.none")
    if change is None:
        return t("briefing.s3.new")
    if change > 0:
        return t("briefing.s3.up", n=change)
    if change < 0:
        return t("briefing.s3.down", n=-change)
    return t("briefing.s3.same")


# --- the document -------------------------------------------------------------------------------------


class _Doc:
    """python-docx with the 通报's fonts, A4 page and the table/field helpers."""

    def __init__(self) -> None:
        self.doc = Document()
        self.body_font = pick_font(BODY_FONTS)
        self.heading_font = pick_font(HEADING_FONTS)
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.footer_distance = Mm(20)
        normal = self.doc.styles["Normal"]
        normal.font.size = Pt(14)
        self._fonts(normal.element.get_or_add_rPr(), self.body_font)
        normal.paragraph_format.line_spacing = Pt(26)
        normal.paragraph_format.space_after = Pt(0)
        footer = section.footer.paragraphs[0]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        self._page_number(footer)

    @staticmethod
    def _fonts(rpr: Any, name: str) -> None:
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.insert(0, fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), name)

    def run(
        self,
        paragraph: Paragraph,
        text: str,
        *,
        bold: bool = False,
        size: float | None = None,
        heading: bool = False,
        color: str | None = None,
    ) -> None:
        r = paragraph.add_run(text)
        r.bold = bold
        if size:
            r.font.size = Pt(size)
        if heading:
            self._fonts(r._element.get_or_add_rPr(), self.heading_font)
        if color:
            r.font.color.rgb = RGBColor.from_string(color)

    def para(
        self,
        text: str = "",
        *,
        indent: bool = True,
        align: Any = None,
        bold: bool = False,
        size: float | None = None,
        heading: bool = False,
        keep_next: bool = False,
    ) -> Paragraph:
        p = self.doc.add_paragraph()
        if indent:
            p.paragraph_format.first_line_indent = Pt((size or 14) * 2)
        if align is not None:
            p.alignment = align
        if keep_next:
            p.paragraph_format.keep_with_next = True
        if text:
            self.run(p, text, bold=bold, size=size, heading=heading)
        return p

    def heading(self, text: str) -> None:
        p = self.para(text, heading=True, keep_next=True, indent=True)
        p.paragraph_format.space_before = Pt(6)

    def subheading(self, text: str) -> None:
        self.para(text, bold=True, keep_next=True)

    def _page_number(self, paragraph: Paragraph) -> None:
        """— PAGE — as a real field, so every page shows its own number."""
        self.run(paragraph, "— ", size=12)
        run = paragraph.add_run()
        run.font.size = Pt(12)
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
            if kind is not None:
                fld = OxmlElement("w:fldChar")
                fld.set(qn("w:fldCharType"), kind)
                run._element.append(fld)
            elif text == " PAGE ":
                instr = OxmlElement("w:instrText")
                instr.set(qn("xml:space"), "preserve")
                instr.text = text
                run._element.append(instr)
            else:
                t_el = OxmlElement("w:t")
                t_el.text = text
                run._element.append(t_el)
        self.run(paragraph, " —", size=12)

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths_cm: Sequence[float],
        right: Sequence[bool],
    ) -> Any:
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for i, label in enumerate(header):
            cell = table.rows[0].cells[i]
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
            self.run(cell.paragraphs[0], label, bold=True, size=12, heading=True)
        for row in rows:
            cells = table.add_row().cells
            for i, text in enumerate(row):
                p = cells[i].paragraphs[0]
                p.alignment = WD_ALIGN_PARAGRAPH.RIGHT if right[i] else WD_ALIGN_PARAGRAPH.CENTER
                self.run(p, text, size=12)
        for index, row in enumerate(table.rows):
            tr_pr = row._tr.get_or_add_trPr()
            tr_pr.append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
            if index == 0:
                tr_pr.append(OxmlElement("w:tblHeader"))  # the header row repeats on every page
            for cell, width in zip(row.cells, widths_cm, strict=True):
                cell.width = Cm(width)
                cell.paragraphs[0].paragraph_format.line_spacing = Pt(18)
                cell.paragraphs[0].paragraph_format.first_line_indent = Pt(0)
        return table

    def picture(self, png: bytes, caption: str, width_cm: float = 15.0) -> None:
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.keep_with_next = True
        p.paragraph_format.line_spacing = 1.0
        p.add_run().add_picture(io.BytesIO(png), width=Cm(width_cm))
        c = self.para(caption, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, size=11)
        c.paragraph_format.space_after = Pt(6)


# --- charts --------------------------------------------------------------------------------------------


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    benchmark: float | None = None,
    percent: bool = False,
    value_text: Sequence[str] | None = None,
    highlight: Sequence[bool] | None = None,
) -> bytes:
    """A horizontal bar chart (best at the top) as PNG bytes, drawn offline by matplotlib (Agg).
    The benchmark is a dashed line; value labels sit inside the plot at the bar's end."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    plt.rcParams["font.sans-serif"] = [pick_font(CHART_FONTS)]
    plt.rcParams["axes.unicode_minus"] = False
    n = len(labels)
    fig, ax = plt.subplots(figsize=(6.3, max(1.4, 0.17 * n + 0.6)), dpi=200)
    y = list(range(n))[::-1]
    colors = ["#d9822b" if (highlight and highlight[i]) else "#2f6db5" for i in range(n)]
    plotted = [v * 100 if percent else v for v in values]
    ax.barh(y, plotted, color=colors, height=0.7, zorder=2)
    ax.set_yticks(y, labels, fontsize=8)
    top = max([p for p in plotted if p == p] + [0.0])
    ax.set_xlim(0, top * 1.18 if top > 0 else 1)
    for yi, v, text in zip(y, plotted, value_text or [""] * n, strict=True):
        if v == v and text:
            ax.text(
                v + top * 0.01,
                yi,
                text,
                va="center",
                fontsize=7,
                zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},  # the line passes behind it
            )
    if benchmark is not None and benchmark == benchmark:
        b = benchmark * 100 if percent else benchmark
        ax.axvline(b, color="#444444", linestyle="--", linewidth=0.9, zorder=1)
    ax.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


# --- sections -------------------------------------------------------------------------------------------


def _s1_submissions(d: _Doc, data: BriefingData) -> None:
    cat = data.catalogue
    table = data.tracker
    d.heading(t("briefing.s1"))
    due = table[(table["state"] != "missing") | table["overdue"].astype(bool)]
    on_time = int((due["state"] == "on_time").sum())
    late = int((due["state"] == "late").sum())
    overdue = int(((due["state"] == "missing") & due["overdue"].astype(bool)).sum())
    months = sorted(table["period"].unique()) if not table.empty else [data.assessment.period]
    # the rate is the indicator's (报送及时率 of the city row), the very figure of 二、主要指标
    frame = data.assessment.indicators
    city = frame[(frame["unit"] == CITY) & (frame["indicator"] == "timeliness_rate")]
    ind = cat.indicators.get("timeliness_rate")
    rate = format_value(city["value"].iloc[0], ind) if len(city) and ind is not None else t("na")
    d.para(
        t(
            "briefing.s1.summary",
            first=months[0],
            last=months[-1],
            due=len(due),
            on_time=on_time,
            late=late,
            overdue=overdue,
            rate=rate,
        )
    )

    def items(mask: pd.Series) -> str:
        picked = table[mask]
        parts = []
        for unit in dict.fromkeys(picked["unit"]):
            unit_months = "、".join(
                f"{int(p[5:])}月" for p in sorted(picked[picked["unit"] == unit]["period"])
            )
            parts.append(t("briefing.s1.item", unit=unit_name(str(unit), cat), months=unit_months))
        return "；".join(parts)

    late_mask = table["state"] == "late"
    missing_mask = (table["state"] == "missing") & table["overdue"].astype(bool)
    if late_mask.any():
        d.para(t("briefing.s1.late", items=items(late_mask)))
    if missing_mask.any():
        d.para(t("briefing.s1.missing", items=items(missing_mask)))
    if not late_mask.any() and not missing_mask.any():
        d.para(t("briefing.s1.all_on_time"))


def _s2_indicators(d: _Doc, data: BriefingData) -> None:
    a = data.assessment
    cat = data.catalogue
    d.heading(t("briefing.s2"))
    rng = period_range(a.period, a.window)
    d.para(t("briefing.s2.intro", range=rng, area=area_word(a.region)))
    city = a.indicators[a.indicators["unit"] == CITY].set_index("indicator")
    for code, ind in cat.indicators.items():
        if code not in city.index:
            continue
        row = city.loc[code]
        yoy = change_words(row["yoy"], ind, t("briefing.change.yoy"))
        pop = change_words(row["pop"], ind, t("briefing.change.pop"))
        if ind.kind == "level":
            text = t(
                "briefing.s2.line_level",
                name=ind.name_zh,
                value=format_value(row["value"], ind),
                mean=format_value(row["benchmark"], ind),
                yoy=yoy,
                pop=pop,
            )
        else:
            text = t(
                "briefing.s2.line", name=ind.name_zh, value=format_value(row["value"], ind), yoy=yoy, pop=pop
            )
        d.para(text)


def ranking_rows(data: BriefingData) -> list[list[str]]:
    """The rows of 三、综合排名 (rank, unit, composite, change of rank), in rank order."""
    a = data.assessment
    changes = rank_changes(a.scores, data.previous_scores)
    rows = []
    for unit, composite, rank in a.scores.composite[["unit", "composite", "rank"]].itertuples(index=False):
        has_rank = not is_na(rank)
        rows.append(
            [
                str(int(rank)) if has_rank else t("na"),
                unit_name(str(unit), a.catalogue),
                format_score(composite),
                rank_change_text(changes[str(unit)], has_rank)
                if data.previous_scores is not None
                else t("na"),
            ]
        )
    return rows


def _s3_ranking(d: _Doc, data: BriefingData, figure_no: list[int]) -> None:
    a = data.assessment
    d.heading(t("briefing.s3"))
    if data.previous is not None:
        d.para(t("briefing.s3.intro", scheme=a.scheme.name, previous=data.previous))
    else:
        d.para(t("briefing.s3.intro_no_previous", scheme=a.scheme.name))
    header = [t(f"briefing.s3.col.{k}") for k in ("rank", "unit", "composite", "change")]
    d.table(header, ranking_rows(data), [2.2, 6.0, 3.6, 3.2], [False, False, True, False])
    scored = a.scores.composite.dropna(subset=["composite"])
    png = bar_chart(
        [unit_name(str(u), a.catalogue) for u in scored["unit"]],
        [float(v) for v in scored["composite"]],
        value_text=[format_score(v) for v in scored["composite"]],
    )
    d.para("", indent=False)
    d.picture(png, t("briefing.chart.ranking"))
    figure_no[0] = 1
    if data.previous is not None:
        if data.explanations:
            d.para(t("briefing.s3.movers"), keep_next=True)
            order = {str(u): i for i, u in enumerate(a.scores.composite["unit"])}
            for unit in sorted(data.explanations, key=lambda u: order[u]):
                d.para(explanation_sentence(data.explanations[unit], a.catalogue))
        else:
            d.para(t("briefing.s3.no_movers"))


def _units_text(
    items: Sequence[tuple[str, float]], ind: Indicator, data: BriefingData, against: float | None = None
) -> str:
    parts = []
    for unit, value in items:
        shown = distinct_values(value, against, ind)[0] if against is not None else format_value(value, ind)
        parts.append(t("briefing.s4.item", unit=unit_name(unit, data.catalogue), value=shown))
    return "、".join(parts)


def _s4_each(d: _Doc, data: BriefingData, figure_no: list[int]) -> None:
    a = data.assessment
    cat = data.catalogue
    order = [u.code for u in a.units]
    d.heading(t("briefing.s4"))
    city = a.indicators[a.indicators["unit"] == CITY].set_index("indicator")
    scored = set(a.scheme.indicators)
    label = benchmark_label(a.region)
    n = 0
    for code, ind in cat.indicators.items():
        if code not in city.index:
            continue
        n += 1
        d.subheading(t("briefing.s4.heading", n=_chinese_number(n), name=ind.name_zh))
        best, worst = top_bottom(a.indicators, code, order)
        if not best:
            d.para(t("briefing.s4.no_values"))
            continue
        d.para(t("briefing.s4.best", units=_units_text(best, ind, data)))
        d.para(t("briefing.s4.worst", units=_units_text(worst, ind, data)))
        bench = city.at[code, "benchmark"]
        below = below_benchmark(a.indicators, code, order)
        bench_value = float(bench) if not is_na(bench) else None
        # the benchmark with as many digits as the closest unit below it needs (73.12% against
        # 静安 73.11%), so no listed unit reads as equal to or above it
        bench_text = format_value(bench, ind)
        if below and bench_value is not None:
            bench_text = max((distinct_values(bench_value, v, ind)[0] for _, v in below), key=len)
        if below:
            d.para(
                t(
                    "briefing.s4.below",
                    benchmark=label,
                    value=bench_text,
                    units=_units_text(below, ind, data, bench_value),
                )
            )
        elif bench_value is not None:
            d.para(t("briefing.s4.none_below", benchmark=label, value=bench_text))
        if code in scored:
            ranked = ranked_units(a.indicators, code, order)
            misses = {u for u, _ in below}
            figure_no[0] += 1
            png = bar_chart(
                [unit_name(u, cat) for u, _ in ranked],
                [v for _, v in ranked],
                benchmark=bench_value,
                percent=ind.kind == "rate",
                value_text=[format_value(v, ind) for _, v in ranked],
                highlight=[u in misses for u, _ in ranked],
            )
            d.picture(
                png,
                t(
                    "briefing.chart.indicator",
                    n=figure_no[0],
                    name=ind.name_zh,
                    direction=t(f"direction.{ind.direction}"),
                    benchmark=label,
                ),
            )


def task_rows(data: BriefingData) -> list[list[str]]:
    """Overdue and due-soon tasks by lead owner (owners in name order; red before yellow, then the
    earliest deadline): 牵头单位, 任务, 完成时限, 状态."""
    on = data.tasks_on
    chase = [s for s in data.tasks if s.state in ("overdue", "due_soon")]
    chase.sort(key=lambda s: (s.lead, s.state != "overdue", s.deadline, s.task))
    rows = []
    for s in chase:
        if s.state == "overdue":
            state = t("briefing.s5.overdue", days=s.days_overdue)
        else:
            days = (date.fromisoformat(s.deadline) - on).days if on else 0
            state = t("briefing.s5.due_soon", days=days)
        rows.append([s.lead, f"{s.task} {s.title}", s.deadline_text or s.deadline, state])
    return rows


def _s5_tasks(d: _Doc, data: BriefingData) -> None:
    d.heading(t("briefing.s5"))
    on = data.tasks_on.isoformat() if data.tasks_on else ""
    counts = {state: sum(s.state == state for s in data.tasks) for state in ("overdue", "due_soon", "stale")}
    rows = task_rows(data)
    if not rows:
        d.para(t("briefing.s5.none", date=on))
        return
    d.para(t("briefing.s5.summary", date=on, total=len(data.tasks), **counts))
    header = [t(f"briefing.s5.col.{k}") for k in ("lead", "task", "deadline", "state")]
    d.table(header, rows, [3.6, 7.2, 2.6, 2.6], [False, False, False, False])


def _chinese_number(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n - 10] if n > 10 else "")
    return digits[n // 10] + "十" + (digits[n % 10] if n % 10 else "")


def _s_notes(d: _Doc, data: BriefingData) -> None:
    a = data.assessment
    cat = data.catalogue
    d.heading(t("briefing.s_notes"))
    months = a.months
    notes = [
        t(
            "briefing.notes.window",
            window=t(f"window.{a.window}"),
            first=months[0],
            last=months[-1],
            region=default_catalogue().region_name(a.region),
        ),
        t(
            "briefing.notes.scheme",
            scheme=a.scheme.name,
            version=a.scheme.version,
            source=Path(a.scheme.source).name if a.scheme.source else a.scheme.name,
        ),
        t(
            "briefing.notes.cutoff",
            as_of=format_as_of(a.as_of, tz=a.tz),
            latest=local_minutes(a.latest_submission, a.tz) if a.latest_submission else t("na"),
        ),
        t("briefing.notes.benchmark", benchmark=benchmark_label(a.region), area=area_word(a.region)),
        t("briefing.notes.changes"),
        t("briefing.notes.composite"),
    ]
    rules = {r.indicator: r for r in a.scheme.rules}
    for code, ind in cat.indicators.items():
        rule = rules.get(code)
        notes.append(
            t(
                "briefing.notes.indicator",
                name=ind.name_zh,
                formula=formula_text(ind, cat),
                direction=t(f"direction.{ind.direction}"),
                method=method_text(rule, ind) if rule else t("briefing.notes.not_scored"),
            )
        )
    incomplete = a.indicators[
        (a.indicators["unit"] != CITY) & (a.indicators["incomplete"].fillna(False).astype(bool))
    ]
    if not incomplete.empty:
        units = "、".join(unit_name(str(u), cat) for u in dict.fromkeys(incomplete["unit"]))
        notes.append(t("briefing.notes.incomplete", units=units))
    notes.append(t("briefing.notes.tasks"))
    notes.append(
        t(
            "briefing.notes.generated",
            at=local_minutes(a.generated_at, a.tz),
            by=a.generated_by,
            command=reproduce_command(data),
        )
    )
    for i, text in enumerate(notes, start=1):
        d.para(f"{i}. {text}", size=12)


def reproduce_command(data: BriefingData) -> str:
    a = data.assessment
    parts = ["ipdash briefing", f"--period {a.period}", f"--window {a.window}", f"--region {a.region}"]
    if a.scheme.source and Path(a.scheme.source).name != "scheme_default.csv":
        parts.append(f'--scheme "{a.scheme.source}"')
    parts.append(f"--as-of {format_as_of(a.as_of, tz=a.tz)}")
    parts.append("-o FILE.docx")
    return " ".join(parts)


def build_document(data: BriefingData) -> Any:
    """The python-docx Document of the 通报."""
    a = data.assessment
    d = _Doc()
    region = default_catalogue().region_name(a.region)
    rng = period_range(a.period, a.window)
    title = d.para(indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    title.paragraph_format.line_spacing = Pt(34)
    d.run(title, t("briefing.title", region=region), size=22, heading=True)
    title.add_run().add_break()
    d.run(title, t("briefing.period", range=rng), size=22, heading=True)
    d.para(t("briefing.docno"), indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
    d.para(
        t(
            "briefing.intro",
            range=rng,
            area=area_word(a.region),
            scheme=a.scheme.name,
            version=a.scheme.version,
            cutoff=format_as_of(a.as_of, tz=a.tz)[:16].replace("T", " "),
        )
    )
    figure_no = [0]
    _s1_submissions(d, data)
    _s2_indicators(d, data)
    _s3_ranking(d, data, figure_no)
    _s4_each(d, data, figure_no)
    _s5_tasks(d, data)
    _s_notes(d, data)
    core = d.doc.core_properties
    core.title = t("briefing.title", region=region) + t("briefing.period", range=rng)
    core.author = a.generated_by
    return d.doc


def write_briefing(
    target: str | Path | BinaryIO,
    *,
    session: Session,
    region: str,
    period: str,
    window: Window = "ytd",
    scheme: Scheme | None = None,
    as_of: datetime | None = None,
    generated_by: str | None = None,
    catalogue: Catalogue | None = None,
    now: datetime | None = None,
    settings: Settings = BUILT_IN,
) -> BriefingData:
    """Collect and write the 通报 (``target``: a path or a binary stream)."""
    data = collect_briefing(
        session=session,
        region=region,
        period=period,
        window=window,
        scheme=scheme,
        as_of=as_of,
        generated_by=generated_by,
        catalogue=catalogue,
        now=now,
        settings=settings,
    )
    document = build_document(data)
    document.save(target)
    return data
