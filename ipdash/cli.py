"""The ``ipdash`` command line. Entry point; each command lives in ``ipdash/commands/``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from foundation.catalogue import CatalogueError, install_catalogue
from foundation.i18n import t
from foundation.incidents import log_incidents_to, record_incident, stop_logging
from foundation.settings import get_settings
from ipdash.commands import COMMAND_MODULES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipdash", description=t("app.title"))
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from foundation.i18n import set_language

    settings = get_settings()
    set_language(settings.language)  # the edge: settings read here, passed down
    try:  # before the parser: its --region choices are the catalogue's regions
        install_catalogue(settings.catalogue_dir, region=settings.region)
    except CatalogueError as exc:  # every problem of the folder, no traceback; usage error
        print(t("cli.error", message=exc.text()), file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)  # bad usage: argparse prints and exits 2
    log_path = Path(get_settings().error_log).resolve()
    handler = log_incidents_to(log_path)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # never a traceback to a user; IPDASH_DEBUG=1 shows it
        if os.environ.get("IPDASH_DEBUG"):
            raise
        incident = record_incident(f"ipdash {' '.join(argv if argv is not None else sys.argv[1:])}", exc)
        detail = f"{exc.__class__.__name__}: {exc}"[:200]
        message = t("cli.unexpected", incident=incident, error=detail, log=log_path)
        print(t("cli.error", message=message), file=sys.stderr)
        return 1
    finally:
        stop_logging(handler)


if __name__ == "__main__":
    sys.exit(main())
