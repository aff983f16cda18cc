"""The ``ipdash`` command line. Entry point; each command lives in ``ipdash/commands/``."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from foundation.i18n import t
from ipdash.commands import COMMAND_MODULES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipdash", description=t("app.title"))
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from foundation.i18n import set_language
    from foundation.settings import get_settings

    set_language(get_settings().language)  # the edge: settings read here, passed down
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage: argparse prints and exits 2
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback to a user; IPDASH_DEBUG=1 shows it
        if os.environ.get("IPDASH_DEBUG"):
            raise
        logging.getLogger("ipdash").debug("command failed", exc_info=True)
        print(
            t("cli.error", message=t("cli.unexpected", error=f"{exc.__class__.__name__}: {exc}")),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
