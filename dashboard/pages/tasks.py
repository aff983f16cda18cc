"""任务督办 The plan-task ledger (issue 11): every task with its colour, red first; filters by plan,
owner and state; counts per owner and per unit; a task's history and evidence; owners report
progress (state, a sentence, evidence files); analysts create, edit and close tasks.

Every rule is the server's: a clerk is shown only its unit's tasks and may report only on them,
whatever the browser sends (``application.tasks``: ``statuses_for``, ``may_report``,
``task_visible``; the gate checks each callback's rule and scope before it runs, and the
application checks again). Every write and every evidence download goes to the audit log.
"""

from __future__ import annotations

import base64
from collections import Counter
from datetime import datetime
from typing import Any

import dash
import dash_bootstrap_components as dbc
import flask
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from application import tasks as tasks_app
from application.access import allowed
from application.evidence import MAX_EVIDENCE_BYTES
from dashboard import components as cp
from dashboard import data, guard
from dashboard.identity import signed_in
from dashboard.safe import alert, log, run_guarded, safe_layout
from foundation.calendar import local_minutes
from foundation.calendar import today as calendar_today
from foundation.catalogue import default_task_catalogue
from foundation.i18n import t
from foundation.tasks import PROGRESS_TEXT, STATE_ORDER, DateFormError, parse_date

TK_PLAN = "tk-plan"
TK_OWNER = "tk-owner"
TK_STATE = "tk-state"
TK_COUNTS = "tk-counts"
TK_TABLE = "tk-table"
TK_BY_OWNER = "tk-by-owner"
TK_BY_UNIT = "tk-by-unit"
TK_TASK = "tk-task"
TK_DETAIL = "tk-detail"
TK_EV_PICK = "tk-ev-pick"
TK_EV_GET = "tk-ev-get"
TK_EV_DOWNLOAD = "tk-ev-download"
TK_PROGRESS = "tk-progress"
TK_DONE_ON = "tk-done-on"
TK_NOTE = "tk-note"
TK_FILES = "tk-files"
TK_REPORT = "tk-report"
TK_REPORT_RESULT = "tk-report-result"
TK_REPORTED = "tk-reported"
TK_NEW_ID = "tk-new-id"
TK_NEW_TITLE = "tk-new-title"
TK_NEW_LEAD = "tk-new-lead"
TK_NEW_OWNERS = "tk-new-owners"
TK_NEW_DEADLINE = "tk-new-deadline"
TK_CREATE = "tk-create"
TK_EDIT = "tk-edit"
TK_CLOSE_REASON = "tk-close-reason"
TK_CLOSE = "tk-close"
TK_ADMIN_RESULT = "tk-admin-result"
TK_ADMINED = "tk-admined"

ROW_CLASS = {"red": "table-danger", "yellow": "table-warning", "green": "table-success"}
BADGE = {"red": "danger", "yellow": "warning", "green": "success"}


def _address() -> str:
    return (flask.request.remote_addr or "") if flask.has_request_context() else ""


def _today() -> Any:
    return calendar_today(data.settings().timezone)


def _region() -> str:
    return data.settings().region


def _statuses() -> list[tasks_app.TaskStatus]:
    with data.session_scope() as session:
        return tasks_app.statuses_for(
            signed_in(), session=session, as_of=_today(), region=_region(), tz=data.settings().timezone
        )


def colour_badges(counts: dict[str, int]) -> html.Div:
    return html.Div(
        [
            dbc.Badge(
                t("tasks.page.count", colour=t(f"tasks.colour.{c}"), n=counts[c]),
                color=BADGE[c],
                className=f"me-2 fs-6 tk-count-{c}",
                text_color="dark" if c == "yellow" else None,
            )
            for c in ("red", "yellow", "green")
        ],
        className="mb-2",
    )


