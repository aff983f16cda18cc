"""The review loop on screen (issue 9): the analysts' queue on 报送情况 (oldest first, values with
their 备注, warnings with the district's explanations, 通过 / 退回 with a reason), and on 区详情 the
unit's own return of the month — its state, the reason it was returned, values and 备注, and for
the district itself a sentence per warning. Rules and writes are ``application.review``'s."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from application import review
from application.access import Role
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard.identity import signed_in
from dashboard.safe import alert, internal_error, run_guarded
from foundation.catalogue import default_catalogue
from foundation.i18n import t

QUEUE_ROWS = 100  # the table shows the oldest; the picker offers every one
STATE_COLOR = {"pending": "secondary", "approved": "success", "returned": "danger"}


def state_badge(state: str) -> dbc.Badge:
    return dbc.Badge(
        t(f"review.state.{state}"), color=STATE_COLOR.get(state, "secondary"), className="review-state"
    )


def _local(stamp: Any) -> str:
    if stamp is None:
        return t("na")
    return pd.Timestamp(stamp).tz_convert(data.settings().timezone).strftime("%Y-%m-%d %H:%M")


def _unit_name(code: str) -> str:
    unit = default_catalogue().units.get(code)
    return unit.name_zh if unit else code


def _address() -> str:
    return (flask.request.remote_addr or "") if flask.has_request_context() else ""


def values_table(rows: list[tuple[str, float, str]]) -> Any:
    measures = default_catalogue().measures
    body = [
        [f"{code} {measures[code].name_zh}" if code in measures else code, f"{value:g}", note]
        for code, value, note in rows
    ]
    return cp.table(
        [t("review.col.measure"), t("review.col.value"), t("review.col.note")],
        body,
        class_name="review-values",
    )


def warnings_table(state: review.ReturnState, *, editable: bool) -> Any:
    if not state.warnings:
        return html.P(t("review.no_warnings"), className="small text-muted")
    rows = []
    for w in state.warnings:
        where = "!".join(x for x in (w.get("sheet"), w.get("cell")) if x)
        if editable:
            explanation: Any = dcc.Input(
                id={"type": ids.UX_TEXT, "key": w["key"]},
                value=w["explanation"],
                placeholder=t("review.explain_placeholder"),
                maxLength=review.MAX_TEXT,
                className="form-control form-control-sm",
            )
        else:
            explanation = w["explanation"]
        rows.append([where, w.get("message", ""), explanation])
    return cp.table(
        [t("dash.col.where"), t("dash.col.message"), t("review.col.explanation")],
        rows,
        class_name="review-warnings",
    )


# --- 报送情况: the analysts' queue ------------------------------------------------------------------


def queue_card(region: str | None = None) -> Any:
    """The analysts' review queue, drawn for ``region`` when given (the page's first view)."""
    queue: Any = None
    options: list[dict[str, str]] = []
    if region:
        queue, options = run_guarded(lambda: _queue_view(region), lambda msg: (alert(msg), []))
    return dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("review.queue_title")),
                dcc.Store(id=ids.RV_DONE),
                dbc.Label(t("review.pick"), html_for=ids.RV_PICK, className="small mb-0"),
                cp.dropdown(id=ids.RV_PICK, options=options),
                html.Div(id=ids.RV_DETAIL, className="mt-2"),
                dbc.Label(t("review.reason_label"), html_for=ids.RV_REASON, className="small mb-0"),
                dcc.Textarea(id=ids.RV_REASON, maxLength=review.MAX_TEXT, className="form-control mb-2"),
                dbc.Button(t("review.approve"), id=ids.RV_APPROVE, color="success", className="me-2"),
                dbc.Button(t("review.return"), id=ids.RV_RETURN, color="danger"),
                html.Div(id=ids.RV_RESULT, className="mt-2"),
                dcc.Loading(html.Div(queue, id=ids.RV_QUEUE, className="mt-3"), delay_show=300),
            ]
        ),
        className="mb-3",
        id=ids.RV_CARD,
    )


def _pick_value(state: review.ReturnState) -> str:
    return f"{state.unit}|{state.period}|{state.revision_id}"


def _queue_view(region: str) -> tuple[Any, list[dict[str, str]]]:
    with data.session_scope() as session:
        waiting = review.queue(session=session, region=region)
    if not waiting:
        return html.P(t("review.queue_empty"), className="text-muted"), []
    rows = [
        [
            _unit_name(s.unit),
            s.period,
            s.revision_no,
            _local(s.received_at),
            s.submitted_by,
            len(s.warnings),
            sum(1 for w in s.warnings if w["explanation"]),
        ]
        for s in waiting[:QUEUE_ROWS]
    ]
    header = [
        t("review.col.unit"),
        t("review.col.period"),
        t("review.col.revision"),
        t("review.col.received"),
        t("review.col.by"),
        t("review.col.warnings"),
        t("review.col.explanation"),
    ]
    options = [
        {"label": f"{_unit_name(s.unit)} {s.period} 第{s.revision_no}版", "value": _pick_value(s)}
        for s in waiting
    ]
    table = cp.table(header, rows, class_name="review-queue")
    return html.Div(
        [
            html.P(
                t("review.queue_count", n=len(waiting), shown=min(len(waiting), QUEUE_ROWS)),
                className="small",
            ),
            table,
        ]
    ), options


def _detail_view(picked: str) -> Any:
    unit, period, revision_id = _parse_pick(picked)
    with data.session_scope() as session:
        states = review.current_returns(session=session, units=[unit], periods=[period])
        values = review.values_with_notes(session=session, revision_id=revision_id)
    state = next((s for s in states if s.revision_id == revision_id), None)
    if state is None:
        return alert(t("review.superseded", unit=unit, period=period, no="?"), color="warning")
    return html.Div(
        [
            html.H5([f"{_unit_name(unit)} {period} 第{state.revision_no}版 ", state_badge(state.state)]),
            html.H6(t("review.warnings_title")),
            warnings_table(state, editable=False),
            html.H6(t("review.values_title")),
            values_table(values),
        ]
    )


def _parse_pick(picked: str) -> tuple[str, str, int]:
    unit, period, revision_id = picked.split("|")
    return unit, period, int(revision_id)


def register_queue(app: dash.Dash) -> None:
    @guard.callback(
        app,
        "review",
        Output(ids.RV_QUEUE, "children"),
        Output(ids.RV_PICK, "options"),
        Input(ids.ST_VIEW_WANTED, "data"),  # another view (region) than the layout drew
        Input(ids.RV_DONE, "data"),  # a decision was taken
        State(ids.FILTER_REGION, "value"),
        prevent_initial_call=True,  # the page's layout drew it
    )
    def show_queue(_wanted: Any, _done: Any, region: str | None):  # noqa: ANN202
        if not region:
            raise PreventUpdate
        return run_guarded(lambda: _queue_view(region), lambda msg: (alert(msg), []))

    @guard.callback(
        app,
        "review",
        Output(ids.RV_DETAIL, "children"),
        Input(ids.RV_PICK, "value"),
        prevent_initial_call=True,  # nothing is picked when the page opens
    )
    def show_detail(picked: str | None):  # noqa: ANN202
        if not picked:
            return None
        return run_guarded(lambda: _detail_view(picked), alert)

    @guard.callback(
        app,
        "review",
        Output(ids.RV_RESULT, "children"),
        Output(ids.RV_DONE, "data"),
        Output(ids.RV_PICK, "value"),
        Input(ids.RV_APPROVE, "n_clicks"),
        Input(ids.RV_RETURN, "n_clicks"),
        State(ids.RV_PICK, "value"),
        State(ids.RV_REASON, "value"),
        prevent_initial_call=True,
    )
    def decide(_approve: Any, _return: Any, picked: str | None, reason: str | None):  # noqa: ANN202
        if not picked or ctx.triggered_id not in (ids.RV_APPROVE, ids.RV_RETURN):
            raise PreventUpdate
        who = signed_in()
        assert who is not None  # the gate lets no anonymous request here
        state = "approved" if ctx.triggered_id == ids.RV_APPROVE else "returned"
        try:
            unit, period, revision_id = _parse_pick(picked)
            with data.session_scope() as session:
                review.decide(
                    session=session,
                    account=who,
                    unit=unit,
                    period=period,
                    revision_id=revision_id,
                    state=state,
                    reason=reason or "",
                    address=_address(),
                )
                session.commit()
        except review.ReviewError as exc:
            return alert(str(exc), color="warning"), no_update, no_update
        except Exception as exc:
            return alert(internal_error("review failed", exc)), no_update, no_update
        message = t("review.done", unit=_unit_name(unit), period=period, state=t(f"review.state.{state}"))
        return alert(message, color="success"), picked, None


# --- 区详情: the unit's own return ------------------------------------------------------------------


def own_section(code: str | None = None, period: str | None = None) -> Any:
    """区详情's "this unit's return" part, drawn for ``period`` when given (the page's first view)."""
    return html.Div(
        [
            dcc.Store(id=ids.UX_DONE),
            html.Div(
                run_guarded(lambda: _own_view(code, period), alert) if code and period else None,
                id=ids.UNIT_REVIEW,
            ),
            html.Div(id=ids.UX_RESULT),
        ],
        className="mt-3",
    )


