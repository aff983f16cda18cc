"""上传 Upload: download the blank template for a unit and month; drop one or more returns; read
the validation report of each file (every problem with its sheet and cell, in Chinese) before
anything is written; confirm to load; download a rejected file back with its offending cells
highlighted and commented.

Nothing per user is kept on the server: the checked files wait in a ``dcc.Store`` in the
browser (base64) until they are confirmed, and are validated again when they are loaded. Files
over the size limit are refused in the browser (``max_size`` and a small script that says so)
and again on the server.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import dash
import dash_bootstrap_components as dbc
import flask
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from application.access import upload_unit
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard.identity import signed_in
from dashboard.safe import alert, internal_error, safe_layout
from etl.records import Issue
from foundation.calendar import shift_month
from foundation.catalogue import default_catalogue
from foundation.i18n import t

TEMPLATE_MONTHS = 24
ACCEPT = ".xlsx,.xlsm,.xls"


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def template_months() -> list[str]:
    """The previous calendar month (the return a clerk files now) and the months before it."""
    today = datetime.now(ZoneInfo(data.settings().timezone)).date()
    last = shift_month(f"{today.year:04d}-{today.month:02d}", -1)
    return [shift_month(last, -i) for i in range(TEMPLATE_MONTHS)]


@safe_layout
def layout(region: str | None = None, **_query: Any) -> html.Div:
    cat = default_catalogue()
    settings = data.settings()
    region = region if region in cat.regions() else settings.region
    who = signed_in()
    own = upload_unit(who) if who is not None else None
    # A clerk works for one unit: the template and the files are that unit's, whatever is sent.
    units = [cat.units[own]] if own else cat.units_of(region)
    unit_options = [{"label": u.name_zh, "value": u.code} for u in units]
    months = template_months()
    limit = settings.max_file_bytes
    template_card = dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("dash.up.template_title")),
                html.P(t("dash.up.template_help"), className="small text-muted"),
                dbc.Row(
                    [
                        dbc.Col(
                            cp.dropdown(
                                id=ids.UP_TEMPLATE_UNIT,
                                options=unit_options,
                                value=units[0].code if units else None,
                                clearable=False,
                            ),
                            md=4,
                        ),
                        dbc.Col(
                            cp.dropdown(
                                id=ids.UP_TEMPLATE_MONTH,
                                options=[{"label": m, "value": m} for m in months],
                                value=months[0],
                                clearable=False,
                            ),
                            md=3,
                        ),
                        dbc.Col(
                            dbc.Button(
                                t("dash.up.template_button"), id=ids.UP_TEMPLATE_BUTTON, color="secondary"
                            ),
                            md="auto",
                        ),
                    ],
                    className="g-2",
                ),
                html.Div(id=ids.UP_TEMPLATE_ALERT),
                dcc.Download(id=ids.UP_TEMPLATE_DOWNLOAD),
            ]
        ),
        className="mb-3",
    )
    upload_card = dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("dash.up.upload_title")),
                dbc.Row(
                    [
                        dbc.Col(
                            [
                                dbc.Label(t("dash.up.user"), className="small mb-0"),
                                html.Div(
                                    who.label if who else "",
                                    id=ids.UP_USER,
                                    className="form-control-plaintext",
                                ),
                            ],
                            md=4,
                        ),
                        dbc.Col(
                            [
                                dbc.Label(
                                    t("dash.up.as_unit"), html_for=ids.UP_AS_UNIT, className="small mb-0"
                                ),
                                cp.dropdown(
                                    id=ids.UP_AS_UNIT,
                                    options=unit_options,
                                    value=own,
                                    disabled=own is not None,
                                    clearable=own is None,
                                    placeholder=t("dash.up.as_unit_none"),
                                ),
                            ],
                            md=4,
                        ),
                    ],
                    className="g-2 mb-2",
                ),
                dcc.Upload(
                    id=ids.UP_UPLOAD,
                    children=html.Div(
                        [
                            t("dash.up.drop"),
                            html.Br(),
                            html.Span(
                                t("dash.up.drop_hint", limit=_size_text(limit)), className="small text-muted"
                            ),
                        ]
                    ),
                    multiple=True,
                    accept=ACCEPT,
                    max_size=limit,
                    className="upload-zone",
                    className_active="upload-zone active",
                    className_reject="upload-zone reject",
                ),
                # Read by assets/upload_size.js: the browser names files over the limit, which
                # the upload component would otherwise drop without a word.
                html.Div(
                    id=ids.UP_LIMITS,
                    hidden=True,
                    **{  # type: ignore[arg-type]  # data-* attributes are not in the generated signature
                        "data-max": str(limit),
                        "data-message": t(
                            "dash.up.too_large_browser", files="{files}", limit=_size_text(limit)
                        ),
                    },
                ),
                html.Div(id=ids.UP_SIZE_NOTE, className="text-danger small mt-1"),
                dcc.Store(id=ids.UP_PENDING, storage_type="memory"),
                dcc.Loading(html.Div(id=ids.UP_REPORT, className="mt-3"), delay_show=200),
                html.Div(
                    [
                        dbc.Button(
                            t("dash.up.confirm"),
                            id=ids.UP_CONFIRM,
                            color="primary",
                            disabled=True,
                            className="me-2",
                        ),
                        dbc.Button(t("dash.up.clear"), id=ids.UP_CLEAR, color="light"),
                    ],
                    className="mt-2",
                ),
                dcc.Loading(html.Div(id=ids.UP_RESULT, className="mt-3"), delay_show=200),
                dcc.Download(id=ids.UP_ANNOTATED_DOWNLOAD),
            ]
        )
    )
    return html.Div([cp.page_title(t("dash.nav.upload")), template_card, upload_card])


# --- rendering the report -----------------------------------------------------------------------


def _measure_label(code: str) -> str:
    measure = default_catalogue().measures.get(code)
    return f"{code} {measure.name_zh}" if measure else code


def issue_table(issues: list[Issue]) -> dbc.Table:
    return cp.table(
        [t("dash.col.where"), t("dash.col.measure"), t("dash.col.found"), t("dash.col.message")],
        [
            [i.where or t("na"), _measure_label(i.measure) if i.measure else "", i.value, i.message]
            for i in issues
        ],
        class_name="issue-table",
    )


def file_report(
    index: int, name: str, errors: list[Issue], warnings: list[Issue], *, annotatable: bool
) -> dbc.Card:
    ok = not errors
    badge = dbc.Badge(
        t("dash.up.will_accept") if ok else t("dash.up.will_reject"),
        color="success" if ok else "danger",
        className="ms-2",
    )
    body: list[Any] = [
        html.P(t("dash.up.counts", errors=len(errors), warnings=len(warnings)), className="small mb-1"),
    ]
    if errors:
        body += [html.H6(t("dash.up.errors"), className="text-danger"), issue_table(errors)]
        if annotatable:
            body.append(
                dbc.Button(
                    t("dash.up.download_annotated"),
                    id={"type": ids.UP_ANNOTATE, "index": index},
                    color="outline-danger",
                    size="sm",
                    className="mb-2",
                )
            )
    if warnings:
        body += [html.H6(t("dash.up.warnings"), className="text-warning-emphasis"), issue_table(warnings)]
    return dbc.Card(
        [dbc.CardHeader([html.Strong(name), badge]), dbc.CardBody(body)],
        className="mb-2 file-report " + ("file-ok" if ok else "file-rejected"),
    )


def decode_upload(contents: str) -> bytes:
    """``data:<mime>;base64,<payload>`` → bytes (ValueError when it is not that)."""
    try:
        payload = contents.split(",", 1)[1]
        return base64.b64decode(payload, validate=True)
    except (IndexError, binascii.Error) as exc:
        raise ValueError("not a base64 data URL") from exc


def _too_large(name: str, size: int) -> Issue:
    from etl.records import Reason

    limit = data.settings().max_file_bytes
    return Issue(
        severity="error",
        reason=Reason.TOO_LARGE,
        message=t("dash.up.too_large_server", file=name, size=_size_text(size), limit=_size_text(limit)),
        file=name,
    )


def check_one(
    name: str, content: bytes, *, as_unit: str | None, region: str
) -> tuple[list[Issue], list[Issue]]:
    if len(content) > data.settings().max_file_bytes:
        return [_too_large(name, len(content))], []
    parsed = data.check_upload(content, file_name=name, as_unit=as_unit, region=region)
    return list(parsed.errors), list(parsed.warnings)


# --- callbacks ----------------------------------------------------------------------------------


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/upload",
        name=t("dash.nav.upload"),
        title=t("dash.title.upload"),
        order=5,
        layout=layout,
        permission="upload",
    )

    @guard.callback(
        app,
        "upload",
        Output(ids.UP_TEMPLATE_DOWNLOAD, "data"),
        Output(ids.UP_TEMPLATE_ALERT, "children"),
        Input(ids.UP_TEMPLATE_BUTTON, "n_clicks"),
        State(ids.UP_TEMPLATE_UNIT, "value"),
        State(ids.UP_TEMPLATE_MONTH, "value"),
        prevent_initial_call=True,
        scope=guard.unit_arg(ids.UP_TEMPLATE_UNIT + ".value"),
    )
    def download_template(_clicks: int | None, unit_code: str | None, month: str | None):  # noqa: ANN202
        from etl.writers import write_return

        cat = default_catalogue()
        unit = cat.units.get(unit_code or "")
        if unit is None or not month:
            return no_update, alert(t("dash.up.template_choose"), color="warning")
        try:
            buffer = io.BytesIO()
            write_return(buffer, unit=unit, period=month, catalogue=cat, due_day=data.settings().due_day)
        except Exception as exc:
            return no_update, alert(internal_error("template failed", exc))
        name = t("dash.up.template_name", unit=unit.name_zh, period=month)
        return dcc.send_bytes(buffer.getvalue(), name), None

    @guard.callback(
        app,
        "upload",
        Output(ids.UP_PENDING, "data"),
        Output(ids.UP_REPORT, "children"),
        Output(ids.UP_CONFIRM, "disabled"),
        Output(ids.UP_RESULT, "children"),
        Output(ids.UP_SIZE_NOTE, "children"),
        # Emptied once read: a confirm then sends only the checked files, never the drop again,
        # which keeps every request under the size limit (and the same file can be dropped again).
        Output(ids.UP_UPLOAD, "contents"),
        Input(ids.UP_UPLOAD, "contents"),
        Input(ids.UP_CONFIRM, "n_clicks"),
        Input(ids.UP_CLEAR, "n_clicks"),
        State(ids.UP_UPLOAD, "filename"),
        State(ids.UP_PENDING, "data"),
        State(ids.UP_AS_UNIT, "value"),
        State(ids.FILTER_REGION, "value"),
        prevent_initial_call=True,
    )
    def upload_flow(contents, _confirm, _clear, names, pending, as_unit, region):  # noqa: ANN001, ANN202
        result = _upload_flow(contents, names, pending, as_unit, region)
        return (*result, None if ctx.triggered_id == ids.UP_UPLOAD else no_update)

    def _upload_flow(contents, names, pending, as_unit, region):  # noqa: ANN001, ANN202
        region = region or data.settings().region
        trigger = ctx.triggered_id
        as_unit = _upload_unit(as_unit)
        try:
            if trigger == ids.UP_CLEAR:
                return None, [], True, [], None
            if trigger == ids.UP_CONFIRM:
                return confirm(pending or [], as_unit=as_unit, region=region)
            if trigger == ids.UP_UPLOAD:
                if not contents:
                    raise PreventUpdate
                return preview(list(contents), list(names or []), as_unit=as_unit, region=region)
        except PreventUpdate:
            raise
        except Exception as exc:
            return None, alert(internal_error("upload failed", exc)), True, [], no_update
        raise PreventUpdate

    @guard.callback(
        app,
        "upload",
        Output(ids.DATA_CHANGED, "data"),
        Input(ids.UP_RESULT, "children"),
        prevent_initial_call=True,
    )
    def data_changed(result: Any):  # noqa: ANN202
        """A load result on screen: the shell offers the months again (a new month appears)."""
        if not result:
            raise PreventUpdate
        return time.time()

    @guard.callback(
        app,
        "upload",
        Output(ids.UP_ANNOTATED_DOWNLOAD, "data"),
        Output(ids.UP_RESULT, "children", allow_duplicate=True),
        Input({"type": ids.UP_ANNOTATE, "index": ALL}, "n_clicks"),
        State(ids.UP_PENDING, "data"),
        State(ids.UP_AS_UNIT, "value"),
        State(ids.FILTER_REGION, "value"),
        prevent_initial_call=True,
    )
    def download_annotated(clicks, pending, as_unit, region):  # noqa: ANN001, ANN202
        if not ctx.triggered_id or not any(clicks or []):
            raise PreventUpdate
        index = ctx.triggered_id["index"]
        as_unit = _upload_unit(as_unit)
        try:
            entry = (pending or [])[index]
            content = base64.b64decode(entry["content"])
            errors, warnings = check_one(
                entry["name"], content, as_unit=as_unit, region=region or data.settings().region
            )
            from etl.annotate import AnnotateError, annotate_workbook

            try:
                annotated, name = annotate_workbook(content, entry["name"], errors + warnings)
            except AnnotateError as exc:
                return no_update, alert(str(exc), color="warning")
            return dcc.send_bytes(annotated, name), no_update
        except Exception as exc:
            return no_update, alert(internal_error("annotation failed", exc))


def preview(contents: list[str], names: list[str], *, as_unit: str | None, region: str) -> tuple:
    """Check every dropped file; keep them (base64) in the browser until confirmed."""
    pending: list[dict[str, Any]] = []
    cards = []
    for index, (raw, name) in enumerate(zip(contents, names, strict=False)):
        try:
            content = decode_upload(raw)
        except ValueError:
            content = b""
        errors, warnings = check_one(name, content, as_unit=as_unit, region=region)
        # Unreadable files (not a workbook, encrypted) cannot be handed back annotated.
        annotatable = bool(errors) and any(e.sheet for e in errors + warnings)
        keep = len(content) <= data.settings().max_file_bytes
        pending.append(
            {
                "name": name,
                "content": base64.b64encode(content).decode() if keep else "",
                "ok": not errors,
            }
        )
        cards.append(file_report(index, name, errors, warnings, annotatable=annotatable))
    n_ok = sum(1 for p in pending if p["ok"])
    summary = alert(
        t("dash.up.preview_summary", n=len(pending), ok=n_ok, rejected=len(pending) - n_ok), color="info"
    )
    return pending, [summary, *cards], n_ok == 0, [], None


def _upload_unit(sent: str | None) -> str | None:
    """The unit the files must belong to: a clerk's own unit whatever the client sent; for an
    analyst the unit chosen on the page (or any)."""
    who = signed_in()
    if who is None:  # the gate lets no anonymous request here
        raise PermissionError("not signed in")
    own = upload_unit(who)
    return own if own is not None else (sent or None)


def confirm(pending: list[dict[str, Any]], *, as_unit: str | None, region: str) -> tuple:
    """Load the files that passed the check; each is validated again and committed on its own."""
    from dashboard.identity import current_user

    by = current_user()
    rows = []
    for entry in pending:
        if not entry.get("ok"):
            continue
        content = base64.b64decode(entry["content"])
        if len(content) > data.settings().max_file_bytes:
            rows.append(
                [entry["name"], t("status.rejected"), _too_large(entry["name"], len(content)).message]
            )
            continue
        who = signed_in()
        result = data.load_upload(
            content,
            file_name=entry["name"],
            submitted_by=by,
            as_unit=as_unit,
            region=region,
            username=who.username if who else "",
            address=flask.request.remote_addr or "" if flask.has_request_context() else "",
        )
        if result.status == "accepted" and result.tasks:  # a task ledger (layout C)
            detail = "、".join(t("dash.up.task_version", task=task, no=n) for task, n in result.tasks)
        elif result.status == "accepted":
            detail = "、".join(
                t("dash.up.revision", unit=u, period=p, no=n) for u, p, n in result.new_revisions
            )
        elif result.status == "unchanged":
            detail = t("dash.up.unchanged")
        else:
            detail = "；".join(e.message for e in result.errors)
        rows.append([entry["name"], t(f"status.{result.status}"), detail])
    if not rows:
        return no_update, no_update, True, alert(t("dash.up.nothing_to_load"), color="warning"), no_update
    table = cp.table(
        [t("dash.col.file"), t("dash.col.status"), t("dash.col.detail")], rows, class_name="load-results"
    )
    done = dbc.Alert([html.Strong(t("dash.up.loaded", by=by)), table], color="success")
    return None, [], True, done, None