def task_table(rows: list[tasks_app.TaskStatus], *, class_name: str = "tk-list") -> dbc.Table:
    """Tasks as rows coloured by their state (red first, as given)."""
    header = [
        t(f"tasks.page.col.{c}") for c in ("task", "title", "lead", "deadline", "progress", "state", "update")
    ]
    body = []
    for s in rows:
        state = t(f"tasks.state.{s.state}")
        if s.days_overdue:
            state += t("tasks.days_overdue", n=s.days_overdue)
        body.append(
            html.Tr(
                [
                    html.Td(s.task),
                    html.Td(s.title, title=s.source),
                    html.Td(s.lead),
                    html.Td(s.deadline_text or s.deadline),
                    html.Td(t(f"tasks.progress.{s.progress}")),
                    html.Td([html.Span(t(f"tasks.colour.{s.colour}"), className="fw-bold me-1"), state]),
                    html.Td(s.last_update or t("na")),
                ],
                className=f"{ROW_CLASS[s.colour]} tk-row tk-{s.colour}",
                # a plain attribute, not a pattern-matching id: Dash's renderer matches every dict
                # id against the app's wildcard callbacks, which cost the page most of its time
                **{"data-task": s.task},  # type: ignore[arg-type]
            )
        )
    return dbc.Table(
        [html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(body)],
        bordered=True,
        size="sm",
        responsive=True,
        className=class_name,
    )


def _count_table(groups: dict[str, Counter[str]], label: str, class_name: str) -> dbc.Table:
    rows = [
        [name, c["red"], c["yellow"], c["green"], sum(c.values())]
        for name, c in sorted(groups.items(), key=lambda kv: (-kv[1]["red"], -kv[1]["yellow"], kv[0]))
    ]
    header = [label, *(t(f"tasks.colour.{c}") for c in ("red", "yellow", "green")), t("tasks.page.total")]
    return cp.table(header, rows, class_name=class_name)


@safe_layout
def layout(**_query: Any) -> html.Div:
    """Drawn with its first view (every task, no filter): the page needs no callback to show it."""
    who = signed_in()
    counts, table, by_owner, by_unit, owner_options, task_options = run_guarded(
        lambda: _render(None, None, None), lambda msg: (alert(msg), None, None, None, [], [])
    )
    plans = default_task_catalogue().plans
    plan_options = [{"label": f"{p.doc_no or p.title}", "value": code} for code, p in sorted(plans.items())]
    state_options = [{"label": t(f"tasks.colour.{c}"), "value": c} for c in ("red", "yellow", "green")] + [
        {"label": t(f"tasks.state.{s}"), "value": s} for s in STATE_ORDER
    ]
    filters = dbc.Row(
        [
            dbc.Col(cp.dropdown(id=TK_PLAN, options=plan_options, placeholder=t("tasks.page.plan")), md=4),
            dbc.Col(cp.dropdown(id=TK_OWNER, options=owner_options, placeholder=t("tasks.page.owner")), md=4),
            dbc.Col(cp.dropdown(id=TK_STATE, options=state_options, placeholder=t("tasks.page.state")), md=4),
        ],
        className="g-2 mb-2",
    )
    detail = dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("tasks.page.detail_title")),
                cp.dropdown(id=TK_TASK, options=task_options, placeholder=t("tasks.page.pick_task")),
                html.Div(
                    html.P(t("tasks.page.pick_task"), className="small text-muted"),
                    id=TK_DETAIL,
                    className="mt-2",
                ),
                dbc.Row(
                    [
                        dbc.Col(
                            cp.dropdown(id=TK_EV_PICK, options=[], placeholder=t("tasks.page.evidence")), md=6
                        ),
                        dbc.Col(
                            dbc.Button(t("tasks.page.download"), id=TK_EV_GET, color="secondary"), md="auto"
                        ),
                    ],
                    className="g-2 mt-1",
                ),
                dcc.Download(id=TK_EV_DOWNLOAD),
            ]
        ),
        className="mb-3",
    )
    cards: list[Any] = [detail]
    if allowed(who, "report_task"):
        cards.append(_report_card())
    if allowed(who, "manage"):
        cards.append(_admin_card())
    return html.Div(
        [
            cp.page_title(t("tasks.page.title")),
            html.P(t("tasks.page.help"), className="small text-muted"),
            dcc.Store(id=TK_REPORTED),
            dcc.Store(id=TK_ADMINED),
            html.Div(counts, id=TK_COUNTS),
            filters,
            html.Div(table, id=TK_TABLE),
            dbc.Row(
                [
                    dbc.Col([html.H5(t("tasks.page.by_owner")), html.Div(by_owner, id=TK_BY_OWNER)], md=6),
                    dbc.Col([html.H5(t("tasks.page.by_unit")), html.Div(by_unit, id=TK_BY_UNIT)], md=6),
                ],
                className="mt-3",
            ),
            *cards,
        ]
    )


