"""报送情况 Submission tracker: every unit × month of the chosen window — on time, late, overdue or
not yet due, how many revisions, open warnings, locked periods — with the units that owe the
latest due month first; the month's detail below; and the assessment workbook download (the
whole region, or one unit's scorecard) for the filters shown.

The rules live in ``application.tracker`` (the same table ``ipdash status`` prints) and the workbook in
``application.assessment`` (the same file ``ipdash export`` writes). Component ids are the
``ST_*`` constants below (prefixed ``st-``), kept here so this page did not have to edit the
shared ``dashboard/ids.py`` while it was being written; they can move there unchanged.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from application.access import allowed, export_unit_allowed
from application.tracker import detail_header, state_label, state_mark
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard import review as review_ui
from dashboard.identity import current_user, signed_in
from dashboard.safe import alert, internal_error, run_guarded, safe_layout
from foundation.calendar import due_text, local_minutes, window_months
from foundation.catalogue import default_catalogue
from foundation.i18n import t

# Bootstrap's table-cell colours: green on time, yellow late, red overdue, grey not yet due.
STATE_CLASS = {
    "on_time": "table-success",
    "late": "table-warning",
    "overdue": "table-danger",
    "not_due": "table-light",
}


def _local(stamp: Any) -> str:
    return local_minutes(stamp, data.settings().timezone) or t("na")


def _local_column(stamps: pd.Series) -> list[str]:
    """``_local`` of a whole column at once (one conversion instead of one per cell)."""
    text = (
        pd.to_datetime(stamps, utc=True).dt.tz_convert(data.settings().timezone).dt.strftime("%Y-%m-%d %H:%M")
    )
    return [t("na") if pd.isna(v) else str(v) for v in text]


def _state_key(row: dict[str, Any]) -> str:
    if row["state"] == "missing":
        return "overdue" if row["overdue"] else "not_due"
    return str(row["state"])


@safe_layout
def layout(region: str | None = None, **query: Any) -> html.Div:
    """Drawn with the view of its URL (no callback needed to show it; ``components.view_gate``)."""
    cat = default_catalogue()
    f_region, f_window, f_period = cp.opening_filters({**query, "region": region})
    shown = cp.view_key(f_region, f_window, f_period)
    heading: Any = None
    summary: Any = None
    grid: Any = None
    detail: Any = None
    alert_box: Any = None
    if shown is not None and f_period is not None:
        heading, summary, grid, detail, alert_box = _guarded_render(f_region, f_window, f_period)
    region = region if region in cat.regions() else data.settings().region
    who = signed_in()
    if who is not None and not allowed(who, "view_other_units"):  # a clerk: their unit's scorecard only
        own = cat.units.get(who.unit or "")
        unit_options = [{"label": own.name_zh, "value": own.code}] if own else []
        default_unit = own.code if own else ""
    else:
        unit_options = [{"label": t("tracker.page.export_all"), "value": ""}] + [
            {"label": u.name_zh, "value": u.code} for u in cat.units_of(region)
        ]
        default_unit = ""
    export_card = dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("tracker.page.export_title")),
                html.P(t("tracker.page.export_scheme"), className="small text-muted"),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(
                                    t("tracker.page.export_unit"),
                                    html_for=ids.ST_EXPORT_UNIT,
                                    className="small mb-0",
                                ),
                                dcc.Dropdown(
                                    id=ids.ST_EXPORT_UNIT,
                                    options=unit_options,
                                    value=default_unit,
                                    clearable=False,
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            dbc.Button(
                                t("tracker.page.export_button"), id=ids.ST_EXPORT_BUTTON, color="primary"
                            ),
                            md="auto",
                            className="align-self-end",
                        ),
                    ],
                    className="g-2",
                ),
                dcc.Loading(html.Div(id=ids.ST_EXPORT_ALERT), delay_show=200),
                dcc.Download(id=ids.ST_EXPORT_DOWNLOAD),
            ]
        ),
        className="mb-3",
    )
    return html.Div(
        [
            *cp.view_stores(ids.ST_VIEW_SHOWN, ids.ST_VIEW_WANTED, shown),
            cp.page_title(
                t("tracker.page.title"), html.Span(heading, id=ids.ST_HEADING, className="text-muted")
            ),
            html.P(t("tracker.page.intro"), className="small text-muted"),
            html.Div(alert_box, id=ids.ST_ALERT),
            html.Div(summary, id=ids.ST_SUMMARY, className="mb-2"),
            html.P(t("tracker.legend"), className="small"),
            dcc.Loading(html.Div(grid, id=ids.ST_GRID), delay_show=300),
            html.Div(detail, id=ids.ST_DETAIL, className="mt-3"),
            # The analysts' review queue (oldest first); nobody else gets it, nor its callbacks.
            review_ui.queue_card(f_region) if allowed(signed_in(), "review") else html.Div(),
            export_card,
        ]
    )


def tracker_view(
    region: str, window: str, period: str, *, now: datetime | None = None
) -> tuple[pd.DataFrame, dict, str | None]:
    """(tracker table, locks, latest due month) — the same service call ``ipdash status`` makes."""
    from application import service

    with data.session_scope() as session:
        return service.submission_status(
            session=session,
            region=region,
            months=window_months(period, window),  # type: ignore[arg-type]  # a Window, checked by clean_filters
            now=now,
            settings=data.settings(),
        )


def grid_table(table: pd.DataFrame, *, months: list[str], labels: dict[str, str], locks: dict) -> dbc.Table:
    """Units × months, one coloured mark per cell; the tooltip says when it arrived and how often it changed."""
    header = [html.Th(t("tracker.grid_unit"))] + [
        html.Th(m + (" 🔒" if m in locks else ""), title=t("tracker.locked") if m in locks else None)
        for m in months
    ]
    received = _local_column(table["first_received_at"])
    cells = {
        (r["unit"], r["period"]): {**r, "_received": received[i]}
        for i, r in enumerate(table.to_dict("records"))
    }
    body = []
    for unit in dict.fromkeys(table["unit"]):
        row = [html.Td(labels.get(unit, unit))]
        for month in months:
            rec = cells[(unit, month)]
            tip = [state_label(rec["state"], rec["overdue"])]
            if rec["state"] != "missing":
                tip.append(f"{t('tracker.col.received')} {rec['_received']}")
                tip.append(f"{t('tracker.col.revisions')} {rec['revisions']}")
            if rec["open_warnings"]:
                tip.append(f"{t('tracker.col.warnings')} {rec['open_warnings']}")
            row.append(
                html.Td(
                    state_mark(rec),
                    className=f"{STATE_CLASS[_state_key(rec)]} text-center",
                    title="；".join(tip),
                )
            )
        body.append(html.Tr(row))
    return dbc.Table(
        [html.Thead(html.Tr(header)), html.Tbody(body)],
        bordered=True,
        size="sm",
        responsive=True,
        className="st-grid",
    )


def detail_rows(
    table: pd.DataFrame, period: str, labels: dict[str, str], reviews: dict[str, Any] | None = None
) -> list[list[Any]]:
    """The month's rows; with ``reviews`` (unit → application.review.ReturnState) the review
    state and the reason a return was sent back."""
    rows = []
    for r in table[table["period"] == period].to_dict("records"):
        extra: list[Any] = []
        if reviews is not None:
            state = reviews.get(r["unit"])
            extra = [review_ui.state_badge(state.state) if state else t("na"), state.reason if state else ""]
        rows.append(
            [
                labels.get(r["unit"], r["unit"]),
                state_label(r["state"], r["overdue"]),
                _local(r["first_received_at"]) if r["state"] != "missing" else t("na"),
                _local(r["last_received_at"]) if r["state"] != "missing" else t("na"),
                f"{r['days_late']:.1f}" if r["state"] == "late" else "",
                r["revisions"],
                html.Span(r["open_warnings"], title="\n".join(r["warning_messages"]))
                if r["open_warnings"]
                else 0,
                r["current_file"],
                *extra,
            ]
        )
    return rows


def _reviews(region: str, period: str, units: set[str]) -> dict[str, Any]:
    from application import review

    with data.session_scope() as session:
        states = review.current_returns(session=session, region=region, units=units, periods=[period])
    return {s.unit: s for s in states}


def _due_text(period: str) -> str:
    return due_text(period, data.settings().due_day)


def _render(region: str, window: str, period: str) -> tuple:
    from application.tracker import unit_summary

    table, locks, latest = tracker_view(region, window, period)
    who = signed_in()
    if not allowed(who, "view_other_units"):  # a clerk sees their own row only
        table = table[table["unit"] == (who.unit if who else None)].reset_index(drop=True)
    months = window_months(period, window)  # type: ignore[arg-type]
    labels = cp.unit_labels(region, short=False)
    heading = t(
        "tracker.title",
        region=cp.region_name(region),
        first=months[0],
        last=months[-1],
        now=_local(pd.Timestamp.now(tz="UTC")),
    )
    lines = []
    if latest:
        missing = table[(table["period"] == latest) & (table["state"] == "missing")]["unit"].nunique()
        lines.append(html.Div(t("tracker.latest_due", period=latest, due=_due_text(latest), missing=missing)))
    else:
        lines.append(html.Div(t("tracker.no_due")))
    lines.append(
        html.Div(t("tracker.locks", periods="、".join(sorted(locks))) if locks else t("tracker.no_locks"))
    )
    summary = unit_summary(table)
    lines.append(
        html.Div(
            t(
                "tracker.summary",
                on_time=int(summary["on_time"].sum()),
                late=int(summary["late"].sum()),
                overdue=int(summary["overdue"].sum()),
                not_due=int(summary["not_due"].sum()),
            ),
            className="fw-bold",
        )
    )
    grid = grid_table(table, months=months, labels=labels, locks=locks)
    lock_note = t("tracker.detail_locked") if period in locks else ""
    detail = [
        html.H4(t("tracker.detail_title", period=period, due=_due_text(period), lock=lock_note)),
        cp.table(
            [*detail_header(), t("review.col.state"), t("review.col.reason")],
            detail_rows(table, period, labels, _reviews(region, period, set(table["unit"]))),
        ),
    ]
    return heading, lines, grid, detail, None


def _guarded_render(region: str, window: str, period: str) -> tuple:
    return run_guarded(lambda: _render(region, window, period), lambda msg: ("", "", "", "", alert(msg)))


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/status",
        name=t("tracker.page.name"),
        title=t("tracker.page.browser_title"),
        order=6,
        layout=layout,
        permission="view",
    )
    review_ui.register_queue(app)

    cp.view_gate(app, ids.ST_VIEW_SHOWN, ids.ST_VIEW_WANTED)

    @guard.callback(
        app,
        "view",
        Output(ids.ST_HEADING, "children"),
        Output(ids.ST_SUMMARY, "children"),
        Output(ids.ST_GRID, "children"),
        Output(ids.ST_DETAIL, "children"),
        Output(ids.ST_ALERT, "children"),
        Output(ids.ST_VIEW_SHOWN, "data"),
        Input(ids.ST_VIEW_WANTED, "data"),
        prevent_initial_call=True,  # the layout drew the first view
    )
    def update(wanted: dict[str, Any] | None):  # noqa: ANN202
        wanted = wanted or {}
        region, window, period = cp.require_filters(
            wanted.get("region"), wanted.get("window"), wanted.get("period")
        )
        return (*_guarded_render(region, window, period), cp.view_key(region, window, period))

    @guard.callback(
        app,
        "export",
        Output(ids.ST_EXPORT_DOWNLOAD, "data"),
        Output(ids.ST_EXPORT_ALERT, "children"),
        Input(ids.ST_EXPORT_BUTTON, "n_clicks"),
        State(ids.ST_EXPORT_UNIT, "value"),
        State(ids.FILTER_REGION, "value"),
        State(ids.FILTER_WINDOW, "value"),
        State(ids.FILTER_PERIOD, "value"),
        prevent_initial_call=True,
        scope=lambda who, args: export_unit_allowed(who, args.get(ids.ST_EXPORT_UNIT + ".value") or None),
    )
    def download(
        _clicks: int | None, unit: str | None, region: str | None, window: str | None, period: str | None
    ):  # noqa: ANN202
        if not region or not window or not period:
            raise PreventUpdate
        try:
            content, name = export_bytes(region=region, window=window, period=period, unit=unit or None)
            from dashboard.auth import audit_now

            audit_now(
                "export",
                detail={
                    "file": name,
                    "region": region,
                    "window": window,
                    "period": period,
                    "unit": unit or None,
                },
            )
        except Exception as exc:
            return no_update, alert(internal_error("assessment export failed", exc))
        return dcc.send_bytes(content, name), None


def export_bytes(*, region: str, window: str, period: str, unit: str | None) -> tuple[bytes, str]:
    """The same workbook ``ipdash export`` writes for these filters (default scheme, as of now)."""
    from application.assessment import export_assessment

    cat = default_catalogue()
    if unit is not None and (unit not in cat.units or cat.units[unit].region != region):
        unit = None  # a unit of another region (the region filter changed): export the region
    if not export_unit_allowed(signed_in(), unit):  # a clerk never gets the whole region
        raise PermissionError("export refused")
    buffer = io.BytesIO()
    with data.session_scope() as session:
        export_assessment(
            buffer,
            session=session,
            region=region,
            period=period,
            window=window,  # type: ignore[arg-type]
            unit=unit,
            generated_by=current_user(),
            settings=data.settings(),
        )
    who = cat.units[unit].name_zh if unit else cp.region_name(region)
    return buffer.getvalue(), t(
        "tracker.page.export_name", who=who, window=t(f"window.{window}"), period=period
    )
