"""The ``ipdash`` command line. Entry point; each command lives in ``ipdash/commands/``."""

from __future__ import annotations

import argparse
import importlib
import sys

from ipdash.commands import COMMAND_MODULES
from ipdash.i18n import t


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipdash", description=t("app.title"))
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage: argparse prints and exits 2
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