def _report_card() -> dbc.Card:
    return dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("tasks.page.report_title")),
                html.P(
                    t("tasks.page.report_help", limit=MAX_EVIDENCE_BYTES // (1024 * 1024)),
                    className="small text-muted",
                ),
                dbc.RadioItems(
                    id=TK_PROGRESS,
                    options=[{"label": text, "value": key} for key, text in PROGRESS_TEXT.items()],
                    value="in_progress",
                    inline=True,
                ),
                dcc.Input(id=TK_DONE_ON, placeholder=t("tasks.page.done_on"), className="form-control mt-2"),
                dcc.Textarea(
                    id=TK_NOTE,
                    placeholder=t("tasks.page.note"),
                    maxLength=tasks_app.MAX_NOTE,
                    className="form-control mt-2",
                ),  # fmt: skip
                dcc.Upload(
                    id=TK_FILES,
                    children=html.Div(t("tasks.page.drop")),
                    multiple=True,
                    max_size=MAX_EVIDENCE_BYTES,
                    className="upload-zone mt-2",
                ),
                dbc.Button(t("tasks.page.report"), id=TK_REPORT, color="primary", className="mt-2"),
                html.Div(id=TK_REPORT_RESULT, className="mt-2"),
            ]
        ),
        className="mb-3",
    )


def _admin_card() -> dbc.Card:
    def field(component_id: str, label: str) -> dbc.Col:
        return dbc.Col(dcc.Input(id=component_id, placeholder=label, className="form-control"), md=4)

    return dbc.Card(
        dbc.CardBody(
            [
                html.H4(t("tasks.page.admin_title")),
                html.P(t("tasks.page.admin_help"), className="small text-muted"),
                dbc.Row(
                    [
                        field(TK_NEW_ID, t("tasks.page.col.task")),
                        field(TK_NEW_TITLE, t("tasks.page.col.title")),
                        field(TK_NEW_LEAD, t("tasks.page.col.lead")),
                        field(TK_NEW_OWNERS, t("tasks.page.owners")),
                        field(TK_NEW_DEADLINE, t("tasks.page.col.deadline")),
                    ],
                    className="g-2",
                ),
                dbc.Button(t("tasks.page.create"), id=TK_CREATE, color="primary", className="mt-2 me-2"),
                dbc.Button(t("tasks.page.edit"), id=TK_EDIT, color="secondary", className="mt-2"),
                dbc.Row(
                    [
                        field(TK_CLOSE_REASON, t("tasks.page.close_reason")),
                        dbc.Col(dbc.Button(t("tasks.page.close"), id=TK_CLOSE, color="warning"), md="auto"),
                    ],
                    className="g-2 mt-2",
                ),
                html.Div(id=TK_ADMIN_RESULT, className="mt-2"),
            ]
        ),
        className="mb-3",
    )


# --- reading -------------------------------------------------------------------------------------


def _render(plan: str | None, owner: str | None, state: str | None) -> tuple:
    rows = _statuses()
    owners = sorted({o for s in rows for o in s.owners})
    shown = [
        s
        for s in rows
        if (not plan or s.plan == plan)
        and (not owner or owner in s.owners)
        and (not state or state in (s.colour, s.state))
    ]
    labels = cp.unit_labels(_region(), short=False)
    by_owner: dict[str, Counter[str]] = {}
    by_unit: dict[str, Counter[str]] = {}
    for s in shown:
        by_owner.setdefault(s.lead, Counter())[s.colour] += 1
        for u in s.units:
            by_unit.setdefault(labels.get(u, u), Counter())[s.colour] += 1
    counts = tasks_app.colour_counts(shown)
    table = task_table(shown) if shown else html.P(t("tasks.sheet.none"), className="text-muted")
    task_options = [
        {"label": f"{s.task} {s.title}", "value": s.task} for s in sorted(rows, key=lambda s: s.task)
    ]
    return (
        colour_badges(counts),
        table,
        _count_table(by_owner, t("tasks.page.col.lead"), "tk-by-owner"),
        _count_table(by_unit, t("tasks.page.unit"), "tk-by-unit"),
        [{"label": o, "value": o} for o in owners],
        task_options,
    )


