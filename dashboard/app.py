"""The Dash app: ``create_app(database_url)`` builds it; ``app``/``server`` are the WSGI entry point
(``gunicorn 'dashboard.app:server'``). Creating the app touches no database: the engine is built
at the first request that needs it, in each worker.

Everything is served from this server (a government intranet has no internet): Bootstrap's CSS
from the installed Bootstrap-Flask package, Plotly's zh-CN locale inside each graph's config,
Dash's and the components' scripts locally (``serve_locally``).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import dash
import flask
from dash.exceptions import DependencyException
from werkzeug.exceptions import HTTPException

from application import service
from application.snapshots import DirectorySnapshots
from dashboard import auth, shell
from dashboard.data import CONFIG_KEY, SETTINGS_KEY
from foundation.catalogue import install_catalogue
from foundation.i18n import set_language, t
from foundation.settings import Settings, get_settings

ASSETS = Path(__file__).with_name("assets")
# Order of the navigation; each module registers itself with dash.register_page. A page added
# later (issue 5's 报送情况) appends its module here and gets a nav entry by its ``order``.
PAGE_MODULES = [
    "dashboard.pages.overview",
    "dashboard.pages.rankings",
    "dashboard.pages.comparison",
    "dashboard.pages.trends",
    "dashboard.pages.unit",
    "dashboard.pages.upload",
    "dashboard.pages.status",
    "dashboard.pages.tasks",
    "dashboard.pages.manage",
    "dashboard.pages.audit",
]
VENDOR_CSS = "vendor/bootstrap.min.css"


def _bootstrap_css_path() -> Path:
    import flask_bootstrap

    return Path(flask_bootstrap.__file__).parent / "static" / "bootstrap5" / "css" / "bootstrap.min.css"


def create_app(database_url: str | None = None, settings: Settings | None = None) -> dash.Dash:
    """A new dashboard app reading ``database_url`` (default: the settings' database URL).

    The app factory is an edge: it reads the settings once (``get_settings()`` unless given) and
    keeps them in the Flask config, where every page and callback finds them (``data.settings()``).
    """
    settings = settings or get_settings()
    set_language(settings.language)
    # The catalogue folder (IPDASH_CATALOGUE_DIR): every page, picker and callback reads it.
    # A folder with problems raises CatalogueError naming each one: the app does not start.
    install_catalogue(settings.catalogue_dir, region=settings.region)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",  # pages are imported and registered explicitly below
        assets_folder=str(ASSETS),
        serve_locally=True,
        suppress_callback_exceptions=True,  # page components appear only when their page is shown
        title=t("app.title"),
        update_title=None,  # type: ignore[arg-type]  # None turns title updates off (Dash docs); stubs say str
    )
    server: flask.Flask = app.server
    server.config[SETTINGS_KEY] = settings
    service.use_snapshots(DirectorySnapshots(settings.snapshot_dir) if settings.snapshot_dir else None)
    if database_url:
        server.config[CONFIG_KEY] = database_url

    css_path = _bootstrap_css_path()

    def vendor_css() -> flask.Response:
        response = flask.send_file(css_path, mimetype="text/css", max_age=86400)
        return response

    server.add_url_rule(
        app.config.routes_pathname_prefix + VENDOR_CSS, endpoint="vendor_bootstrap_css", view_func=vendor_css
    )
    app.config.external_stylesheets = [app.get_relative_path("/" + VENDOR_CSS)]

    @server.errorhandler(DependencyException)
    def _no_such_component_file(_exc: DependencyException) -> tuple[str, int]:
        # Dash refuses any path it did not register (so ..%2f leaks nothing) by raising, which
        # Flask would answer with 500: a file that is not there is a 404.
        return t("dash.not_found"), 404

    @server.errorhandler(Exception)
    def _internal_error(exc: Exception) -> Any:
        # A bug outside the guarded callbacks: logged with its traceback under an id the page shows.
        if isinstance(exc, HTTPException):
            return exc
        from dashboard.safe import internal_error

        return internal_error(f"{flask.request.method} {flask.request.path}", exc), 500

    for name in PAGE_MODULES:
        importlib.import_module(name).register(app)
    app.layout = shell.layout
    shell.register_callbacks(app)
    auth.install(app)
    return app


# The WSGI entry point. No database work happens here: the URL is resolved per request.
app = create_app()
server = app.server