def _own_view(code: str, period: str) -> Any:
    with data.session_scope() as session:
        states = review.current_returns(session=session, units=[code], periods=[period])
        state = states[0] if states else None
        values = review.values_with_notes(session=session, revision_id=state.revision_id) if state else []
    if state is None:
        return html.Div(
            [html.H4(t("review.own_title", period=period)), html.P(t("review.own_none", period=period))]
        )
    who = signed_in()
    editable = who is not None and who.role == Role.CLERK and who.unit == code
    parts: list[Any] = [
        html.H4([t("review.own_title", period=period), " ", state_badge(state.state)]),
    ]
    if state.state == "returned":
        parts.append(
            dbc.Alert(
                t(
                    "review.returned_banner",
                    period=period,
                    reason=state.reason,
                    by=state.reviewed_by,
                    at=_local(state.reviewed_at),
                ),
                color="danger",
                className="review-returned",
            )
        )
    parts += [html.H6(t("review.warnings_title")), warnings_table(state, editable=editable)]
    if editable and state.warnings:
        parts.append(
            dbc.Button(
                t("review.explain_save"), id=ids.UX_SAVE, color="secondary", size="sm", className="mb-2"
            )
        )
    parts += [html.H6(t("review.values_title")), values_table(values)]
    return html.Div(parts)