def _local(stamp: Any) -> str:
    return local_minutes(stamp, data.settings().timezone) or t("na")


def _change_text(changes: dict[str, Any]) -> str:
    parts = []
    for name, value in changes.items():
        if name == "reason":
            parts.append(t("tasks.page.reason", reason=value))
            continue
        old, new = value
        label = t(f"tasks.field.{name}")
        if name == "progress":
            old, new = (t(f"tasks.progress.{v}") if v else t("na") for v in (old, new))
        elif isinstance(new, list):
            old, new = "、".join(old or []) or t("na"), "、".join(new) or t("na")
        parts.append(
            f"{label}：{old if old not in (None, '') else t('na')} → {new if new not in (None, '') else t('na')}"
        )
    return "；".join(parts)


def _first_text(version: Any) -> str:
    """The first stored version: what it reported (the catalogue's text stays as the plan has it)."""
    parts = [
        t("tasks.page.first_version"),
        f"{t('tasks.field.progress')}：{t(f'tasks.progress.{version.progress}')}",
    ]
    if version.done_on:
        parts.append(f"{t('tasks.field.done_on')}：{version.done_on.isoformat()}")
    if version.note:
        parts.append(f"{t('tasks.field.note')}：{version.note}")
    return "；".join(parts)


def _detail(task: str) -> tuple[Any, list[dict[str, Any]]]:
    with data.session_scope() as session:
        versions, files = tasks_app.task_history(signed_in(), task, session=session, region=_region())
    by_version: dict[int, list[Any]] = {}
    for f in files:
        by_version.setdefault(f.version_id, []).append(f)
    rows = [
        [
            v.version_no,
            _local(v.recorded_at),
            v.recorded_by,
            t(f"tasks.action.{v.action}"),
            _change_text(v.changes) if v.version_no > 1 else _first_text(v),
            "、".join(
                f"{f.file_name}（SHA-256 {f.sha256[:12]}…）" for f in by_version.get(int(v.id or 0), [])
            ),
        ]
        for v in reversed(versions)
    ]
    header = [t(f"tasks.page.col.{c}") for c in ("version", "at", "by", "action", "changes", "files")]
    view = (
        cp.table(header, rows, class_name="tk-history")
        if rows
        else html.P(t("tasks.page.no_history"), className="small text-muted")
    )
    options = [{"label": f"{f.file_name}（{f.uploaded_by}）", "value": f.id} for f in files]
    return view, options


# --- writing -------------------------------------------------------------------------------------


def _decode(contents: list[str] | None, names: list[str] | None) -> list[tuple[str, bytes]]:
    files = []
    for content, name in zip(contents or [], names or [], strict=False):
        try:
            raw = base64.b64decode(content.split(",", 1)[1], validate=True)
        except (ValueError, IndexError) as exc:
            raise tasks_app.TaskError(t("tasks.page.unreadable", file=name)) from exc
        files.append((name, raw))
    return files


def _report(
    task: str | None, progress: str, done_on: str | None, note: str | None, contents: Any, names: Any
) -> Any:
    who = signed_in()
    assert who is not None  # the gate lets no anonymous request here
    if not task:
        return alert(t("tasks.page.pick_task_first"), color="warning"), no_update
    day = None
    if (done_on or "").strip():
        try:
            day = parse_date(done_on, allow_ongoing=False)
        except DateFormError:
            return alert(t("tasks.page.bad_date", value=done_on), color="warning"), no_update
    try:
        files = _decode(contents, names)
        with data.session_scope() as session:
            no = tasks_app.report_progress(
                session=session, account=who, task=task, progress=progress, note=note or "",
                done_on=day, files=files, today=_today(), address=_address(), region=_region(),
            )  # fmt: skip
            session.commit()
    except tasks_app.TaskError as exc:
        return alert(str(exc), color="warning"), no_update
    return alert(t("tasks.page.reported", task=task, no=no), color="success"), datetime.now().isoformat()


