"""The view's state lives in the URL query string (``?region=shanghai&window=ytd&period=2023-12``),
so a link shows a colleague the same view and the server keeps nothing per user.

Pure functions: parse a query string into clean values (unknown or malformed values fall back to
defaults instead of failing) and write it back, keeping parameters other pages put there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from foundation.calendar import WINDOWS, Window
from foundation.catalogue import Catalogue

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
DEFAULT_WINDOW: Window = "ytd"
# Order of the parameters in a written URL: the shared filters first, readable for people.
_ORDER = ("region", "window", "period", "indicator", "mode", "units")


@dataclass(frozen=True)
class Filters:
    region: str
    window: Window
    period: str | None  # None: not chosen, the latest month with data applies


def parse_query(search: str | None) -> dict[str, str]:
    """``?a=1&b=2`` → {"a": "1", "b": "2"} (the last value wins; blanks dropped)."""
    text = (search or "").lstrip("?")
    return {k: v for k, v in parse_qsl(text, keep_blank_values=False)}


def clean_filters(query: Mapping[str, str | None], *, catalogue: Catalogue, default_region: str) -> Filters:
    regions = catalogue.regions()
    region = query.get("region") or default_region
    if region not in regions:
        region = default_region if default_region in regions else regions[0]
    window = query.get("window") or DEFAULT_WINDOW
    if window not in WINDOWS:
        window = DEFAULT_WINDOW
    period = query.get("period")
    if not period or not _MONTH.match(period):
        period = None
    return Filters(region=region, window=window, period=period)


def split_list(value: str | None) -> list[str]:
    """``"a,b"`` → ["a", "b"]: how lists (chosen units) travel in the URL."""
    return [v for v in (value or "").split(",") if v]


def build_query(params: Mapping[str, str | Sequence[str] | None]) -> str:
    """The query string for ``params`` (lists joined by commas, empty values left out)."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        text = ",".join(value) if isinstance(value, list | tuple) else str(value)
        if text:
            flat[key] = text
    ordered = sorted(flat.items(), key=lambda kv: (_ORDER.index(kv[0]) if kv[0] in _ORDER else 99, kv[0]))
    return "?" + urlencode(ordered, safe=",") if ordered else ""
