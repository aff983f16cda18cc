"""Plan targets stated as "above the benchmark" (高于全市平均水平), and whether a value meets one.

The spec's ``meets_benchmark`` (value ≥ benchmark; equality meets) and the scoring methods stay as
they are: every figure is unchanged. Some plans ask for more: seed 004 §二(二) asks Jing'an
(task 004-02, owner 静安区知识产权局) for a withdrawal rate **above** (高于) the city average. For
such a target equality does not meet it.

Which targets are "above": a plan task (``foundation.tasks``) whose owners link to the unit, which
lists the indicator, and whose text names the indicator followed by 高于 (…撤回率高于全市平均水平).
Only that wording counts; a task that merely lists the indicator sets no such target.

"Equal" uses the engine's tolerance (``MEETS_RTOL``, relative 1e-12): a value equal to the
benchmark but summed in another order is equal, so it does not meet an "above" target.
"""

from __future__ import annotations

import math
from typing import Any

from foundation.catalogue import Catalogue, default_catalogue, default_task_catalogue
from foundation.tasks import TaskCatalogue, linked_units
from indicators.engine import MEETS_RTOL


def above_targets(
    unit: str, *, catalogue: Catalogue | None = None, tasks: TaskCatalogue | None = None
) -> dict[str, str]:
    """{indicator code: task id} of the indicators a plan asks ``unit`` to have above the benchmark."""
    cat = catalogue or default_catalogue()
    book = tasks or default_task_catalogue()
    owner = cat.units.get(unit)
    if owner is None:
        return {}
    units = cat.units_of(owner.region)
    found: dict[str, str] = {}
    for task in book.tasks.values():
        if unit not in linked_units(task.owners, units):
            continue
        for code in task.indicators:
            ind = cat.indicators.get(code)
            if ind is not None and f"{ind.name_zh}高于" in task.text:
                found.setdefault(code, task.task)
    return found


def meets_above(value: Any, benchmark: Any, direction: str = "higher") -> bool | None:
    """Strictly better than the benchmark (equality, within the engine's tolerance, does not
    meet); None when either is missing."""
    try:
        x, b = float(value), float(benchmark)
    except (TypeError, ValueError):
        return None
    if math.isnan(x) or math.isnan(b):
        return None
    if math.isclose(x, b, rel_tol=MEETS_RTOL, abs_tol=0.0):
        return False
    return x > b if direction == "higher" else x < b