def register_own(app: dash.Dash) -> None:
    @guard.callback(
        app,
        "view",
        Output(ids.UNIT_REVIEW, "children"),
        Input(ids.UNIT_VIEW_WANTED, "data"),  # another view than the layout drew
        Input(ids.UX_DONE, "data"),  # the district saved its explanations
        State(ids.UNIT_CODE, "data"),
        State(ids.FILTER_PERIOD, "value"),
        prevent_initial_call=True,  # the page's layout drew it
        scope=guard.unit_arg(ids.UNIT_CODE + ".data"),
    )
    def show_own(_wanted: Any, _done: Any, code: str | None, period: str | None):  # noqa: ANN202
        if not period or not code:
            raise PreventUpdate
        return run_guarded(lambda: _own_view(code, period), alert)

    @guard.callback(
        app,
        "explain",
        Output(ids.UX_RESULT, "children"),
        Output(ids.UX_DONE, "data"),
        Input(ids.UX_SAVE, "n_clicks"),
        State({"type": ids.UX_TEXT, "key": ALL}, "value"),
        State({"type": ids.UX_TEXT, "key": ALL}, "id"),
        State(ids.UNIT_CODE, "data"),
        State(ids.FILTER_PERIOD, "value"),
        prevent_initial_call=True,
        scope=guard.unit_arg(ids.UNIT_CODE + ".data"),
    )
    def save_explanations(
        clicks: Any, texts: list[str | None], keys: list[dict[str, str]], code: str | None, period: str | None
    ):  # noqa: ANN202
        if not clicks or not code or not period:
            raise PreventUpdate
        who = signed_in()
        assert who is not None
        try:
            with data.session_scope() as session:
                states = review.current_returns(session=session, units=[code], periods=[period])
                known = {w["key"]: w["explanation"] for s in states for w in s.warnings}
                for key, text in zip(keys, texts, strict=True):
                    value = (text or "").strip()
                    if key["key"] in known and value != known[key["key"]]:
                        review.explain_warning(
                            session=session,
                            account=who,
                            unit=code,
                            period=period,
                            key=key["key"],
                            text=value,
                            address=_address(),
                        )
                session.commit()
        except review.ReviewError as exc:
            return alert(str(exc), color="warning"), no_update
        except Exception as exc:
            return alert(internal_error("explanation failed", exc)), no_update
        return alert(t("review.explain_saved"), color="success"), clicks
