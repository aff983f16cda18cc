"""``ipdash sample`` writes the synthetic sample files; ``ipdash demo`` is the README's main job:
build the database from ``sample_data/`` (once) and serve the dashboard."""

from __future__ import annotations

import argparse
from pathlib import Path

from foundation.i18n import t
from ipdash.commands.common import add_db_option, open_engine_for
from ipdash.commands.serve import add_server_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="生成合成示例数据（非官方统计）")
    p.add_argument("--out", default=None, metavar="DIR", help="输出目录（默认 sample_data/）")
    p.add_argument("--region", default="shanghai")
    p.add_argument("--start", default="2022-01", metavar="YYYY-MM")
    p.add_argument("--end", default="2023-12", metavar="YYYY-MM")
    p.add_argument("--seed", type=int, default=20230315)
    p.set_defaults(handler=_sample)

    p = sub.add_parser("demo", help="用示例数据建库并启动看板（README 第一条命令）")
    add_db_option(p)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--no-serve", action="store_true", help="只建库并打印摘要，不启动看板")
    add_server_options(p)
    p.set_defaults(handler=_demo)


def _sample(args: argparse.Namespace) -> int:
    from sample_data.build import SAMPLE_DIR, write_sample_files

    out = Path(args.out) if args.out else SAMPLE_DIR
    counts = write_sample_files(out, region=args.region, start=args.start, end=args.end, seed=args.seed)
    print(t("sample.written", path=out, **counts))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.submissions import data_version
    from sample_data.build import SAMPLE_DIR, load_sample, write_sample_files

    engine = open_engine_for(args)
    with Session(engine) as session:
        empty = data_version(session=session)[1] == 0
    if empty:
        if not (SAMPLE_DIR / "returns").exists():
            write_sample_files(SAMPLE_DIR)
        counts = load_sample(engine, jobs=None)  # read on every core (etl/batch.py)
        print(t("demo.loaded", url=engine.url.render_as_string(hide_password=True), **counts))
    else:
        print(t("demo.reuse", url=engine.url.render_as_string(hide_password=True)))
    _print_summary(engine)
    _print_demo_accounts(engine)
    if args.no_serve:
        return 0
    from dashboard.server import serve

    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # no pooled connection may be inherited by gunicorn's forked workers
    return serve(engine_url=url, host=args.host, port=args.port, workers=args.workers, threads=args.threads)


def _print_demo_accounts(engine) -> None:  # noqa: ANN001
    from sqlmodel import Session

    from application.accounts import ensure_demo_accounts

    with Session(engine) as session:
        made = ensure_demo_accounts(session=session)
        session.commit()
    print(t("user.demo_title"))
    for account, password in made:
        unit = f"（{account.unit}）" if account.unit else ""
        print(
            t(
                "user.demo_line",
                username=account.username,
                password=password,
                role=account.role.value,
                unit=unit,
            )
        )


def _print_summary(engine) -> None:  # noqa: ANN001
    from sqlmodel import Session

    from application.submissions import raw_values

    with Session(engine) as session:
        values = raw_values(session=session)
    if values.empty:
        return
    monthly = values[values["period"].str.len() == 7]
    print(
        t(
            "demo.summary",
            units=values["unit"].nunique(),
            first=monthly["period"].min(),
            last=monthly["period"].max(),
            returns=monthly[["unit", "period"]].drop_duplicates().shape[0],
            values=len(values),
        )
    )
