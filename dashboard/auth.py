"""Sign-in, sessions and the gate in front of every request (issue 9).

- Flask-Login keeps the signed-in account in Flask's signed session cookie (HttpOnly,
  SameSite=Lax, Secure when ``IPDASH_HTTPS``); the cookie names the account and its
  ``auth_stamp``, so a changed password, role or a disabled account ends every session.
- The signing key is ``IPDASH_SECRET_KEY``, else generated once and kept in the database
  (``application.accounts.shared_secret``): every gunicorn worker signs with the same key.
- ``_gate`` runs before every request: the sign-in page and its stylesheet are public; an
  anonymous page request is sent to ``/login``; any other anonymous request gets 401; a POST
  from another origin or without a valid CSRF token (Flask-WTF; Dash's renderer sends the
  ``_csrf_token`` cookie back as ``X-CSRFToken``) gets 403; pages and callbacks are checked
  against ``dashboard.guard``'s rules and refused with 403 (audited) before they run; an allowed
  request for a cached view is then answered from ``dashboard.response_cache`` when it can be.
- Every response carries a Content-Security-Policy (Dash's inline scripts allowed by their
  hashes), ``X-Frame-Options: DENY``, ``nosniff`` and a ``Referrer-Policy``.
- Single sign-on: only when ``IPDASH_SSO_HEADER`` and ``IPDASH_SSO_PROXIES`` are both set, and
  only for requests from those addresses, the header names an existing, active account.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import dash
import flask
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf
from markupsafe import escape
from werkzeug.exceptions import RequestEntityTooLarge

from application import accounts, audit
from application.access import Account
from dashboard import data, guard, response_cache
from foundation.i18n import t

CSRF_COOKIE = "_csrf_token"
SESSION_COOKIE = "ipdash_session"
PUBLIC_PATHS = ("/login", "/vendor/bootstrap.min.css", "/_favicon.ico")
CALLBACK_PATH = "/_dash-update-component"
_SEEN = "seen"

csrf = CSRFProtect()
log = logging.getLogger("dashboard.auth")


def account() -> Account | None:
    """The signed-in account of this request, or None."""
    if not flask.has_request_context() or not hasattr(flask.current_app, "login_manager"):
        return None  # not the dashboard app (no sign-in there)
    user = current_user._get_current_object()
    return user if isinstance(user, Account) else None


def _address() -> str:
    return flask.request.remote_addr or ""


def _engine():  # noqa: ANN202 - sqlalchemy Engine
    from application.submissions import engine_for

    return engine_for(data.database_url())


def audit_now(
    kind: str, *, outcome: str = "ok", detail: dict[str, Any] | None = None, username: str | None = None
) -> None:
    """Record an event for this request's person in a transaction of its own."""
    who = account()
    audit.record_now(
        kind,
        engine=_engine(),
        username=username if username is not None else (who.username if who else ""),
        address=_address(),
        outcome=outcome,
        detail=detail or {},
    )


class _SharedKeySession(SecureCookieSessionInterface):
    """Flask's signed-cookie session whose key is resolved at the first request (building the
    app touches no database): the setting, else the key stored in the database."""

    def get_signing_serializer(self, app: flask.Flask):  # noqa: ANN201
        if not app.secret_key:
            app.secret_key = data.settings().secret_key or accounts.shared_secret(_engine())
        return super().get_signing_serializer(app)


def install(app: dash.Dash) -> None:
    server: flask.Flask = app.server
    settings = server.config[data.SETTINGS_KEY]  # read once by the app factory
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.https,
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,
        MAX_CONTENT_LENGTH=settings.max_request_bytes(),
        WTF_CSRF_CHECK_DEFAULT=False,  # the gate calls protect() after its own checks
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (idle timeout)
        WTF_CSRF_SSL_STRICT=True,
    )
    server.session_interface = _SharedKeySession()
    manager = LoginManager()
    manager.init_app(server)
    manager.session_protection = None  # sessions end by idle timeout and auth stamps

    @manager.user_loader
    def load_user(session_id: str) -> Account | None:
        with data.session_scope() as session:
            return accounts.load_session_user(session=session, session_id=session_id)

    @manager.request_loader
    def load_from_proxy(request: flask.Request) -> Account | None:
        return _sso_account(request)

    csrf.init_app(server)
    response_cache.install(server, settings)
    server.before_request(lambda: _gate(app))
    server.after_request(_headers_factory(app))
    server.register_error_handler(CSRFError, _csrf_refused)
    server.register_error_handler(RequestEntityTooLarge, _too_large)
    server.add_url_rule("/login", endpoint="ipdash_login", view_func=_login, methods=["GET", "POST"])
    server.add_url_rule("/logout", endpoint="ipdash_logout", view_func=_logout, methods=["POST"])


