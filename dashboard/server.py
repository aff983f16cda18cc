"""Serving the dashboard from the command line (``ipdash serve`` / ``ipdash demo``).

Brings the schema to head first, then runs the app on Flask's threaded server, without Dash's
debug mode (which would ask an outside host for the latest Dash version: no internet here).
Several users or workers: ``gunicorn -w 4 'dashboard.app:server'`` with ``IPDASH_DATABASE_URL``.
"""

from __future__ import annotations

import logging
import threading

from foundation.i18n import t


def serve(*, engine_url: str | None = None, host: str = "127.0.0.1", port: int = 8050) -> int:
    from application.submissions import open_database
    from dashboard.app import create_app
    from foundation.settings import get_settings

    settings = get_settings()
    engine = open_database(engine_url or settings.database_url)
    url = engine.url.render_as_string(hide_password=False)
    _say_how_to_add_an_admin(engine, engine_url)
    engine.dispose()
    app = create_app(url, settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _warm_up_in_background(app)
    print(t("dash.serve.listening", url=f"http://{host}:{port}/"), flush=True)
    app.run(host=host, port=port, debug=False, threaded=True)
    return 0


def _say_how_to_add_an_admin(engine, engine_url: str | None) -> None:  # noqa: ANN001
    from sqlmodel import Session

    from application.accounts import has_admin

    with Session(engine) as session:
        if has_admin(session=session):
            return
    print(t("user.no_admin", db=f" --db '{engine_url}'" if engine_url else ""), flush=True)


def _warm_up_in_background(app) -> None:  # noqa: ANN001 - dash.Dash
    """Fill the service caches for the default region while the server starts answering."""
    from dashboard.data import settings, warm_up

    def run() -> None:
        try:
            with app.server.app_context():
                warm_up(settings().region)
        except Exception:  # warming is an optimisation: a failure only means a slower first page
            logging.getLogger(__name__).warning("cache warm-up failed", exc_info=True)

    threading.Thread(target=run, name="ipdash-warm-up", daemon=True).start()
