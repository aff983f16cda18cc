"""审计日志 Audit log (admin only): the newest events, filtered by user name, kind and first day.
The same rows ``ipdash audit`` prints (``application.audit.events``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, dcc, html

from application import audit
from dashboard import components as cp
from dashboard import data, guard
from dashboard.safe import alert, run_guarded, safe_layout
from foundation.i18n import t

AU_USER = "au-user"
AU_KIND = "au-kind"
AU_SINCE = "au-since"
AU_TABLE = "au-table"
LIMIT = 500


@safe_layout
def layout(**_query: Any) -> html.Div:
    return html.Div(
        [
            cp.page_title(t("audit.page.title")),
            html.Div(
                [
                    dcc.Input(
                        id=AU_USER, placeholder=t("audit.col.user"), debounce=True, className="form-control"
                    ),
                    cp.dropdown(
                        id=AU_KIND,
                        options=[{"label": k, "value": k} for k in audit.KINDS],
                        placeholder=t("audit.col.kind"),
                    ),
                    dcc.Input(id=AU_SINCE, placeholder="YYYY-MM-DD", debounce=True, className="form-control"),
                ],
                className="d-flex gap-2 mb-2 audit-filters",
            ),
            html.Div(id=AU_TABLE),
        ]
    )


def events_table(user: str | None, kind: str | None, since: str | None) -> Any:
    tz = ZoneInfo(data.settings().timezone)
    start = None
    if since:
        try:
            start = datetime.strptime(since, "%Y-%m-%d").replace(tzinfo=tz).astimezone(UTC)
        except ValueError:
            return alert(t("audit.bad_date", value=since), color="warning")
    with data.session_scope() as session:
        found = audit.events(
            session=session, since=start, username=user or None, kind=kind or None, limit=LIMIT
        )
    if not found:
        return html.P(t("audit.none"))
    header = [t(f"audit.col.{c}") for c in ("at", "user", "address", "kind", "outcome", "detail")]
    rows = [
        [
            e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"),
            e.username,
            e.address,
            e.kind,
            e.outcome,
            json.dumps(e.detail, ensure_ascii=False),
        ]
        for e in found
    ]
    return cp.table(header, rows, class_name="audit-table")


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/audit",
        name=t("audit.page.name"),
        title=t("audit.page.title"),
        order=9,
        layout=layout,
        permission="administer",
    )

    @guard.callback(
        app,
        "administer",
        Output(AU_TABLE, "children"),
        Input(AU_USER, "value"),
        Input(AU_KIND, "value"),
        Input(AU_SINCE, "value"),
    )
    def update(user: str | None, kind: str | None, since: str | None):  # noqa: ANN202
        return run_guarded(lambda: events_table(user, kind, since), alert)
