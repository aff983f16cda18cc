"""``ipdash serve``: the dashboard on a database (``ipdash demo`` builds the sample one first)."""

from __future__ import annotations

import argparse

from ipdash.commands.common import add_db_option, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="启动看板（浏览器访问）")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=8050, help="端口（默认 8050）")
    add_server_options(p)
    p.set_defaults(handler=_serve)


def add_server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=positive_int, default=2, help="gunicorn 工作进程数（默认 2）")
    p.add_argument("--threads", type=positive_int, default=4, help="每个工作进程的线程数（默认 4）")


def _serve(args: argparse.Namespace) -> int:
    from dashboard.server import serve

    return serve(
        engine_url=args.db, host=args.host, port=args.port, workers=args.workers, threads=args.threads
    )
