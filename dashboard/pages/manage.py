"""管理 Analysts' controls (issue 9): lock and unlock a period with a reason (the returns not yet
approved are listed before a lock goes ahead; every lock and unlock stays in the history), and
per-unit targets for a year — edited in a grid, or uploaded as an Excel sheet checked by the
same rules (every problem named with its place, nothing written while any remains).

Rules and writes live in ``application.review`` and ``application.targets``."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import flask
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from application import review, schemes
from application import targets as targets_app
from dashboard import components as cp
from dashboard import data, guard
from dashboard.identity import signed_in
from dashboard.safe import alert, internal_error, run_guarded, safe_layout
from foundation.catalogue import default_catalogue
from foundation.i18n import t

MG_PERIOD = "mg-period"
MG_REASON = "mg-reason"
MG_LOCK = "mg-lock"
MG_LOCK_CONFIRM = "mg-lock-confirm"
MG_UNLOCK = "mg-unlock"
MG_LOCK_RESULT = "mg-lock-result"
MG_LOCK_DONE = "mg-lock-done"
MG_HISTORY = "mg-history"
MG_YEAR = "mg-year"
MG_TARGET_GRID = "mg-target-grid"
MG_TARGET_SAVE = "mg-target-save"
MG_TARGET_UPLOAD = "mg-target-upload"
MG_TARGET_RESULT = "mg-target-result"
MG_TARGET_DONE = "mg-target-done"


def _address() -> str:
    return (flask.request.remote_addr or "") if flask.has_request_context() else ""


def _local(stamp: Any) -> str:
    return pd.Timestamp(stamp).tz_convert(data.settings().timezone).strftime("%Y-%m-%d %H:%M")


def _years() -> list[int]:
    now = datetime.now().year
    return [now + 1, now, now - 1, now - 2, now - 3]


@safe_layout
def layout(**_query: Any) -> html.Div:
    lock_card = dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("manage.lock_title")),
                dcc.Store(id=MG_LOCK_DONE),
                dbc.Row(
                    [
                        dbc.Col(cp.dropdown(id=MG_PERIOD, options=[], placeholder=t("manage.period")), md=3),
                        dbc.Col(
                            dcc.Input(
                                id=MG_REASON,
                                placeholder=t("manage.reason"),
                                maxLength=review.MAX_TEXT,
                                className="form-control",
                            ),
                            md=5,
                        ),
                        dbc.Col(
                            [
                                dbc.Button(t("manage.lock"), id=MG_LOCK, color="primary", className="me-2"),
                                dbc.Button(t("manage.unlock"), id=MG_UNLOCK, color="secondary"),
                            ],
                            md="auto",
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id=MG_LOCK_RESULT, className="mt-2"),
                dbc.Button(
                    t("manage.lock_anyway"), id=MG_LOCK_CONFIRM, color="warning", size="sm", className="mt-1"
                ),
                html.H6(t("manage.history"), className="mt-3"),
                html.Div(id=MG_HISTORY),
            ]
        ),
        className="mb-3",
    )
    target_card = dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("manage.targets_title")),
                html.P(t("manage.targets_help"), className="small text-muted"),
                dcc.Store(id=MG_TARGET_DONE),
                dbc.Row(
                    [
                        dbc.Col(
                            cp.dropdown(
                                id=MG_YEAR,
                                options=[{"label": str(y), "value": y} for y in _years()],
                                value=_years()[1],
                                clearable=False,
                            ),
                            md=2,
                        ),
                        dbc.Col(
                            dbc.Button(t("manage.targets_save"), id=MG_TARGET_SAVE, color="primary"),
                            md="auto",
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                dag.AgGrid(
                    id=MG_TARGET_GRID,
                    columnDefs=[
                        {"field": "unit_name", "headerName": t("review.col.unit")},
                        {"field": "unit", "headerName": t("manage.col.unit_code")},
                        {"field": "indicator_name", "headerName": t("review.col.measure")},
                        {"field": "indicator", "headerName": t("manage.col.indicator_code")},
                        {"field": "target", "headerName": t("manage.col.target"), "editable": True},
                    ],
                    rowData=[],
                    defaultColDef={"resizable": True, "sortable": True},
                    dashGridOptions={"singleClickEdit": True, "stopEditingWhenCellsLoseFocus": True},
                    style={"height": "360px"},
                ),
                dcc.Upload(
                    id=MG_TARGET_UPLOAD,
                    children=html.Div(t("manage.targets_drop")),
                    accept=".xlsx,.xlsm,.xls",
                    max_size=data.settings().max_file_bytes,
                    className="upload-zone mt-2",
                ),
                html.Div(id=MG_TARGET_RESULT, className="mt-2"),
            ]
        ),
        className="mb-3",
    )
    return html.Div([cp.page_title(t("manage.title")), lock_card, target_card, scheme_card()])


# --- scoring schemes -----------------------------------------------------------------------------

MG_SCHEME_UPLOAD = "mg-scheme-upload"
MG_SCHEME_RESULT = "mg-scheme-result"
MG_SCHEME_LIST = "mg-scheme-list"
MG_SCHEME_PICK = "mg-scheme-pick"
MG_SCHEME_CHOOSE = "mg-scheme-choose"
MG_SCHEME_DONE = "mg-scheme-done"


def scheme_card() -> Any:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("manage.schemes_title")),
                html.P(t("manage.schemes_help"), className="small text-muted"),
                dcc.Store(id=MG_SCHEME_DONE),
                dcc.Upload(
                    id=MG_SCHEME_UPLOAD,
                    children=html.Div(t("manage.schemes_drop")),
                    accept=".csv",
                    max_size=data.settings().max_file_bytes,
                    className="upload-zone",
                ),
                html.Div(id=MG_SCHEME_RESULT, className="mt-2"),
                html.Div(id=MG_SCHEME_LIST, className="mt-2"),
                dbc.Row(
                    [
                        dbc.Col(cp.dropdown(id=MG_SCHEME_PICK, options=[], clearable=False), md=5),
                        dbc.Col(
                            dbc.Button(t("manage.schemes_choose"), id=MG_SCHEME_CHOOSE, color="primary"),
                            md="auto",
                        ),
                    ],
                    className="g-2",
                ),
            ]
        ),
        className="mb-3",
    )


def _scheme_list() -> tuple[Any, list[dict[str, str]], str | None]:
    with data.session_scope() as session:
        found = schemes.versions(session=session, catalogue=default_catalogue())
    rows = [
        [
            v.version,
            v.name,
            v.by,
            _local(v.at) if v.at else "",
            t("manage.schemes_default") if v.is_default else "",
        ]
        for v in found
    ]
    header = [t("manage.col.version"), t("manage.col.scheme"), t("audit.col.user"), t("audit.col.at"), ""]
    options = [{"label": f"{v.name} · {v.version}", "value": v.version} for v in found]
    chosen = next((v.version for v in found if v.is_default), None)
    return cp.table(header, rows, class_name="scheme-versions"), options, chosen


def _scheme_action(
    trigger: str, contents: str | None, name: str | None, picked: str | None
) -> tuple[Any, Any]:
    who = signed_in()
    assert who is not None
    with data.session_scope() as session:
        if trigger == MG_SCHEME_UPLOAD:
            if not contents:
                raise PreventUpdate
            try:
                text = base64.b64decode(contents.split(",", 1)[1], validate=True).decode("utf-8-sig")
            except (ValueError, IndexError, UnicodeDecodeError):
                return alert(t("manage.schemes_unreadable", file=name or ""), color="danger"), no_update
            scheme, problems = schemes.upload(
                session=session,
                account=who,
                text=text,
                name=name or "scheme.csv",
                catalogue=default_catalogue(),
                address=_address(),
            )
            if scheme is None:
                return (
                    dbc.Alert(
                        [
                            html.P(t("manage.schemes_rejected", file=name or "", n=len(problems))),
                            html.Ul([html.Li(p) for p in problems]),
                        ],
                        color="danger",
                        className="scheme-problems",
                    ),
                    no_update,
                )
            session.commit()
            return alert(
                t("manage.schemes_kept", file=name or "", version=scheme.version), color="success"
            ), datetime.now().isoformat()
        if not picked:
            raise PreventUpdate
        try:
            schemes.choose_default(session=session, account=who, version=picked, address=_address())
        except ValueError:
            return alert(t("manage.schemes_unknown", version=picked), color="warning"), no_update
        session.commit()
    return alert(t("manage.schemes_chosen", version=picked), color="success"), datetime.now().isoformat()


def register_schemes(app: dash.Dash) -> None:
    @guard.callback(
        app,
        "manage",
        Output(MG_SCHEME_LIST, "children"),
        Output(MG_SCHEME_PICK, "options"),
        Output(MG_SCHEME_PICK, "value"),
        Input(MG_SCHEME_DONE, "data"),
    )
    def scheme_list(_done: Any):  # noqa: ANN202
        return run_guarded(_scheme_list, lambda msg: (alert(msg), [], None))

    @guard.callback(
        app,
        "manage",
        Output(MG_SCHEME_RESULT, "children"),
        Output(MG_SCHEME_DONE, "data"),
        Input(MG_SCHEME_UPLOAD, "contents"),
        Input(MG_SCHEME_CHOOSE, "n_clicks"),
        State(MG_SCHEME_UPLOAD, "filename"),
        State(MG_SCHEME_PICK, "value"),
        prevent_initial_call=True,
    )
    def scheme_action(contents: str | None, _clicks: Any, name: str | None, picked: str | None):  # noqa: ANN202
        trigger = ctx.triggered_id
        if trigger not in (MG_SCHEME_UPLOAD, MG_SCHEME_CHOOSE):
            raise PreventUpdate
        try:
            return _scheme_action(str(trigger), contents, name, picked)
        except PreventUpdate:
            raise
        except Exception as exc:
            return alert(internal_error("scheme change failed", exc)), no_update


# --- locks ---------------------------------------------------------------------------------------


def _history_view(region: str) -> tuple[Any, list[dict[str, str]]]:
    with data.session_scope() as session:
        events = review.lock_history(session=session)
    months = data.available_months(region)
    options = [{"label": m, "value": m} for m in months]
    if not events:
        return html.P(t("manage.no_history"), className="small text-muted"), options
    rows = [[_local(e.at), e.period, t(f"manage.action.{e.action}"), e.by, e.reason] for e in events]
    header = [
        t("audit.col.at"),
        t("review.col.period"),
        t("manage.col.action"),
        t("audit.col.user"),
        t("manage.col.reason"),
    ]
    return cp.table(header, rows, class_name="lock-history"), options


def _lock_action(trigger: str, period: str | None, reason: str | None, region: str) -> tuple[Any, Any]:
    who = signed_in()
    assert who is not None  # the gate lets no anonymous request here
    if not period:
        return alert(t("manage.pick_period"), color="warning"), no_update
    try:
        with data.session_scope() as session:
            if trigger == MG_UNLOCK:
                done = review.unlock(
                    session=session, account=who, period=period, reason=reason or "", address=_address()
                )
                message = t("manage.unlocked" if done else "manage.not_locked", period=period)
            else:
                if not (reason or "").strip():
                    return alert(t("review.lock_reason_needed"), color="warning"), no_update
                waiting = review.not_approved(session=session, period=period, region=region)
                if waiting and trigger != MG_LOCK_CONFIRM:
                    names = default_catalogue().units
                    items = [
                        html.Li(
                            f"{names[s.unit].name_zh if s.unit in names else s.unit} 第{s.revision_no}版：{t(f'review.state.{s.state}')}"
                        )
                        for s in waiting
                    ]
                    return (
                        dbc.Alert(
                            [html.P(t("manage.unapproved", period=period, n=len(waiting))), html.Ul(items)],
                            color="warning",
                            className="unapproved-list",
                        ),
                        no_update,
                    )
                done = review.lock(
                    session=session, account=who, period=period, reason=reason or "", address=_address()
                )
                message = t("manage.locked" if done else "manage.already_locked", period=period)
            session.commit()
    except review.ReviewError as exc:
        return alert(str(exc), color="warning"), no_update
    return alert(message, color="success" if done else "info"), datetime.now().isoformat()


# --- targets -------------------------------------------------------------------------------------


def _grid_rows(region: str, year: int) -> list[dict[str, Any]]:
    cat = default_catalogue()
    with data.session_scope() as session:
        stored = targets_app.targets_of(session=session, region=region, year=year)
    indicators = list(dict.fromkeys(["aid_workstations", *stored["indicator"].tolist()]))
    have = {(r.unit, r.indicator): r.target for r in stored.itertuples()}
    return [
        {
            "unit": u.code,
            "unit_name": u.name_zh,
            "indicator": code,
            "indicator_name": cat.indicators[code].name_zh if code in cat.indicators else code,
            "target": have.get((u.code, code)),
            "year": year,
        }
        for code in indicators
        for u in cat.units_of(region)
    ]


def _problems_view(problems: list[targets_app.TargetProblem]) -> Any:
    return dbc.Alert(
        [
            html.P(t("manage.targets_rejected", n=len(problems))),
            cp.table(
                [t("dash.col.where"), t("dash.col.message")],
                [[p.where, p.message] for p in problems],
                class_name="target-problems",
            ),
        ],
        color="danger",
    )


def _save_targets(
    trigger: str,
    rows: list[dict[str, Any]] | None,
    contents: str | None,
    name: str | None,
    year: int,
    region: str,
) -> tuple[Any, Any]:
    who = signed_in()
    assert who is not None
    cat = default_catalogue()
    if trigger == MG_TARGET_UPLOAD:
        if not contents:
            raise PreventUpdate
        try:
            content = base64.b64decode(contents.split(",", 1)[1], validate=True)
        except Exception:
            content = b""
        frame, problems = targets_app.read_sheet(content, file_name=name or "", catalogue=cat, region=region)
        source = name or ""
    else:
        filled = [r for r in (rows or []) if r.get("target") not in (None, "")]
        places = [
            {k: t("manage.grid_place", row=i + 1, column=t(f"manage.col.{k}")) for k in targets_app.COLUMNS}
            for i, r in enumerate(rows or [])
            if r.get("target") not in (None, "")
        ]
        frame, problems = targets_app.check_rows(
            [{**r, "year": year} for r in filled], places=places, catalogue=cat, region=region
        )
        source = "grid"
    if problems:
        return _problems_view(problems), no_update
    if frame.empty:
        return alert(t("manage.targets_nothing"), color="info"), no_update
    with data.session_scope() as session:
        n = targets_app.save(session=session, account=who, targets=frame, source=source, address=_address())
        session.commit()
    return alert(t("manage.targets_saved", n=n), color="success"), datetime.now().isoformat()


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/manage",
        name=t("manage.name"),
        title=t("manage.title"),
        order=7,
        layout=layout,
        permission="manage",
    )
    register_schemes(app)

    @guard.callback(
        app,
        "manage",
        Output(MG_HISTORY, "children"),
        Output(MG_PERIOD, "options"),
        Input(MG_LOCK_DONE, "data"),
        Input("filter-region", "value"),
    )
    def history(_done: Any, region: str | None):  # noqa: ANN202
        if not region:
            raise PreventUpdate
        return run_guarded(lambda: _history_view(region), lambda msg: (alert(msg), []))

    @guard.callback(
        app,
        "manage",
        Output(MG_LOCK_RESULT, "children"),
        Output(MG_LOCK_DONE, "data"),
        Input(MG_LOCK, "n_clicks"),
        Input(MG_LOCK_CONFIRM, "n_clicks"),
        Input(MG_UNLOCK, "n_clicks"),
        State(MG_PERIOD, "value"),
        State(MG_REASON, "value"),
        State("filter-region", "value"),
        prevent_initial_call=True,
    )
    def lock_action(_a: Any, _b: Any, _c: Any, period: str | None, reason: str | None, region: str | None):  # noqa: ANN202
        trigger = ctx.triggered_id
        if trigger not in (MG_LOCK, MG_LOCK_CONFIRM, MG_UNLOCK):
            raise PreventUpdate
        try:
            return _lock_action(str(trigger), period, reason, region or data.settings().region)
        except Exception as exc:
            return alert(internal_error("lock failed", exc)), no_update

    @guard.callback(
        app,
        "manage",
        Output(MG_TARGET_GRID, "rowData"),
        Input(MG_YEAR, "value"),
        Input("filter-region", "value"),
        Input(MG_TARGET_DONE, "data"),
    )
    def grid(year: int | None, region: str | None, _done: Any):  # noqa: ANN202
        if not year or not region:
            raise PreventUpdate
        return run_guarded(lambda: _grid_rows(region, int(year)), lambda msg: [])

    @guard.callback(
        app,
        "manage",
        Output(MG_TARGET_RESULT, "children"),
        Output(MG_TARGET_DONE, "data"),
        Input(MG_TARGET_SAVE, "n_clicks"),
        Input(MG_TARGET_UPLOAD, "contents"),
        State(MG_TARGET_GRID, "rowData"),
        State(MG_TARGET_UPLOAD, "filename"),
        State(MG_YEAR, "value"),
        State("filter-region", "value"),
        prevent_initial_call=True,
    )
    def save_targets(
        _clicks: Any, contents: str | None, rows: Any, name: str | None, year: int | None, region: str | None
    ):  # noqa: ANN202
        trigger = ctx.triggered_id
        if trigger not in (MG_TARGET_SAVE, MG_TARGET_UPLOAD) or not year:
            raise PreventUpdate
        try:
            return _save_targets(
                str(trigger), rows, contents, name, int(year), region or data.settings().region
            )
        except PreventUpdate:
            raise
        except Exception as exc:
            return alert(internal_error("targets failed", exc)), no_update
