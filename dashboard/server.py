"""Serving the dashboard from the command line (``ipdash serve`` / ``ipdash demo``).

Brings the schema to head once, in the master process, then runs the app on gunicorn (a
production WSGI server: pre-forked worker processes, each with a few threads), without Dash's
debug mode (which would ask an outside host for the latest Dash version: no internet here).
Before forking, the master reads the default region once (from a snapshot when
``IPDASH_SNAPSHOT_DIR`` holds one, else from the database) and computes what a first visit asks:
every worker — those forked at start and any gunicorn forks later to replace one — starts with
those frames and results, shared copy-on-write with the master, so its first request does not wait
for a region-wide read. Each worker then catches up with uploads since (only the changed
unit-months are read again) in the background. Uploads from several
workers at once are serialised per unit-month by the store (``store.repo.lock_unit_periods``).
``gunicorn 'dashboard.app:server'`` with ``IPDASH_DATABASE_URL`` remains possible for a custom setup.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from foundation.i18n import t


def serve(
    *,
    engine_url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8050,
    workers: int = 2,
    threads: int = 4,
) -> int:
    from gunicorn.app.base import BaseApplication

    from application.submissions import open_database
    from dashboard.app import create_app
    from foundation.catalogue import install_catalogue
    from foundation.settings import get_settings

    settings = get_settings()
    # Before the schema upgrade (it copies the catalogue's units into the store); the workers
    # gunicorn forks inherit it. ``ipdash serve`` has installed it already: this is a no-op then.
    install_catalogue(settings.catalogue_dir, region=settings.region)
    engine = open_database(engine_url or settings.database_url)
    url = engine.url.render_as_string(hide_password=False)
    _say_how_to_add_an_admin(engine, engine_url)
    engine.dispose()  # no connection crosses the fork into the workers
    app = create_app(url, settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    _warm_up_before_fork(app, url)

    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "timeout": 120,  # a large upload takes a few seconds; the region is read before forking
        "graceful_timeout": 10,
        "control_socket_disable": True,  # gunicorn 27 would put a socket in $HOME; nothing uses it
        "loglevel": "info",
        "errorlog": "-",
        "post_worker_init": lambda _worker: _warm_up_in_background(app),
        "when_ready": lambda _arbiter: print(
            t("dash.serve.listening", url=f"http://{host}:{port}/", workers=workers, threads=threads),
            flush=True,
        ),
    }

    class _Server(BaseApplication):  # gunicorn ships no type hints: BaseApplication is Any
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app.server

    _Server().run()  # returns when gunicorn is stopped (SIGINT/SIGTERM)
    return 0


def _say_how_to_add_an_admin(engine, engine_url: str | None) -> None:  # noqa: ANN001
    from sqlmodel import Session

    from application.accounts import has_admin

    with Session(engine) as session:
        if has_admin(session=session):
            return
    print(t("user.no_admin", db=f" --db '{engine_url}'" if engine_url else ""), flush=True)


def _warm_up_before_fork(app, url: str) -> None:  # noqa: ANN001 - dash.Dash
    """Fill the service caches in the master, then close its database connections (a pooled
    connection must not cross the fork into the workers: they open their own)."""
    from application.submissions import engine_for
    from dashboard.data import settings, warm_up

    started = time.perf_counter()
    try:
        with app.server.app_context():
            warm_up(settings().region)
        logging.getLogger(__name__).info("warmed up before forking in %.1f s", time.perf_counter() - started)
    except Exception:  # warming is an optimisation: a failure only means a slower first page
        logging.getLogger(__name__).warning("cache warm-up failed", exc_info=True)
    finally:
        engine_for(url).dispose()


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
