"""Access rules of the dashboard's pages and callbacks, checked on the server before any of them
runs (``dashboard.auth``'s gate). The rules themselves are ``application.access``'s table.

- A page declares its permission where it registers: ``dash.register_page(..., permission=
  "view", unit_scoped=True)``; a unit-scoped page's ``<code>`` must be a unit the person may see.
- A callback is registered through ``guard.callback(app, permission, ..., scope=...)`` instead of
  ``app.callback``: it records the rule under the callback's id, so the gate finds it from the
  request's ``output``. ``scope(account, args)`` (args: ``"id.prop" -> value`` of the request's
  inputs and states) may refuse a request about a unit the person may not see.
- A callback or page with no rule is refused (default deny), and the access-matrix test fails.
- ``cache=True`` marks a read-only view whose output depends on nothing but its inputs and the
  data: its responses may be served from ``dashboard.response_cache`` (after these rules).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dash

from application.access import Account, allowed, may_see_unit

RULES_KEY = "IPDASH_CALLBACK_RULES"
ROUTER_MARK = "_pages_content.children"  # Dash's own page router (pathname → layout)

Scope = Callable[[Account, dict[str, Any]], bool]


@dataclass(frozen=True)
class Rule:
    permission: str
    scope: Scope | None = None
    cacheable: bool = False


def rules(app: dash.Dash) -> dict[str, Rule]:
    return app.server.config.setdefault(RULES_KEY, {})


def callback(  # noqa: ANN201
    app: dash.Dash,
    permission: str,
    *args: Any,
    scope: Scope | None = None,
    cache: bool = False,
    **kwargs: Any,
):
    """``app.callback(*args, **kwargs)`` that also records who may call it, and whether its
    responses may be cached (``cache``: a read-only view of its inputs and the data only — never
    a write, a download or a callback that reads ``ctx.triggered``)."""
    before = set(app.callback_map)
    register = app.callback(*args, **kwargs)  # Dash enters the callback in callback_map here

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        wrapped = register(func)
        for key in set(app.callback_map) - before:
            rules(app)[key] = Rule(permission, scope, cache)
        return wrapped

    return decorator


def request_args(body: dict[str, Any]) -> dict[str, Any]:
    """``"id.prop" -> value`` of a callback request's inputs and states (string ids only;
    pattern-matching groups are lists and are left out)."""
    out: dict[str, Any] = {}
    for item in [*(body.get("inputs") or []), *(body.get("state") or [])]:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            out[f"{item['id']}.{item.get('property')}"] = item.get("value")
    return out


def page_for(pathname: str) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The registered page a path shows, and its path variables (``<code>``)."""
    from dash._pages import _parse_path_variables

    path = "/" + (dash.strip_relative_path(pathname or "/") or "")
    for page in dash.page_registry.values():
        template = page.get("path_template")
        if template:
            found = _parse_path_variables(path, template)
            if found is not None:
                return page, found
        elif page.get("path", "").rstrip("/") == path.rstrip("/"):
            return page, {}
    return None, {}


def page_allowed(account: Account | None, page: dict[str, Any] | None, variables: dict[str, str]) -> bool:
    """A page with no rule is refused; an unknown path is allowed (Dash shows "not found")."""
    if page is None:
        return allowed(account, "view")
    permission = page.get("permission")
    if not permission or not allowed(account, permission):
        return False
    if page.get("unit_scoped"):
        return may_see_unit(account, variables.get("code"))
    return True


def nav_pages_for(account: Account | None) -> list[dict[str, Any]]:
    """The navigation: the pages this person may open, in ``order``."""
    pages = [p for p in dash.page_registry.values() if p.get("nav", True)]
    pages = [p for p in pages if p.get("permission") and allowed(account, p["permission"])]
    return sorted(pages, key=lambda p: (p.get("order") if p.get("order") is not None else 99, p["module"]))


def callback_allowed(app: dash.Dash, account: Account | None, body: dict[str, Any]) -> bool:
    output = str(body.get("output") or "")
    if ROUTER_MARK in output:
        pathname = request_args(body).get("_pages_location.pathname") or "/"
        page, variables = page_for(str(pathname))
        return page_allowed(account, page, variables)
    rule = rules(app).get(output)
    if rule is None or account is None or not allowed(account, rule.permission):
        return False
    return rule.scope is None or bool(rule.scope(account, request_args(body)))


def unit_arg(key: str, *, empty_means_all: bool = False) -> Scope:
    """A scope: the unit in ``key`` must be one the person may see. ``empty_means_all``: an empty
    value asks for every unit, which only those who see every unit may."""

    def scope(account: Account, args: dict[str, Any]) -> bool:
        value = args.get(key)
        if not value:
            return not empty_means_all or may_see_unit(account, None) or allowed(account, "view_other_units")
        return may_see_unit(account, str(value))

    return scope


def cacheable(app: dash.Dash, body: dict[str, Any]) -> bool:
    rule = rules(app).get(str(body.get("output") or ""))
    return rule is not None and rule.cacheable