# --- single sign-on behind a proxy ---------------------------------------------------------------


def _sso_account(request: flask.Request) -> Account | None:
    settings = data.settings()
    proxies = settings.sso_proxy_addresses()
    if not settings.sso_header or not proxies or request.remote_addr not in proxies:
        return None
    name = (request.headers.get(settings.sso_header) or "").strip()
    if not name:
        return None
    with data.session_scope() as session:
        found = accounts.get_user(session=session, username=name)
    return found if found is not None and found.active else None


# --- the gate ------------------------------------------------------------------------------------


def _path() -> str:
    return "/" + (dash.strip_relative_path(flask.request.path) or "")


def is_page_path(path: str) -> bool:
    return not (path.startswith("/_") or path.startswith("/assets/") or path.startswith("/vendor/"))


def _refuse(status: int, reason: str, **detail: Any) -> flask.Response:
    """401 (not signed in) or 403 (refused, audited), before anything runs."""
    if status == 403:
        log.warning("refused %s %s: %s %s", flask.request.method, flask.request.path, reason, detail)
        audit_now(
            "refused", outcome="refused", detail={"path": flask.request.path, "reason": reason, **detail}
        )
    body = t("auth.refused") if status == 403 else t("auth.sign_in_first")
    return flask.Response(body, status=status, mimetype="text/plain")


def _same_origin() -> bool:
    """A state-changing request must come from this site: its Origin (else Referer) header, when
    sent, names this host."""
    request = flask.request
    origin = request.headers.get("Origin") or ""
    if not origin or origin == "null":
        referer = request.headers.get("Referer") or ""
        if not referer:
            return origin != "null"
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return origin.rstrip("/") == request.host_url.rstrip("/")


def _idle_expired() -> bool:
    """True when this session was unused for longer than the idle timeout (it is then ended)."""
    session = flask.session
    now = time.time()
    seen = session.get(_SEEN)
    if account() is not None and isinstance(seen, int | float):
        if now - float(seen) > data.settings().idle_minutes * 60:
            who = account()
            audit_now("session_expired", username=who.username if who else "")
            logout_user()
            session.clear()
            return True
    if account() is not None and "_user_id" in session:
        session[_SEEN] = int(now)
        session.permanent = True
    return False


def _gate(app: dash.Dash) -> Any:
    request = flask.request
    path = _path()
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if unsafe and not _same_origin():
        return _refuse(403, "cross_origin", origin=request.headers.get("Origin", ""))
    if path in PUBLIC_PATHS:
        if unsafe:
            csrf.protect()
        return None
    if "_user_id" in flask.session:
        _idle_expired()
    who = account()
    if who is None:
        if request.method == "GET" and is_page_path(path):
            return flask.redirect(_login_url(request.full_path if request.query_string else path))
        return _refuse(401, "anonymous")
    if unsafe:
        csrf.protect()
    if path == "/_dash-update-component":
        body = request.get_json(silent=True) or {}
        if not guard.callback_allowed(app, who, body):
            return _refuse(403, "callback", output=str(body.get("output", ""))[:200])
        cache = response_cache.of(app.server)
        if cache is not None and guard.cacheable(app, body):
            return cache.serve(who, body)  # the stored bytes, or None: Dash runs the callback
    elif request.method == "GET" and is_page_path(path):
        page, variables = guard.page_for(path)
        if not guard.page_allowed(who, page, variables):
            return _refuse(403, "page")
    return None


def _login_url(next_path: str) -> str:
    from urllib.parse import urlencode

    return dash.get_relative_path("/login") + "?" + urlencode({"next": next_path})


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return dash.get_relative_path("/")


def _csrf_refused(error: CSRFError) -> flask.Response:
    return _refuse(403, "csrf", message=str(error.description))


def _too_large(_error: RequestEntityTooLarge) -> flask.Response:
    limit = data.settings().max_request_bytes()
    return flask.Response(
        t("auth.too_large", limit=f"{limit / 1024 / 1024:.0f} MB"), status=413, mimetype="text/plain"
    )


# --- sign-in and sign-out pages ------------------------------------------------------------------