def _admin(trigger: str, task: str | None, fields: list[str | None], reason: str | None) -> Any:
    who = signed_in()
    assert who is not None
    new_id, title, lead, owners, deadline = (f or "" for f in fields)
    spec = tasks_app.TaskFields(title, lead, owners, deadline)
    try:
        with data.session_scope() as session:
            if trigger == TK_CREATE:
                tasks_app.create_task(
                    session=session, account=who, task=new_id, fields=spec, address=_address()
                )
                message = t("tasks.page.created", task=new_id.strip())
            elif not task:
                return alert(t("tasks.page.pick_task_first"), color="warning"), no_update
            elif trigger == TK_EDIT:
                done = tasks_app.edit_task(
                    session=session, account=who, task=task, fields=spec, address=_address()
                )
                message = t("tasks.page.edited" if done else "tasks.page.not_edited", task=task)
            else:
                tasks_app.close_task(
                    session=session, account=who, task=task, reason=reason or "", address=_address()
                )
                message = t("tasks.page.closed", task=task)
            session.commit()
    except tasks_app.TaskError as exc:
        return alert(str(exc), color="warning"), no_update
    return alert(message, color="success"), datetime.now().isoformat()


# --- who may call what (the gate checks these before a callback runs) ----------------------------


def _task_scope(account: Any, args: dict[str, Any]) -> bool:
    task = args.get(f"{TK_TASK}.value")
    if not task:
        return True  # nothing asked about
    with data.session_scope() as session:
        return tasks_app.task_visible(account, str(task), session=session, region=_region())


def _report_scope(account: Any, args: dict[str, Any]) -> bool:
    task = args.get(f"{TK_TASK}.value")
    if not task:
        return True
    with data.session_scope() as session:
        return tasks_app.may_report_task(account, str(task), session=session, region=_region())


