"""Callback requests as Dash's renderer sends them, for a Flask test client or a live server.

``view_body(spec, values)``: ``spec`` is a callback as ``/_dash-dependencies`` lists it (or an
entry of ``app.callback_map`` with its key as ``output``); ``values`` maps ``"id.property"`` to
the value on screen, where a dict id is written as Dash writes it (``{"name":"indicator","type":
"query-param"}.value``). A dict id is sent as a dict, as the renderer does."""

from __future__ import annotations

import json
from typing import Any

# The request a rankings page sends on opening: composite score, YTD 2024-06, Shanghai.
RANKINGS = {
    "filter-region.value": "shanghai",
    "filter-window.value": "ytd",
    "filter-period.value": "2024-06",
    '{"name":"indicator","type":"query-param"}.value': "composite",
}


def _dep_id(raw: str) -> Any:
    return json.loads(raw) if raw.startswith("{") else raw


def view_body(
    spec: dict[str, Any], values: dict[str, Any], *, changed: list[str] | None = None
) -> dict[str, Any]:
    def item(dep: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": _dep_id(dep["id"]),
            "property": dep["property"],
            "value": values.get(f"{dep['id']}.{dep['property']}"),
        }

    key = spec["output"]
    outputs = [
        dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
        for part in key.strip(".").split("...")
    ]
    return {
        "output": key,
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec.get("state", [])],
        "changedPropIds": changed or [],
    }


def app_spec(app: Any, prefix: str) -> dict[str, Any]:
    """The callback of ``app`` whose output key starts with ``..<prefix>`` (e.g. ``rk-graph``)."""
    (key,) = [k for k in app.callback_map if k.startswith(".." + prefix + ".")]
    entry = app.callback_map[key]
    return {"output": key, "inputs": entry["inputs"], "state": entry["state"]}