_LOGIN_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="{css}"></head>
<body class="bg-light"><main class="container" style="max-width: 26rem">
<h1 class="h4 my-4">{app}</h1>
{message}
<form method="post" action="{action}" class="card card-body" id="login-form">
<input type="hidden" name="csrf_token" value="{token}">
<input type="hidden" name="next" value="{next}">
<label class="form-label" for="username">{user_label}</label>
<input class="form-control mb-3" id="username" name="username" autocomplete="username" required value="{username}">
<label class="form-label" for="password">{password_label}</label>
<input class="form-control mb-3" id="password" name="password" type="password" autocomplete="current-password" required>
<button class="btn btn-primary" type="submit" id="login-submit">{submit}</button>
</form>
<p class="small text-muted mt-3">{help}</p>
</main></body></html>"""


def _login_page(
    *, message: str = "", username: str = "", next_path: str = "/", status: int = 200
) -> flask.Response:
    alert = f'<div class="alert alert-danger" id="login-message">{escape(message)}</div>' if message else ""
    html = _LOGIN_PAGE.format(
        title=escape(t("auth.title")),
        css=escape(dash.get_relative_path("/vendor/bootstrap.min.css")),
        app=escape(t("app.title")),
        message=alert,
        action=escape(dash.get_relative_path("/login")),
        token=escape(generate_csrf()),
        next=escape(next_path),
        user_label=escape(t("auth.username")),
        password_label=escape(t("auth.password")),
        username=escape(username),
        submit=escape(t("auth.submit")),
        help=escape(t("auth.help")),
    )
    return flask.Response(html, status=status, mimetype="text/html")


def _login() -> Any:
    request = flask.request
    next_path = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if account() is not None:
            return flask.redirect(next_path)
        return _login_page(next_path=next_path)
    username = (request.form.get("username") or "").strip()[:40]
    password = request.form.get("password") or ""
    settings = data.settings()
    with data.session_scope() as session:
        result = accounts.authenticate(
            session=session,
            username=username,
            password=password,
            address=_address(),
            max_failures=settings.login_max_failures,
            window=timedelta(minutes=settings.login_window_minutes),
        )
        session.commit()
    if result.locked:
        return _login_page(
            message=t("auth.locked", minutes=settings.login_window_minutes),
            username=username,
            next_path=next_path,
            status=429,
        )
    if result.account is None:
        return _login_page(message=t("auth.wrong"), username=username, next_path=next_path, status=401)
    flask.session.clear()  # a new session on sign-in (no fixation)
    login_user(result.account)
    flask.session[_SEEN] = int(time.time())
    flask.session.permanent = True
    return flask.redirect(next_path, code=303)


def _logout() -> Any:
    who = account()
    if who is not None:
        audit_now("logout")
    logout_user()
    flask.session.clear()
    response = flask.redirect(dash.get_relative_path("/login"), code=303)
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


# --- headers on every response -------------------------------------------------------------------


def _headers_factory(app: dash.Dash):  # noqa: ANN202
    hashes: list[str] = []

    def add_headers(response: flask.Response) -> flask.Response:
        if not hashes:
            # Dash's own inline scripts (the renderer's start and the clientside callbacks),
            # allowed one by one by their hashes: no 'unsafe-inline' for scripts.
            hashes.extend(app.csp_hashes())
        policy = {
            "default-src": "'self'",
            "script-src": " ".join(["'self'", *hashes]),
            # Plotly and Dash's components set style attributes and inject <style> elements.
            "style-src": "'self' 'unsafe-inline'",
            "img-src": "'self' data: blob:",
            "font-src": "'self' data:",
            "connect-src": "'self'",
            "object-src": "'none'",
            "base-uri": "'self'",
            "form-action": "'self'",
            "frame-ancestors": "'none'",
        }
        headers = response.headers
        headers["Content-Security-Policy"] = "; ".join(f"{k} {v}" for k, v in policy.items())
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if data.settings().https:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        path = _path()
        if not (
            path.startswith("/_dash-component-suites/")
            or path.startswith("/assets/")
            or path.startswith("/vendor/")
        ):
            headers["Cache-Control"] = "no-store"
        if account() is not None and flask.request.method == "GET" and is_page_path(path):
            # Dash's renderer reads this cookie and sends it back as X-CSRFToken.
            response.set_cookie(
                CSRF_COOKIE,
                generate_csrf(),
                httponly=False,
                samesite="Strict",
                secure=data.settings().https,
                path="/",
            )
        return response

    return add_headers