def _evidence_scope(account: Any, args: dict[str, Any]) -> bool:
    picked = args.get(f"{TK_EV_PICK}.value")
    if picked in (None, ""):
        return True
    try:
        evidence_id = int(picked)
    except (TypeError, ValueError):
        return False
    with data.session_scope() as session:
        return tasks_app.evidence_visible(account, evidence_id, session=session)


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/tasks",
        name=t("tasks.page.name"),
        title=t("tasks.page.browser_title"),
        order=6,
        layout=layout,
        permission="view",
    )

    @guard.callback(
        app,
        "view",
        Output(TK_COUNTS, "children"),
        Output(TK_TABLE, "children"),
        Output(TK_BY_OWNER, "children"),
        Output(TK_BY_UNIT, "children"),
        Output(TK_OWNER, "options"),
        Output(TK_TASK, "options"),
        Input(TK_PLAN, "value"),
        Input(TK_OWNER, "value"),
        Input(TK_STATE, "value"),
        Input(TK_REPORTED, "data"),
        Input(TK_ADMINED, "data"),
        prevent_initial_call=True,  # the layout drew every task
    )
    def update(plan: str | None, owner: str | None, state: str | None, _r: Any, _a: Any):  # noqa: ANN202
        return run_guarded(
            lambda: _render(plan, owner, state), lambda msg: (alert(msg), None, None, None, [], [])
        )

    @guard.callback(
        app,
        "view",
        Output(TK_DETAIL, "children"),
        Output(TK_EV_PICK, "options"),
        Input(TK_TASK, "value"),
        Input(TK_REPORTED, "data"),
        prevent_initial_call=True,  # no task is picked when the page opens
        scope=_task_scope,
    )
    def detail(task: str | None, _r: Any):  # noqa: ANN202
        if not task:
            return html.P(t("tasks.page.pick_task"), className="small text-muted"), []
        return run_guarded(lambda: _detail(task), lambda msg: (alert(msg), []))

    @guard.callback(
        app,
        "view",
        Output(TK_EV_DOWNLOAD, "data"),
        Input(TK_EV_GET, "n_clicks"),
        State(TK_EV_PICK, "value"),
        prevent_initial_call=True,
        scope=_evidence_scope,
    )
    def download(_clicks: Any, picked: Any):  # noqa: ANN202
        if picked in (None, ""):
            raise PreventUpdate
        who = signed_in()
        with data.session_scope() as session:
            try:
                name, _media, content = tasks_app.evidence_download(
                    who, int(picked), session=session, address=_address(), region=_region()
                )
            except PermissionError:
                raise PreventUpdate from None
            session.commit()
        return dcc.send_bytes(content, name)

    @guard.callback(
        app,
        "report_task",
        Output(TK_REPORT_RESULT, "children"),
        Output(TK_REPORTED, "data"),
        Input(TK_REPORT, "n_clicks"),
        State(TK_TASK, "value"),
        State(TK_PROGRESS, "value"),
        State(TK_DONE_ON, "value"),
        State(TK_NOTE, "value"),
        State(TK_FILES, "contents"),
        State(TK_FILES, "filename"),
        prevent_initial_call=True,
        scope=_report_scope,
    )
    def report(_clicks: Any, task: Any, progress: Any, done_on: Any, note: Any, contents: Any, names: Any):  # noqa: ANN202
        try:
            return _report(task, progress or "", done_on, note, contents, names)
        except PermissionError:
            return alert(t("tasks.page.refused"), color="danger"), no_update
        except Exception:
            log.exception("task report failed")
            return alert(t("dash.error.internal")), no_update

    @guard.callback(
        app,
        "manage",
        Output(TK_NEW_TITLE, "value"),
        Output(TK_NEW_LEAD, "value"),
        Output(TK_NEW_OWNERS, "value"),
        Output(TK_NEW_DEADLINE, "value"),
        Input(TK_TASK, "value"),
        prevent_initial_call=True,
        scope=_task_scope,
    )
    def prefill(task: str | None):  # noqa: ANN202
        """The chosen task's fields in the analysts' form, to edit from."""
        if not task:
            raise PreventUpdate
        with data.session_scope() as session:
            found = tasks_app.task_fields(task, session=session, region=_region())
        if found is None:
            raise PreventUpdate
        return found.title, found.lead, found.owners, found.deadline

    @guard.callback(
        app,
        "manage",
        Output(TK_ADMIN_RESULT, "children"),
        Output(TK_ADMINED, "data"),
        Input(TK_CREATE, "n_clicks"),
        Input(TK_EDIT, "n_clicks"),
        Input(TK_CLOSE, "n_clicks"),
        State(TK_TASK, "value"),
        State(TK_NEW_ID, "value"),
        State(TK_NEW_TITLE, "value"),
        State(TK_NEW_LEAD, "value"),
        State(TK_NEW_OWNERS, "value"),
        State(TK_NEW_DEADLINE, "value"),
        State(TK_CLOSE_REASON, "value"),
        prevent_initial_call=True,
    )
    def admin(
        _c: Any,
        _e: Any,
        _x: Any,
        task: Any,
        new_id: Any,
        title: Any,
        lead: Any,
        owners: Any,
        deadline: Any,
        reason: Any,
    ):  # noqa: ANN202, E501
        trigger = ctx.triggered_id
        if trigger not in (TK_CREATE, TK_EDIT, TK_CLOSE):
            raise PreventUpdate
        try:
            return _admin(str(trigger), task, [new_id, title, lead, owners, deadline], reason)
        except PermissionError:
            return alert(t("tasks.page.refused"), color="danger"), no_update
        except Exception:
            log.exception("task change failed")
            return alert(t("dash.error.internal")), no_update


def unit_tasks(unit: str) -> Any:
    """The unit page's list: the tasks ``unit`` owns, red first (the caller may see the unit)."""
    with data.session_scope() as session:
        rows = tasks_app.task_statuses(session=session, as_of=_today(), unit=unit, region=_region())
    if not rows:
        return html.P(t("tasks.sheet.none"), className="small text-muted")
    return html.Div(
        [colour_badges(tasks_app.colour_counts(rows)), task_table(rows, class_name="tk-unit-list")]
    )


def region_counts() -> Any:
    """The overview's line: red / yellow / green tasks of the region today (every task: the
    overview shows the region as a 通报 would)."""
    with data.session_scope() as session:
        rows = tasks_app.task_statuses(session=session, as_of=_today(), region=_region())
    return html.Div(
        [html.Span(t("tasks.page.overview"), className="me-2"), colour_badges(tasks_app.colour_counts(rows))],
        className="d-flex align-items-baseline tk-overview",
    )
