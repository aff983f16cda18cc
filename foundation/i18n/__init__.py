"""Every user-visible string lives in ``foundation/i18n/<language>/``; code asks for it by key.

``t("etl.not_a_number", value="abc")`` formats the template of the active language. Adding a
language is adding a folder with the same keys (a test checks that every key used exists).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

_AREAS = ("common", "etl", "indicators", "dashboard", "export", "access", "briefing", "tasks", "catalogue")
# The language ``t`` speaks: the edges (CLI, app factory) set it from the settings at start-up.
_active = {"language": "zh_CN"}


def set_language(language: str) -> None:
    messages(language)  # an unknown language fails here, at start-up, not at the first message
    _active["language"] = language


@lru_cache(maxsize=4)
def messages(language: str | None = None) -> dict[str, str]:
    language = language or _active["language"]
    merged: dict[str, str] = {}
    for area in _AREAS:
        module = importlib.import_module(f"foundation.i18n.{language}.{area}")
        for key, text in module.MESSAGES.items():
            if key in merged:
                raise KeyError(f"duplicate message key {key!r} in {language}.{area}")
            merged[key] = text
    return merged


def t(key: str, /, **fields: object) -> str:
    """The text for ``key`` in the active language, with ``fields`` filled in."""
    template = messages()[key]
    return template.format(**fields) if fields else template
